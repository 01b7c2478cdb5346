package store

import (
	"context"
)

// errChanged reports a guarded update that found the order no longer in the
// state it was read in: the transition is skipped and nothing else moves.
var errChanged = Errorf(Conflict, "order changed meanwhile")

// settle moves an order from the status it was read in to a terminal status
// and refunds refund micro-units (nothing when zero: no empty ledger rows),
// in tx: transition, then the refund.
func settle(ctx context.Context, tx *Tx, o orderState, to string, refund int64, remains *int64, reason, note string, now int64) error {
	if err := transition(ctx, tx, o, to, remains, reason, now); err != nil {
		return err
	}
	if refund > 0 {
		if _, err := move(ctx, tx, o.accountID, KindRefund, refund, o.id, note, now); err != nil {
			return err
		}
	}
	return nil
}

// transition is settle without the money, for callers that pay several
// refunds at once (see refunds): the order moves to the terminal status to,
// guarded on the status it was read in, so a second transition of the same
// order changes nothing (errChanged). An order already fully refunded
// (cancelled, failed, refunded) never moves again. An open cancel request
// of the order is closed: accepted when the order ends cancelled, refused
// otherwise.
func transition(ctx context.Context, tx *Tx, o orderState, to string, remains *int64, reason string, now int64) error {
	if !Terminal(to) || o.status == StatusCancelled || o.status == StatusFailed || o.status == StatusRefunded {
		return Errorf(Internal, "bad transition of %s from %s to %s", o.id, o.status, to)
	}
	var rem, why any
	if remains != nil {
		rem = *remains
	}
	if reason != "" {
		why = reason
	}
	res, err := tx.ExecContext(ctx,
		`UPDATE orders SET status = ?, remains = coalesce(?, remains), reason = coalesce(?, reason), review = NULL,
		   updated_at = ?
		 WHERE id = ? AND status = ?`, to, rem, why, now, o.id, o.status)
	if err != nil {
		return internal("settle order", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChanged
	}
	if err := emit(ctx, tx, o.accountID, "order."+to, map[string]string{"order": o.id, "status": to}, now); err != nil {
		return err
	}
	if o.status == StatusPending && !o.claimed && !o.maybeSent {
		// Such an order never has an open cancel request: every path that
		// releases a claimed order settles its open request first.
		return nil
	}
	if to == StatusCancelled {
		_, err = tx.ExecContext(ctx,
			`UPDATE cancel_requests SET status = 'accepted', updated_at = ? WHERE order_id = ? AND status IN ('pending', 'sent')`,
			now, o.id)
	} else {
		_, err = tx.ExecContext(ctx,
			`UPDATE cancel_requests SET status = 'refused', error = ?, updated_at = ?
			 WHERE order_id = ? AND status IN ('pending', 'sent')`, "order "+to, now, o.id)
	}
	return internal("close cancel request", err)
}

// hasOpenCancel reports whether the customer has asked to cancel the order
// and the request is still open.
func hasOpenCancel(ctx context.Context, tx *Tx, id string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM cancel_requests WHERE order_id = ? AND status IN ('pending', 'sent')`, id).Scan(&n)
	return n > 0, internal("read cancel request", err)
}
