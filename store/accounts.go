package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// Account statuses.
const (
	AccountActive    = "active"
	AccountSuspended = "suspended"
)

// Account is a customer account.
type Account struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Tier       string `json:"tier"`
	Status     string `json:"status"`
	Balance    int64  `json:"balance"`
	LowBalance int64  `json:"low_balance"`
	Created    int64  `json:"created"`
}

// Tier is a named set of rate limits.
type Tier struct {
	Name          string `json:"name"`
	KeyPerMin     int64  `json:"key_per_min"`
	AccountPerMin int64  `json:"account_per_min"`
}

func validName(kind, name string) error {
	if name == "" || len(name) > 64 {
		return Errorf(Invalid, "Invalid %s name %q: 1 to 64 characters", kind, name)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r)) {
			return Errorf(Invalid, "Invalid %s name %q: use letters, digits and . _ - @", kind, name)
		}
	}
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return Errorf(Invalid, "Invalid %s name %q: a name cannot be a number (numbers address ids)", kind, name)
	}
	return nil
}

// CreateAccount adds a customer account with a zero balance.
func (db *DB) CreateAccount(ctx context.Context, name, tier string) (Account, error) {
	if err := validName("user", name); err != nil {
		return Account{}, err
	}
	if tier == "" {
		tier = "standard"
	}
	var a Account
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		a, err = createAccount(ctx, tx, name, tier, db.unix())
		return err
	})
	return a, err
}

// createAccount inserts an account in tx; a name taken already, in any
// case, is a conflict (customers sign in by name).
func createAccount(ctx context.Context, tx *Tx, name, tier string, now int64) (Account, error) {
	var a Account
	if err := tierExists(ctx, tx, tier); err != nil {
		return a, err
	}
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE name = ? COLLATE NOCASE`, name).Scan(&exists); err != nil {
		return a, internal("read account", err)
	}
	if exists > 0 {
		return a, Errorf(Conflict, "User %q already exists", name)
	}
	err := tx.QueryRowContext(ctx,
		`INSERT INTO accounts (name, tier, created_at) VALUES (?, ?, ?)
		 RETURNING id, name, tier, status, balance, low_balance, created_at`,
		name, tier, now).Scan(&a.ID, &a.Name, &a.Tier, &a.Status, &a.Balance, &a.LowBalance, &a.Created)
	if err != nil {
		return a, internal("insert account", err)
	}
	return a, bumpConfig(ctx, tx)
}

func tierExists(ctx context.Context, tx *Tx, tier string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tiers WHERE name = ?`, tier).Scan(&n); err != nil {
		return internal("read tier", err)
	}
	if n == 0 {
		return Errorf(NotFound, "Tier %q not found", tier)
	}
	return nil
}

const accountCols = `id, name, tier, status, balance, low_balance, created_at`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Name, &a.Tier, &a.Status, &a.Balance, &a.LowBalance, &a.Created)
	return a, err
}

// AccountByID returns an account.
func (db *DB) AccountByID(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(db.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, Errorf(NotFound, "User %d not found", id)
	}
	return a, internal("read account", err)
}

// FindAccount returns the account named by ref: its name, or its numeric id.
func (db *DB) FindAccount(ctx context.Context, ref string) (Account, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return db.AccountByID(ctx, id)
	}
	a, err := scanAccount(db.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE name = ?`, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return a, Errorf(NotFound, "User %q not found", ref)
	}
	return a, internal("read account", err)
}

// ListAccounts returns every account, by id.
func (db *DB) ListAccounts(ctx context.Context) ([]Account, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, internal("list accounts", err)
	}
	defer rows.Close()
	out := []Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, internal("list accounts", err)
		}
		out = append(out, a)
	}
	return out, internal("list accounts", rows.Err())
}

// updateAccount runs a guarded single-row update on the account named by ref
// and bumps the config version.
func (db *DB) updateAccount(ctx context.Context, ref, query string, args ...any) (Account, error) {
	a, err := db.FindAccount(ctx, ref)
	if err != nil {
		return a, err
	}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, query, append(args, a.ID)...)
		if err != nil {
			return internal("update account", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Errorf(NotFound, "User %q not found", ref)
		}
		return bumpConfig(ctx, tx)
	})
	if err != nil {
		return a, err
	}
	return db.AccountByID(ctx, a.ID)
}

// SetAccountStatus suspends or reactivates an account. A suspended account's
// keys answer "Account suspended" from the next request on.
func (db *DB) SetAccountStatus(ctx context.Context, ref, status string) (Account, error) {
	if status != AccountActive && status != AccountSuspended {
		return Account{}, Errorf(Invalid, "Invalid account status %q", status)
	}
	return db.updateAccount(ctx, ref, `UPDATE accounts SET status = ? WHERE id = ?`, status)
}

// SetAccountTier moves an account to another tier.
func (db *DB) SetAccountTier(ctx context.Context, ref, tier string) (Account, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM tiers WHERE name = ?`, tier).Scan(&n); err != nil {
		return Account{}, internal("read tier", err)
	}
	if n == 0 {
		return Account{}, Errorf(NotFound, "Tier %q not found", tier)
	}
	return db.updateAccount(ctx, ref, `UPDATE accounts SET tier = ? WHERE id = ?`, tier)
}

