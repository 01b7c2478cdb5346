package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// One-time token lifetimes.
const (
	ResetTTL  = time.Hour
	InviteTTL = 30 * 24 * time.Hour
)

// tokenHash is how a one-time token or a session token is stored.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newToken is a random token, safe in a URL.
func newToken() string { return strings.ToLower(rand.Text()) }

// ErrResetToken is a reset link that is unknown, used or expired.
var ErrResetToken = Errorf(Invalid, "This reset link is not valid any more; ask for a new one")

// CreateResetToken makes a one-time password reset token for an account,
// good for ResetTTL.
func (db *DB) CreateResetToken(ctx context.Context, accountID int64) (string, error) {
	token := newToken()
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, kind, account_id, created_at, expires_at) VALUES (?, 'reset', ?, ?, ?)`,
			tokenHash(token), accountID, now, now+int64(ResetTTL/time.Second))
		return internal("insert reset token", err)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// ResetAccount returns the account a reset token is for, while the token
// is good.
func (db *DB) ResetAccount(ctx context.Context, token string) (Account, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT account_id FROM tokens
		WHERE hash = ? AND kind = 'reset' AND used_at IS NULL AND expires_at > ?`, tokenHash(token), db.unix()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrResetToken
	}
	if err != nil {
		return Account{}, internal("read reset token", err)
	}
	return db.AccountByID(ctx, id)
}

// ResetPassword spends a reset token on a new password: the token works
// once, and every session of the account ends.
func (db *DB) ResetPassword(ctx context.Context, token, password string) (Account, error) {
	a, err := db.ResetAccount(ctx, token)
	if err != nil {
		return a, err
	}
	if err := CheckPassword(a.Name, password); err != nil {
		return a, err
	}
	hash := hashPassword(password)
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET used_at = ?
			WHERE hash = ? AND kind = 'reset' AND account_id = ? AND used_at IS NULL AND expires_at > ?`,
			now, tokenHash(token), a.ID, now)
		if err != nil {
			return internal("spend reset token", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrResetToken
		}
		return setPassword(ctx, tx, a.ID, hash, nil, now)
	})
	return a, err
}

// CreateInvite makes a one-time invitation code for serve --signup invite,
// good for InviteTTL.
func (db *DB) CreateInvite(ctx context.Context) (string, error) {
	token := newToken()
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, kind, created_at, expires_at) VALUES (?, 'invite', ?, ?)`,
			tokenHash(token), now, now+int64(InviteTTL/time.Second))
		return internal("insert invite", err)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}
