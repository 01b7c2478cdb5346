// Package httpapi is the API room of the server: the customer API (API v2,
// native and classic) over HTTP: form parsing, authentication, rate limits,
// the actions, and the one mapping from store error codes to HTTP
// statuses.
package httpapi

import (
	"time"

	"github.com/rs/zerolog"

	"notpanel/ratelimit"
	"notpanel/store"
	"notpanel/webhook"
)

// Config is what the API needs.
type Config struct {
	DB  *store.DB
	Log zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// IPs holds the per-address buckets, shared with the server's other
	// rooms; IPPerMin (300 when 0) is their budget. New buckets are made
	// when nil.
	IPs      *ratelimit.Buckets
	IPPerMin int
	// Resolver resolves webhook hosts (net.DefaultResolver when nil).
	Resolver webhook.Resolver
	// WebhookInsecure admits http and every address class as webhook
	// targets: for development and tests only.
	WebhookInsecure bool
}
