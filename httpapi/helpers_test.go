package httpapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"notpanel/ratelimit"
	"notpanel/server"
	"notpanel/store"
	"notpanel/store/storetest"
)

// env is a running API on a real SQLite file with one funded customer.
type env struct {
	t    *testing.T
	db   *store.DB
	raw  *sql.DB
	srv  *httptest.Server
	logs *syncWriter
	acct store.Account
	key  string
	svc  store.Service // Default, 0.90 per 1000, 50..10000, refill and cancel
}

const startBalance = 100_000_000 // 100.00

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.Open(t)
	logs := &syncWriter{b: &strings.Builder{}}
	e := &env{t: t, db: db, logs: logs}
	e.srv = httptest.NewServer(handler(Config{DB: db, Log: zerolog.New(logs), IPPerMin: 1e6}))
	t.Cleanup(e.srv.Close)
	e.svc = storetest.Service(t, db, store.Service{Name: "Followers", Rate: 900_000, Min: 50, Max: 10_000, Refill: true, Cancel: true})
	e.acct, e.key = storetest.Account(t, db, "alice", startBalance)
	// Tests send bursts of requests; the limits have tests of their own.
	if err := db.SetTier(context.Background(), store.Tier{Name: "unlimited", KeyPerMin: 1e6, AccountPerMin: 1e6}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetAccountTier(context.Background(), "alice", "unlimited"); err != nil {
		t.Fatal(err)
	}
	return e
}

// call posts a form with the customer's key and decodes the JSON answer.
func (e *env) call(params ...string) (int, any) {
	e.t.Helper()
	return e.callKey(e.key, params...)
}

func (e *env) callKey(key string, params ...string) (int, any) {
	e.t.Helper()
	v := url.Values{}
	if key != "" {
		v.Set("key", key)
	}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	resp, err := http.PostForm(e.srv.URL+"/api/v2", v)
	if err != nil {
		e.t.Fatalf("post: %v", err)
	}
	return decode(e.t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, any) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json (body %s)", ct, body)
	}
	var out any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, body)
	}
	return resp.StatusCode, out
}

// wantError checks an error answer's status and text.
func wantError(t *testing.T, code int, got any, wantCode int, wantMsg string) {
	t.Helper()
	m, _ := got.(map[string]any)
	if code != wantCode || m["error"] != wantMsg {
		t.Errorf("got %d %v, want %d {\"error\":%q}", code, got, wantCode, wantMsg)
	}
}

// order places a Default order and returns its id.
func (e *env) order(requestID string, quantity string) string {
	e.t.Helper()
	code, got := e.call("action", "add", "service", itoa(e.svc.ID), "request_id", requestID,
		"link", "https://instagram.com/p/abc", "quantity", quantity)
	m, _ := got.(map[string]any)
	id, _ := m["order"].(string)
	if code != 200 || id == "" {
		e.t.Fatalf("add: %d %v", code, got)
	}
	return id
}

func (e *env) balance() int64 {
	e.t.Helper()
	b, err := e.db.Balance(context.Background(), e.acct.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// exec changes the database behind the API's back, as the worker would.
func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	if e.raw == nil {
		e.raw = storetest.Raw(e.t, e.db)
	}
	if _, err := e.raw.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// syncWriter lets concurrent requests log into one buffer.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON compares a decoded answer with the expected JSON text, ignoring
// member order and spacing.
func sameJSON(t *testing.T, got any, want string) bool {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %s: %v", want, err)
	}
	return jsonString(t, got) == jsonString(t, w)
}

// handler serves the API room the way serve does: inside the server, which
// owns request ids, the access log and health, with trusted as the
// reverse proxies.
func handler(cfg Config, trusted ...netip.Prefix) http.Handler {
	cfg.IPs = ratelimit.New(1000)
	return server.New(server.Config{DB: cfg.DB, Log: cfg.Log, Now: cfg.Now, TrustedProxies: trusted,
		IPs: cfg.IPs, IPPerMin: cfg.IPPerMin}, New(cfg))
}
