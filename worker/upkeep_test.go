package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"notpanel/store"
	"notpanel/worker"
)

// logged reports whether a line of the log contains each of parts.
func (l *errorLog) logged(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// imported returns our services at the provider, by the provider's id.
func (e *env) imported() map[string]store.Service {
	e.t.Helper()
	all, err := e.db.Services(ctx, true)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]store.Service{}
	for _, s := range all {
		if s.Provider == "upstream" {
			out[s.ProviderService] = s
		}
	}
	return out
}

func warnings(log *errorLog) func(*worker.Config) {
	return func(c *worker.Config) { c.Log = zerolog.New(log).Level(zerolog.WarnLevel) }
}

// A provider that changes its prices and drops services between syncs:
// rates follow it at the markup, a rate the operator set by hand stays
// unless the provider now charges more, which disables the service with a
// warning (and enables it again once the provider is cheaper again), a
// dropped service is disabled, orders placed keep their price; the balance
// is read with each sync and warned about below its mark.
func TestCatalogFollowsTheProvider(t *testing.T) {
	log := &errorLog{}
	e := newEnv(t, classic, warnings(log))
	e.up.sell(1, "Followers", "1.00")
	e.up.sell(2, "Likes", "0.40")
	e.up.sell(3, "Views", "0.10")
	e.up.setBalance("12.50")
	markup, every, low := int64(2500), time.Hour, int64(20*store.MicrosPerUnit)
	if _, err := e.db.UpdateProvider(ctx, "upstream", store.ProviderPatch{MarkupBP: &markup, CatalogSync: &every, LowBalance: &low}); err != nil {
		t.Fatal(err)
	}
	e.tick()
	got := e.imported()
	for ps, want := range map[string]int64{"1": 1_250_000, "2": 500_000, "3": 125_000} {
		if s := got[ps]; s.Rate != want || !s.Enabled {
			t.Errorf("service %s after the first sync: rate %d, enabled %v; want %d, enabled", ps, s.Rate, s.Enabled, want)
		}
	}
	p, _ := e.db.FindProvider(ctx, "upstream")
	if p.State.Balance == nil || *p.State.Balance != 12_500_000 || p.State.CatalogAt == 0 || p.State.CatalogError != "" {
		t.Errorf("provider state %+v: want the balance and the sync recorded", p.State)
	}
	if !log.logged("below its low-balance mark", `"balance":"12.50"`) {
		t.Errorf("no low-balance warning in %v", log.lines)
	}
	in := store.OrderInput{ServiceID: got["1"].ID, RequestID: "before", Link: "https://x.example/p", Quantity: "1000"}
	placed, err := e.db.PlaceOrder(ctx, e.acct.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	handSet := int64(450_000)
	if _, err := e.db.UpdateService(ctx, got["2"].ID, store.ServicePatch{Rate: &handSet}); err != nil {
		t.Fatal(err)
	}

	e.up.sell(1, "Followers", "1.20")
	e.up.sell(2, "Likes", "0.50")
	e.up.sell(3, "", "")
	e.up.setBalance("80")
	e.clock.Advance(59 * time.Minute)
	e.tick()
	if n := e.up.count("services"); n != 1 {
		t.Fatalf("%d catalog reads before the hour was up, want 1", n)
	}
	e.clock.Advance(time.Minute)
	e.tick()
	got = e.imported()
	if s := got["1"]; s.Rate != 1_500_000 || !s.Enabled {
		t.Errorf("service 1 after the provider raised its rate: %+v, want 1.50 (the markup kept)", s)
	}
	if s := got["2"]; s.Rate != handSet || s.Enabled || !strings.Contains(s.Warning, "below the provider's 0.50") {
		t.Errorf("service 2, set by hand below the provider's new rate: %+v, want disabled with a warning", s)
	}
	if s := got["3"]; s.Enabled {
		t.Errorf("service 3, dropped by the provider, is still enabled")
	}
	if !log.logged("service disabled", "Likes", `"rate":"0.45"`, `"provider_rate":"0.50"`) {
		t.Errorf("no warning about service 2 in %v", log.lines)
	}
	if o := e.get(placed); o.Charge != 1_250_000 {
		t.Errorf("the order placed before the rise is charged %d, want 1250000", o.Charge)
	}
	if log.logged("below its low-balance mark", `"balance":"80.00"`) {
		t.Error("a balance above the mark was warned about")
	}
	if p, _ := e.db.FindProvider(ctx, "upstream"); p.State.Balance == nil || *p.State.Balance != 80_000_000 {
		t.Errorf("balance %v, want 80", p.State.Balance)
	}

	// Cheaper again: the service disabled for the loss comes back, at the
	// operator's rate; a service the operator disabled stays disabled.
	off := false
	if _, err := e.db.UpdateService(ctx, got["1"].ID, store.ServicePatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	e.up.sell(2, "Likes", "0.40")
	e.clock.Advance(time.Hour)
	e.tick()
	got = e.imported()
	if s := got["2"]; s.Rate != handSet || !s.Enabled || s.Warning != "" {
		t.Errorf("service 2 once the provider is cheaper again: %+v, want enabled, no warning", s)
	}
	if got["1"].Enabled {
		t.Error("the sync enabled a service the operator disabled")
	}
	e.check()
}

// A service added by hand on the provider, cheaper than the provider
// sells it, is disabled by the sync with a warning; the operator enables it
// again by raising its rate.
func TestCatalogSyncDisablesHandAddedLoss(t *testing.T) {
	e := newEnv(t, classic)
	e.up.sell(101, "Followers", "1.20") // the env's Followers is sold at 0.90 on service 101
	markup, every := int64(1000), time.Hour
	if _, err := e.db.UpdateProvider(ctx, "upstream", store.ProviderPatch{MarkupBP: &markup, CatalogSync: &every}); err != nil {
		t.Fatal(err)
	}
	e.tick()
	s, err := e.db.Service(ctx, e.svc[store.TypeDefault].ID)
	if err != nil || s.Enabled || !strings.Contains(s.Warning, "0.90 is below the provider's 1.20") {
		t.Fatalf("service added by hand at 0.90, sold by the provider at 1.20: %+v, %v", s, err)
	}
	rate, on := int64(1_300_000), true
	if s, err = e.db.UpdateService(ctx, s.ID, store.ServicePatch{Rate: &rate, Enabled: &on}); err != nil || s.Warning != "" {
		t.Fatalf("raised: %+v, %v", s, err)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	if s, _ := e.db.Service(ctx, s.ID); !s.Enabled || s.Warning != "" {
		t.Errorf("after the operator raised the rate above the provider's: %+v", s)
	}
}

// A sync that fails is recorded and tried again within minutes; the
// balance is still read.
func TestCatalogSyncFailureIsRetried(t *testing.T) {
	log := &errorLog{}
	e := newEnv(t, classic, warnings(log))
	e.up.setAlways("services", reply(502, "<html>Bad gateway</html>"))
	e.up.setBalance("5")
	markup, every := int64(2000), 6*time.Hour
	if _, err := e.db.UpdateProvider(ctx, "upstream", store.ProviderPatch{MarkupBP: &markup, CatalogSync: &every}); err != nil {
		t.Fatal(err)
	}
	e.tick()
	p, _ := e.db.FindProvider(ctx, "upstream")
	if !strings.Contains(p.State.CatalogError, "502") || p.State.Balance == nil || *p.State.Balance != 5_000_000 {
		t.Errorf("state after a failed sync: %+v", p.State)
	}
	if want := e.clock.Now().Add(5 * time.Minute).Unix(); p.State.UpkeepNext != want {
		t.Errorf("next look at %d, want %d (5 min later)", p.State.UpkeepNext, want)
	}
	if !log.logged("catalog sync failed") {
		t.Errorf("no warning in %v", log.lines)
	}
	e.up.setAlways("services", nil)
	e.up.sell(7, "Views", "0.10")
	e.clock.Advance(5 * time.Minute)
	e.tick()
	p, _ = e.db.FindProvider(ctx, "upstream")
	if p.State.CatalogError != "" || e.imported()["7"].Rate != 120_000 {
		t.Errorf("after the retry: %+v, services %+v", p.State, e.imported())
	}
	if want := e.clock.Now().Add(6 * time.Hour).Unix(); p.State.UpkeepNext != want {
		t.Errorf("next look at %d, want %d (on the schedule)", p.State.UpkeepNext, want)
	}
}

// Without a catalog sync the balance is read hourly, and the catalog is
// left alone.
func TestBalanceReadHourly(t *testing.T) {
	e := newEnv(t, classic)
	e.up.setBalance("3.5")
	low := int64(0)
	if _, err := e.db.UpdateProvider(ctx, "upstream", store.ProviderPatch{LowBalance: &low}); err != nil {
		t.Fatal(err)
	}
	e.tick()
	e.clock.Advance(59 * time.Minute)
	e.tick()
	if n := e.up.count("balance"); n != 1 {
		t.Errorf("%d balance reads in the first hour, want 1", n)
	}
	e.clock.Advance(time.Minute)
	e.tick()
	if n, s := e.up.count("balance"), e.up.count("services"); n != 2 || s != 0 {
		t.Errorf("%d balance reads and %d catalog reads after an hour, want 2 and 0", n, s)
	}
	p, _ := e.db.FindProvider(ctx, "upstream")
	if p.State.Balance == nil || *p.State.Balance != 3_500_000 || p.State.BalanceCurrency != "USD" {
		t.Errorf("state %+v", p.State)
	}
}
