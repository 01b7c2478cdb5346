package store_test

import (
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// parkedOrder places an order, claims it and parks it, as after a dispatch
// whose outcome is unknown.
func (f *fixture) parkedOrder(t *testing.T) string {
	t.Helper()
	id := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	if ok, err := f.db.ClaimOrder(ctx, id); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := f.db.ParkOrder(ctx, id, "timeout after send"); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestResolveParkedOrder(t *testing.T) {
	const charge = 900_000
	tests := []struct {
		name        string
		cancelFirst bool
		resolve     func(f *fixture, ref string) error
		wantStatus  string
		wantClaimed bool
		wantRefund  bool
	}{
		{"Resend", false, func(f *fixture, ref string) error { return f.db.ResolveResend(ctx, ref) }, store.StatusPending, false, false},
		// Nothing was sent and the customer asked to cancel: cancelled, not resent.
		{"ResendCancelledByCustomer", true, func(f *fixture, ref string) error { return f.db.ResolveResend(ctx, ref) }, store.StatusCancelled, true, true},
		{"Fail", false, func(f *fixture, ref string) error { return f.db.ResolveFail(ctx, ref, "") }, store.StatusFailed, true, true},
		{"FailCancelledByCustomer", true, func(f *fixture, ref string) error { return f.db.ResolveFail(ctx, ref, "not there") }, store.StatusCancelled, true, true},
		{"UpstreamID", false, func(f *fixture, ref string) error { return f.db.ResolveUpstreamID(ctx, ref, "4242", 60) }, store.StatusProcessing, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 10_000_000)
			id := f.parkedOrder(t)
			if tt.cancelFirst {
				if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
					t.Fatal(err)
				}
			}
			// The operator addresses orders by number too.
			if err := tt.resolve(f, itoa(f.order(t, id).Number)); err != nil {
				t.Fatalf("resolve: %v", err)
			}
			o := f.order(t, id)
			if o.Status != tt.wantStatus || o.Claimed != tt.wantClaimed || o.Review != "" {
				t.Errorf("order %s claimed %v review %q; want %s claimed %v, out of review", o.Status, o.Claimed, o.Review, tt.wantStatus, tt.wantClaimed)
			}
			want := int64(10_000_000 - charge)
			if tt.wantRefund {
				want = 10_000_000
			}
			if got := f.balance(t, f.acct.ID); got != want {
				t.Errorf("balance = %d, want %d", got, want)
			}
			// A second resolution of any kind is refused and moves no money.
			for _, again := range []func(string) error{
				func(ref string) error { return f.db.ResolveFail(ctx, ref, "") },
				func(ref string) error { return f.db.ResolveResend(ctx, ref) },
				func(ref string) error { return f.db.ResolveUpstreamID(ctx, ref, "1", 0) },
			} {
				wantErr(t, again(id), store.Invalid, "Order "+id+" is not waiting for review (status "+o.Status+")")
			}
			if got := f.balance(t, f.acct.ID); got != want {
				t.Errorf("balance = %d after repeated resolutions, want %d", got, want)
			}
			f.checkLedger(t, f.acct.ID)
			storetest.Audit(t, f.db)
		})
	}
}

func TestResolveRefusals(t *testing.T) {
	f := newFixture(t, 10_000_000)
	for _, resolve := range []func(string) error{
		func(ref string) error { return f.db.ResolveFail(ctx, ref, "") },
		func(ref string) error { return f.db.ResolveResend(ctx, ref) },
		func(ref string) error { return f.db.ResolveUpstreamID(ctx, ref, "1", 0) },
	} {
		wantErr(t, resolve("nope"), store.NotFound, "Order not found")
	}
	id := f.parkedOrder(t)
	err := f.db.ResolveUpstreamID(ctx, id, "", 0)
	wantErr(t, err, store.Invalid, "empty upstream id")
	// The customer cannot get a refund around the review, nor the operator.
	_, err = f.db.RefundOrder(ctx, id, "")
	wantErr(t, err, store.Conflict, "Order "+id+" is being sent to its provider; try again when it has been")
	if o := f.order(t, id); o.Review == "" || o.Status != store.StatusPending {
		t.Errorf("order = %+v, want still parked", o)
	}
	if jobs, _ := f.db.DueDispatches(ctx, 1<<40, 10, nil); len(jobs) != 0 {
		t.Errorf("a parked order is due for dispatch: %+v", jobs)
	}
}
