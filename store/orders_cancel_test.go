package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// cancel cancels one order and returns the row's error.
func (f *fixture) cancel(t *testing.T, scope store.Scope, id string) error {
	t.Helper()
	res, err := f.db.CancelOrders(ctx, scope, []string{id})
	if err != nil {
		t.Fatalf("CancelOrders: %v", err)
	}
	if len(res) != 1 || res[0].ID != id {
		t.Fatalf("CancelOrders results = %+v, want one row for %s", res, id)
	}
	if res[0].Err == nil && res[0].Result != id {
		t.Errorf("result = %q, want %q", res[0].Result, id)
	}
	return res[0].Err
}

func (f *fixture) refunds(t *testing.T, id string) int {
	return f.count(t, `SELECT count(*) FROM ledger WHERE order_id = ? AND kind = 'refund'`, id)
}

func TestCancelPendingRefundsAtOnce(t *testing.T) {
	for _, svc := range []string{store.TypeDefault, "NoCancel", store.TypePackage, "Free"} {
		t.Run(strings.ReplaceAll(svc, " ", ""), func(t *testing.T) {
			f := newFixture(t, 10_000_000)
			id := f.add(t, f.acct.ID, svc, 100)
			charge := f.order(t, id).Charge
			if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			o := f.order(t, id)
			if o.Status != store.StatusCancelled || o.Remains != o.Units {
				t.Errorf("status %s remains %d, want cancelled with remains %d", o.Status, o.Remains, o.Units)
			}
			if got := f.balance(t, f.acct.ID); got != 10_000_000 {
				t.Errorf("balance = %d, want 10000000 (charge %d refunded)", got, charge)
			}
			rows, _ := f.db.Ledger(ctx, 0, id)
			var refunded int64
			for _, r := range rows {
				if r.Kind == store.KindRefund {
					refunded += r.Amount
				}
			}
			if refunded != charge {
				t.Errorf("refund rows sum to %d, want %d", refunded, charge)
			}
			if _, queued, _ := f.db.CancelRequestFor(ctx, id); queued {
				t.Errorf("an unclaimed pending order got a cancel request")
			}
			f.checkLedger(t, f.acct.ID)
			storetest.Audit(t, f.db)
		})
	}
}

func TestCancelQueuesRequest(t *testing.T) {
	tests := []struct {
		name    string
		svc     string
		status  string
		claimed bool
		wantErr string
	}{
		{"ClaimedPending", store.TypeDefault, store.StatusPending, true, ""},
		{"ClaimedPendingOfNoCancelService", "NoCancel", store.StatusPending, true, ""},
		{"Processing", store.TypeDefault, store.StatusProcessing, false, ""},
		{"InProgress", store.TypeDefault, store.StatusInProgress, false, ""},
		{"ProcessingOfNoCancelService", "NoCancel", store.StatusProcessing, false, "Service does not support cancellation"},
		{"InProgressOfNoCancelService", "NoCancel", store.StatusInProgress, false, "Service does not support cancellation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 10_000_000)
			id := f.add(t, f.acct.ID, tt.svc, 100)
			f.setStatus(t, id, tt.status)
			if tt.claimed {
				f.exec(t, `UPDATE orders SET claimed_at = 1 WHERE id = ?`, id)
			}
			balance := f.balance(t, f.acct.ID)
			for attempt := range 3 { // a repeat is a no-op success
				err := f.cancel(t, store.Customer(f.acct.ID), id)
				if tt.wantErr != "" {
					wantErr(t, err, store.Invalid, tt.wantErr)
				} else if err != nil {
					t.Fatalf("cancel #%d: %v", attempt+1, err)
				}
			}
			o := f.order(t, id)
			if o.Status != tt.status || o.Claimed != tt.claimed {
				t.Errorf("order is %s (claimed %v), want it left %s", o.Status, o.Claimed, tt.status)
			}
			if got := f.balance(t, f.acct.ID); got != balance {
				t.Errorf("balance %d → %d: nothing may be refunded before the upstream agrees", balance, got)
			}
			if n := f.refunds(t, id); n != 0 {
				t.Errorf("%d refund rows, want 0", n)
			}
			req, queued, err := f.db.CancelRequestFor(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if wantQueued := tt.wantErr == ""; queued != wantQueued {
				t.Fatalf("cancel request queued = %v, want %v", queued, wantQueued)
			}
			if queued && (req.OrderID != id || req.Status != "pending") {
				t.Errorf("cancel request = %+v, want pending for %s", req, id)
			}
			storetest.Audit(t, f.db)
		})
	}
}

