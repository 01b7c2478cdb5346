package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"notpanel/store"
)

// shop is a database with a service at 0.90 per 1000 (cancel allowed) and
// alice holding 10.00, open in the test as well.
type shop struct {
	path  string
	store *store.DB
	alice int64
}

func newShop(t *testing.T) shop {
	t.Helper()
	db := dbPath(t)
	catalog(t, db)
	ok(t, db, "user", "add", "alice")
	ok(t, db, "funds", "add", "alice", "10")
	return shop{path: db, store: openStore(t, db), alice: 1}
}

// order places an order of quantity units for alice as the API would and
// returns its id.
func (s shop) order(t *testing.T, quantity int) string {
	t.Helper()
	id, err := s.store.PlaceOrder(context.Background(), s.alice, store.OrderInput{
		ServiceID: 1, RequestID: fmt.Sprintf("req-%d-%s", quantity, t.Name()+store.NewID("")),
		Link: "https://instagram.com/alice", Quantity: fmt.Sprint(quantity),
	})
	if err != nil {
		t.Fatalf("place order: %v", err)
	}
	return id
}

func TestOrderCancelPending(t *testing.T) {
	s := newShop(t)
	id := s.order(t, 1000) // charge 0.90
	if got := balanceOf(t, s.store, "alice"); got != 9_100_000 {
		t.Fatalf("balance after order %s, want 9.10", store.FormatMoney(got))
	}
	out := ok(t, s.path, "order", "cancel", id)
	if want := id + "\tcancelled, refunded 0.90\n"; out != want {
		t.Errorf("order cancel: stdout %q, want %q", out, want)
	}
	if got := balanceOf(t, s.store, "alice"); got != 10_000_000 {
		t.Errorf("balance after cancel %s, want 10.00", store.FormatMoney(got))
	}
	o, err := s.store.FindOrder(context.Background(), id)
	if err != nil || o.Status != store.StatusCancelled {
		t.Errorf("order after cancel: %+v, %v; want cancelled", o, err)
	}

	r := failing(t, s.path, "order", "cancel", id)
	if !strings.Contains(r.stdout, "Order cannot be cancelled (already cancelled)") {
		t.Errorf("second cancel: stdout %q, want the API's error text", r.stdout)
	}
	if got := balanceOf(t, s.store, "alice"); got != 10_000_000 {
		t.Errorf("balance after second cancel %s, want 10.00 (refunded once)", store.FormatMoney(got))
	}
	if r := notpanel(t, s.path, "audit"); r.code != 0 {
		t.Errorf("audit after cancel: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestOrderCancelMany(t *testing.T) {
	s := newShop(t)
	a, b := s.order(t, 100), s.order(t, 200)
	o, err := s.store.FindOrder(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	// By id, by number, unknown, malformed: one line each, in order.
	r := notpanel(t, s.path, "order", "cancel", a, fmt.Sprint(o.Number), "ord_01HG9X7KJP4N0000000000000Z", "999", "junk")
	if r.code == 0 {
		t.Errorf("order cancel with unknown ids: exit 0, want non-zero")
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	want := []string{
		a + "\tcancelled, refunded 0.09",
		b + "\tcancelled, refunded 0.18",
		"ord_01HG9X7KJP4N0000000000000Z\terror: Order not found",
		"999\terror: Order not found",
		"junk\terror: Order not found",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("order cancel output:\n%s\nwant:\n%s", r.stdout, strings.Join(want, "\n"))
	}
	if !strings.Contains(r.stderr, "3 of 5 orders not cancelled") {
		t.Errorf("stderr %q, want a summary", r.stderr)
	}
	if got := balanceOf(t, s.store, "alice"); got != 10_000_000 {
		t.Errorf("balance %s, want 10.00", store.FormatMoney(got))
	}
}

func TestOrderRefund(t *testing.T) {
	s := newShop(t)
	id := s.order(t, 1000)
	if got := ok(t, s.path, "order", "refund", id, "--note", "customer complaint"); got != "0.90\n" {
		t.Errorf("order refund: stdout %q, want the amount refunded", got)
	}
	if got := balanceOf(t, s.store, "alice"); got != 10_000_000 {
		t.Errorf("balance after refund %s, want 10.00", store.FormatMoney(got))
	}
	failing(t, s.path, "order", "refund", id)
	failing(t, s.path, "order", "refund", "ord_nope")

	var shown struct {
		Status string `json:"status"`
		Ledger []struct {
			Kind   string `json:"kind"`
			Amount string `json:"amount"`
			Note   string `json:"note"`
		} `json:"ledger"`
		CancelRequest any `json:"cancel_request"`
	}
	decode(t, ok(t, s.path, "order", "show", id, "--json"), &shown)
	if shown.Status != store.StatusRefunded || len(shown.Ledger) != 2 ||
		shown.Ledger[0].Kind != "charge" || shown.Ledger[0].Amount != "-0.90" ||
		shown.Ledger[1].Kind != "refund" || shown.Ledger[1].Amount != "0.90" || shown.Ledger[1].Note != "customer complaint" {
		t.Errorf("order show --json after refund: %+v", shown)
	}
	if shown.CancelRequest != nil {
		t.Errorf("cancel_request = %v, want null", shown.CancelRequest)
	}
	if r := notpanel(t, s.path, "audit"); r.code != 0 {
		t.Errorf("audit after refund: exit %d\n%s", r.code, r.stdout)
	}
}

func TestOrderListAndShow(t *testing.T) {
	s := newShop(t)
	ok(t, s.path, "user", "add", "bob")
	ok(t, s.path, "funds", "add", "bob", "5")
	first := s.order(t, 100)
	second := s.order(t, 500)
	bobs, err := s.store.PlaceOrder(context.Background(), 2, store.OrderInput{
		ServiceID: 1, RequestID: "bob-1", Link: "https://instagram.com/bob", Quantity: "50",
	})
	if err != nil {
		t.Fatal(err)
	}
	ok(t, s.path, "order", "cancel", first)

	var rows []map[string]any
	decode(t, ok(t, s.path, "order", "list", "--json"), &rows)
	if len(rows) != 3 || rows[0]["order"] != bobs || rows[2]["order"] != first {
		t.Fatalf("order list --json: want 3 orders newest first, got %v", rows)
	}
	if rows[1]["user"] != "alice" || rows[1]["charge"] != "0.45" || rows[1]["quantity"] != "500" || rows[1]["status"] != "pending" {
		t.Errorf("order list --json row: %v", rows[1])
	}

	decode(t, ok(t, s.path, "order", "list", "--json", "--user", "alice", "--status", "pending"), &rows)
	if len(rows) != 1 || rows[0]["order"] != second {
		t.Errorf("order list --user alice --status pending: %v, want only %s", rows, second)
	}
	decode(t, ok(t, s.path, "order", "list", "--json", "--limit", "1"), &rows)
	if len(rows) != 1 {
		t.Errorf("order list --limit 1: %d rows", len(rows))
	}
	decode(t, ok(t, s.path, "order", "list", "--json", "--user", "bob", "--status", "cancelled"), &rows)
	if len(rows) != 0 {
		t.Errorf("order list for bob's cancelled orders: %v, want []", rows)
	}
	failing(t, s.path, "order", "list", "--status", "done")
	failing(t, s.path, "order", "list", "--user", "nobody")
	failing(t, s.path, "order", "list", "--limit", "0")

	table := ok(t, s.path, "order", "list")
	if !strings.Contains(table, second) || !strings.Contains(table, "bob") {
		t.Errorf("order list table:\n%s", table)
	}

	// By number, as the classic API and the table show it.
	text := ok(t, s.path, "order", "show", "1")
	for _, want := range []string{first, "alice (id 1)", "cancelled", "charge", "refund", "cancelled before dispatch"} {
		if !strings.Contains(text, want) {
			t.Errorf("order show 1 lacks %q:\n%s", want, text)
		}
	}
	failing(t, s.path, "order", "show", "ord_missing")
	failing(t, s.path, "order", "show", "12345")
}

func TestOrderCancelWithProvider(t *testing.T) {
	s := newShop(t)
	id := s.order(t, 1000)
	// What the worker does once the provider accepted the order.
	rawSQL(t, s.path, `UPDATE orders SET status = 'processing', upstream_id = '777' WHERE id = '`+id+`'`)

	out := ok(t, s.path, "order", "cancel", id)
	if want := id + "\tcancel requested from the provider (order is processing)\n"; out != want {
		t.Errorf("order cancel: stdout %q, want %q", out, want)
	}
	if got := balanceOf(t, s.store, "alice"); got != 9_100_000 {
		t.Errorf("balance %s, want 9.10: nothing is refunded before the provider agrees", store.FormatMoney(got))
	}
	ok(t, s.path, "order", "cancel", id) // a repeat is a no-op success

	var shown struct {
		UpstreamID    string               `json:"upstream_id"`
		CancelRequest *store.CancelRequest `json:"cancel_request"`
	}
	decode(t, ok(t, s.path, "order", "show", id, "--json"), &shown)
	if shown.CancelRequest == nil || shown.CancelRequest.Status != "pending" || shown.UpstreamID != "777" {
		t.Errorf("order show --json: %+v, want a pending cancel request", shown)
	}
	if text := ok(t, s.path, "order", "show", id); !strings.Contains(text, "pending since") {
		t.Errorf("order show:\n%s", text)
	}
}
