package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestApplyStatuses(t *testing.T) {
	const charge = 900_000 // 1000 at 0.90
	up := func(status, raw string, remains int64, has bool) store.UpstreamStatus {
		return store.UpstreamStatus{Status: status, Raw: raw, StartCount: 1234, Remains: remains, HasRemains: has}
	}
	tests := []struct {
		name        string
		from        string
		u           store.UpstreamStatus
		wantStatus  string
		wantRefund  int64
		wantRemains int64
	}{
		{"InProgress", store.StatusProcessing, up(store.StatusInProgress, "In progress", 650, true), store.StatusInProgress, 0, 650},
		{"InProgressWithoutRemains", store.StatusProcessing, up(store.StatusInProgress, "In progress", 0, false), store.StatusInProgress, 0, 1000},
		{"NoStepBackwards", store.StatusInProgress, up(store.StatusProcessing, "Pending", 900, true), store.StatusInProgress, 0, 900},
		{"UnknownKeepsStatus", store.StatusProcessing, up("", "Paused by admin", 0, false), store.StatusProcessing, 0, 1000},
		{"Completed", store.StatusInProgress, up(store.StatusCompleted, "Completed", 50, true), store.StatusCompleted, 0, 0},
		{"Partial", store.StatusInProgress, up(store.StatusPartial, "Partial", 333, true), store.StatusPartial, 299_700, 333},
		{"PartialRemainsClamped", store.StatusInProgress, up(store.StatusPartial, "Partial", 5000, true), store.StatusPartial, charge, 1000},
		{"PartialNegativeRemains", store.StatusInProgress, up(store.StatusPartial, "Partial", -5, true), store.StatusPartial, 0, 0},
		{"Cancelled", store.StatusProcessing, up(store.StatusCancelled, "Canceled", 0, true), store.StatusCancelled, charge, 1000},
		{"Failed", store.StatusInProgress, up(store.StatusFailed, "Fail", 0, false), store.StatusFailed, charge, 1000},
		{"Refunded", store.StatusInProgress, up(store.StatusRefunded, "Refunded", 0, false), store.StatusRefunded, charge, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 10_000_000)
			id := f.add(t, f.acct.ID, store.TypeDefault, 1000)
			f.dispatch(t, id)
			f.setStatus(t, id, tt.from)
			// Apply the same report three times, as a provider repeats itself.
			for range 3 {
				got, err := f.db.ApplyStatuses(ctx, []store.StatusUpdate{{OrderID: id, UpstreamStatus: tt.u}}, 300)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || got[0] != tt.wantStatus {
					t.Fatalf("ApplyStatuses = %v, want [%s]", got, tt.wantStatus)
				}
			}
			o := f.order(t, id)
			if o.Status != tt.wantStatus || o.Remains != tt.wantRemains || o.StartCount != 1234 || o.UpstreamStatus != tt.u.Raw {
				t.Errorf("order = %s remains %d start %d upstream %q; want %s remains %d start 1234 upstream %q",
					o.Status, o.Remains, o.StartCount, o.UpstreamStatus, tt.wantStatus, tt.wantRemains, tt.u.Raw)
			}
			if !store.Terminal(tt.wantStatus) && o.NextAt != 300 {
				t.Errorf("next sync at %d, want 300", o.NextAt)
			}
			if got := f.balance(t, f.acct.ID); got != 10_000_000-charge+tt.wantRefund {
				t.Errorf("balance = %d, want %d (refund %d, once)", got, 10_000_000-charge+tt.wantRefund, tt.wantRefund)
			}
			f.checkLedger(t, f.acct.ID)
			storetest.Audit(t, f.db)
		})
	}
}

// A partial without remains cannot be refunded right: the order keeps going
// and the provider's text says why, instead of a refund of nothing.
func TestApplyStatusesPartialWithoutRemains(t *testing.T) {
	f := newFixture(t, 10_000_000)
	id := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	f.dispatch(t, id)
	f.setStatus(t, id, store.StatusInProgress)
	got, err := f.db.ApplyStatuses(ctx, []store.StatusUpdate{{OrderID: id,
		UpstreamStatus: store.UpstreamStatus{Status: store.StatusPartial, Raw: "Partial", StartCount: 7}}}, 300)
	if err != nil || len(got) != 1 || got[0] != store.StatusInProgress {
		t.Fatalf("ApplyStatuses = %v, %v; want [in_progress]", got, err)
	}
	if o := f.order(t, id); o.UpstreamStatus != "Partial (no remains given)" || o.Remains != 1000 {
		t.Errorf("order upstream status %q remains %d", o.UpstreamStatus, o.Remains)
	}
	storetest.Audit(t, f.db)
}

