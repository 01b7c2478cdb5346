package store_test

import (
	"fmt"
	"strconv"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestRefundOrder(t *testing.T) {
	const charge = 90_000 // 100 at 0.90 per 1000
	tests := []struct {
		name       string
		setup      func(t *testing.T, f *fixture, id string)
		wantAmount int64
		wantCode   store.Code
		wantErr    string // with %s for the order id
	}{
		{"PendingUnclaimed", func(t *testing.T, f *fixture, id string) {}, charge, "", ""},
		{"Processing", func(t *testing.T, f *fixture, id string) { f.setStatus(t, id, store.StatusProcessing) }, charge, "", ""},
		{"InProgress", func(t *testing.T, f *fixture, id string) { f.setStatus(t, id, store.StatusInProgress) }, charge, "", ""},
		{"Completed", func(t *testing.T, f *fixture, id string) { f.setStatus(t, id, store.StatusCompleted) }, charge, "", ""},
		{"PartialRefundsTheRest", func(t *testing.T, f *fixture, id string) {
			f.exec(t, `UPDATE orders SET status = 'partial', remains = 40 WHERE id = ?`, id)
			f.rawRefund(t, id, store.PartialRefund(charge, 40, 100))
		}, charge - 36_000, "", ""},
		{"PartialNotYetRefunded", func(t *testing.T, f *fixture, id string) {
			f.exec(t, `UPDATE orders SET status = 'partial', remains = 0 WHERE id = ?`, id)
		}, charge, "", ""},
		{"ClaimedPending", func(t *testing.T, f *fixture, id string) {
			f.exec(t, `UPDATE orders SET claimed_at = 1 WHERE id = ?`, id)
		}, 0, store.Conflict, "Order %s is being sent to its provider; try again when it has been"},
		{"Cancelled", func(t *testing.T, f *fixture, id string) {
			if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
				t.Fatal(err)
			}
		}, 0, store.Invalid, "Order %s is already cancelled and fully refunded"},
		{"Failed", func(t *testing.T, f *fixture, id string) {
			f.setStatus(t, id, store.StatusFailed)
			f.rawRefund(t, id, charge)
		}, 0, store.Invalid, "Order %s is already failed and fully refunded"},
		{"AlreadyRefunded", func(t *testing.T, f *fixture, id string) {
			if _, err := f.db.RefundOrder(ctx, id, ""); err != nil {
				t.Fatal(err)
			}
		}, 0, store.Invalid, "Order %s is already refunded and fully refunded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 10_000_000)
			id := f.add(t, f.acct.ID, store.TypeDefault, 100)
			tt.setup(t, f, id)
			before := f.order(t, id)
			balance := f.balance(t, f.acct.ID)
			refunds := f.refunds(t, id)

			amount, err := f.db.RefundOrder(ctx, strconv.FormatInt(before.Number, 10), "goodwill")
			if tt.wantErr != "" {
				wantErr(t, err, tt.wantCode, fmt.Sprintf(tt.wantErr, id))
				if o := f.order(t, id); o.Status != before.Status {
					t.Errorf("status %s → %s after a refused refund", before.Status, o.Status)
				}
				if got := f.balance(t, f.acct.ID); got != balance {
					t.Errorf("balance %d → %d after a refused refund", balance, got)
				}
			} else {
				if err != nil {
					t.Fatalf("RefundOrder: %v", err)
				}
				if amount != tt.wantAmount {
					t.Errorf("refunded %d, want %d", amount, tt.wantAmount)
				}
				if o := f.order(t, id); o.Status != store.StatusRefunded {
					t.Errorf("status = %s, want refunded", o.Status)
				}
				if got := f.balance(t, f.acct.ID); got != balance+tt.wantAmount {
					t.Errorf("balance = %d, want %d", got, balance+tt.wantAmount)
				}
				rows, _ := f.db.Ledger(ctx, 0, id)
				if last := rows[len(rows)-1]; last.Kind != store.KindRefund || last.Amount != tt.wantAmount || last.Note != "goodwill" {
					t.Errorf("last ledger row = %+v, want a refund of %d noted goodwill", last, tt.wantAmount)
				}
				if n := f.refunds(t, id); n != refunds+1 {
					t.Errorf("%d refund rows, want %d", n, refunds+1)
				}
			}
			f.checkLedger(t, f.acct.ID)
			storetest.Audit(t, f.db)
		})
	}
}

func TestRefundOrderEdgeCases(t *testing.T) {
	f := newFixture(t, 10_000_000)
	for _, ref := range []string{"999", store.NewID(store.PrefixOrder), "nonsense"} {
		_, err := f.db.RefundOrder(ctx, ref, "")
		wantErr(t, err, store.NotFound, "Order not found")
	}
	// A free order is refunded without a zero-amount ledger row.
	free := f.add(t, f.acct.ID, "Free", 10)
	f.setStatus(t, free, store.StatusCompleted)
	if amount, err := f.db.RefundOrder(ctx, free, ""); err != nil || amount != 0 {
		t.Errorf("RefundOrder(free) = %d, %v; want 0, nil", amount, err)
	}
	if n := f.refunds(t, free); n != 0 {
		t.Errorf("%d refund rows for a free order, want 0", n)
	}
	// Another account's order, by its id, with the default note.
	bob := fundedAccount(t, f, "bob", 1_000_000)
	theirs := f.add(t, bob, store.TypeDefault, 100)
	if amount, err := f.db.RefundOrder(ctx, theirs, ""); err != nil || amount != 90_000 {
		t.Errorf("RefundOrder(bob's) = %d, %v; want 90000", amount, err)
	}
	if rows, _ := f.db.Ledger(ctx, bob, theirs); rows[len(rows)-1].Note != "operator refund" {
		t.Errorf("note = %q, want operator refund", rows[len(rows)-1].Note)
	}
	if got := f.balance(t, bob); got != 1_000_000 {
		t.Errorf("bob's balance = %d, want 1000000", got)
	}
	storetest.Audit(t, f.db)
}
