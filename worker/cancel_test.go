package worker_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"notpanel/fault"
	"notpanel/store"
	"notpanel/worker"
)

// cancel asks to cancel ids as the customer and expects each to be taken.
func (e *env) cancel(ids ...string) {
	e.t.Helper()
	res, err := e.db.CancelOrders(ctx, store.Customer(e.acct.ID), ids)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			e.t.Fatalf("cancel %s: %v", r.ID, r.Err)
		}
	}
}

func (e *env) request(id string) store.CancelRequest {
	e.t.Helper()
	c, ok, err := e.db.CancelRequestFor(ctx, id)
	if err != nil || !ok {
		e.t.Fatalf("cancel request of %s: %v, %v", id, ok, err)
	}
	return c
}

// fullyRefundedOnce fails unless order id is in status with one full refund.
func (e *env) fullyRefundedOnce(id, status string) {
	e.t.Helper()
	o := e.want(id, status)
	if total, rows := e.refunds(id); total != o.Charge || rows != 1 {
		e.t.Errorf("%s refunded %d in %d rows, want %d in 1", id, total, rows, o.Charge)
	}
}

func TestCancelForwarded(t *testing.T) {
	e := newEnv(t, classic)
	a, upA := e.dispatched("", 100)
	b, upB := e.dispatched("", 200)
	c, upC := e.dispatched("", 300)
	e.up.next("cancel", reply(200, fmt.Sprintf(`[{"order":%s,"cancel":1},{"order":"%s","cancel":{"error":"Cancel is disabled for this order"}}]`, upA, upB)))
	e.cancel(a, b, c)
	e.want(a, store.StatusProcessing) // with the provider: the worker asks it
	e.tick()
	calls := e.up.callsOf("cancel")
	if len(calls) != 1 {
		t.Fatalf("%d cancel calls, want 1 for the batch", len(calls))
	}
	got := strings.Split(calls[0].Get("orders"), ",")
	slices.Sort(got)
	if want := []string{upA, upB, upC}; !slices.Equal(got, want) {
		t.Errorf("cancel asked for %v, want %v", got, want)
	}
	e.fullyRefundedOnce(a, store.StatusCancelled)
	if r := e.request(a); r.Status != "accepted" {
		t.Errorf("request of the accepted cancel is %s", r.Status)
	}
	e.want(b, store.StatusProcessing)
	if r := e.request(b); r.Status != "refused" || r.Error != "Cancel is disabled for this order" {
		t.Errorf("refused request: %+v", r)
	}
	if total, _ := e.refunds(b); total != 0 {
		t.Errorf("refused cancel refunded %d", total)
	}
	// c got no answer: asked again after the backoff, not before.
	e.want(c, store.StatusProcessing)
	if r := e.request(c); r.Status != "sent" || r.Error == "" {
		t.Errorf("unanswered request: %+v", r)
	}
	e.clock.Advance(29 * time.Second)
	e.tick()
	if n := e.up.count("cancel"); n != 1 {
		t.Fatalf("%d cancel calls before the backoff ended, want 1", n)
	}
	e.clock.Advance(time.Second)
	e.tick()
	if f := e.up.callsOf("cancel"); len(f) != 2 || f[1].Get("orders") != upC {
		t.Fatalf("cancel calls %v, want a second one for %s alone", f, upC)
	}
	e.fullyRefundedOnce(c, store.StatusCancelled)
	// The provider reports them cancelled from now on: no second refund.
	e.sync()
	e.sync()
	e.fullyRefundedOnce(a, store.StatusCancelled)
	e.fullyRefundedOnce(c, store.StatusCancelled)
	e.check()
}

func TestCancelCallFails(t *testing.T) {
	for _, tt := range []struct {
		name   string
		h      handler
		paused bool
	}{
		{"HTTP500", reply(500, `{"error":"Internal error"}`), false},
		{"Garbage", reply(200, `{"cancel":"maybe"}`), false},
		{"BadKey", reply(200, `{"error":"Invalid API key"}`), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, classic)
			a, _ := e.dispatched("", 100)
			b, _ := e.dispatched("", 100)
			e.up.next("cancel", tt.h)
			e.cancel(a, b)
			e.tick()
			for _, id := range []string{a, b} {
				e.want(id, store.StatusProcessing)
				if total, _ := e.refunds(id); total != 0 {
					t.Errorf("%s refunded %d after a failed cancel call", id, total)
				}
			}
			if p, _ := e.db.FindProvider(ctx, "upstream"); (p.Status == "paused") != tt.paused {
				t.Fatalf("provider %s, want paused %v", p.Status, tt.paused)
			}
			if tt.paused {
				if _, err := e.db.ResumeProvider(ctx, "upstream"); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(30 * time.Second)
			e.tick()
			e.fullyRefundedOnce(a, store.StatusCancelled)
			e.fullyRefundedOnce(b, store.StatusCancelled)
			e.check()
		})
	}
}

// cancelOnClaim has the customer cancel each order while the worker is
// sending it: between the claim and the provider's answer.
func (e *env) cancelOnClaim() {
	e.t.Cleanup(fault.Set(fault.AfterClaim, func(id string) {
		res, err := e.db.CancelOrders(ctx, store.Customer(e.acct.ID), []string{id})
		if err != nil || len(res) != 1 || res[0].Err != nil {
			e.t.Errorf("cancel during dispatch: %v, %+v", err, res)
		}
	}))
}

