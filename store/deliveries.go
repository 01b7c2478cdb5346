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
// webhooks of unrevoked keys, oldest first.
func (db *DB) DueDeliveries(ctx context.Context, now int64, limit int) ([]DeliveryJob, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT d.event_id, d.webhook_id, w.url, w.secret, e.type, e.data, e.created_at, d.attempts
		 FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
		   JOIN api_keys k ON k.id = w.key_id
		 WHERE d.status = 'pending' AND d.next_at <= ? AND w.status = 'active' AND k.revoked_at IS NULL
		 ORDER BY d.next_at, d.event_id LIMIT ?`, now, limit)
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

func (db *DB) updateDelivery(ctx context.Context, eventID, webhookID, set string, args ...any) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET `+set+`, updated_at = ?
			WHERE event_id = ? AND webhook_id = ? AND status = 'pending'`, append(args, db.unix(), eventID, webhookID)...)
		return internal("update delivery", err)
	})
}

// DisableWebhook stops a webhook whose receiver said it is gone (410): it
// gets nothing more, and its pending deliveries are given up.
func (db *DB) DisableWebhook(ctx context.Context, webhookID, reason string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx,
			`UPDATE webhooks SET status = 'disabled', reason = ? WHERE id = ? AND status = 'active'`,
			truncateText(reason, 500), webhookID); err != nil {
			return internal("disable webhook", err)
		}
		_, err := tx.ExecContext(ctx,
			`UPDATE deliveries SET status = 'failed', last_error = ?, updated_at = ? WHERE webhook_id = ? AND status = 'pending'`,
			"webhook disabled: "+truncateText(reason, 400), db.unix(), webhookID)
		return internal("drop deliveries", err)
	})
}
