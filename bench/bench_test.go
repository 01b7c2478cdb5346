package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestOrderIDIsStableAndValid(t *testing.T) {
	a, b := OrderID(42), OrderID(42)
	if a != b {
		t.Fatalf("OrderID(42) differs between calls: %s %s", a, b)
	}
	if _, ok := store.ParseID(store.PrefixOrder, a); !ok {
		t.Errorf("OrderID(42) = %s is not a valid order id", a)
	}
	if OrderID(43) == a {
		t.Error("distinct indexes share an id")
	}
}

func TestSeedKeepsTheBooks(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	s, err := Seed(ctx, db, 3, 2, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != 3 {
		t.Fatalf("%d keys, want 3", len(s.Keys))
	}
	p, err := db.Authenticate(ctx, s.Keys[1])
	if err != nil || p.AccountID != 2 {
		t.Fatalf("key 2 authenticates as %+v, %v", p, err)
	}
	// Order i belongs to account i%3+1.
	got, err := db.OrderStatuses(ctx, 2, []string{OrderID(4), OrderID(5)})
	if err != nil || len(got) != 1 {
		t.Errorf("account 2 sees %d of orders 4 and 5, want only 4: %v", len(got), err)
	}
	storetest.Audit(t, db)
}

func TestMeasure(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if n.Add(1)%10 == 0 {
			w.WriteHeader(500)
			io.WriteString(w, `{"error":"boom"}`)
			return
		}
		if !strings.Contains(string(body), "x=1") {
			w.WriteHeader(400)
		}
		io.WriteString(w, `{"ok":"yes"}`)
	}))
	defer srv.Close()
	r := NewRunner(srv.URL, 4)
	act := Action{Name: "ping", Next: func(client, seq int) Call {
		return Call{Path: "/", Form: map[string][]string{"x": {"1"}}, Check: okJSON(`"ok"`)}
	}}
	res := r.Measure(context.Background(), "test", act, 4, time.Minute, 200)
	if res.Requests < 200 || res.Requests > 204 {
		t.Errorf("%d calls, want about 200 (maxCalls)", res.Requests)
	}
	if res.Errors == 0 || !strings.Contains(res.FirstError, "HTTP 500") {
		t.Errorf("errors %d, first %q: want the 500s counted", res.Errors, res.FirstError)
	}
	if res.PerSecond <= 0 || res.P99ms < res.P50ms || !strings.Contains(res.String(), "ping") {
		t.Errorf("result %+v", res)
	}

	prepared := Action{Name: "prep", Prepare: func(ctx context.Context, client, seq int) (Call, error) {
		time.Sleep(time.Millisecond) // setup outside the timing
		return act.Next(client, seq), nil
	}}
	res = r.Measure(context.Background(), "test", prepared, 2, time.Minute, 20)
	if res.Requests < 20 || res.PerSecond <= 0 {
		t.Errorf("prepared action: %+v", res)
	}
}