func TestCancelRefusedRequestIsAskedAgain(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.setStatus(t, id, store.StatusInProgress)
	if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
		t.Fatal(err)
	}
	f.exec(t, `UPDATE cancel_requests SET status = 'refused', error = 'too late' WHERE order_id = ?`, id)
	if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
		t.Fatal(err)
	}
	req, _, _ := f.db.CancelRequestFor(ctx, id)
	if req.Status != "pending" || req.Error != "" {
		t.Errorf("cancel request = %+v, want pending again without the old error", req)
	}
	// One that was sent upstream is not reset by a repeat.
	f.exec(t, `UPDATE cancel_requests SET status = 'sent' WHERE order_id = ?`, id)
	if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
		t.Fatal(err)
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, id); req.Status != "sent" {
		t.Errorf("cancel request = %s, want still sent", req.Status)
	}
	if _, found, err := f.db.CancelRequestFor(ctx, store.NewID(store.PrefixOrder)); found || err != nil {
		t.Errorf("CancelRequestFor(unknown) = %v, %v; want not found", found, err)
	}
}

func TestCancelTerminal(t *testing.T) {
	f := newFixture(t, 10_000_000)
	for _, status := range []string{store.StatusCompleted, store.StatusPartial, store.StatusCancelled, store.StatusRefunded, store.StatusFailed} {
		t.Run(status, func(t *testing.T) {
			id := f.add(t, f.acct.ID, store.TypeDefault, 100)
			f.setStatus(t, id, status)
			balance := f.balance(t, f.acct.ID)
			err := f.cancel(t, store.Customer(f.acct.ID), id)
			wantErr(t, err, store.Invalid, "Order cannot be cancelled (already "+status+")")
			if got := f.balance(t, f.acct.ID); got != balance {
				t.Errorf("balance %d → %d", balance, got)
			}
			if _, queued, _ := f.db.CancelRequestFor(ctx, id); queued {
				t.Errorf("a terminal order got a cancel request")
			}
		})
	}
}

func TestCancelOtherAccountsOrder(t *testing.T) {
	f := newFixture(t, 10_000_000)
	bob := fundedAccount(t, f, "bob", 10_000_000)
	theirs := f.add(t, bob, store.TypeDefault, 100)
	processing := f.add(t, bob, store.TypeDefault, 100)
	f.setStatus(t, processing, store.StatusProcessing)
	for _, id := range []string{theirs, processing, store.NewID(store.PrefixOrder), "ord_garbage", "", store.NewID(store.PrefixRefill)} {
		err := f.cancel(t, store.Customer(f.acct.ID), id)
		wantErr(t, err, store.NotFound, "Order not found")
	}
	if o := f.order(t, theirs); o.Status != store.StatusPending {
		t.Errorf("bob's order is %s, want pending", o.Status)
	}
	if _, queued, _ := f.db.CancelRequestFor(ctx, processing); queued {
		t.Errorf("alice queued a cancel of bob's order")
	}
	if a, b := f.balance(t, f.acct.ID), f.balance(t, bob); a != 10_000_000 || b != 9_820_000 {
		t.Errorf("balances alice %d bob %d, want 10000000 and 9820000", a, b)
	}
	// The operator acts for everyone.
	if err := f.cancel(t, store.Operator, theirs); err != nil {
		t.Errorf("operator cancel: %v", err)
	}
	if b := f.balance(t, bob); b != 9_910_000 {
		t.Errorf("bob's balance = %d, want 9910000", b)
	}
	storetest.Audit(t, f.db)
}

