package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"notpanel/store"
)

// fakeCatalog is a provider whose catalog and balance the test sets.
type fakeCatalog struct {
	mu       sync.Mutex
	services string
}

func (f *fakeCatalog) set(s string) { f.mu.Lock(); f.services = s; f.mu.Unlock() }

// withCatalogProvider starts a fakeCatalog and adds it to a new database
// as provider bigsmm; it returns the fake and the database's path.
func withCatalogProvider(t *testing.T) (*fakeCatalog, string) {
	t.Helper()
	fake := &fakeCatalog{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	db := dbPath(t)
	ok(t, db, "provider", "add", "bigsmm", "--url", srv.URL, "--key", "k")
	return fake, db
}

func (f *fakeCatalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.PostFormValue("action") {
	case "services":
		io.WriteString(w, f.services)
	case "balance":
		io.WriteString(w, `{"balance":12.3456789,"currency":"USD"}`)
	default:
		io.WriteString(w, `{"error":"Incorrect request"}`)
	}
}

func TestServiceImport(t *testing.T) {
	fake, db := withCatalogProvider(t)
	fake.set(`[{"service":101,"name":"Followers","type":"Default","category":"Instagram","rate":"0.90","min":"50","max":"10000","refill":true,"cancel":"1"},
		{"service":"102","name":"Likes","type":"Default","category":"Instagram","rate":0.3,"min":10,"max":5000},
		{"service":103,"name":"Subs","type":"Subscriptions","category":"YouTube","rate":"5","min":"1","max":"10"},
		{"service":104,"name":"Broken","rate":"abc","min":"1","max":"2"}]`)
	r := notpanel(t, db, "service", "import", "--provider", "bigsmm", "--markup", "25")
	if r.code != 0 || !strings.Contains(r.stderr, "2 added, 0 updated, 0 unchanged, 0 disabled (no longer listed), 2 skipped") {
		t.Fatalf("first import: exit %d\n%s", r.code, r.stderr)
	}
	rates := func() map[string]serviceJSON {
		var rows []serviceJSON
		decode(t, ok(t, db, "service", "list", "--json"), &rows)
		out := map[string]serviceJSON{}
		for _, s := range rows {
			out[s.ProviderService] = s
		}
		return out
	}
	got := rates()
	if got["101"].Rate != "1.125" || got["102"].Rate != "0.375" || !got["101"].Refill || !got["101"].Cancel {
		t.Errorf("imported at 25%%: %+v", got)
	}

	// The operator renames Followers; the provider raises its price and
	// drops Likes. Re-import keeps the new name, takes the new rate at the new
	// markup, and disables Likes.
	ok(t, db, "service", "set", got["101"].serviceID(), "--name", "Premium Followers")
	fake.set(`[{"service":101,"name":"Followers v2","type":"Default","category":"Instagram","rate":"1.00","min":"50","max":"10000","refill":true,"cancel":true}]`)
	r = notpanel(t, db, "service", "import", "--provider", "bigsmm", "--markup", "10")
	if r.code != 0 || !strings.Contains(r.stderr, "0 added, 1 updated, 0 unchanged, 1 disabled") {
		t.Fatalf("re-import: exit %d\n%s", r.code, r.stderr)
	}
	got = rates()
	if got["101"].Name != "Premium Followers" || got["101"].Rate != "1.10" || got["102"].Enabled {
		t.Errorf("after re-import: %+v", got)
	}

	failing(t, db, "service", "import", "--provider", "bigsmm", "--markup", "1.234")
	failing(t, db, "service", "import", "--provider", "nobody", "--markup", "10")
}

func (s serviceJSON) serviceID() string { return count(s.Service.Service) }

func TestProviderBalanceAndResume(t *testing.T) {
	_, db := withCatalogProvider(t)
	if got := ok(t, db, "provider", "balance", "bigsmm"); got != "12.345678 USD\n" {
		t.Errorf("provider balance = %q", got)
	}
	s := openStore(t, db)
	p, _ := s.FindProvider(context.Background(), "bigsmm")
	if err := s.PauseProvider(context.Background(), p.ID, "Invalid API key"); err != nil {
		t.Fatal(err)
	}
	if out := ok(t, db, "provider", "list"); !strings.Contains(out, "paused (Invalid API key)") {
		t.Errorf("provider list does not show the pause:\n%s", out)
	}
	ok(t, db, "provider", "resume", "bigsmm")
	if p, _ := s.FindProvider(context.Background(), "bigsmm"); p.Status != "active" {
		t.Errorf("after resume: %s", p.Status)
	}
}

func TestOrderResolve(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	park := func() string {
		id := s.order(t, 1000)
		if claimed, err := s.store.ClaimOrder(ctx, id); err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		if err := s.store.ParkOrder(ctx, id, "timeout after sending"); err != nil {
			t.Fatal(err)
		}
		return id
	}
	failed, found, resend := park(), park(), park()
	var rows []orderJSON
	decode(t, ok(t, s.path, "order", "list", "--review", "--json"), &rows)
	if len(rows) != 3 || rows[0].Review != "timeout after sending" {
		t.Fatalf("order list --review: %+v", rows)
	}
	before := balanceOf(t, s.store, "alice")
	ok(t, s.path, "order", "resolve", failed, "--fail")
	ok(t, s.path, "order", "resolve", found, "--upstream-id", "9911")
	ok(t, s.path, "order", "resolve", resend, "--resend")
	want := map[string]string{failed: store.StatusFailed, found: store.StatusProcessing, resend: store.StatusPending}
	for id, status := range want {
		o, _ := s.store.FindOrder(ctx, id)
		if o.Status != status || o.Review != "" {
			t.Errorf("%s: status %s review %q, want %s and no review", id, o.Status, o.Review, status)
		}
	}
	if b := balanceOf(t, s.store, "alice"); b != before+900_000 {
		t.Errorf("balance %d, want %d (the failed order refunded)", b, before+900_000)
	}
	failing(t, s.path, "order", "resolve", found, "--resend") // no longer parked
	failing(t, s.path, "order", "resolve", found)             // no resolution given
	ok(t, s.path, "audit")
}

func TestDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0"}, strings.NewReader(""), pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var key, api string
	for sc.Scan() {
		line := sc.Text()
		if k, found := strings.CutPrefix(line, "API key: "); found {
			key = k
		}
		if strings.Contains(line, "action=services") {
			api = strings.Fields(line)[2]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if key == "" || api == "" {
		t.Fatalf("demo printed no key or curl (key %q, api %q)", key, api)
	}
	post := func(v url.Values) map[string]any {
		v.Set("key", key)
		resp, err := http.PostForm(api, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	if b := post(url.Values{"action": {"balance"}}); b["balance"] != "100.00" {
		t.Errorf("demo balance: %v", b)
	}
	added := post(url.Values{"action": {"add"}, "service": {"1"}, "request_id": {"t1"},
		"link": {"https://instagram.com/p/demo"}, "quantity": {"1000"}})
	id, _ := added["order"].(string)
	if id == "" {
		t.Fatalf("demo add: %v", added)
	}
	// The worker hands the order to the simulated provider within a few of
	// its one-second passes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := post(url.Values{"action": {"status"}, "order": {id}})
		if st["status"] != "pending" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order still pending after 30 s: %v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	if code := <-done; code != 0 {
		t.Errorf("demo exited %d", code)
	}
}

// A service's backup is set, shown and removed with service set; an order
// sent there shows its provider and why in order show.
func TestServiceBackupAndFailoverShown(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	ok(t, s.path, "provider", "add", "spare", "--url", "https://spare.example/api/v2", "--key", "k")
	failing(t, s.path, "service", "set", "1", "--backup-provider", "spare")
	failing(t, s.path, "service", "set", "1", "--backup-provider", "upstream", "--backup-provider-service", "5")
	failing(t, s.path, "service", "set", "1", "--backup-provider", "nobody", "--backup-provider-service", "5")
	r := notpanel(t, s.path, "service", "set", "1", "--backup-provider", "spare", "--backup-provider-service", "777")
	if r.code != 0 || !strings.Contains(r.stderr, "backup spare service 777") {
		t.Fatalf("service set --backup-provider: exit %d\n%s", r.code, r.stderr)
	}
	var rows []serviceJSON
	decode(t, ok(t, s.path, "service", "list", "--json"), &rows)
	if rows[0].BackupProvider != "spare" || rows[0].BackupProviderService != "777" {
		t.Errorf("service list --json: %+v", rows[0])
	}
	if list := ok(t, s.path, "service", "list"); !strings.Contains(list, "spare 777") {
		t.Errorf("service list:\n%s", list)
	}

	id := s.order(t, 100)
	if ok, err := s.store.ClaimOrder(ctx, id); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	upstream, _ := s.store.FindProvider(ctx, "upstream")
	spare, _ := s.store.FindProvider(ctx, "spare")
	if err := s.store.DispatchFailover(ctx, id, upstream.ID, spare.ID, "provider upstream refused the order (Not enough funds); sent to the backup spare"); err != nil {
		t.Fatal(err)
	}
	if err := s.store.DispatchAccepted(ctx, id, "55", 0); err != nil {
		t.Fatal(err)
	}
	text := ok(t, s.path, "order", "show", id)
	for _, want := range []string{"provider:", "spare", "sent to the backup:", "Not enough funds"} {
		if !strings.Contains(text, want) {
			t.Errorf("order show lacks %q:\n%s", want, text)
		}
	}
	var shown orderJSON
	decode(t, ok(t, s.path, "order", "show", id, "--json"), &shown)
	if shown.Provider != "spare" || !strings.Contains(shown.Failover, "Not enough funds") {
		t.Errorf("order show --json: %+v", shown)
	}

	ok(t, s.path, "service", "set", "1", "--backup-provider", "")
	var after []serviceJSON
	decode(t, ok(t, s.path, "service", "list", "--json"), &after)
	if after[0].BackupProvider != "" {
		t.Errorf("after removing the backup: %+v", after[0])
	}
}

// service import takes the provider's markup when given none, and says
// which services it disabled for selling below the provider's rate;
// service list shows the warning.
func TestServiceImportWarnsOfLosses(t *testing.T) {
	fake, db := withCatalogProvider(t)
	fake.set(`[{"service":101,"name":"Followers","type":"Default","category":"Instagram","rate":"1.00","min":"50","max":"10000"}]`)
	r := failing(t, db, "service", "import", "--provider", "bigsmm")
	if !strings.Contains(r.stderr, "provider set bigsmm --markup") {
		t.Errorf("import without a markup: %s", r.stderr)
	}
	ok(t, db, "provider", "set", "bigsmm", "--markup", "20")
	ok(t, db, "service", "import", "--provider", "bigsmm")
	var rows []serviceJSON
	decode(t, ok(t, db, "service", "list", "--json"), &rows)
	if len(rows) != 1 || rows[0].Rate != "1.20" {
		t.Fatalf("imported at the provider's markup: %+v", rows)
	}
	ok(t, db, "service", "set", "1", "--rate", "1.10")
	fake.set(`[{"service":101,"name":"Followers","type":"Default","category":"Instagram","rate":"1.15","min":"50","max":"10000"}]`)
	r = notpanel(t, db, "service", "import", "--provider", "bigsmm")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: service 1 (Followers) disabled: rate 1.10 is below the provider's 1.15") {
		t.Errorf("import over a hand-set rate: exit %d\n%s", r.code, r.stderr)
	}
	list := ok(t, db, "service", "list")
	if !strings.Contains(list, "no (warning below)") || !strings.Contains(list, "warning: service 1 (Followers): rate 1.10 is below") {
		t.Errorf("service list:\n%s", list)
	}
	decode(t, ok(t, db, "service", "list", "--json"), &rows)
	if rows[0].Enabled || !strings.Contains(rows[0].Warning, "1.15") {
		t.Errorf("service list --json: %+v", rows[0])
	}
	ok(t, db, "service", "set", "1", "--rate", "1.30", "--enabled")
	var after []serviceJSON
	decode(t, ok(t, db, "service", "list", "--json"), &after)
	if !after[0].Enabled || after[0].Warning != "" {
		t.Errorf("after the operator raised the rate: %+v", after[0])
	}
}
