package replica_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite"

	"notpanel/replica"
	"notpanel/replica/replicatest"
)

// interval is short so that the tests wait little for shipments.
const interval = 100 * time.Millisecond

// target is a kind of replica the tests run against.
type target struct {
	name string
	opt  func(t *testing.T) (replica.Options, func(down bool))
}

var targets = []target{
	{"file", func(t *testing.T) (replica.Options, func(bool)) {
		dir := filepath.Join(t.TempDir(), "replica")
		return replica.Options{URL: "file://" + dir}, func(down bool) {
			// A file where the replica's directory should be takes it down,
			// even for root.
			if down {
				os.Rename(dir, dir+".away")
				os.WriteFile(dir, nil, 0o600)
			} else {
				os.Remove(dir)
				os.Rename(dir+".away", dir)
			}
		}
	}},
	{"s3", func(t *testing.T) (replica.Options, func(bool)) {
		replicatest.SetEnv(t)
		s := replicatest.NewS3(t)
		return replica.Options{URL: s.URL}, s.SetDown
	}},
	{"sftp", func(t *testing.T) (replica.Options, func(bool)) {
		s := replicatest.NewSFTP(t)
		return replica.Options{URL: s.URL, SFTPKey: s.Key, SFTPHostKey: s.HostKey}, s.SetDown
	}},
}

// app is the application's side: a WAL database with the busy timeout
// Litestream needs, and a table of rows.
type app struct {
	path string
	db   *sql.DB
	rows int
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{path: filepath.Join(t.TempDir(), "app.db")}
	var err error
	a.db, err = sql.Open("sqlite", "file:"+a.path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.db.Close() })
	if _, err := a.db.Exec(`CREATE TABLE rows (n INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return a
}

// write adds n rows, one transaction each.
func (a *app) write(t *testing.T, n int) {
	t.Helper()
	for range n {
		a.rows++
		if _, err := a.db.Exec(`INSERT INTO rows (n, body) VALUES (?, ?)`, a.rows, strings.Repeat("x", 200)); err != nil {
			t.Fatal(err)
		}
	}
}

// streaming starts an application database streamed with opt. A test may
// close both itself; the cleanup closes what is left, the application
// first, as serve does.
func streaming(t *testing.T, opt replica.Options) (*app, *replica.Stream) {
	t.Helper()
	a := newApp(t)
	s, err := replica.Start(context.Background(), a.path, opt)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		a.db.Close()
		s.Close(context.Background())
	})
	return a, s
}

// count is how many rows the database at path holds.
func count(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM rows`).Scan(&n); err != nil {
		t.Fatalf("count rows of %s: %v", path, err)
	}
	return n
}

// logBuffer collects log lines written from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logs sets the test's logger and short interval on opt and returns what
// is logged.
func logs(t *testing.T, opt *replica.Options) *logBuffer {
	buf := &logBuffer{}
	opt.Log = zerolog.New(buf)
	opt.Interval = interval
	return buf
}

