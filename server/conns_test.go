package httpapi

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A client that trickles its request headers is cut off: a public server
// must not keep a connection and a goroutine for whoever opens one and
// waits.
func TestSlowHeadersAreCutOff(t *testing.T) {
	srv := NewServer("127.0.0.1:0", http.NotFoundHandler())
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
