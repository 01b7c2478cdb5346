package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBench runs bench as an operator would. Its server is a child process
// of os.Executable, here this test binary, which TestMain (harness_test.go)
// turns into notpanel when NOTPANEL_RUN_MAIN=1 is set.
func TestBench(t *testing.T) {
	t.Setenv("NOTPANEL_RUN_MAIN", "1")
	out := ok(t, dbPath(t), "bench", "--duration", "1m", "--max-calls", "4", "--warmup", "0s", "--clients", "2",
		"--orders", "500", "--accounts", "5", "--services", "3", "--sync", "200", "--json")
	var report benchReport
	decode(t, out, &report)
	if len(report.Results) != 7 {
		t.Fatalf("%d results, want one per default action: %s", len(report.Results), out)
	}
	for _, r := range report.Results {
		if r.Action == "status during sync" && r.Requests == 0 {
			continue // 200 orders may sync before the first status call ends
		}
		if r.Requests == 0 || r.Errors != 0 || r.PerSecond <= 0 || r.P50ms <= 0 || r.P99ms < r.P50ms {
			t.Errorf("%s: %+v", r.Action, r)
		}
	}
	if report.SyncOrders != 200 || report.SyncSeconds <= 0 {
		t.Errorf("sync: %d orders in %.2f s", report.SyncOrders, report.SyncSeconds)
	}
	if report.ServerRSSMB <= 0 || report.Machine["cpus"] == "" || report.Orders != 500 {
		t.Errorf("report: rss %.1f MB, machine %v, orders %d", report.ServerRSSMB, report.Machine, report.Orders)
	}

	text := ok(t, dbPath(t), "bench", "--duration", "1m", "--max-calls", "3", "--warmup", "0s", "--clients", "1",
		"--orders", "10", "--accounts", "2", "--actions", "status,balance")
	if !strings.Contains(text, "notpanel   status") || !strings.Contains(text, "server RSS") {
		t.Errorf("text report:\n%s", text)
	}
	failing(t, dbPath(t), "bench", "--duration", "100ms", "--orders", "0", "--accounts", "1", "--actions", "teleport")
}

// bench --replica measures add with and without streaming to a replica, in
// alternating runs, and removes the scratch replica afterwards.
func TestBenchReplica(t *testing.T) {
	t.Setenv("NOTPANEL_RUN_MAIN", "1")
	rep := filepath.Join(t.TempDir(), "replica")
	out := ok(t, dbPath(t), "bench", "--duration", "1m", "--max-calls", "20", "--warmup", "0s", "--clients", "2",
		"--orders", "50", "--accounts", "3", "--services", "2", "--actions", "balance", "--replica", "file://"+rep, "--json")
	var report benchReport
	decode(t, out, &report)
	r := report.Replica
	if r == nil || r.With <= 0 || r.Without <= 0 || r.Ratio != r.With/r.Without || !strings.HasPrefix(r.URL, "file://"+rep+"/notpanel-bench-") {
		t.Fatalf("replica comparison: %+v", r)
	}
	var runs []string
	for _, res := range report.Results {
		if strings.HasPrefix(res.Action, "add/") {
			runs = append(runs, res.Action)
		}
	}
	if got := strings.Join(runs, " "); got != "add/no-replica add/replica add/no-replica add/replica add/no-replica" {
		t.Errorf("runs: %s", got)
	}
	if ents, _ := os.ReadDir(rep); len(ents) != 0 {
		t.Errorf("the scratch replica was left behind: %d entries", len(ents))
	}
	failing(t, dbPath(t), "bench", "--orders", "0", "--accounts", "1", "--actions", "balance", "--replica", "gs://bucket/x")
}

// bench --dispatch sends every order to the simulated provider once and
// reports its rate beside the ideal.
func TestBenchDispatch(t *testing.T) {
	t.Setenv("NOTPANEL_RUN_MAIN", "1")
	out := ok(t, dbPath(t), "bench", "--dispatch", "--add-latency", "100ms", "--concurrency", "8", "--dispatch-orders", "40", "--json")
	var r dispatchReport
	decode(t, out, &r)
	if r.Orders != 40 || r.Concurrency != 8 || r.Ideal != 80 || r.PerSecond <= 0 || r.Ratio <= 0 || r.Ratio > 1.1 || r.Machine["cpus"] == "" {
		t.Errorf("report: %+v", r)
	}
	text := ok(t, dbPath(t), "bench", "--dispatch", "--add-latency", "50ms", "--concurrency", "4", "--dispatch-orders", "8")
	if !strings.Contains(text, "8 orders in") || !strings.Contains(text, "ideal 80.00/s") {
		t.Errorf("text report:\n%s", text)
	}
	failing(t, dbPath(t), "bench", "--dispatch", "--concurrency", "0")
}
