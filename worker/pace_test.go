package worker_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/worker"
)

// slowly answers as the provider does, after d.
func (p *fakeProvider) slowly(d time.Duration) handler {
	return func(f url.Values) (int, string) {
		time.Sleep(d)
		return p.defaults(f)
	}
}

// busyAbove answers as the provider does after d, unless more than n calls
// are in its hands: then HTTP 429, as a provider with a cap on calls at
// once does.
func (p *fakeProvider) busyAbove(n int, d time.Duration) handler {
	return func(f url.Values) (int, string) {
		p.mu.Lock()
		over := p.inflight > n
		p.mu.Unlock()
		time.Sleep(d)
		if over {
			return 429, `{"error":"Too many requests"}`
		}
		return p.defaults(f)
	}
}

// paceOf returns the worker's pace of calls to provider name.
func paceOf(t *testing.T, w *worker.Worker, name string) worker.ProviderStats {
	t.Helper()
	for _, p := range w.Providers() {
		if p.Provider == name {
			return p
		}
	}
	t.Fatalf("no pace for %s in %+v", name, w.Providers())
	return worker.ProviderStats{}
}

// Against a slow provider every place of its budget is used: with 16
// calls at once allowed, 16 adds are in its hands at once, never more.
func TestSlowProviderGetsItsConcurrency(t *testing.T) {
	e := newEnv(t, classic)
	e.up.setAlways("add", e.up.slowly(100*time.Millisecond))
	var ids []string
	for range 64 {
		ids = append(ids, e.place("", 100))
	}
	e.tick()
	if got := e.up.peakInflight(); got != store.DefaultConcurrency {
		t.Errorf("%d adds in flight at most, want %d (the default concurrency)", got, store.DefaultConcurrency)
	}
	for _, id := range ids {
		e.want(id, store.StatusProcessing)
	}
	e.check()
}

// A provider that answers 429 above 4 calls at once: the worker halves its
// pace until the provider stops refusing, no order fails, is parked or
// counts a failed try for it, provider list's row says why, and once the
// provider has been quiet the pace comes back step by step.
func TestBusyProviderSlowsTheWorkerDown(t *testing.T) {
	const step = time.Hour // no step passes while the orders go out
	e := newEnv(t, classic, func(c *worker.Config) { c.PaceStep = step })
	e.up.setAlways("add", e.up.busyAbove(4, 30*time.Millisecond))
	var ids []string
	for range 120 {
		ids = append(ids, e.place("", 100))
	}
	stop := e.runningEvery(20 * time.Millisecond)
	defer stop()
	sent := func() bool {
		for _, id := range ids {
			if e.get(id).Status != store.StatusProcessing {
				return false
			}
		}
		return true
	}
	for !sent() {
		// The order retried after a 429 is due 5 s later on the worker's
		// clock; real time is what the provider counts in.
		e.clock.Advance(time.Second)
		time.Sleep(20 * time.Millisecond)
		if e.up.count("add") > 2000 {
			t.Fatalf("%d adds and still not sent", e.up.count("add"))
		}
	}
	for _, id := range ids {
		o := e.get(id)
		if o.Attempts != 0 || o.Review != "" {
			t.Errorf("order %s: %d failed tries, review %q: a 429 is not the order's failure", id, o.Attempts, o.Review)
		}
	}
	busy := 0
	for _, id := range ids {
		if e.up.addsFor(e.links[id]) > 1 {
			busy++
		}
	}
	p := paceOf(t, e.w, "upstream")
	if p.Pace != 4 || p.Cuts != 2 || !strings.Contains(p.Reason, "429") {
		t.Errorf("pace %+v: want 4 calls at once after two cuts, with the 429 as reason", p)
	}
	stop()
	row, err := e.db.FindProvider(ctx, "upstream")
	if err != nil || row.State.Pace != p.Pace || !strings.Contains(row.State.PaceReason, "429") {
		t.Errorf("provider row %+v, %v: want the pace %d and its reason recorded", row.State, err, p.Pace)
	}
	t.Logf("%d adds for %d orders, %d of them retried after a 429; pace %+v", e.up.count("add"), len(ids), busy, p)

	// Quiet steps win the pace back: one call at once per step.
	e.clock.Advance(step)
	e.tick()
	if got := paceOf(t, e.w, "upstream"); got.Pace != p.Pace+1 {
		t.Errorf("after one quiet step: %d calls at once, want %d", got.Pace, p.Pace+1)
	}
	e.clock.Advance(store.DefaultConcurrency * step)
	e.tick()
	if got := paceOf(t, e.w, "upstream"); got.Pace != store.DefaultConcurrency || got.Reason != "" {
		t.Errorf("after quiet steps: %+v, want the full pace", got)
	}
	if row, _ := e.db.FindProvider(ctx, "upstream"); row.State.Pace != 0 || row.State.PaceReason != "" {
		t.Errorf("provider row %+v after recovery: want the pace cleared", row.State)
	}
	e.check()
}

