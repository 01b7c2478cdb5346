package store_test

import (
	"fmt"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestForwardedCancels(t *testing.T) {
	f := newFixture(t, 10_000_000)
	accept := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	refuse := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	mid := f.add(t, f.acct.ID, store.TypeDefault, 1000) // claimed, not yet accepted: waits
	upAccept := f.dispatch(t, accept)
	f.dispatch(t, refuse)
	f.db.ClaimOrder(ctx, mid)
	for _, id := range []string{accept, refuse, mid} {
		if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := f.db.DueCancels(ctx, 0, 10, nil)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("DueCancels = %+v, %v; want the two accepted orders", jobs, err)
	}
	if jobs[0].OrderID != accept || jobs[0].UpstreamID != upAccept || jobs[0].Provider.Name != "upstream" {
		t.Errorf("job = %+v", jobs[0])
	}
	if err := f.db.CancelsSent(ctx, []string{accept, refuse}); err != nil {
		t.Fatal(err)
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, accept); req.Status != "sent" {
		t.Errorf("request = %+v, want sent", req)
	}
	if err := f.db.DeferCancels(ctx, []store.Deferral{{ID: refuse, Next: 900, Note: "timeout"}}, 3); err != nil {
		t.Fatal(err)
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, refuse); req.Status != "sent" || req.Error != "timeout" {
		t.Errorf("deferred request = %+v, want still open with the note", req)
	}
	if jobs, _ := f.db.DueCancels(ctx, 899, 10, nil); len(jobs) != 1 || jobs[0].OrderID != accept {
		t.Errorf("before 900 only %s is due: %+v", accept, jobs)
	}
	if err := f.db.CancelsSent(ctx, nil); err != nil {
		t.Errorf("CancelsSent(nil) = %v", err)
	}

	for range 2 { // the second call changes nothing
		if err := f.db.CancelAccepted(ctx, accept); err != nil {
			t.Fatal(err)
		}
	}
	if o := f.order(t, accept); o.Status != store.StatusCancelled || o.Remains != o.Units {
		t.Errorf("accepted cancel left %s remains %d", o.Status, o.Remains)
	}
	if n := f.refunds(t, accept); n != 1 {
		t.Errorf("%d refund rows, want 1", n)
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, accept); req.Status != "accepted" {
		t.Errorf("request = %+v, want accepted", req)
	}

	if err := f.db.CancelRefused(ctx, refuse, "order already started"); err != nil {
		t.Fatal(err)
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, refuse); req.Status != "refused" || req.Error != "order already started" {
		t.Errorf("request = %+v, want refused with the reason", req)
	}
	if o := f.order(t, refuse); o.Status != store.StatusProcessing {
		t.Errorf("refused cancel left %s, want processing", o.Status)
	}
	// A cancel accepted after the order already ended partial pays nothing more.
	f.db.ApplyStatuses(ctx, []store.StatusUpdate{{OrderID: refuse, UpstreamStatus: store.UpstreamStatus{Status: store.StatusPartial, Remains: 500, HasRemains: true}}}, 0)
	if err := f.db.CancelAccepted(ctx, refuse); err != nil {
		t.Fatal(err)
	}
	if o := f.order(t, refuse); o.Status != store.StatusPartial {
		t.Errorf("status = %s, want partial", o.Status)
	}
	if err := f.db.CancelAccepted(ctx, store.NewID(store.PrefixOrder)); store.ErrorCode(err) != store.NotFound {
		t.Errorf("CancelAccepted(unknown) = %v", err)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000-3*900_000+900_000+450_000 {
		t.Errorf("balance = %d, want %d", got, 10_000_000-3*900_000+900_000+450_000)
	}
	f.checkLedger(t, f.acct.ID)
	storetest.Audit(t, f.db)
}

func TestWorkerRefills(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 100)
	upOrder := f.dispatch(t, id)
	f.db.ApplyStatuses(ctx, []store.StatusUpdate{{OrderID: id, UpstreamStatus: store.UpstreamStatus{Status: store.StatusCompleted}}}, 0)
	ref, err := f.refill(t, f.acct.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	refill := func() store.Refill {
		t.Helper()
		got, err := f.db.Refills(ctx, f.acct.ID, []string{ref})
		if err != nil {
			t.Fatal(err)
		}
		return got[ref]
	}
	jobs, err := f.db.DueRefills(ctx, 0, 10, nil)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("DueRefills = %+v, %v", jobs, err)
	}
	if j := jobs[0]; j.RefillID != ref || j.Status != store.RefillPending || j.UpstreamRefillID != "" || j.OrderUpstreamID != upOrder {
		t.Errorf("job = %+v", j)
	}
	steps := []struct {
		name                    string
		upstreamID, status, raw string
		want                    string
	}{
		{"Taken", "r-9", "", "", store.RefillProcessing},
		{"Unknown", "", "", "Weird", store.RefillProcessing},
		{"Working", "", store.RefillProcessing, "In progress", store.RefillProcessing},
		{"Done", "", store.RefillCompleted, "Completed", store.RefillCompleted},
		{"NeverLeavesCompleted", "", store.RefillRejected, "Rejected", store.RefillCompleted},
	}
	for _, s := range steps {
		if err := f.db.RefillUpdate(ctx, ref, s.upstreamID, s.status, s.raw, 120); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := refill(); got.Status != s.want {
			t.Errorf("%s: refill is %s, want %s", s.name, got.Status, s.want)
		}
	}
	if jobs, _ := f.db.DueRefills(ctx, 1000, 10, nil); len(jobs) != 0 {
		t.Errorf("a finished refill is due: %+v", jobs)
	}
	err = f.db.RefillUpdate(ctx, store.NewID(store.PrefixRefill), "", store.RefillCompleted, "", 0)
	wantErr(t, err, store.NotFound, "Refill not found")

	// A failed call is retried later; a hopeless one ends rejected, and
	// frees the order for another refill.
	second, err := f.refill(t, f.acct.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.DeferRefill(ctx, second, 500, "timeout", false); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := f.db.DueRefills(ctx, 499, 10, nil); len(jobs) != 0 {
		t.Errorf("deferred refill due early: %+v", jobs)
	}
	if jobs, _ := f.db.DueRefills(ctx, 500, 10, nil); len(jobs) != 1 {
		t.Errorf("deferred refill not due at 500: %+v", jobs)
	}
	if err := f.db.DeferRefill(ctx, second, 0, "order not found upstream", true); err != nil {
		t.Fatal(err)
	}
	got, _ := f.db.Refills(ctx, f.acct.ID, []string{second})
	if got[second].Status != store.RefillRejected {
		t.Errorf("refill = %+v, want rejected", got[second])
	}
	if _, err := f.refill(t, f.acct.ID, id); err != nil {
		t.Errorf("refill after a rejected one: %v", err)
	}
}

// A cancel the provider never answers is given up on after the limit: the
// request is closed as refused with the last note, and the order goes on.
func TestDeferCancelsGivesUp(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.dispatch(t, id)
	if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := f.db.DeferCancels(ctx, []store.Deferral{{ID: id, Next: 900, Note: fmt.Sprint("timeout ", i+1)}}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, id); req.Status != "refused" || req.Error != "timeout 2" {
		t.Errorf("request = %+v, want refused after 2 tries", req)
	}
	if jobs, _ := f.db.DueCancels(ctx, 10_000, 10, nil); len(jobs) != 0 {
		t.Errorf("a given-up request is still due: %+v", jobs)
	}
	if o := f.order(t, id); o.Status != store.StatusProcessing {
		t.Errorf("order %s, want it to go on", o.Status)
	}
	storetest.Audit(t, f.db)
}
