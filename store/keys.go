package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"errors"
	"strings"
	"unicode/utf8"
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
	Label     string `json:"label,omitempty"`
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
	return db.CreateAccountKey(ctx, a.ID, "")
}

// CreateAccountKey makes a new API key for an account, with a label of the
// customer's to tell it from the others (at most 60 characters).
func (db *DB) CreateAccountKey(ctx context.Context, accountID int64, label string) (string, APIKey, error) {
	if err := customer(accountID); err != nil {
		return "", APIKey{}, err
	}
	label = strings.TrimSpace(label)
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > 60 || strings.ContainsAny(label, "\r\n\x00") {
		return "", APIKey{}, Errorf(Invalid, "Key label: one line of at most 60 characters")
	}
	buf := make([]byte, keyBytes)
	rand.Read(buf) // never fails (crypto/rand)
	raw := KeyPrefix + keyEncoding.EncodeToString(buf)
	k := APIKey{ID: NewID(PrefixKey), AccountID: accountID, Prefix: raw[:len(KeyPrefix)+6], Label: label, Created: db.unix()}
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var active int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM api_keys WHERE account_id = ? AND revoked_at IS NULL`, accountID).Scan(&active); err != nil {
			return internal("count keys", err)
		}
		if active >= MaxActiveKeys {
			return Errorf(Conflict, "At most %d active API keys per account; revoke one first", MaxActiveKeys)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO api_keys (id, account_id, hash, prefix, label, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.AccountID, hashKey(raw), k.Prefix, k.Label, k.Created); err != nil {
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
	return db.AccountKeys(ctx, a.ID)
}

// AccountKeys lists an account's keys, revoked ones included, oldest
// first.
func (db *DB) AccountKeys(ctx context.Context, accountID int64) ([]APIKey, error) {
	if err := customer(accountID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, account_id, prefix, label, created_at, coalesce(revoked_at, 0) FROM api_keys WHERE account_id = ? ORDER BY id`, accountID)
	if err != nil {
		return nil, internal("list keys", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		var k APIKey
		if err := rows.Scan(&k.ID, &k.AccountID, &k.Prefix, &k.Label, &k.Created, &k.Revoked); err != nil {
			return nil, internal("list keys", err)
		}
		out = append(out, k)
	}
	return out, internal("list keys", rows.Err())
}

// RevokeKey revokes a key; the next request made with it is refused.
func (db *DB) RevokeKey(ctx context.Context, ref string) error {
	return db.revokeKey(ctx, Operator, ref)
}

// RevokeAccountKey revokes one of the account's own keys; another
// account's key is not found.
func (db *DB) RevokeAccountKey(ctx context.Context, accountID int64, ref string) error {
	return db.revokeKey(ctx, Customer(accountID), ref)
}

func (db *DB) revokeKey(ctx context.Context, scope Scope, ref string) error {
	if err := scope.check(); err != nil {
		return err
	}
	id, ok := ParseID(PrefixKey, ref)
	if !ok {
		return Errorf(NotFound, "Key %q not found", ref)
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var owner int64
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT account_id, revoked_at FROM api_keys WHERE id = ?`, id).Scan(&owner, &revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows) || err == nil && !scope.owns(owner):
			return Errorf(NotFound, "Key %q not found", ref)
		case err != nil:
			return internal("read key", err)
		case revoked.Valid:
			return Errorf(Conflict, "Key %q is already revoked", ref)
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, db.unix(), id)
		if err != nil {
			return internal("revoke key", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
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
