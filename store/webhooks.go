package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// Webhook event types (API.md §3).
var EventTypes = []string{
	"order.processing", "order.in_progress", "order.completed", "order.partial", "order.cancelled",
	"order.failed", "order.refunded", "refill.completed", "refill.rejected", "balance.low", "ping",
}

// MaxWebhooksPerKey is how many webhooks one API key may have.
const MaxWebhooksPerKey = 5

// Webhook is a customer's endpoint.
type Webhook struct {
	ID        string
	AccountID int64
	KeyID     string
	URL       string
	Events    []string
	Status    string
	Reason    string
	Created   int64
}

// ErrWebhookNotFound answers an id that is not one of the key's webhooks.
var ErrWebhookNotFound = Errorf(NotFound, "Webhook not found")

// ParseEvents reads a comma-separated list of event types; empty means all.
func ParseEvents(csv string) ([]string, error) {
	if strings.TrimSpace(csv) == "" {
		return slices.Clone(EventTypes), nil
	}
	var out []string
	for _, e := range strings.Split(csv, ",") {
		e = strings.TrimSpace(e)
		if e == "" || slices.Contains(out, e) {
			continue
		}
		if !slices.Contains(EventTypes, e) {
			return nil, Errorf(Invalid, "Unknown event: %s", truncateText(e, 64))
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, Errorf(Invalid, "Missing required parameter: events")
	}
	return out, nil
}

// AddWebhook registers url (already checked by the caller against the
// address policy) for the key, and returns it with its secret, which is
// shown only now.
func (db *DB) AddWebhook(ctx context.Context, p Principal, url string, events []string) (Webhook, string, error) {
	buf := make([]byte, 24)
	rand.Read(buf)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(buf)
	w := Webhook{ID: NewID(PrefixWebhook), AccountID: p.AccountID, KeyID: p.KeyID, URL: url, Events: events,
		Status: "active", Created: db.unix()}
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhooks WHERE key_id = ? AND status != 'removed'`,
			p.KeyID).Scan(&n); err != nil {
			return internal("count webhooks", err)
		}
		if n >= MaxWebhooksPerKey {
			return Errorf(Invalid, "At most %d webhooks per API key", MaxWebhooksPerKey)
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO webhooks (id, account_id, key_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.AccountID, w.KeyID, w.URL, strings.Join(events, ","), secret, w.Created)
		return internal("insert webhook", err)
	})
	if err != nil {
		return Webhook{}, "", err
	}
	return w, secret, nil
}

// Webhooks lists the webhooks within scope, of one key when keyID is
// set; removed ones left out.
func (db *DB) Webhooks(ctx context.Context, scope Scope, keyID string) ([]Webhook, error) {
	if err := scope.check(); err != nil {
		return nil, err
	}
	q := `SELECT id, account_id, key_id, url, events, status, reason, created_at FROM webhooks WHERE status != 'removed'`
	var args []any
	if keyID != "" {
		q, args = q+` AND key_id = ?`, append(args, keyID)
	}
	if !scope.all {
		q, args = q+` AND account_id = ?`, append(args, scope.account)
	}
	q += ` ORDER BY id`
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal("list webhooks", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		var w Webhook
		var events string
		if err := rows.Scan(&w.ID, &w.AccountID, &w.KeyID, &w.URL, &events, &w.Status, &w.Reason, &w.Created); err != nil {
			return nil, internal("list webhooks", err)
		}
		w.Events = strings.Split(events, ",")
		out = append(out, w)
	}
	return out, internal("list webhooks", rows.Err())
}

// RemoveWebhook removes one of the key's webhooks; its pending deliveries
// are dropped.
func (db *DB) RemoveWebhook(ctx context.Context, keyID, raw string) error {
	id, ok := ParseID(PrefixWebhook, raw)
	if !ok {
		return ErrWebhookNotFound
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE webhooks SET status = 'removed' WHERE id = ? AND key_id = ? AND status != 'removed'`, id, keyID)
		if err != nil {
			return internal("remove webhook", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrWebhookNotFound
		}
		return dropDeliveries(ctx, tx, id, "webhook removed", db.unix())
	})
}

// TestWebhook queues a ping to one of the key's webhooks and returns the
// event's id.
func (db *DB) TestWebhook(ctx context.Context, keyID, raw string) (string, error) {
	id, ok := ParseID(PrefixWebhook, raw)
	if !ok {
		return "", ErrWebhookNotFound
	}
	var eventID string
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var accountID int64
		if err := tx.QueryRowContext(ctx,
			`SELECT account_id FROM webhooks WHERE id = ? AND key_id = ? AND status = 'active'`, id, keyID).Scan(&accountID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrWebhookNotFound
			}
			return internal("read webhook", err)
		}
		now := db.unix()
		eventID = NewID(PrefixEvent)
		if err := insertEvent(ctx, tx, eventID, accountID, "ping", map[string]string{"webhook": id}, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (event_id, webhook_id, updated_at) VALUES (?, ?, ?)`,
			eventID, id, now)
		return internal("queue delivery", err)
	})
	return eventID, err
}

func insertEvent(ctx context.Context, tx *Tx, id string, accountID int64, typ string, data any, now int64) error {
	b, err := json.Marshal(data)
	if err != nil {
		return internal("encode event", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (id, account_id, type, data, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, accountID, typ, string(b), now)
	return internal("insert event", err)
}

// emit writes an event of the account in tx, with a delivery to each of its
// live webhooks that wants the type. Nothing is written when none does.
func emit(ctx context.Context, tx *Tx, accountID int64, typ string, data any, now int64) error {
	rows, err := tx.QueryContext(ctx,
		`SELECT w.id, w.events FROM webhooks w JOIN api_keys k ON k.id = w.key_id
		 WHERE w.account_id = ? AND w.status = 'active' AND k.revoked_at IS NULL`, accountID)
	if err != nil {
		return internal("find webhooks", err)
	}
	var targets []string
	for rows.Next() {
		var id, events string
		if err := rows.Scan(&id, &events); err != nil {
			rows.Close()
			return internal("find webhooks", err)
		}
		if slices.Contains(strings.Split(events, ","), typ) {
			targets = append(targets, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil { // not every webhook seen: no event rather than a partial one
		return internal("find webhooks", err)
	}
	if len(targets) == 0 {
		return nil
	}
	eventID := NewID(PrefixEvent)
	if err := insertEvent(ctx, tx, eventID, accountID, typ, data, now); err != nil {
		return err
	}
	for _, w := range targets {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (event_id, webhook_id, updated_at) VALUES (?, ?, ?)`,
			eventID, w, now); err != nil {
			return internal("queue delivery", err)
		}
	}
	return nil
}
