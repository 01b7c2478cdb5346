package store_test

import (
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

var upstreamSeq atomic.Int64

// dispatch claims a pending order and records the provider's acceptance, so
// that it is processing with an upstream id, as after a real dispatch.
func (f *fixture) dispatch(t *testing.T, id string) string {
	t.Helper()
	if ok, err := f.db.ClaimOrder(ctx, id); err != nil || !ok {
		t.Fatalf("ClaimOrder(%s) = %v, %v", id, ok, err)
	}
	up := fmt.Sprint(1000 + upstreamSeq.Add(1))
	if err := f.db.DispatchAccepted(ctx, id, up, 0); err != nil {
		t.Fatalf("DispatchAccepted(%s): %v", id, err)
	}
	return up
}

func TestDueDispatches(t *testing.T) {
	f := newFixture(t, 100_000_000)
	due := f.add(t, f.acct.ID, store.TypeDefault, 100)
	comments, err := f.db.PlaceOrder(ctx, f.acct.ID, store.OrderInput{ServiceID: f.svc[store.TypeComments].ID,
		RequestID: "c", Link: "https://x.example/p", Comments: "one\ntwo"})
	if err != nil {
		t.Fatal(err)
	}
	later := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.exec(t, `UPDATE orders SET next_at = 500 WHERE id = ?`, later)
	claimed := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.exec(t, `UPDATE orders SET claimed_at = 1 WHERE id = ?`, claimed)
	parked := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.exec(t, `UPDATE orders SET review = 'check' WHERE id = ?`, parked)
	f.cancel(t, store.Customer(f.acct.ID), f.add(t, f.acct.ID, store.TypeDefault, 100))
	f.dispatch(t, f.add(t, f.acct.ID, store.TypeDefault, 100))
	paused := storetest.Provider(t, f.db, "slow")
	svc, err := f.db.AddService(ctx, store.Service{Name: "S", Category: "C", Type: store.TypeDefault, Rate: 1, Min: 1, Max: 10, ProviderService: "9"}, "slow")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.PlaceOrder(ctx, f.acct.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "slow", Link: "https://x.example", Quantity: "5"}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.PauseProvider(ctx, paused.ID, "key refused"); err != nil {
		t.Fatal(err)
	}

	jobs, err := f.db.DueDispatches(ctx, 100, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.OrderID)
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{due, comments}) {
		t.Fatalf("DueDispatches = %v, want [%s %s]", got, due, comments)
	}
	j := jobs[1]
	if j.Type != store.TypeComments || j.Quantity != 2 || j.Link != "https://x.example/p" || j.ProviderService != "100" ||
		j.Provider.Name != "upstream" || j.Provider.APIKey != "upstream-key" || !maps.Equal(j.Extra, map[string]string{"comments": "one\ntwo"}) {
		t.Errorf("job = %+v", j)
	}
	if jobs, _ := f.db.DueDispatches(ctx, 100, 1, nil); len(jobs) != 1 {
		t.Errorf("limit 1 gave %d jobs", len(jobs))
	}
	if jobs, _ := f.db.DueDispatches(ctx, 500, 10, nil); len(jobs) != 3 {
		t.Errorf("at next_at the deferred order is due too: got %d jobs, want 3", len(jobs))
	}
	// A provider whose earlier work is still going on is left out.
	if jobs, _ := f.db.DueDispatches(ctx, 500, 10, []int64{paused.ID, j.Provider.ID}); len(jobs) != 0 {
		t.Errorf("skipping the provider gave %d jobs, want none", len(jobs))
	}
	if jobs, _ := f.db.DueDispatches(ctx, 500, 10, []int64{paused.ID}); len(jobs) != 3 {
		t.Errorf("skipping another provider gave %d jobs, want 3", len(jobs))
	}
}

