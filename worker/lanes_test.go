package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/worker"
)

// running starts e's worker with Run on a short interval and returns a
// function that stops it and waits for its calls in flight.
func (e *env) running() (stop func()) {
	e.t.Helper()
	return e.runningEvery(10 * time.Millisecond)
}

// runningEvery is running with the given interval between passes.
func (e *env) runningEvery(interval time.Duration) (stop func()) {
	e.t.Helper()
	e.cfg.Interval = interval
	e.w = worker.New(e.cfg)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.w.Run(runCtx) }()
	return sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
	})
}

// waitFor polls cond for up to 5 s and reports whether it came true.
func waitFor(cond func() bool) bool { return waitUpTo(5*time.Second, cond) }

// waitUpTo polls cond for up to d and reports whether it came true.
func waitUpTo(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// eventually waits up to 5 s for the order to reach status.
func (e *env) eventually(id, status string) {
	e.t.Helper()
	if !waitFor(func() bool { return e.get(id).Status == status }) {
		e.t.Fatalf("order %s is %s after 5 s, want %s", id, e.get(id).Status, status)
	}
}

// A provider that does not answer holds up its own orders only: while its
// call hangs, the worker goes on passing and sends another provider's new
// orders.
func TestHangingProviderHoldsUpOnlyItself(t *testing.T) {
	e := newEnv(t, classic)
	other := newFakeProvider(t, false)
	addProvider(t, e.db, store.Provider{Name: "other", URL: other.srv.URL, APIKey: "k"})
	svc, err := e.db.AddService(ctx, store.Service{Name: "Likes", Category: "Instagram", Type: store.TypeDefault,
		Rate: 100_000, Min: 10, Max: 1000, ProviderService: "7"}, "other")
	if err != nil {
		t.Fatal(err)
	}
	gate, arrived := e.up.hold()
	stuck := e.place("", 100)
	stop := e.running()
	if action := <-arrived; action != "add" {
		t.Fatalf("the held call is %s, want add", action)
	}

	id, err := e.db.PlaceOrder(ctx, e.acct.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "other",
		Link: "https://instagram.com/p/other", Quantity: "10"})
	if err != nil {
		t.Fatal(err)
	}
	e.eventually(id, store.StatusProcessing)
	if o := e.get(stuck); o.Status != store.StatusPending || o.UpstreamID != "" {
		t.Errorf("the held order is %s with upstream id %q, want still pending", o.Status, o.UpstreamID)
	}
	// The held provider answers at last; the worker records it and stops.
	go func() {
		gate <- struct{}{}
		for range arrived { // later calls, until the provider closes
			gate <- struct{}{}
		}
	}()
	e.eventually(stuck, store.StatusProcessing)
	stop()
	if n := e.up.addsFor(e.links[stuck]); n != 1 {
		t.Errorf("%d adds for the held order, want 1", n)
	}
	e.check()
}

// A webhook receiver that does not answer holds up its own deliveries
// only: orders placed meanwhile are sent to the provider.
func TestSlowReceiverDoesNotHoldUpOrders(t *testing.T) {
	e := newEnv(t, classic, insecure)
	slow := newReceiver(t, 200)
	slow.hold = make(chan struct{})
	release := sync.OnceFunc(func() { close(slow.hold) })
	e.hook(slow.srv.URL)
	e.cancel(e.place("", 100)) // an order.cancelled event for the slow receiver
	stop := e.running()
	t.Cleanup(stop)
	t.Cleanup(release) // should the test fail: before stop waits for the held post
	if !waitFor(func() bool { return slow.calls() > 0 }) {
		t.Fatal("the receiver got nothing")
	}
	id := e.place("", 100)
	e.eventually(id, store.StatusProcessing)
	release()
	stop()
	e.check()
}

// A backlog larger than one listing is worked through batch after batch as
// each lane finishes, not one batch per interval: with an hour's interval,
// 1,200 pending orders (more than two dispatch listings) are all sent.
func TestBacklogGoesOnWhenALaneFinishes(t *testing.T) {
	e := newEnv(t, classic)
	for range 1200 {
		e.place("", 100)
	}
	defer e.runningEvery(time.Hour)()
	pending := func() int64 {
		g, err := e.db.Gauges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g.OpenOrders[store.StatusPending]
	}
	waitUpTo(20*time.Second, func() bool { return pending() == 0 })
	if n := pending(); n > 0 {
		t.Fatalf("%d of 1200 orders still pending: the worker waits for its interval between batches", n)
	}
}

// Lanes shows a lane whose call is held, with its age, and none once the
// call is answered.
func TestLanesReportRunningWork(t *testing.T) {
	e := newEnv(t, classic)
	gate, arrived := e.up.hold()
	id := e.place("", 100)
	stop := e.running()
	defer stop()
	<-arrived
	time.Sleep(20 * time.Millisecond)
	byKind := func() map[string]worker.LaneStats {
		out := map[string]worker.LaneStats{}
		for _, s := range e.w.Lanes() {
			out[s.Kind] = s
		}
		return out
	}
	got := byKind()
	if len(got) != 7 {
		t.Fatalf("Lanes = %+v, want the seven kinds", got)
	}
	if d := got["dispatch"]; d.Running != 1 || d.Oldest < 20*time.Millisecond {
		t.Errorf("dispatch lanes = %+v while the add is held, want 1 running for 20 ms or more", d)
	}
	if s := got["sync"]; s.Running != 0 || s.Oldest != 0 {
		t.Errorf("sync lanes = %+v, want none", s)
	}
	go func() {
		gate <- struct{}{}
		for range arrived {
			gate <- struct{}{}
		}
	}()
	e.eventually(id, store.StatusProcessing)
	if !waitFor(func() bool { return byKind()["dispatch"].Running == 0 }) {
		t.Errorf("dispatch lanes = %+v after the add was answered, want none", byKind()["dispatch"])
	}
}

// A provider's lane lists its next batch before its last orders are sent,
// instead of draining and waiting for the next pass: one pass sends a
// backlog of 1,200 orders (more than two listings), each once, and the
// places stay busy across the batches.
func TestDispatchLaneRefillsItself(t *testing.T) {
	e := newEnv(t, classic)
	e.up.setAlways("add", e.up.slowly(5*time.Millisecond))
	for range 1200 {
		e.place("", 100)
	}
	e.tick()
	if n := e.up.count("add"); n != 1200 {
		t.Fatalf("%d adds in one pass, want all 1200", n)
	}
	for id, link := range e.links {
		if n := e.up.addsFor(link); n != 1 {
			t.Errorf("order %s sent %d times", id, n)
		}
	}
	e.check()
}
