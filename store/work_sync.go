package store

import (
	"context"
	"encoding/json"
	"unicode/utf8"
)

// SyncJob is an order with its provider whose status is due to be asked.
type SyncJob struct {
	OrderID    string
	UpstreamID string
	Attempts   int64 // failed checks in a row
	Provider   Provider
}

// DueSyncs lists up to limit orders with their provider whose status is due
// to be asked, most overdue first; providers among skip are left out. Each
// status is read in next_at order from orders_work and the two are merged,
// so a listing reads about limit rows however many are due.
func (db *DB) DueSyncs(ctx context.Context, now int64, limit int, skip []int64) ([]SyncJob, error) {
	// The statuses are literals: the planner can use the partial index only
	// for a condition it can see implies the index's.
	arm := func(status string) string {
		return `SELECT o.next_at, o.id, o.upstream_id, o.attempts, ` + providerCols + `
		 FROM orders o JOIN providers p ON p.id = o.provider_id
		 WHERE o.status = '` + status + `' AND o.next_at <= ?1 AND p.status = 'active'
		   AND p.id NOT IN (SELECT value FROM json_each(?2))`
	}
	rows, err := db.read.QueryContext(ctx, arm(StatusProcessing)+` UNION ALL `+arm(StatusInProgress)+` ORDER BY 1 LIMIT ?3`,
		now, jsonList(skip), limit)
	if err != nil {
		return nil, internal("list due syncs", err)
	}
	defer rows.Close()
	var out []SyncJob
	for rows.Next() {
		var j SyncJob
		var due int64
		p := &j.Provider
		if err := rows.Scan(&due, &j.OrderID, &j.UpstreamID, &j.Attempts, &p.ID, &p.Name, &p.URL, &p.APIKey, &p.Dialect,
			&p.Status, &p.PausedReason, &p.Created); err != nil {
			return nil, internal("list due syncs", err)
		}
		out = append(out, j)
	}
	return out, internal("list due syncs", rows.Err())
}

// UpstreamStatus is what a provider said about one order, in our terms.
type UpstreamStatus struct {
	Status     string // a notpanel order status; "" when Raw is not understood
	Raw        string // the provider's text, kept for the operator
	StartCount int64
	Remains    int64
	HasRemains bool
}

// StatusUpdate is a provider's status of one order, to apply.
type StatusUpdate struct {
	OrderID string
	UpstreamStatus
}

// ApplyStatuses records providers' statuses of orders, all in one
// transaction, each in its own savepoint: progress and counts, and for an
// end state the refund it calls for: the unfinished share for partial,
// everything for cancelled, failed and refunded. A status reported again,
// or after the order has ended, changes nothing, so a refund is never paid
// twice. Unknown statuses leave the order as it is, with the raw text kept
// for the operator. It returns each order's status afterwards.
func (db *DB) ApplyStatuses(ctx context.Context, updates []StatusUpdate, nextSync int64) ([]string, error) {
	out := make([]string, len(updates))
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		for i, u := range updates {
			err := inSavepoint(ctx, tx, func() (err error) {
				out[i], err = applyStatus(ctx, tx, u.OrderID, u.UpstreamStatus, nextSync, now)
				return err
			})
			if ErrorCode(err) == Internal {
				return err
			}
		}
		return nil
	})
	return out, err
}

