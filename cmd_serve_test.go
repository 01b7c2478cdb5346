package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// serving is a running "notpanel serve" started by startServe.
type serving struct {
	addr   string
	ops    string // the operator's address
	stop   context.CancelFunc
	code   chan int      // the exit status, once run returns
	logs   chan []string // every stderr line, once run returns
	stdout *bytes.Buffer
}

// startServe runs serve on a free loopback port and waits until it listens;
// the address comes from serve's own log line.
func startServe(t *testing.T, db string, extra ...string) *serving {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	s := &serving{stop: stop, code: make(chan int, 1), logs: make(chan []string, 1), stdout: &bytes.Buffer{}}
	args := append([]string{"--db", db, "serve", "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0"}, extra...)
	go func() {
		code := run(ctx, args, s.stdout, pw, func(string) string { return "" })
		pw.Close()
		s.code <- code
	}()
	listening := make(chan string, 1)
	ops := make(chan string, 1)
	go func() {
		var lines []string
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			var l struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == "listening" {
				listening <- l.Addr
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil && strings.HasPrefix(l.Message, "operator address") {
				ops <- l.Addr
			}
		}
		close(listening)
		s.logs <- lines
	}()
	select {
	case addr, ok := <-listening:
		if !ok {
			stop()
			t.Fatalf("serve exited with %d before listening; stderr:\n%s", <-s.code, strings.Join(<-s.logs, "\n"))
		}
		s.addr = addr
		select {
		case s.ops = <-ops:
		default:
		}
	case <-time.After(10 * time.Second):
		stop()
		t.Fatalf("serve did not log its address")
	}
	t.Cleanup(stop)
	return s
}

// shutdown stops the server as SIGINT would and returns its exit status and
// log.
func (s *serving) shutdown(t *testing.T) (int, []string) {
	t.Helper()
	s.stop()
	select {
	case code := <-s.code:
		return code, <-s.logs
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop after its context was cancelled")
		return 0, nil
	}
}

func (s *serving) post(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm("http://"+s.addr+"/api/v2", form)
	if err != nil {
		t.Fatalf("POST /api/v2: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("POST /api/v2: body is not a JSON object: %v", err)
	}
	return resp.StatusCode, body
}

func TestServe(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	ok(t, db, "funds", "add", "alice", "10")
	key := strings.TrimSpace(ok(t, db, "key", "create", "alice"))

	s := startServe(t, db, "--worker=false", "--worker-interval", "1s", "--sync-interval", "30s")
	status, body := s.post(t, url.Values{"key": {key}, "action": {"balance"}})
	if status != http.StatusOK || body["balance"] != "10.00" || body["currency"] != "USD" {
		t.Errorf("balance: %d %v, want 200 10.00 USD", status, body)
	}

	// The CLI works on the same file while serve runs, and serve sees it.
	ok(t, db, "funds", "add", "alice", "2.5")
	if _, body := s.post(t, url.Values{"key": {key}, "action": {"balance"}}); body["balance"] != "12.50" {
		t.Errorf("balance after funds add: %v, want 12.50", body["balance"])
	}
	ok(t, db, "user", "suspend", "alice")
	if status, body := s.post(t, url.Values{"key": {key}, "action": {"balance"}}); status != http.StatusForbidden {
		t.Errorf("balance of a suspended account: %d %v, want 403", status, body)
	}

	code, logs := s.shutdown(t)
	if code != 0 {
		t.Errorf("serve exit status %d after a clean shutdown; log:\n%s", code, strings.Join(logs, "\n"))
	}
	if s.stdout.Len() != 0 {
		t.Errorf("serve wrote to stdout: %q", s.stdout)
	}
	if last := logs[len(logs)-1]; !strings.Contains(last, `"stopped"`) {
		t.Errorf("last log line %q, want stopped", last)
	}
	if _, err := http.Get("http://" + s.addr + "/api/v2"); err == nil {
		t.Errorf("server still answers after shutdown")
	}
}

func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := failing(t, dbPath(t), "serve", "--listen", ln.Addr().String())
	if !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("stderr %q, want the listen error", r.stderr)
	}
}

