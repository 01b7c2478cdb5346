package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"notpanel/bench"
	"notpanel/replica"
)

// replicaBench is add measured with the server streaming to a replica and
// without, in one run.
type replicaBench struct {
	URL string `json:"replica"`
	// Without and With are the means of the runs without and with the
	// replica, which alternate: without, with, without, with, without. On a
	// shared machine whose load comes and goes, and with the database
	// growing from run to run, that favours neither side.
	Without float64 `json:"add_per_second_without"`
	With    float64 `json:"add_per_second_with"`
	Ratio   float64 `json:"ratio"`
}

// measureReplica measures add on the scratch server, in turn without a
// replica and streaming to a new folder under --replica.
func (c *benchCmd) measureReplica(ctx context.Context, a *app, dbPath string, scratch bench.Scratch, report *benchReport, srv **benchServer) error {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	target, err := scratchReplica(c.Replica, "notpanel-bench-"+run)
	if err != nil {
		return err
	}
	opt := c.options(a, target)
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("--replica: %w", err)
	}
	flags := []string{"--replica", target}
	if c.SFTPKey != "" || c.SFTPHostKey != "" {
		flags = append(flags, "--sftp-key", c.SFTPKey, "--sftp-host-key", c.SFTPHostKey)
	}
	if !c.Keep {
		defer func() {
			if err := replica.Erase(context.WithoutCancel(ctx), opt); err != nil {
				fmt.Fprintf(a.stderr, "bench: could not remove the scratch replica %s: %v\n", replica.Redacted(target), err)
			}
		}()
	}
	var with, without []float64
	for i, streaming := range []bool{false, true, false, true, false} {
		label := "add/no-replica"
		if streaming {
			label = "add/replica"
		}
		if i > 0 { // the first run uses the server already up, without a replica
			var extra []string
			if streaming {
				extra = flags
			}
			(*srv).stop() // with a replica: its last sync, unmeasured
			if *srv, err = startBenchServer(ctx, dbPath, c.Pprof, false, extra...); err != nil {
				return err
			}
		}
		if streaming {
			// The first sync after a run without the replica ships a snapshot
			// of the whole file, as at the first start with a replica, and
			// each level of the replica then merges it in: once in the life
			// of a replica. What is measured is the steady state after that,
			// when the idle server has stopped working.
			began := time.Now()
			if err := (*srv).waitReplicated(ctx, 5*time.Minute); err != nil {
				return err
			}
			synced := time.Since(began)
			if err := (*srv).settle(ctx, 5*time.Minute); err != nil {
				return err
			}
			if !c.JSON {
				fmt.Fprintf(a.stdout, "first sync (a snapshot of the whole file) done in %.1f s, the replica's merges of it in %.1f s more\n",
					synced.Seconds(), (time.Since(began) - synced).Seconds())
			}
		}
		runner := bench.NewRunner("http://"+(*srv).addr, c.Clients)
		np := &bench.Notpanel{Scratch: scratch, Runner: runner, Run: run + strconv.Itoa(i)}
		act := np.Actions()["add"]
		if c.Warmup > 0 {
			runner.Measure(ctx, "notpanel", act, c.Clients, c.Warmup, c.MaxCalls)
		}
		res := runner.Measure(ctx, "notpanel", act, c.Clients, c.Duration, c.MaxCalls)
		res.Action = label
		report.Results = append(report.Results, res)
		if !c.JSON {
			fmt.Fprintln(a.stdout, res)
		}
		if res.Errors > 0 {
			return fmt.Errorf("%s: %d calls failed: %s", label, res.Errors, res.FirstError)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if streaming {
			with = append(with, res.PerSecond)
		} else {
			without = append(without, res.PerSecond)
		}
	}
	r := &replicaBench{URL: replica.Redacted(target), With: mean(with), Without: mean(without)}
	if r.Without > 0 {
		r.Ratio = r.With / r.Without
	}
	report.Replica = r
	if c.Keep {
		fmt.Fprintf(a.stderr, "bench: kept the scratch replica %s\n", r.URL)
	}
	return nil
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// scratchReplica is a folder named name under the replica URL raw.
func scratchReplica(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--replica: %w", err)
	}
	u.Path = path.Join("/", u.Path, name)
	u.RawPath = ""
	return u.String(), nil
}

// waitReplicated waits until the server's replica holds every transaction
// captured, as its /metrics tell.
func (s *benchServer) waitReplicated(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get("http://" + s.ops + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := string(b)
			if strings.Contains(m, "\nnotpanel_replica_lag_seconds 0\n") && !strings.Contains(m, "\nnotpanel_replica_last_sync_timestamp_seconds 0\n") {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the scratch server's replica did not catch up within %v (see its log beside the scratch database, with --keep)", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// settle waits until the idle server has used less than 10 % of a core for
// two seconds in a row: until its background work is done.
func (s *benchServer) settle(ctx context.Context, limit time.Duration) error {
	const tick = 500 * time.Millisecond
	deadline := time.Now().Add(limit)
	last, quiet := s.cpu(), 0
	for quiet < 4 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the scratch server was still busy %v after it started", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tick):
		}
		now := s.cpu()
		if now-last < tick/10 { // its monitors ticking, nothing more
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	return nil
}

// cpu is the processor time the server has used, from /proc (0 elsewhere,
// which settle takes as idle).
func (s *benchServer) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks, 100 a second on Linux
}
