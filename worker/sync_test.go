package worker_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/worker"
)

// dispatched places an order and lets the worker send it; it returns our id
// and the provider's.
func (e *env) dispatched(typ string, q int64) (id, upID string) {
	e.t.Helper()
	id = e.place(typ, q)
	e.tick()
	o := e.want(id, store.StatusProcessing)
	return id, o.UpstreamID
}

// sync lets the sync interval pass and the worker ask about orders.
func (e *env) sync() {
	e.clock.Advance(time.Minute)
	e.tick()
}

func TestBatchesOf100(t *testing.T) {
	e := newEnv(t, classic)
	var ids []string
	for range 205 {
		ids = append(ids, e.place("", 10))
	}
	e.tick()
	if n := e.up.count("add"); n != len(ids) {
		t.Fatalf("%d adds, want %d", n, len(ids))
	}
	e.sync()
	sizes := func(action, param string) []int {
		var out []int
		seen := map[string]int{}
		for _, f := range e.up.callsOf(action) {
			part := strings.Split(f.Get(param), ",")
			out = append(out, len(part))
			for _, id := range part {
				seen[id]++
			}
		}
		slices.Sort(out)
		if len(seen) != len(ids) {
			t.Errorf("%s asked about %d distinct orders, want %d", action, len(seen), len(ids))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s asked about %s %d times", action, id, n)
			}
		}
		return out
	}
	if got, want := sizes("status", "orders"), []int{5, 100, 100}; !slices.Equal(got, want) {
		t.Errorf("status call sizes %v, want %v", got, want)
	}
	res, err := e.db.CancelOrders(ctx, store.Customer(e.acct.ID), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("cancel %s: %v", r.ID, r.Err)
		}
	}
	e.tick()
	if got, want := sizes("cancel", "orders"), []int{5, 100, 100}; !slices.Equal(got, want) {
		t.Errorf("cancel call sizes %v, want %v", got, want)
	}
	for _, id := range ids {
		o := e.want(id, store.StatusCancelled)
		if total, rows := e.refunds(id); total != o.Charge || rows != 1 {
			t.Errorf("%s refunded %d in %d rows, want %d in 1", id, total, rows, o.Charge)
		}
	}
	e.check()
}

func TestSyncAppliesStatuses(t *testing.T) {
	// Poll votes at 0.27819 per 1000: 777 cost 0.216154, so that the
	// partial refund floor(216154 × 333 / 777) = 92637 has a remainder.
	const charge = 216_154
	for _, tt := range []struct {
		name       string
		row        string // what the provider answers, every time it is asked
		status     string
		refund     int64
		startCount int64
		remains    int64
		raw        string
	}{
		{"Pending", `{"status":"Pending","start_count":"0","remains":"777"}`, store.StatusProcessing, 0, 0, 777, "Pending"},
		{"InProgress", `{"status":"In progress","start_count":"157","remains":"500"}`, store.StatusInProgress, 0, 157, 500, "In progress"},
		{"NumbersAsNumbers", `{"status":"In progress","start_count":157,"remains":500.0}`, store.StatusInProgress, 0, 157, 500, "In progress"},
		{"Completed", `{"status":"Completed","start_count":"157","remains":"0"}`, store.StatusCompleted, 0, 157, 0, "Completed"},
		{"Partial", `{"status":"Partial","start_count":"157","remains":"333"}`, store.StatusPartial, 92_637, 157, 333, "Partial"},
		{"PartialRemainsAsFloatString", `{"status":"Partial","start_count":157,"remains":"333.0"}`, store.StatusPartial, 92_637, 157, 333, "Partial"},
		{"PartialRemainsBeyondQuantity", `{"status":"Partial","remains":"5000"}`, store.StatusPartial, charge, 0, 777, "Partial"},
		{"PartialNegativeRemains", `{"status":"Partial","remains":"-10"}`, store.StatusPartial, 0, 0, 0, "Partial"},
		{"Canceled", `{"status":"Canceled","start_count":"157","remains":"777"}`, store.StatusCancelled, charge, 157, 777, "Canceled"},
		{"Refunded", `{"status":"Refunded"}`, store.StatusRefunded, charge, 0, 777, "Refunded"},
		{"UnknownStatus", `{"status":"Awaiting moderation","start_count":"3","remains":"777"}`, store.StatusProcessing, 0, 3, 777, "Awaiting moderation"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, classic)
			id, up := e.dispatched(store.TypePoll, 777)
			e.up.setRow(up, tt.row)
			for range 3 { // reported again and again
				e.sync()
			}
			o := e.want(id, tt.status)
			if o.Charge != charge {
				t.Fatalf("charge %d, want %d", o.Charge, charge)
			}
			total, rows := e.refunds(id)
			if total != tt.refund || rows > 1 || tt.refund > 0 && rows != 1 {
				t.Errorf("refunded %d in %d rows, want %d once", total, rows, tt.refund)
			}
			if o.StartCount != tt.startCount || o.Remains != tt.remains || o.UpstreamStatus != tt.raw {
				t.Errorf("start_count %d, remains %d, upstream status %q; want %d, %d, %q",
					o.StartCount, o.Remains, o.UpstreamStatus, tt.startCount, tt.remains, tt.raw)
			}
			if n := e.up.count("status"); store.Terminal(tt.status) && n != 1 {
				t.Errorf("%d status calls, want 1: an ended order is not asked about again", n)
			}
			e.check()
		})
	}
}

