package server

import (
	"context"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"notpanel/store"
)

// metrics are the server's request series; nil when it runs without a
// registry.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry, db *store.DB) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notpanel_http_requests_total",
			Help: "Requests by room (api, store, payments, ops), action or page, and HTTP status."},
			[]string{"room", "action", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "notpanel_http_request_seconds",
			Help: "Time to answer a request, by room and action or page.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)},
			[]string{"room", "action"}),
	}
	reg.MustRegister(m.requests, m.latency, &workGauges{db: db})
	return m
}

// observe records one answered request. Labels stay few: a room names its
// actions from a fixed set (Label when Action is not), and a request no
// room answered is counted under "none".
func (m *metrics) observe(info *Info, status int, took time.Duration) {
	if m == nil {
		return
	}
	room, action := info.Room, info.Label
	if action == "" {
		action = info.Action
	}
	if room == "" {
		room, action = "none", ""
	}
	m.requests.WithLabelValues(room, action, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(room, action).Observe(took.Seconds())
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

// Ops returns the handler of the operator's address (serve --ops-listen,
// loopback by default): GET /metrics, GET /healthz without a rate limit,
// and with pprof Go's profiles under /debug/pprof/. None of it is for
// customers: the metrics name providers and the profiles show the heap.
func Ops(cfg Config, pprofOn bool) http.Handler {
	mux := http.NewServeMux()
	if cfg.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	}
	mux.Handle("GET /healthz", health(cfg))
	if pprofOn {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "Not found: the operator's address serves /metrics, /healthz and, with --pprof, /debug/pprof/")
	})
	return mux
}
