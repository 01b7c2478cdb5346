package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"notpanel/bench"
	"notpanel/store"
)

type benchCmd struct {
	Actions   []string      `default:"add,status,status100,cancel100,services,mix" help:"Actions to measure: add, status, status100, cancel100, services, balance, mix, web-order (the storefront's order form), web-orders (the first page of /orders of account 1; with --accounts 1 it holds every preloaded order)."`
	Clients   int           `default:"32" help:"Concurrent clients per action."`
	Duration  time.Duration `default:"10s" help:"How long each action is measured."`
	MaxCalls  int64         `name:"max-calls" placeholder:"N" help:"Stop an action after N calls even before --duration (0: no limit)."`
	Warmup    time.Duration `default:"2s" help:"Unmeasured load before each action."`
	Orders    int           `default:"100000" help:"Orders in progress preloaded into the scratch database."`
	Accounts  int           `default:"1000" help:"Customer accounts in the scratch database."`
	Services  int           `default:"100" help:"Services in the catalog."`
	Limitref  string        `placeholder:"URL" help:"Also measure the reference server (../shared/limitref) at this base URL, e.g. http://127.0.0.1:8089, and print the ratios."`
	JSON      bool          `name:"json" help:"Print the results as JSON."`
	Keep      bool          `help:"Keep the scratch database (its path is printed)."`
	Pprof     string        `placeholder:"ADDR" help:"Have the scratch server serve pprof profiles (and its metrics) on this address, to profile it under load."`
	Sync      int           `placeholder:"N" help:"Also time the worker: N preloaded orders in flight at a fast local provider, one status-sync pass over all of them, while the status action runs under load."`
	Replica   string        `placeholder:"URL" help:"Also measure add with the scratch server streaming to this replica (a new folder under it, removed afterwards) and without, in alternating runs, and print the ratio."`
	sftpFlags `embed:""`

	Dispatch       bool          `help:"Measure the worker's dispatch instead of the API: pending orders for a simulated provider whose adds take --add-latency, sent at --concurrency calls at once; prints orders a second beside the ideal (concurrency ÷ latency)."`
	AddLatency     time.Duration `name:"add-latency" default:"1s" help:"How long the simulated provider takes to answer an add (--dispatch); real providers take 0.5 to 3 s."`
	Concurrency    int           `default:"16" help:"The simulated provider's calls at once (provider set --concurrency), for --dispatch."`
	DispatchOrders int           `name:"dispatch-orders" placeholder:"N" help:"Pending orders for --dispatch (default: 20 times --concurrency)."`
}

// benchReport is what bench prints with --json.
type benchReport struct {
	Machine      map[string]string  `json:"machine"`
	Orders       int                `json:"orders_preloaded"`
	Results      []bench.Result     `json:"results"`
	ServerRSSMB  float64            `json:"server_rss_mb"`
	ServerPeakMB float64            `json:"server_peak_rss_mb"`
	Ratios       map[string]float64 `json:"ratio_to_limitref,omitempty"`
	// SyncSeconds is how long one worker pass over Sync in-flight orders took.
	SyncOrders  int     `json:"sync_orders,omitempty"`
	SyncSeconds float64 `json:"sync_seconds,omitempty"`
	// Replica compares add with and without streaming to --replica.
	Replica *replicaBench `json:"replica,omitempty"`
}

func (c *benchCmd) Run(ctx context.Context, a *app) error {
	if c.Dispatch {
		return c.runDispatch(ctx, a)
	}
	if c.Replica != "" {
		if err := c.options(a, c.Replica).Validate(); err != nil {
			return fmt.Errorf("--replica: %w", err)
		}
	}
	path, cleanup, err := c.scratch("bench.db")
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(a.stderr, "bench: seeding %s with %d accounts and %d orders\n", path, c.Accounts, c.Orders)
	db, err := store.Open(ctx, path, store.Options{Schema: schema})
	if err != nil {
		return err
	}
	scratch, err := bench.Seed(ctx, db, c.Accounts, c.Services, c.Orders)
	db.Close()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	srv, err := startBenchServer(ctx, path, c.Pprof, false)
	if err != nil {
		return err
	}
	defer func() { srv.stop() }()

	report := benchReport{Machine: machine(), Orders: c.Orders}
	runner := bench.NewRunner("http://"+srv.addr, c.Clients)
	np := &bench.Notpanel{Scratch: scratch, Runner: runner, Run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	measure := func(target string, r *bench.Runner, actions map[string]bench.Action, name string) error {
		act, ok := actions[name]
		if !ok {
			return fmt.Errorf("unknown action %q", name)
		}
		clients := c.Clients
		if act.Clients > 0 {
			clients = act.Clients
		}
		if c.Warmup > 0 {
			r.Measure(ctx, target, act, clients, c.Warmup, c.MaxCalls)
		}
		res := r.Measure(ctx, target, act, clients, c.Duration, c.MaxCalls)
		report.Results = append(report.Results, res)
		if !c.JSON {
			fmt.Fprintln(a.stdout, res)
		}
		return ctx.Err()
	}
	for _, name := range c.Actions {
		if err := measure("notpanel", runner, np.Actions(), name); err != nil {
			return err
		}
	}
	report.ServerRSSMB, report.ServerPeakMB = srv.rss()
	if c.Limitref != "" {
		report.Ratios = map[string]float64{}
		lr := bench.NewRunner(strings.TrimSuffix(c.Limitref, "/"), c.Clients)
		for _, name := range []string{"add", "status"} {
			if err := measure("limitref", lr, bench.Limitref{}.Actions(), name); err != nil {
				return err
			}
			ours, ref := find(report.Results, "notpanel", name), find(report.Results, "limitref", name)
			if ours != nil && ref != nil && ref.PerSecond > 0 {
				report.Ratios[name] = ours.PerSecond / ref.PerSecond
			}
		}
	}
	if c.Replica != "" {
		if err := c.measureReplica(ctx, a, path, scratch, &report, &srv); err != nil {
			return err
		}
	}
	if c.Sync > 0 {
		if err := c.measureSync(ctx, a, path, scratch, &report, &srv); err != nil {
			return err
		}
	}
	if c.JSON {
		return writeJSON(a.stdout, report)
	}
	fmt.Fprintf(a.stdout, "server RSS %.0f MB (peak %.0f MB) with %d orders preloaded; %s\n",
		report.ServerRSSMB, report.ServerPeakMB, c.Orders, report.Machine["summary"])
	for name, r := range report.Ratios {
		fmt.Fprintf(a.stdout, "%s: notpanel / limitref = %.2f\n", name, r)
	}
	if r := report.Replica; r != nil {
		fmt.Fprintf(a.stdout, "add streaming to %s: %.0f/s against %.0f/s without (means of the runs, which alternate): ratio %.2f\n",
			r.URL, r.With, r.Without, r.Ratio)
	}
	if report.SyncOrders > 0 {
		fmt.Fprintf(a.stdout, "worker: one status-sync pass over %d in-flight orders took %.1f s\n", report.SyncOrders, report.SyncSeconds)
	}
	if c.Keep {
		fmt.Fprintf(a.stderr, "bench: kept %s\n", path)
	}
	return nil
}

// scratch makes a temporary folder for a scratch database named name and
// returns its path; cleanup removes the folder unless --keep.
func (c *benchCmd) scratch(name string) (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "notpanel-bench-")
	if err != nil {
		return "", nil, err
	}
	if c.Keep {
		return filepath.Join(dir, name), func() {}, nil
	}
	return filepath.Join(dir, name), func() { os.RemoveAll(dir) }, nil
}

