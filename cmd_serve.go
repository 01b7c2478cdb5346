package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"time"

	"notpanel/httpapi"
	"notpanel/payment"
	"notpanel/ratelimit"
	"notpanel/replica"
	"notpanel/server"
	"notpanel/store"
	"notpanel/storefront"
	"notpanel/worker"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// shutdownTimeout bounds how long serve waits for requests in flight once
// asked to stop, so that a stuck client cannot hold up a restart.
const shutdownTimeout = 15 * time.Second

type serveCmd struct {
	Listen          string        `default:":8080" help:"Address to listen on, host:port: the storefront and the API."`
	OpsListen       string        `name:"ops-listen" default:"127.0.0.1:9090" help:"The operator's address: /metrics, /healthz and, with --pprof, Go's profiles. Keep it off the public side; \"off\" serves none of them."`
	Worker          bool          `default:"true" negatable:"" help:"Run the background worker beside the API; --worker=false serves the API alone (maintenance, API-only nodes)."`
	WorkerInterval  time.Duration `default:"2s" help:"How often the worker looks for new work: dispatch, cancel requests, refills, webhook deliveries."`
	SyncInterval    time.Duration `default:"60s" help:"How soon an in-flight order or refill is asked about upstream again (failures back off beyond it)."`
	Pprof           bool          `help:"Serve Go's pprof profiles under /debug/pprof/ on the --ops-listen address, for performance work."`
	IPPerMin        int           `name:"ip-per-min" default:"300" help:"Requests a client address may make a minute, counted before its key is looked up."`
	TrustedProxy    []string      `name:"trusted-proxy" placeholder:"CIDR" help:"A reverse proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client; other peers are the client themselves."`
	MaxConns        int           `name:"max-conns" default:"1024" help:"Open connections the public address holds at most; beyond, the one idle longest is closed to answer a new client."`
	MaxConnsPerPeer int           `name:"max-conns-per-client" default:"64" help:"Open connections one client address holds at most (trusted proxies are not limited): beyond, its own idle ones are closed first."`
	WebhookInsecure bool          `name:"webhook-allow-insecure" help:"Admit http and every address (loopback, private…) as webhook targets: for development and tests only."`
	Signup          string        `default:"open" enum:"open,invite,closed" help:"Who may create an account on the storefront: anyone (open), holders of a code from notpanel invite create (invite), nobody (closed; accounts come from user add)."`
	SMTPURL         string        `name:"smtp-url" env:"NOTPANEL_SMTP_URL" placeholder:"URL" help:"SMTP server for password reset mails: smtp://user:password@host:587 (STARTTLS), smtps://…:465, or smtp+insecure://host:25 for a local relay. Without it, the forgot-password page says to contact the panel."`
	MailFrom        string        `name:"mail-from" placeholder:"ADDRESS" help:"The address reset mails come from, e.g. \"Panel <noreply@panel.example.com>\"."`
	Replica         string        `placeholder:"URL" default:"${replica}" help:"Stream the database off the machine as it is written, to file:///path, s3://bucket/path[?endpoint=URL&region=R] (any S3-compatible store; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or sftp://user@host/path; notpanel restore brings it back. The default comes from $$NOTPANEL_REPLICA."`
	ReplicaMaxLag   time.Duration `name:"replica-max-lag" default:"5m" help:"/healthz answers 503 when no sync with the replica has succeeded for this long."`
	ReplicaInterval time.Duration `name:"replica-interval" default:"${replicatick}" help:"How often new writes are shipped to the replica, one upload each time there are some: about this long of writes (plus one upload) is what a sudden loss of the machine can cost."`
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
	if c.MaxConns < 1 || c.MaxConnsPerPeer < 1 {
		return fmt.Errorf("--max-conns and --max-conns-per-client must be at least 1")
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	var ops net.Listener
	switch {
	case c.OpsListen != "off" && c.OpsListen != "":
		if ops, err = net.Listen("tcp", c.OpsListen); err != nil {
			ln.Close()
			return fmt.Errorf("--ops-listen %s: %w (give another address, or \"off\")", c.OpsListen, err)
		}
	case c.Pprof:
		ln.Close()
		return fmt.Errorf("--pprof serves on the --ops-listen address, which is off")
	}
	var wc *worker.Config
	if c.Worker {
		wc = &worker.Config{Interval: c.WorkerInterval, SyncInterval: c.SyncInterval, WebhookInsecure: c.WebhookInsecure}
	}
	if c.WebhookInsecure {
		a.log.Warn().Msg("--webhook-allow-insecure: webhooks may target http and private addresses; for development only")
	}
	ls := listeners{public: ln, ops: ops}
	sc := siteConfig{
		ipPerMin: c.IPPerMin, trusted: trusted, webhookInsecure: c.WebhookInsecure, pprof: c.Pprof,
		limits: server.Limits{MaxConns: c.MaxConns, PerClient: c.MaxConnsPerPeer, Exempt: trusted},
		signup: c.Signup,
	}
	if c.SMTPURL != "" {
		if sc.mailer, err = storefront.NewSMTP(c.SMTPURL, c.MailFrom); err != nil {
			ls.close()
			return err
		}
	}
	if c.Replica != "" {
		if sc.replica, err = c.startReplica(ctx, a, db); err != nil {
			ls.close()
			return err
		}
	}
	err = serve(ctx, a, db, ls, sc, wc)
	if sc.replica != nil {
		// Litestream's rule: the application's connections close first, then
		// the replica ships what is left.
		err = errors.Join(err, a.closeDB(), sc.replica.stream.Close(ctx))
	}
	return err
}

// offBox is the replica serve streams the database to.
type offBox struct {
	stream *replica.Stream
	maxLag time.Duration
}

// startReplica starts streaming the database to --replica.
func (c *serveCmd) startReplica(ctx context.Context, a *app, db *store.DB) (*offBox, error) {
	if c.ReplicaInterval < 10*time.Millisecond || c.ReplicaMaxLag < c.ReplicaInterval {
		return nil, fmt.Errorf("--replica-interval must be at least 10ms and --replica-max-lag at least as long")
	}
	opt := c.options(a, c.Replica)
	opt.Interval = c.ReplicaInterval
	stream, err := replica.Start(ctx, db.Path(), opt)
	if err != nil {
		return nil, err
	}
	return &offBox{stream: stream, maxLag: c.ReplicaMaxLag}, nil
}

// listeners are serve's addresses: the public one, and the operator's
// (nil when off).
type listeners struct{ public, ops net.Listener }

// close closes both, for a start that fails before serving.
func (ls listeners) close() {
	ls.public.Close()
	if ls.ops != nil {
		ls.ops.Close()
	}
}

// siteConfig is what serve's rooms and server are made with.
type siteConfig struct {
	ipPerMin        int
	trusted         []netip.Prefix
	webhookInsecure bool
	pprof           bool
	limits          server.Limits
	signup          string
	mailer          storefront.Mailer
	replica         *offBox // nil without --replica; closing it is serve's caller's
}

// serve answers the public address and the operator's and, unless wc is
// nil, runs the worker, until ctx ends. It then stops accepting, lets
// requests in flight finish (within shutdownTimeout), and stops the worker
// once its calls in flight are recorded. A replica is watched by /healthz
// and /metrics.
func serve(ctx context.Context, a *app, db *store.DB, ls listeners, sc siteConfig, wc *worker.Config) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var checks []func() error
	if off := sc.replica; off != nil {
		reg.MustRegister(off.stream)
		checks = append(checks, func() error { return off.stream.Healthy(off.maxLag) })
	}
	payments := payment.New(payment.Config{DB: db, Log: a.log, Registry: reg})
	var w *worker.Worker
	scfg := server.Config{DB: db, Log: a.log, TrustedProxies: sc.trusted, IPs: ratelimit.New(server.MaxBuckets),
		IPPerMin: sc.ipPerMin, Registry: reg}
	if wc != nil {
		wc.Deposits = payments
		calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "notpanel_upstream_calls_total",
			Help: "Calls to providers by provider, call and outcome (ok, temporary, permanent, account, unknown-outcome, busy)."},
			[]string{"provider", "call", "outcome"})
		reg.MustRegister(calls)
		wc.DB, wc.Log = db, a.log
		wc.Observe = func(provider, call, outcome string) { calls.WithLabelValues(provider, call, outcome).Inc() }
		w = worker.New(*wc)
		checks = append(checks, w.Alive)
		reg.MustRegister(laneGauges{w}, providerGauges{w})
	}
	if len(checks) > 0 {
		scfg.Health = func() error {
			for _, check := range checks {
				if err := check(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	api := httpapi.New(httpapi.Config{DB: db, Log: a.log, IPs: scfg.IPs, IPPerMin: sc.ipPerMin,
		WebhookInsecure: sc.webhookInsecure})
	shop, err := storefront.New(storefront.Config{DB: db, Log: a.log, TrustedProxies: sc.trusted, Signup: sc.signup,
		Mailer: sc.mailer, WebhookInsecure: sc.webhookInsecure, Payments: payments})
	if err != nil {
		ls.close()
		return err
	}
	sc.limits.Registry, sc.limits.Log = reg, a.log
	srv := server.NewHTTP(server.New(scfg, api, payments.Room(), shop), sc.limits)
	servers := []*http.Server{srv}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ls.public) }()
	if ls.ops != nil {
		opsSrv := &http.Server{Handler: server.Ops(scfg, sc.pprof), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, opsSrv)
		go func() { served <- opsSrv.Serve(ls.ops) }()
		ev := a.log.Info()
		if sc.pprof {
			ev = a.log.Warn().Bool("pprof", true)
		}
		ev.Str("addr", ls.ops.Addr().String()).Msg("operator address: /metrics, /healthz")
	}

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
	a.log.Info().Str("addr", ls.public.Addr().String()).Str("db", db.Path()).Bool("worker", w != nil).Msg("listening")

	closeAll := func() {
		for _, s := range servers {
			s.Close()
		}
	}
	select {
	case err := <-served:
		closeAll()
		stopWork()
		<-worked
		return err
	case err := <-watch: // the worker could not start
		closeAll()
		return err
	case <-ctx.Done():
	}
	a.log.Info().Dur("timeout", shutdownTimeout).Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var shutdownErr error
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			s.Close()
			shutdownErr = errors.Join(shutdownErr, err)
		}
	}
	stopWork()
	workErr := <-worked
	for range servers {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	if err := errors.Join(shutdownErr, workErr); err != nil {
		return err
	}
	a.log.Info().Msg("stopped")
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

// providerGauges reports at each scrape how the worker stands with each
// provider: the pace of its calls (and how often the provider made it slow
// down) and our balance there.
type providerGauges struct{ w *worker.Worker }

var (
	concurrencyDesc = prometheus.NewDesc("notpanel_provider_concurrency",
		"Calls at once the operator allows a provider (provider set --concurrency).", []string{"provider"}, nil)
	paceDesc = prometheus.NewDesc("notpanel_provider_pace",
		"Calls at once the worker allows itself towards a provider now: its concurrency, or less after it answered 429 or \"too many requests\".",
		[]string{"provider"}, nil)
	heldDesc = prometheus.NewDesc("notpanel_provider_pace_held_seconds",
		"How much longer every call to a provider is held because even one at a time was too many, or it sent Retry-After (0 when not).",
		[]string{"provider"}, nil)
	cutsDesc = prometheus.NewDesc("notpanel_provider_pace_cuts_total",
		"Times a provider's answers made the worker lower its pace.", []string{"provider"}, nil)
	inflightDesc = prometheus.NewDesc("notpanel_provider_calls_in_flight", "Calls to a provider under way.", []string{"provider"}, nil)
	balanceDesc  = prometheus.NewDesc("notpanel_provider_balance",
		"Our balance at a provider as last read by the worker, in its currency.", []string{"provider", "currency"}, nil)
	balanceLowDesc = prometheus.NewDesc("notpanel_provider_balance_low",
		"1 when our balance at a provider is below its low-balance mark (provider set --low-balance).", []string{"provider"}, nil)
)

func (g providerGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{concurrencyDesc, paceDesc, heldDesc, cutsDesc, inflightDesc, balanceDesc, balanceLowDesc} {
		ch <- d
	}
}

func (g providerGauges) Collect(ch chan<- prometheus.Metric) {
	for _, p := range g.w.Providers() {
		ch <- prometheus.MustNewConstMetric(concurrencyDesc, prometheus.GaugeValue, float64(p.Concurrency), p.Provider)
		ch <- prometheus.MustNewConstMetric(paceDesc, prometheus.GaugeValue, float64(p.Pace), p.Provider)
		ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, p.Held.Seconds(), p.Provider)
		ch <- prometheus.MustNewConstMetric(cutsDesc, prometheus.CounterValue, float64(p.Cuts), p.Provider)
		ch <- prometheus.MustNewConstMetric(inflightDesc, prometheus.GaugeValue, float64(p.InFlight), p.Provider)
		if p.Balance != nil {
			ch <- prometheus.MustNewConstMetric(balanceDesc, prometheus.GaugeValue, float64(*p.Balance)/store.MicrosPerUnit, p.Provider, p.Currency)
			low := 0.0
			if p.Low {
				low = 1
			}
			ch <- prometheus.MustNewConstMetric(balanceLowDesc, prometheus.GaugeValue, low, p.Provider)
		}
	}
}
