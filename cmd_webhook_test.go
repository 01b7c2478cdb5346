package main

import (
	"context"
	"strings"
	"testing"

	"notpanel/store"
)

func TestWebhookCommands(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	key := strings.TrimSpace(ok(t, s.path, "key", "create", "alice"))
	p, err := s.store.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := store.ParseEvents("")
	w, _, err := s.store.AddWebhook(ctx, p, "https://hooks.example.com/notpanel", all)
	if err != nil {
		t.Fatal(err)
	}
	id := s.order(t, 1000)
	ok(t, s.path, "order", "cancel", id) // an order.cancelled event for the webhook

	var hooks []webhookJSON
	decode(t, ok(t, s.path, "webhook", "list", "--user", "alice", "--json"), &hooks)
	if len(hooks) != 1 || hooks[0].Webhook != w.ID || hooks[0].Status != "active" {
		t.Errorf("webhook list: %+v", hooks)
	}
	if out := ok(t, s.path, "webhook", "list"); strings.Contains(out, "whsec_") || !strings.Contains(out, w.ID) {
		t.Errorf("webhook list shows a secret or misses the webhook:\n%s", out)
	}
	var ds []store.Delivery
	decode(t, ok(t, s.path, "webhook", "deliveries", "--json"), &ds)
	if len(ds) != 1 || ds[0].Type != "order.cancelled" || ds[0].Status != "pending" {
		t.Fatalf("deliveries: %+v", ds)
	}
	if r := failing(t, s.path, "webhook", "deliveries", "--limit", "0"); !strings.Contains(r.stderr, "--limit must be at least 1") {
		t.Errorf("webhook deliveries --limit 0: %q, want the reason", r.stderr)
	}
	if out := ok(t, s.path, "webhook", "deliveries", "--failed"); strings.Contains(out, ds[0].EventID) {
		t.Errorf("a pending delivery listed as failed:\n%s", out)
	}
	if err := s.store.DeliveryRetry(ctx, ds[0].EventID, w.ID, 0, "HTTP 500", true); err != nil {
		t.Fatal(err)
	}
	if out := ok(t, s.path, "webhook", "deliveries", "--failed"); !strings.Contains(out, "HTTP 500") {
		t.Errorf("the failed delivery is not listed:\n%s", out)
	}
	r := notpanel(t, s.path, "webhook", "redeliver", ds[0].EventID)
	if r.code != 0 || !strings.Contains(r.stderr, "queued again for 1 webhook") {
		t.Errorf("redeliver: %d %s", r.code, r.stderr)
	}
	decode(t, ok(t, s.path, "webhook", "deliveries", "--json"), &ds)
	if ds[0].Status != "pending" || ds[0].Attempts != 0 {
		t.Errorf("after redeliver: %+v", ds[0])
	}
	failing(t, s.path, "webhook", "redeliver", "evt_nope")
}
