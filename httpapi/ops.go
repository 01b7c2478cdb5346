package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"notpanel/store"
)

// metrics are the API's own series; nil when the server runs without a
// registry.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry, db *store.DB) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notpanel_api_requests_total",
			Help: "API requests by action and HTTP status."}, []string{"action", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "notpanel_api_request_seconds",
			Help: "Time to answer an API request, by action.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)},
			[]string{"action"}),
	}
	reg.MustRegister(m.requests, m.latency, &workGauges{db: db})
	return m
}

// observe records one answered request; action is "" for paths other than
// the API and "other" for unknown actions, so labels stay few.
func (m *metrics) observe(action string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if _, known := actions[action]; !known && action != "" {
		action = "other"
	}
	m.requests.WithLabelValues(action, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(action).Observe(took.Seconds())
}

// workGauges reads the open work from the database at each scrape.
type workGauges struct{ db *store.DB }

var (
	ordersDesc  = prometheus.NewDesc("notpanel_orders_open", "Open orders by status.", []string{"status"}, nil)
	parkedDesc  = prometheus.NewDesc("notpanel_orders_review", "Orders parked for the operator's review.", nil, nil)
	cancelsDesc = prometheus.NewDesc("notpanel_cancel_requests_open", "Cancels waiting to be forwarded or answered.", nil, nil)
	refillsDesc = prometheus.NewDesc("notpanel_refills_open", "Refills not finished yet.", nil, nil)
	hooksDesc   = prometheus.NewDesc("notpanel_webhook_deliveries_pending",
		"Webhook deliveries not made yet, retries included.", nil, nil)
)

func (g *workGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- ordersDesc
	ch <- parkedDesc
	ch <- cancelsDesc
	ch <- refillsDesc
	ch <- hooksDesc
}

func (g *workGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := g.db.Gauges(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(ordersDesc, err)
		return
	}
	for s, n := range w.OpenOrders {
		ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(n), s)
	}
	ch <- prometheus.MustNewConstMetric(parkedDesc, prometheus.GaugeValue, float64(w.Parked))
	ch <- prometheus.MustNewConstMetric(cancelsDesc, prometheus.GaugeValue, float64(w.CancelRequests))
	ch <- prometheus.MustNewConstMetric(refillsDesc, prometheus.GaugeValue, float64(w.Refills))
	ch <- prometheus.MustNewConstMetric(hooksDesc, prometheus.GaugeValue, float64(w.Deliveries))
}

// healthz answers 200 when the database answers and the worker (if any)
// is alive, 503 with the reason otherwise: for a load balancer or a
// monitor.
func (a *api) healthz(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	if err := a.db.Ping(r.Context()); err != nil {
		a.log.Error().Err(err).Msg("health check: database")
		writeJSON(w, http.StatusServiceUnavailable, object{{"status", "unhealthy"}, {"error", "database unreachable"}})
		return
	}
	if a.health != nil {
		if err := a.health(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, object{{"status", "unhealthy"}, {"error", err.Error()}})
			return
		}
	}
	writeJSON(w, http.StatusOK, object{{"status", "ok"}})
}

func metricsHandler(reg *prometheus.Registry) httprouter.Handle {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) { h.ServeHTTP(w, r) }
}
