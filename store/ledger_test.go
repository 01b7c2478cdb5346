package store_test

import (
	"slices"
	"testing"

	"notpanel/store"
)

// An account's ledger, paged newest first by its two-part cursor, gives
// every row once, in id order, at any page size: deposits, charges and the
// refunds of orders cancelled long after they were placed, with another
// account's rows in between.
func TestAccountLedger(t *testing.T) {
	f := newFixture(t, 0)
	bob := fundedAccount(t, f, "bob", 0)
	var orders []string
	for i := range 6 {
		if _, err := f.db.AddFunds(ctx, "alice", int64(i+1)*1_000_000, "card"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.AddFunds(ctx, "bob", 1_000_000, "bank"); err != nil { // another account's rows in between
			t.Fatal(err)
		}
		orders = append(orders, f.add(t, f.acct.ID, store.TypeDefault, 1000))
		f.add(t, bob, store.TypeDefault, 100)
	}
	// The first orders are cancelled last: their refunds are the newest
	// rows, while their charges are among the oldest.
	for _, id := range orders[:3] {
		if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
			t.Fatal(err)
		}
	}
	all := f.checkLedger(t, f.acct.ID) // oldest first
	if len(all) != 6+6+3 {
		t.Fatalf("%d ledger rows, want 15", len(all))
	}
	want := make([]int64, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i].ID)
	}
	for _, size := range []int{1, 2, 3, 4, 7, 14, 15, 16, 100} {
		var got []int64
		var at store.LedgerCursor
		for page := 0; ; page++ {
			rows, next, more, err := f.db.AccountLedger(ctx, f.acct.ID, at, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) > size || len(rows) < size && more {
				t.Fatalf("size %d: page %d has %d rows, more %v", size, page, len(rows), more)
			}
			for _, r := range rows {
				got = append(got, r.ID)
			}
			if !more {
				break
			}
			if page > 20 {
				t.Fatal("paging does not end")
			}
			at = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of %d = %v, want %v", size, got, want)
		}
	}
	newest, _, _, err := f.db.AccountLedger(ctx, f.acct.ID, store.LedgerCursor{}, 1)
	if err != nil || len(newest) != 1 || newest[0].Kind != store.KindRefund || newest[0].OrderID != orders[2] {
		t.Errorf("newest row = %+v, %v; want the refund of the last cancel", newest, err)
	}
	for _, limit := range []int{0, -1} {
		if rows, _, more, _ := f.db.AccountLedger(ctx, f.acct.ID, store.LedgerCursor{}, limit); len(rows) != 15 || more {
			t.Errorf("limit %d gives %d rows (more %v), want the default page of up to 100", limit, len(rows), more)
		}
	}
	if rows, _, _, _ := f.db.AccountLedger(ctx, bob, store.LedgerCursor{}, 100); len(rows) != 12 {
		t.Errorf("bob's ledger has %d rows, want his 6 deposits and 6 charges", len(rows))
	}
	if _, _, _, err := f.db.AccountLedger(ctx, 0, store.LedgerCursor{}, 10); store.ErrorCode(err) != store.Internal {
		t.Errorf("AccountLedger without an account = %v, want an internal error, not every account's rows", err)
	}
}