// synced ships everything written so far.
func synced(t *testing.T, s *replica.Stream) {
	t.Helper()
	if err := s.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// caughtUp waits until the stream, on its own, has synced after since and
// the replica holds every transaction captured.
func caughtUp(t *testing.T, s *replica.Stream, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := s.Status()
		if st.Behind == 0 && st.Lag == 0 && st.LastSync.After(since) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not catch up: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Every kind of replica receives the database while it is written and
// gives it back whole; the restore says when the last write was made.
func TestStreamAndRestore(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			opt, _ := tg.opt(t)
			logged := logs(t, &opt)
			a, s := streaming(t, opt)
			ctx := context.Background()
			began := time.Now()
			a.write(t, 50)
			caughtUp(t, s, began)
			a.write(t, 50) // shipped by Close's last sync
			a.db.Close()   // the application closes first
			if err := s.Close(ctx); err != nil {
				t.Fatalf("close: %v\n%s", err, logged)
			}

			out := filepath.Join(t.TempDir(), "restored.db")
			var checked string
			got, err := replica.Restore(ctx, out, time.Time{}, opt, func(_ context.Context, path string) error {
				checked = path
				if n := count(t, path); n != 100 {
					return fmt.Errorf("the copy holds %d rows", n)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("restore: %v\n%s", err, logged)
			}
			ents, _ := os.ReadDir(filepath.Dir(out))
			if len(ents) != 1 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("files beside the restored database: %v, want it alone", names)
			}
			if n := count(t, out); n != a.rows {
				t.Errorf("restored %d rows, want %d", n, a.rows)
			}
			if checked == "" || checked == out || filepath.Dir(checked) != filepath.Dir(out) {
				t.Errorf("the check ran on %q, want a temporary file beside %s", checked, out)
			}
			if got.TXID == 0 || got.LastWrite.Before(began.Add(-time.Second)) || got.LastWrite.After(time.Now()) {
				t.Errorf("restored %+v, want a transaction written since %v", got, began)
			}
			if !strings.Contains(logged.String(), `"replicating"`) || !strings.Contains(logged.String(), "every write is on the replica") {
				t.Errorf("log lacks the start and the last sync:\n%s", logged)
			}
		})
	}
}

// A replica that does not answer when the panel starts does not stop it:
// the lag grows, health says why, and once the replica answers it receives
// everything written meanwhile.
func TestReplicaDownAtStartCatchesUp(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			opt, setDown := tg.opt(t)
			logged := logs(t, &opt)
			setDown(true)
			a, s := streaming(t, opt)
			ctx := context.Background()
			a.write(t, 20)
			// The S3 client retries for a few seconds before it gives up.
			deadline := time.Now().Add(time.Minute)
			for s.Status().Err == nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if st := s.Status(); st.Lag == 0 || st.Err == nil {
				t.Errorf("status with the replica down: %+v, want a lag and the error", st)
			}
			time.Sleep(2 * interval)
			err := s.Healthy(interval)
			if err == nil || !strings.Contains(err.Error(), "no sync for") {
				t.Errorf("Healthy with the replica down: %v, want the reason", err)
			}
			if s.Healthy(time.Hour) != nil {
				t.Errorf("Healthy within the allowed lag: %v", s.Healthy(time.Hour))
			}
			if !strings.Contains(logged.String(), "cannot reach the replica") {
				t.Errorf("no loud log line about the replica:\n%s", logged)
			}

			up := time.Now()
			setDown(false)
			caughtUp(t, s, up)
			if err := s.Healthy(interval * 50); err != nil {
				t.Errorf("Healthy once caught up: %v", err)
			}
			if st := s.Status(); st.Err != nil {
				t.Errorf("status keeps the old error: %v", st.Err)
			}
			out := filepath.Join(t.TempDir(), "restored.db")
			if _, err := replica.Restore(ctx, out, time.Time{}, opt, nil); err != nil {
				t.Fatalf("restore: %v\n%s", err, logged)
			}
			if n := count(t, out); n != 20 {
				t.Errorf("restored %d rows of the 20 written while the replica was down", n)
			}
			a.write(t, 5)
			synced(t, s)
			out = filepath.Join(t.TempDir(), "restored.db")
			if _, err := replica.Restore(ctx, out, time.Time{}, opt, nil); err != nil {
				t.Fatalf("restore: %v\n%s", err, logged)
			}
			if n := count(t, out); n != a.rows {
				t.Errorf("restored %d rows, want %d", n, a.rows)
			}
		})
	}
}

// A restore never replaces a database: not the file, not a WAL left where
// a file was deleted.
func TestRestoreRefusesExistingFile(t *testing.T) {
	opt, _ := targets[0].opt(t)
	logs(t, &opt)
	for _, name := range []string{"restored.db", "restored.db-wal"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "restored.db")
			if err := os.WriteFile(filepath.Join(dir, name), []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := replica.Restore(context.Background(), out, time.Time{}, opt, nil)
			if err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("restore over %s: %v, want a refusal", name, err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != "precious" {
				t.Errorf("%s changed: %q", name, b)
			}
		})
	}
}

