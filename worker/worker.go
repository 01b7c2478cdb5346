// Package worker fulfils orders in the background: it sends pending orders
// to their providers, forwards customers' cancels, asks providers how their
// orders are doing and applies what they say (refunds included), and runs
// refills. All its state is in the database; it can be stopped at any point
// and started again.
package worker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"notpanel/store"
	"notpanel/upstream"
	"notpanel/webhook"
)

// Config tunes the worker; zero fields take the defaults.
type Config struct {
	DB  *store.DB
	Log zerolog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
	// Jitter returns a number in [0, 1) that spreads retries (math/rand).
	Jitter func() float64
	// Interval is how often the worker looks for work (2 s).
	Interval time.Duration
	// SyncInterval is how soon an in-flight order or refill is asked about
	// again (60 s); failures back off beyond it.
	SyncInterval time.Duration
	// PaceStep is how often a pace lowered by a provider's "too busy" wins
	// back one call at once (DefaultPaceStep). Each provider's calls at once
	// and a minute are its settings (provider set).
	PaceStep time.Duration
	// CallTimeout bounds one call to a provider (30 s).
	CallTimeout time.Duration
	// MaxAttempts is how often a dispatch that keeps failing for a reason
	// that may pass is tried before the order fails with a refund (20).
	MaxAttempts int
	// WebhookInsecure lets deliveries reach http and private addresses: for
	// development and tests only.
	WebhookInsecure bool
	// Deposits, when set, reads pending deposits back from their payment
	// gateways on their schedule (payment.Service).
	Deposits Deposits
	// Observe, when set, is told of every call to a provider: the call
	// (add, status, cancel, refill, refill_status, services, balance) and
	// its outcome ("ok", or the error class).
	Observe func(provider, call, outcome string)
}

// Worker is the background fulfilment loop.
type Worker struct {
	cfg Config
	log zerolog.Logger

	lastTick atomic.Int64 // unix nanoseconds of the last finished pass
	hooks    *http.Client // for webhook deliveries: no redirects, no proxy, safe dialer

	mu      sync.Mutex
	clients map[int64]clientEntry // by provider id
	// pacers hold each provider's budget of calls; providers is the
	// providers as the last pass read them, and recorded the pace changes
	// written to the database for provider list.
	pacers    map[int64]*pacer
	providers map[int64]store.Provider
	recorded  map[int64]uint64
	// paused: providers that refused our account, with the pauses count
	// once the pause was written (pausing while it is being written); a
	// listing that began after that write and still finds the provider
	// active means the operator resumed it.
	paused map[int64]uint64
	pauses atomic.Uint64

	// Each provider's work of one kind, and each webhook's deliveries, runs
	// in a lane of its own that passes do not wait for.
	dispatching, cancelling, syncing, refilling, upkeeping lanes[int64]
	delivering                                             lanes[string]
	depositing                                             lanes[int64]   // by gateway
	inflight                                               sync.WaitGroup // every lane
	wake                                                   chan struct{}  // a lane has finished (see Run)
}

type clientEntry struct {
	p store.Provider
	c *upstream.Client
}

// New returns a worker; Run starts it.
func New(cfg Config) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = time.Minute
	}
	if cfg.PaceStep <= 0 {
		cfg.PaceStep = DefaultPaceStep
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = upstream.DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 20
	}
	hooks := &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: webhook.Dialer(cfg.WebhookInsecure).DialContext,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: deliveryTimeout, MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Worker{cfg: cfg, log: cfg.Log.With().Str("component", "worker").Logger(), hooks: hooks,
		clients: map[int64]clientEntry{}, pacers: map[int64]*pacer{}, providers: map[int64]store.Provider{},
		recorded: map[int64]uint64{}, paused: map[int64]uint64{}, wake: make(chan struct{}, 1)}
}

