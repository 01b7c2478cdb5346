package httpapi

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/rs/zerolog"

	"notpanel/ratelimit"
	"notpanel/server"
	"notpanel/store"
	"notpanel/webhook"
)

// api serves POST /api/v2 and POST /classic/api/v2.
type api struct {
	db      *store.DB
	log     zerolog.Logger
	now     func() time.Time
	catalog atomic.Pointer[catalog]

	resolver        webhook.Resolver
	webhookInsecure bool

	ipPerMin int
	ips      *ratelimit.Buckets // by client address, shared with the server
	keys     *ratelimit.Buckets // by key id
	accounts *ratelimit.Buckets // by account, across its keys: the "tier" bucket
}

// maxBuckets bounds each set of rate-limit buckets (about 100 bytes each).
const maxBuckets = 200_000

// call is one authenticated request: the snapshot of read-mostly data it
// was checked against, who makes it, and its parameters.
type call struct {
	snap *store.Snapshot
	p    store.Principal
	f    form
	// auth authenticates the call on a snapshot (and counts it against
	// its buckets, once), setting snap and p.
	auth func(context.Context, *store.Snapshot) error
}

// action handles one API action and returns the value to answer with, or
// an error.
type action func(a *api, ctx context.Context, c *call) (any, error)

var actions = map[string]action{
	"services":       (*api).services,
	"add":            (*api).add,
	"status":         (*api).status,
	"cancel":         (*api).cancel,
	"refill":         (*api).refill,
	"refill_status":  (*api).refillStatus,
	"balance":        (*api).balance,
	"webhook.add":    (*api).webhookAdd,
	"webhook.list":   (*api).webhookList,
	"webhook.remove": (*api).webhookRemove,
	"webhook.test":   (*api).webhookTest,
}

// New returns the API room: its two endpoints, and JSON answers for
// unknown paths under /api/ and /classic/, wrong methods and panics.
func New(cfg Config) server.Room {
	a := &api{db: cfg.DB, log: cfg.Log, now: cfg.Now, ipPerMin: cfg.IPPerMin, ips: cfg.IPs,
		keys: ratelimit.New(maxBuckets), accounts: ratelimit.New(maxBuckets)}
	if a.now == nil {
		a.now = time.Now
	}
	if a.ipPerMin <= 0 {
		a.ipPerMin = 300
	}
	if a.ips == nil {
		a.ips = ratelimit.New(maxBuckets)
	}
	a.resolver, a.webhookInsecure = cfg.Resolver, cfg.WebhookInsecure
	if a.resolver == nil {
		a.resolver = net.DefaultResolver
	}
	return server.Room{
		Name: "api",
		Routes: func(m server.Mux) {
			m.Handle(http.MethodPost, "/api/v2", a.v2)
			m.Handle(http.MethodPost, "/classic/api/v2", a.classicV2)
		},
		Owns: ownsPath,
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, errorBody("Not found"))
		}),
		MethodNotAllowed: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusMethodNotAllowed, errorBody("Method not allowed: use POST"))
		}),
		Panicked: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusInternalServerError, errorBody("Internal error"))
		}),
	}
}

// ownsPath claims the paths a client of the API may get slightly wrong
// (/api/v2/, /API/V2, //api/v2, /classic/…), so that they are answered in
// JSON like the API, not with a page.
func ownsPath(path string) bool {
	p := strings.ToLower(strings.TrimLeft(path, "/"))
	return strings.HasPrefix(p, "api/") || strings.HasPrefix(p, "classic/") || p == "classic"
}

// dialect is what differs between the native endpoint and the classic
// one: the actions, the answer to a missing or unknown one, and how errors
// are written.
type dialect struct {
	actions map[string]action
	unknown func(name string) error
	fail    func(a *api, w http.ResponseWriter, r *http.Request, err error)
}

var native = &dialect{
	actions: actions,
	unknown: func(name string) error {
		if name == "" {
			return store.Errorf(store.Invalid, "Missing required parameter: action")
		}
		return store.Errorf(store.Invalid, "Unknown action: %s", truncate(name, 64))
	},
	fail: (*api).fail,
}

// v2 is the native API endpoint.
func (a *api) v2(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	a.endpoint(w, r, native)
}

