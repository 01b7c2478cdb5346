package store_test

import (
	"context"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// deliveriesOf lists the event types queued for a webhook, oldest first.
func deliveriesOf(t *testing.T, db *store.DB, webhookID string) []string {
	t.Helper()
	rows, err := storetest.Raw(t, db).Query(
		`SELECT e.type FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.webhook_id = ? ORDER BY e.id`, webhookID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func TestWebhooksAndTheirEvents(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	svc := storetest.Service(t, db, store.Service{Name: "F", Rate: 1_000_000, Min: 1, Max: 1000, Cancel: true})
	a, key := storetest.Account(t, db, "alice", 10_000_000)
	p, err := db.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := store.ParseEvents("")
	everything, secret, err := db.AddWebhook(ctx, p, "https://hooks.example.com/a", all)
	if err != nil || len(secret) < 30 || secret[:6] != "whsec_" {
		t.Fatalf("AddWebhook: %v, secret %q", err, secret)
	}
	onlyFailed, _, _ := db.AddWebhook(ctx, p, "https://hooks.example.com/b", []string{"order.failed"})
	for range 3 {
		db.AddWebhook(ctx, p, "https://hooks.example.com/more", all)
	}
	if _, _, err := db.AddWebhook(ctx, p, "https://hooks.example.com/6th", all); store.ErrorMessage(err) != "At most 5 webhooks per API key" {
		t.Errorf("6th webhook: %v", err)
	}
	if _, err := store.ParseEvents("order.completed, nope"); store.ErrorMessage(err) != "Unknown event: nope" {
		t.Errorf("unknown event: %v", err)
	}
	if hooks, _ := db.Webhooks(ctx, store.Operator, p.KeyID); len(hooks) != 5 {
		t.Errorf("%d webhooks listed, want 5", len(hooks))
	}

	// A cancel writes its event in the same transaction, for the webhooks
	// that want it.
	id, err := db.PlaceOrder(ctx, a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "r", Link: "https://x.example/p", Quantity: "10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CancelOrders(ctx, store.Customer(a.ID), []string{id}); err != nil {
		t.Fatal(err)
	}
	if got := deliveriesOf(t, db, everything.ID); len(got) != 1 || got[0] != "order.cancelled" {
		t.Errorf("deliveries %v, want [order.cancelled]", got)
	}
	if got := deliveriesOf(t, db, onlyFailed.ID); len(got) != 0 {
		t.Errorf("a webhook for order.failed got %v", got)
	}
	ev, err := db.TestWebhook(ctx, p.KeyID, everything.ID)
	if err != nil || ev == "" {
		t.Fatalf("TestWebhook: %q %v", ev, err)
	}
	if got := deliveriesOf(t, db, everything.ID); len(got) != 2 || got[1] != "ping" {
		t.Errorf("after a test: %v", got)
	}

	// balance.low once, when the balance crosses the threshold.
	if _, err := db.SetLowBalance(ctx, "alice", 9_990_000); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.PlaceOrder(ctx, a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "low" + itoa(int64(i)),
			Link: "https://x.example/p", Quantity: "10"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := deliveriesOf(t, db, everything.ID); len(got) != 3 || got[2] != "balance.low" {
		t.Errorf("after crossing the threshold: %v, want one balance.low", got)
	}

	// Another key's webhook is not found; a removed one gets nothing more.
	_, bobKey := storetest.Account(t, db, "bob", 0)
	bob, _ := db.Authenticate(ctx, bobKey)
	if err := db.RemoveWebhook(ctx, bob.KeyID, everything.ID); err != store.ErrWebhookNotFound {
		t.Errorf("bob removing alice's webhook: %v", err)
	}
	if err := db.RemoveWebhook(ctx, p.KeyID, everything.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TestWebhook(ctx, p.KeyID, everything.ID); err != store.ErrWebhookNotFound {
		t.Errorf("testing a removed webhook: %v", err)
	}
	// A revoked key's webhooks stop.
	if err := db.RevokeKey(ctx, p.KeyID); err != nil {
		t.Fatal(err)
	}
	id2, _ := db.PlaceOrder(ctx, a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "after", Link: "https://x.example/p", Quantity: "10"})
	db.CancelOrders(ctx, store.Customer(a.ID), []string{id2})
	hooks, _ := db.Webhooks(ctx, store.Customer(a.ID), "")
	for _, h := range hooks {
		if got := deliveriesOf(t, db, h.ID); len(got) > 0 && got[len(got)-1] == "order.cancelled" && h.ID != everything.ID {
			t.Errorf("webhook %s of a revoked key got %v", h.ID, got)
		}
	}
	storetest.Audit(t, db)
}

// Recording an attempt checks that it changed the delivery: one settled
// meanwhile (delivered already, or its webhook removed or disabled) is
// left as it is and the caller is told.
func TestDeliveryRecordsAreChecked(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	_, key := storetest.Account(t, db, "alice", 0)
	p, err := db.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := store.ParseEvents("")
	hooks := make([]store.Webhook, 3)
	for i := range hooks {
		if hooks[i], _, err = db.AddWebhook(ctx, p, "https://hooks.example.com/"+itoa(int64(i)), all); err != nil {
			t.Fatal(err)
		}
	}
	event := map[string]string{}
	for _, h := range hooks {
		ev, err := db.TestWebhook(ctx, p.KeyID, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		event[h.ID] = ev
	}
	done, removed, disabled := hooks[0].ID, hooks[1].ID, hooks[2].ID
	if err := db.DeliveryDone(ctx, event[done], done); err != nil {
		t.Fatalf("first DeliveryDone: %v", err)
	}
	if err := db.DeliveryDone(ctx, event[done], done); err != store.ErrDeliveryNotPending {
		t.Errorf("DeliveryDone of a delivered delivery: %v, want ErrDeliveryNotPending", err)
	}
	if err := db.RemoveWebhook(ctx, p.KeyID, removed); err != nil {
		t.Fatal(err)
	}
	if err := db.DisableWebhook(ctx, disabled, "receiver answered 410 Gone"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{removed, disabled} {
		if err := db.DeliveryDone(ctx, event[id], id); err != store.ErrDeliveryNotPending {
			t.Errorf("DeliveryDone after the webhook went: %v, want ErrDeliveryNotPending", err)
		}
		if err := db.DeliveryRetry(ctx, event[id], id, 100, "HTTP 500", false); err != store.ErrDeliveryNotPending {
			t.Errorf("DeliveryRetry after the webhook went: %v, want ErrDeliveryNotPending", err)
		}
	}
	failed, err := db.Deliveries(ctx, true, 10)
	if err != nil || len(failed) != 2 {
		t.Fatalf("failed deliveries = %+v, %v; want the removed and the disabled webhook's", failed, err)
	}
	for _, d := range failed {
		if d.Attempts != 0 {
			t.Errorf("delivery to %s shows %d attempts, want 0: a settled delivery was written", d.WebhookID, d.Attempts)
		}
	}
}