func TestClaimOrder(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 100)
	if ok, err := f.db.ClaimOrder(ctx, id); err != nil || !ok {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if ok, err := f.db.ClaimOrder(ctx, id); err != nil || ok {
		t.Errorf("second claim = %v, %v; want false", ok, err)
	}
	if o := f.order(t, id); !o.Claimed || o.ProviderID == 0 || o.Status != store.StatusPending {
		t.Errorf("claimed order = %+v", o)
	}
	cancelled := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.cancel(t, store.Customer(f.acct.ID), cancelled)
	if ok, err := f.db.ClaimOrder(ctx, cancelled); err != nil || ok {
		t.Errorf("claim of a cancelled order = %v, %v; want false", ok, err)
	}
	_, err := f.db.ClaimOrder(ctx, store.NewID(store.PrefixOrder))
	wantErr(t, err, store.NotFound, "Order not found")
	storetest.Audit(t, f.db)
}

// A customer who cancelled while the dispatch was failing gets cancelled
// and refunded once, whichever way the dispatch ends.
func TestDispatchOutcomes(t *testing.T) {
	tests := []struct {
		name           string
		cancelFirst    bool
		outcome        func(f *fixture, id string) error
		wantStatus     string
		wantRefund     bool
		wantClaimed    bool
		wantProcessing bool
	}{
		{"Accepted", false, func(f *fixture, id string) error { return f.db.DispatchAccepted(ctx, id, "77", 60) },
			store.StatusProcessing, false, true, true},
		{"Retry", false, func(f *fixture, id string) error { return f.db.DispatchRetry(ctx, id, "timeout", 60) },
			store.StatusPending, false, false, false},
		{"Failed", false, func(f *fixture, id string) error {
			_, err := f.db.DispatchFailed(ctx, id, "bad link", false)
			return err
		},
			store.StatusFailed, true, true, false},
		{"AcceptedAfterCancel", true, func(f *fixture, id string) error { return f.db.DispatchAccepted(ctx, id, "77", 60) },
			store.StatusProcessing, false, true, true},
		{"RetryAfterCancel", true, func(f *fixture, id string) error { return f.db.DispatchRetry(ctx, id, "timeout", 60) },
			store.StatusCancelled, true, true, false},
		{"FailedAfterCancel", true, func(f *fixture, id string) error {
			_, err := f.db.DispatchFailed(ctx, id, "bad link", false)
			return err
		},
			store.StatusCancelled, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 10_000_000)
			id := f.add(t, f.acct.ID, store.TypeDefault, 100)
			if ok, err := f.db.ClaimOrder(ctx, id); !ok || err != nil {
				t.Fatal(ok, err)
			}
			if tt.cancelFirst {
				if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.outcome(f, id); err != nil {
				t.Fatalf("outcome: %v", err)
			}
			o := f.order(t, id)
			if o.Status != tt.wantStatus || o.Claimed != tt.wantClaimed {
				t.Errorf("order %s claimed %v, want %s claimed %v", o.Status, o.Claimed, tt.wantStatus, tt.wantClaimed)
			}
			wantBalance := int64(10_000_000 - 90_000)
			if tt.wantRefund {
				wantBalance = 10_000_000
			}
			if got := f.balance(t, f.acct.ID); got != wantBalance {
				t.Errorf("balance = %d, want %d", got, wantBalance)
			}
			if tt.wantProcessing && (o.UpstreamID != "77" || o.NextAt != 60) {
				t.Errorf("accepted order = %+v, want upstream 77 due at 60", o)
			}
			if tt.name == "Retry" && (o.Attempts != 1 || o.NextAt != 60 || o.Reason != "timeout" || o.ProviderID != 0) {
				t.Errorf("released order = %+v, want attempt 1 due at 60", o)
			}
			if tt.name == "Failed" && o.Reason != "bad link" {
				t.Errorf("reason = %q, want the provider's", o.Reason)
			}
			// Whatever the worker does next with this order, no second refund.
			f.db.DispatchFailed(ctx, id, "again", false)
			f.db.DispatchRetry(ctx, id, "again", 0)
			f.db.ClaimOrder(ctx, id)
			if n := f.refunds(t, id); n > 1 {
				t.Errorf("%d refund rows", n)
			}
			f.checkLedger(t, f.acct.ID)
			storetest.Audit(t, f.db)
		})
	}
}

