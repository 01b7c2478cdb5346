package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// CancelJob is a customer's cancel to forward to the provider of an order
// already with it.
type CancelJob struct {
	OrderID    string
	UpstreamID string
	Attempts   int64 // failed tries so far
	Provider   Provider
}

// DueCancels lists up to limit open cancel requests whose orders are with
// their provider. Requests of orders still being dispatched wait: the
// dispatch's outcome settles them. Providers among skip are left out.
func (db *DB) DueCancels(ctx context.Context, now int64, limit int, skip []int64) ([]CancelJob, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT o.id, o.upstream_id, c.attempts, `+providerCols+`
		 FROM cancel_requests c JOIN orders o ON o.id = c.order_id JOIN providers p ON p.id = o.provider_id
		 WHERE c.status IN ('pending', 'sent') AND c.next_at <= ? AND o.status IN ('processing', 'in_progress')
		   AND p.status = 'active' AND p.id NOT IN (SELECT value FROM json_each(?))
		 ORDER BY c.next_at, o.number LIMIT ?`, now, jsonList(skip), limit)
	if err != nil {
		return nil, internal("list due cancels", err)
	}
	defer rows.Close()
	var out []CancelJob
	for rows.Next() {
		var j CancelJob
		p := &j.Provider
		if err := rows.Scan(&j.OrderID, &j.UpstreamID, &j.Attempts, &p.ID, &p.Name, &p.URL, &p.APIKey, &p.Dialect, &p.Status,
			&p.PausedReason, &p.Created); err != nil {
			return nil, internal("list due cancels", err)
		}
		out = append(out, j)
	}
	return out, internal("list due cancels", rows.Err())
}

// CancelsSent marks cancel requests as forwarded, just before the call.
func (db *DB) CancelsSent(ctx context.Context, orderIDs []string) error {
	return db.updateCancels(ctx, orderIDs, `status = 'sent'`)
}

// DeferCancels retries cancel requests later after a failed try; a request
// that has failed giveUpAfter tries is closed as refused with its note (the
// order goes on; the customer may ask again).
func (db *DB) DeferCancels(ctx context.Context, ds []Deferral, giveUpAfter int) error {
	if len(ds) == 0 {
		return nil
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		for _, d := range ds {
			_, err := tx.ExecContext(ctx,
				`UPDATE cancel_requests SET attempts = attempts + ?1, next_at = ?2, error = ?3, updated_at = ?4,
				   status = CASE WHEN ?1 > 0 AND attempts + 1 >= ?5 THEN 'refused' ELSE status END
				 WHERE order_id = ?6 AND status IN ('pending', 'sent')`, d.tries(), d.Next, truncateText(d.Note, 500), now, giveUpAfter, d.ID)
			if err != nil {
				return internal("defer cancel request", err)
			}
		}
		return nil
	})
}

func (db *DB) updateCancels(ctx context.Context, ids []string, set string, args ...any) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		args = append(args, db.unix())
		for _, id := range ids {
			args = append(args, id)
		}
		_, err := tx.ExecContext(ctx, `UPDATE cancel_requests SET `+set+`, updated_at = ?
			WHERE status IN ('pending', 'sent') AND order_id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
		return internal("update cancel requests", err)
	})
}

// CancelAccepted applies a cancel the provider accepted: the order is
// cancelled and fully refunded in one transaction. A second call changes
// nothing.
func (db *DB) CancelAccepted(ctx context.Context, orderID string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		o, err := readOrderState(ctx, tx, Operator, orderID)
		if err != nil {
			return err
		}
		if o.status != StatusProcessing && o.status != StatusInProgress {
			return nil // ended meanwhile; settle closed the request
		}
		return settle(ctx, tx, o, StatusCancelled, o.charge, nil, "", "cancelled at the provider", db.unix())
	})
}

// CancelRefused records the provider's refusal; the order keeps its status.
func (db *DB) CancelRefused(ctx context.Context, orderID, reason string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx,
			`UPDATE cancel_requests SET status = 'refused', error = ?, updated_at = ?
			 WHERE order_id = ? AND status IN ('pending', 'sent')`, truncateText(reason, 500), db.unix(), orderID)
		return internal("refuse cancel request", err)
	})
}

// RefillJob is a refill to send to, or ask about at, the provider.
type RefillJob struct {
	RefillID         string
	Status           string
	UpstreamRefillID string
	OrderUpstreamID  string
	Attempts         int // failed calls since the last answer
	Provider         Provider
}

