package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID prefixes. Every public identifier is a prefix plus a ULID, so ids sort
// by creation time (order ids to the millisecond: see OrderID) and a glance
// tells what kind of thing an id names.
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

type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// lookupOrders finds the orders among the ids a caller sent by the number
// each well-formed id carries (the table's key); when legacy is set (a
// database upgraded from version 1 with orders in it), the ids not found so
// are asked for by the id itself, which finds orders made before ids
// carried numbers. query has one %s for the condition on
// the key, which comes first among the arguments, then args. scan reads a
// row and returns its stored id; the row answers only if that id is one
// asked for (not one made up around a real order's number), and then
// keep is called.
func lookupOrders(ctx context.Context, q rowsQueryer, legacy bool, raw []string, query string, args []any,
	scan func(*sql.Rows) (string, error), keep func()) error {
	numbers := make([]any, 0, len(raw))
	want := make(map[string]bool, len(raw)) // canonical id -> not found yet
	for _, s := range raw {
		if u, ok := parseULID(PrefixOrder, s); ok {
			numbers = append(numbers, orderNumber(u))
			want[PrefixOrder+u.String()] = true
		}
	}
	if len(numbers) == 0 {
		return nil
	}
	run := func(cond string, keys []any) error {
		rows, err := q.QueryContext(ctx, fmt.Sprintf(query, cond+` IN (?`+strings.Repeat(",?", len(keys)-1)+`)`),
			append(keys, args...)...)
		if err != nil {
			return internal("read orders", err)
		}
		defer rows.Close()
		for rows.Next() {
			id, err := scan(rows)
			if err != nil {
				return internal("read orders", err)
			}
			if want[id] {
				want[id] = false
				keep()
			}
		}
		return internal("read orders", rows.Err())
	}
	if err := run("o.number", numbers); err != nil || !legacy {
		return err
	}
	var rest []any
	for id, missing := range want {
		if missing {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	return run("o.id", rest)
}

func orderNumber(u ulid.ULID) int64 {
	return int64(binary.BigEndian.Uint64(u[6:14])>>16 ^ numberMask(binary.BigEndian.Uint32(u[12:])))
}
