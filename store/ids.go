package store

import (
	"encoding/binary"
	"strings"
	"time"

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
	u, ok := parseULID(prefix, s)
	if !ok {
		return "", false
	}
	return prefix + u.String(), true
}

func parseULID(prefix, s string) (ulid.ULID, bool) {
	if len(s) != len(prefix)+ulid.EncodedSize || !strings.HasPrefix(s, prefix) {
		return ulid.ULID{}, false
	}
	u, err := ulid.ParseStrict(s[len(prefix):])
	return u, err == nil
}

// MaxOrderNumber is the largest number an order id can carry.
const MaxOrderNumber = 1<<48 - 1

// OrderID returns the id of order number n made at t: a ULID whose 80 bits
// after the time are n (48 bits, masked by a function of the salt, so that
// ids look as random as any ULID and do not show the order count at a
// glance) and salt. An id thus leads straight to its row by the orders
// table's key. The stored id is the check that a caller's id is the order's
// own and not one made up around its number.
func OrderID(n int64, t time.Time, salt uint32) string {
	var u ulid.ULID
	binary.BigEndian.PutUint64(u[:8], uint64(t.UnixMilli())<<16)
	binary.BigEndian.PutUint64(u[6:14], (uint64(n)^numberMask(salt))<<16)
	binary.BigEndian.PutUint32(u[12:], salt)
	return PrefixOrder + u.String()
}

func numberMask(salt uint32) uint64 { return uint64(salt) * 0x9E3779B97F4A7C15 >> 16 }

// orderKeys reads the order ids a customer sent: numbers holds the number
// each well-formed one carries, ids the canonical ids. A row found by
// number answers for an id only if its stored id is among ids.
func orderKeys(raw []string) (numbers []any, ids map[string]bool) {
	numbers, ids = make([]any, 0, len(raw)), make(map[string]bool, len(raw))
	for _, s := range raw {
		if u, ok := parseULID(PrefixOrder, s); ok {
			numbers = append(numbers, orderNumber(u))
			ids[PrefixOrder+u.String()] = true
		}
	}
	return numbers, ids
}

func orderNumber(u ulid.ULID) int64 {
	return int64(binary.BigEndian.Uint64(u[6:14])>>16 ^ numberMask(binary.BigEndian.Uint32(u[12:])))
}
