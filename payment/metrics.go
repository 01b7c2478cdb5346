package payment

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"notpanel/store"
)

// metrics are the payment series; nil when the service runs without a
// registry (the CLI).
type metrics struct {
	webhooks *prometheus.CounterVec
	calls    *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, db *store.DB) *metrics {
	m := &metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notpanel_payment_webhooks_total",
			Help: "Gateways' webhooks by gateway and outcome (recorded, ignored, bad-signature, no-secret, unknown-gateway)."},
			[]string{"gateway", "outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notpanel_payment_gateway_calls_total",
			Help: "Calls to payment gateways by gateway, call (checkout, read-back) and outcome (ok, error)."},
			[]string{"gateway", "call", "outcome"}),
	}
	reg.MustRegister(m.webhooks, m.calls, depositGauges{db})
	return m
}

func (m *metrics) webhook(gateway, outcome string) {
	if m != nil {
		m.webhooks.WithLabelValues(gateway, outcome).Inc()
	}
}

func (m *metrics) called(gateway, call string, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.calls.WithLabelValues(gateway, call, outcome).Inc()
}

// depositGauges reads the deposits from the database at each scrape.
type depositGauges struct{ db *store.DB }

var (
	depositsDesc = prometheus.NewDesc("notpanel_deposits", "Deposits by gateway and status.",
		[]string{"gateway", "status"}, nil)
	creditedDesc = prometheus.NewDesc("notpanel_deposits_credited_amount",
		"Amount credited by deposits through each gateway, in the panel currency.", []string{"gateway"}, nil)
)

func (g depositGauges) Describe(ch chan<- *prometheus.Desc) { ch <- depositsDesc; ch <- creditedDesc }

func (g depositGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := g.db.DepositCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depositsDesc, err)
		return
	}
	credited := map[string]int64{}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(depositsDesc, prometheus.GaugeValue, float64(c.Count), c.Gateway, c.Status)
		credited[c.Gateway] += c.Credited
	}
	for gw, amount := range credited {
		ch <- prometheus.MustNewConstMetric(creditedDesc, prometheus.GaugeValue, float64(amount)/store.MicrosPerUnit, gw)
	}
}
