package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
)

// Ledger kinds.
const (
	KindDeposit    = "deposit"
	KindCharge     = "charge"
	KindRefund     = "refund"
	KindAdjustment = "adjustment"
)

// move changes an account's balance by amount (negative debits) and appends
// the matching ledger row, inside tx. It and refunds.pay are the only code
// that writes accounts.balance. A debit that would take the balance below zero changes
// nothing and returns ErrInsufficientBalance.
func move(ctx context.Context, tx *Tx, accountID int64, kind string, amount int64, orderID, note string, now int64) (int64, error) {
	return moveFor(ctx, tx, accountID, kind, amount, orderID, "", note, now)
}

// moveFor is move for a row that names the order or the deposit it is for.
func moveFor(ctx context.Context, tx *Tx, accountID int64, kind string, amount int64, orderID, depositID, note string,
	now int64) (int64, error) {
	var balance, low int64
	err := tx.QueryRowContext(ctx,
		`UPDATE accounts SET balance = balance + ?1 WHERE id = ?2 AND balance + ?1 >= 0 RETURNING balance, low_balance`,
		amount, accountID).Scan(&balance, &low)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrInsufficientBalance
	}
	if err != nil {
		return 0, internal("update balance", err)
	}
	if low > 0 && balance < low && balance-amount >= low {
		// Crossing the threshold downwards, once: not on every later charge.
		if err := emit(ctx, tx, accountID, "balance.low",
			map[string]string{"balance": FormatMoney(balance), "threshold": FormatMoney(low)}, now); err != nil {
			return 0, err
		}
	}
	var order, deposit any
	if orderID != "" {
		order = orderID
	}
	if depositID != "" {
		deposit = depositID
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, note, created_at, deposit_id)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, accountID, kind, amount, balance, order, note, now, deposit)
	if err != nil {
		return 0, internal("insert ledger row", err)
	}
	return balance, nil
}

// refund is one credit waiting in a refunds batch.
type refund struct {
	amount  int64
	orderID string
	note    string
}

// refunds pays many credits with one balance update per account and one
// ledger row per credit, each row with the balance after it: what a bulk
// cancel needs, at a fraction of the statements of one move per order.
// Like move, it is a balance change and its ledger rows in one go, inside
// tx.
type refunds struct {
	accounts []int64 // in first-seen order, so rows come out deterministic
	rows     map[int64][]refund
}

func (r *refunds) add(accountID int64, f refund) {
	if f.amount <= 0 {
		return // nothing to pay: no empty ledger rows
	}
	if r.rows == nil {
		r.rows = map[int64][]refund{}
	}
	if _, ok := r.rows[accountID]; !ok {
		r.accounts = append(r.accounts, accountID)
	}
	r.rows[accountID] = append(r.rows[accountID], f)
}