// wakeUp tells Run that a lane has finished; wakes that come while one is
// pending are one.
func (w *Worker) wakeUp() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run recovers dispatches cut short by a previous stop, then works every
// Interval until ctx is cancelled. A pass under way when ctx ends is
// finished (its calls are bounded by CallTimeout) so that no outcome is
// lost; Run returns after it.
func (w *Worker) Run(ctx context.Context) error {
	parked, released, err := w.cfg.DB.RecoverDispatches(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	if parked > 0 {
		w.log.Warn().Int("orders", parked).Msg("dispatches interrupted by the last stop parked for review: see notpanel order list --review")
	}
	if released > 0 {
		w.log.Info().Int("orders", released).Msg("dispatches interrupted by the last stop will be resent (notpanel providers dedupe by request_id)")
	}
	w.log.Info().Dur("interval", w.cfg.Interval).Dur("sync_interval", w.cfg.SyncInterval).Msg("worker started")
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		more := w.pass(ctx)
		if more && ctx.Err() == nil {
			continue // a backlog: go on at once rather than wait for the ticker
		}
		select {
		case <-ctx.Done():
			w.inflight.Wait()
			w.log.Info().Msg("worker stopped")
			return nil
		case <-t.C:
		case <-w.wake:
			// A lane has finished: the work a pass left to it while it ran
			// (a backlog's next batch, say) is listed now, not a tick later.
		}
	}
}

// Tick does one pass over every kind of work and returns when its calls,
// and those of earlier passes, are done; more reports that a step found a
// full batch, so that more work is probably waiting. Once ctx is cancelled
// no new call starts, but calls in flight finish and their outcomes are
// recorded.
func (w *Worker) Tick(ctx context.Context) (more bool) {
	more = w.pass(ctx)
	w.inflight.Wait()
	return more
}

// pass lists every kind of due work and starts it in lanes, without waiting
// for them: work of a lane still running from an earlier pass is left for a
// later one, so that a provider that hangs or a receiver that is slow holds
// up only its own lane, never the passes.
func (w *Worker) pass(ctx context.Context) (more bool) {
	work := context.WithoutCancel(ctx)
	w.refresh(work)
	defer w.recordPaces(work)
	for _, step := range []func(stop, work context.Context) bool{w.dispatch, w.cancels, w.syncs, w.refills, w.upkeep, w.deliveries, w.deposits} {
		if ctx.Err() != nil {
			break
		}
		if step(ctx, work) {
			more = true
		}
	}
	w.lastTick.Store(w.now().UnixNano())
	return more
}

// lanes runs the work of each key (a provider, a webhook) one batch at a
// time: a key's lane starts only when its previous one has finished.
type lanes[K comparable] struct {
	mu sync.Mutex
	// busy holds the keys whose lane is running.
	busy map[K]*lane
}

type lane struct {
	since time.Time
	// passedOver: a listing (or a start) passed over the lane's work, so
	// that its end has it listed.
	passedOver bool
}

// running lists the keys whose lane is running, for the next listing of due
// work to leave out.
func (l *lanes[K]) running() []K {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]K, 0, len(l.busy))
	for k, ln := range l.busy {
		ln.passedOver = true
		out = append(out, k)
	}
	return out
}

// renew marks k's running lane as starting afresh on new work, so that its
// age tells of its current batch.
func (l *lanes[K]) renew(k K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ln, ok := l.busy[k]; ok {
		ln.since = time.Now()
	}
}

// stats returns how many lanes run and since when the oldest has.
func (l *lanes[K]) stats() (n int, oldest time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range l.busy {
		if n++; oldest.IsZero() || ln.since.Before(oldest) {
			oldest = ln.since
		}
	}
	return n, oldest
}

// start runs fn in k's lane, counted by wg, unless that lane is running.
// When the lane ends, idle is called if its work was passed over meanwhile:
// only then is work known to wait for it, and a lane that no one waited for
// wakes no one, so that work that fails at once cannot spin the worker.
func (l *lanes[K]) start(wg *sync.WaitGroup, k K, fn func(), idle func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ln, running := l.busy[k]; running {
		ln.passedOver = true
		return
	}
	if l.busy == nil {
		l.busy = map[K]*lane{}
	}
	l.busy[k] = &lane{since: time.Now()}
	wg.Go(func() {
		defer func() {
			l.mu.Lock()
			wake := l.busy[k].passedOver
			delete(l.busy, k)
			l.mu.Unlock()
			if wake {
				idle()
			}
		}()
		fn()
	})
}

