package worker

import (
	"context"
	"slices"
	"strings"
	"time"

	"notpanel/store"
	"notpanel/upstream"
)

// busyRetry is when work a provider was too busy for is tried again: after
// its Retry-After when it gave one, else after busyDelay; the pace, lowered
// meanwhile, keeps the provider from being called too often.
func (w *Worker) busyRetry(err error) int64 {
	return w.at(w.jitter(max(min(upstream.RetryAfter(err), maxRetryAfter), busyDelay)))
}

// busyDeferrals puts off the work of orders ids after their provider was
// too busy to answer (err): asked again at busyRetry, without counting a
// failed try.
func (w *Worker) busyDeferrals(ids []string, err error) []store.Deferral {
	ds := make([]store.Deferral, len(ids))
	for i, id := range ids {
		ds[i] = store.Deferral{ID: id, Next: w.busyRetry(err), Note: err.Error(), Busy: true}
	}
	return ds
}

// busyDelay is the least wait before work a provider was too busy for is
// tried again.
const busyDelay = 5 * time.Second

// pacer returns the budget of calls to provider id.
func (w *Worker) pacer(id int64) *pacer {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pacerLocked(id)
}

// pacerLocked is pacer with w.mu held.
func (w *Worker) pacerLocked(id int64) *pacer {
	pc, ok := w.pacers[id]
	if !ok {
		pc = newPacer(w.cfg.Now, w.cfg.PaceStep)
		if p, known := w.providers[id]; known {
			pc.configure(p.Settings)
			pc.resume(p.State)
		}
		w.pacers[id] = pc
	}
	return pc
}

// refresh reads the providers for this pass: a running server applies the
// operator's changes to a provider's pace within a pass.
func (w *Worker) refresh(ctx context.Context) {
	ps, err := w.cfg.DB.ListProviders(ctx)
	if err != nil {
		w.log.Error().Err(err).Msg("read providers")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range ps {
		_, known := w.pacers[p.ID]
		w.providers[p.ID] = p
		pc := w.pacerLocked(p.ID)
		if known {
			pc.configure(p.Settings)
		}
	}
}

// skip lists the providers whose work of lanes l a listing leaves out:
// those whose lane is running, and those whose calls are held.
func (w *Worker) skip(l *lanes[int64]) []int64 {
	out := l.running()
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, pc := range w.pacers {
		if !pc.state().heldUntil.IsZero() {
			out = append(out, id)
		}
	}
	return out
}

// recordPaces writes each pace that changed since it was last written, so
// that provider list shows it.
func (w *Worker) recordPaces(ctx context.Context) {
	type change struct {
		p store.Provider
		s paceState
	}
	var changes []change
	w.mu.Lock()
	for id, pc := range w.pacers {
		s := pc.state()
		if p, ok := w.providers[id]; ok && s.changes != w.recorded[id] {
			changes = append(changes, change{p, s})
		}
	}
	w.mu.Unlock()
	for _, c := range changes {
		pace, reason, at := c.s.window, c.s.reason, c.s.since
		if !c.s.lowered() {
			pace, reason, at = 0, "", w.now()
			if c.p.State.Pace > 0 || c.p.State.PaceHold > 0 {
				w.log.Info().Str("provider", c.p.Name).Int("concurrency", c.s.limit).Msg("provider is back at its full pace")
			}
		}
		if err := w.cfg.DB.RecordPace(ctx, c.p.ID, pace, c.s.hold, reason, at.Unix()); err != nil {
			w.log.Error().Err(err).Str("provider", c.p.Name).Msg("record pace")
			continue
		}
		w.mu.Lock()
		w.recorded[c.p.ID] = c.s.changes
		p := w.providers[c.p.ID]
		p.State.Pace, p.State.PaceHold, p.State.PaceReason = pace, c.s.hold, reason
		w.providers[c.p.ID] = p
		w.mu.Unlock()
	}
}

// ProviderStats is how the worker stands with one provider, for
// monitoring: the pace of its calls and our balance there.
type ProviderStats struct {
	Provider string
	// Concurrency is the operator's calls at once; Pace the calls at once
	// allowed now (lower after the provider said it was too busy).
	Concurrency, Pace int
	// PerMinute is the operator's cap a minute (0: none).
	PerMinute int
	// InFlight is the calls under way.
	InFlight int
	// Held is how much longer every call is held (0 when not).
	Held time.Duration
	// Cuts counts the times the provider made the worker slow down.
	Cuts uint64
	// Reason says why the pace is low ("" at full pace).
	Reason string
	// Balance is our balance there as last read (nil: not read yet), in
	// Currency; Low tells that it is below the operator's mark.
	Balance  *int64
	Currency string
	Low      bool
}

// Providers reports how the worker stands with each provider it knows.
func (w *Worker) Providers() []ProviderStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	out := make([]ProviderStats, 0, len(w.providers))
	for id, p := range w.providers {
		s := w.pacerLocked(id).state()
		ps := ProviderStats{Provider: p.Name, Concurrency: s.limit, Pace: s.window, PerMinute: s.perMin, InFlight: s.inUse,
			Cuts: s.cuts, Reason: s.reason, Balance: p.State.Balance, Currency: p.State.BalanceCurrency}
		if !s.heldUntil.IsZero() {
			ps.Held = s.heldUntil.Sub(now)
		}
		if low := p.Settings.LowBalance; low != nil && ps.Balance != nil {
			ps.Low = *ps.Balance < *low
		}
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b ProviderStats) int { return strings.Compare(a.Provider, b.Provider) })
	return out
}
