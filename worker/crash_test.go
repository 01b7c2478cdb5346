package worker_test

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"notpanel/fault"
	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/worker"
)

// The crash tests run this test binary again as a worker process that
// kills itself at a chosen point; these variables tell it where.
const (
	envDB    = "NOTPANEL_CRASH_DB"
	envURL   = "NOTPANEL_CRASH_URL"
	envPoint = "NOTPANEL_CRASH_POINT"
	envNow   = "NOTPANEL_CRASH_NOW" // the parent's clock, unix seconds
)

// TestCrashChild is the worker process that TestCrash kills. It runs one
// pass over the database it is given and SIGKILLs itself at the point named
// in the environment; it is skipped when not started by TestCrash.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(envDB)
	if path == "" {
		t.Skip("the worker process of TestCrash")
	}
	db := storetest.OpenPath(t, path)
	if p, err := db.FindProvider(ctx, "upstream"); err != nil || p.URL != os.Getenv(envURL) {
		t.Fatalf("provider %+v, %v; want the parent's at %s", p, err, os.Getenv(envURL))
	}
	die := func() {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	point := os.Getenv(envPoint)
	if !slices.Contains(fault.Points, point) {
		t.Fatalf("unknown kill point %q", point)
	}
	fault.Set(point, func(string) { die() })
	now := time.Now
	if sec, err := strconv.ParseInt(os.Getenv(envNow), 10, 64); err == nil {
		now = func() time.Time { return time.Unix(sec, 0) }
	}
	worker.New(worker.Config{DB: db, Now: now, Jitter: func() float64 { return 0.5 }}).Tick(ctx)
	t.Fatal("the pass ended without reaching the kill point")
}

// crash runs one worker pass over e's database in a child process that is
// killed at point, then reopens the database as a restarted server would,
// checks it, and recovers the dispatches cut short.
func (e *env) crash(point string) (parked, released int) {
	e.t.Helper()
	e.kill(point)
	parked, released, err := e.db.RecoverDispatches(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return parked, released
}

// kill runs one worker pass over e's database in a child process that is
// killed at point, then reopens the database and checks it.
func (e *env) kill(point string) {
	t := e.t
	t.Helper()
	path := e.db.Path()
	e.db.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), envDB+"="+path, envURL+"="+e.up.srv.URL, envPoint+"="+point,
		envNow+"="+strconv.FormatInt(e.clock.Now().Unix(), 10))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("worker process at %s: %v\n%s", point, err, out)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("worker process at %s was not killed: %v\n%s", point, err, out)
	}
	e.db = storetest.OpenPath(t, path)
	e.raw = storetest.Raw(t, e.db)
	var check string
	if err := e.raw.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after the crash: %q, %v", check, err)
	}
	storetest.Audit(t, e.db)
	e.cfg.DB = e.db
	e.w = worker.New(e.cfg)
}

// settle lets the restarted worker run for a while.
func (e *env) settle() {
	for range 5 {
		e.clock.Advance(10 * time.Minute)
		e.tick()
	}
}