// A start count of 0 is what providers send when they leave it out, so it
// never overwrites one already known.
func applyStatus(ctx context.Context, tx *Tx, id string, u UpstreamStatus, nextSync, now int64) (string, error) {
	o, err := readOrderState(ctx, tx, Operator, id)
	if err != nil {
		return "", err
	}
	if o.status != StatusProcessing && o.status != StatusInProgress {
		return o.status, nil
	}
	remains := min(max(u.Remains, 0), o.units)
	raw := truncateText(u.Raw, 64)
	if u.Status == StatusPartial && !u.HasRemains {
		// A partial without remains cannot be refunded right: keep the order
		// as it is and ask again, rather than refund nothing.
		u.Status, raw = "", truncateText(u.Raw+" (no remains given)", 64)
	}
	switch u.Status {
	case StatusProcessing, StatusInProgress, "":
		to := u.Status
		if to == "" || to == StatusProcessing && o.status == StatusInProgress {
			to = o.status // unknown, or a step backwards: keep ours
		}
		var rem any
		if u.HasRemains {
			rem = remains
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET status = ?, start_count = coalesce(nullif(?, 0), start_count),
			   remains = coalesce(?, remains), upstream_status = ?, attempts = 0, review = NULL, next_at = ?,
			   updated_at = ?
			 WHERE id = ? AND status = ?`, to, u.StartCount, rem, raw, nextSync, now, id, o.status)
		if err != nil {
			return "", internal("update order status", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return o.status, errChanged
		}
		if to != o.status {
			if err := emit(ctx, tx, o.accountID, "order."+to, map[string]string{"order": id, "status": to}, now); err != nil {
				return o.status, err
			}
		}
		return to, nil
	case StatusCompleted:
		remains = 0
	case StatusPartial:
	case StatusCancelled, StatusFailed, StatusRefunded:
		remains = o.units
	default:
		return "", Errorf(Internal, "unexpected status %q", u.Status)
	}
	res, err := tx.ExecContext(ctx,
		`UPDATE orders SET start_count = coalesce(nullif(?, 0), start_count), upstream_status = ? WHERE id = ? AND status = ?`,
		u.StartCount, raw, id, o.status)
	if err != nil {
		return "", internal("update order status", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return o.status, errChanged
	}
	refund := int64(0)
	switch u.Status {
	case StatusPartial:
		refund = PartialRefund(o.charge, remains, o.units)
	case StatusCancelled, StatusFailed, StatusRefunded:
		refund = o.charge
	}
	if err := settle(ctx, tx, o, u.Status, refund, &remains, "", "provider reported "+u.Status, now); err != nil {
		return o.status, err
	}
	return u.Status, nil
}

// truncateText cuts s to at most n bytes without splitting a character.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Deferral postpones the worker's next look at one order or request after
// a failed try, with the reason.
type Deferral struct {
	ID   string // the order id
	Next int64  // unix seconds
	Note string
	// Busy: the provider was too busy to answer, which says nothing about
	// the order; the try does not count.
	Busy bool
}

// tries is how many failed tries d counts for.
func (d Deferral) tries() int {
	if d.Busy {
		return 0
	}
	return 1
}

// DeferSyncs pushes the next status check of orders back, counting a failed
// try; the note becomes the order's reason. An order that has failed
// reviewAfter tries in a row is also flagged for the operator's review
// (order list --review) while the checks go on.
func (db *DB) DeferSyncs(ctx context.Context, ds []Deferral, reviewAfter int) error {
	if len(ds) == 0 {
		return nil
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		for _, d := range ds {
			note := truncateText(d.Note, 500)
			_, err := tx.ExecContext(ctx,
				`UPDATE orders SET next_at = ?1, attempts = attempts + ?2, reason = ?3, updated_at = ?4,
				   review = CASE WHEN ?2 > 0 AND attempts + 1 >= ?5 THEN 'the provider has not reported this order for ' || (attempts + 1) || ' tries: ' || ?3 ELSE review END
				 WHERE id = ?6 AND status IN ('processing', 'in_progress')`, d.Next, d.tries(), note, now, reviewAfter, d.ID)
			if err != nil {
				return internal("defer status sync", err)
			}
		}
		return nil
	})
}

// PauseProvider stops the worker from calling a provider (for example after
// it refused our key) until the operator resumes it.
func (db *DB) PauseProvider(ctx context.Context, id int64, reason string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx,
			`UPDATE providers SET status = 'paused', paused_reason = ? WHERE id = ? AND status = 'active'`,
			truncateText(reason, 500), id)
		if err != nil {
			return internal("pause provider", err)
		}
		return bumpConfig(ctx, tx)
	})
}

// ResumeProvider lets the worker call a paused provider again.
func (db *DB) ResumeProvider(ctx context.Context, ref string) (Provider, error) {
	p, err := db.FindProvider(ctx, ref)
	if err != nil {
		return p, err
	}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx,
			`UPDATE providers SET status = 'active', paused_reason = '' WHERE id = ?`, p.ID); err != nil {
			return internal("resume provider", err)
		}
		return bumpConfig(ctx, tx)
	})
	p.Status, p.PausedReason = "active", ""
	return p, err
}

// jsonList is ids as a JSON array, for `NOT IN (SELECT value FROM
// json_each(?))`: one statement text, prepared once, for any number of ids.
func jsonList[T int64 | string](ids []T) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}
