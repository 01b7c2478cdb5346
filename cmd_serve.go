package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"

	"notpanel/httpapi"
	"notpanel/ratelimit"
	"notpanel/replica"
	"notpanel/store"
	"notpanel/worker"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// shutdownTimeout bounds how long serve waits for requests in flight once
// asked to stop, so that a stuck client cannot hold up a restart.
const shutdownTimeout = 15 * time.Second

type serveCmd struct {
	Listen          string        `default:":8080" help:"Address to listen on, host:port."`
	Worker          bool          `default:"true" negatable:"" help:"Run the background worker beside the API; --worker=false serves the API alone (maintenance, API-only nodes)."`
	WorkerInterval  time.Duration `default:"2s" help:"How often the worker looks for new work: dispatch, cancel requests, refills, webhook deliveries."`
	SyncInterval    time.Duration `default:"60s" help:"How soon an in-flight order or refill is asked about upstream again (failures back off beyond it)."`
	Pprof           string        `placeholder:"ADDR" help:"Serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060) for performance work; keep it on loopback."`
	IPPerMin        int           `name:"ip-per-min" default:"300" help:"Requests a client address may make a minute, counted before its key is looked up."`
	TrustedProxy    []string      `name:"trusted-proxy" placeholder:"CIDR" help:"A reverse proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client; other peers are the client themselves."`
	WebhookInsecure bool          `name:"webhook-allow-insecure" help:"Admit http and every address (loopback, private…) as webhook targets: for development and tests only."`
	Replica         string        `placeholder:"URL" default:"${replica}" help:"Stream the database off the machine as it is written, to file:///path, s3://bucket/path[?endpoint=URL&region=R] (any S3-compatible store; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or sftp://user@host/path; notpanel restore brings it back. The default comes from $$NOTPANEL_REPLICA."`
	ReplicaMaxLag   time.Duration `name:"replica-max-lag" default:"5m" help:"/healthz answers 503 when no sync with the replica has succeeded for this long."`
	ReplicaInterval time.Duration `name:"replica-interval" default:"500ms" help:"How often new writes are shipped to the replica, one upload each time there are some: about this long of writes (plus one upload) is what a sudden loss of the machine can cost."`
	sftpFlags       `embed:""`
}

// tuneGC trades memory the server barely uses for less time collecting
// garbage: a server holds little live data (its caches are small), so the
// collector may let the heap grow further between cycles, bounded by a soft
// limit far below the 200 MB an operator budgets for it. GOGC and GOMEMLIMIT
// in the environment win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(150 << 20)
	}
}

