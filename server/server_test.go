package server

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"notpanel/store/storetest"
)

// logBuf collects the server's log lines.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// twoRooms serves a JSON room under /api/ and an HTML catch-all room, as
// the API and the storefront are served.
func twoRooms(t *testing.T, cfg Config) (*httptest.Server, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	if cfg.DB == nil {
		cfg.DB = storetest.Open(t)
	}
	cfg.Log = zerolog.New(logs)
	api := Room{
		Name: "api",
		Routes: func(m Mux) {
			m.Handle("POST", "/api/v2", func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
				info := InfoFrom(r.Context())
				info.Action, info.Label, info.Account = "balance", "balance", 42
				io.WriteString(w, `{"balance":"1.00"}`)
			})
			m.Handle("POST", "/api/panic", func(http.ResponseWriter, *http.Request, httprouter.Params) { panic("boom") })
		},
		Owns:             func(p string) bool { return strings.HasPrefix(strings.ToLower(p), "/api/") },
		NotFound:         http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSONError(w, 404, "API path not found") }),
		MethodNotAllowed: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSONError(w, 405, "use POST") }),
		Panicked:         http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSONError(w, 500, "Internal error") }),
	}
	page := func(code int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(code)
			io.WriteString(w, body)
		})
	}
	store := Room{
		Name: "store",
		Routes: func(m Mux) {
			m.Handler("GET", "/", page(200, "<h1>Welcome</h1>"))
			m.Handle("GET", "/boom", func(http.ResponseWriter, *http.Request, httprouter.Params) { panic("page boom") })
		},
		NotFound:         page(404, "<h1>Page not found</h1>"),
		MethodNotAllowed: page(405, "<h1>Not allowed</h1>"),
		Panicked:         page(500, "<h1>Something broke</h1>"),
	}
	srv := httptest.NewServer(New(cfg, api, store))
	t.Cleanup(srv.Close)
	return srv, logs
}

func do(t *testing.T, method, url string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// Each room answers its own paths, and its own near misses, wrong methods
// and panics, in its own format; whatever no room owns goes to the
// catch-all room.
func TestRoomsAnswerTheirOwnPaths(t *testing.T) {
	srv, logs := twoRooms(t, Config{})
	for _, tt := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"POST", "/api/v2", 200, `{"balance":"1.00"}`},
		{"POST", "/api/v2/", 404, `{"error":"API path not found"}`},
		{"POST", "/API/V3", 404, `{"error":"API path not found"}`},
		{"GET", "/api/v2", 405, `{"error":"use POST"}`},
		{"POST", "/api/panic", 500, `{"error":"Internal error"}`},
		{"GET", "/", 200, "<h1>Welcome</h1>"},
		{"GET", "/nowhere", 404, "<h1>Page not found</h1>"},
		{"GET", "/metrics", 404, "<h1>Page not found</h1>"},
		{"DELETE", "/", 405, "<h1>Not allowed</h1>"},
		{"GET", "/boom", 500, "<h1>Something broke</h1>"},
	} {
		code, body, h := do(t, tt.method, srv.URL+tt.path)
		if code != tt.code || strings.TrimSpace(body) != tt.body {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, code, body, tt.code, tt.body)
		}
		if h.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-Id", tt.method, tt.path)
		}
		if code == 301 || code == 307 || code == 308 {
			t.Errorf("%s %s: a redirect", tt.method, tt.path)
		}
	}
	l := logs.String()
	for _, want := range []string{`"room":"api","action":"balance","account":42`, `"path":"/nowhere","status":404`,
		`"panic":"boom"`, `"panic":"page boom"`, `"stack":`} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %s:\n%s", want, l)
		}
	}
}

// Without a catch-all room, every unknown path is a JSON 404.
func TestNoCatchAllRoomAnswersJSON(t *testing.T) {
	srv := httptest.NewServer(New(Config{DB: storetest.Open(t), Log: zerolog.Nop()}))
	defer srv.Close()
	if code, body, h := do(t, "GET", srv.URL+"/anything"); code != 404 || h.Get("Content-Type") != "application/json" ||
		strings.TrimSpace(body) != `{"error":"Not found"}` {
		t.Errorf("%d %s %q", code, h.Get("Content-Type"), body)
	}
}