// LaneStats is what runs of one kind of work: the lanes (one per provider,
// or per webhook for deliveries) with calls under way, and how long the
// oldest has run. A lane that runs far longer than its calls can take
// points at a provider or receiver that holds calls open.
type LaneStats struct {
	Kind    string // dispatch, cancel, sync, refill, upkeep, deposit or delivery
	Running int
	Oldest  time.Duration // 0 when none runs
}

// Lanes reports the lanes of each kind of work, for monitoring.
func (w *Worker) Lanes() []LaneStats {
	now := time.Now()
	stat := func(kind string, n int, oldest time.Time) LaneStats {
		s := LaneStats{Kind: kind, Running: n}
		if n > 0 {
			s.Oldest = now.Sub(oldest)
		}
		return s
	}
	var out []LaneStats
	for _, k := range []struct {
		kind string
		l    *lanes[int64]
	}{{"dispatch", &w.dispatching}, {"cancel", &w.cancelling}, {"sync", &w.syncing}, {"refill", &w.refilling},
		{"upkeep", &w.upkeeping}, {"deposit", &w.depositing}} {
		n, oldest := k.l.stats()
		out = append(out, stat(k.kind, n, oldest))
	}
	n, oldest := w.delivering.stats()
	return append(out, stat("delivery", n, oldest))
}

// Alive reports an error when the worker has not finished a pass for much
// longer than its interval: stuck, or not running.
func (w *Worker) Alive() error {
	last := w.lastTick.Load()
	if last == 0 {
		return fmt.Errorf("worker has not finished a pass yet")
	}
	limit := 3*w.cfg.Interval + 2*w.cfg.CallTimeout
	if since := w.now().Sub(time.Unix(0, last)); since > limit {
		return fmt.Errorf("worker's last pass ended %s ago", since.Round(time.Second))
	}
	return nil
}

// observe reports a provider call's outcome to Config.Observe.
func (w *Worker) observe(p store.Provider, call string, err error) {
	if w.cfg.Observe == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = upstream.ClassOf(err).String()
	}
	w.cfg.Observe(p.Name, call, outcome)
}

// called takes in the outcome of a call to p, made with place pl, that
// every call shares: it is observed, a provider that refused our account is
// paused, and one that was too busy is called at a slower pace. What the
// outcome means for the work is the caller's.
func (w *Worker) called(ctx context.Context, pl *place, p store.Provider, call string, err error) {
	w.observe(p, call, err)
	switch upstream.ClassOf(err) {
	case upstream.Account:
		w.pause(ctx, p, err)
	case upstream.Busy:
		msg := err.Error()
		var e *upstream.Error
		if errors.As(err, &e) {
			msg = e.Msg
		}
		if pl.p.busy(pl, fmt.Sprintf("%s at %s UTC: %s", call, w.now().UTC().Format(time.TimeOnly), msg), upstream.RetryAfter(err)) {
			w.log.Warn().Str("provider", p.Name).Err(err).Stringer("pace", pl.p.state()).
				Msg("provider is too busy; calling it at a slower pace (see notpanel provider list)")
		}
	}
}

func (w *Worker) now() time.Time { return w.cfg.Now() }

// client returns the client for p, rebuilt when the operator changed it.
func (w *Worker) client(p store.Provider) *upstream.Client {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.clients[p.ID]; ok && e.p.URL == p.URL && e.p.APIKey == p.APIKey && e.p.Dialect == p.Dialect {
		return e.c
	}
	c := upstream.New(p, w.cfg.CallTimeout)
	w.clients[p.ID] = clientEntry{p: p, c: c}
	return c
}

