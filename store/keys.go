package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"errors"
	"strings"
)

// KeyPrefix starts every API key, so a leaked key is easy to recognise (and
// for secret scanners to find).
const KeyPrefix = "np_"

// MaxActiveKeys is how many unrevoked keys one account may hold.
const MaxActiveKeys = 10

// keyBytes of randomness: 160 bits.
const keyBytes = 20

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// keyLen is the length of a raw key.
var keyLen = len(KeyPrefix) + keyEncoding.EncodedLen(keyBytes)

// APIKey describes a key; the raw key itself is never stored.
type APIKey struct {
	ID        string `json:"id"`
	AccountID int64  `json:"account_id"`
	Prefix    string `json:"prefix"`
	Created   int64  `json:"created"`
	Revoked   int64  `json:"revoked,omitempty"`
}

// Principal is who an API request acts for.
type Principal struct {
	AccountID int64
	KeyID     string
	Tier      string
}

func hashKey(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// CreateKey makes a new API key for the account named by ref and returns the
// raw key, which is shown once and stored only as its SHA-256.
func (db *DB) CreateKey(ctx context.Context, ref string) (string, APIKey, error) {
	a, err := db.FindAccount(ctx, ref)
	if err != nil {
		return "", APIKey{}, err
	}
	buf := make([]byte, keyBytes)
	rand.Read(buf) // never fails (crypto/rand)
	raw := KeyPrefix + keyEncoding.EncodeToString(buf)
	k := APIKey{ID: NewID(PrefixKey), AccountID: a.ID, Prefix: raw[:len(KeyPrefix)+6], Created: db.unix()}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var active int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM api_keys WHERE account_id = ? AND revoked_at IS NULL`, a.ID).Scan(&active); err != nil {
			return internal("count keys", err)
		}
		if active >= MaxActiveKeys {
			return Errorf(Conflict, "User %q already has %d active keys; revoke one first", a.Name, MaxActiveKeys)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO api_keys (id, account_id, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)`,
			k.ID, k.AccountID, hashKey(raw), k.Prefix, k.Created); err != nil {
			return internal("insert key", err)
		}
		return bumpConfig(ctx, tx)
	})
	if err != nil {
		return "", APIKey{}, err
	}
	return raw, k, nil
}

// ListKeys lists an account's keys, revoked ones included.
func (db *DB) ListKeys(ctx context.Context, ref string) ([]APIKey, error) {
	a, err := db.FindAccount(ctx, ref)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, account_id, prefix, created_at, coalesce(revoked_at, 0) FROM api_keys WHERE account_id = ? ORDER BY id`, a.ID)
	if err != nil {
		return nil, internal("list keys", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		var k APIKey
		if err := rows.Scan(&k.ID, &k.AccountID, &k.Prefix, &k.Created, &k.Revoked); err != nil {
			return nil, internal("list keys", err)
		}
		out = append(out, k)
	}
	return out, internal("list keys", rows.Err())
}

// RevokeKey revokes a key; the next request made with it is refused.
func (db *DB) RevokeKey(ctx context.Context, ref string) error {
	id, ok := ParseID(PrefixKey, ref)
	if !ok {
		return Errorf(NotFound, "Key %q not found", ref)
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, db.unix(), id)
		if err != nil {
			return internal("revoke key", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var revoked sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM api_keys WHERE id = ?`, id).Scan(&revoked)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return Errorf(NotFound, "Key %q not found", ref)
			case err != nil:
				return internal("read key", err)
			}
			return Errorf(Conflict, "Key %q is already revoked", ref)
		}
		return bumpConfig(ctx, tx)
	})
}

// Authenticate resolves a raw API key to the account it acts for. A missing,
// malformed, unknown or revoked key gives ErrInvalidKey; a key of a
// suspended account gives ErrAccountSuspended.
func (db *DB) Authenticate(ctx context.Context, raw string) (Principal, error) {
	if len(raw) != keyLen || !strings.HasPrefix(raw, KeyPrefix) {
		return Principal{}, ErrInvalidKey
	}
	want := hashKey(raw)
	e, err := db.lookupKey(ctx, want)
	if err != nil {
		return Principal{}, err
	}
	return e.check(want)
}
