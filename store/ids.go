package store

import (
	"strings"

	"github.com/oklog/ulid/v2"
)

// ID prefixes. Every public identifier is a prefix plus a ULID, so ids sort
// by creation time and a glance tells what kind of thing an id names.
const (
	PrefixOrder   = "ord_"
	PrefixRefill  = "ref_"
	PrefixKey     = "key_"
	PrefixWebhook = "wh_"
	PrefixEvent   = "evt_"
)

// NewID returns a fresh identifier with the given prefix.
func NewID(prefix string) string {
	return prefix + ulid.Make().String()
}

// ParseID checks that s is prefix followed by a valid ULID and returns it in
// canonical (upper-case) form. Anything else is reported as not ok; callers
// treat that exactly like an id that does not exist.
func ParseID(prefix, s string) (string, bool) {
	if len(s) != len(prefix)+ulid.EncodedSize || !strings.HasPrefix(s, prefix) {
		return "", false
	}
	u, err := ulid.ParseStrict(s[len(prefix):])
	if err != nil {
		return "", false
	}
	return prefix + u.String(), true
}
