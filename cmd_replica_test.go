package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"notpanel/replica/replicatest"
)

// replicaKind is a kind of replica the command-line tests run against: the URL,
// the flags that reach it, and the environment a server process needs.
type replicaKind struct {
	name string
	make func(t *testing.T) (u string, flags, env []string)
}

var replicaKinds = []replicaKind{
	{"file", func(t *testing.T) (string, []string, []string) {
		return "file://" + filepath.Join(t.TempDir(), "replica"), nil, nil
	}},
	{"s3", func(t *testing.T) (string, []string, []string) {
		replicatest.SetEnv(t) // for the restore, which runs in this process
		var env []string
		for k, v := range replicatest.Env {
			env = append(env, k+"="+v)
		}
		return replicatest.NewS3(t).URL, nil, env
	}},
	{"sftp", func(t *testing.T) (string, []string, []string) {
		s := replicatest.NewSFTP(t)
		return s.URL, []string{"--sftp-key", s.Key, "--sftp-host-key", s.HostKey}, nil
	}},
}

// removeDB deletes a database the way a lost machine loses it: the file,
// its WAL and its shared-memory index.
func removeDB(t *testing.T, path string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// acked is an order a client was told about, and when.
type acked struct {
	id string
	at time.Time
}

// burst places orders from four clients until stop closes and returns
// those that were answered; n counts them as they are.
func burst(h *harness, stop <-chan struct{}, n *atomic.Int64) []acked {
	var mu sync.Mutex
	var got []acked
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				link := fmt.Sprintf("https://instagram.com/p/kill-%d-%d", c, seq)
				code, out, err := h.post(url.Values{"action": {"add"}, "service": {"1"}, "request_id": {link},
					"link": {link}, "quantity": {"100"}})
				if id, _ := out["order"].(string); err == nil && code == 200 && id != "" {
					mu.Lock()
					got = append(got, acked{id, time.Now()})
					mu.Unlock()
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return got
}

// The machine is lost in the middle of a burst of orders: serve is killed
// with SIGKILL and the database deleted with its WAL. notpanel restore
// brings back every order answered more than a second before the kill, and
// the restored books pass the audit (restore checks it). A server on the
// restored file goes on streaming to the same replica, and what it wrote
// before a clean stop is restored in full.
func TestReplicaSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills server processes")
	}
	for _, box := range replicaKinds {
		t.Run(box.name, func(t *testing.T) {
			u, flags, env := box.make(t)
			h := newHarness(t)
			h.env = env
			serveFlags := append([]string{"--replica", u}, flags...)
			srv := h.start("", serveFlags...)
			// The replica is live: its first sync shipped the whole file.
			waitFor(t, "the replica's first sync", func() bool {
				var st replicaStatus
				decode(t, ok(t, h.path, append([]string{"replica", "status", "--json", "--replica", u}, flags...)...), &st)
				return st.ReplicaTXID > 0
			})
			stop := make(chan struct{})
			placed := make(chan []acked, 1)
			var answered atomic.Int64
			go func() { placed <- burst(h, stop, &answered) }()
			// However slow the machine, the kill comes well over a second
			// after many orders were answered, and in the middle of more.
			waitFor(t, "50 orders answered", func() bool { return answered.Load() >= 50 })
			time.Sleep(1500 * time.Millisecond)
			killed := time.Now()
			srv.kill()
			close(stop)
			orders := <-placed
			removeDB(t, h.path)

			r := notpanel(t, h.path, append([]string{"restore", u}, flags...)...)
			if r.code != 0 {
				t.Fatalf("restore: exit %d: %s", r.code, r.stderr)
			}
			out := r.stdout
			if strings.Contains(r.stderr, "serve this database with a new replica URL") {
				// The replica's first snapshot was ahead of its shipments when
				// the server was killed: go on elsewhere, as restore says.
				t.Logf("restore asked for a new replica URL")
				next, _ := url.Parse(u)
				next.Path += "-2"
				u = next.String()
				serveFlags = append([]string{"--replica", u}, flags...)
			}
			last, err := time.Parse(time.RFC3339, strings.TrimSpace(out))
			if err != nil || last.Before(killed.Add(-10*time.Second)) || last.After(time.Now()) {
				t.Errorf("restore printed %q, want the time of the last transaction, shortly before the kill at %v", out, killed)
			}
			db := openStore(t, h.path)
			cutoff := killed.Add(-time.Second)
			var before, back int
			for _, o := range orders {
				_, err := db.FindOrder(context.Background(), o.id)
				if err == nil {
					back++
				}
				if o.at.Before(cutoff) {
					before++
					if err != nil {
						t.Errorf("order %s, answered %v before the kill, is not restored: %v", o.id, killed.Sub(o.at), err)
					}
				}
			}
			db.Close()
			t.Logf("%d orders answered, %d of them more than 1 s before the kill; %d restored", len(orders), before, back)
			if before < 50 {
				t.Fatalf("only %d orders were answered more than 1 s before the kill", before)
			}

			// The restored file goes on, replicated to the same place; a clean
			// stop loses nothing.
			srv = h.start("", serveFlags...)
			code, body, _ := h.answered(url.Values{"action": {"add"}, "service": {"1"}, "request_id": {"after-restore"},
				"link": {"https://instagram.com/p/after-restore"}, "quantity": {"100"}}, nil)
			id, _ := body["order"].(string)
			if code != 200 || id == "" {
				t.Fatalf("add on the restored file: %d %v", code, body)
			}
			srv.cmd.Process.Signal(syscall.SIGTERM)
			<-srv.done
			if srv.err != nil {
				t.Fatalf("serve after SIGTERM: %v", srv.err)
			}
			removeDB(t, h.path)
			ok(t, h.path, append([]string{"restore", u}, flags...)...)
			db = openStore(t, h.path)
			defer db.Close()
			if _, err := db.FindOrder(context.Background(), id); err != nil {
				t.Errorf("the order placed before a clean stop is not restored: %v", err)
			}
			if _, err := db.FindOrder(context.Background(), orders[0].id); err != nil {
				t.Errorf("an order of the first life is not restored the second time: %v", err)
			}
		})
	}
}

