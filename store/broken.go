package store

import "context"

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