func TestDispatchGuards(t *testing.T) {
	f := newFixture(t, 10_000_000)
	unclaimed := f.add(t, f.acct.ID, store.TypeDefault, 100)
	err := f.db.DispatchAccepted(ctx, unclaimed, "5", 0)
	wantErr(t, err, store.Conflict, "order changed meanwhile")
	err = f.db.DispatchRetry(ctx, unclaimed, "x", 0)
	wantErr(t, err, store.Conflict, "order changed meanwhile")
	err = f.db.ParkOrder(ctx, unclaimed, "x")
	wantErr(t, err, store.Conflict, "order changed meanwhile")

	accepted := f.add(t, f.acct.ID, store.TypeDefault, 100)
	up := f.dispatch(t, accepted)
	err = f.db.DispatchAccepted(ctx, accepted, "6", 0)
	wantErr(t, err, store.Conflict, "order changed meanwhile")
	_, err = f.db.DispatchFailed(ctx, accepted, "late failure", false)
	wantErr(t, err, store.Conflict, "order changed meanwhile")
	if o := f.order(t, accepted); o.Status != store.StatusProcessing || o.UpstreamID != up {
		t.Errorf("accepted order = %+v, want it left processing", o)
	}

	claimed := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.db.ClaimOrder(ctx, claimed)
	err = f.db.DispatchAccepted(ctx, claimed, "", 0)
	wantErr(t, err, store.Invalid, "empty upstream id")
	for _, call := range []func(id string) error{
		func(id string) error { return f.db.DispatchRetry(ctx, id, "", 0) },
		func(id string) error { _, err := f.db.DispatchFailed(ctx, id, "", false); return err },
	} {
		wantErr(t, call(store.NewID(store.PrefixOrder)), store.NotFound, "Order not found")
	}
	storetest.Audit(t, f.db)
}

func TestParkAndRecoverDispatches(t *testing.T) {
	f := newFixture(t, 10_000_000)
	np, err := f.db.AddProvider(ctx, store.Provider{Name: "np", URL: "https://np.example/api/v2", APIKey: "k", Dialect: store.DialectNotpanel})
	if err != nil {
		t.Fatal(err)
	}
	npSvc, err := f.db.AddService(ctx, store.Service{Name: "N", Category: "C", Type: store.TypeDefault, Rate: 1000, Min: 1, Max: 100, ProviderService: "3"}, np.Name)
	if err != nil {
		t.Fatal(err)
	}
	classic := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.db.ClaimOrder(ctx, classic)
	resendable, err := f.db.PlaceOrder(ctx, f.acct.ID, store.OrderInput{ServiceID: npSvc.ID, RequestID: "np", Link: "https://x.example", Quantity: "10"})
	if err != nil {
		t.Fatal(err)
	}
	f.db.ClaimOrder(ctx, resendable)
	parked := f.add(t, f.acct.ID, store.TypeDefault, 100)
	f.db.ClaimOrder(ctx, parked)
	if err := f.db.ParkOrder(ctx, parked, "timeout after send"); err != nil {
		t.Fatal(err)
	}
	untouched := f.add(t, f.acct.ID, store.TypeDefault, 100)

	p, r, err := f.db.RecoverDispatches(ctx)
	if err != nil || p != 1 || r != 1 {
		t.Fatalf("RecoverDispatches = %d parked, %d released, %v; want 1, 1", p, r, err)
	}
	for id, want := range map[string]struct {
		claimed bool
		review  string
	}{
		classic:    {true, "dispatch interrupted: the provider may or may not have this order"},
		resendable: {false, ""},
		parked:     {true, "timeout after send"},
		untouched:  {false, ""},
	} {
		if o := f.order(t, id); o.Claimed != want.claimed || o.Review != want.review || o.Status != store.StatusPending {
			t.Errorf("%s: claimed %v review %q status %s; want claimed %v review %q", id, o.Claimed, o.Review, o.Status, want.claimed, want.review)
		}
	}
	list, err := f.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator, Review: true})
	if err != nil || len(list) != 2 {
		t.Errorf("orders for review = %d, %v; want 2", len(list), err)
	}
	if p, r, _ := f.db.RecoverDispatches(ctx); p != 0 || r != 0 {
		t.Errorf("second RecoverDispatches = %d, %d; want nothing to do", p, r)
	}
	storetest.Audit(t, f.db)
}

