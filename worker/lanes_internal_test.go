package worker

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// A lane wakes the worker when it ends only if its own work was passed over
// while it ran: another lane being busy must not make every lane that ends
// wake it (work that fails at once would then spin the worker).
func TestLaneWakesOnlyWhenItsWorkWasPassedOver(t *testing.T) {
	var l lanes[int]
	var wg sync.WaitGroup
	var woken [3]atomic.Int32
	release := make(chan struct{})
	l.start(&wg, 1, func() { <-release }, func() { woken[1].Add(1) }) // long
	// A listing passes over lane 1; lane 2 runs and ends meanwhile.
	if got := l.running(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("running = %v, want [1]", got)
	}
	done := make(chan struct{})
	l.start(&wg, 2, func() { close(done) }, func() { woken[2].Add(1) })
	<-done
	// Lane 2 was never passed over: its end must not wake anyone.
	for {
		l.mu.Lock()
		_, busy := l.busy[2]
		l.mu.Unlock()
		if !busy {
			break
		}
		runtime.Gosched()
	}
	if n := woken[2].Load(); n != 0 {
		t.Errorf("lane 2, never passed over, woke the worker %d times", n)
	}
	// A start for a running lane drops its work: that is passing over too.
	l.start(&wg, 1, func() { t.Error("a second run of lane 1 started") }, nil)
	close(release)
	wg.Wait()
	if n := woken[1].Load(); n != 1 {
		t.Errorf("lane 1, passed over, woke the worker %d times, want 1", n)
	}
	// Unpassed lanes that end wake no one; a new run starts clean.
	l.start(&wg, 1, func() {}, func() { woken[1].Add(1) })
	wg.Wait()
	if n := woken[1].Load(); n != 1 {
		t.Errorf("lane 1's second run, not passed over, woke the worker (%d wakes in all)", n)
	}
}

// Once the stop has ended no new work starts, even with places free.
func TestTakeRefusesAfterStop(t *testing.T) {
	slots := make(chan struct{}, 4)
	stop, cancel := context.WithCancel(context.Background())
	if !take(stop, slots) {
		t.Fatal("no place taken before the stop")
	}
	cancel()
	for range 100 {
		if take(stop, slots) {
			t.Fatal("a place was taken after the stop")
		}
	}
}
