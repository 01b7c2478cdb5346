package worker_test

import (
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/worker"
)

// withBackup adds a backup provider of the given dialect and makes it the
// backup of the env's Followers service, as its service 555.
func (e *env) withBackup(dialect string) (*fakeProvider, store.Provider) {
	e.t.Helper()
	b := newFakeProvider(e.t, dialect == notpanel)
	p := addProvider(e.t, e.db, store.Provider{Name: "backup", URL: b.srv.URL, APIKey: "b-key", Dialect: dialect})
	name, service := "backup", "555"
	if _, err := e.db.UpdateService(ctx, e.svc[store.TypeDefault].ID,
		store.ServicePatch{BackupProvider: &name, BackupProviderService: &service}); err != nil {
		e.t.Fatal(err)
	}
	return b, p
}

// An order the provider definitely refuses, for a reason that holds for
// every order of the service now (the service is gone, no funds there, our
// key refused), goes to the backup within the same pass: once, as the
// backup's service, shown by order show; its status is then asked of the
// backup.
func TestFailoverOnDefiniteRefusal(t *testing.T) {
	for _, tt := range []struct{ name, refusal string }{
		{"NoFunds", "Not enough funds on balance"},
		{"ServiceGone", "Incorrect service ID"},
		{"KeyRefused", "Invalid API key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, classic)
			b, bp := e.withBackup(classic)
			e.up.next("add", reply(200, `{"error":"`+tt.refusal+`"}`))
			id := e.place("", 100)
			e.tick()
			o := e.want(id, store.StatusProcessing)
			if o.ProviderID != bp.ID || !strings.Contains(o.Failover, tt.refusal) || !strings.Contains(o.Failover, "backup") {
				t.Errorf("order at provider %d with failover %q: want the backup (%d) and the refusal", o.ProviderID, o.Failover, bp.ID)
			}
			adds := b.callsOf("add")
			if len(adds) != 1 || adds[0].Get("service") != "555" || adds[0].Get("link") != e.links[id] || adds[0].Get("key") != "b-key" {
				t.Fatalf("backup adds %v: want one, of service 555", adds)
			}
			if n := e.up.count("add"); n != 1 {
				t.Errorf("%d adds at the provider, want 1", n)
			}
			b.set(o.UpstreamID, "Completed", "5", "0")
			e.sync()
			e.want(id, store.StatusCompleted)
			if e.up.count("status") != 0 || b.count("status") != 1 {
				t.Errorf("status calls: %d to the provider, %d to the backup; want the backup's only", e.up.count("status"), b.count("status"))
			}
			e.check()
		})
	}
}

// Once the provider is paused (it refused our key), new orders go to the
// backup without being offered to the provider.
func TestFailoverWhileProviderPaused(t *testing.T) {
	e := newEnv(t, classic)
	b, bp := e.withBackup(classic)
	e.up.setAlways("add", reply(200, `{"error":"Invalid API key"}`))
	first := e.place("", 100)
	e.tick()
	if p, _ := e.db.FindProvider(ctx, "upstream"); p.Status != "paused" {
		t.Fatalf("provider %s, want paused", p.Status)
	}
	second := e.place("", 100)
	likes := e.place(store.TypePackage, 100) // no backup: waits for the provider
	e.tick()
	for _, id := range []string{first, second} {
		if o := e.want(id, store.StatusProcessing); o.ProviderID != bp.ID {
			t.Errorf("order %s at provider %d, want the backup", id, o.ProviderID)
		}
	}
	if o := e.get(second); !strings.Contains(o.Failover, "paused") {
		t.Errorf("failover note %q, want it to say the provider is paused", o.Failover)
	}
	if n := e.up.count("add"); n != 1 {
		t.Errorf("%d adds at the paused provider, want the first only", n)
	}
	if n := b.count("add"); n != 2 {
		t.Errorf("%d adds at the backup, want 2", n)
	}
	e.want(likes, store.StatusPending)
	storetest.Audit(t, e.db)
}