// Requests are counted by room, action and status, with a bounded label
// set.
func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv, _ := twoRooms(t, Config{Registry: reg})
	do(t, "POST", srv.URL+"/api/v2")
	do(t, "GET", srv.URL+"/nowhere")
	for range 3 {
		do(t, "GET", srv.URL+"/x"+time.Now().String())
	}
	ops := httptest.NewServer(Ops(Config{Registry: reg, DB: storetest.Open(t), Log: zerolog.Nop()}, false))
	defer ops.Close()
	_, body, _ := do(t, "GET", ops.URL+"/metrics")
	for _, want := range []string{`notpanel_http_requests_total{action="balance",room="api",status="200"} 1`,
		`notpanel_http_requests_total{action="",room="store",status="404"} 4`, `notpanel_orders_open`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestHealthz(t *testing.T) {
	db := storetest.Open(t)
	var sick error
	cfg := Config{DB: db, Health: func() error { return sick }, IPPerMin: 1000}
	srv, _ := twoRooms(t, cfg)
	ops := httptest.NewServer(Ops(Config{DB: db, Log: zerolog.Nop(), Health: func() error { return sick }}, false))
	defer ops.Close()
	for _, base := range []string{srv.URL, ops.URL} {
		sick = nil
		if code, body, _ := do(t, "GET", base+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
			t.Errorf("healthy: %d %s", code, body)
		}
		sick = errors.New(`worker's last pass ended 5m0s ago, "stuck"`)
		if code, body, _ := do(t, "GET", base+"/healthz"); code != 503 || !strings.Contains(body, `5m0s ago, \"stuck\"`) {
			t.Errorf("worker stuck: %d %s", code, body)
		}
	}
	sick = nil
	db.Close()
	if code, body, _ := do(t, "GET", ops.URL+"/healthz"); code != 503 || !strings.Contains(body, "database unreachable") {
		t.Errorf("database closed: %d %s", code, body)
	}
}

// The public /healthz passes the client address's bucket: it cannot be used
// to load the database without limit.
func TestPublicHealthzIsRateLimited(t *testing.T) {
	srv, _ := twoRooms(t, Config{IPPerMin: 2})
	for i, want := range []int{200, 200, 429} {
		code, body, h := do(t, "GET", srv.URL+"/healthz")
		if code != want {
			t.Errorf("request %d: %d %s, want %d", i+1, code, body, want)
		}
		if code == 429 && h.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
}

func TestOpsAddress(t *testing.T) {
	db := storetest.Open(t)
	for _, tt := range []struct {
		pprof bool
		path  string
		code  int
	}{
		{false, "/debug/pprof/", 404},
		{true, "/debug/pprof/", 200},
		{false, "/metrics", 404}, // no registry, no metrics
		{false, "/api/v2", 404},
	} {
		ops := httptest.NewServer(Ops(Config{DB: db, Log: zerolog.Nop()}, tt.pprof))
		if code, _, _ := do(t, "GET", ops.URL+tt.path); code != tt.code {
			t.Errorf("pprof %v %s: %d, want %d", tt.pprof, tt.path, code, tt.code)
		}
		ops.Close()
	}
}

func TestRequestIDs(t *testing.T) {
	srv, _ := twoRooms(t, Config{})
	for _, tt := range []struct{ sent, want string }{
		{"proxy-abc.123_x", "proxy-abc.123_x"},
		{"bad id", ""},
		{strings.Repeat("a", 65), ""},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Header.Set("X-Request-Id", tt.sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		if tt.want != "" && got != tt.want || tt.want == "" && (got == "" || got == tt.sent) {
			t.Errorf("sent %q, answered %q", tt.sent, got)
		}
	}
}