// No call acts for everyone by default: a scope left at its zero value (a
// page that forgot the signed-in account) touches nothing, and neither does
// an account id of zero.
func TestZeroScopeTouchesNothing(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 100)
	for name, call := range map[string]func() error{
		"CancelOrders":     func() error { _, err := f.db.CancelOrders(ctx, store.Scope{}, []string{id}); return err },
		"CancelCustomer0":  func() error { _, err := f.db.CancelOrders(ctx, store.Customer(0), []string{id}); return err },
		"RequestRefills":   func() error { _, err := f.db.RequestRefills(ctx, store.Scope{}, []string{id}); return err },
		"ListOrders":       func() error { _, err := f.db.ListOrders(ctx, store.OrderFilter{}); return err },
		"Order":            func() error { _, err := f.db.Order(ctx, store.Scope{}, id); return err },
		"Webhooks":         func() error { _, err := f.db.Webhooks(ctx, store.Scope{}, ""); return err },
		"OrderStatuses":    func() error { _, err := f.db.OrderStatuses(ctx, 0, []string{id}); return err },
		"OrderIDsByNumber": func() error { _, err := f.db.OrderIDsByNumber(ctx, 0, []int64{1}); return err },
		"Refills":          func() error { _, err := f.db.Refills(ctx, 0, []string{"ref_x"}); return err },
		"PlaceOrder": func() error {
			_, err := f.db.PlaceOrder(ctx, 0, store.OrderInput{ServiceID: f.svc[store.TypeDefault].ID, RequestID: "r0",
				Link: "https://x.example/p", Quantity: "100"})
			return err
		},
	} {
		if err := call(); store.ErrorCode(err) != store.Internal {
			t.Errorf("%s without an account: %v, want an internal error", name, err)
		}
	}
	if o := f.order(t, id); o.Status != store.StatusPending {
		t.Errorf("the order is %s after calls without an account", o.Status)
	}
	storetest.Audit(t, f.db)
}

func TestCancelBulk(t *testing.T) {
	f := newFixture(t, 10_000_000)
	bob := fundedAccount(t, f, "bob", 10_000_000)
	pending := f.add(t, f.acct.ID, store.TypeDefault, 100)
	processing := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.setStatus(t, processing, store.StatusProcessing)
	completed := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.setStatus(t, completed, store.StatusCompleted)
	noCancel := f.add(t, f.acct.ID, "NoCancel", 100)
	f.setStatus(t, noCancel, store.StatusInProgress)
	theirs := f.add(t, bob, store.TypeDefault, 100)
	lower := strings.ToLower(pending)

	ids := []string{pending, processing, completed, theirs, "garbage", lower, noCancel}
	res, err := f.db.CancelOrders(ctx, store.Customer(f.acct.ID), ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ result, err string }{
		{pending, ""},
		{processing, ""},
		{"", "Order cannot be cancelled (already completed)"},
		{"", "Order not found"},
		{"", "Order not found"},
		{"", "Order cannot be cancelled (already cancelled)"}, // the same order, a second time
		{"", "Service does not support cancellation"},
	}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d", len(res), len(want))
	}
	for i, w := range want {
		got := res[i]
		var msg string
		if got.Err != nil {
			msg = store.ErrorMessage(got.Err)
		}
		if got.ID != ids[i] || got.Result != w.result || msg != w.err {
			t.Errorf("row %d = {%s %q %q}, want {%s %q %q}", i, got.ID, got.Result, msg, ids[i], w.result, w.err)
		}
	}
	if n := f.refunds(t, pending); n != 1 {
		t.Errorf("%d refund rows for the pending order, want exactly 1", n)
	}
	// Four orders charged (three at 0.09, one at 0.10), the pending one refunded.
	if got, want := f.balance(t, f.acct.ID), int64(10_000_000-2*90_000-100_000); got != want {
		t.Errorf("balance = %d, want %d", got, want)
	}
	if res, err := f.db.CancelOrders(ctx, store.Customer(f.acct.ID), nil); err != nil || len(res) != 0 {
		t.Errorf("empty batch = %v, %v", res, err)
	}
	storetest.Audit(t, f.db)
}
