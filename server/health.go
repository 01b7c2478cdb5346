package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"
)

// publicHealth is GET /healthz on the public address: the health check,
// behind the client address's bucket like every other public request.
func (s *site) publicHealth(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	info := InfoFrom(r.Context())
	info.Room, info.Action = "ops", "healthz"
	if st := s.cfg.IPs.Take(info.IP, s.cfg.IPPerMin, s.cfg.Now()); !st.OK {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(max(st.RetryIn, time.Second).Seconds())), 10))
		writeJSONError(w, http.StatusTooManyRequests, "Rate limit exceeded")
		return
	}
	health(s.cfg).ServeHTTP(w, r)
}

// health answers 200 when the database answers and cfg.Health (the
// worker, the replica) has nothing to say, 503 with the reason otherwise:
// for a load balancer or a monitor.
func health(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cfg.DB.Ping(r.Context()); err != nil {
			cfg.Log.Error().Err(err).Msg("health check: database")
			writeJSON(w, http.StatusServiceUnavailable, `{"status":"unhealthy","error":"database unreachable"}`)
			return
		}
		if cfg.Health != nil {
			if err := cfg.Health(); err != nil {
				b, _ := json.Marshal(struct {
					Status string `json:"status"`
					Error  string `json:"error"`
				}{"unhealthy", err.Error()})
				writeJSON(w, http.StatusServiceUnavailable, string(b))
				return
			}
		}
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
}