// take waits for a place in slots, or for stop to end. Once stop has ended
// it is false even when a place is free: a select of the two would pick
// either, and work not started yet would start after the stop.
func take(stop context.Context, slots chan struct{}) bool {
	if stop.Err() != nil {
		return false
	}
	select {
	case slots <- struct{}{}:
		return true
	case <-stop.Done():
		return false
	}
}

// isPaused reports whether provider id refused our account; work for it is
// then left for when the operator resumes it.
func (w *Worker) isPaused(id int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, paused := w.paused[id]
	return paused
}

// task is one call's work; pl is its place in the provider's budget,
// released when the task returns (or earlier, by the task).
type task func(pl *place)

// spread runs each provider's tasks in that provider's lane of l, within
// its budget of calls, one goroutine a task; the lane ends when its tasks
// are done. A slow provider holds up only its own tasks. listed is the
// pauses count read before the tasks were listed. more, when set, is asked
// for a provider's next tasks once its lane has started all it had, so
// that a backlog keeps every place of the budget busy instead of draining
// the lane between listings. Once stop ends, the provider refuses our
// account, or its calls are held because it is too busy, tasks not yet
// started are dropped (listed again later).
func (w *Worker) spread(stop context.Context, l *lanes[int64], listed uint64, tasks map[int64][]task, more func(pid int64) []task) {
	for pid, list := range tasks {
		l.start(&w.inflight, pid, func() {
			w.mu.Lock()
			if at, ok := w.paused[pid]; ok && at <= listed {
				delete(w.paused, pid) // listed active after its pause was written: resumed
			}
			w.mu.Unlock()
			var wg sync.WaitGroup
			defer wg.Wait()
			pc := w.pacer(pid)
			for len(list) > 0 {
				for _, t := range list {
					pl, ok := pc.acquire(stop)
					if !ok {
						return
					}
					if w.isPaused(pid) {
						pl.release()
						return
					}
					wg.Go(func() {
						defer pl.release()
						t(pl)
					})
				}
				if more == nil {
					return
				}
				list = more(pid)
				l.renew(pid)
			}
		}, w.wakeUp)
	}
}

// backoff is how long to wait before attempt n+1 (n ≥ 0 failures so far):
// base doubling up to limit, spread by ±20 % so that retries do not bunch.
func (w *Worker) backoff(n int64, base, limit time.Duration) time.Duration {
	d := base
	for i := int64(0); i < n && d < limit; i++ {
		d *= 2
	}
	return w.jitter(min(d, limit))
}

// jitter spreads d over ±20 %, so that retries of many items do not all
// come at once.
func (w *Worker) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*w.cfg.Jitter()))
}

// at is the unix second d from now.
func (w *Worker) at(d time.Duration) int64 { return w.now().Add(d).Unix() }

// pause stops calling a provider that refused our account: work of this
// pass already listed for it is skipped, and later passes do not list it.
func (w *Worker) pause(ctx context.Context, p store.Provider, err error) {
	w.mu.Lock()
	w.paused[p.ID] = math.MaxUint64 // being written: no listing has seen it yet
	w.mu.Unlock()
	w.log.Error().Str("provider", p.Name).Err(err).
		Msg("provider refused our account; paused until the operator fixes it and runs notpanel provider resume")
	if perr := w.cfg.DB.PauseProvider(ctx, p.ID, err.Error()); perr != nil {
		w.log.Error().Err(perr).Str("provider", p.Name).Msg("pause provider")
	}
	w.mu.Lock()
	w.paused[p.ID] = w.pauses.Add(1)
	w.mu.Unlock()
}

// groupBy groups jobs by their key (a provider's id, a webhook's).
func groupBy[K comparable, J any](jobs []J, key func(J) K) map[K][]J {
	groups := map[K][]J{}
	for _, j := range jobs {
		groups[key(j)] = append(groups[key(j)], j)
	}
	return groups
}

// chunks splits n items into groups of at most size.
func chunks[T any](items []T, size int) [][]T {
	var out [][]T
	for len(items) > size {
		out = append(out, items[:size])
		items = items[size:]
	}
	if len(items) > 0 {
		out = append(out, items)
	}
	return out
}
