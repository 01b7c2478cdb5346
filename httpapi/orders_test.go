package httpapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestStatus(t *testing.T) {
	e := newEnv(t)
	a := e.order("a", "500") // 0.45
	b := e.order("b", "1000")
	e.exec(`UPDATE orders SET status = 'in_progress', start_count = 1234, remains = 650 WHERE id = ?`, b)
	tests := []struct {
		name   string
		params []string
		want   string
	}{
		{"PendingOrder", []string{"order", a}, `{"status":"pending","charge":"0.45","start_count":"0","remains":"500","currency":"USD"}`},
		{"InProgress", []string{"order", b}, `{"status":"in_progress","charge":"0.90","start_count":"1234","remains":"650","currency":"USD"}`},
		{"LowerCaseID", []string{"order", "ord_" + strings.ToLower(a[4:])}, `{"status":"pending","charge":"0.45","start_count":"0","remains":"500","currency":"USD"}`},
		{"Batch", []string{"orders", a + ", " + b + ",ord_nope," + a}, fmt.Sprintf(
			`{%q:{"status":"pending","charge":"0.45","start_count":"0","remains":"500","currency":"USD"},`+
				`%q:{"status":"in_progress","charge":"0.90","start_count":"1234","remains":"650","currency":"USD"},`+
				`"ord_nope":{"error":"Order not found"}}`, a, b)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := e.call(append([]string{"action", "status"}, tt.params...)...)
			if code != 200 || !sameJSON(t, got, tt.want) {
				t.Errorf("got %d %s\nwant %s", code, jsonString(t, got), tt.want)
			}
		})
	}

	errs := []struct {
		name   string
		params []string
		msg    string
	}{
		{"Unknown", []string{"order", "ord_01HG9X7KJP4N0000000000000Z"}, "Order not found"},
		{"Malformed", []string{"order", "12345"}, "Order not found"},
		{"Neither", nil, "Missing required parameter: order"},
		{"Both", []string{"order", a, "orders", b}, "Either order or orders is required, not both"},
		{"OnlyCommas", []string{"orders", ", ,"}, "Missing required parameter: orders"},
		{"TooMany", []string{"orders", manyIDs(101)}, "Too many ids in orders: at most 100 per call"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			code, got := e.call(append([]string{"action", "status"}, tt.params...)...)
			wantError(t, code, got, 400, tt.msg)
		})
	}
	t.Run("HundredAfterDuplicatesCollapse", func(t *testing.T) {
		code, got := e.call("action", "status", "orders", manyIDs(100)+","+manyIDs(100))
		if m, _ := got.(map[string]any); code != 200 || len(m) != 100 {
			t.Errorf("got %d with %d rows, want 200 with 100", code, len(m))
		}
	})
}

