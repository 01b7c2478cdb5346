package worker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"notpanel/store"
)

// Back-pressure: how the pace comes back after the provider said it was
// too busy, and how long calls are held when even one at a time is too
// many.
const (
	// DefaultPaceStep is how often a lowered pace wins back one call at
	// once (see Config.PaceStep).
	DefaultPaceStep = 5 * time.Second
	firstHold       = time.Second
	maxHold         = time.Minute
	// maxRetryAfter bounds a provider's Retry-After.
	maxRetryAfter = 10 * time.Minute
)

// pacer is the budget of calls to one provider, shared by every kind of
// work for it: at most limit calls at once (the operator's concurrency)
// and, when the operator set one, perMinute a minute, spread evenly.
//
// Places are handed out first come, first served. Each lane (dispatch,
// sync, cancels, refills, upkeep) asks for one place at a time and starts
// its call before asking for the next, so lanes that all have work take
// turns: none starves, however long another's queue.
//
// When the provider says it is too busy (HTTP 429, "too many requests"),
// the pacer halves the calls it allows at once; at one call at once it
// holds every call for a second, then two, up to a minute. Each step
// (Config.PaceStep) without such an answer wins back one call at once, so
// the pace returns to the operator's by degrees. Answers to calls that
// started before the last cut do not cut again: they tell of the pace that
// was already cut.
type pacer struct {
	now  func() time.Time
	step time.Duration

	mu     sync.Mutex
	limit  int // the operator's calls at once
	perMin int
	window int           // calls at once allowed now, 1..limit
	hold   time.Duration // the last hold, 0 when none is in force
	until  time.Time     // no call starts before this
	since  time.Time     // when the pace last changed; recovery counts from it
	reason string        // why it was lowered
	inUse  int
	queue  []chan struct{} // waiting for a place, first come first served
	cuts   uint64          // cuts so far: a place remembers the count it began with
	lim    *rate.Limiter   // perMin; Inf when none
	// changes counts changes of the pace, for the worker to record them.
	changes uint64
}

func newPacer(now func() time.Time, step time.Duration) *pacer {
	return &pacer{now: now, step: step, limit: store.DefaultConcurrency, window: store.DefaultConcurrency,
		lim: rate.NewLimiter(rate.Inf, 1)}
}

// configure applies the operator's settings. A pace lowered by the
// provider stays lowered (it may only fall to the new limit), and comes
// back by steps up to the new limit.
func (p *pacer) configure(s store.ProviderSettings) {
	p.mu.Lock()
	defer p.mu.Unlock()
	limit := max(s.Concurrency, 1)
	if limit != p.limit {
		if p.window >= p.limit || p.window > limit {
			p.window = limit
		}
		p.limit = limit
		p.changes++
	}
	if s.PerMinute != p.perMin {
		p.perMin = s.PerMinute
		if p.perMin > 0 {
			p.lim.SetLimit(rate.Limit(float64(p.perMin) / 60))
		} else {
			p.lim.SetLimit(rate.Inf)
		}
	}
	p.grant()
}

// resume takes up a pace recorded by an earlier run of the worker.
func (p *pacer) resume(st store.ProviderState) {
	if st.Pace <= 0 && st.PaceHold <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.window = min(max(st.Pace, 1), p.limit)
	if st.Pace <= 0 {
		p.window = p.limit
	}
	p.hold, p.reason, p.since = st.PaceHold, st.PaceReason, time.Unix(st.PaceAt, 0)
	p.until = p.since.Add(p.hold)
	p.recover()
}

// place is one call's share of a provider's budget. Release it when the
// call is done; releasing twice is harmless.
type place struct {
	p    *pacer
	cuts uint64
	once sync.Once
}

func (pl *place) release() { pl.once.Do(pl.p.release) }