func TestCrash(t *testing.T) {
	// Killed after the order was switched to the backup, before the backup
	// was called: it may be there as far as anyone can tell, so it is
	// parked, naming the backup, and neither provider is sent it again.
	t.Run("AfterFailover", func(t *testing.T) {
		e := newEnv(t, classic)
		b, bp := e.withBackup(classic)
		e.up.setAlways("add", reply(200, `{"error":"Not enough funds on balance"}`))
		id := e.place("", 100)
		if parked, _ := e.crash(fault.AfterFailover); parked != 1 {
			t.Fatalf("%d parked on restart, want 1", parked)
		}
		e.settle()
		o := e.want(id, store.StatusPending)
		if o.Review == "" || o.ProviderID != bp.ID || o.Failover == "" {
			t.Fatalf("order %+v: want parked at the backup", o)
		}
		if n, m := e.up.count("add"), b.count("add"); n != 1 || m != 0 {
			t.Fatalf("%d adds at the provider and %d at the backup, want 1 and 0", n, m)
		}
		e.check()
	})
	t.Run("AfterClaim", func(t *testing.T) {
		e := newEnv(t, classic)
		id := e.place("", 100)
		if parked, _ := e.crash(fault.AfterClaim); parked != 1 {
			t.Fatalf("%d parked on restart, want 1", parked)
		}
		e.settle()
		if o := e.want(id, store.StatusPending); o.Review == "" || e.up.count("add") != 0 {
			t.Fatalf("review %q after %d adds: want parked, never sent", o.Review, e.up.count("add"))
		}
		if err := e.db.ResolveResend(ctx, id); err != nil { // the operator found nothing upstream
			t.Fatal(err)
		}
		e.tick()
		e.want(id, store.StatusProcessing)
		if n := e.up.addsFor(e.links[id]); n != 1 {
			t.Errorf("%d adds, want 1", n)
		}
		e.check()
	})
	t.Run("AfterAddClassic", func(t *testing.T) {
		e := newEnv(t, classic)
		id := e.place("", 100)
		if parked, _ := e.crash(fault.AfterAdd); parked != 1 {
			t.Fatalf("%d parked on restart, want 1", parked)
		}
		e.settle()
		if o := e.want(id, store.StatusPending); o.Review == "" {
			t.Fatal("an order the provider may hold was not parked")
		}
		if n := e.up.addsFor(e.links[id]); n != 1 {
			t.Fatalf("%d adds, want 1: an unknown outcome is never resent", n)
		}
		if err := e.db.ResolveUpstreamID(ctx, id, "1001", 0); err != nil { // the operator found it upstream
			t.Fatal(err)
		}
		e.up.set("1001", "Completed", "5", "0")
		e.tick()
		e.want(id, store.StatusCompleted)
		e.check()
	})
	t.Run("AfterAddNotpanel", func(t *testing.T) {
		e := newEnv(t, notpanel)
		id := e.place("", 100)
		if parked, released := e.crash(fault.AfterAdd); parked != 0 || released != 1 {
			t.Fatalf("%d parked, %d released on restart; want the resend-safe order released", parked, released)
		}
		e.settle()
		o := e.want(id, store.StatusProcessing)
		adds := e.up.callsOf("add")
		if len(adds) != 2 || adds[0].Get("request_id") != id || adds[1].Get("request_id") != id {
			t.Fatalf("adds %v, want two with request_id %s", adds, id)
		}
		if e.up.orderCount() != 1 || o.UpstreamID != "1001" {
			t.Errorf("%d orders at the provider, ours %q: want one, 1001", e.up.orderCount(), o.UpstreamID)
		}
		e.check()
	})
	t.Run("AfterRecorded", func(t *testing.T) {
		e := newEnv(t, classic)
		id := e.place("", 100)
		if parked, released := e.crash(fault.AfterRecord); parked != 0 || released != 0 {
			t.Fatalf("%d parked, %d released on restart; want nothing to recover", parked, released)
		}
		o := e.want(id, store.StatusProcessing)
		e.up.set(o.UpstreamID, "Completed", "5", "0")
		e.settle()
		e.want(id, store.StatusCompleted)
		if n := e.up.addsFor(e.links[id]); n != 1 {
			t.Errorf("%d adds, want 1", n)
		}
		e.check()
	})
	t.Run("AfterRefunded", func(t *testing.T) {
		e := newEnv(t, classic)
		id, up := e.dispatched("", 1000)
		e.clock.Advance(time.Hour) // its status is due
		e.up.set(up, "Partial", "5", "400")
		e.crash(fault.AfterApply)
		e.settle() // the provider keeps saying Partial
		o := e.want(id, store.StatusPartial)
		if total, rows := e.refunds(id); rows != 1 || total != store.PartialRefund(o.Charge, 400, 1000) {
			t.Errorf("refunded %d in %d rows, want the partial refund once", total, rows)
		}
		e.check()
	})
	t.Run("AfterCancelAccepted", func(t *testing.T) {
		e := newEnv(t, classic)
		id, _ := e.dispatched("", 100)
		e.cancel(id)
		e.crash(fault.AfterCancel)
		if total, _ := e.refunds(id); total != 0 {
			t.Fatalf("refunded %d before the crash point", total)
		}
		e.settle()
		e.fullyRefundedOnce(id, store.StatusCancelled)
		if n := e.up.count("add"); n != 1 {
			t.Errorf("%d adds, want 1", n)
		}
		e.check()
	})
}