func TestCancelDuringDispatch(t *testing.T) {
	t.Run("Accepted", func(t *testing.T) {
		e := newEnv(t, classic)
		e.cancelOnClaim()
		id := e.place("", 100)
		e.tick()
		e.tick()
		e.fullyRefundedOnce(id, store.StatusCancelled)
		if a, c := e.up.count("add"), e.up.count("cancel"); a != 1 || c != 1 {
			t.Errorf("%d adds and %d cancel calls, want 1 and 1", a, c)
		}
		e.check()
	})
	t.Run("RefusedForGood", func(t *testing.T) {
		e := newEnv(t, classic)
		e.up.next("add", reply(200, `{"error":"Incorrect service ID"}`))
		e.cancelOnClaim()
		id := e.place("", 100)
		e.tick()
		e.fullyRefundedOnce(id, store.StatusCancelled)
		if r := e.request(id); r.Status != "accepted" {
			t.Errorf("request %s, want accepted", r.Status)
		}
		e.tick()
		if n := e.up.total(); n != 1 {
			t.Errorf("%d calls, want the one add", n)
		}
		e.check()
	})
	t.Run("TemporaryError", func(t *testing.T) {
		e := newEnv(t, classic)
		e.up.next("add", reply(500, `{"error":"Internal error"}`))
		e.cancelOnClaim()
		id := e.place("", 100)
		e.tick()
		e.fullyRefundedOnce(id, store.StatusCancelled)
		e.clock.Advance(time.Hour)
		e.tick()
		if n := e.up.total(); n != 1 {
			t.Errorf("%d calls, want the one add", n)
		}
		e.check()
	})
	t.Run("UnknownOutcomeThenFound", func(t *testing.T) {
		e := newEnv(t, classic, shortCalls)
		e.up.next("add", acceptThenHang(e.up))
		e.cancelOnClaim()
		id := e.place("", 100)
		e.tick()
		if o := e.want(id, store.StatusPending); o.Review == "" {
			t.Fatal("not parked")
		}
		e.tick()
		if n := e.up.count("cancel"); n != 0 {
			t.Fatalf("%d cancel calls for an order without an upstream id", n)
		}
		if err := e.db.ResolveUpstreamID(ctx, id, "1001", 0); err != nil {
			t.Fatal(err)
		}
		e.tick()
		e.fullyRefundedOnce(id, store.StatusCancelled)
		if f := e.up.callsOf("cancel"); len(f) != 1 || f[0].Get("orders") != "1001" {
			t.Errorf("cancel calls %v, want one for 1001", f)
		}
		e.check()
	})
	t.Run("UnknownOutcomeThenFailed", func(t *testing.T) {
		e := newEnv(t, classic, shortCalls)
		e.up.next("add", hang)
		e.cancelOnClaim()
		id := e.place("", 100)
		e.tick()
		if err := e.db.ResolveFail(ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		e.fullyRefundedOnce(id, store.StatusCancelled)
		e.check()
	})
	// Towards a notpanel provider a timeout is retried, and the provider may
	// hold the order: it must not be cancelled here and refunded while the
	// provider goes on delivering it. The resend (same request_id) finds the
	// order; the cancel then goes to the provider, and only its acceptance
	// refunds the customer.
	t.Run("NotpanelTimeoutAfterAccepting", func(t *testing.T) {
		e := newEnv(t, notpanel, shortCalls)
		e.up.next("add", acceptThenHang(e.up))
		e.cancelOnClaim()
		id := e.place("", 100)
		e.tick()
		if total, _ := e.refunds(id); total > 0 {
			t.Fatalf("refunded %d while the provider may hold the order", total)
		}
		for range 3 {
			e.clock.Advance(time.Hour)
			e.tick()
		}
		e.fullyRefundedOnce(id, store.StatusCancelled)
		if f := e.up.callsOf("cancel"); len(f) != 1 || f[0].Get("orders") != "1001" {
			t.Errorf("cancel calls %v, want one for the provider's order 1001", f)
		}
		if n := len(e.up.orders); n != 1 {
			t.Errorf("the provider holds %d orders, want 1", n)
		}
		e.check()
	})
}

// A notpanel add that keeps timing out may have been taken: after the last
// attempt the order is parked, not failed and refunded.
func TestDispatchNotpanelGivesUpByParking(t *testing.T) {
	e := newEnv(t, notpanel, shortCalls, func(c *worker.Config) { c.MaxAttempts = 2 })
	e.up.setAlways("add", acceptThenHang(e.up))
	id := e.place("", 100)
	e.tick()
	e.clock.Advance(time.Hour)
	e.tick()
	e.clock.Advance(time.Hour)
	e.tick()
	o := e.want(id, store.StatusPending)
	if o.Review == "" || e.up.count("add") != 2 {
		t.Fatalf("review %q after %d adds: want parked after 2", o.Review, e.up.count("add"))
	}
	if total, _ := e.refunds(id); total != 0 {
		t.Errorf("refunded %d", total)
	}
	if e.up.orderCount() != 1 {
		t.Errorf("%d orders at the provider, want 1", e.up.orderCount())
	}
	e.check()
}

// Another notpanel answers a cancel at once and decides later: its answer
// refunds nothing here; the status it reports afterwards does, or not.
func TestNotpanelCancelWaitsForTheStatus(t *testing.T) {
	e := newEnv(t, notpanel)
	id, up := e.dispatched("", 100)
	e.cancel(id)
	e.tick() // the cancel goes to the provider, which takes it
	if total, _ := e.refunds(id); total != 0 {
		t.Fatalf("refunded %d on the provider's first answer", total)
	}
	e.want(id, store.StatusProcessing)
	// The provider delivered after all.
	e.up.set(up, "Completed", "5", "0")
	e.clock.Advance(time.Hour)
	e.tick()
	e.want(id, store.StatusCompleted)
	if total, _ := e.refunds(id); total != 0 {
		t.Errorf("refunded %d for a completed order", total)
	}
	if r := e.request(id); r.Status != "refused" {
		t.Errorf("cancel request %s, want closed as refused", r.Status)
	}
	e.check()
}
