package store_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// race runs fn(i) for i in [0, n) on n goroutines released at once.
func race(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func TestConcurrentIdenticalAdds(t *testing.T) {
	f := newFixture(t, 10_000_000)
	in := store.OrderInput{ServiceID: f.svc[store.TypeDefault].ID, RequestID: "same",
		Link: "https://instagram.com/p/abc", Quantity: "1000"}
	ids := make([]string, 100)
	errs := make([]error, 100)
	race(100, func(i int) { ids[i], errs[i] = f.db.PlaceOrder(ctx, f.acct.ID, in) })
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("add #%d = %q, %v; want %q like the first", i, ids[i], errs[i], ids[0])
		}
	}
	if n := f.count(t, `SELECT count(*) FROM orders`); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM ledger WHERE kind = 'charge'`); n != 1 {
		t.Errorf("%d charge rows, want 1", n)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000-900_000 {
		t.Errorf("balance = %d, want %d", got, 10_000_000-900_000)
	}
	storetest.Audit(t, f.db)
}

// A CLI and a server on one file are two store.DBs: the request_id still
// holds across them.
func TestConcurrentIdenticalAddsTwoHandles(t *testing.T) {
	f := newFixture(t, 10_000_000)
	other := storetest.OpenPath(t, f.db.Path())
	in := store.OrderInput{ServiceID: f.svc[store.TypeDefault].ID, RequestID: "same",
		Link: "https://instagram.com/p/abc", Quantity: "1000"}
	ids := make([]string, 40)
	errs := make([]error, 40)
	race(40, func(i int) {
		db := f.db
		if i%2 == 1 {
			db = other
		}
		ids[i], errs[i] = db.PlaceOrder(ctx, f.acct.ID, in)
	})
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("add #%d = %q, %v; want %q like the first", i, ids[i], errs[i], ids[0])
		}
	}
	if n := f.count(t, `SELECT count(*) FROM orders`); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	storetest.Audit(t, f.db)
}

func TestConcurrentCancels(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	var ok, already atomic.Int32
	race(50, func(int) {
		res, err := f.db.CancelOrders(ctx, store.Customer(f.acct.ID), []string{id})
		switch {
		case err != nil:
			t.Errorf("CancelOrders: %v", err)
		case res[0].Err == nil:
			ok.Add(1)
		case store.ErrorMessage(res[0].Err) == "Order cannot be cancelled (already cancelled)":
			already.Add(1)
		default:
			t.Errorf("cancel: %v", res[0].Err)
		}
	})
	if ok.Load() != 1 || already.Load() != 49 {
		t.Errorf("%d cancels succeeded and %d saw it cancelled, want 1 and 49", ok.Load(), already.Load())
	}
	if n := f.refunds(t, id); n != 1 {
		t.Errorf("%d refund rows, want exactly 1", n)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000 {
		t.Errorf("balance = %d, want 10000000 (refunded once)", got)
	}
	storetest.Audit(t, f.db)
}

// The customer cancels while the operator refunds: the money goes back once.
func TestConcurrentCancelAndOperatorRefund(t *testing.T) {
	f := newFixture(t, 10_000_000)
	ids := []string{f.add(t, f.acct.ID, store.TypeDefault, 1000), f.add(t, f.acct.ID, store.TypeDefault, 500)}
	race(40, func(i int) {
		id := ids[i%2]
		if i%4 < 2 {
			f.db.CancelOrders(ctx, store.Customer(f.acct.ID), []string{id})
		} else {
			f.db.RefundOrder(ctx, id, "")
		}
	})
	for _, id := range ids {
		if n := f.refunds(t, id); n != 1 {
			t.Errorf("%s: %d refund rows, want exactly 1", id, n)
		}
		if s := f.order(t, id).Status; s != store.StatusCancelled && s != store.StatusRefunded {
			t.Errorf("%s is %s, want cancelled or refunded", id, s)
		}
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000 {
		t.Errorf("balance = %d, want 10000000", got)
	}
	storetest.Audit(t, f.db)
}

func TestConcurrentAddsBeyondBalance(t *testing.T) {
	const start = 2_000_000
	f := newFixture(t, start)
	quantities := make([]int64, 60)
	for i := range quantities {
		quantities[i] = 50 + int64(i*37%400) // charges from 0.045 to 0.404
	}
	ids := make([]string, len(quantities))
	errs := make([]error, len(quantities))
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() { // the balance is never seen below zero
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b, err := f.db.Balance(ctx, f.acct.ID); err != nil || b < 0 {
				t.Errorf("balance seen at %d (%v)", b, err)
				return
			}
		}
	}()
	race(len(quantities), func(i int) {
		ids[i], errs[i] = f.db.PlaceOrder(ctx, f.acct.ID, store.OrderInput{
			ServiceID: f.svc[store.TypeDefault].ID, RequestID: fmt.Sprint("r", i),
			Link: "https://instagram.com/p/abc", Quantity: fmt.Sprint(quantities[i])})
	})
	close(stop)
	<-watched

	final := f.balance(t, f.acct.ID)
	var charged int64
	successes := 0
	for i, err := range errs {
		charge, _ := store.Charge(900_000, quantities[i])
		switch {
		case err == nil:
			successes++
			charged += f.order(t, ids[i]).Charge
		case store.ErrorMessage(err) != "Insufficient balance":
			t.Errorf("add %d: %v", i, err)
		case charge <= final:
			t.Errorf("add %d of %d was refused while %d was left", i, charge, final)
		}
	}
	if successes == 0 || successes == len(quantities) {
		t.Fatalf("%d of %d adds succeeded; the test needs some of each", successes, len(quantities))
	}
	if final < 0 || charged != start-final {
		t.Errorf("balance %d → %d but orders charged %d", start, final, charged)
	}
	if n := f.count(t, `SELECT count(*) FROM orders`); n != successes {
		t.Errorf("%d orders, want %d (one per successful add)", n, successes)
	}
	f.checkLedger(t, f.acct.ID)
	storetest.Audit(t, f.db)
}
