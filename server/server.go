// Package server is notpanel's one HTTP server. It routes each room (the
// API, the storefront, payment callbacks) to the paths the room registers,
// and owns what every request shares: request ids, the access log, request
// metrics, panics, health, and the connections themselves (timeouts, and
// how many a client may hold open). A room serves its own paths and its own
// answers to unknown ones; it does not own the server.
package server

import (
	"context"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"notpanel/ratelimit"
	"notpanel/store"
)

// Config is what the server needs.
type Config struct {
	DB  *store.DB
	Log zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TrustedProxies may name the client in X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// IPs is the per-address bucket set that public GET /healthz takes
	// from, IPPerMin (300 when 0) the budget; the API room takes from the
	// same set. New buckets are made when nil.
	IPs      *ratelimit.Buckets
	IPPerMin int
	// Registry, when set, gets the request metrics and the work gauges.
	Registry *prometheus.Registry
	// Health, when set, is asked by /healthz beside the database (the
	// worker's heartbeat, say).
	Health func() error
}

// Room is one part of the site.
type Room struct {
	// Name labels the room's requests in the access log and the metrics.
	Name string
	// Routes registers the room's routes.
	Routes func(m Mux)
	// Owns reports whether a path the router does not know, or asked with
	// a method it does not serve, is the room's to answer (the API's
	// JSON 404 under /api/). The room whose Owns is nil answers every
	// path no other room owns (the storefront's HTML 404).
	Owns func(path string) bool
	// NotFound and MethodNotAllowed answer such paths.
	NotFound, MethodNotAllowed http.Handler
	// Panicked answers a request whose handler panicked; the server has
	// logged the panic and its stack.
	Panicked http.Handler
}

// Mux is where a room registers its routes.
type Mux struct {
	r    *httprouter.Router
	room string
}

// Handle registers h for method and path (httprouter's patterns).
func (m Mux) Handle(method, path string, h httprouter.Handle) {
	room := m.room
	m.r.Handle(method, path, func(w http.ResponseWriter, r *http.Request, p httprouter.Params) {
		InfoFrom(r.Context()).Room = room
		h(w, r, p)
	})
}

// Handler registers an http.Handler for method and path; the path's
// parameters are in the request's context (httprouter.ParamsFromContext).
func (m Mux) Handler(method, path string, h http.Handler) {
	m.Handle(method, path, func(w http.ResponseWriter, r *http.Request, p httprouter.Params) {
		if len(p) > 0 {
			r = r.WithContext(context.WithValue(r.Context(), httprouter.ParamsKey, p))
		}
		h.ServeHTTP(w, r)
	})
}

// site is the handler New returns.
type site struct {
	cfg     Config
	router  *httprouter.Router
	rooms   []Room
	metrics *metrics
}

// New returns the handler of the public address: every room's routes,
// GET /healthz, and the access log, request ids, metrics and panic
// handling around them.
func New(cfg Config, rooms ...Room) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IPPerMin <= 0 {
		cfg.IPPerMin = 300
	}
	if cfg.IPs == nil {
		cfg.IPs = ratelimit.New(MaxBuckets)
	}
	s := &site{cfg: cfg, rooms: rooms, router: httprouter.New()}
	if cfg.Registry != nil {
		s.metrics = newMetrics(cfg.Registry, cfg.DB)
	}
	r := s.router
	// A near miss (/api/v2/, /API/V2, //api/v2) is the owning room's 404:
	// a redirect would be followed by some POST clients as a GET, and by
	// others not at all.
	r.RedirectTrailingSlash, r.RedirectFixedPath = false, false
	r.HandleOPTIONS = false
	for _, room := range rooms {
		room.Routes(Mux{r: r, room: room.Name})
	}
	r.GET("/healthz", s.publicHealth)
	r.NotFound = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		room := s.owner(r.URL.Path)
		if room == nil || room.NotFound == nil {
			writeJSONError(w, http.StatusNotFound, "Not found")
			return
		}
		InfoFrom(r.Context()).Room = room.Name
		room.NotFound.ServeHTTP(w, r)
	})
	r.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		room := s.owner(r.URL.Path)
		if room == nil || room.MethodNotAllowed == nil {
			writeJSONError(w, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		InfoFrom(r.Context()).Room = room.Name
		room.MethodNotAllowed.ServeHTTP(w, r)
	})
	r.PanicHandler = s.panicked
	return s
}