func (r *refunds) pay(ctx context.Context, tx *Tx, now int64) error {
	for _, acct := range r.accounts {
		var total int64
		for _, f := range r.rows[acct] {
			total += f.amount
		}
		var balance int64
		if err := tx.QueryRowContext(ctx,
			`UPDATE accounts SET balance = balance + ? WHERE id = ? RETURNING balance`, total, acct).Scan(&balance); err != nil {
			return internal("update balance", err)
		}
		balance -= total // the balance before the first credit
		for _, f := range r.rows[acct] {
			balance += f.amount
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, note, created_at)
				 VALUES (?, 'refund', ?, ?, ?, ?, ?)`, acct, f.amount, balance, f.orderID, f.note, now); err != nil {
				return internal("insert ledger row", err)
			}
		}
	}
	return nil
}

// LedgerEntry is one row of an account's ledger.
type LedgerEntry struct {
	ID           int64  `json:"id"`
	Kind         string `json:"kind"`
	Amount       int64  `json:"amount"`
	BalanceAfter int64  `json:"balance_after"`
	OrderID      string `json:"order,omitempty"`
	DepositID    string `json:"deposit,omitempty"`
	Note         string `json:"note,omitempty"`
	Created      int64  `json:"created"`
}

// Ledger lists the ledger rows of an account (or of an order when orderID is
// set), oldest first.
func (db *DB) Ledger(ctx context.Context, accountID int64, orderID string) ([]LedgerEntry, error) {
	// The rows of the account's orders, and its other rows (see schema.sql).
	q := `SELECT ` + ledgerCols + ` FROM (
		  SELECT l.* FROM orders o JOIN ledger l ON l.order_id = o.id WHERE o.account_id = ?1
		  UNION ALL
		  SELECT * FROM ledger WHERE account_id = ?1 AND order_id IS NULL)
		ORDER BY id`
	args := []any{accountID}
	if orderID != "" {
		q = `SELECT ` + ledgerCols + ` FROM ledger WHERE order_id = ? ORDER BY id`
		args = []any{orderID}
	}
	return db.ledgerRows(ctx, q, args...)
}

// DepositLedger lists the ledger rows that credit a deposit (one once it
// is credited), read through the deposit's index.
func (db *DB) DepositLedger(ctx context.Context, depositID string) ([]LedgerEntry, error) {
	return db.ledgerRows(ctx, `SELECT `+ledgerCols+` FROM ledger WHERE deposit_id = ? ORDER BY id`,
		CanonicalID(PrefixDeposit, depositID))
}

// LedgerCursor is where a page of an account's ledger starts: below row
// Before among the rows that are not charges, and below order number Order
// among the charges (zero values: from the newest). An account's charges
// are found through its orders (see schema.sql), in the order of their
// numbers, which is the order of their rows.
type LedgerCursor struct {
	Before int64 `json:"before,omitempty"`
	Order  int64 `json:"order,omitempty"`
}

// AccountLedger is a page of an account's ledger, newest first: at most
// limit rows (100 when 0 or less, as ListOrders) from the cursor on, read by
// the account's indexes however long its history. more says whether older
// rows follow; next is where they start.
func (db *DB) AccountLedger(ctx context.Context, accountID int64, from LedgerCursor, limit int) (rows []LedgerEntry, next LedgerCursor, more bool, err error) {
	if err := customer(accountID); err != nil {
		return nil, from, false, err
	}
	if limit <= 0 {
		limit = 100 // not SQLite's "no limit" for a negative one, nor an empty page for 0
	}
	bound := func(v int64) int64 {
		if v <= 0 {
			return math.MaxInt64
		}
		return v
	}
	others, err := db.ledgerRows(ctx, `SELECT `+ledgerCols+` FROM ledger
		WHERE account_id = ? AND kind != 'charge' AND id < ? ORDER BY id DESC LIMIT ?`, accountID, bound(from.Before), limit+1)
	if err != nil {
		return nil, from, false, err
	}
	rs, err := db.read.QueryContext(ctx, `SELECT l.id, l.kind, l.amount, l.balance_after, coalesce(l.order_id, ''), l.note, l.created_at, o.number
		FROM orders o JOIN ledger l ON l.order_id = o.id AND l.order_id IS NOT NULL
		WHERE o.account_id = ? AND o.number < ? AND l.kind = 'charge' ORDER BY o.number DESC LIMIT ?`, accountID, bound(from.Order), limit+1)
	if err != nil {
		return nil, from, false, internal("list ledger", err)
	}
	defer rs.Close()
	var charges []LedgerEntry
	var numbers []int64
	for rs.Next() {
		var e LedgerEntry
		var n int64
		if err := rs.Scan(&e.ID, &e.Kind, &e.Amount, &e.BalanceAfter, &e.OrderID, &e.Note, &e.Created, &n); err != nil {
			return nil, from, false, internal("list ledger", err)
		}
		charges, numbers = append(charges, e), append(numbers, n)
	}
	if err := rs.Err(); err != nil {
		return nil, from, false, internal("list ledger", err)
	}
	// Merge the two, newest first, and take a page.
	next = from
	rows = []LedgerEntry{}
	i, j := 0, 0
	for len(rows) < limit && (i < len(others) || j < len(charges)) {
		if j >= len(charges) || i < len(others) && others[i].ID > charges[j].ID {
			rows, next.Before = append(rows, others[i]), others[i].ID
			i++
		} else {
			rows, next.Order = append(rows, charges[j]), numbers[j]
			j++
		}
	}
	return rows, next, i < len(others) || j < len(charges), nil
}

const ledgerCols = `id, kind, amount, balance_after, coalesce(order_id, ''), coalesce(deposit_id, ''), note, created_at`

func (db *DB) ledgerRows(ctx context.Context, q string, args ...any) ([]LedgerEntry, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal("list ledger", err)
	}
	defer rows.Close()
	out := []LedgerEntry{}
	for rows.Next() {
		var e LedgerEntry
		if err := rows.Scan(&e.ID, &e.Kind, &e.Amount, &e.BalanceAfter, &e.OrderID, &e.DepositID, &e.Note, &e.Created); err != nil {
			return nil, internal("list ledger", err)
		}
		out = append(out, e)
	}
	return out, internal("list ledger", rows.Err())
}
