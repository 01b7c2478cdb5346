package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A client that trickles its request headers is cut off: a public server
// must not keep a connection and a goroutine for whoever opens one and
// waits.
func TestSlowHeadersAreCutOff(t *testing.T) {
	srv := NewHTTP(http.NotFoundHandler(), Limits{})
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 10*time.Second {
		t.Fatalf("ReadHeaderTimeout = %v, want at most 10 s", srv.ReadHeaderTimeout)
	}
	if srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("timeouts %v/%v/%v: every one must be set", srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	srv.ReadHeaderTimeout = 300 * time.Millisecond // the same mechanism, quicker
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /api/v2 HTTP/1.1\r\nHost: x\r\n")
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	for {
		io.WriteString(c, "X-Slow: 1\r\n") // one header line now and then, never the end
		if _, err := c.Read(buf); err != nil {
			break // the server closed the connection
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("connection held for %v", took)
	}
}

// limited runs a server with the given limits whose handler holds a request
// until release is closed when its path is /hold, and answers at once
// otherwise.
func limited(t *testing.T, l Limits) (addr string, release chan struct{}, srv *http.Server) {
	t.Helper()
	release = make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		io.WriteString(w, "ok")
	})
	srv = NewHTTP(h, l)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), release, srv
}

// keepAlive opens a connection, makes one request on it and leaves it open
// and idle, as a keep-alive client (or an attacker) does.
func keepAlive(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("keep-alive request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c
}

// closedByServer reports whether the server has closed c.
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF || err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

func get(t *testing.T, addr, path string) error {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Idle keep-alive connections cannot pile up: past the cap, a new client is
// answered and the connection idle longest is closed to make room.
func TestIdleConnectionsAreCapped(t *testing.T) {
	reg := prometheus.NewRegistry()
	addr, _, _ := limited(t, Limits{MaxConns: 20, PerClient: 1000, IdleTimeout: time.Minute, Registry: reg})
	var idle []net.Conn
	for range 60 {
		idle = append(idle, keepAlive(t, addr))
	}
	if err := get(t, addr, "/"); err != nil {
		t.Fatalf("a new client at the cap: %v", err)
	}
	open := 0
	for _, c := range idle {
		if !closedByServer(c) {
			open++
		}
	}
	if open > 20 {
		t.Errorf("%d idle connections still open, want at most 20", open)
	}
	if !closedByServer(idle[0]) || closedByServer(idle[len(idle)-1]) {
		t.Error("the oldest idle connection should be the one closed, the newest kept")
	}
	if got := counterValue(t, reg, "notpanel_http_connections_closed_total", "evicted"); got < 40 {
		t.Errorf("evicted counter %v, want at least 40", got)
	}
}

// One client address holds at most PerClient connections: its own idle ones
// go first; when all of them are busy its new one is refused, while another
// address, or a trusted proxy carrying many clients, is not held to it.
func TestConnectionsPerClient(t *testing.T) {
	addr, release, _ := limited(t, Limits{MaxConns: 1000, PerClient: 3})
	first := keepAlive(t, addr)
	for range 3 {
		keepAlive(t, addr)
	}
	if !closedByServer(first) {
		t.Error("the client's oldest idle connection was kept beyond its limit")
	}
	// Three requests held: every connection of the address is busy.
	held := make(chan error, 3)
	for range 3 {
		go func() { held <- get(t, addr, "/hold") }()
	}
	time.Sleep(300 * time.Millisecond)
	if err := get(t, addr, "/"); err == nil {
		t.Error("a fourth connection while three are busy was served, want refused")
	}
	close(release)
	for range 3 {
		if err := <-held; err != nil {
			t.Errorf("a held request: %v", err)
		}
	}
	exempt, release2, _ := limited(t, Limits{MaxConns: 1000, PerClient: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	close(release2)
	conns := []net.Conn{keepAlive(t, exempt), keepAlive(t, exempt), keepAlive(t, exempt)}
	for _, c := range conns {
		if closedByServer(c) {
			t.Error("a trusted proxy's connection was closed for the per-client limit")
		}
	}
}

func TestIdleTimeoutIsShort(t *testing.T) {
	srv := NewHTTP(http.NotFoundHandler(), Limits{})
	if srv.IdleTimeout <= 0 || srv.IdleTimeout > 30*time.Second {
		t.Errorf("IdleTimeout %v, want at most 30 s", srv.IdleTimeout)
	}
	addr, _, _ := limited(t, Limits{IdleTimeout: 200 * time.Millisecond})
	c := keepAlive(t, addr)
	if !closedByServer(c) {
		t.Error("an idle connection outlived the idle timeout")
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{reason=%q}", name, reason)
	return 0
}