// A copy that fails its check is not kept, and an empty replica or one
// without a copy old enough says so.
func TestRestoreFailures(t *testing.T) {
	opt, _ := targets[0].opt(t)
	logs(t, &opt)
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "restored.db")
	if _, err := replica.Restore(ctx, out, time.Time{}, opt, nil); err == nil || !strings.Contains(err.Error(), "holds no database") {
		t.Errorf("restore from an empty replica: %v", err)
	}

	a, s := streaming(t, opt)
	a.write(t, 10)
	synced(t, s)
	a.db.Close()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := replica.Restore(ctx, out, time.Time{}, opt, func(context.Context, string) error { return errors.New("audit: 1 violation") })
	if err == nil || err.Error() != "audit: 1 violation" {
		t.Errorf("restore with a failing check: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 0 {
		t.Errorf("a failed restore left %d files", len(ents))
	}
	if _, err := replica.Restore(ctx, out, time.Now().Add(-time.Hour), opt, nil); err == nil || !strings.Contains(err.Error(), "nothing as old as") {
		t.Errorf("restore from before the replica began: %v", err)
	}
}

// --timestamp brings back the database as it was then.
func TestRestorePointInTime(t *testing.T) {
	opt, _ := targets[0].opt(t)
	logs(t, &opt)
	ctx := context.Background()
	a, s := streaming(t, opt)
	a.write(t, 30)
	synced(t, s)
	time.Sleep(2 * interval)
	then := time.Now()
	time.Sleep(2 * interval)
	a.write(t, 30)
	synced(t, s)
	a.db.Close()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "then.db")
	got, err := replica.Restore(ctx, out, then, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, out); n != 30 {
		t.Errorf("restored as of %v: %d rows, want 30", then, n)
	}
	if got.LastWrite.After(then) {
		t.Errorf("last write restored at %v, after the time asked for, %v", got.LastWrite, then)
	}
}

// Inspect tells another process how far the replica is behind, from the
// replica and the state kept beside the database.
func TestInspect(t *testing.T) {
	opt, setDown := targets[2].opt(t) // sftp: down at once, without retries
	logs(t, &opt)
	ctx := context.Background()
	a, s := streaming(t, opt)
	a.write(t, 20)
	synced(t, s)
	r, err := replica.Inspect(ctx, a.path, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.ReplicaTXID == 0 || r.ReplicaTXID != r.LocalTXID || r.Behind != 0 || r.Lag != 0 || r.Files == 0 || r.Bytes == 0 || r.LastSync.IsZero() {
		t.Errorf("inspect while in sync: %+v", r)
	}
	if strings.Contains(r.URL, "secret") {
		t.Errorf("report shows a secret: %s", r.URL)
	}

	setDown(true)
	a.write(t, 5)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err = replica.Inspect(ctx, a.path, replica.Options{URL: "file:///nonexistent", Log: opt.Log})
		if err != nil {
			t.Fatal(err)
		}
		if r.LocalTXID > 0 {
			break // the file replica is empty: everything here is behind it
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing captured locally: %+v", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.Behind != r.LocalTXID || r.Lag <= 0 {
		t.Errorf("inspect against an empty replica: %+v, want every transaction behind", r)
	}
	if _, err := replica.Inspect(ctx, a.path, opt); err == nil {
		t.Errorf("inspect of a replica that is down: no error")
	}
}

// The stream is a Prometheus collector of its lag and last sync.
func TestMetrics(t *testing.T) {
	opt, _ := targets[0].opt(t)
	logs(t, &opt)
	a, s := streaming(t, opt)
	a.write(t, 3)
	synced(t, s)
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
	}
	if last := got["notpanel_replica_last_sync_timestamp_seconds"]; last < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last sync %v, want within the last minute", last)
	}
	if lag, ok := got["notpanel_replica_lag_seconds"]; !ok || lag != 0 {
		t.Errorf("lag %v (present %v), want 0", lag, ok)
	}
	if _, ok := got["notpanel_replica_behind_transactions"]; !ok {
		t.Errorf("no behind series: %v", got)
	}
}

