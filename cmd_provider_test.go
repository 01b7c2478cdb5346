package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A provider's settings changed while serve runs are applied by its worker
// within seconds: the pace shows in /metrics, the catalog is imported at
// the markup, the balance is read, exported and warned about below the
// mark; provider list shows all of it.
func TestProviderSetAppliedByRunningServer(t *testing.T) {
	fake, db := withCatalogProvider(t)
	fake.set(`[{"service":101,"name":"Followers","type":"Default","category":"Instagram","rate":"0.80","min":"50","max":"10000"}]`)
	s := startServe(t, db, "--worker-interval", "50ms")
	metric := func(want string) bool {
		resp, err := http.Get("http://" + s.ops + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), want)
	}
	waitMetric := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !metric(want); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("/metrics never showed %s", want)
			}
		}
	}
	waitMetric(`notpanel_provider_concurrency{provider="bigsmm"} 16`)
	r := notpanel(t, db, "provider", "set", "bigsmm", "--concurrency", "3", "--per-minute", "600",
		"--markup", "25", "--catalog-sync", "1m", "--low-balance", "100")
	if r.code != 0 || !strings.Contains(r.stderr, "3 at once, 600/min") || !strings.Contains(r.stderr, "every 1m0s at 25 %") {
		t.Fatalf("provider set: exit %d\n%s", r.code, r.stderr)
	}
	waitMetric(`notpanel_provider_concurrency{provider="bigsmm"} 3`)
	waitMetric(`notpanel_provider_balance{currency="USD",provider="bigsmm"} 12.345678`)
	waitMetric(`notpanel_provider_balance_low{provider="bigsmm"} 1`)
	if !metric(`notpanel_provider_pace{provider="bigsmm"} 3`) {
		t.Error("/metrics lacks the pace")
	}
	var services []serviceJSON
	decode(t, ok(t, db, "service", "list", "--json"), &services)
	if len(services) != 1 || services[0].Rate != "1.00" || services[0].ProviderService != "101" {
		t.Errorf("catalog after the sync: %+v", services)
	}
	list := ok(t, db, "provider", "list")
	for _, want := range []string{"3 at once, 600/min", "12.345678 USD (below 100.00)", "every 1m0s at 25 %, synced 20"} {
		if !strings.Contains(list, want) {
			t.Errorf("provider list lacks %q:\n%s", want, list)
		}
	}
	var rows []providerJSON
	decode(t, ok(t, db, "provider", "list", "--json"), &rows)
	if p := rows[0]; p.Concurrency != 3 || p.PerMinute != 600 || p.Pace != 3 || p.Markup != "25" || p.CatalogSync != "1m0s" ||
		p.Balance != "12.345678" || p.LowBalance != "100.00" || !p.BalanceLow || p.CatalogSynced == "" {
		t.Errorf("provider list --json: %+v", p)
	}
	_, logs := s.shutdown(t)
	all := strings.Join(logs, "\n")
	for _, want := range []string{"catalog synced", "below its low-balance mark"} {
		if !strings.Contains(all, want) {
			t.Errorf("the server's log lacks %q", want)
		}
	}
}

func TestProviderSetErrors(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "provider", "add", "up", "--url", "https://up.example/api/v2", "--key", "k")
	for _, args := range [][]string{
		{"provider", "set", "up"},
		{"provider", "set", "up", "--concurrency", "0"},
		{"provider", "set", "up", "--concurrency", "5000"},
		{"provider", "set", "up", "--per-minute", "-1"},
		{"provider", "set", "up", "--catalog-sync", "1h"},
		{"provider", "set", "up", "--catalog-sync", "10s", "--markup", "10"},
		{"provider", "set", "up", "--markup", "abc"},
		{"provider", "set", "up", "--low-balance", "-5"},
		{"provider", "set", "nobody", "--concurrency", "2"},
	} {
		failing(t, db, args...)
	}
	ok(t, db, "provider", "set", "up", "--low-balance", "20")
	ok(t, db, "provider", "set", "up", "--low-balance", "0")
	var rows []providerJSON
	decode(t, ok(t, db, "provider", "list", "--json"), &rows)
	if rows[0].LowBalance != "" || rows[0].Concurrency != 16 || rows[0].Balance != "" {
		t.Errorf("after removing the mark: %+v", rows[0])
	}
	if list := ok(t, db, "provider", "list"); !strings.Contains(list, "16 at once") || !strings.Contains(list, "not read yet") ||
		!strings.Contains(list, "not synced") {
		t.Errorf("provider list:\n%s", list)
	}
}

// The provider list shows a pace the worker lowered, with why.
func TestProviderListShowsLoweredPace(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "provider", "add", "up", "--url", "https://up.example/api/v2", "--key", "k")
	s := openStore(t, db)
	p, _ := s.FindProvider(context.Background(), "up")
	if err := s.RecordPace(context.Background(), p.ID, 4, 0, "add at 10:00:00 UTC: HTTP 429 Too Many Requests", time.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	if list := ok(t, db, "provider", "list"); !strings.Contains(list, "4 of 16 at once (lowered: add at 10:00:00 UTC: HTTP 429") {
		t.Errorf("provider list:\n%s", list)
	}
	if err := s.RecordPace(context.Background(), p.ID, 1, 4*time.Second, "status: too many requests", time.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	if list := ok(t, db, "provider", "list"); !strings.Contains(list, "1 of 16 at once (calls held 4s: status") {
		t.Errorf("provider list:\n%s", list)
	}
}