// MaxBuckets bounds a set of per-address buckets (about 100 bytes each).
const MaxBuckets = 200_000

// owner is the room that answers an unknown path: the first whose Owns
// claims it, else the catch-all room, else none.
func (s *site) owner(path string) *Room {
	var all *Room
	for i := range s.rooms {
		switch owns := s.rooms[i].Owns; {
		case owns == nil:
			if all == nil {
				all = &s.rooms[i]
			}
		case owns(path):
			return &s.rooms[i]
		}
	}
	return all
}

func (s *site) panicked(w http.ResponseWriter, r *http.Request, v any) {
	s.cfg.Log.Error().Str("req", InfoFrom(r.Context()).ID).Interface("panic", v).
		Bytes("stack", debug.Stack()).Msg("handler panicked")
	info := InfoFrom(r.Context())
	for _, room := range s.rooms {
		if room.Name == info.Room && room.Panicked != nil {
			room.Panicked.ServeHTTP(w, r)
			return
		}
	}
	if room := s.owner(r.URL.Path); room != nil && room.Panicked != nil {
		room.Panicked.ServeHTTP(w, r)
		return
	}
	writeJSONError(w, http.StatusInternalServerError, "Internal error")
}

// ServeHTTP sets the request id and the client's address, routes, and
// writes one access log line and the request's metrics.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	info := &Info{ID: requestID(r), IP: ratelimit.ClientIP(r, s.cfg.TrustedProxies).String()}
	w.Header().Set("X-Request-Id", info.ID)
	rec := &recorder{ResponseWriter: w}
	s.router.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), ctxKey{}, info)))
	took := s.cfg.Now().Sub(start)
	s.metrics.observe(info, rec.status, took)
	ev := s.cfg.Log.Info()
	if rec.status >= 500 {
		ev = s.cfg.Log.Warn()
	}
	ev.Str("req", info.ID).Str("method", r.Method).Str("path", truncate(r.URL.Path, 200)).
		Int("status", rec.status).Int("bytes", rec.bytes).
		Dur("dur", took).Str("ip", info.IP)
	if info.Room != "" {
		ev.Str("room", info.Room)
	}
	if info.Action != "" {
		ev.Str("action", truncate(info.Action, 64))
	}
	if info.Account != 0 {
		ev.Int64("account", info.Account)
	}
	ev.Msg("request")
}

// Info travels with a request so that the access log line and the metrics
// can tell what the room did with it.
type Info struct {
	// ID is the request id, answered in X-Request-Id.
	ID string
	// IP is the client's address, as rate limits see it.
	IP string
	// Room is the name of the room that answered.
	Room string
	// Action is what the request asked for, for the log (an API action, a
	// page); Label is its metric label when Action is unbounded (an
	// unknown API action is labelled "other").
	Action, Label string
	// Account is the customer who made the request, once known.
	Account int64
}

type ctxKey struct{}

// InfoFrom returns the request's Info; an empty one outside the server.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(ctxKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// recorder remembers the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// requestID keeps a caller's X-Request-Id when it is short and plain (so a
// proxy's id can be followed through), and makes a new one otherwise.
func requestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		return ulid.Make().String()
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ulid.Make().String()
		}
	}
	return id
}

// writeJSONError answers {"error": msg}; the messages are the server's own
// constants, so no escaping is needed beyond quoting.
func writeJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, `{"error":`+strconv.Quote(msg)+`}`)
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(code)
	w.Write([]byte(body + "\n"))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = strings.ToValidUTF8(s[:n], "")
	return s + "…"
}