// DueRefills lists up to limit unfinished refills that are due, with their
// order's provider; providers among skip are left out.
func (db *DB) DueRefills(ctx context.Context, now int64, limit int, skip []int64) ([]RefillJob, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT r.id, r.status, coalesce(r.upstream_id, ''), o.upstream_id, r.attempts, `+providerCols+`
		 FROM refills r JOIN orders o ON o.id = r.order_id JOIN providers p ON p.id = o.provider_id
		 WHERE r.status IN ('pending', 'processing') AND r.next_at <= ? AND o.upstream_id IS NOT NULL
		   AND p.status = 'active' AND p.id NOT IN (SELECT value FROM json_each(?))
		 ORDER BY r.next_at LIMIT ?`, now, jsonList(skip), limit)
	if err != nil {
		return nil, internal("list due refills", err)
	}
	defer rows.Close()
	var out []RefillJob
	for rows.Next() {
		var j RefillJob
		p := &j.Provider
		if err := rows.Scan(&j.RefillID, &j.Status, &j.UpstreamRefillID, &j.OrderUpstreamID, &j.Attempts, &p.ID, &p.Name, &p.URL,
			&p.APIKey, &p.Dialect, &p.Status, &p.PausedReason, &p.Created); err != nil {
			return nil, internal("list due refills", err)
		}
		out = append(out, j)
	}
	return out, internal("list due refills", rows.Err())
}

// RefillUpdate records what the provider said about a refill: its refill id
// once it took the request, its status text, and when to ask again. Final
// statuses (completed, rejected) are never left again.
func (db *DB) RefillUpdate(ctx context.Context, refillID, upstreamID, status, raw string, next int64) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var cur, orderID string
		var accountID int64
		err := tx.QueryRowContext(ctx, `SELECT status, order_id, account_id FROM refills WHERE id = ?`, refillID).
			Scan(&cur, &orderID, &accountID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrRefillNotFound
		}
		if err != nil {
			return internal("read refill", err)
		}
		if cur == RefillCompleted || cur == RefillRejected {
			return nil
		}
		switch {
		case upstreamID != "" && (status == "" || status == RefillPending):
			status = RefillProcessing // the provider took it
		case status == "" || status == RefillPending && cur == RefillProcessing:
			status = cur // unknown text, or a step backwards: keep ours
		}
		var up any
		if upstreamID != "" {
			up = upstreamID
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE refills SET status = ?, upstream_id = coalesce(?, upstream_id), upstream_status = ?, attempts = 0,
			   next_at = ?, updated_at = ?
			 WHERE id = ? AND status = ?`, status, up, truncateText(raw, 64), next, db.unix(), refillID, cur)
		if err != nil {
			return internal("update refill", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		if status == RefillCompleted || status == RefillRejected {
			return emit(ctx, tx, accountID, "refill."+status,
				map[string]string{"refill": refillID, "order": orderID, "status": status}, db.unix())
		}
		return nil
	})
}

// DeferRefill retries a refill at next after a failed call; reject, when
// set, ends it as rejected with the reason instead.
func (db *DB) DeferRefill(ctx context.Context, refillID string, next int64, reason string, reject bool) error {
	return db.deferRefill(ctx, refillID, next, reason, 1, reject)
}

// RefillBusy retries a refill at next after its provider was too busy to
// answer, without counting a failed call.
func (db *DB) RefillBusy(ctx context.Context, refillID string, next int64, reason string) error {
	return db.deferRefill(ctx, refillID, next, reason, 0, false)
}

func (db *DB) deferRefill(ctx context.Context, refillID string, next int64, reason string, tries int, reject bool) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		set := `attempts = attempts + ?, next_at = ?, reason = ?`
		args := []any{tries, next, truncateText(reason, 500)}
		if reject {
			set = `status = 'rejected', reason = ?`
			args = args[2:]
		}
		var orderID string
		var accountID int64
		err := tx.QueryRowContext(ctx, `UPDATE refills SET `+set+`, updated_at = ?
			WHERE id = ? AND status IN ('pending', 'processing') RETURNING order_id, account_id`,
			append(args, db.unix(), refillID)...).Scan(&orderID, &accountID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // finished meanwhile
		}
		if err != nil || !reject {
			return internal("defer refill", err)
		}
		return emit(ctx, tx, accountID, "refill.rejected",
			map[string]string{"refill": refillID, "order": orderID, "status": RefillRejected}, db.unix())
	})
}