func TestTargetsBuildRequests(t *testing.T) {
	np := &Notpanel{Scratch: Scratch{Keys: []string{"k1", "k2"}, Orders: 10, Accounts: 2}, Run: "r"}
	acts := np.Actions()
	for _, name := range []string{"add", "status", "status100", "services", "balance", "mix"} {
		c := acts[name].Next(1, 7)
		if c.Path != "/api/v2" || c.Form.Get("key") != "k2" || c.Form.Get("action") == "" {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if ids := strings.Split(acts["status100"].Next(0, 0).Form.Get("orders"), ","); len(ids) != 100 {
		t.Errorf("status100 asks for %d orders", len(ids))
	}
	lr := Limitref{}.Actions()
	if c := lr["status"].Next(2, 0); c.Path != "/status" || c.Form.Get("key") != limitrefKey(3) {
		t.Errorf("limitref status: %+v", c)
	}
	if c := lr["add"].Next(0, 0); c.Path != "/add" || c.Form.Get("quantity") == "" {
		t.Errorf("limitref add: %+v", c)
	}
}

func TestSyncHelpers(t *testing.T) {
	srv := httptest.NewServer(FastProvider())
	defer srv.Close()
	resp, err := http.PostForm(srv.URL, map[string][]string{"action": {"status"}, "orders": {"1,2"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"1":{`) || !strings.Contains(string(body), `"In progress"`) {
		t.Errorf("status answer: %s", body)
	}
	db := storetest.Open(t)
	ctx := context.Background()
	if _, err := Seed(ctx, db, 2, 1, 10); err != nil {
		t.Fatal(err)
	}
	if err := PrepareSync(ctx, db.Path(), srv.URL, 4); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueSyncs(ctx, time.Now().Unix(), 100, nil)
	if err != nil || len(due) != 4 || due[0].Provider.URL != srv.URL {
		t.Fatalf("after PrepareSync: %d due (%v)", len(due), err)
	}
	raw := storetest.Raw(t, db)
	if n, err := Synced(ctx, raw); err != nil || n != 0 { // nothing asked yet
		t.Errorf("Synced = %d, %v; want 0", n, err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := WaitSynced(short, db.Path(), 10, time.Now()); err == nil {
		t.Error("WaitSynced returned before the orders were synced")
	}
}

func TestOKJSON(t *testing.T) {
	big := `[` + strings.Repeat(`{"service":1,"name":"x"},`, 400) + `{"service":2}]` + "\n"
	check := okJSON(`"service"`)
	for _, tt := range []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"Small", 200, `{"service":1}`, true},
		{"SmallBroken", 200, `{"service":1`, false},
		{"NotOK", 500, `{"service":1}`, false},
		{"ErrorAnswer", 200, `{"error":"Incorrect request"}`, false},
		{"LargeFramed", 200, big, true},
		{"LargeCutShort", 200, big[:len(big)/2], false},
		{"LargeHTML", 200, "<html>" + big + "</html>", false},
	} {
		if err := check(tt.status, []byte(tt.body)); (err == nil) != tt.ok {
			t.Errorf("%s: okJSON = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// The dispatch measurement's database holds n pending orders for the slow
// provider at its concurrency, paid for; WaitDispatched sees the end, and
// refuses to report one where orders were parked.
func TestPrepareAndWaitDispatch(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if err := PrepareDispatch(ctx, db, "http://127.0.0.1:9/api/v2", "k", 12, 40); err != nil {
		t.Fatal(err)
	}
	p, err := db.FindProvider(ctx, DispatchProvider)
	if err != nil || p.Settings.Concurrency != 12 {
		t.Fatalf("provider %+v, %v", p.Settings, err)
	}
	g, err := db.Gauges(ctx)
	if err != nil || g.OpenOrders[store.StatusPending] != 40 {
		t.Fatalf("gauges %+v, %v; want 40 pending", g, err)
	}
	storetest.Audit(t, db)
	jobs, err := db.DueDispatches(ctx, 1<<40, 100, nil)
	if err != nil || len(jobs) != 40 {
		t.Fatalf("%d due, %v", len(jobs), err)
	}
	for i, j := range jobs {
		if ok, err := db.ClaimOrder(ctx, j.OrderID); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if i == 0 {
			db.ParkOrder(ctx, j.OrderID, "lost answer")
			continue
		}
		if err := db.DispatchAccepted(ctx, j.OrderID, fmt.Sprint(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WaitDispatched(ctx, db.Path()); err == nil || !strings.Contains(err.Error(), "parked") {
		t.Errorf("WaitDispatched with a parked order: %v", err)
	}
	if err := db.ResolveUpstreamID(ctx, jobs[0].OrderID, "0x", 0); err != nil {
		t.Fatal(err)
	}
	if at, err := WaitDispatched(ctx, db.Path()); err != nil || at.IsZero() {
		t.Errorf("WaitDispatched = %v, %v", at, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	db2 := storetest.Open(t)
	if err := PrepareDispatch(ctx, db2, "http://127.0.0.1:9/api/v2", "k", 1, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := WaitDispatched(cancelled, db2.Path()); err == nil {
		t.Error("WaitDispatched returned without an error once its context ended")
	}
}
