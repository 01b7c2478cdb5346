package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"notpanel/httpapi"
	"notpanel/server"
	"notpanel/simulator"
	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/worker"
)

// TestChain runs two notpanels in a row, A buying from B (in each dialect)
// and B from a simulated provider, on one clock: the customer at A sees the
// orders move and end with the right money, a cancel and a partial travel
// through both hops, and the last provider gets exactly one add per order.
func TestChain(t *testing.T) {
	for _, dialect := range []string{store.DialectNotpanel, store.DialectClassic} {
		t.Run(dialect, func(t *testing.T) { chain(t, dialect) })
	}
}

func chain(t *testing.T, dialect string) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Now())
	sim := simulator.New("sim-key", clock.Now, 7)
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()

	// B: a panel selling the simulator's followers to a reseller.
	b := storetest.Open(t)
	if _, err := b.AddProvider(ctx, store.Provider{Name: "sim", URL: simSrv.URL, APIKey: "sim-key"}); err != nil {
		t.Fatal(err)
	}
	bSvc, err := b.AddService(ctx, store.Service{Name: "Followers", Category: "Instagram", Type: store.TypeDefault,
		Rate: 1_000_000, Min: 50, Max: 10_000, Refill: true, Cancel: true, ProviderService: "1"}, "sim")
	if err != nil {
		t.Fatal(err)
	}
	_, resellerKey := storetest.Account(t, b, "reseller", 1_000_000_000)
	b.SetTier(ctx, store.Tier{Name: "wide", KeyPerMin: 1e6, AccountPerMin: 1e6})
	b.SetAccountTier(ctx, "reseller", "wide")
	bSrv := httptest.NewServer(server.New(server.Config{DB: b, Log: zerolog.Nop(), Now: clock.Now}, httpapi.New(httpapi.Config{DB: b, Log: zerolog.Nop(), Now: clock.Now})))
	defer bSrv.Close()

	// A: a panel buying from B.
	a := storetest.Open(t)
	path := "/api/v2"
	if dialect == store.DialectClassic {
		path = "/classic/api/v2"
	}
	if _, err := a.AddProvider(ctx, store.Provider{Name: "b", URL: bSrv.URL + path, APIKey: resellerKey, Dialect: dialect}); err != nil {
		t.Fatal(err)
	}
	aSvc, err := a.AddService(ctx, store.Service{Name: "Followers", Category: "Instagram", Type: store.TypeDefault,
		Rate: 2_000_000, Min: 50, Max: 10_000, Cancel: true, ProviderService: count(bSvc.ID)}, "b")
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := storetest.Account(t, a, "alice", 100_000_000)

	cfg := func(db *store.DB) worker.Config {
		return worker.Config{DB: db, Now: clock.Now, Jitter: func() float64 { return 0.5 }, SyncInterval: time.Second}
	}
	wa, wb := worker.New(cfg(a)), worker.New(cfg(b))
	tick := func(n int) {
		for range n {
			wa.Tick(ctx)
			wb.Tick(ctx)
			clock.Advance(5 * time.Second)
		}
	}
	place := func(req string, q int) string {
		id, err := a.PlaceOrder(ctx, alice.ID, store.OrderInput{ServiceID: aSvc.ID, RequestID: req,
			Link: "https://instagram.com/p/" + req, Quantity: count(int64(q))})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	status := func(id string) store.Order {
		o, err := a.FindOrder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	var ids []string
	for i := range 12 { // the simulator makes about one in ten partial
		ids = append(ids, place("o"+count(int64(i)), 1000))
	}
	tick(2)
	if o := status(ids[0]); o.Status != store.StatusProcessing && o.Status != store.StatusInProgress {
		t.Fatalf("after two passes the order is %s at A", o.Status)
	}
	cancelled := place("c", 2000) // cancelled while it is under way at the simulator
	tick(3)
	if res, err := a.CancelOrders(ctx, store.Customer(alice.ID), []string{cancelled}); err != nil || res[0].Err != nil {
		t.Fatalf("cancel: %v %v", err, res)
	}
	tick(40) // a few minutes: everything ends
	partials := 0
	for _, id := range append(ids, cancelled) {
		o := status(id)
		refunds, _ := a.Ledger(ctx, alice.ID, id)
		var refunded int64
		for _, l := range refunds {
			if l.Kind == store.KindRefund {
				refunded += l.Amount
			}
		}
		switch o.Status {
		case store.StatusCompleted:
			if refunded != 0 {
				t.Errorf("%s completed with %d refunded", id, refunded)
			}
		case store.StatusPartial:
			partials++
			if want := store.PartialRefund(o.Charge, o.Remains, o.Units); refunded != want || o.Remains == 0 {
				t.Errorf("%s partial (remains %d): refunded %d, want %d", id, o.Remains, refunded, want)
			}
		case store.StatusCancelled:
			if id != cancelled || refunded != o.Charge {
				t.Errorf("%s cancelled with %d of %d refunded", id, refunded, o.Charge)
			}
		default:
			t.Errorf("%s still %s at A after the simulator finished", id, o.Status)
		}
	}
	if o := status(cancelled); o.Status != store.StatusCancelled {
		t.Errorf("the cancel did not travel: %s", o.Status)
	}
	if partials == 0 {
		t.Errorf("no order ended partial: the simulator seed no longer makes one, so partials are not checked")
	}
	// One add per order at the simulator: 13 orders, 13 upstream orders.
	statusOfAll := sim.Orders()
	if statusOfAll != len(ids)+1 {
		t.Errorf("the simulator holds %d orders, want %d", statusOfAll, len(ids)+1)
	}
	storetest.Audit(t, a)
	storetest.Audit(t, b)
}