// acquire waits for a place for one call. It returns false when stop has
// ended (even when a place is free: work not started must not start after
// the stop) or when calls to the provider are held.
func (p *pacer) acquire(stop context.Context) (*place, bool) {
	if stop.Err() != nil {
		return nil, false
	}
	p.mu.Lock()
	p.recover()
	if p.held() {
		p.mu.Unlock()
		return nil, false
	}
	if p.inUse < p.window && len(p.queue) == 0 {
		p.inUse++
	} else {
		ch := make(chan struct{})
		p.queue = append(p.queue, ch)
		p.mu.Unlock()
		select {
		case <-ch:
		case <-stop.Done():
		}
		p.mu.Lock()
		if !p.granted(ch) {
			p.mu.Unlock()
			return nil, false
		}
		if stop.Err() != nil || p.held() {
			p.inUse--
			p.grant()
			p.mu.Unlock()
			return nil, false
		}
	}
	pl := &place{p: p, cuts: p.cuts}
	lim := p.lim
	p.mu.Unlock()
	if err := lim.Wait(stop); err != nil || stop.Err() != nil {
		pl.release()
		return nil, false
	}
	return pl, true
}

// granted reports whether ch was given a place; if not, it leaves the
// queue. p.mu is held.
func (p *pacer) granted(ch chan struct{}) bool {
	for i, c := range p.queue {
		if c == ch {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			return false
		}
	}
	return true
}

func (p *pacer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inUse--
	p.grant()
}

// grant hands free places to the callers waiting longest. p.mu is held.
func (p *pacer) grant() {
	p.recover()
	for p.inUse < p.window && len(p.queue) > 0 {
		ch := p.queue[0]
		p.queue = p.queue[1:]
		p.inUse++
		close(ch)
	}
}

// held reports whether calls are held now. p.mu is held.
func (p *pacer) held() bool { return p.now().Before(p.until) }

// busy takes in that the provider answered a call that had place pl with
// "too busy", for the reason given, and how long it asked us to wait (0
// when it did not say). It reports whether the pace was cut: not when the
// call began before the last cut.
func (p *pacer) busy(pl *place, reason string, retryAfter time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if retryAfter > 0 {
		if until := now.Add(min(retryAfter, maxRetryAfter)); until.After(p.until) {
			p.until = until
		}
	}
	if pl.cuts != p.cuts {
		return false
	}
	p.cuts++
	if p.window > 1 {
		p.window = max(1, p.window/2)
	} else {
		p.hold = min(max(2*p.hold, firstHold), maxHold)
		if until := now.Add(p.hold); until.After(p.until) {
			p.until = until
		}
	}
	p.since, p.reason = now, reason
	p.changes++
	return true
}

// recover wins back what steps without a cut have earned since the pace
// last changed, counted from the end of a hold. p.mu is held.
func (p *pacer) recover() {
	if p.window >= p.limit && p.hold == 0 {
		return
	}
	now := p.now()
	from := p.since
	if p.until.After(from) {
		from = p.until
	}
	for (p.window < p.limit || p.hold > 0) && now.Sub(from) >= p.step {
		from = from.Add(p.step)
		if p.hold > 0 {
			p.hold = 0
		} else {
			p.window++
		}
		p.since = from
		p.changes++
	}
	if p.window >= p.limit && p.hold == 0 {
		p.window, p.reason = p.limit, ""
	}
}

// paceState is a pacer as seen from outside.
type paceState struct {
	limit, window, perMin, inUse int
	hold                         time.Duration
	heldUntil                    time.Time // zero when calls are not held
	reason                       string
	since                        time.Time
	cuts, changes                uint64
}

// lowered reports whether the pace is below the operator's.
func (s paceState) lowered() bool { return s.window < s.limit || s.hold > 0 || !s.heldUntil.IsZero() }

// String describes the pace for the log.
func (s paceState) String() string {
	out := fmt.Sprintf("%d of %d calls at once", s.window, s.limit)
	if !s.heldUntil.IsZero() {
		out += ", calls held until " + s.heldUntil.UTC().Format(time.TimeOnly)
	}
	return out
}

func (p *pacer) state() paceState {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recover()
	s := paceState{limit: p.limit, window: p.window, perMin: p.perMin, inUse: p.inUse, hold: p.hold,
		reason: p.reason, since: p.since, cuts: p.cuts, changes: p.changes}
	if p.held() {
		s.heldUntil = p.until
	}
	return s
}
