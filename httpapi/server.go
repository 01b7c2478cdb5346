// Package httpapi serves the customer API (API v2) over HTTP: form parsing,
// authentication, the actions, and the one mapping from store error codes
// to HTTP statuses.
package httpapi

import (
	"net/http"
	"net/netip"

	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rs/zerolog"

	"notpanel/store"
	"notpanel/webhook"
)

// Config is what the API needs.
type Config struct {
	DB  *store.DB
	Log zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// IPPerMin limits requests per client address a minute (300 when 0).
	IPPerMin int
	// TrustedProxies may name the client in X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// Registry, when set, gets the API's metrics, served at GET /metrics.
	Registry *prometheus.Registry
	// Health, when set, is asked by GET /healthz beside the database (the
	// worker's heartbeat, say).
	Health func() error
	// Resolver resolves webhook hosts (net.DefaultResolver when nil).
	Resolver webhook.Resolver
	// WebhookInsecure admits http and every address class as webhook
	// targets: for development and tests only.
	WebhookInsecure bool
	// Payments, when set, serves the payment gateways' webhooks at
	// POST /payments/NAME/webhook (payment.Service).
	Payments http.Handler
}

// NewServer wraps h in an http.Server with the timeouts a public server
// needs: slow or stalled clients are cut off instead of holding resources.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
