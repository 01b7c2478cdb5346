package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"notpanel/fault"
	"notpanel/store"
	"notpanel/worker"
)

// The provider holds every request until the test lets one go, and only
// when as many as the cap are waiting (or every expected one has come): a
// worker over the cap shows as more requests in hand at once.
func TestPerProviderCap(t *testing.T) {
	const orders, limit = 9, 2
	e := newEnv(t, classic)
	pace(t, e.db, "upstream", limit, 0)
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
	t.Cleanup(fault.Set(fault.AfterAdd, func(string) { cancel() }))
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

// A provider that hangs holds up only its own orders: another provider's
// order goes out while the first one's calls are still waiting.
func TestSlowProviderDoesNotHoldOthers(t *testing.T) {
	e := newEnv(t, classic)
	pace(t, e.db, "upstream", 1, 0)
	other := newFakeProvider(t, false)
	addProvider(t, e.db, store.Provider{Name: "other", URL: other.srv.URL, APIKey: "k"})
	for range 3 {
		e.place("", 100) // to the slow provider, first in line
	}
	svc, err := e.db.AddService(ctx, store.Service{Name: "Other", Category: "X", Type: store.TypeDefault, Rate: 1000,
		Min: 1, Max: 1000, ProviderService: "7"}, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.PlaceOrder(ctx, e.acct.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "other",
		Link: "https://x.example/o", Quantity: "10"}); err != nil {
		t.Fatal(err)
	}
	slowGate, slowArrived := e.up.hold()
	otherGate, otherArrived := other.hold()
	done := make(chan struct{})
	go func() { e.tick(); close(done) }()
	<-slowArrived // the slow provider has its first call in hand, and keeps it
	select {
	case <-otherArrived:
		otherGate <- struct{}{}
	case <-time.After(5 * time.Second):
		t.Error("the other provider's order waited for the slow provider")
	}
	go func() {
		for range slowArrived {
		}
	}()
	for range 3 {
		slowGate <- struct{}{}
	}
	<-done
	if n := other.count("add"); n != 1 {
		t.Errorf("other provider got %d adds, want 1", n)
	}
	e.check()
}

func TestAlive(t *testing.T) {
	e := newEnv(t, classic)
	if err := e.w.Alive(); err == nil {
		t.Error("alive before any pass")
	}
	e.tick()
	if err := e.w.Alive(); err != nil {
		t.Errorf("after a pass: %v", err)
	}
	e.clock.Advance(time.Hour)
	if err := e.w.Alive(); err == nil || !strings.Contains(err.Error(), "ago") {
		t.Errorf("an hour without a pass: %v", err)
	}
}