// SetLowBalance sets the balance under which the account is warned.
func (db *DB) SetLowBalance(ctx context.Context, ref string, amount int64) (Account, error) {
	if amount < 0 {
		return Account{}, Errorf(Invalid, "Low-balance threshold cannot be negative")
	}
	return db.updateAccount(ctx, ref, `UPDATE accounts SET low_balance = ? WHERE id = ?`, amount)
}

// AddFunds credits (or, when amount is negative, debits) an account and
// writes the ledger row: a deposit for a credit, an adjustment for a debit.
// It returns the new balance.
func (db *DB) AddFunds(ctx context.Context, ref string, amount int64, note string) (int64, error) {
	if amount == 0 {
		return 0, Errorf(Invalid, "Amount must not be zero")
	}
	if amount > MaxAmount || amount < -MaxAmount {
		return 0, Errorf(Invalid, "Amount too large")
	}
	a, err := db.FindAccount(ctx, ref)
	if err != nil {
		return 0, err
	}
	kind := KindDeposit
	if amount < 0 {
		kind = KindAdjustment
	}
	var balance int64
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, a.ID).Scan(&cur); err != nil {
			return internal("read balance", err)
		}
		if amount > 0 && cur > MaxAmount-amount {
			return Errorf(Invalid, "Balance would become too large")
		}
		balance, err = move(ctx, tx, a.ID, kind, amount, "", note, db.unix())
		if errors.Is(err, ErrInsufficientBalance) {
			return Errorf(Invalid, "Cannot deduct %s: balance is %s", FormatMoney(-amount), FormatMoney(cur))
		}
		return err
	})
	return balance, err
}

// Balance returns an account's exact balance, read from the database.
func (db *DB) Balance(ctx context.Context, accountID int64) (int64, error) {
	var b int64
	err := db.read.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, accountID).Scan(&b)
	return b, internal("read balance", err)
}

// SetTier creates a tier or changes its limits (requests per minute).
func (db *DB) SetTier(ctx context.Context, t Tier) error {
	if err := validName("tier", t.Name); err != nil {
		return err
	}
	if t.KeyPerMin <= 0 || t.AccountPerMin <= 0 {
		return Errorf(Invalid, "Tier limits must be positive")
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO tiers (name, key_per_min, account_per_min) VALUES (?, ?, ?)
			 ON CONFLICT (name) DO UPDATE SET key_per_min = excluded.key_per_min, account_per_min = excluded.account_per_min`,
			t.Name, t.KeyPerMin, t.AccountPerMin)
		if err != nil {
			return internal("set tier", err)
		}
		return bumpConfig(ctx, tx)
	})
}

// Tiers lists the tiers by name.
func (db *DB) Tiers(ctx context.Context) ([]Tier, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, key_per_min, account_per_min FROM tiers ORDER BY name`)
	if err != nil {
		return nil, internal("list tiers", err)
	}
	defer rows.Close()
	out := []Tier{}
	for rows.Next() {
		var t Tier
		if err := rows.Scan(&t.Name, &t.KeyPerMin, &t.AccountPerMin); err != nil {
			return nil, internal("list tiers", err)
		}
		out = append(out, t)
	}
	return out, internal("list tiers", rows.Err())
}
