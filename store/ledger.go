package store

import (
	"context"
	"database/sql"
	"errors"
)

// Ledger kinds.
const (
	KindDeposit    = "deposit"
	KindCharge     = "charge"
	KindRefund     = "refund"
	KindAdjustment = "adjustment"
)

// move changes an account's balance by amount (negative debits) and appends
// the matching ledger row, inside tx. It is the only code that writes
// accounts.balance. A debit that would take the balance below zero changes
// nothing and returns ErrInsufficientBalance.
func move(ctx context.Context, tx *Tx, accountID int64, kind string, amount int64, orderID, note string, now int64) (int64, error) {
	var balance int64
	err := tx.QueryRowContext(ctx,
		`UPDATE accounts SET balance = balance + ?1 WHERE id = ?2 AND balance + ?1 >= 0 RETURNING balance`,
		amount, accountID).Scan(&balance)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrInsufficientBalance
	}
	if err != nil {
		return 0, internal("update balance", err)
	}
	var order any
	if orderID != "" {
		order = orderID
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, note, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`, accountID, kind, amount, balance, order, note, now)
	if err != nil {
		return 0, internal("insert ledger row", err)
	}
	return balance, nil
}

// LedgerEntry is one row of an account's ledger.
type LedgerEntry struct {
	ID           int64  `json:"id"`
	Kind         string `json:"kind"`
	Amount       int64  `json:"amount"`
	BalanceAfter int64  `json:"balance_after"`
	OrderID      string `json:"order,omitempty"`
	Note         string `json:"note,omitempty"`
	Created      int64  `json:"created"`
}

// Ledger lists the ledger rows of an account (or of an order when orderID is
// set), oldest first.
func (db *DB) Ledger(ctx context.Context, accountID int64, orderID string) ([]LedgerEntry, error) {
	q := `SELECT id, kind, amount, balance_after, coalesce(order_id, ''), note, created_at FROM ledger WHERE account_id = ? ORDER BY id`
	args := []any{accountID}
	if orderID != "" {
		q = `SELECT id, kind, amount, balance_after, coalesce(order_id, ''), note, created_at FROM ledger WHERE order_id = ? ORDER BY id`
		args = []any{orderID}
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal("list ledger", err)
	}
	defer rows.Close()
	out := []LedgerEntry{}
	for rows.Next() {
		var e LedgerEntry
		if err := rows.Scan(&e.ID, &e.Kind, &e.Amount, &e.BalanceAfter, &e.OrderID, &e.Note, &e.Created); err != nil {
			return nil, internal("list ledger", err)
		}
		out = append(out, e)
	}
	return out, internal("list ledger", rows.Err())
}
