package main

import (
	"context"
	"fmt"
	"strings"
)

type webhookCmd struct {
	List       webhookListCmd       `cmd:"" help:"List customers' webhooks (never their secrets)."`
	Deliveries webhookDeliveriesCmd `cmd:"" help:"List the newest webhook deliveries."`
	Redeliver  webhookRedeliverCmd  `cmd:"" help:"Send an event again to its webhooks that are still active, with the same id."`
}

type webhookListCmd struct {
	User string `placeholder:"USER" help:"Only this account's webhooks (name or id)."`
	JSON bool   `name:"json" help:"Print a JSON array instead of a table."`
}

type webhookJSON struct {
	Webhook string   `json:"webhook"`
	User    int64    `json:"account_id"`
	Key     string   `json:"key_id"`
	URL     string   `json:"url"`
	Events  []string `json:"events"`
	Status  string   `json:"status"`
	Reason  string   `json:"reason,omitempty"`
	Created string   `json:"created"`
}

func (c *webhookListCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	scope, err := scopeOf(ctx, db, c.User)
	if err != nil {
		return err
	}
	hooks, err := db.Webhooks(ctx, scope, "")
	if err != nil {
		return err
	}
	rows := make([]webhookJSON, len(hooks))
	for i, w := range hooks {
		rows[i] = webhookJSON{Webhook: w.ID, User: w.AccountID, Key: w.KeyID, URL: redactURL(w.URL), Events: w.Events,
			Status: w.Status, Reason: w.Reason, Created: when(w.Created)}
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "WEBHOOK", "USER", "URL", "EVENTS", "STATUS", "CREATED")
	for _, r := range rows {
		status := r.Status
		if r.Reason != "" {
			status += " (" + r.Reason + ")"
		}
		t.row(r.Webhook, count(r.User), r.URL, strings.Join(r.Events, ","), status, r.Created)
	}
	return t.flush()
}

type webhookDeliveriesCmd struct {
	Failed bool `help:"Only deliveries given up on."`
	Limit  int  `default:"100" placeholder:"N" help:"At most this many."`
	JSON   bool `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *webhookDeliveriesCmd) Run(ctx context.Context, a *app) error {
	if err := checkLimit(c.Limit); err != nil {
		return err
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	ds, err := db.Deliveries(ctx, c.Failed, c.Limit)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(a.stdout, ds)
	}
	t := newTable(a.stdout, "EVENT", "TYPE", "WEBHOOK", "STATUS", "ATTEMPTS", "LAST ERROR", "UPDATED")
	for _, d := range ds {
		t.row(d.EventID, d.Type, d.WebhookID, d.Status, fmt.Sprint(d.Attempts), d.LastError, when(d.Updated))
	}
	return t.flush()
}

type webhookRedeliverCmd struct {
	Event string `arg:"" help:"Event id (evt_…), as webhook deliveries shows it."`
}

func (c *webhookRedeliverCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	n, err := db.Redeliver(ctx, c.Event)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "event %s queued again for %d webhook(s)\n", c.Event, n)
	return nil
}