// Only a definite refusal that holds for the whole service fails over. An
// unknown outcome may mean the provider has the order: it is parked, and
// the backup never hears of it. A refusal of this order (a bad link), a
// busy provider or an error that may pass keep the order with its provider.
func TestNoFailoverUnlessDefinite(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer handler
		want   string // the order's status after the pass
		review bool
	}{
		{"Unknown", hang, store.StatusPending, true},
		{"BadLink", reply(200, `{"error":"Incorrect link"}`), store.StatusFailed, false},
		{"Busy", reply(429, `{"error":"Too many requests"}`), store.StatusPending, false},
		{"ServerError", reply(500, `{"error":"Internal error"}`), store.StatusPending, false},
		{"Garbage", reply(200, `<html>oops</html>`), store.StatusPending, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, classic, shortCalls)
			b, _ := e.withBackup(classic)
			e.up.next("add", tt.answer)
			id := e.place("", 100)
			e.tick()
			if o := e.want(id, tt.want); (o.Review != "") != tt.review || o.Failover != "" {
				t.Errorf("order %+v: review %q, failover %q", o, o.Review, o.Failover)
			}
			if n := b.total(); n != 0 {
				t.Errorf("the backup got %d calls", n)
			}
			storetest.Audit(t, e.db)
		})
	}
}

// An order that may be at its notpanel provider (the add's answer was lost)
// is resent there and only there: even when the provider then says it has
// no funds, or is paused, the backup never gets it.
func TestMaybeSentOrderStaysWithItsProvider(t *testing.T) {
	e := newEnv(t, notpanel, shortCalls)
	b, _ := e.withBackup(classic)
	e.up.next("add", hang, reply(200, `{"error":"Not enough funds on balance"}`))
	id := e.place("", 100)
	e.tick() // lost answer: resent later
	e.clock.Advance(time.Hour)
	e.tick() // no funds: no failover, retried
	if o := e.want(id, store.StatusPending); o.Failover != "" || o.Review != "" {
		t.Fatalf("order %+v after no funds: want it waiting for its provider", o)
	}
	if err := e.db.PauseProvider(ctx, e.get(id).ProviderID, "test"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	if n := b.total(); n != 0 {
		t.Fatalf("the backup got %d calls for an order that may be at the provider", n)
	}
	if _, err := e.db.ResumeProvider(ctx, "upstream"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	e.want(id, store.StatusProcessing)
	if n := e.up.count("add"); n != 3 {
		t.Errorf("%d adds at the provider, want 3", n)
	}
	if reqs := e.up.callsOf("add"); reqs[0].Get("request_id") != id || reqs[2].Get("request_id") != id {
		t.Errorf("resends without the order's request_id: %v", reqs)
	}
	e.check()
}

// When the backup refuses too, the order ends as it would have at the
// provider: failed and refunded for good, or tried again later, the
// provider first.
func TestBackupRefusesToo(t *testing.T) {
	e := newEnv(t, classic, func(c *worker.Config) { c.MaxAttempts = 5 })
	b, _ := e.withBackup(classic)
	e.up.setAlways("add", reply(200, `{"error":"Not enough funds on balance"}`))
	b.next("add", reply(200, `{"error":"Incorrect service ID"}`), reply(503, ""))
	failed := e.place("", 100)
	e.tick()
	e.fullyRefundedOnce(failed, store.StatusFailed)
	retried := e.place("", 100)
	e.tick()
	if o := e.want(retried, store.StatusPending); o.Attempts != 1 || o.ProviderID != 0 || o.Failover != "" {
		t.Errorf("after the backup's 503: %+v, want a failed try and the order free for the provider", o)
	}
	e.up.setAlways("add", nil)
	e.clock.Advance(time.Minute)
	e.tick()
	if o := e.want(retried, store.StatusProcessing); o.ProviderID == 0 || o.Failover != "" {
		t.Errorf("retried order %+v: want it at the provider", o)
	}
	if n := b.count("add"); n != 2 {
		t.Errorf("%d adds at the backup, want 2", n)
	}
	e.check()
}