// waitFor polls fn until it is true, failing the test after a minute.
func waitFor(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A replica that is down when serve starts does not stop it: /healthz
// answers 503 with the reason once the allowed lag has passed, /metrics
// shows the lag, and when the replica answers it receives what was written
// meanwhile. A clean stop waits for the last sync.
func TestServeReplicaDownAtStart(t *testing.T) {
	replicatest.SetEnv(t)
	s3 := replicatest.NewS3(t)
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	s3.SetDown(true)
	s := startServe(t, db, "--worker=false", "--replica", s3.URL, "--replica-max-lag", "1s", "--replica-interval", "100ms")
	ok(t, db, "funds", "add", "alice", "7")

	var health string
	waitFor(t, "/healthz to fail", func() bool {
		code, body := fetch(t, s.ops, "/healthz")
		health = body
		return code == http.StatusServiceUnavailable && strings.Contains(body, "ServiceUnavailable")
	})
	if !strings.Contains(health, `"error":"replica: no sync for`) {
		t.Errorf("/healthz with the replica down: %s, want the reason", health)
	}
	if _, body := fetch(t, s.ops, "/metrics"); strings.Contains(body, "notpanel_replica_lag_seconds 0\n") || !strings.Contains(body, "notpanel_replica_last_sync_timestamp_seconds 0\n") {
		t.Errorf("/metrics with the replica down shows no lag:\n%s", grepLines(body, "notpanel_replica"))
	}

	s3.SetDown(false)
	waitFor(t, "/healthz to recover", func() bool { code, _ := fetch(t, s.ops, "/healthz"); return code == http.StatusOK })
	waitFor(t, "the replica to catch up", func() bool {
		_, body := fetch(t, s.ops, "/metrics")
		return strings.Contains(body, "notpanel_replica_lag_seconds 0\n")
	})
	ok(t, db, "funds", "add", "alice", "3") // shipped by the last sync at shutdown
	code, logs := s.shutdown(t)
	if code != 0 || !strings.Contains(strings.Join(logs, "\n"), "every write is on the replica") {
		t.Errorf("serve exit %d; log:\n%s", code, strings.Join(logs, "\n"))
	}
	if !strings.Contains(strings.Join(logs, "\n"), "cannot reach the replica") {
		t.Errorf("the replica being down was not logged:\n%s", strings.Join(logs, "\n"))
	}

	restored := dbPath(t)
	ok(t, restored, "restore", s3.URL)
	if got := strings.TrimSpace(ok(t, restored, "user", "show", "alice", "--json")); !strings.Contains(got, `"balance": "10.00"`) {
		t.Errorf("restored alice: %s, want a balance of 10.00", got)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// restore never replaces a database, says what it needs, and replica status
// tells the operator how the replica stands.
func TestRestoreAndStatusCommands(t *testing.T) {
	rep := "file://" + filepath.Join(t.TempDir(), "replica")
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	s := startServe(t, db, "--worker=false", "--replica", rep)
	ok(t, db, "funds", "add", "alice", "4")
	if code, _ := s.shutdown(t); code != 0 {
		t.Fatalf("serve exit %d", code)
	}

	out := ok(t, db, "replica", "status", "--replica", rep)
	for _, want := range []string{"replica    " + rep, "last sync  20", "lag        0s: the replica holds every transaction", "size       "} {
		if !strings.Contains(out, want) {
			t.Errorf("replica status lacks %q:\n%s", want, out)
		}
	}
	var st replicaStatus
	decode(t, notpanelEnv(t, map[string]string{"NOTPANEL_REPLICA": rep}, "--db", db, "replica", "status", "--json").stdout, &st)
	if st.Replica != rep || st.LastSync == nil || st.ReplicaTXID == 0 || st.ReplicaTXID != st.LocalTXID || st.Bytes == 0 || st.Files == 0 {
		t.Errorf("replica status --json: %+v", st)
	}
	elsewhere := ok(t, dbPath(t), "replica", "status", "--replica", rep)
	if !strings.Contains(elsewhere, "lag        unknown: serve has not replicated") {
		t.Errorf("replica status on another machine:\n%s", elsewhere)
	}

	before, _ := os.ReadFile(db)
	r := failing(t, db, "restore", rep)
	if !strings.Contains(r.stderr, "already exists: restore writes a new database and never replaces one") {
		t.Errorf("restore over an existing file: %s", r.stderr)
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Errorf("a refused restore changed the file")
	}

	restored := dbPath(t)
	r = notpanelEnv(t, map[string]string{"NOTPANEL_REPLICA": rep}, "--db", restored, "restore")
	if r.code != 0 || !strings.Contains(r.stderr, "integrity_check ok, audit ok (1 accounts, 0 orders)") {
		t.Errorf("restore from $NOTPANEL_REPLICA: exit %d\n%s", r.code, r.stderr)
	}
	if got := ok(t, restored, "user", "show", "alice", "--json"); !strings.Contains(got, `"balance": "4.00"`) {
		t.Errorf("restored alice: %s", got)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"restore"}, "name the replica to restore from"},
		{[]string{"restore", rep, "--timestamp", "yesterday"}, "want a time such as"},
		{[]string{"restore", rep, "--timestamp", time.Now().Add(time.Hour).Format(time.RFC3339)}, "is in the future"},
		{[]string{"restore", "ftp://host/db"}, "want file:///path, s3://bucket/path or sftp://user@host/path"},
		{[]string{"replica", "status"}, "no replica: give --replica URL"},
		{[]string{"serve", "--replica", rep, "--replica-interval", "1ms"}, "--replica-interval must be at least 10ms"},
		{[]string{"serve", "--replica", "sftp://backup@host/db"}, "--sftp-key"},
	} {
		r := failing(t, dbPath(t), c.args...)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("notpanel %s: %s, want %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
	}
}

// replica status --json is meant for scripts: its fields are stable.
func TestReplicaStatusJSONFields(t *testing.T) {
	rep := "file://" + filepath.Join(t.TempDir(), "empty")
	out := ok(t, dbPath(t), "replica", "status", "--replica", rep, "--json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	want := "behind_transactions bytes files lag_seconds last_sync local_txid replica replica_txid"
	if got := strings.Join(keysOf(m), " "); got != want {
		t.Errorf("fields %s, want %s", got, want)
	}
	if m["last_sync"] != nil {
		t.Errorf("last_sync of an empty replica: %v, want null", m["last_sync"])
	}
	if text := ok(t, dbPath(t), "replica", "status", "--replica", rep); !strings.Contains(text, "never: the replica is empty") {
		t.Errorf("status of an empty replica:\n%s", text)
	}
}
