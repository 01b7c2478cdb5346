package store

import (
	"context"

	"notpanel/fault"
)

// cancelUnguarded is CancelOrders as it must not be written. It runs only in
// a notpanel_broken build with fault.UnguardedCancel switched on, for the
// crash harness to show that it catches the bug: a pending order is read
// outside the write transaction, then cancelled and refunded without a
// guard on the status it was read in, so two cancels that race both refund.
// Other orders take the right path.
func (db *DB) cancelUnguarded(ctx context.Context, scope Scope, ids []string) ([]RowResult, error) {
	out := make([]RowResult, len(ids))
	var due []orderState
	var rest []string
	for i, raw := range ids {
		out[i] = RowResult{ID: raw, Result: raw}
		o, err := scanOrderState(db.read.QueryRowContext(ctx, `SELECT `+orderStateCols+`
			FROM orders o JOIN services s ON s.id = o.service_id WHERE o.id = ?`, CanonicalID(PrefixOrder, raw)))
		if err == nil && scope.owns(o.accountID) && o.status == StatusPending && !o.claimed && !o.maybeSent {
			due = append(due, o)
		} else {
			rest = append(rest, raw)
		}
	}
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		for _, o := range due {
			if _, err := tx.ExecContext(ctx, `UPDATE orders SET status = 'cancelled', updated_at = ? WHERE id = ?`,
				now, o.id); err != nil {
				return internal("cancel order", err)
			}
			if _, err := move(ctx, tx, o.accountID, KindRefund, o.charge, o.id, "cancelled before dispatch", now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(rest) == 0 {
		return out, err
	}
	results, err := db.cancelOrders(ctx, scope, rest)
	for i, j := 0, 0; i < len(out) && err == nil; i++ {
		if j < len(results) && out[i].ID == results[j].ID {
			out[i] = results[j]
			j++
		}
	}
	return out, err
}

// creditSplit is CreditDeposit as it must not be written. It runs only in
// a notpanel_broken build with fault.SplitCredit switched on, for the crash
// harness to show that it catches the bug: the ledger row is committed in
// a transaction of its own before the deposit is marked credited, so a
// crash between the two leaves money credited for a deposit still pending,
// which the next read-back credits again.
func (db *DB) creditSplit(ctx context.Context, id string, amount int64, gatewayStatus string) (bool, error) {
	var account int64
	var status string
	if err := db.read.QueryRowContext(ctx, `SELECT account_id, status FROM deposits WHERE id = ?`, id).Scan(&account, &status); err != nil {
		return false, internal("read deposit", err)
	}
	if status != DepositPending {
		return false, nil
	}
	if err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := moveFor(ctx, tx, account, KindDeposit, amount, "", id, "", db.unix())
		return err
	}); err != nil {
		return false, err
	}
	var credited bool
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deposits SET status = 'credited', credited = ?, gateway_status = ?, updated_at = ?
			WHERE id = ? AND status = 'pending'`, amount, gatewayStatus, db.unix(), id)
		if err != nil {
			return internal("credit deposit", err)
		}
		n, _ := res.RowsAffected()
		credited = n == 1
		fault.Hit(fault.AfterPaid, id)
		return nil
	})
	return credited, err
}
