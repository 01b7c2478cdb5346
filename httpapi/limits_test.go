package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"notpanel/store"
	"notpanel/store/storetest"
)

// limitEnv is the API with small limits on an injected clock.
type limitEnv struct {
	t    *testing.T
	db   *store.DB
	srv  *httptest.Server
	mu   sync.Mutex
	now  time.Time
	keys map[string]string // account name → key
}

func newLimitEnv(t *testing.T, ipPerMin int, trusted ...string) *limitEnv {
	t.Helper()
	db := storetest.Open(t)
	e := &limitEnv{t: t, db: db, now: time.Unix(1_800_000_000, 0), keys: map[string]string{}}
	ctx := context.Background()
	if err := db.SetTier(ctx, store.Tier{Name: "tiny", KeyPerMin: 3, AccountPerMin: 5}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		_, key := storetest.Account(t, db, name, 0)
		if _, err := db.SetAccountTier(ctx, name, "tiny"); err != nil {
			t.Fatal(err)
		}
		e.keys[name] = key
	}
	var prefixes []netip.Prefix
	for _, p := range trusted {
		prefixes = append(prefixes, netip.MustParsePrefix(p))
	}
	e.srv = httptest.NewServer(handler(Config{DB: db, Log: zerolog.Nop(), IPPerMin: ipPerMin,
		Now: func() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }}, prefixes...))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *limitEnv) advance(d time.Duration) { e.mu.Lock(); e.now = e.now.Add(d); e.mu.Unlock() }

// balance asks for a balance with key, optionally through a proxy header.
func (e *limitEnv) balance(key, xff string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2", strings.NewReader(url.Values{"key": {key}, "action": {"balance"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestRateLimitHeadersAndKeyLimit(t *testing.T) {
	e := newLimitEnv(t, 1000)
	for i := range 3 {
		resp := e.balance(e.keys["alice"], "")
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) ||
			h.Get("X-RateLimit-Tier-Remaining") != strconv.Itoa(4-i) || h.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("request %d: %d %v", i+1, resp.StatusCode, h)
		}
	}
	resp := e.balance(e.keys["alice"], "")
	if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-DeniedBy") != "key" || resp.Header.Get("Retry-After") != "20" {
		t.Fatalf("4th request: %d %v, want 429 by key, retry after 20 s (3/min)", resp.StatusCode, resp.Header)
	}
	e.advance(20 * time.Second) // one token back
	if resp := e.balance(e.keys["alice"], ""); resp.StatusCode != 200 {
		t.Errorf("after 20 s: %d", resp.StatusCode)
	}
}

func TestRateLimitAccountAcrossKeys(t *testing.T) {
	e := newLimitEnv(t, 1000)
	second, _, err := e.db.CreateKey(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	// 3 per key, 5 per account: the account runs out first across two keys.
	for _, key := range []string{e.keys["alice"], e.keys["alice"], e.keys["alice"], second, second} {
		if resp := e.balance(key, ""); resp.StatusCode != 200 {
			t.Fatalf("within the limits: %d", resp.StatusCode)
		}
	}
	resp := e.balance(second, "")
	if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-DeniedBy") != "tier" {
		t.Errorf("6th request of the account: %d %v, want 429 by tier", resp.StatusCode, resp.Header)
	}
	if resp := e.balance(e.keys["bob"], ""); resp.StatusCode != 200 {
		t.Errorf("bob is limited by alice's requests: %d", resp.StatusCode)
	}
}

func TestRateLimitByIPBeforeTheKey(t *testing.T) {
	e := newLimitEnv(t, 4)
	for range 4 {
		e.balance("np_wrongwrongwrongwrongwrongwrongwr", "")
	}
	resp := e.balance(e.keys["bob"], "")
	if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-DeniedBy") != "ip" || resp.Header.Get("Retry-After") != "15" {
		t.Errorf("5th request from the address: %d %v, want 429 by ip even with a good key", resp.StatusCode, resp.Header)
	}
	// A client that names another address in X-Forwarded-For is not a
	// trusted proxy: the header changes nothing.
	if resp := e.balance(e.keys["bob"], "203.0.113.9"); resp.StatusCode != 429 {
		t.Errorf("X-Forwarded-For from an untrusted peer lifted the limit: %d", resp.StatusCode)
	}
}

func TestRateLimitTrustedProxy(t *testing.T) {
	e := newLimitEnv(t, 2, "127.0.0.0/8")
	for _, client := range []string{"203.0.113.1", "203.0.113.1"} {
		if resp := e.balance(e.keys["alice"], client); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", client, resp.StatusCode)
		}
	}
	if resp := e.balance(e.keys["bob"], "203.0.113.1"); resp.StatusCode != 429 {
		t.Errorf("third request from 203.0.113.1 behind the proxy: %d, want 429", resp.StatusCode)
	}
	if resp := e.balance(e.keys["bob"], "203.0.113.2"); resp.StatusCode != 200 {
		t.Errorf("another client behind the same proxy: %d, want its own bucket", resp.StatusCode)
	}
}

// An add that is retried on a fresh snapshot is still one request.
func TestRetriedAddCountsOnce(t *testing.T) {
	e := newLimitEnv(t, 1000)
	e.balance(e.keys["alice"], "") // the server now holds a snapshot
	if err := e.db.SetCurrency(context.Background(), "EUR"); err != nil {
		t.Fatal(err) // the snapshot is now stale
	}
	resp, err := http.PostForm(e.srv.URL+"/api/v2", url.Values{"key": {e.keys["alice"]}, "action": {"add"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-RateLimit-Remaining") != "1" {
		t.Errorf("add after an admin change: %d, remaining %q; want 400 and 1 (two requests counted)",
			resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
}
