// Package paymenttest has fakes of the payment gateways for tests: each is
// an http.Handler speaking the gateway's API, keeps its checkouts, changes
// them on demand (paid, expired…), misbehaves on demand (down, slow,
// garbage), and makes webhooks signed as the gateway signs them.
package paymenttest

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Failure is how a fake answers while set.
type Failure int

// The failures.
const (
	// Healthy answers as the gateway would.
	Healthy Failure = iota
	// Down answers 503.
	Down
	// Slow holds each request until the caller gives up (at most 30 s).
	Slow
	// Garbage answers 200 with an HTML page.
	Garbage
)

// State is a checkout's state at a fake, in the fake's own words; each fake
// maps it to its gateway's status.
type State int

// The states.
const (
	Open State = iota
	Paid
	Expired
	Failed
	Underpaid // paid less than asked: Cryptomus's wrong_amount, BTCPay's partial payment
	Overpaid  // paid more than asked
)

// Checkout is one checkout (session, invoice) at a fake.
type Checkout struct {
	Reference string
	Deposit   string // our id, as the gateway holds it
	Amount    string // as asked, in the fake's own form (minor units or a decimal)
	Currency  string
	State     State
}

// fake is what the three fakes share: their checkouts, failure mode and
// counters.
type fake struct {
	mu        sync.Mutex
	checkouts map[string]*Checkout
	order     []string
	failure   Failure
	seq       atomic.Int64
	lookups   atomic.Int64
	creates   atomic.Int64
}

func (f *fake) init() { f.checkouts = map[string]*Checkout{} }

// Fail sets how the fake answers from now on.
func (f *fake) Fail(mode Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failure = mode
}

// Set moves a checkout to state.
func (f *fake) Set(reference string, s State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.checkouts[reference]
	if !ok {
		panic(fmt.Sprintf("paymenttest: no checkout %q", reference))
	}
	c.State = s
}

// Checkouts returns the checkouts made, oldest first.
func (f *fake) Checkouts() []Checkout {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Checkout, 0, len(f.order))
	for _, ref := range f.order {
		out = append(out, *f.checkouts[ref])
	}
	return out
}

// Lookups counts the read-backs the fake answered.
func (f *fake) Lookups() int64 { return f.lookups.Load() }

// Creates counts the checkouts asked for (answered or not).
func (f *fake) Creates() int64 { return f.creates.Load() }

func (f *fake) add(c *Checkout) {
	f.checkouts[c.Reference] = c
	f.order = append(f.order, c.Reference)
}

func (f *fake) get(ref string) (Checkout, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.checkouts[ref]
	if !ok {
		return Checkout{}, false
	}
	return *c, true
}

// misbehave answers in the failure mode set, if any, and reports whether
// it did.
func (f *fake) misbehave(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	mode := f.failure
	f.mu.Unlock()
	switch mode {
	case Down:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
	case Slow:
		// Reading the body first lets the server notice the caller hang up.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	case Garbage:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Bad gateway</body></html>")
	default:
		return false
	}
	return true
}

func (f *fake) next(prefix string) string { return fmt.Sprintf("%s%d", prefix, f.seq.Add(1)) }