func TestSyncNeverGoesBack(t *testing.T) {
	e := newEnv(t, classic)
	id, up := e.dispatched("", 1000)
	steps := []struct {
		row, want string
		remains   int64
	}{
		{`{"status":"In progress","start_count":"157","remains":"600"}`, store.StatusInProgress, 600},
		{`{"status":"Pending","start_count":"157","remains":"600"}`, store.StatusInProgress, 600},
		{`{"status":"In progress","remains":"400"}`, store.StatusInProgress, 400},
		{`{"status":"Partial","start_count":"157","remains":"400"}`, store.StatusPartial, 400},
		{`{"status":"Canceled","start_count":"157","remains":"1000"}`, store.StatusPartial, 400},
		{`{"status":"Completed","start_count":"157","remains":"0"}`, store.StatusPartial, 400},
	}
	for i, s := range steps {
		e.up.setRow(up, s.row)
		e.sync()
		o := e.want(id, s.want)
		if o.Remains != s.remains || o.StartCount != 157 {
			t.Errorf("step %d (%s): remains %d, start_count %d; want %d, 157", i, s.row, o.Remains, o.StartCount, s.remains)
		}
	}
	o := e.get(id)
	if total, rows := e.refunds(id); rows != 1 || total != store.PartialRefund(o.Charge, 400, 1000) {
		t.Errorf("refunded %d in %d rows, want the partial refund once", total, rows)
	}
	e.check()
}

func TestSyncFailuresBackOff(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    handler
		note string
	}{
		{"RowError", nil, "provider answered: Incorrect order ID"},
		{"MissingRow", reply(200, `{}`), "did not report"},
		{"HTTP500", reply(500, "<html>down</html>"), "HTTP 500"},
		{"NotAnObject", reply(200, `["Completed"]`), "not an object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, classic)
			id, up := e.dispatched("", 100)
			if tt.h == nil {
				e.up.setRow(up, `{"error":"Incorrect order ID"}`)
			} else {
				e.up.setAlways("status", tt.h)
			}
			e.sync()
			o := e.want(id, store.StatusProcessing)
			if !strings.Contains(o.Reason, tt.note) || o.Attempts != 1 {
				t.Errorf("reason %q, attempts %d; want %q, 1", o.Reason, o.Attempts, tt.note)
			}
			if want := e.clock.Now().Add(2 * time.Minute).Unix(); o.NextAt != want {
				t.Errorf("next check at %d, want %d", o.NextAt, want)
			}
			e.sync() // one minute later: not yet
			if n := e.up.count("status"); n != 1 {
				t.Errorf("%d status calls before the backoff ended, want 1", n)
			}
			e.up.setAlways("status", nil)
			e.up.set(up, "Completed", "5", "0")
			e.sync()
			e.want(id, store.StatusCompleted)
			e.check()
		})
	}
}

func TestSyncAccountErrorPauses(t *testing.T) {
	e := newEnv(t, classic)
	pace(t, e.db, "upstream", 1, 0)
	e.dispatched("", 100)
	e.dispatched("", 100)
	e.up.setAlways("status", reply(401, `{"error":"Invalid API key"}`))
	for range 3 {
		e.sync()
	}
	if n := e.up.count("status"); n != 1 {
		t.Errorf("%d status calls, want 1", n)
	}
	if p, _ := e.db.FindProvider(ctx, "upstream"); p.Status != "paused" {
		t.Errorf("provider %s, want paused", p.Status)
	}
	e.check()
}

// A provider that gives two of our orders the same id has its answer about
// that id applied to both; neither is left behind, asked about forever.
func TestSyncSharedUpstreamID(t *testing.T) {
	e := newEnv(t, classic)
	e.up.next("add", reply(200, `{"order":555}`), reply(200, `{"order":"555"}`))
	a, b := e.place("", 100), e.place("", 200)
	e.tick()
	e.up.set("555", "Completed", "9", "0")
	e.sync()
	for _, id := range []string{a, b} {
		if o := e.want(id, store.StatusCompleted); o.UpstreamID != "555" {
			t.Errorf("%s: upstream id %q", id, o.UpstreamID)
		}
	}
	e.sync()
	if n := e.up.count("status"); n != 1 {
		t.Errorf("%d status calls, want 1", n)
	}
	e.check()
}

// An order the provider keeps refusing to report on is flagged for the
// operator after MaxAttempts checks, and still checked after that.
func TestSyncFlagsLostOrderForReview(t *testing.T) {
	e := newEnv(t, classic, func(c *worker.Config) { c.MaxAttempts = 3 })
	id, up := e.dispatched("", 100)
	e.up.setRow(up, `{"error":"Incorrect order ID"}`)
	for i := range 3 {
		if o := e.get(id); o.Review != "" {
			t.Fatalf("flagged after %d checks: %q", i, o.Review)
		}
		e.clock.Advance(2 * time.Hour)
		e.sync()
	}
	o := e.want(id, store.StatusProcessing)
	if !strings.Contains(o.Review, "3 tries: provider answered: Incorrect order ID") {
		t.Errorf("review = %q", o.Review)
	}
	e.check()
}