// "Too many requests" for a status, cancel or refill call, or an add's 429
// with Retry-After, is not a failed try: the work waits (as long as the
// provider asked) and goes on, however often it happens.
func TestBusyAnswersAreNotFailures(t *testing.T) {
	e := newEnv(t, classic, func(c *worker.Config) { c.MaxAttempts = 2 })
	done, up := e.dispatched("", 100)
	e.up.set(up, "Completed", "10", "0")
	e.sync()
	e.want(done, store.StatusCompleted)
	running, _ := e.dispatched("", 100)
	busy := reply(200, `{"error":"Too many requests, slow down"}`)
	for _, a := range []string{"status", "cancel", "refill"} {
		e.up.setAlways(a, busy)
	}
	e.cancel(running)
	ref := e.askRefill(done)
	e.up.setAlways("add", func(url.Values) (int, string) { return 429, `{"error":"Rate limit exceeded"}` })
	pending := e.place("", 100)
	for range 6 {
		e.clock.Advance(10 * time.Minute)
		e.tick()
	}
	if o := e.want(pending, store.StatusPending); o.Attempts != 0 || o.Review != "" || !strings.Contains(o.Reason, "429") {
		t.Errorf("pending order after 429s: %+v", o)
	}
	if o := e.want(running, store.StatusProcessing); o.Attempts != 0 || o.Review != "" {
		t.Errorf("order being synced after busy answers: attempts %d, review %q", o.Attempts, o.Review)
	}
	if c := e.request(running); c.Status != "sent" && c.Status != "pending" {
		t.Errorf("cancel request after busy answers: %+v, want still open", c)
	}
	if status, reason, _ := e.refill(ref); status != store.RefillPending || !strings.Contains(reason, "Too many requests") {
		t.Errorf("refill after busy answers: %s (%s), want still pending", status, reason)
	}
	if e.up.count("status") < 2 || e.up.count("cancel") < 2 || e.up.count("refill") < 2 {
		t.Errorf("calls: %d status, %d cancel, %d refill: want each tried again", e.up.count("status"), e.up.count("cancel"), e.up.count("refill"))
	}

	// A 429 with Retry-After holds the provider's calls that long.
	e.up.setAlways("add", nil)
	for _, a := range []string{"status", "cancel", "refill"} {
		e.up.setAlways(a, nil)
	}
	e.up.next("add", func(url.Values) (int, string) { return 429, `{"error":"Rate limit exceeded"}` })
	e.clock.Advance(10 * time.Minute)
	e.up.setRetryAfter("120")
	e.tick()
	e.up.setRetryAfter("")
	before := e.up.total()
	e.clock.Advance(119 * time.Second)
	e.tick()
	if n := e.up.total(); n != before {
		t.Errorf("%d calls within the provider's Retry-After", n-before)
	}
	e.clock.Advance(time.Second + 10*time.Minute)
	e.tick()
	e.tick()
	e.want(pending, store.StatusProcessing)
	e.fullyRefundedOnce(running, store.StatusCancelled)
	if status, _, _ := e.refill(ref); status != store.RefillProcessing {
		t.Errorf("refill %s after the provider calmed down, want processing", status)
	}
	e.check()
}