// manyIDs is n distinct well-formed order ids that do not exist.
func manyIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("ord_01HG9X7KJP4N%012d", i)
	}
	return strings.Join(ids, ",")
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	noCancel := storetest.Service(t, e.db, store.Service{Name: "Fixed", Rate: 1_000_000, Min: 1, Max: 100})
	pending := e.order("p", "1000")
	claimed := e.order("c", "1000")
	e.exec(`UPDATE orders SET claimed_at = 1 WHERE id = ?`, claimed)
	running := e.order("r", "1000")
	e.exec(`UPDATE orders SET status = 'in_progress', claimed_at = 1, upstream_id = '77' WHERE id = ?`, running)
	done := e.order("d", "1000")
	e.exec(`UPDATE orders SET status = 'completed', claimed_at = 1, remains = 0 WHERE id = ?`, done)
	_, got := e.call("action", "add", "service", itoa(noCancel.ID), "request_id", "n", "link", "https://x.com/a", "quantity", "10")
	fixed := got.(map[string]any)["order"].(string)
	e.exec(`UPDATE orders SET status = 'processing', claimed_at = 1 WHERE id = ?`, fixed)
	_, got = e.call("action", "add", "service", itoa(noCancel.ID), "request_id", "n2", "link", "https://x.com/a", "quantity", "10")
	fixedPending := got.(map[string]any)["order"].(string)

	before := e.balance()
	t.Run("PendingIsRefundedAtOnce", func(t *testing.T) {
		code, got := e.call("action", "cancel", "order", pending)
		if code != 200 || !sameJSON(t, got, fmt.Sprintf(`{"cancel":%q}`, pending)) {
			t.Fatalf("got %d %v", code, got)
		}
		if b := e.balance(); b != before+900_000 {
			t.Errorf("balance %d, want %d", b, before+900_000)
		}
		o, _ := e.db.FindOrder(ctx, pending)
		if o.Status != store.StatusCancelled {
			t.Errorf("status %s, want cancelled", o.Status)
		}
	})
	t.Run("InFlightIsQueued", func(t *testing.T) {
		for _, id := range []string{claimed, running} {
			for range 2 { // a repeat is a no-op success
				code, got := e.call("action", "cancel", "order", id)
				if code != 200 || !sameJSON(t, got, fmt.Sprintf(`{"cancel":%q}`, id)) {
					t.Fatalf("got %d %v", code, got)
				}
			}
			cr, ok, err := e.db.CancelRequestFor(ctx, id)
			if !ok || err != nil || cr.Status != "pending" {
				t.Errorf("cancel request of %s: %+v %v %v", id, cr, ok, err)
			}
		}
		if b := e.balance(); b != before+900_000 {
			t.Errorf("queued cancels moved money: balance %d", b)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		code, got := e.call("action", "cancel", "order", done)
		wantError(t, code, got, 400, "Order cannot be cancelled (already completed)")
		code, got = e.call("action", "cancel", "order", fixed)
		wantError(t, code, got, 400, "Service does not support cancellation")
		code, got = e.call("action", "cancel", "order", "ord_01HG9X7KJP4N0000000000000Z")
		wantError(t, code, got, 400, "Order not found")
	})
	t.Run("PendingOfNoCancelService", func(t *testing.T) {
		if code, got := e.call("action", "cancel", "order", fixedPending); code != 200 {
			t.Errorf("got %d %v, want pending orders always cancellable", code, got)
		}
	})
	t.Run("Batch", func(t *testing.T) {
		fresh := e.order("f", "100")
		code, got := e.call("action", "cancel", "orders", strings.Join([]string{fresh, done, "junk", fresh}, ","))
		want := fmt.Sprintf(`[{"order":%q,"cancel":%q},{"order":%q,"error":"Order cannot be cancelled (already completed)"},{"order":"junk","error":"Order not found"}]`,
			fresh, fresh, done)
		if code != 200 || !sameJSON(t, got, want) {
			t.Errorf("got %d %s\nwant %s", code, jsonString(t, got), want)
		}
	})
	storetest.Audit(t, e.db)
}

