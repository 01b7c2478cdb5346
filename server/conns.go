package server

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Limits bound the connections of the public address.
type Limits struct {
	// MaxConns bounds the open connections (1024 when 0). A new client
	// beyond it is still answered: the connection idle the longest is
	// closed to make room. Only when every connection is busy is the new
	// one closed at once.
	MaxConns int
	// PerClient bounds one client address's open connections (64 when
	// 0), the same way within that address. Peers in Exempt (the trusted
	// reverse proxies, which carry every client) are not bounded.
	PerClient int
	Exempt    []netip.Prefix
	// IdleTimeout closes a keep-alive connection with no request for so
	// long (30 s when 0).
	IdleTimeout time.Duration
	// Registry, when set, gets the connection series.
	Registry *prometheus.Registry
	Log      zerolog.Logger
}

// NewHTTP wraps h in an http.Server with the timeouts and connection
// limits a public server needs: slow, stalled or hoarding clients are cut
// off instead of holding memory and goroutines.
func NewHTTP(h http.Handler, l Limits) *http.Server {
	c := newConns(l)
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Second
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         c.state,
	}
}

// conns tracks the open connections through the server's ConnState hook.
type conns struct {
	max, perClient int
	exempt         []netip.Prefix
	log            zerolog.Logger
	now            func() time.Time

	mu       sync.Mutex
	open     map[net.Conn]*tracked
	live     int // open and not being closed
	byClient map[netip.Addr]int
	warned   time.Time

	gauge  prometheus.GaugeFunc
	closed *prometheus.CounterVec
}

type tracked struct {
	client  netip.Addr
	waiting bool      // new or idle: no request under way
	since   time.Time // when it started waiting
	closing bool      // closed by us, not yet reported closed
}

func newConns(l Limits) *conns {
	if l.MaxConns <= 0 {
		l.MaxConns = 1024
	}
	if l.PerClient <= 0 {
		l.PerClient = 64
	}
	c := &conns{max: l.MaxConns, perClient: l.PerClient, exempt: l.Exempt, log: l.Log, now: time.Now,
		open: map[net.Conn]*tracked{}, byClient: map[netip.Addr]int{}}
	c.closed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notpanel_http_connections_closed_total",
		Help: "Connections the server closed to stay within its limits: idle ones to make room (evicted), new ones when every other was busy (refused)."},
		[]string{"reason"})
	if l.Registry != nil {
		l.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "notpanel_http_connections_open",
			Help: "Open connections to the public address."}, func() float64 {
			c.mu.Lock()
			defer c.mu.Unlock()
			return float64(c.live)
		}), c.closed)
	}
	return c
}

// state follows a connection through its life.
func (c *conns) state(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	var victims []net.Conn
	switch st {
	case http.StateNew:
		victims = c.add(conn)
	case http.StateActive:
		if t := c.open[conn]; t != nil {
			t.waiting = false
		}
	case http.StateIdle:
		if t := c.open[conn]; t != nil {
			t.waiting, t.since = true, c.now()
		}
	case http.StateHijacked, http.StateClosed:
		if t := c.open[conn]; t != nil {
			if !t.closing {
				c.drop(t)
			}
			delete(c.open, conn)
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		v.Close()
	}
}

// add counts a new connection and returns what to close to stay within
// the limits: the waiting connection of the same client, or of anyone,
// that has waited longest; the new one itself when none waits.
func (c *conns) add(conn net.Conn) []net.Conn {
	client := peer(conn)
	t := &tracked{client: client, waiting: true, since: c.now()}
	c.open[conn] = t
	c.live++
	c.byClient[client]++
	var victims []net.Conn
	if c.byClient[client] > c.perClient && !c.isExempt(client) {
		victims = append(victims, c.makeRoom(conn, func(o *tracked) bool { return o.client == client }))
	}
	if c.live > c.max && !t.closing {
		victims = append(victims, c.makeRoom(conn, func(*tracked) bool { return true }))
	}
	return victims
}

// makeRoom picks the connection to close for newcomer: the one that has
// waited longest among those of which, or newcomer when none waits.
func (c *conns) makeRoom(newcomer net.Conn, of func(*tracked) bool) net.Conn {
	var oldest net.Conn
	var ot *tracked
	for conn, t := range c.open {
		if conn == newcomer || t.closing || !t.waiting || !of(t) {
			continue
		}
		if ot == nil || t.since.Before(ot.since) {
			oldest, ot = conn, t
		}
	}
	reason := "evicted"
	if oldest == nil {
		oldest, ot, reason = newcomer, c.open[newcomer], "refused"
	}
	ot.closing = true
	c.drop(ot)
	c.closed.WithLabelValues(reason).Inc()
	if now := c.now(); now.Sub(c.warned) > time.Minute {
		c.warned = now
		c.log.Warn().Int("open", c.live).Int("max", c.max).Int("per_client", c.perClient).
			Str("client", ot.client.String()).Str("closed", reason).
			Msg("connection limit reached: closing connections (logged at most once a minute; see notpanel_http_connections_closed_total)")
	}
	return oldest
}

func (c *conns) drop(t *tracked) {
	c.live--
	if c.byClient[t.client]--; c.byClient[t.client] <= 0 {
		delete(c.byClient, t.client)
	}
}

func (c *conns) isExempt(a netip.Addr) bool {
	for _, p := range c.exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peer(conn net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(conn.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
