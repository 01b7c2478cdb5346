package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"notpanel/fault"
)

// PrefixDeposit starts every deposit id.
const PrefixDeposit = "dep_"

// Deposit statuses. pending waits for the gateway's verdict; the other
// three are final.
const (
	DepositPending  = "pending"
	DepositCredited = "credited"
	DepositExpired  = "expired"
	DepositFailed   = "failed"
)

// DepositStatuses lists every deposit status.
var DepositStatuses = []string{DepositPending, DepositCredited, DepositExpired, DepositFailed}

// Deposit is a customer's top-up through a gateway.
type Deposit struct {
	ID        string `json:"id"`
	AccountID int64  `json:"account_id"`
	GatewayID int64  `json:"gateway_id"`
	Gateway   string `json:"gateway"` // the gateway's name
	// Amount is what the customer asked to pay, in micro-units of Currency
	// (the panel currency when the deposit was made).
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// Reference is the gateway's id of the checkout.
	Reference   string `json:"reference"`
	CheckoutURL string `json:"checkout_url"`
	Status      string `json:"status"`
	// Credited is what the ledger row credited (0 until credited).
	Credited int64 `json:"credited"`
	// GatewayStatus is the gateway's own word for the payment, as last
	// read back (paid, Settled, wrong_amount…).
	GatewayStatus string `json:"gateway_status,omitempty"`
	// Review, when set, parks a pending deposit for the operator, or tells
	// of money paid late for an expired or failed one.
	Review string `json:"review,omitempty"`
	// Note is the operator's, set by a manual credit.
	Note      string `json:"note,omitempty"`
	Attempts  int64  `json:"attempts"`
	NextAt    int64  `json:"next_at"`
	LastError string `json:"last_error,omitempty"`
	Created   int64  `json:"created"`
	Updated   int64  `json:"updated"`
}

const depositCols = `d.id, d.account_id, d.gateway_id, g.name, d.amount, d.currency, d.reference, d.checkout_url, d.status,
	d.credited, d.gateway_status, coalesce(d.review, ''), d.note, d.attempts, d.next_at, d.last_error, d.created_at, d.updated_at`

const depositFrom = ` FROM deposits d JOIN gateways g ON g.id = d.gateway_id`

func scanDeposit(row interface{ Scan(...any) error }) (Deposit, error) {
	var d Deposit
	err := row.Scan(&d.ID, &d.AccountID, &d.GatewayID, &d.Gateway, &d.Amount, &d.Currency, &d.Reference, &d.CheckoutURL,
		&d.Status, &d.Credited, &d.GatewayStatus, &d.Review, &d.Note, &d.Attempts, &d.NextAt, &d.LastError,
		&d.Created, &d.Updated)
	return d, err
}

// ErrDepositNotFound answers an unknown deposit id.
var ErrDepositNotFound = Errorf(NotFound, "Deposit not found")

// CreateDeposit records a deposit whose checkout the gateway has made (so
// that no deposit exists without one): d carries its id, account, gateway,
// amount, currency, the gateway's reference and checkout URL, and NextAt,
// when it is first read back. The account must be active, the gateway
// enabled and the amount within its limits.
func (db *DB) CreateDeposit(ctx context.Context, d Deposit) (Deposit, error) {
	if _, ok := ParseID(PrefixDeposit, d.ID); !ok {
		return d, Errorf(Invalid, "Invalid deposit id %q", d.ID)
	}
	if d.Reference == "" || d.CheckoutURL == "" {
		return d, Errorf(Invalid, "A deposit needs the gateway's reference and checkout URL")
	}
	d.Status, d.Created, d.Updated = DepositPending, db.unix(), db.unix()
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM accounts WHERE id = ?`, d.AccountID).Scan(&status); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return Errorf(NotFound, "User %d not found", d.AccountID)
			}
			return internal("read account", err)
		}
		if status != AccountActive {
			return ErrAccountSuspended
		}
		g, err := scanGateway(tx.QueryRowContext(ctx, `SELECT `+gatewayCols+` FROM gateways WHERE id = ?`, d.GatewayID))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return internal("read gateway", err)
		}
		if err != nil || g.Status != GatewayEnabled {
			return Errorf(Invalid, "This payment method is not available")
		}
		if d.Amount < g.Min || d.Amount > g.Max {
			return Errorf(Invalid, "Amount must be between %s and %s", FormatMoney(g.Min), FormatMoney(g.Max))
		}
		d.Gateway = g.Name
		_, err = tx.ExecContext(ctx,
			`INSERT INTO deposits (id, account_id, gateway_id, amount, currency, reference, checkout_url, next_at, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.AccountID, d.GatewayID, d.Amount, d.Currency, d.Reference, d.CheckoutURL, d.NextAt, d.Created, d.Updated)
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return Errorf(Conflict, "Gateway %s already has a deposit for its checkout %s", g.Name, d.Reference)
		}
		return internal("insert deposit", err)
	})
	return d, err
}

