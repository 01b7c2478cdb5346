package httpapi

import (
	"context"

	"notpanel/server"
	"notpanel/store"
	"notpanel/webhook"
)

func webhookView(w store.Webhook) object {
	return object{{"webhook", w.ID}, {"url", w.URL}, {"events", w.Events}, {"created", w.Created}}
}

func (a *api) webhookAdd(ctx context.Context, c *call) (any, error) {
	url, err := c.f.require("url")
	if err != nil {
		return nil, err
	}
	events, err := store.ParseEvents(c.f["events"])
	if err != nil {
		return nil, err
	}
	if err := webhook.CheckURL(ctx, a.resolver, url, a.webhookInsecure); err != nil {
		// The customer gets one message for every refused destination;
		// the operator's log says what the host was and why.
		a.log.Info().Str("req", server.InfoFrom(ctx).ID).Int64("account", c.p.AccountID).Err(err).Msg("webhook URL refused")
		return nil, err
	}
	w, secret, err := a.db.AddWebhook(ctx, c.p, url, events)
	if err != nil {
		return nil, err
	}
	return append(webhookView(w)[:3], member{"secret", secret}), nil
}

func (a *api) webhookList(ctx context.Context, c *call) (any, error) {
	hooks, err := a.db.Webhooks(ctx, store.Customer(c.p.AccountID), c.p.KeyID)
	if err != nil {
		return nil, err
	}
	out := make([]object, len(hooks))
	for i, w := range hooks {
		out[i] = webhookView(w)
	}
	return out, nil
}

func (a *api) webhookRemove(ctx context.Context, c *call) (any, error) {
	id, err := c.f.require("webhook")
	if err != nil {
		return nil, err
	}
	if err := a.db.RemoveWebhook(ctx, c.p.KeyID, id); err != nil {
		return nil, err
	}
	return object{{"removed", id}}, nil
}

func (a *api) webhookTest(ctx context.Context, c *call) (any, error) {
	id, err := c.f.require("webhook")
	if err != nil {
		return nil, err
	}
	ev, err := a.db.TestWebhook(ctx, c.p.KeyID, id)
	if err != nil {
		return nil, err
	}
	return object{{"webhook", id}, {"event", ev}}, nil
}
