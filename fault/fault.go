// Package fault names the points of notpanel where a crash is most delicate
// and lets tests act there: stop the process, cancel a context, look at the
// database between two steps. In a normal run no point is set and passing
// one costs an atomic load.
//
// Built with the notpanel_broken tag, it can also switch on deliberately
// wrong variants of the code (see Broken): the crash harness runs against
// them to show that it would catch such bugs.
package fault

import (
	"maps"
	"sync"
	"sync/atomic"
)

// The points, in the order an order meets them, then a deposit's.
const (
	// AfterDebit: an add's debit is written, its transaction not committed.
	AfterDebit = "after-debit"
	// AfterClaim: the worker claimed an order, the provider is not called yet.
	AfterClaim = "after-claim"
	// AfterFailover: an order its provider refused is switched to its
	// service's backup provider, which is not called yet.
	AfterFailover = "after-failover"
	// AfterAdd: the provider took an order, its id is not recorded yet.
	AfterAdd = "after-add"
	// AfterRecord: the provider's id of an order is recorded.
	AfterRecord = "after-record"
	// AfterCancel: the provider accepted a cancel, the refund is not
	// recorded yet.
	AfterCancel = "after-cancel"
	// AfterApply: a batch of provider statuses, refunds included, is
	// recorded.
	AfterApply = "after-apply"
	// BeforeDelivery: a state change and its webhook event are committed,
	// the event is about to be posted to the receiver.
	BeforeDelivery = "before-delivery"
	// AfterPaid: a gateway answered that a deposit is paid, and its credit
	// is written, not committed.
	AfterPaid = "after-paid"
)

// Points lists every point, for harnesses that pick among them.
var Points = []string{AfterDebit, AfterClaim, AfterFailover, AfterAdd, AfterRecord, AfterCancel, AfterApply, BeforeDelivery, AfterPaid}

var (
	mu  sync.Mutex                              // serializes Set
	set atomic.Pointer[map[string]func(string)] // nil while no point is set
)

// Hit passes the point name; subject says what is at that point (an order
// id, an event id), for the function a test set there.
func Hit(name, subject string) {
	if m := set.Load(); m != nil {
		if f := (*m)[name]; f != nil {
			f(subject)
		}
	}
}

// Set makes f run each time the point name is passed, until the returned
// function undoes it. Points are process-wide: tests that set them must not
// run in parallel with others that pass them.
func Set(name string, f func(subject string)) (undo func()) {
	mu.Lock()
	defer mu.Unlock()
	next := map[string]func(string){}
	if m := set.Load(); m != nil {
		maps.Copy(next, *m)
	}
	prev, had := next[name]
	next[name] = f
	set.Store(&next)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		m := map[string]func(string){}
		maps.Copy(m, *set.Load())
		if had {
			m[name] = prev
		} else {
			delete(m, name)
		}
		if len(m) == 0 {
			set.Store(nil)
			return
		}
		set.Store(&m)
	}
}

// The broken variants that a notpanel_broken build can switch on.
const (
	// SplitDebit places an order and debits its charge in two
	// transactions.
	SplitDebit = "split-debit"
	// UnguardedCancel decides a customer's cancel on a read taken outside
	// the write transaction and writes it without a guard on the status.
	UnguardedCancel = "unguarded-cancel"
	// ResendUnknown releases a classic dispatch whose outcome is unknown
	// for sending again, instead of parking it for review.
	ResendUnknown = "resend-unknown"
	// SplitCredit credits a paid deposit's ledger row and marks the deposit
	// credited in two transactions.
	SplitCredit = "split-credit"
	// FailoverUnknown sends an order whose outcome at its provider is
	// unknown to its service's backup provider, as if it had been refused.
	FailoverUnknown = "failover-unknown"
)

// Variants lists every broken variant.
var Variants = []string{SplitDebit, UnguardedCancel, ResendUnknown, SplitCredit, FailoverUnknown}

// EnvBroken names the broken variant a notpanel_broken build runs.
const EnvBroken = "NOTPANEL_BROKEN"
