package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// refill asks for one refill and returns the new id or the row's error.
func (f *fixture) refill(t *testing.T, acct int64, id string) (string, error) {
	t.Helper()
	res, err := f.db.RequestRefills(ctx, store.Customer(acct), []string{id})
	if err != nil {
		t.Fatalf("RequestRefills: %v", err)
	}
	if len(res) != 1 || res[0].ID != id {
		t.Fatalf("results = %+v, want one row for %s", res, id)
	}
	return res[0].Result, res[0].Err
}

func TestRequestRefill(t *testing.T) {
	tests := []struct {
		name    string
		svc     string
		status  string
		wantErr string
	}{
		{"Completed", store.TypeDefault, store.StatusCompleted, ""},
		{"Partial", store.TypeDefault, store.StatusPartial, ""},
		{"Pending", store.TypeDefault, store.StatusPending, "Order cannot be refilled (pending)"},
		{"Processing", store.TypeDefault, store.StatusProcessing, "Order cannot be refilled (processing)"},
		{"InProgress", store.TypeDefault, store.StatusInProgress, "Order cannot be refilled (in_progress)"},
		{"Cancelled", store.TypeDefault, store.StatusCancelled, "Order cannot be refilled (cancelled)"},
		{"Refunded", store.TypeDefault, store.StatusRefunded, "Order cannot be refilled (refunded)"},
		{"Failed", store.TypeDefault, store.StatusFailed, "Order cannot be refilled (failed)"},
		{"ServiceWithoutRefill", "NoRefill", store.StatusCompleted, "Service does not support refill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 10_000_000)
			id := f.add(t, f.acct.ID, tt.svc, 100)
			f.setStatus(t, id, tt.status)
			balance := f.balance(t, f.acct.ID)
			ref, err := f.refill(t, f.acct.ID, id)
			if tt.wantErr != "" {
				wantErr(t, err, store.Invalid, tt.wantErr)
				if n := f.count(t, `SELECT count(*) FROM refills`); n != 0 {
					t.Errorf("%d refills after a refusal", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("refill: %v", err)
			}
			got, err := f.db.Refills(ctx, f.acct.ID, []string{ref})
			if err != nil {
				t.Fatal(err)
			}
			r := got[ref]
			if r.ID != ref || r.OrderID != id || r.AccountID != f.acct.ID || r.Status != store.RefillPending || r.Number == 0 {
				t.Errorf("refill = %+v, want pending for %s", r, id)
			}
			if got := f.balance(t, f.acct.ID); got != balance {
				t.Errorf("balance %d → %d: refills are free", balance, got)
			}
		})
	}
}

func TestRefillLimits(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.setStatus(t, id, store.StatusCompleted)
	finish := func(ref, status string) {
		f.exec(t, `UPDATE refills SET status = ? WHERE id = ?`, status, ref)
	}
	first, err := f.refill(t, f.acct.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	// One unfinished refill at a time, pending or processing.
	_, err = f.refill(t, f.acct.ID, id)
	wantErr(t, err, store.Invalid, "Order already has a refill in progress")
	finish(first, store.RefillProcessing)
	_, err = f.refill(t, f.acct.ID, id)
	wantErr(t, err, store.Invalid, "Order already has a refill in progress")
	finish(first, store.RefillCompleted)

	// Rejected refills do not count towards the three.
	second, err := f.refill(t, f.acct.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	finish(second, store.RefillRejected)
	third, err := f.refill(t, f.acct.ID, id)
	if err != nil {
		t.Fatalf("refill after a rejected one: %v", err)
	}
	finish(third, store.RefillCompleted)
	fourth, err := f.refill(t, f.acct.ID, id)
	if err != nil {
		t.Fatalf("third counted refill: %v", err)
	}
	finish(fourth, store.RefillCompleted)
	_, err = f.refill(t, f.acct.ID, id)
	wantErr(t, err, store.Invalid, "Refill limit reached (3 per order)")
	if n := f.count(t, `SELECT count(*) FROM refills WHERE order_id = ? AND status != 'rejected'`, id); n != store.MaxRefills {
		t.Errorf("%d counted refills, want %d", n, store.MaxRefills)
	}
}

func TestRefillsAcrossAccounts(t *testing.T) {
	f := newFixture(t, 10_000_000)
	bob := fundedAccount(t, f, "bob", 10_000_000)
	mine := f.add(t, f.acct.ID, store.TypeDefault, 100)
	theirs := f.add(t, bob, store.TypeDefault, 100)
	f.setStatus(t, mine, store.StatusCompleted)
	f.setStatus(t, theirs, store.StatusCompleted)

	for _, id := range []string{theirs, store.NewID(store.PrefixOrder), "garbage"} {
		_, err := f.refill(t, f.acct.ID, id)
		wantErr(t, err, store.NotFound, "Order not found")
	}
	myRef, err := f.refill(t, f.acct.ID, strings.ToLower(mine))
	if err != nil {
		t.Fatal(err)
	}
	theirRef, err := f.refill(t, bob, theirs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.db.Refills(ctx, f.acct.ID, []string{strings.ToLower(myRef), theirRef, store.NewID(store.PrefixRefill), "ref_x", mine})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[myRef].OrderID != mine {
		t.Errorf("Refills = %v, want only %s (bob's refill must look absent)", keys(got), myRef)
	}
	if got, err := f.db.Refills(ctx, f.acct.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("Refills(nil) = %v, %v", got, err)
	}
}

func TestRequestRefillsBulk(t *testing.T) {
	f := newFixture(t, 10_000_000)
	a := f.add(t, f.acct.ID, store.TypeDefault, 100)
	b := f.add(t, f.acct.ID, store.TypeDefault, 100)
	c := f.add(t, f.acct.ID, "NoRefill", 100)
	for _, id := range []string{a, b, c} {
		f.setStatus(t, id, store.StatusCompleted)
	}
	ids := []string{a, b, c, a, "nope"}
	res, err := f.db.RequestRefills(ctx, store.Customer(f.acct.ID), ids)
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := []string{"", "", "Service does not support refill", "Order already has a refill in progress", "Order not found"}
	for i, w := range wantErrs {
		var msg string
		if res[i].Err != nil {
			msg = store.ErrorMessage(res[i].Err)
		}
		if res[i].ID != ids[i] || msg != w || (w == "") != strings.HasPrefix(res[i].Result, store.PrefixRefill) {
			t.Errorf("row %d = %+v, want error %q", i, res[i], w)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM refills`); n != 2 {
		t.Errorf("%d refills, want 2", n)
	}
	storetest.Audit(t, f.db)
}