// Status syncs, cancels and refills share a provider's calls with dispatch
// by turns: with two calls at once and a long queue of orders to send, the
// others' calls are not left until every order has gone.
func TestKindsOfWorkShareTheProvider(t *testing.T) {
	e := newEnv(t, classic)
	var syncing []string
	for range 150 {
		id, _ := e.dispatched("", 100)
		syncing = append(syncing, id)
	}
	done, up := e.dispatched("", 100)
	e.up.set(up, "Completed", "10", "0")
	e.sync()
	e.want(done, store.StatusCompleted)
	e.askRefill(done)
	e.cancel(syncing[0])
	pace(t, e.db, "upstream", 2, 0)
	for range 30 {
		e.place("", 100)
	}
	e.clock.Advance(time.Minute) // the 150 orders are due for a sync
	before := len(e.up.callsOf("add"))
	gate, arrived := e.up.hold()
	finished := make(chan struct{})
	go func() { e.tick(); close(finished) }()
	var order []string
	for running := true; running; {
		select {
		case a := <-arrived:
			order = append(order, a)
			gate <- struct{}{}
		case <-finished:
			running = false
		}
	}
	adds := 0
	for i, a := range order {
		if a == "add" {
			adds++
			continue
		}
		// Turns are taken as goroutines get scheduled, so a loaded machine
		// may let a few more adds through first; two thirds of the queue
		// is still far from waiting for all of it.
		if adds > 20 {
			t.Errorf("%s, call %d of %v, came after %d adds: it waited for the orders to be sent", a, i+1, order, adds)
		}
	}
	for _, a := range []string{"status", "cancel", "refill"} {
		if !slices.Contains(order, a) {
			t.Errorf("no %s call in %v", a, order)
		}
	}
	if got := len(e.up.callsOf("add")) - before; got != 30 {
		t.Errorf("%d adds, want 30", got)
	}
	if p := e.up.peakInflight(); p > 2 {
		t.Errorf("%d calls at once, want at most 2", p)
	}
}

// A provider's pace set while the worker runs applies within a pass: its
// calls at once follow the new setting.
func TestPaceChangeAppliesWhileRunning(t *testing.T) {
	e := newEnv(t, classic)
	pace(t, e.db, "upstream", 2, 0)
	e.up.setAlways("add", e.up.slowly(50*time.Millisecond))
	for range 20 {
		e.place("", 100)
	}
	stop := e.runningEvery(20 * time.Millisecond)
	defer stop()
	if !waitFor(func() bool { return e.up.count("add") >= 4 }) {
		t.Fatal("no adds")
	}
	if p := e.up.peakInflight(); p != 2 {
		t.Fatalf("%d adds at once with 2 allowed", p)
	}
	pace(t, e.db, "upstream", 8, 0)
	if !waitFor(func() bool { return paceOf(t, e.w, "upstream").Concurrency == 8 }) {
		t.Fatalf("pace %+v: the new concurrency was not applied", paceOf(t, e.w, "upstream"))
	}
	for range 40 {
		e.place("", 100)
	}
	if !waitFor(func() bool { return e.up.peakInflight() > 2 }) {
		t.Errorf("at most %d adds at once after the concurrency was raised to 8", e.up.peakInflight())
	}
	stop()
	if p := e.up.peakInflight(); p > 8 {
		t.Errorf("%d adds at once, want at most 8", p)
	}
}

// A cap a minute spreads the calls out: with 600 a minute, 6 calls take
// at least half a second, one every 100 ms.
func TestPerMinuteCap(t *testing.T) {
	e := newEnv(t, classic)
	pace(t, e.db, "upstream", 16, 600)
	for range 6 {
		e.place("", 100)
	}
	start := time.Now()
	e.tick()
	if took := time.Since(start); took < 450*time.Millisecond {
		t.Errorf("6 adds at 600 a minute took %v, want 0.5 s or more", took)
	}
	if n := e.up.count("add"); n != 6 {
		t.Errorf("%d adds, want 6", n)
	}
}