func find(rs []bench.Result, target, action string) *bench.Result {
	for i := range rs {
		if rs[i].Target == target && rs[i].Action == action {
			return &rs[i]
		}
	}
	return nil
}

// machine describes where the figures come from.
func machine() map[string]string {
	m := map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	m["summary"] = fmt.Sprintf("%s cores of %s, %s", m["cpus"], m["cpu"], m["go"])
	return m
}

// benchServer is a `notpanel serve` child process on the scratch database,
// so that its memory can be read apart from the load generator's.
type benchServer struct {
	cmd  *exec.Cmd
	addr string // the API
	ops  string // the operator's address: /metrics
}

func startBenchServer(ctx context.Context, path, pprofAddr string, worker bool, extra ...string) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// The server logs as it would in production (a line per request), into
	// a file beside the scratch database.
	logFile, err := os.OpenFile(path+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) // every run of the server, one after another
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy
	// Every client is on loopback and the accounts are on a tier without
	// practical limits: the bench measures the server, not its rate limits.
	args := []string{"--db", path, "serve", "--listen", addr, "--ip-per-min", "1000000000",
		"--max-conns-per-client", "100000", "--max-conns", "100000", "--worker=false"}
	if worker {
		// One pass: an order is not asked about again within the run.
		args = append(args[:len(args)-1], "--worker-interval", "1s", "--sync-interval", "1h")
	}
	// The operator's address (/metrics, and pprof when asked for) on a free
	// loopback port unless named.
	ops := pprofAddr
	if ops == "" {
		if ops, err = freeAddr(); err != nil {
			return nil, err
		}
	} else {
		args = append(args, "--pprof")
	}
	args = append(args, "--ops-listen", ops)
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchServer{cmd: cmd, addr: addr, ops: ops}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, errors.New("the scratch server did not start within 30 s")
}

// freeAddr is a free loopback port, chosen here rather than read from the
// server's log.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// rss reads the server's resident memory now and at its peak, in MB.
func (s *benchServer) rss() (now, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak
}

func (s *benchServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
	}
}

// measureSync restarts the scratch server with its worker on, points Sync
// orders at a fast local provider, and times one pass over them while the
// status action is measured beside it.
func (c *benchCmd) measureSync(ctx context.Context, a *app, path string, scratch bench.Scratch, report *benchReport, srv **benchServer) error {
	if c.Sync > c.Orders {
		return fmt.Errorf("--sync %d is more than the %d preloaded orders", c.Sync, c.Orders)
	}
	(*srv).stop()
	up := &http.Server{Handler: bench.FastProvider(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go up.Serve(ln)
	defer up.Close()
	if err := bench.PrepareSync(ctx, path, "http://"+ln.Addr().String()+"/api/v2", c.Sync); err != nil {
		return err
	}
	start := time.Now()
	if *srv, err = startBenchServer(ctx, path, c.Pprof, true); err != nil {
		return err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loaded := make(chan bench.Result, 1)
	go func() {
		runner := bench.NewRunner("http://"+(*srv).addr, c.Clients)
		np := &bench.Notpanel{Scratch: scratch, Runner: runner, Run: "sync"}
		res := runner.Measure(loadCtx, "notpanel", np.Actions()["status"], c.Clients, 10*time.Minute, 0)
		res.Action = "status during sync"
		loaded <- res
	}()
	took, err := bench.WaitSynced(ctx, path, c.Sync, start)
	stopLoad()
	res := <-loaded
	if err != nil {
		return err
	}
	report.Results = append(report.Results, res)
	report.SyncOrders, report.SyncSeconds = c.Sync, took.Seconds()
	if !c.JSON {
		fmt.Fprintln(a.stdout, res)
	}
	return nil
}
