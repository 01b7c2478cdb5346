package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
