package store

import (
	"context"
	"database/sql"
)

// parked reads an order the operator is resolving; it must be waiting for
// review.
func parked(ctx context.Context, tx *Tx, id string) error {
	var review sql.NullString
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status, review FROM orders WHERE id = ?`, id).Scan(&status, &review); err != nil {
		return internal("read order", err)
	}
	if !review.Valid {
		return Errorf(Invalid, "Order %s is not waiting for review (status %s)", id, status)
	}
	return nil
}

// ResolveResend sends a parked order again: the operator has checked that
// the provider does not have it. If the customer asked to cancel it
// meanwhile, it is cancelled and refunded instead: nothing was sent.
func (db *DB) ResolveResend(ctx context.Context, ref string) error {
	o, err := db.FindOrder(ctx, ref)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		if err := parked(ctx, tx, o.ID); err != nil {
			return err
		}
		if cancel, err := hasOpenCancel(ctx, tx, o.ID); err != nil || cancel {
			if err != nil {
				return err
			}
			return failUnsentID(ctx, tx, o.ID, "cancelled by the customer; not sent", db.unix())
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET claimed_at = NULL, provider_id = CASE WHEN maybe_sent = 1 THEN provider_id END,
			   failover = CASE WHEN maybe_sent = 1 THEN failover END, review = NULL, attempts = 0, next_at = 0, updated_at = ?
			 WHERE `+claimedWhere, db.unix(), o.ID)
		if err != nil {
			return internal("resend order", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		return nil
	})
}

// ResolveFail ends a parked order as failed with a full refund: the
// operator has checked that the provider does not have it and it should not
// be sent again.
func (db *DB) ResolveFail(ctx context.Context, ref, reason string) error {
	o, err := db.FindOrder(ctx, ref)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = "failed by the operator after review"
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		if err := parked(ctx, tx, o.ID); err != nil {
			return err
		}
		return failUnsentID(ctx, tx, o.ID, reason, db.unix())
	})
}

// ResolveUpstreamID records the provider's id of a parked order: the
// operator found it at the provider. Its status is asked at nextSync.
func (db *DB) ResolveUpstreamID(ctx context.Context, ref, upstreamID string, nextSync int64) error {
	o, err := db.FindOrder(ctx, ref)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		if err := parked(ctx, tx, o.ID); err != nil {
			return err
		}
		return accept(ctx, tx, o.ID, upstreamID, nextSync, db.unix())
	})
}

// failUnsentID is failUnsent for an order known by its id.
func failUnsentID(ctx context.Context, tx *Tx, id, reason string, now int64) error {
	o, err := readOrderState(ctx, tx, Operator, id)
	if err != nil {
		return err
	}
	return failUnsent(ctx, tx, o, reason, now)
}