func TestApplyStatusesBatch(t *testing.T) {
	f := newFixture(t, 10_000_000)
	a := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	b := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	pending := f.add(t, f.acct.ID, store.TypeDefault, 1000)
	f.dispatch(t, a)
	f.dispatch(t, b)
	if err := f.cancel(t, store.Customer(f.acct.ID), a); err != nil { // a cancel request, then the order completes
		t.Fatal(err)
	}
	if err := f.cancel(t, store.Customer(f.acct.ID), b); err != nil { // and one the provider honours
		t.Fatal(err)
	}
	long := strings.Repeat("x", 100)
	got, err := f.db.ApplyStatuses(ctx, []store.StatusUpdate{
		{OrderID: a, UpstreamStatus: store.UpstreamStatus{Status: store.StatusCompleted, Raw: long}},
		{OrderID: store.NewID(store.PrefixOrder), UpstreamStatus: store.UpstreamStatus{Status: store.StatusCompleted}},
		{OrderID: b, UpstreamStatus: store.UpstreamStatus{Status: store.StatusCancelled}},
		{OrderID: b, UpstreamStatus: store.UpstreamStatus{Status: store.StatusPartial, Remains: 10, HasRemains: true}},
		{OrderID: pending, UpstreamStatus: store.UpstreamStatus{Status: store.StatusCompleted}},
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{store.StatusCompleted, "", store.StatusCancelled, store.StatusCancelled, store.StatusPending}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ApplyStatuses = %v, want %v", got, want)
	}
	if o := f.order(t, a); len(o.UpstreamStatus) != 64 {
		t.Errorf("upstream status kept %d bytes, want it cut to 64", len(o.UpstreamStatus))
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, a); req.Status != "refused" || req.Error != "order completed" {
		t.Errorf("cancel request of the completed order = %+v, want refused", req)
	}
	if req, _, _ := f.db.CancelRequestFor(ctx, b); req.Status != "accepted" {
		t.Errorf("cancel request of the cancelled order = %+v, want accepted", req)
	}
	if got := f.balance(t, f.acct.ID); got != 10_000_000-2*900_000 {
		t.Errorf("balance = %d, want %d (b refunded once)", got, 10_000_000-2*900_000)
	}
	storetest.Audit(t, f.db)
}

func TestDueSyncsAndDeferral(t *testing.T) {
	f := newFixture(t, 10_000_000)
	a := f.add(t, f.acct.ID, store.TypeDefault, 100)
	b := f.add(t, f.acct.ID, store.TypeDefault, 100)
	upA := f.dispatch(t, a)
	f.dispatch(t, b)
	f.add(t, f.acct.ID, store.TypeDefault, 100) // pending: nothing to ask
	jobs, err := f.db.DueSyncs(ctx, 0, 10, nil)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("DueSyncs = %+v, %v; want 2 jobs", jobs, err)
	}
	if jobs[0].OrderID != a || jobs[0].UpstreamID != upA || jobs[0].Provider.Name != "upstream" {
		t.Errorf("job = %+v", jobs[0])
	}
	if err := f.db.DeferSyncs(ctx, []store.Deferral{{ID: a, Next: 600, Note: "provider timed out"}}, 2); err != nil {
		t.Fatal(err)
	}
	if o := f.order(t, a); o.NextAt != 600 || o.Attempts != 1 || o.Reason != "provider timed out" || o.Review != "" {
		t.Errorf("deferred order = %+v", o)
	}
	if err := f.db.DeferSyncs(ctx, nil, 2); err != nil {
		t.Errorf("DeferSyncs(nil) = %v", err)
	}
	// The second failed check in a row (reviewAfter 2) flags the order for
	// the operator; a good answer clears the flag.
	if err := f.db.DeferSyncs(ctx, []store.Deferral{{ID: a, Next: 600, Note: "Incorrect order ID"}}, 2); err != nil {
		t.Fatal(err)
	}
	if o := f.order(t, a); o.Review != "the provider has not reported this order for 2 tries: Incorrect order ID" {
		t.Errorf("review = %q", o.Review)
	}
	if _, err := f.db.ApplyStatuses(ctx, []store.StatusUpdate{{OrderID: a, UpstreamStatus: store.UpstreamStatus{
		Status: store.StatusInProgress, Raw: "In progress"}}}, 600); err != nil {
		t.Fatal(err)
	}
	if o := f.order(t, a); o.Review != "" || o.Attempts != 0 {
		t.Errorf("after a good answer: review %q attempts %d", o.Review, o.Attempts)
	}
	if jobs, _ := f.db.DueSyncs(ctx, 599, 10, nil); len(jobs) != 1 || jobs[0].OrderID != b {
		t.Errorf("before 600 only b is due: %+v", jobs)
	}
	p, _ := f.db.FindProvider(ctx, "upstream")
	v, _ := f.db.ConfigVersion(ctx)
	if err := f.db.PauseProvider(ctx, p.ID, "API key refused"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.db.FindProvider(ctx, "upstream"); got.Status != "paused" || got.PausedReason != "API key refused" {
		t.Errorf("paused provider = %+v", got)
	}
	if v2, _ := f.db.ConfigVersion(ctx); v2 == v {
		t.Errorf("pausing a provider did not bump the config version")
	}
	if jobs, _ := f.db.DueSyncs(ctx, 1000, 10, nil); len(jobs) != 0 {
		t.Errorf("a paused provider's orders are due: %+v", jobs)
	}
	if got, err := f.db.ResumeProvider(ctx, "upstream"); err != nil || got.Status != "active" || got.PausedReason != "" {
		t.Errorf("ResumeProvider = %+v, %v", got, err)
	}
	if jobs, _ := f.db.DueSyncs(ctx, 1000, 10, nil); len(jobs) != 2 {
		t.Errorf("after resuming, %d jobs due, want 2", len(jobs))
	}
	_, err = f.db.ResumeProvider(ctx, "nope")
	wantErr(t, err, store.NotFound, `Provider "nope" not found`)
}

// The most overdue orders come first whichever of the two open statuses
// they are in, the limit holds across both, and skipped providers' orders
// are left out of both.
func TestDueSyncsMergesStatusesByDueTime(t *testing.T) {
	f := newFixture(t, 10_000_000)
	var ids []string
	for range 6 {
		id := f.add(t, f.acct.ID, store.TypeDefault, 100)
		f.dispatch(t, id)
		ids = append(ids, id)
	}
	// Odd orders move on to in_progress; each order is due at 100×(its
	// place in the wanted order), interleaving the two statuses.
	due := map[string]int64{ids[0]: 500, ids[1]: 100, ids[2]: 300, ids[3]: 200, ids[4]: 600, ids[5]: 400}
	for i, id := range ids {
		if i%2 == 1 {
			if _, err := f.db.ApplyStatuses(ctx, []store.StatusUpdate{{OrderID: id, UpstreamStatus: store.UpstreamStatus{
				Status: store.StatusInProgress, Raw: "In progress"}}}, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.db.DeferSyncs(ctx, []store.Deferral{{ID: id, Next: due[id], Note: "later"}}, 100); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := f.db.DueSyncs(ctx, 450, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ids[1], ids[3], ids[2]} // due 100 (in_progress), 200 (in_progress), 300 (processing)
	if len(jobs) != len(want) {
		t.Fatalf("DueSyncs(450, limit 3) = %d jobs, want %d", len(jobs), len(want))
	}
	for i, j := range jobs {
		if j.OrderID != want[i] {
			t.Errorf("job %d = order due at %d, want the one due at %d", i, due[j.OrderID], due[want[i]])
		}
	}
	if jobs, _ := f.db.DueSyncs(ctx, 450, 10, nil); len(jobs) != 4 {
		t.Errorf("due by 450: %d jobs, want 4", len(jobs))
	}
	if jobs, _ := f.db.DueSyncs(ctx, 1000, 10, []int64{jobs[0].Provider.ID}); len(jobs) != 0 {
		t.Errorf("the skipped provider's orders are listed: %d", len(jobs))
	}
}