func TestRefill(t *testing.T) {
	e := newEnv(t)
	noRefill := storetest.Service(t, e.db, store.Service{Name: "NR", Rate: 1, Min: 1, Max: 100})
	done := e.order("d", "1000")
	e.exec(`UPDATE orders SET status = 'completed', claimed_at = 1, remains = 0 WHERE id = ?`, done)
	running := e.order("r", "1000")
	e.exec(`UPDATE orders SET status = 'in_progress', claimed_at = 1 WHERE id = ?`, running)
	_, got := e.call("action", "add", "service", itoa(noRefill.ID), "request_id", "n", "link", "https://x.com/a", "quantity", "10")
	nr := got.(map[string]any)["order"].(string)
	e.exec(`UPDATE orders SET status = 'completed', claimed_at = 1 WHERE id = ?`, nr)

	code, got := e.call("action", "refill", "order", done)
	ref, _ := got.(map[string]any)["refill"].(string)
	if code != 200 || !strings.HasPrefix(ref, "ref_") {
		t.Fatalf("refill: %d %v", code, got)
	}
	code, got = e.call("action", "refill_status", "refill", ref)
	if code != 200 || !sameJSON(t, got, `{"status":"pending"}`) {
		t.Errorf("refill_status: %d %v", code, got)
	}
	code, got = e.call("action", "refill", "order", done)
	wantError(t, code, got, 400, "Order already has a refill in progress")
	code, got = e.call("action", "refill", "order", running)
	wantError(t, code, got, 400, "Order cannot be refilled (in_progress)")
	code, got = e.call("action", "refill", "order", nr)
	wantError(t, code, got, 400, "Service does not support refill")

	// Rejected refills do not count towards the three; completed ones do.
	e.exec(`UPDATE refills SET status = 'rejected' WHERE id = ?`, ref)
	for i := range 3 {
		code, got := e.call("action", "refill", "order", done)
		if code != 200 {
			t.Fatalf("refill %d: %d %v", i+1, code, got)
		}
		e.exec(`UPDATE refills SET status = 'completed' WHERE id = ?`, got.(map[string]any)["refill"])
	}
	code, got = e.call("action", "refill", "order", done)
	wantError(t, code, got, 400, "Refill limit reached (3 per order)")

	code, got = e.call("action", "refill", "orders", done+","+running)
	want := fmt.Sprintf(`[{"order":%q,"error":"Refill limit reached (3 per order)"},{"order":%q,"error":"Order cannot be refilled (in_progress)"}]`, done, running)
	if code != 200 || !sameJSON(t, got, want) {
		t.Errorf("batch refill: %d %s", code, jsonString(t, got))
	}
	code, got = e.call("action", "refill_status", "refills", ref+",ref_01HG9X7KJP4N0000000000000Z")
	want = fmt.Sprintf(`[{"refill":%q,"status":"rejected"},{"refill":"ref_01HG9X7KJP4N0000000000000Z","error":"Refill not found"}]`, ref)
	if code != 200 || !sameJSON(t, got, want) {
		t.Errorf("batch refill_status: %d %s", code, jsonString(t, got))
	}
	code, got = e.call("action", "refill_status", "refill", "ref_nope")
	wantError(t, code, got, 400, "Refill not found")
}

// TestOtherAccountsIDs checks that every action taking an id treats another
// account's id exactly like one that does not exist.
func TestOtherAccountsIDs(t *testing.T) {
	e := newEnv(t)
	mine := e.order("m", "1000")
	e.exec(`UPDATE orders SET status = 'completed', claimed_at = 1 WHERE id = ?`, mine)
	_, got := e.call("action", "refill", "order", mine)
	ref := got.(map[string]any)["refill"].(string)
	_, got = e.call("action", "webhook.add", "url", "https://93.184.216.34/hook")
	hook, _ := got.(map[string]any)["webhook"].(string)
	if hook == "" {
		t.Fatalf("webhook.add: %v", got)
	}
	_, bobKey := storetest.Account(t, e.db, "bob", startBalance)
	before := e.balance()

	single := []struct{ action, param, id, msg string }{
		{"webhook.remove", "webhook", hook, "Webhook not found"},
		{"webhook.test", "webhook", hook, "Webhook not found"},
		{"status", "order", mine, "Order not found"},
		{"cancel", "order", mine, "Order not found"},
		{"refill", "order", mine, "Order not found"},
		{"refill_status", "refill", ref, "Refill not found"},
	}
	// Every action is either in the table above or takes no id: a new
	// action must be placed in one or the other.
	takesNoID := map[string]bool{"services": true, "add": true, "balance": true, "webhook.add": true, "webhook.list": true}
	for name := range actions {
		inTable := false
		for _, tt := range single {
			inTable = inTable || tt.action == name
		}
		if !inTable && !takesNoID[name] {
			t.Errorf("action %q is neither checked with another account's id nor listed as taking none", name)
		}
	}
	for _, tt := range single {
		t.Run(tt.action, func(t *testing.T) {
			code, got := e.callKey(bobKey, "action", tt.action, tt.param, tt.id)
			wantError(t, code, got, 400, tt.msg)
			code, unknown := e.callKey(bobKey, "action", tt.action, tt.param, tt.id[:4]+"01HG9X7KJP4N0000000000000Z")
			if jsonString(t, got) != jsonString(t, unknown) {
				t.Errorf("another account's id answered %s, an unknown id %s", jsonString(t, got), jsonString(t, unknown))
			}
		})
	}
	// The batch forms answer the row like an unknown id too.
	for _, tt := range []struct{ action, param, id, key, msg string }{
		{"status", "orders", mine, "", `{%q:{"error":"Order not found"}}`},
		{"cancel", "orders", mine, "order", `[{"order":%q,"error":"Order not found"}]`},
		{"refill", "orders", mine, "order", `[{"order":%q,"error":"Order not found"}]`},
		{"refill_status", "refills", ref, "refill", `[{"refill":%q,"error":"Refill not found"}]`},
	} {
		code, got := e.callKey(bobKey, "action", tt.action, tt.param, tt.id)
		if want := fmt.Sprintf(tt.msg, tt.id); code != 200 || !sameJSON(t, got, want) {
			t.Errorf("%s %s with alice's id: %d %s, want %s", tt.action, tt.param, code, jsonString(t, got), want)
		}
	}
	if b := e.balance(); b != before {
		t.Errorf("alice's balance moved: %d → %d", before, b)
	}
	if o, _ := e.db.FindOrder(context.Background(), mine); o.Status != store.StatusCompleted {
		t.Errorf("alice's order changed to %s", o.Status)
	}
}

