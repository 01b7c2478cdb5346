package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// ErrSignIn is the one answer to a wrong name or a wrong password, so that
// the form does not tell which names exist.
var ErrSignIn = Errorf(Unauthorized, "Wrong user name or password")

// ErrSecondFactor is the answer to a wrong or used two-factor code.
var ErrSecondFactor = Errorf(Unauthorized, "Wrong or already used code")

// Credentials is what signing in needs to know of an account.
type Credentials struct {
	HasPassword bool
	TwoFactor   bool
	// RecoveryLeft counts the unused recovery codes.
	RecoveryLeft int
	Changed      int64
}

// SignUp creates a customer account that signs in with password. With
// invite set, a valid unused invitation code is spent in the same
// transaction; without, anyone may sign up (the caller decides).
func (db *DB) SignUp(ctx context.Context, name, password, invite string, requireInvite bool) (Account, error) {
	if err := validName("user", name); err != nil {
		return Account{}, err
	}
	if err := CheckPassword(name, password); err != nil {
		return Account{}, err
	}
	if requireInvite && strings.TrimSpace(invite) == "" {
		return Account{}, Errorf(Invalid, "An invitation code is needed to sign up here")
	}
	hash := hashPassword(password) // outside the write: it takes tens of milliseconds
	var a Account
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		var err error
		if a, err = createAccount(ctx, tx, name, "standard", now); err != nil {
			return err
		}
		if requireInvite {
			res, err := tx.ExecContext(ctx, `UPDATE tokens SET used_at = ?, account_id = ?
				WHERE hash = ? AND kind = 'invite' AND used_at IS NULL AND expires_at > ?`,
				now, a.ID, tokenHash(strings.ToLower(strings.TrimSpace(invite))), now)
			if err != nil {
				return internal("spend invitation", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return Errorf(Invalid, "This invitation code is not valid or was used already")
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO credentials (account_id, password, changed_at) VALUES (?, ?, ?)`,
			a.ID, hash, now)
		return internal("insert credentials", err)
	})
	return a, err
}

// SignIn checks a name and password. An unknown name, an account without a
// password and a wrong password all answer ErrSignIn after the same work.
// A suspended account is refused only once its password was right.
func (db *DB) SignIn(ctx context.Context, name, password string) (Account, Credentials, error) {
	a, err := db.accountNamed(ctx, name)
	if err != nil && ErrorCode(err) != NotFound {
		return a, Credentials{}, err
	}
	var phc string
	var c Credentials
	if err == nil {
		if phc, c, err = db.credentials(ctx, a.ID); err != nil {
			return a, c, err
		}
	}
	if phc == "" {
		verifyPassword(dummyHash(), password)
		return Account{}, Credentials{}, ErrSignIn
	}
	if !verifyPassword(phc, password) {
		return Account{}, Credentials{}, ErrSignIn
	}
	if a.Status != AccountActive {
		return Account{}, Credentials{}, ErrAccountSuspended
	}
	return a, c, nil
}

// accountNamed finds an account by its exact name, or else by the one name
// that matches it in another case.
func (db *DB) accountNamed(ctx context.Context, name string) (Account, error) {
	if name == "" || len(name) > 64 {
		return Account{}, Errorf(NotFound, "User not found")
	}
	a, err := scanAccount(db.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		rows, qerr := db.read.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE name = ? COLLATE NOCASE LIMIT 2`, name)
		if qerr != nil {
			return a, internal("read account", qerr)
		}
		defer rows.Close()
		var found []Account
		for rows.Next() {
			if a, err = scanAccount(rows); err != nil {
				return a, internal("read account", err)
			}
			found = append(found, a)
		}
		if len(found) != 1 {
			return Account{}, Errorf(NotFound, "User not found")
		}
		return found[0], nil
	}
	return a, internal("read account", err)
}

func (db *DB) credentials(ctx context.Context, accountID int64) (phc string, c Credentials, err error) {
	var secret string
	err = db.read.QueryRowContext(ctx, `SELECT password, totp_secret, changed_at,
		(SELECT count(*) FROM recovery_codes WHERE account_id = c.account_id AND used_at IS NULL)
		FROM credentials c WHERE account_id = ?`, accountID).Scan(&phc, &secret, &c.Changed, &c.RecoveryLeft)
	if errors.Is(err, sql.ErrNoRows) {
		return "", c, nil
	}
	c.HasPassword, c.TwoFactor = phc != "", secret != ""
	return phc, c, internal("read credentials", err)
}

// AccountCredentials says whether an account has a password and two-factor
// sign-in.
func (db *DB) AccountCredentials(ctx context.Context, accountID int64) (Credentials, error) {
	_, c, err := db.credentials(ctx, accountID)
	return c, err
}

// SetPassword sets an account's password (the operator's set-password, a
// reset link) and ends every session of the account.
func (db *DB) SetPassword(ctx context.Context, accountID int64, password string) error {
	a, err := db.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if err := CheckPassword(a.Name, password); err != nil {
		return err
	}
	hash := hashPassword(password)
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		return setPassword(ctx, tx, accountID, hash, nil, db.unix())
	})
}

