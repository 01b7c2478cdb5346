package worker_test

import (
	"context"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/worker"
)

// The provider holds every request until the test lets one go, and only
// when as many as the cap are waiting (or every expected one has come): a
// worker over the cap shows as more requests in hand at once.
func TestPerProviderCap(t *testing.T) {
	const orders, limit = 9, 2
	e := newEnv(t, classic, func(c *worker.Config) { c.PerProvider = limit })
	for range orders {
		e.place("", 100)
	}
	gate, arrived := e.up.hold()
	done := make(chan struct{})
	go func() { e.tick(); close(done) }()
	held, seen := 0, 0
	for running := true; running; {
		select {
		case <-arrived:
			held++
			seen++
		case <-done:
			running = false
			continue
		}
		for held >= limit || held > 0 && seen == orders {
			gate <- struct{}{}
			held--
		}
	}
	if got := e.up.peakInflight(); got != limit {
		t.Errorf("at most %d calls in flight at once, want %d", got, limit)
	}
	if n := e.up.count("add"); n != orders {
		t.Errorf("%d adds, want %d", n, orders)
	}
	e.check()
}

// Run first parks dispatches a crash cut short, and once asked to stop it
// finishes the calls in flight and records them before it returns.
func TestRunRecoversAndStopsGracefully(t *testing.T) {
	e := newEnv(t, classic)
	interrupted := e.place("", 100)
	if _, err := e.db.ClaimOrder(ctx, interrupted); err != nil {
		t.Fatal(err)
	}
	id := e.place("", 200)
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	e.cfg.Hooks.AfterAdd = func(string, string) { cancel() }
	e.cfg.Interval = time.Hour
	e.w = worker.New(e.cfg)
	errc := make(chan error, 1)
	go func() { errc <- e.w.Run(stop) }()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if o := e.want(interrupted, store.StatusPending); o.Review == "" {
		t.Errorf("interrupted dispatch not parked: %+v", o)
	}
	if o := e.want(id, store.StatusProcessing); o.UpstreamID == "" {
		t.Errorf("the add in flight at the stop was not recorded: %+v", o)
	}
	if n := e.up.count("add"); n != 1 {
		t.Errorf("%d adds, want 1", n)
	}
	e.check()
}
