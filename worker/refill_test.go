package worker_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/worker"
)

// refillable returns an order the provider completed, and its provider id.
func (e *env) refillable() (id, up string) {
	e.t.Helper()
	id, up = e.dispatched("", 100)
	e.up.set(up, "Completed", "10", "0")
	e.sync()
	e.want(id, store.StatusCompleted)
	return id, up
}

func (e *env) askRefill(id string) string {
	e.t.Helper()
	res, err := e.db.RequestRefills(ctx, store.Customer(e.acct.ID), []string{id})
	if err != nil || res[0].Err != nil {
		e.t.Fatalf("refill %s: %v, %v", id, err, res[0].Err)
	}
	return res[0].Result
}

// refill returns the refill's status, its reason and the provider's text.
func (e *env) refill(ref string) (status, reason, upstream string) {
	e.t.Helper()
	if e.raw == nil {
		e.raw = storetest.Raw(e.t, e.db)
	}
	err := e.raw.QueryRowContext(ctx,
		`SELECT status, reason, upstream_status FROM refills WHERE id = ?`, ref).Scan(&status, &reason, &upstream)
	if err == sql.ErrNoRows {
		e.t.Fatalf("no refill %s", ref)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return status, reason, upstream
}

func TestRefillMirrored(t *testing.T) {
	e := newEnv(t, classic)
	id, up := e.refillable()
	ref := e.askRefill(id)
	e.tick()
	f := e.up.callsOf("refill")
	if len(f) != 1 || f[0].Get("order") != up {
		t.Fatalf("refill calls %v, want one for %s", f, up)
	}
	if st, _, _ := e.refill(ref); st != store.RefillProcessing {
		t.Fatalf("refill %s after the provider took it, want processing", st)
	}
	e.tick()
	if n := e.up.count("refill_status"); n != 0 {
		t.Fatalf("%d refill_status calls before the sync interval", n)
	}
	steps := []struct{ upstream, want string }{
		{"In progress", store.RefillProcessing},
		{"Being checked", store.RefillProcessing}, // unknown: kept, text shown
		{"Completed", store.RefillCompleted},
		{"Rejected", store.RefillCompleted}, // a final status is never left
	}
	for _, s := range steps {
		e.up.mu.Lock()
		e.up.refills["1002"] = s.upstream
		e.up.mu.Unlock()
		e.sync()
		st, _, raw := e.refill(ref)
		if st != s.want || s.want == store.RefillProcessing && raw != s.upstream {
			t.Errorf("provider says %q: refill %s (%q), want %s", s.upstream, st, raw, s.want)
		}
	}
	if n := e.up.count("refill_status"); n != 3 {
		t.Errorf("%d refill_status calls, want 3: none once completed", n)
	}
	m, err := e.db.Refills(ctx, e.acct.ID, []string{ref})
	if err != nil || m[ref].Status != store.RefillCompleted {
		t.Errorf("customer sees %+v, %v", m[ref], err)
	}
	e.askRefill(id) // the next one may start
	e.check()
}

func TestRefillRefusedIsRejected(t *testing.T) {
	e := newEnv(t, classic)
	id, _ := e.refillable()
	e.up.next("refill", reply(200, `{"error":"Refill is not supported for this service"}`))
	ref := e.askRefill(id)
	e.tick()
	if st, reason, _ := e.refill(ref); st != store.RefillRejected || !strings.Contains(reason, "not supported") {
		t.Errorf("refill %s (%q), want rejected with the reason", st, reason)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	if n := e.up.count("refill"); n != 1 {
		t.Errorf("%d refill calls, want 1", n)
	}
	e.askRefill(id) // a rejected refill does not block the next
	e.check()
}

func TestRefillFailuresBackOffThenGiveUp(t *testing.T) {
	e := newEnv(t, classic, func(c *worker.Config) { c.MaxAttempts = 3 })
	id, _ := e.refillable()
	e.up.setAlways("refill", reply(502, "<html>Bad gateway</html>"))
	ref := e.askRefill(id)
	e.tick()
	e.clock.Advance(30 * time.Second)
	e.tick()
	e.clock.Advance(59 * time.Second) // the second retry waits twice as long
	e.tick()
	if n := e.up.count("refill"); n != 2 {
		t.Fatalf("%d refill calls, want 2 before the doubled backoff ended", n)
	}
	if st, _, _ := e.refill(ref); st != store.RefillPending {
		t.Fatalf("refill %s, want pending while retried", st)
	}
	e.clock.Advance(time.Second)
	e.tick()
	if st, reason, _ := e.refill(ref); st != store.RefillRejected || !strings.Contains(reason, "HTTP 502") {
		t.Errorf("refill %s (%q) after 3 failed calls, want rejected with the reason", st, reason)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	if n := e.up.count("refill"); n != 3 {
		t.Errorf("%d refill calls, want 3", n)
	}
	e.check()
}

func TestRefillStatusErrors(t *testing.T) {
	e := newEnv(t, classic)
	id, _ := e.refillable()
	ref := e.askRefill(id)
	e.tick()
	e.up.next("refill_status", reply(200, `[{"refill":1002,"error":"Incorrect refill ID"}]`), reply(500, ""))
	e.sync()
	if st, reason, _ := e.refill(ref); st != store.RefillProcessing || reason != "Incorrect refill ID" {
		t.Errorf("refill %s (%q), want processing with the row's error", st, reason)
	}
	e.sync() // backed off to two intervals: not asked yet
	e.sync()
	e.clock.Advance(2 * time.Minute)
	e.tick()
	if n := e.up.count("refill_status"); n != 3 {
		t.Errorf("%d refill_status calls, want 3", n)
	}
	e.up.mu.Lock()
	e.up.refills["1002"] = "Completed"
	e.up.mu.Unlock()
	e.clock.Advance(2 * time.Minute)
	e.tick()
	if st, _, _ := e.refill(ref); st != store.RefillCompleted {
		t.Errorf("refill %s, want completed", st)
	}
	e.check()
}

func TestRefillAccountErrorPauses(t *testing.T) {
	e := newEnv(t, classic)
	id, _ := e.refillable()
	e.up.next("refill", reply(200, `{"error":"Invalid API key"}`))
	ref := e.askRefill(id)
	e.tick()
	if p, _ := e.db.FindProvider(ctx, "upstream"); p.Status != "paused" {
		t.Fatalf("provider %s, want paused", p.Status)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	if st, _, _ := e.refill(ref); st != store.RefillPending || e.up.count("refill") != 1 {
		t.Errorf("refill %s after %d calls, want pending after 1", st, e.up.count("refill"))
	}
	e.check()
}