// endpoint reads the form, authenticates, and dispatches on action.
func (a *api) endpoint(w http.ResponseWriter, r *http.Request, d *dialect) {
	ctx := r.Context()
	info := server.InfoFrom(ctx)
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	// The client's address is limited first, before the key is looked up,
	// so that guessing keys is limited too.
	if st := a.ips.Take(info.IP, a.ipPerMin, a.now()); !st.OK {
		d.fail(a, w, r, &limited{by: "ip", retry: st.RetryIn})
		return
	}
	f, err := readForm(r)
	if err != nil {
		d.fail(a, w, r, err)
		return
	}
	info.Action, info.Label = f["action"], "other"
	if _, known := d.actions[info.Action]; known {
		info.Label = info.Action
	}
	out, err := a.serve(ctx, info, d, f, w.Header())
	if err != nil {
		d.fail(a, w, r, err)
		return
	}
	if e, ok := out.(*encoded); ok {
		e.write(w, r)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// serve authenticates and runs the action. An add places its order
// through store.PlaceOrderAs, which authenticates on the latest snapshot
// without reading the config version first and retries on a fresh one
// whatever may have been decided on stale data. Every other action first
// makes sure the snapshot is current (one small read).
func (a *api) serve(ctx context.Context, info *server.Info, d *dialect, f form, h http.Header) (any, error) {
	counted := false // a request is counted against its buckets once, retried or not
	c := &call{f: f}
	c.auth = func(ctx context.Context, snap *store.Snapshot) error {
		p, err := snap.Authenticate(ctx, f["key"])
		if err != nil {
			return err
		}
		c.snap, c.p = snap, p
		info.Account = p.AccountID
		if !counted {
			counted = true
			return a.limit(snap, p, h)
		}
		return nil
	}
	act, known := d.actions[f["action"]]
	if known && f["action"] == "add" {
		return act(a, ctx, c)
	}
	snap, err := a.db.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.auth(ctx, snap); err != nil {
		return nil, err
	}
	if !known {
		return nil, d.unknown(f["action"])
	}
	return act(a, ctx, c)
}

// errorBody is an error answer: {"error": message}.
func errorBody(msg string) object { return object{{"error", msg}} }

// statusOf is the one mapping from store error codes to HTTP statuses.
func statusOf(err error) int {
	if err == errTooLarge {
		return http.StatusRequestEntityTooLarge
	}
	var l *limited
	if errors.As(err, &l) {
		return http.StatusTooManyRequests
	}
	switch store.ErrorCode(err) {
	case store.Invalid, store.NotFound:
		return http.StatusBadRequest
	case store.Unauthorized:
		return http.StatusUnauthorized
	case store.Forbidden:
		return http.StatusForbidden
	case store.Conflict:
		return http.StatusConflict
	case store.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// fail answers with err's message and status. Internal errors are logged in
// full with the request id; the client sees only "Internal error".
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away mid-request: nobody reads the answer, and
		// nothing is wrong with the server.
		// 499 (as nginx logs it) marks that in the access log.
		a.log.Debug().Err(err).Str("req", server.InfoFrom(r.Context()).ID).Msg("client gone")
		writeJSON(w, 499, errorBody("Request cancelled"))
		return
	}
	var l *limited
	if errors.As(err, &l) {
		w.Header().Set("X-RateLimit-DeniedBy", l.by)
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(max(l.retry, time.Second).Seconds())), 10))
		writeJSON(w, code, errorBody(l.Error()))
		return
	}
	if code == http.StatusInternalServerError {
		a.log.Error().Err(err).Str("req", server.InfoFrom(r.Context()).ID).Msg("internal error")
	}
	writeJSON(w, code, errorBody(store.ErrorMessage(err)))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n])
	return string(r[:len(r)-1]) + "…"
}

// limited is a request refused by a rate limit: by the client's address,
// its key, or its account (the "tier" bucket).
type limited struct {
	by    string
	retry time.Duration
}

func (l *limited) Error() string { return "Rate limit exceeded" }

// limit counts an authenticated request against its key's and its
// account's buckets and sets the rate-limit headers of the answer.
func (a *api) limit(snap *store.Snapshot, p store.Principal, h http.Header) error {
	now := a.now()
	tier := snap.Tier(p.Tier)
	key := a.keys.Take(p.KeyID, int(tier.KeyPerMin), now)
	var acct ratelimit.State
	if key.OK {
		acct = a.accounts.Take(strconv.FormatInt(p.AccountID, 10), int(tier.AccountPerMin), now)
	} else {
		acct = a.accounts.Peek(strconv.FormatInt(p.AccountID, 10), int(tier.AccountPerMin), now)
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(key.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(key.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(key.Reset.Unix(), 10))
	h.Set("X-RateLimit-Tier-Remaining", strconv.Itoa(acct.Remaining))
	switch {
	case !key.OK:
		return &limited{by: "key", retry: key.RetryIn}
	case !acct.OK:
		return &limited{by: "tier", retry: acct.RetryIn}
	}
	return nil
}