// FindDeposit returns a deposit by id.
func (db *DB) FindDeposit(ctx context.Context, id string) (Deposit, error) {
	id = CanonicalID(PrefixDeposit, id)
	d, err := scanDeposit(db.read.QueryRowContext(ctx, `SELECT `+depositCols+depositFrom+` WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrDepositNotFound
	}
	return d, internal("read deposit", err)
}

// DepositByReference returns the deposit of a gateway's checkout.
func (db *DB) DepositByReference(ctx context.Context, gatewayID int64, reference string) (Deposit, error) {
	d, err := scanDeposit(db.read.QueryRowContext(ctx,
		`SELECT `+depositCols+depositFrom+` WHERE d.gateway_id = ? AND d.reference = ?`, gatewayID, reference))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrDepositNotFound
	}
	return d, internal("read deposit", err)
}

// DepositFilter narrows ListDeposits; zero fields match everything.
type DepositFilter struct {
	AccountID int64
	GatewayID int64
	Status    string
	Review    bool // only deposits parked for the operator
	Limit     int  // 100 when 0
}

// ListDeposits lists deposits for the operator, newest first.
func (db *DB) ListDeposits(ctx context.Context, f DepositFilter) ([]Deposit, error) {
	var where []string
	var args []any
	if f.AccountID != 0 {
		where, args = append(where, `d.account_id = ?`), append(args, f.AccountID)
	}
	if f.GatewayID != 0 {
		where, args = append(where, `d.gateway_id = ?`), append(args, f.GatewayID)
	}
	if f.Status != "" {
		where, args = append(where, `d.status = ?`), append(args, f.Status)
	}
	if f.Review {
		where = append(where, `d.review IS NOT NULL`)
	}
	q := `SELECT ` + depositCols + depositFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	return db.deposits(ctx, q+` ORDER BY d.id DESC LIMIT ?`, append(args, f.Limit)...)
}

// AccountDeposits lists one account's deposits, newest first: what its
// customer sees. An account is required.
func (db *DB) AccountDeposits(ctx context.Context, accountID int64, limit int) ([]Deposit, error) {
	if err := customer(accountID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	return db.deposits(ctx, `SELECT `+depositCols+depositFrom+` WHERE d.account_id = ? ORDER BY d.id DESC LIMIT ?`,
		accountID, limit)
}

// DueDeposits lists pending deposits not parked whose read-back is due at
// now, oldest due first, leaving out the gateways in skip (their previous
// read-backs still run).
func (db *DB) DueDeposits(ctx context.Context, now int64, skip []int64, limit int) ([]Deposit, error) {
	q := `SELECT ` + depositCols + depositFrom + ` WHERE d.status = 'pending' AND d.review IS NULL AND d.next_at <= ?`
	args := []any{now}
	for _, id := range skip {
		q += ` AND d.gateway_id != ?`
		args = append(args, id)
	}
	return db.deposits(ctx, q+` ORDER BY d.next_at LIMIT ?`, append(args, limit)...)
}

func (db *DB) deposits(ctx context.Context, q string, args ...any) ([]Deposit, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal("list deposits", err)
	}
	defer rows.Close()
	out := []Deposit{}
	for rows.Next() {
		d, err := scanDeposit(rows)
		if err != nil {
			return nil, internal("list deposits", err)
		}
		out = append(out, d)
	}
	return out, internal("list deposits", rows.Err())
}

// depositState reads a deposit's status inside a write, to tell an unknown
// deposit from one a guarded update no longer applies to.
func depositState(ctx context.Context, tx *Tx, id string) (status string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT status FROM deposits WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrDepositNotFound
	}
	return status, internal("read deposit", err)
}

// CreditDeposit applies a gateway's "paid" verdict: the pending deposit
// becomes credited with amount (what the gateway says was paid) and its
// ledger row is written, in one transaction. credited reports whether
// this call credited it: a deposit that is already credited (a repeated
// webhook, the reconciler and the operator racing) is left as it is.
func (db *DB) CreditDeposit(ctx context.Context, id string, amount int64, gatewayStatus string) (credited bool, err error) {
	if amount <= 0 || amount > MaxAmount {
		return false, Errorf(Invalid, "Invalid amount to credit: %s", FormatMoney(amount))
	}
	if fault.Broken(fault.SplitCredit) {
		return db.creditSplit(ctx, id, amount, gatewayStatus)
	}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		credited, err = credit(ctx, tx, id, amount, `status = 'pending'`, gatewayStatus, "", db.unix())
		return err
	})
	return credited, err
}

// credit moves the deposit id from a status that cond allows to credited
// and credits its account with amount, note on the ledger row. It reports
// false, changing nothing, when the deposit is no longer in such a status.
func credit(ctx context.Context, tx *Tx, id string, amount int64, cond, gatewayStatus, note string, now int64) (bool, error) {
	var account int64
	err := tx.QueryRowContext(ctx,
		`UPDATE deposits SET status = 'credited', credited = ?, gateway_status = coalesce(nullif(?, ''), gateway_status),
		   review = NULL, note = ?, last_error = '', updated_at = ?
		 WHERE id = ? AND `+cond+` RETURNING account_id`, amount, gatewayStatus, note, now, id).Scan(&account)
	if errors.Is(err, sql.ErrNoRows) {
		_, err := depositState(ctx, tx, id) // tells an unknown deposit from one already settled
		return false, err
	}
	if err != nil {
		return false, internal("credit deposit", err)
	}
	if _, err := moveFor(ctx, tx, account, KindDeposit, amount, "", id, note, now); err != nil {
		return false, err
	}
	fault.Hit(fault.AfterPaid, id)
	return true, nil
}

// CreditByOperator credits a deposit that was not credited (parked,
// pending, expired or failed) with amount, by the operator's decision after
// checking the gateway; note is kept on the deposit and its ledger row.
func (db *DB) CreditByOperator(ctx context.Context, id string, amount int64, note string) error {
	if amount <= 0 || amount > MaxAmount {
		return Errorf(Invalid, "Amount must be positive and at most %s", FormatMoney(MaxAmount))
	}
	id = CanonicalID(PrefixDeposit, id)
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		ok, err := credit(ctx, tx, id, amount, `status != 'credited'`, "", note, db.unix())
		if err == nil && !ok {
			return Errorf(Conflict, "Deposit %s is already credited", id)
		}
		return err
	})
}

// CloseDeposit applies a gateway's verdict that a pending deposit will
// never be paid: status is DepositExpired or DepositFailed. It reports
// whether this call closed it.
func (db *DB) CloseDeposit(ctx context.Context, id, status, gatewayStatus string) (bool, error) {
	if status != DepositExpired && status != DepositFailed {
		return false, Errorf(Invalid, "Invalid deposit status %q", status)
	}
	return db.depositUpdate(ctx, id,
		`UPDATE deposits SET status = ?, gateway_status = ?, review = NULL, last_error = '', updated_at = ?
		 WHERE id = ? AND status = 'pending'`, status, gatewayStatus, db.unix(), id)
}

// ParkDeposit sets a pending deposit aside for the operator with the
// reason: the reconciler stops reading it back. gatewayStatus, when set,
// replaces the one last read. It reports whether this call parked it.
func (db *DB) ParkDeposit(ctx context.Context, id, reason, gatewayStatus string) (bool, error) {
	return db.depositUpdate(ctx, id,
		`UPDATE deposits SET review = ?, gateway_status = coalesce(nullif(?, ''), gateway_status), last_error = '', updated_at = ?
		 WHERE id = ? AND status = 'pending' AND review IS NULL`, reason, gatewayStatus, db.unix(), id)
}

// ParkClosedDeposit sets an expired or failed deposit aside for the
// operator with the reason: its gateway, asked again, says money came after
// all (a late payment). It stays closed, and is credited only by the
// operator (CreditByOperator). It reports whether this call parked it.
func (db *DB) ParkClosedDeposit(ctx context.Context, id, reason, gatewayStatus string) (bool, error) {
	return db.depositUpdate(ctx, id,
		`UPDATE deposits SET review = ?, gateway_status = ?, updated_at = ?
		 WHERE id = ? AND status IN ('expired', 'failed') AND review IS NULL`, reason, gatewayStatus, db.unix(), id)
}

// DepositChecked records a read-back that settled nothing: the gateway's
// status (when it answered) or the error (when it did not), and when to ask
// again. It reports false when the deposit is no longer pending.
func (db *DB) DepositChecked(ctx context.Context, id, gatewayStatus, lastError string, nextAt int64) (bool, error) {
	return db.depositUpdate(ctx, id,
		`UPDATE deposits SET attempts = attempts + 1, next_at = ?, gateway_status = coalesce(nullif(?, ''), gateway_status),
		   last_error = ?, updated_at = ?
		 WHERE id = ? AND status = 'pending'`, nextAt, gatewayStatus, lastError, db.unix(), id)
}

// DepositDue makes a pending deposit due for a read-back at once: a
// gateway's webhook told of it. It reports false when the deposit is no
// longer pending (nothing left to do).
func (db *DB) DepositDue(ctx context.Context, id string) (bool, error) {
	return db.depositUpdate(ctx, id,
		`UPDATE deposits SET next_at = min(next_at, ?), updated_at = ? WHERE id = ? AND status = 'pending'`,
		db.unix(), db.unix(), id)
}

// depositUpdate runs a guarded update of one deposit and reports whether it
// took; when it did not, it tells an unknown deposit (an error) from one
// whose state no longer allows it (false).
func (db *DB) depositUpdate(ctx context.Context, id, query string, args ...any) (changed bool, err error) {
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return internal("update deposit", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			changed = true
			return nil
		}
		_, err = depositState(ctx, tx, id)
		return err
	})
	return changed, err
}

// DepositCount is the number of deposits through one gateway in one
// status, and the amount they credited.
type DepositCount struct {
	Gateway  string
	Status   string
	Count    int64
	Credited int64
}

// DepositCounts counts deposits by gateway and status, for monitoring.
func (db *DB) DepositCounts(ctx context.Context) ([]DepositCount, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT g.name, d.status, count(*), sum(d.credited) FROM deposits d JOIN gateways g ON g.id = d.gateway_id
		 GROUP BY g.name, d.status ORDER BY g.name, d.status`) // a removed gateway's name may be taken again: one series
	if err != nil {
		return nil, internal("count deposits", err)
	}
	defer rows.Close()
	var out []DepositCount
	for rows.Next() {
		var c DepositCount
		if err := rows.Scan(&c.Gateway, &c.Status, &c.Count, &c.Credited); err != nil {
			return nil, internal("count deposits", err)
		}
		out = append(out, c)
	}
	return out, internal("count deposits", rows.Err())
}