func (c *serveCmd) Run(ctx context.Context, a *app) error {
	tuneGC(os.Getenv)
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	trusted, err := ratelimit.ParsePrefixes(c.TrustedProxy)
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	if c.IPPerMin < 1 {
		return fmt.Errorf("--ip-per-min must be at least 1")
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	if c.Pprof != "" {
		if err := servePprof(ctx, a, c.Pprof); err != nil {
			ln.Close()
			return err
		}
	}
	var wc *worker.Config
	if c.Worker {
		wc = &worker.Config{Interval: c.WorkerInterval, SyncInterval: c.SyncInterval, WebhookInsecure: c.WebhookInsecure}
	}
	if c.WebhookInsecure {
		a.log.Warn().Msg("--webhook-allow-insecure: webhooks may target http and private addresses; for development only")
	}
	var off *offBox
	if c.Replica != "" {
		if c.ReplicaInterval < 10*time.Millisecond || c.ReplicaMaxLag < c.ReplicaInterval {
			ln.Close()
			return fmt.Errorf("--replica-interval must be at least 10ms and --replica-max-lag at least as long")
		}
		opt := c.options(a, c.Replica)
		opt.Interval = c.ReplicaInterval
		stream, err := replica.Start(ctx, db.Path(), opt)
		if err != nil {
			ln.Close()
			return err
		}
		off = &offBox{stream: stream, maxLag: c.ReplicaMaxLag}
	}
	err = serve(ctx, a, db, ln, httpapi.Config{IPPerMin: c.IPPerMin, TrustedProxies: trusted, WebhookInsecure: c.WebhookInsecure}, wc, off)
	if off != nil {
		// Litestream's rule: the application's connections close first, then
		// the replica ships what is left.
		err = errors.Join(err, a.closeDB(), off.stream.Close(ctx))
	}
	return err
}

// offBox is the replica serve streams the database to.
type offBox struct {
	stream *replica.Stream
	maxLag time.Duration
}

// serve answers the API on ln and, unless wc is nil, runs the worker, until
// ctx ends. It then stops accepting, lets requests in flight finish (within
// shutdownTimeout), and stops the worker once its calls in flight are
// recorded. A replica, if off is not nil, is watched by /healthz and
// /metrics; closing it is the caller's.
func serve(ctx context.Context, a *app, db *store.DB, ln net.Listener, api httpapi.Config, wc *worker.Config, off *offBox) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var checks []func() error
	if off != nil {
		reg.MustRegister(off.stream)
		checks = append(checks, func() error { return off.stream.Healthy(off.maxLag) })
	}
	var w *worker.Worker
	if wc != nil {
		calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notpanel_upstream_calls_total",
			Help: "Calls to providers by provider, call and outcome (ok, temporary, permanent, account, unknown-outcome)."},
			[]string{"provider", "call", "outcome"})
		reg.MustRegister(calls)
		wc.DB, wc.Log = db, a.log
		wc.Observe = func(provider, call, outcome string) { calls.WithLabelValues(provider, call, outcome).Inc() }
		w = worker.New(*wc)
		checks = append(checks, w.Alive)
		reg.MustRegister(laneGauges{w})
	}
	if len(checks) > 0 {
		api.Health = func() error {
			for _, check := range checks {
				if err := check(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	api.DB, api.Log, api.Registry = db, a.log, reg
	srv := httpapi.NewServer(ln.Addr().String(), httpapi.New(api))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	worked := make(chan error, 1)
	watch := worked // stays nil without a worker: the select below then never picks it
	if w != nil {
		go func() { worked <- w.Run(workCtx) }()
	} else {
		worked <- nil
		watch = nil
	}
	a.log.Info().Str("addr", ln.Addr().String()).Str("db", db.Path()).Bool("worker", w != nil).Msg("listening")

	select {
	case err := <-served:
		stopWork()
		<-worked
		return err
	case err := <-watch: // the worker could not start
		srv.Close()
		<-served
		return err
	case <-ctx.Done():
	}
	a.log.Info().Dur("timeout", shutdownTimeout).Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if shutdownErr != nil {
		srv.Close()
	}
	stopWork()
	workErr := <-worked
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := errors.Join(shutdownErr, workErr); err != nil {
		return err
	}
	a.log.Info().Msg("stopped")
	return nil
}

// servePprof serves the profiling endpoints on their own listener, apart
// from the API, until ctx ends.
func servePprof(ctx context.Context, a *app, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() { <-ctx.Done(); srv.Close() }()
	a.log.Warn().Str("addr", ln.Addr().String()).Msg("pprof profiles served")
	return nil
}

// laneGauges reports the worker's lanes at each scrape: how many run of
// each kind of work, and for how long the oldest has.
type laneGauges struct{ w *worker.Worker }

var (
	lanesDesc = prometheus.NewDesc("notpanel_worker_lanes_running",
		"Worker lanes (one per provider, or per webhook for deliveries) with calls under way, by kind of work.",
		[]string{"kind"}, nil)
	laneAgeDesc = prometheus.NewDesc("notpanel_worker_lane_oldest_seconds",
		"How long the oldest running lane of each kind of work has run (0 when none runs).", []string{"kind"}, nil)
)

func (g laneGauges) Describe(ch chan<- *prometheus.Desc) { ch <- lanesDesc; ch <- laneAgeDesc }

func (g laneGauges) Collect(ch chan<- prometheus.Metric) {
	for _, s := range g.w.Lanes() {
		ch <- prometheus.MustNewConstMetric(lanesDesc, prometheus.GaugeValue, float64(s.Running), s.Kind)
		ch <- prometheus.MustNewConstMetric(laneAgeDesc, prometheus.GaugeValue, s.Oldest.Seconds(), s.Kind)
	}
}
