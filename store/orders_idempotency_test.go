package store_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestPlaceOrderIdempotency(t *testing.T) {
	base := func(f *fixture) store.OrderInput {
		return store.OrderInput{ServiceID: f.svc[store.TypeDefault].ID, RequestID: "retry-me",
			Link: "https://instagram.com/p/abc", Quantity: "1000"}
	}
	t.Run("SameParametersSameOrderChargedOnce", func(t *testing.T) {
		f := newFixture(t, 10_000_000)
		first, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			again, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
			if err != nil || again != first {
				t.Fatalf("retry = %q, %v; want %q", again, err, first)
			}
		}
		if got, want := f.balance(t, f.acct.ID), int64(10_000_000-900_000); got != want {
			t.Errorf("balance = %d, want %d (charged once)", got, want)
		}
		if n := f.count(t, `SELECT count(*) FROM orders`); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}
		if n := f.count(t, `SELECT count(*) FROM ledger WHERE kind = 'charge'`); n != 1 {
			t.Errorf("%d charge rows, want 1", n)
		}
	})

	t.Run("DifferentParametersConflict", func(t *testing.T) {
		f := newFixture(t, 10_000_000)
		first, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
		if err != nil {
			t.Fatal(err)
		}
		changes := map[string]func(in *store.OrderInput){
			"Quantity": func(in *store.OrderInput) { in.Quantity = "1001" },
			"Link":     func(in *store.OrderInput) { in.Link += "/" },
			"Service":  func(in *store.OrderInput) { in.ServiceID = f.svc["NoRefill"].ID },
			"Runs":     func(in *store.OrderInput) { in.Runs, in.Interval = "2", "5" },
			"Comments": func(in *store.OrderInput) { in.Comments = "x" },
			// Field boundaries are part of the fingerprint.
			"ShiftedText": func(in *store.OrderInput) { in.Username, in.AnswerNumber = "ab", "" },
		}
		for name, change := range changes {
			t.Run(name, func(t *testing.T) {
				in := base(f)
				change(&in)
				id, err := f.db.PlaceOrder(ctx, f.acct.ID, in)
				if id != "" {
					t.Errorf("got order %q", id)
				}
				wantErr(t, err, store.Conflict, "request_id already used with different parameters")
				if !errors.Is(err, store.ErrRequestIDReused) {
					t.Errorf("err = %v, want ErrRequestIDReused", err)
				}
			})
		}
		if n := f.count(t, `SELECT count(*) FROM orders`); n != 1 {
			t.Errorf("%d orders, want only %s", n, first)
		}
		f.checkLedger(t, f.acct.ID)
	})

	t.Run("ScopedToAccount", func(t *testing.T) {
		f := newFixture(t, 10_000_000)
		bob := fundedAccount(t, f, "bob", 10_000_000)
		a, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.db.PlaceOrder(ctx, bob, base(f))
		if err != nil {
			t.Fatal(err)
		}
		if a == b {
			t.Errorf("two accounts with one request_id share order %s", a)
		}
		if got := f.balance(t, bob); got != 9_100_000 {
			t.Errorf("bob's balance = %d, want 9100000", got)
		}
	})

	t.Run("InsufficientBalanceDoesNotBurnRequestID", func(t *testing.T) {
		f := newFixture(t, 899_999)
		_, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
		wantErr(t, err, store.Invalid, "Insufficient balance")
		if _, err := f.db.AddFunds(ctx, "alice", 1, "top-up"); err != nil {
			t.Fatal(err)
		}
		id, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
		if err != nil {
			t.Fatalf("same request_id after funding: %v", err)
		}
		if got := f.balance(t, f.acct.ID); got != 0 {
			t.Errorf("balance = %d, want 0", got)
		}
		if o := f.order(t, id); o.Charge != 900_000 {
			t.Errorf("charge = %d, want 900000", o.Charge)
		}
		f.checkLedger(t, f.acct.ID)
	})

	t.Run("ValidationErrorDoesNotBurnRequestID", func(t *testing.T) {
		f := newFixture(t, 10_000_000)
		in := base(f)
		in.Quantity = "1"
		_, err := f.db.PlaceOrder(ctx, f.acct.ID, in)
		wantErr(t, err, store.Invalid, "Quantity less than minimal 50")
		if _, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f)); err != nil {
			t.Errorf("corrected add with the same request_id: %v", err)
		}
	})

	t.Run("RetryAnsweredAfterServiceDisabled", func(t *testing.T) {
		f := newFixture(t, 10_000_000)
		first, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
		if err != nil {
			t.Fatal(err)
		}
		off := false
		if _, err := f.db.UpdateService(ctx, f.svc[store.TypeDefault].ID, store.ServicePatch{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		again, err := f.db.PlaceOrder(ctx, f.acct.ID, base(f))
		if err != nil || again != first {
			t.Errorf("retry = %q, %v; want %q", again, err, first)
		}
		in := base(f)
		in.RequestID = "new"
		_, err = f.db.PlaceOrder(ctx, f.acct.ID, in)
		wantErr(t, err, store.NotFound, "Service not found")
	})

	t.Run("RequestIDOf128Characters", func(t *testing.T) {
		f := newFixture(t, 10_000_000)
		in := base(f)
		in.RequestID = strings.Repeat("я", 128) // 256 bytes: the limit counts characters
		first, err := f.db.PlaceOrder(ctx, f.acct.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := f.db.PlaceOrder(ctx, f.acct.ID, in); err != nil || again != first {
			t.Errorf("retry = %q, %v; want %q", again, err, first)
		}
	})
}

func TestOrdersLookup(t *testing.T) {
	f := newFixture(t, 10_000_000)
	bob := fundedAccount(t, f, "bob", 10_000_000)
	mine := f.add(t, f.acct.ID, store.TypeDefault, 100)
	theirs := f.add(t, bob, store.TypeDefault, 100)
	missing := store.NewID(store.PrefixOrder)

	got, err := f.db.OrderStatuses(ctx, f.acct.ID, []string{strings.ToLower(mine), theirs, missing, "garbage", "", "ref_" + mine[4:]})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got[mine]; len(got) != 1 || !ok {
		t.Errorf("OrderStatuses = %v, want only %s (another account's id must look absent)", got, mine)
	}
	if o := got[mine]; o.Status != store.StatusPending || o.Charge != 90_000 || o.Remains != 100 {
		t.Errorf("order = %+v, want pending, charge 90000, remains 100", o)
	}
	if got, err := f.db.OrderStatuses(ctx, f.acct.ID, []string{"nope"}); err != nil || len(got) != 0 {
		t.Errorf("OrderStatuses of only bad ids = %v, %v; want empty", got, err)
	}

	o, err := f.db.FindOrder(ctx, mine)
	if err != nil || o.ID != mine {
		t.Fatalf("FindOrder(id) = %v, %v", o.ID, err)
	}
	if byNumber, err := f.db.FindOrder(ctx, strconv.FormatInt(o.Number, 10)); err != nil || byNumber.ID != mine {
		t.Errorf("FindOrder(%d) = %q, %v; want %s", o.Number, byNumber.ID, err, mine)
	}
	for _, ref := range []string{missing, "999999", "garbage"} {
		_, err := f.db.FindOrder(ctx, ref)
		wantErr(t, err, store.NotFound, "Order not found")
	}

	third := f.add(t, f.acct.ID, store.TypeDefault, 50)
	f.setStatus(t, third, store.StatusInProgress)
	tests := []struct {
		name   string
		filter store.OrderFilter
		want   []string
	}{
		{"AllNewestFirst", store.OrderFilter{Scope: store.Operator}, []string{third, theirs, mine}},
		{"ByAccount", store.OrderFilter{Scope: store.Customer(f.acct.ID)}, []string{third, mine}},
		{"ByStatus", store.OrderFilter{Scope: store.Operator, Status: store.StatusPending}, []string{theirs, mine}},
		{"Limit", store.OrderFilter{Scope: store.Operator, Limit: 1}, []string{third}},
		{"Nothing", store.OrderFilter{Scope: store.Operator, Status: store.StatusFailed}, []string{}},
		{"PageAfterNewest", store.OrderFilter{Scope: store.Customer(f.acct.ID), Before: f.order(t, third).Number}, []string{mine}},
		{"SearchByID", store.OrderFilter{Scope: store.Customer(f.acct.ID), Search: strings.ToLower(mine)}, []string{mine}},
		{"SearchByNumber", store.OrderFilter{Scope: store.Customer(f.acct.ID), Search: strconv.FormatInt(f.order(t, third).Number, 10)}, []string{third}},
		{"SearchOthersIDFindsNothing", store.OrderFilter{Scope: store.Customer(f.acct.ID), Search: theirs}, []string{}},
		{"SearchByLink", store.OrderFilter{Scope: store.Customer(f.acct.ID), Search: "instagram.com/p"}, []string{third, mine}},
		{"SearchLikeIsLiteral", store.OrderFilter{Scope: store.Customer(f.acct.ID), Search: "%"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := f.db.ListOrders(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, o := range list {
				got = append(got, o.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ListOrders = %v, want %v", got, tt.want)
			}
		})
	}
}

// Every balance change writes exactly one ledger row whose balance_after is
// the new balance.
func TestLedgerRowPerChange(t *testing.T) {
	f := newFixture(t, 0)
	steps := []struct {
		name     string
		do       func(t *testing.T)
		wantKind string
		wantAmt  int64
	}{
		{"Deposit", func(t *testing.T) { f.db.AddFunds(ctx, "alice", 5_000_000, "card") }, store.KindDeposit, 5_000_000},
		{"Charge", func(t *testing.T) { f.add(t, f.acct.ID, store.TypeDefault, 1000) }, store.KindCharge, -900_000},
		{"CancelRefund", func(t *testing.T) {
			f.db.CancelOrders(ctx, store.Customer(f.acct.ID), []string{f.lastOrder(t)})
		}, store.KindRefund, 900_000},
		{"Adjustment", func(t *testing.T) { f.db.AddFunds(ctx, "1", -1_000_000, "chargeback") }, store.KindAdjustment, -1_000_000},
		{"SecondCharge", func(t *testing.T) { f.add(t, f.acct.ID, store.TypeDefault, 50) }, store.KindCharge, -45_000},
		{"OperatorRefund", func(t *testing.T) { f.db.RefundOrder(ctx, f.lastOrder(t), "") }, store.KindRefund, 45_000},
	}
	var balance int64
	for i, s := range steps {
		s.do(t)
		rows := f.checkLedger(t, f.acct.ID)
		if len(rows) != i+1 {
			t.Fatalf("after %s: %d ledger rows, want %d", s.name, len(rows), i+1)
		}
		last := rows[i]
		balance += s.wantAmt
		if last.Kind != s.wantKind || last.Amount != s.wantAmt || last.BalanceAfter != balance {
			t.Errorf("after %s: last row %+v, want %s %d → %d", s.name, last, s.wantKind, s.wantAmt, balance)
		}
	}
	storetest.Audit(t, f.db)
}

func (f *fixture) lastOrder(t *testing.T) string {
	t.Helper()
	list, err := f.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator, Limit: 1})
	if err != nil || len(list) == 0 {
		t.Fatalf("no last order: %v", err)
	}
	return list[0].ID
}

func keys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}
