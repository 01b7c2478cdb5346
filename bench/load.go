// Package bench drives a panel over loopback HTTP with concurrent clients
// and measures throughput and latency per action. It is what `notpanel
// bench` runs, against a scratch notpanel or against the reference server
// (limitref) in the same run, so that the two can be compared as a ratio.
package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Call is one request: a form posted to a path. Check, when set, judges the
// answer body; a non-nil error counts the call as failed.
type Call struct {
	// Method is POST when empty; a GET sends Form as its query.
	Method string
	Path   string
	Form   url.Values
	// Cookie, when set, is sent as the Cookie header (a storefront
	// session).
	Cookie string
	Check  func(status int, body []byte) error
}

// Action is something to measure. Prepare, when set, runs before each timed
// call (outside the timing) and returns the call to time; Next returns it
// directly otherwise.
type Action struct {
	Name string
	// Clients, when set, overrides the run's number of clients: a latency
	// target such as "a bulk cancel takes 5 ms" is about one client.
	Clients int
	Prepare func(ctx context.Context, client, seq int) (Call, error)
	Next    func(client, seq int) Call
}

// Result is what one action measured.
type Result struct {
	Target    string  `json:"target"`
	Action    string  `json:"action"`
	Clients   int     `json:"clients"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
	// FirstError is one failed call's reason, to tell what went wrong.
	FirstError string `json:"first_error,omitempty"`
}

func (r Result) String() string {
	s := fmt.Sprintf("%-10s %-12s %3d clients %9.0f/s  p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms  (%d calls, %d errors)",
		r.Target, r.Action, r.Clients, r.PerSecond, r.P50ms, r.P95ms, r.P99ms, r.Requests, r.Errors)
	if r.FirstError != "" {
		s += "  first error: " + r.FirstError
	}
	return s
}

// Runner posts calls to one base URL.
type Runner struct {
	Base   string // e.g. http://127.0.0.1:8080
	Client *http.Client
}

// NewRunner returns a runner with a keep-alive client sized for clients.
func NewRunner(base string, clients int) *Runner {
	return &Runner{Base: base, Client: &http.Client{
		Timeout: 30 * time.Second,
		// A storefront form answers 303: that answer is the measured one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		// Plain answers, as most panel clients take them: a gzipped catalog
		// is measured by bench/wrk/run.sh.
		Transport: &http.Transport{Proxy: nil, MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2,
			IdleConnTimeout: time.Minute, DisableCompression: true},
	}}
}

// Do posts one call and returns the body.
func (r *Runner) Do(ctx context.Context, c Call) (int, []byte, error) {
	var req *http.Request
	var err error
	if c.Method == http.MethodGet {
		u := r.Base + c.Path
		if len(c.Form) > 0 {
			u += "?" + c.Form.Encode()
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, r.Base+c.Path, strings.NewReader(c.Form.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return 0, nil, err
	}
	if c.Cookie != "" {
		req.Header.Set("Cookie", c.Cookie)
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && c.Check != nil {
		err = c.Check(resp.StatusCode, body)
	} else if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
	}
	return resp.StatusCode, body, err
}

// Measure runs action with clients concurrent clients for d (or until
// maxCalls calls when maxCalls > 0) and returns what it measured.
func (r *Runner) Measure(ctx context.Context, target string, a Action, clients int, d time.Duration, maxCalls int64) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var calls, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				if maxCalls > 0 && calls.Load() >= maxCalls {
					return
				}
				var call Call
				if a.Prepare != nil {
					var err error
					if call, err = a.Prepare(ctx, c, seq); err != nil {
						if ctx.Err() == nil {
							errs.Add(1)
							firstErr.CompareAndSwap(nil, "prepare: "+err.Error())
						}
						continue
					}
				} else {
					call = a.Next(c, seq)
				}
				t0 := time.Now()
				_, _, err := r.Do(ctx, call)
				took := time.Since(t0)
				if ctx.Err() != nil {
					return // cut off by the end of the run: not a result
				}
				calls.Add(1)
				lat[c] = append(lat[c], took)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := Result{Target: target, Action: a.Name, Clients: clients, Requests: calls.Load(), Errors: errs.Load(),
		Seconds: elapsed.Seconds()}
	if a.Prepare == nil {
		res.PerSecond = float64(res.Requests) / elapsed.Seconds()
	} else {
		// Preparation takes time too: throughput is calls over the time spent in them.
		var busy time.Duration
		for _, l := range lat {
			for _, d := range l {
				busy += d
			}
		}
		if busy > 0 {
			res.PerSecond = float64(res.Requests) / (busy.Seconds() / float64(clients))
		}
	}
	if fe, ok := firstErr.Load().(string); ok {
		res.FirstError = fe
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.P50ms, res.P95ms, res.P99ms = quantile(all, 0.50), quantile(all, 0.95), quantile(all, 0.99)
	return res
}

// quantile of sorted durations, in milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}