// ChangePassword is a customer's change of their own password: the current
// one must be right. Every other session of the account ends; keep, the
// session making the change, stays.
func (db *DB) ChangePassword(ctx context.Context, accountID int64, current, next, keep string) error {
	a, err := db.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	phc, _, err := db.credentials(ctx, accountID)
	if err != nil {
		return err
	}
	if phc == "" || !verifyPassword(phc, current) {
		return Errorf(Invalid, "Current password is wrong")
	}
	if err := CheckPassword(a.Name, next); err != nil {
		return err
	}
	hash := hashPassword(next)
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		return setPassword(ctx, tx, accountID, hash, tokenHash(keep), db.unix())
	})
}

// setPassword writes a password hash and ends the account's sessions but
// the one whose hash is keep.
func setPassword(ctx context.Context, tx *Tx, accountID int64, phc string, keep []byte, now int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO credentials (account_id, password, changed_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET password = excluded.password, changed_at = excluded.changed_at`,
		accountID, phc, now); err != nil {
		return internal("set password", err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ? AND hash != ?`, accountID, keep)
	return internal("end sessions", err)
}

// TOTP: 30-second steps, 6 digits, SHA-1, as every authenticator app reads
// them; a code of the step before or after is taken too (clocks drift).
const totpPeriod = 30

// NewTOTP makes a two-factor secret for an account to enrol: its key (for
// the URL an authenticator app scans) is shown to the customer and kept by
// the page until the first code confirms it.
func NewTOTP(issuer, account string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod})
	if err != nil {
		return nil, internal("make a two-factor secret", err)
	}
	return k, nil
}

// totpStep returns the time step code is valid for around now, or -1.
func totpStep(secret, code string, now time.Time) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return -1
	}
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && want == code {
			return t.Unix() / totpPeriod
		}
	}
	return -1
}

// RecoveryCodes is how many one-time recovery codes two-factor sign-in
// comes with.
const RecoveryCodes = 10