func TestConcurrentIdenticalAdds(t *testing.T) {
	e := newEnv(t)
	const n = 100
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code, got := e.call("action", "add", "service", itoa(e.svc.ID), "request_id", "race",
				"link", "https://instagram.com/p/abc", "quantity", "1000")
			if code == 200 {
				ids[i], _ = got.(map[string]any)["order"].(string)
			} else {
				t.Errorf("add %d: %d %v", i, code, got)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("answers differ: %s vs %s", id, ids[0])
		}
	}
	if orders, _ := e.db.ListOrders(context.Background(), store.OrderFilter{Scope: store.Operator}); len(orders) != 1 {
		t.Errorf("%d orders, want 1", len(orders))
	}
	if b := e.balance(); b != startBalance-900_000 {
		t.Errorf("balance %d, want one charge of 0.90", b)
	}
	storetest.Audit(t, e.db)
}

func TestConcurrentCancelsRefundOnce(t *testing.T) {
	e := newEnv(t)
	id := e.order("c", "1000")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Go(func() {
			code, _ := e.call("action", "cancel", "order", id)
			mu.Lock()
			defer mu.Unlock()
			if code == 200 {
				ok++
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d cancels succeeded, want exactly 1 (the rest: already cancelled)", ok)
	}
	if b := e.balance(); b != startBalance {
		t.Errorf("balance %d, want %d (refunded once)", b, startBalance)
	}
	storetest.Audit(t, e.db)
}

func TestConcurrentAddsCannotOverspend(t *testing.T) {
	e := newEnv(t)
	// 100.00 buys 11 orders of 9.00; 30 clients try.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 30 {
		wg.Go(func() {
			code, got := e.call("action", "add", "service", itoa(e.svc.ID), "request_id", fmt.Sprint("o", i),
				"link", "https://instagram.com/p/abc", "quantity", "10000")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case code == 200:
				won++
			case code != 400 || got.(map[string]any)["error"] != "Insufficient balance":
				t.Errorf("add: %d %v", code, got)
			}
		})
	}
	wg.Wait()
	if won != 11 {
		t.Errorf("%d adds succeeded, want 11", won)
	}
	if b := e.balance(); b != startBalance-int64(won)*9_000_000 || b < 0 {
		t.Errorf("balance %d after %d charges of 9.00", b, won)
	}
	storetest.Audit(t, e.db)
}