// The operator's endpoints: /healthz says the database and the worker are
// fine, /metrics has the requests', the work queues' and the runtime's
// series. They are served on the operator's address; the public one has
// /healthz behind the per-address bucket, and no metrics.
func TestHealthAndMetrics(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	key := strings.TrimSpace(ok(t, db, "key", "create", "alice"))
	s := startServe(t, db, "--worker-interval", "50ms", "--ip-per-min", "3")
	if code, _ := s.post(t, url.Values{"key": {key}, "action": {"balance"}}); code != 200 {
		t.Fatalf("balance: %d", code)
	}
	get := func(addr, path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if s.ops == "" {
		t.Fatal("serve did not log the operator's address")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(s.ops, "/healthz")
		if code == 200 && strings.Contains(body, `"status":"ok"`) {
			break
		}
		if time.Now().After(deadline) { // the worker's first pass has not ended
			t.Fatalf("healthz: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body := get(s.ops, "/metrics")
	for _, want := range []string{`notpanel_http_requests_total{action="balance",room="api",status="200"} 1`,
		`notpanel_orders_open{status="pending"} 0`, "notpanel_cancel_requests_open 0",
		"notpanel_webhook_deliveries_pending 0", `notpanel_worker_lanes_running{kind="sync"} 0`,
		`notpanel_worker_lane_oldest_seconds{kind="delivery"} 0`, "notpanel_http_connections_open", "go_goroutines"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s (HTTP %d)", want, code)
		}
	}
	if code, body := get(s.ops, "/debug/pprof/"); code != 404 {
		t.Errorf("profiles served without --pprof: %d %.80s", code, body)
	}
	// The public address: no metrics, and /healthz within the address's
	// 3 a minute, of which the balance above took one.
	if code, body := get(s.addr, "/metrics"); code != 404 || strings.Contains(body, "notpanel_") {
		t.Errorf("public /metrics: %d %.80s, want a 404", code, body)
	}
	for i, want := range []int{200, 200, 429} {
		if code, body := get(s.addr, "/healthz"); code != want {
			t.Errorf("public /healthz #%d: %d %s, want %d", i+1, code, body, want)
		}
	}
	if c, _ := s.shutdown(t); c != 0 {
		t.Errorf("serve exited %d", c)
	}
}

// --pprof serves Go's profiles on the operator's address, never on the
// public one, and needs an operator's address to serve them on.
func TestPprofOnOperatorsAddress(t *testing.T) {
	db := dbPath(t)
	s := startServe(t, db, "--pprof", "--worker=false")
	for addr, want := range map[string]int{s.ops: 200, s.addr: 404} {
		resp, err := http.Get("http://" + addr + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s/debug/pprof/: %d, want %d", addr, resp.StatusCode, want)
		}
	}
	s.shutdown(t)
	r := failing(t, db, "serve", "--listen", "127.0.0.1:0", "--ops-listen", "off", "--pprof")
	if !strings.Contains(r.stderr, "--pprof serves on the --ops-listen address") {
		t.Errorf("stderr %q", r.stderr)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r = failing(t, db, "serve", "--listen", "127.0.0.1:0", "--ops-listen", busy.Addr().String())
	if !strings.Contains(r.stderr, "--ops-listen "+busy.Addr().String()) || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("stderr %q, want the operator address's listen error", r.stderr)
	}
}

// serve answers the storefront at / beside the API, in the sign-up mode
// asked for, and refuses SMTP settings it cannot use before it listens.
func TestServeStorefront(t *testing.T) {
	db := dbPath(t)
	s := startServe(t, db, "--worker=false", "--signup", "invite")
	resp, err := http.Get("http://" + s.addr + "/signup")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(b), `name="invite"`) || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /signup: %d %s, want the sign-up page asking for an invitation code", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for path, want := range map[string]string{"/no/such/page": "text/html", "/api/nothing": "application/json"} {
		resp, err := http.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), want) {
			t.Errorf("GET %s: %d %s, want a 404 in %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
	s.shutdown(t)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--signup", "sometimes"}, "--signup"},
		{[]string{"--smtp-url", "smtp://user:pw@mail.example.com:587"}, "--mail-from is needed"},
		{[]string{"--smtp-url", "ftp://mail.example.com", "--mail-from", "noreply@x.example"}, "scheme"},
		{[]string{"--smtp-url", "smtp://mail.example.com:99999", "--mail-from", "noreply@x.example"}, "port"},
	} {
		r := failing(t, db, append([]string{"serve", "--listen", "127.0.0.1:0", "--ops-listen", "off"}, tt.args...)...)
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("serve %v: %q, want it to mention %q", tt.args, r.stderr, tt.want)
		}
	}
	s = startServe(t, db, "--worker=false", "--smtp-url", "smtp+insecure://127.0.0.1:2525", "--mail-from", "Panel <noreply@panel.example.com>")
	s.shutdown(t)
}