// EnableTOTP turns two-factor sign-in on with secret once code shows the
// customer's app has it, and returns the recovery codes, shown once.
func (db *DB) EnableTOTP(ctx context.Context, accountID int64, secret, code string) ([]string, error) {
	step := totpStep(secret, code, db.now())
	if step < 0 {
		return nil, Errorf(Invalid, "That code does not match; check the time on your phone and try the next one")
	}
	codes := make([]string, RecoveryCodes)
	for i := range codes {
		t := strings.ToLower(rand.Text()[:10])
		codes[i] = t[:5] + "-" + t[5:]
	}
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE credentials SET totp_secret = ?, totp_used = ?
			WHERE account_id = ? AND totp_secret = '' AND password != ''`, secret, step, accountID)
		if err != nil {
			return internal("enable two-factor", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Errorf(Conflict, "Two-factor sign-in is on already, or the account has no password")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = ?`, accountID); err != nil {
			return internal("replace recovery codes", err)
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (account_id, hash) VALUES (?, ?)`,
				accountID, recoveryHash(c)); err != nil {
				return internal("insert recovery code", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTOTP turns two-factor sign-in off: by the customer, who must give
// the password, or by the operator (password ""), for one who lost both
// the phone and the recovery codes.
func (db *DB) DisableTOTP(ctx context.Context, accountID int64, password string, operator bool) error {
	if !operator {
		phc, _, err := db.credentials(ctx, accountID)
		if err != nil {
			return err
		}
		if phc == "" || !verifyPassword(phc, password) {
			return Errorf(Invalid, "Password is wrong")
		}
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET totp_secret = '', totp_used = 0 WHERE account_id = ?`,
			accountID); err != nil {
			return internal("disable two-factor", err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = ?`, accountID)
		return internal("drop recovery codes", err)
	})
}

// CheckSecondFactor takes a code from the authenticator app, or one of the
// recovery codes, each good once: a code of a step already used, or a
// recovery code spent, is refused.
func (db *DB) CheckSecondFactor(ctx context.Context, accountID int64, code string) error {
	var secret string
	var used int64
	err := db.read.QueryRowContext(ctx, `SELECT totp_secret, totp_used FROM credentials WHERE account_id = ?`,
		accountID).Scan(&secret, &used)
	if errors.Is(err, sql.ErrNoRows) || err == nil && secret == "" {
		return ErrSecondFactor
	}
	if err != nil {
		return internal("read credentials", err)
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		if step := totpStep(secret, code, db.now()); step > used {
			res, err := tx.ExecContext(ctx, `UPDATE credentials SET totp_used = ? WHERE account_id = ? AND totp_used < ?`,
				step, accountID, step)
			if err != nil {
				return internal("take code", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
			return ErrSecondFactor
		}
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND hash = ? AND used_at IS NULL`,
			now, accountID, recoveryHash(code))
		if err != nil {
			return internal("take recovery code", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrSecondFactor
		}
		return nil
	})
}

// recoveryHash normalises a recovery code as typed (case, spaces, the dash)
// and hashes it.
func recoveryHash(code string) []byte {
	c := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	h := sha256.Sum256([]byte("recovery:" + c))
	return h[:]
}

// MaxEmail bounds an e-mail address (RFC 5321's limit on a path).
const MaxEmail = 254

// CheckEmail says why an address cannot be one, or nil; "" is none.
func CheckEmail(email string) error {
	if email == "" {
		return nil
	}
	at := strings.LastIndexByte(email, '@')
	if len(email) > MaxEmail || at < 1 || at == len(email)-1 || !strings.Contains(email[at:], ".") ||
		strings.ContainsAny(email, " \t\r\n<>,;\"\x00") || !utf8.ValidString(email) {
		return Errorf(Invalid, "E-mail address %q does not look right", email)
	}
	return nil
}

// SetEmail sets the address an account's reset links go to ("" for none).
func (db *DB) SetEmail(ctx context.Context, accountID int64, email string) error {
	email = strings.TrimSpace(email)
	if err := CheckEmail(email); err != nil {
		return err
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO credentials (account_id, email, changed_at) VALUES (?, ?, 0)
			ON CONFLICT (account_id) DO UPDATE SET email = excluded.email`, accountID, email)
		return internal("set e-mail", err)
	})
}

// Email returns the address an account's reset links go to, "" for none.
func (db *DB) Email(ctx context.Context, accountID int64) (string, error) {
	var email string
	err := db.read.QueryRowContext(ctx, `SELECT email FROM credentials WHERE account_id = ?`, accountID).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return email, internal("read e-mail", err)
}

// AccountsByEmail returns the active accounts whose reset links go to
// email (at most 5), for a forgotten password.
func (db *DB) AccountsByEmail(ctx context.Context, email string) ([]Account, error) {
	email = strings.TrimSpace(email)
	if email == "" || CheckEmail(email) != nil {
		return nil, nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+prefixed("a.", accountCols)+` FROM credentials c
		JOIN accounts a ON a.id = c.account_id WHERE c.email = ? COLLATE NOCASE AND c.email != '' AND a.status = 'active'
		ORDER BY a.id LIMIT 5`, email)
	if err != nil {
		return nil, internal("find accounts by e-mail", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, internal("find accounts by e-mail", err)
		}
		out = append(out, a)
	}
	return out, internal("find accounts by e-mail", rows.Err())
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