// A cancel queued while the order was claimed does not stop the order from
// being claimed again after a restart: the provider may hold it, so it is
// resent (its request_id finds it there) and the cancel stays queued.
func TestClaimResendsDespiteQueuedCancel(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := notpanelOrder(t, f)
	f.db.ClaimOrder(ctx, id)
	if err := f.cancel(t, store.Customer(f.acct.ID), id); err != nil { // queued: the order is claimed
		t.Fatal(err)
	}
	if _, released, _ := f.db.RecoverDispatches(ctx); released != 1 { // the process restarted
		t.Fatalf("released %d, want 1", released)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000-10_000 {
		t.Fatalf("balance = %d before the claim, want the charge still held", got)
	}
	// The provider may hold the order: it is sent again (the request_id finds
	// it) rather than cancelled here, and the cancel stays queued for the
	// provider.
	ok, err := f.db.ClaimOrder(ctx, id)
	if err != nil || !ok {
		t.Fatalf("ClaimOrder = %v, %v; want true (resent, not cancelled locally)", ok, err)
	}
	if o := f.order(t, id); o.Status != store.StatusPending {
		t.Errorf("status = %s, want pending", o.Status)
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, id); req.Status != "pending" {
		t.Errorf("cancel request = %+v, want still pending", req)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000-10_000 {
		t.Errorf("balance = %d, want no refund while the provider may hold the order", got)
	}
}

// An order a notpanel provider may hold from an earlier try is never failed
// and refunded on a later try's refusal: it is parked for the operator.
func TestDispatchFailedParksMaybeSent(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := notpanelOrder(t, f)
	if ok, err := f.db.ClaimOrder(ctx, id); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	// The first try timed out after sending: released for a resend.
	if err := f.db.DispatchResend(ctx, id, "timeout after sending", 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.db.ClaimOrder(ctx, id); !ok || err != nil {
		t.Fatalf("claim again: %v %v", ok, err)
	}
	// The resend is refused for good.
	parked, err := f.db.DispatchFailed(ctx, id, "Incorrect service ID", false)
	if err != nil || !parked {
		t.Fatalf("DispatchFailed = %v, %v; want parked", parked, err)
	}
	o := f.order(t, id)
	if o.Status != store.StatusPending || !strings.Contains(o.Review, "Incorrect service ID") ||
		!strings.Contains(o.Review, "earlier try") {
		t.Errorf("order %s, review %q: want pending and parked with both reasons", o.Status, o.Review)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000-10_000 {
		t.Errorf("balance = %d, want the charge held while the provider may hold the order", got)
	}
	// The operator finds nothing upstream and fails it: refunded once.
	if err := f.db.ResolveFail(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000 {
		t.Errorf("balance = %d after the operator failed it, want the charge back", got)
	}
	storetest.Audit(t, f.db)
}

// notpanelOrder places an order of 10_000 micro-units for a service of a
// notpanel provider.
func notpanelOrder(t *testing.T, f *fixture) string {
	t.Helper()
	np, err := f.db.AddProvider(ctx, store.Provider{Name: "np", URL: "https://np.example/api/v2", APIKey: "k", Dialect: store.DialectNotpanel})
	if err != nil {
		t.Fatal(err)
	}
	svc := addService(t, f, store.Service{Name: "N", Rate: 1_000_000, Min: 1, Max: 100})
	f.exec(t, `UPDATE services SET provider_id = ? WHERE id = ?`, np.ID, svc.ID)
	id, err := f.db.PlaceOrder(ctx, f.acct.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "np", Link: "https://x.example", Quantity: "10"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A service's orders go to its provider; to its backup while the provider
// is paused; and an order that may be at a provider already goes there and
// nowhere else, whatever happens to that provider. A switch to the backup
// is refused for such an order.
func TestDispatchRouting(t *testing.T) {
	f := newFixture(t, 100_000_000)
	primary, err := f.db.FindProvider(ctx, "upstream")
	if err != nil {
		t.Fatal(err)
	}
	backup := storetest.Provider(t, f.db, "backup")
	b, s := "backup", "77"
	svc := f.svc[store.TypeDefault]
	if _, err := f.db.UpdateService(ctx, svc.ID, store.ServicePatch{BackupProvider: &b, BackupProviderService: &s}); err != nil {
		t.Fatal(err)
	}
	route := func(id string) store.DispatchJob {
		t.Helper()
		jobs, err := f.db.DueDispatches(ctx, 1<<40, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.OrderID == id {
				return j
			}
		}
		return store.DispatchJob{}
	}
	plain := f.add(t, f.acct.ID, store.TypeDefault, 100)
	if j := route(plain); j.Provider.ID != primary.ID || j.ProviderService != svc.ProviderService || j.Pinned ||
		j.Backup.ID != backup.ID || j.BackupService != "77" || j.Failover != "" {
		t.Fatalf("job %+v: want the provider, with the backup beside it", j)
	}

	// The order is switched to the backup within its claim; a second switch
	// (from the provider it no longer has) is refused.
	if ok, err := f.db.ClaimFor(ctx, plain, primary.ID, ""); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := f.db.DispatchFailover(ctx, plain, primary.ID, backup.ID, "no funds at upstream"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DispatchFailover(ctx, plain, primary.ID, backup.ID, "again"); store.ErrorCode(err) != store.Conflict {
		t.Errorf("second switch: %v, want a conflict", err)
	}
	if o := f.order(t, plain); o.ProviderID != backup.ID || o.Failover != "no funds at upstream" {
		t.Errorf("switched order: provider %d, failover %q", o.ProviderID, o.Failover)
	}
	// Released after the backup failed too: free for the provider again.
	if err := f.db.DispatchRetry(ctx, plain, "503", 0); err != nil {
		t.Fatal(err)
	}
	if o := f.order(t, plain); o.ProviderID != 0 || o.Failover != "" || o.Claimed {
		t.Errorf("released order: provider %d, failover %q, claimed %v", o.ProviderID, o.Failover, o.Claimed)
	}

	// Paused provider: the listing sends the order to the backup.
	if err := f.db.PauseProvider(ctx, primary.ID, "Invalid API key"); err != nil {
		t.Fatal(err)
	}
	if j := route(plain); j.Provider.ID != backup.ID || j.ProviderService != "77" || !strings.Contains(j.Failover, "upstream is paused (Invalid API key)") {
		t.Fatalf("job while the provider is paused: %+v", j)
	}
	if _, err := f.db.ResumeProvider(ctx, "upstream"); err != nil {
		t.Fatal(err)
	}

	// An order that may be at the backup is bound to it.
	maybe := f.add(t, f.acct.ID, store.TypeDefault, 100)
	if ok, err := f.db.ClaimFor(ctx, maybe, primary.ID, ""); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := f.db.DispatchFailover(ctx, maybe, primary.ID, backup.ID, "gone at upstream"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DispatchResend(ctx, maybe, "no answer", 0); err != nil {
		t.Fatal(err)
	}
	if j := route(maybe); j.Provider.ID != backup.ID || !j.Pinned || j.ProviderService != "77" {
		t.Fatalf("job of an order that may be at the backup: %+v", j)
	}
	if ok, err := f.db.ClaimFor(ctx, maybe, primary.ID, ""); ok || err != nil {
		t.Errorf("claim for the provider of an order bound to the backup: %v, %v; want refused", ok, err)
	}
	if ok, err := f.db.ClaimOrder(ctx, maybe); !ok || err != nil {
		t.Fatalf("claim for its own provider: %v %v", ok, err)
	}
	if o := f.order(t, maybe); o.ProviderID != backup.ID || o.Failover != "gone at upstream" {
		t.Errorf("claimed again: provider %d, failover %q; want the backup kept", o.ProviderID, o.Failover)
	}
	if err := f.db.DispatchFailover(ctx, maybe, backup.ID, primary.ID, "back"); store.ErrorCode(err) != store.Conflict {
		t.Errorf("switch of an order that may be at a provider: %v, want a conflict", err)
	}
	// A failed try there keeps it bound; so does the backup's pause.
	if err := f.db.DispatchRetry(ctx, maybe, "503", 0); err != nil {
		t.Fatal(err)
	}
	if err := f.db.PauseProvider(ctx, backup.ID, "key"); err != nil {
		t.Fatal(err)
	}
	if j := route(maybe); j.OrderID != "" {
		t.Errorf("an order bound to a paused provider was listed for %s", j.Provider.Name)
	}
	// The backup is taken off the service: the order is parked by the
	// worker, which finds no service id for it there.
	if _, err := f.db.ResumeProvider(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	none := ""
	if _, err := f.db.UpdateService(ctx, svc.ID, store.ServicePatch{BackupProvider: &none}); err != nil {
		t.Fatal(err)
	}
	if j := route(maybe); j.Provider.ID != backup.ID || j.ProviderService != "" {
		t.Errorf("job once the backup is gone: %+v, want the backup without a service id", j)
	}
	storetest.Audit(t, f.db)
}

// A backup must be another provider, known, with the service's id there.
func TestServiceBackupValidation(t *testing.T) {
	f := newFixture(t, 0)
	storetest.Provider(t, f.db, "backup")
	id := f.svc[store.TypeDefault].ID
	str := func(s string) *string { return &s }
	for _, tt := range []struct {
		name     string
		provider *string
		service  *string
		want     string
	}{
		{"Self", str("upstream"), str("1"), "must differ"},
		{"Unknown", str("nosuch"), str("1"), "not found"},
		{"NoServiceID", str("backup"), nil, "backup-provider-service"},
		{"ServiceIDAlone", nil, str("5"), "needs a backup provider"},
		{"ClearWithServiceID", str(""), str("5"), "needs a backup provider"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.db.UpdateService(ctx, id, store.ServicePatch{BackupProvider: tt.provider, BackupProviderService: tt.service})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("UpdateService = %v, want an error about %q", err, tt.want)
			}
		})
	}
	s, err := f.db.UpdateService(ctx, id, store.ServicePatch{BackupProvider: str("backup"), BackupProviderService: str(" 9 ")})
	if err != nil || s.BackupProvider != "backup" || s.BackupProviderService != "9" {
		t.Fatalf("set: %+v, %v", s, err)
	}
	if s, err = f.db.UpdateService(ctx, id, store.ServicePatch{BackupProviderService: str("10")}); err != nil || s.BackupProviderService != "10" {
		t.Errorf("change of the service id alone: %+v, %v", s, err)
	}
	if s, err = f.db.UpdateService(ctx, id, store.ServicePatch{BackupProvider: str("")}); err != nil || s.BackupProviderID != 0 {
		t.Errorf("cleared: %+v, %v", s, err)
	}
	if s, _ := f.db.Service(ctx, id); s.BackupProviderID != 0 || s.BackupProviderService != "" {
		t.Errorf("stored after clearing: %+v", s)
	}
}
