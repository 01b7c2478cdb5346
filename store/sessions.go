package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
)

// Session lifetimes: a session ends after SessionIdle without a request,
// and after SessionMax in any case.
const (
	SessionIdle = 7 * 24 * time.Hour
	SessionMax  = 30 * 24 * time.Hour
	// a session's seen_at is written at most this often, not on every page
	sessionTouch = time.Minute
)

// ErrNoSession is a cookie that names no live session: never issued,
// forged, expired, ended, or its account's password changed since.
var ErrNoSession = Errorf(Unauthorized, "Not signed in")

// Session is a signed-in browser.
type Session struct {
	Account Account
	// SecondFactor is true while the password was right and the
	// two-factor code is still awaited: such a session may do nothing
	// but give the code.
	SecondFactor bool
	Created      int64
}

// CreateSession signs a browser in for the account and returns the
// cookie's token, whose SHA-256 alone is stored. Expired sessions of
// anyone are swept on the way.
func (db *DB) CreateSession(ctx context.Context, accountID int64, secondFactor bool, ip, userAgent string) (string, error) {
	buf := make([]byte, 32)
	rand.Read(buf)
	token := base64.RawURLEncoding.EncodeToString(buf)
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash IN
			(SELECT hash FROM sessions WHERE expires_at <= ? LIMIT 100)`, now); err != nil {
			return internal("sweep sessions", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, account_id, created_at, seen_at, expires_at, second_factor, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tokenHash(token), accountID, now, now, now+int64(SessionMax/time.Second),
			secondFactor, ip, userAgent)
		return internal("insert session", err)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// SessionOf returns the live session a cookie's token names, with its
// account as it is now. A suspended account's sessions are not live.
func (db *DB) SessionOf(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 100 {
		return Session{}, ErrNoSession
	}
	var s Session
	var seen, expires int64
	a := &s.Account
	err := db.read.QueryRowContext(ctx, `SELECT a.id, a.name, a.tier, a.status, a.balance, a.low_balance, a.created_at,
			s.second_factor, s.created_at, s.seen_at, s.expires_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.hash = ?`, tokenHash(token)).
		Scan(&a.ID, &a.Name, &a.Tier, &a.Status, &a.Balance, &a.LowBalance, &a.Created, &s.SecondFactor, &s.Created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, internal("read session", err)
	}
	now := db.now()
	switch {
	case now.Unix() >= expires, now.Sub(time.Unix(seen, 0)) >= SessionIdle:
		db.EndSession(ctx, token)
		return Session{}, ErrNoSession
	case a.Status != AccountActive:
		return Session{}, ErrNoSession
	}
	if now.Sub(time.Unix(seen, 0)) >= sessionTouch {
		err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET seen_at = ? WHERE hash = ?`, now.Unix(), tokenHash(token))
			return internal("touch session", err)
		})
		if err != nil {
			return Session{}, err
		}
	}
	return s, nil
}

// EndSession signs a browser out.
func (db *DB) EndSession(ctx context.Context, token string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, tokenHash(token))
		return internal("end session", err)
	})
}

// EndSessions signs every browser of an account out (the operator's user
// suspend, say, or a customer who lost a laptop).
func (db *DB) EndSessions(ctx context.Context, accountID int64) (int64, error) {
	var n int64
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, accountID)
		if err != nil {
			return internal("end sessions", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