// What an operator can get wrong is refused at once, with what to do.
func TestOptionsRefused(t *testing.T) {
	sftpSrv := replicatest.NewSFTP(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	cases := []struct {
		name string
		opt  replica.Options
		want string
	}{
		{"no URL", replica.Options{}, "no replica URL"},
		{"unknown scheme", replica.Options{URL: "gs://bucket/db"}, "want file:///path, s3://bucket/path or sftp://user@host/path"},
		{"relative file", replica.Options{URL: "file://backups/db"}, "absolute path"},
		{"s3 without credentials", replica.Options{URL: "s3://bucket/db"}, "AWS_ACCESS_KEY_ID"},
		{"sftp without user", replica.Options{URL: "sftp://host/db", SFTPHostKey: sftpSrv.HostKey}, "needs a user"},
		{"sftp without directory", replica.Options{URL: "sftp://u@host/", SFTPKey: sftpSrv.Key, SFTPHostKey: sftpSrv.HostKey}, "needs a directory"},
		{"sftp without key", replica.Options{URL: "sftp://u@host/db", SFTPHostKey: sftpSrv.HostKey}, "--sftp-key"},
		{"sftp key missing", replica.Options{URL: "sftp://u@host/db", SFTPKey: "/nonexistent", SFTPHostKey: sftpSrv.HostKey}, "--sftp-key"},
		{"sftp key not a key", replica.Options{URL: "sftp://u@host/db", SFTPKey: "/etc/hostname", SFTPHostKey: sftpSrv.HostKey}, "--sftp-key"},
		{"sftp without host key", replica.Options{URL: "sftp://u@host/db", SFTPKey: sftpSrv.Key}, "--sftp-host-key"},
		{"sftp bad host key", replica.Options{URL: "sftp://u@host/db", SFTPKey: sftpSrv.Key, SFTPHostKey: "ssh-ed25519 nonsense"}, "not a public key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := replica.Start(context.Background(), filepath.Join(t.TempDir(), "x.db"), c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	t.Run("AWS_CA_BUNDLE", func(t *testing.T) {
		replicatest.SetEnv(t)
		t.Setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
		_, err := replica.Inspect(context.Background(), "x.db", replica.Options{URL: "s3://bucket/db"})
		if err == nil || !strings.Contains(err.Error(), "unset it") {
			t.Errorf("got %v, want the AWS_CA_BUNDLE advice", err)
		}
	})
}

// The SFTP replica talks only to the server whose host key it was given.
func TestSFTPWrongHostKey(t *testing.T) {
	srv, other := replicatest.NewSFTP(t), replicatest.NewSFTP(t)
	opt := replica.Options{URL: srv.URL, SFTPKey: srv.Key, SFTPHostKey: other.HostKey}
	logs(t, &opt)
	_, err := replica.Inspect(context.Background(), filepath.Join(t.TempDir(), "x.db"), opt)
	if err == nil || !strings.Contains(err.Error(), "host key") {
		t.Errorf("inspect with another server's host key: %v", err)
	}
}

func TestRedacted(t *testing.T) {
	for in, want := range map[string]string{
		"sftp://backup:hunter2@host/db":                   "sftp://backup:xxxxx@host/db",
		"s3://b/db?endpoint=https://e&sse-customer-key=k": "s3://b/db?endpoint=https%3A%2F%2Fe&sse-customer-key=xxxxx",
		"file:///var/backups":                             "file:///var/backups",
	} {
		if got := replica.Redacted(in); got != want {
			t.Errorf("Redacted(%q) = %q, want %q", in, got, want)
		}
	}
}
