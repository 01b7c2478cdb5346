package store

import (
	"context"
)

// DeliveryJob is one event to send to one webhook.
type DeliveryJob struct {
	EventID   string
	WebhookID string
	URL       string
	Secret    string
	Type      string
	Data      string // JSON
	Created   int64
	Attempts  int
}

// DueDeliveries lists up to limit deliveries that are due, to live
// webhooks of unrevoked keys but those among skip, oldest first.
func (db *DB) DueDeliveries(ctx context.Context, now int64, limit int, skip []string) ([]DeliveryJob, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT d.event_id, d.webhook_id, w.url, w.secret, e.type, e.data, e.created_at, d.attempts
		 FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
		   JOIN api_keys k ON k.id = w.key_id
		 WHERE d.status = 'pending' AND d.next_at <= ? AND w.status = 'active' AND k.revoked_at IS NULL
		   AND d.webhook_id NOT IN (SELECT value FROM json_each(?))
		 ORDER BY d.next_at, d.event_id LIMIT ?`, now, jsonList(skip), limit)
	if err != nil {
		return nil, internal("list due deliveries", err)
	}
	defer rows.Close()
	var out []DeliveryJob
	for rows.Next() {
		var j DeliveryJob
		if err := rows.Scan(&j.EventID, &j.WebhookID, &j.URL, &j.Secret, &j.Type, &j.Data, &j.Created, &j.Attempts); err != nil {
			return nil, internal("list due deliveries", err)
		}
		out = append(out, j)
	}
	return out, internal("list due deliveries", rows.Err())
}

// DeliveryDone records a delivery the receiver took (a 2xx answer).
func (db *DB) DeliveryDone(ctx context.Context, eventID, webhookID string) error {
	return db.updateDelivery(ctx, eventID, webhookID, `status = 'delivered', attempts = attempts + 1, last_error = ''`)
}

// DeliveryRetry records a failed attempt: tried again at next, or given up
// (failed) when last is set.
func (db *DB) DeliveryRetry(ctx context.Context, eventID, webhookID string, next int64, reason string, last bool) error {
	set := `attempts = attempts + 1, next_at = ?, last_error = ?`
	if last {
		set = `status = 'failed', attempts = attempts + 1, next_at = ?, last_error = ?`
	}
	return db.updateDelivery(ctx, eventID, webhookID, set, next, truncateText(reason, 500))
}

// ErrDeliveryNotPending answers the record of an attempt at a delivery
// that was settled meanwhile: its webhook was disabled, or the delivery
// given up. Nothing is written.
var ErrDeliveryNotPending = Errorf(Conflict, "delivery is no longer pending")

func (db *DB) updateDelivery(ctx context.Context, eventID, webhookID, set string, args ...any) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET `+set+`, updated_at = ?
			WHERE event_id = ? AND webhook_id = ? AND status = 'pending'`, append(args, db.unix(), eventID, webhookID)...)
		if err != nil {
			return internal("update delivery", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrDeliveryNotPending
		}
		return nil
	})
}

// DisableWebhook stops a webhook whose receiver said it is gone (410): it
// gets nothing more, and its pending deliveries are given up.
func (db *DB) DisableWebhook(ctx context.Context, webhookID, reason string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE webhooks SET status = 'disabled', reason = ? WHERE id = ? AND status = 'active'`,
			truncateText(reason, 500), webhookID)
		if err != nil {
			return internal("disable webhook", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // disabled or removed already, its deliveries given up then
		}
		return dropDeliveries(ctx, tx, webhookID, "webhook disabled: "+truncateText(reason, 400), db.unix())
	})
}

// dropDeliveries gives up the pending deliveries of a webhook that gets
// nothing more, saying why.
func dropDeliveries(ctx context.Context, tx *Tx, webhookID, why string, now int64) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE deliveries SET status = 'failed', last_error = ?, updated_at = ? WHERE webhook_id = ? AND status = 'pending'`,
		why, now, webhookID)
	return internal("drop deliveries", err)
}

// Delivery is one event's delivery to one webhook, for the operator.
type Delivery struct {
	EventID   string `json:"event"`
	WebhookID string `json:"webhook"`
	Type      string `json:"type"`
	AccountID int64  `json:"account_id"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	NextAt    int64  `json:"next_at"`
	LastError string `json:"last_error,omitempty"`
	Updated   int64  `json:"updated"`
}

// Deliveries lists the newest deliveries (only failed ones when failed is
// set), at most limit.
func (db *DB) Deliveries(ctx context.Context, failed bool, limit int) ([]Delivery, error) {
	q := `SELECT d.event_id, d.webhook_id, e.type, e.account_id, d.status, d.attempts, d.next_at, d.last_error, d.updated_at
		FROM deliveries d JOIN events e ON e.id = d.event_id`
	if failed {
		q += ` WHERE d.status = 'failed'`
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY d.event_id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, internal("list deliveries", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.EventID, &d.WebhookID, &d.Type, &d.AccountID, &d.Status, &d.Attempts, &d.NextAt,
			&d.LastError, &d.Updated); err != nil {
			return nil, internal("list deliveries", err)
		}
		out = append(out, d)
	}
	return out, internal("list deliveries", rows.Err())
}

// Redeliver sends an event again to each of its webhooks that is still
// active, as a fresh delivery with the same id; it returns how many.
func (db *DB) Redeliver(ctx context.Context, raw string) (int, error) {
	id, ok := ParseID(PrefixEvent, raw)
	if !ok {
		return 0, Errorf(NotFound, "Event %q not found", raw)
	}
	var n int64
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE id = ?`, id).Scan(&exists); err != nil {
			return internal("read event", err)
		}
		if exists == 0 {
			return Errorf(NotFound, "Event %q not found", raw)
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE deliveries SET status = 'pending', attempts = 0, next_at = 0, last_error = '', updated_at = ?
			 WHERE event_id = ? AND webhook_id IN (SELECT id FROM webhooks WHERE status = 'active')`, db.unix(), id)
		if err != nil {
			return internal("redeliver", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}
