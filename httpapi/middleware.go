package httpapi

import (
	"context"
	"net/http"
	"notpanel/ratelimit"
	"runtime/debug"

	"github.com/oklog/ulid/v2"
)

// reqInfo travels with a request so that the access log line can tell what
// the handler did.
type reqInfo struct {
	id      string
	ip      string // the client, as rate limits see it
	action  string
	account int64
}

type ctxKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
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

// middleware sets the request id, limits the body, and writes one access
// log line per request.
func (a *api) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := a.now()
		info := &reqInfo{id: requestID(r), ip: ratelimit.ClientIP(r, a.trusted).String()}
		w.Header().Set("X-Request-Id", info.id)
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), ctxKey{}, info)))
		took := a.now().Sub(start)
		a.metrics.observe(info.action, rec.status, took)
		ev := a.log.Info()
		if rec.status >= 500 {
			ev = a.log.Warn()
		}
		ev.Str("req", info.id).Str("method", r.Method).Str("path", r.URL.Path).
			Int("status", rec.status).Int("bytes", rec.bytes).
			Dur("dur", took).Str("ip", info.ip)
		if info.action != "" {
			ev.Str("action", truncate(info.action, 64))
		}
		if info.account != 0 {
			ev.Int64("account", info.account)
		}
		ev.Msg("request")
	})
}

// panicked answers a handler panic with a JSON 500 and logs the stack.
func (a *api) panicked(w http.ResponseWriter, r *http.Request, v any) {
	a.log.Error().Str("req", infoFrom(r.Context()).id).Interface("panic", v).
		Bytes("stack", debug.Stack()).Msg("handler panicked")
	writeJSON(w, http.StatusInternalServerError, errorBody("Internal error"))
}
