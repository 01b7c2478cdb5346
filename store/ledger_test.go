package store_test

import (
	"slices"
	"testing"

	"notpanel/store"
)

// pageThrough reads every page of size n and returns the rows' ids in the
// order the pages gave them.
func pageThrough(t *testing.T, n int, page func(before int64, limit int) ([]int64, error)) [][]int64 {
	t.Helper()
	var pages [][]int64
	var before int64
	for range 100 {
		ids, err := page(before, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 {
			pages = append(pages, ids)
		}
		if len(ids) < n {
			return pages
		}
		before = ids[len(ids)-1]
	}
	t.Fatal("paging does not end")
	return nil
}

func TestAccountLedger(t *testing.T) {
	f := newFixture(t, 0)
	bob := fundedAccount(t, f, "bob", 0)
	for i := range 5 {
		if _, err := f.db.AddFunds(ctx, "alice", int64(i+1)*1_000_000, "card"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.AddFunds(ctx, "bob", 1_000_000, "bank"); err != nil { // interleaved rows of another account
			t.Fatal(err)
		}
	}
	f.add(t, f.acct.ID, store.TypeDefault, 1000)
	all := f.checkLedger(t, f.acct.ID) // oldest first
	if len(all) != 6 {
		t.Fatalf("%d ledger rows, want 6", len(all))
	}
	want := make([]int64, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i].ID)
	}

	newest, err := f.db.AccountLedger(ctx, f.acct.ID, 0, 1)
	if err != nil || len(newest) != 1 || newest[0] != all[5] || newest[0].Kind != store.KindCharge || newest[0].OrderID == "" {
		t.Errorf("newest row = %+v, %v; want the charge of the order", newest, err)
	}
	pages := pageThrough(t, 2, func(before int64, limit int) ([]int64, error) {
		rows, err := f.db.AccountLedger(ctx, f.acct.ID, before, limit)
		ids := []int64{}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return ids, err
	})
	var got []int64
	for _, p := range pages {
		got = append(got, p...)
	}
	if len(pages) != 3 || !slices.Equal(got, want) {
		t.Errorf("pages of 2 = %v, want %v in 3 pages, newest first", pages, want)
	}
	for _, tt := range []struct {
		name   string
		before int64
		limit  int
		want   []int64
	}{
		{"ZeroLimitIsDefault", 0, 0, want},
		{"NegativeLimitIsDefault", 0, -1, want},
		{"BeforeTheOldest", all[0].ID, 10, []int64{}},
		{"BeforeOneInTheMiddle", all[3].ID, 10, want[3:]},
		{"BeforeABobRow", all[3].ID - 1, 10, want[3:]}, // ids between alice's rows are bob's
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := f.db.AccountLedger(ctx, f.acct.ID, tt.before, tt.limit)
			ids := []int64{}
			for _, r := range rows {
				ids = append(ids, r.ID)
			}
			if err != nil || !slices.Equal(ids, tt.want) {
				t.Errorf("AccountLedger(before %d, limit %d) = %v, %v; want %v", tt.before, tt.limit, ids, err, tt.want)
			}
		})
	}
	if rows, _ := f.db.AccountLedger(ctx, bob, 0, 100); len(rows) != 5 {
		t.Errorf("bob's ledger has %d rows, want his 5 deposits", len(rows))
	}
	if _, err := f.db.AccountLedger(ctx, 0, 0, 10); store.ErrorCode(err) != store.Internal {
		t.Errorf("AccountLedger without an account = %v, want an internal error, not every account's rows", err)
	}
}
