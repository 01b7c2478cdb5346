package worker

import (
	"context"
	"sync"
	"testing"
	"time"

	"notpanel/store"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestPacer(limit int) (*pacer, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	p := newPacer(clock.now, 5*time.Second)
	p.configure(store.ProviderSettings{Concurrency: limit})
	return p, clock
}

func mustAcquire(t *testing.T, p *pacer) *place {
	t.Helper()
	pl, ok := p.acquire(context.Background())
	if !ok {
		t.Fatal("no place")
	}
	return pl
}

// A "too busy" answer halves the calls at once, but answers to calls that
// began before that cut do not cut again: they tell of the old pace. At one
// call at once, calls are held for a second, then two.
func TestPacerHalvesOncePerCut(t *testing.T) {
	p, clock := newTestPacer(16)
	var early []*place
	for range 16 {
		early = append(early, mustAcquire(t, p))
	}
	if !p.busy(early[0], "429", 0) {
		t.Fatal("the first busy answer did not cut")
	}
	for _, pl := range early[1:] {
		if p.busy(pl, "429", 0) {
			t.Fatal("an answer to a call from before the cut cut again")
		}
	}
	if s := p.state(); s.window != 8 || s.reason != "429" || !s.lowered() {
		t.Fatalf("after one cut: %+v, want 8 calls at once", s)
	}
	for _, pl := range early {
		pl.release()
	}
	for _, want := range []int{4, 2, 1, 1} {
		pl := mustAcquire(t, p)
		if !p.busy(pl, "429", 0) {
			t.Fatal("a busy answer to a call after the cut did not cut")
		}
		pl.release()
		if s := p.state(); s.window != want {
			t.Fatalf("window %d, want %d", s.window, want)
		}
	}
	s := p.state()
	if s.heldUntil.IsZero() || s.heldUntil.Sub(clock.now()) != time.Second {
		t.Fatalf("at one call at once the next cut holds calls for 1 s: %+v", s)
	}
	if _, ok := p.acquire(context.Background()); ok {
		t.Fatal("a place was given while calls are held")
	}
	clock.advance(time.Second)
	pl := mustAcquire(t, p)
	if !p.busy(pl, "429", 0) {
		t.Fatal("no cut")
	}
	pl.release()
	if s := p.state(); s.heldUntil.Sub(clock.now()) != 2*time.Second {
		t.Fatalf("second hold %v, want 2 s", s.heldUntil.Sub(clock.now()))
	}
}

// A lowered pace wins back one call at once per step without a cut,
// counted from the end of a hold, and is whole again at the limit.
func TestPacerRecoversByDegrees(t *testing.T) {
	p, clock := newTestPacer(4)
	for range 3 { // 4 → 2 → 1 → held 1 s
		pl := mustAcquire(t, p)
		p.busy(pl, "too many requests", 0)
		pl.release()
	}
	clock.advance(time.Second + 4*time.Second)
	if s := p.state(); s.window != 1 || s.hold == 0 {
		t.Fatalf("before a full step after the hold: %+v", s)
	}
	clock.advance(time.Second)
	if s := p.state(); s.window != 1 || s.hold != 0 || !s.heldUntil.IsZero() {
		t.Fatalf("one step after the hold: %+v, want the hold forgotten", s)
	}
	for want := 2; want <= 4; want++ {
		clock.advance(5 * time.Second)
		if s := p.state(); s.window != want {
			t.Fatalf("window %d, want %d", s.window, want)
		}
	}
	if s := p.state(); s.lowered() || s.reason != "" {
		t.Fatalf("back at the limit: %+v", s)
	}
}

// A Retry-After holds calls for as long as the provider asked, however
// many calls at once are allowed.
func TestPacerHonoursRetryAfter(t *testing.T) {
	p, clock := newTestPacer(8)
	first := mustAcquire(t, p)
	p.busy(first, "429", 30*time.Second)
	first.release()
	if _, ok := p.acquire(context.Background()); ok {
		t.Fatal("a place was given within the Retry-After")
	}
	clock.advance(30 * time.Second)
	pl := mustAcquire(t, p)
	if s := p.state(); s.window != 4 {
		t.Errorf("window %d after the cut, want 4", s.window)
	}
	p.busy(pl, "429", 24*time.Hour)
	pl.release()
	if s := p.state(); s.heldUntil.Sub(clock.now()) != maxRetryAfter {
		t.Errorf("held for %v, want at most %v", s.heldUntil.Sub(clock.now()), maxRetryAfter)
	}
}

// Places go to the callers that waited longest; a caller that gives up is
// taken out of the queue, and a changed limit lets waiting callers in.
func TestPacerQueue(t *testing.T) {
	p, _ := newTestPacer(1)
	first := mustAcquire(t, p)
	got := make(chan int, 3)
	stop, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan bool)
	go func() { _, ok := p.acquire(stop); gaveUp <- ok }()
	waitQueue(t, p, 1)
	for i := range 2 {
		go func() {
			pl, ok := p.acquire(context.Background())
			if ok {
				got <- i
				_ = pl
			}
		}()
		waitQueue(t, p, 2+i)
	}
	cancel()
	if <-gaveUp {
		t.Fatal("a stopped caller got a place")
	}
	waitQueue(t, p, 2)
	first.release()
	if i := <-got; i != 0 {
		t.Fatalf("caller %d got the place, want 0 (first in line)", i)
	}
	p.configure(store.ProviderSettings{Concurrency: 2})
	if i := <-got; i != 1 {
		t.Fatalf("caller %d got the new place, want 1", i)
	}
	if s := p.state(); s.inUse != 2 || s.limit != 2 {
		t.Errorf("state %+v, want 2 of 2 in use", s)
	}
	if _, ok := p.acquire(stop); ok {
		t.Error("a place was given after the stop")
	}
}

func waitQueue(t *testing.T, p *pacer, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		p.mu.Lock()
		l := len(p.queue)
		p.mu.Unlock()
		if l == n {
			return
		}
	}
	t.Fatalf("queue never reached %d", n)
}

// A pace taken up from an earlier run keeps recovering from when it last
// changed; a lower limit caps it, and a raised limit is won back by steps.
func TestPacerResumeAndConfigure(t *testing.T) {
	p, clock := newTestPacer(16)
	p.resume(store.ProviderState{Pace: 4, PaceReason: "429", PaceAt: clock.now().Add(-10 * time.Second).Unix()})
	if s := p.state(); s.window != 6 || s.reason != "429" {
		t.Fatalf("resumed: %+v, want 4 + two steps", s)
	}
	p.configure(store.ProviderSettings{Concurrency: 3})
	if s := p.state(); s.window != 3 || s.lowered() {
		t.Fatalf("limit 3: %+v", s)
	}
	p.configure(store.ProviderSettings{Concurrency: 20})
	if s := p.state(); s.window != 20 {
		t.Fatalf("raised from full pace: %+v, want the new limit at once", s)
	}
}
