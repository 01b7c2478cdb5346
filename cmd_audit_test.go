package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAudit(t *testing.T) {
	s := newShop(t)
	s.order(t, 1000)
	r := notpanel(t, s.path, "audit")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("audit of a clean database: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if want := "audit: ok (1 accounts, 1 orders)\n"; r.stderr != want {
		t.Errorf("audit stderr %q, want %q", r.stderr, want)
	}

	// A balance changed behind the ledger's back.
	rawSQL(t, s.path, "UPDATE accounts SET balance = balance + 1")
	r = failing(t, s.path, "audit")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Errorf("audit: %d violation lines, want 2 (sum and last row):\n%s", len(lines), r.stdout)
	}
	for _, l := range lines {
		if !strings.Contains(l, "user 1 (alice)") {
			t.Errorf("violation %q does not name the account", l)
		}
	}
	if !strings.Contains(r.stdout, "balance-matches-ledger") || !strings.Contains(r.stderr, "audit found 2 violations") {
		t.Errorf("audit output:\n%s%s", r.stdout, r.stderr)
	}
}

func TestBackup(t *testing.T) {
	s := newShop(t)
	s.order(t, 1000)
	backup := filepath.Join(t.TempDir(), "copy.db")
	r := notpanel(t, s.path, "backup", backup)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "backup written to "+backup) {
		t.Fatalf("backup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// The copy is a working panel database with the same money in it.
	if r := notpanel(t, backup, "audit"); r.code != 0 || strings.Contains(r.stderr, "created new database") {
		t.Errorf("audit of the backup: exit %d, stderr %q", r.code, r.stderr)
	}
	var users []map[string]any
	decode(t, ok(t, backup, "user", "list", "--json"), &users)
	if len(users) != 1 || users[0]["balance"] != "9.10" {
		t.Errorf("users in the backup: %v, want alice with 9.10", users)
	}

	// An existing file is never overwritten.
	before, _ := os.ReadFile(backup)
	r = failing(t, s.path, "backup", backup)
	if !strings.Contains(r.stderr, "already exists") {
		t.Errorf("backup over a file: stderr %q", r.stderr)
	}
	if after, _ := os.ReadFile(backup); string(after) != string(before) {
		t.Errorf("backup over a file changed it")
	}
	failing(t, s.path, "backup", filepath.Join(t.TempDir(), "missing-dir", "copy.db"))
}

// The drill: backups taken with the CLI while serve takes orders, then
// restored (opened on their own): each passes integrity_check and the
// audit, and holds every order answered before the backup began.
func TestBackupDrillUnderLoad(t *testing.T) {
	s := newShop(t)
	key := strings.TrimSpace(ok(t, s.path, "key", "create", "alice"))
	ok(t, s.path, "funds", "add", "alice", "1000")
	srv := startServe(t, s.path, "--worker=false")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var answered []string
	for c := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, body := srv.post(t, url.Values{"key": {key}, "action": {"add"}, "service": {"1"},
					"request_id": {fmt.Sprintf("d%d-%d", c, i)}, "link": {"https://instagram.com/p/d"}, "quantity": {"100"}})
				if code == 200 {
					mu.Lock()
					answered = append(answered, body["order"].(string))
					mu.Unlock()
				}
			}
		})
	}
	dir := t.TempDir()
	for round := range 3 {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		before := slices.Clone(answered)
		mu.Unlock()
		copyPath := filepath.Join(dir, fmt.Sprintf("copy%d.db", round))
		ok(t, s.path, "backup", copyPath)
		restored := openStore(t, copyPath)
		var integrity string
		rawSQLRow(t, copyPath, `PRAGMA integrity_check`, &integrity)
		if integrity != "ok" {
			t.Fatalf("copy %d: integrity_check %q", round, integrity)
		}
		if vs, err := restored.Audit(context.Background()); err != nil || len(vs) != 0 {
			t.Fatalf("copy %d: audit %v %v", round, vs, err)
		}
		for _, id := range before {
			if _, err := restored.FindOrder(context.Background(), id); err != nil {
				t.Fatalf("copy %d lacks order %s answered before it began", round, id)
			}
		}
		if r := notpanel(t, copyPath, "audit"); r.code != 0 {
			t.Errorf("notpanel audit on copy %d: %d %s", round, r.code, r.stderr)
		}
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(answered) == 0 {
		t.Error("no order was placed during the drill")
	}
}

// rawSQLRow runs one query on the file at path and scans its one row.
func rawSQLRow(t *testing.T, path, query string, dst ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(query).Scan(dst...); err != nil {
		t.Fatal(err)
	}
}
