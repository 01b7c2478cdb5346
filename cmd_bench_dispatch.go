package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"notpanel/bench"
	"notpanel/simulator"
	"notpanel/store"
)

// dispatchReport is what bench --dispatch prints with --json.
type dispatchReport struct {
	Machine     map[string]string `json:"machine"`
	Orders      int               `json:"orders"`
	Concurrency int               `json:"concurrency"`
	AddLatency  string            `json:"add_latency"`
	Seconds     float64           `json:"seconds"`
	PerSecond   float64           `json:"orders_per_second"`
	Ideal       float64           `json:"ideal_per_second"` // concurrency ÷ add latency
	Ratio       float64           `json:"ratio_to_ideal"`
}

// runDispatch measures how fast the worker of a `notpanel serve` child
// sends pending orders to a simulated provider whose adds take
// AddLatency: from the first add the provider receives to the moment no
// order is pending, beside the ideal of Concurrency adds every AddLatency.
func (c *benchCmd) runDispatch(ctx context.Context, a *app) error {
	if c.Concurrency < 1 || c.Concurrency > store.MaxConcurrency || c.AddLatency <= 0 {
		return fmt.Errorf("--dispatch needs --concurrency between 1 and %d and a positive --add-latency", store.MaxConcurrency)
	}
	n := c.DispatchOrders
	if n <= 0 {
		n = 20 * c.Concurrency
	}
	path, cleanup, err := c.scratch("dispatch.db")
	if err != nil {
		return err
	}
	defer cleanup()

	sim := simulator.New("bench-key", nil, 1)
	sim.AddLatency = c.AddLatency
	var first sync.Once
	var start time.Time
	up := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("action") == "add" {
			first.Do(func() { start = time.Now() })
		}
		sim.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go up.Serve(ln)
	defer up.Close()

	fmt.Fprintf(a.stderr, "bench: %d pending orders for a simulated provider whose adds take %s, %d calls at once\n", n, c.AddLatency, c.Concurrency)
	db, err := store.Open(ctx, path, store.Options{Schema: schema})
	if err != nil {
		return err
	}
	err = bench.PrepareDispatch(ctx, db, "http://"+ln.Addr().String()+"/api/v2", "bench-key", c.Concurrency, n)
	db.Close()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	srv, err := startBenchServer(ctx, path, c.Pprof, true)
	if err != nil {
		return err
	}
	defer srv.stop()
	done, err := bench.WaitDispatched(ctx, path)
	if err != nil {
		return err
	}
	took := done.Sub(start)
	r := dispatchReport{Machine: machine(), Orders: n, Concurrency: c.Concurrency, AddLatency: c.AddLatency.String(),
		Seconds: took.Seconds(), PerSecond: float64(n) / took.Seconds(), Ideal: float64(c.Concurrency) / c.AddLatency.Seconds()}
	r.Ratio = r.PerSecond / r.Ideal
	if got := sim.Orders(); got != n {
		return fmt.Errorf("the simulated provider holds %d orders for %d placed", got, n)
	}
	if c.JSON {
		return writeJSON(a.stdout, r)
	}
	fmt.Fprintf(a.stdout, "dispatch: %d orders in %.2f s = %.2f orders/s at %d calls at once against %s adds; ideal %.2f/s (concurrency ÷ latency); ratio %.3f\n",
		n, r.Seconds, r.PerSecond, c.Concurrency, c.AddLatency, r.Ideal, r.Ratio)
	fmt.Fprintf(a.stdout, "%s\n", r.Machine["summary"])
	if c.Keep {
		fmt.Fprintf(a.stderr, "bench: kept %s\n", path)
	}
	return nil
}
