package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestBackupWhileWriting(t *testing.T) {
	f := newFixture(t, 1_000_000_000)
	for range 20 {
		f.add(t, f.acct.ID, store.TypeDefault, 100)
	}
	stop := make(chan struct{})
	done := make(chan error)
	started := make(chan struct{})
	var placed atomic.Int64
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			id, err := f.db.PlaceOrder(ctx, f.acct.ID, store.OrderInput{ServiceID: f.svc[store.TypeDefault].ID,
				RequestID: fmt.Sprint("bg-", i), Link: "https://instagram.com/p/abc", Quantity: "100"})
			if err != nil {
				done <- err
				return
			}
			if placed.Add(1) == 5 {
				close(started)
			}
			if i%3 == 0 {
				f.db.CancelOrders(ctx, store.Customer(f.acct.ID), []string{id})
			}
		}
	}()
	select { // back up while the writer is in full flow
	case <-started:
	case err := <-done:
		t.Fatalf("writer: %v", err)
	}
	dir := t.TempDir()
	var backups []string
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if err := f.db.Backup(ctx, path); err != nil {
			t.Fatalf("Backup: %v", err)
		}
		backups = append(backups, path)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("writer: %v", err)
	}
	t.Logf("%d orders placed by the writer", placed.Load())
	if entries, _ := os.ReadDir(dir); len(entries) != len(backups) {
		t.Errorf("backup directory holds %d files, want %d (no leftovers)", len(entries), len(backups))
	}
	for _, path := range backups {
		raw := rawFile(t, path)
		if got := pragma(t, raw, "integrity_check"); got != "ok" {
			t.Errorf("%s: integrity_check = %s", path, got)
		}
		var orders int
		raw.QueryRowContext(ctx, `SELECT count(*) FROM orders`).Scan(&orders)
		if orders < 20 {
			t.Errorf("%s holds %d orders, want at least the 20 placed before", path, orders)
		}
		copyDB := storetest.OpenPath(t, path)
		storetest.Audit(t, copyDB)
	}
	storetest.Audit(t, f.db)
}

func TestBackupRefusesExistingFile(t *testing.T) {
	f := newFixture(t, 1_000_000)
	path := filepath.Join(t.TempDir(), "keep.db")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := f.db.Backup(ctx, path)
	if store.ErrorCode(err) != store.Conflict {
		t.Errorf("Backup onto an existing file: err = %v, want a conflict", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("existing file was overwritten: %q", b)
	}
}

func TestBackupFailsCleanly(t *testing.T) {
	f := newFixture(t, 1_000_000)
	dir := t.TempDir()
	missingDir := filepath.Join(dir, "no", "such", "dir", "x.db")
	if err := f.db.Backup(ctx, missingDir); err == nil {
		t.Errorf("Backup into a missing directory succeeded")
	}
	notADir := filepath.Join(dir, "file")
	os.WriteFile(notADir, nil, 0o600)
	err := f.db.Backup(ctx, filepath.Join(notADir, "x.db"))
	if store.ErrorCode(err) != store.Invalid {
		t.Errorf("Backup under a regular file: err = %v, want invalid", err)
	}
	os.Remove(notADir)
	// A stale partial file from a crashed backup does not get in the way.
	path := filepath.Join(dir, "b.db")
	if err := os.WriteFile(filepath.Join(dir, ".b.db.partial"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Backup(ctx, path); err != nil {
		t.Fatalf("Backup over a stale partial file: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "b.db" {
		t.Errorf("directory holds %v, want only b.db", entries)
	}
	copyDB := storetest.OpenPath(t, path)
	if a, err := copyDB.FindAccount(ctx, "alice"); err != nil || a.Balance != 1_000_000 {
		t.Errorf("alice in the copy = %+v, %v; want balance 1000000", a, err)
	}
}
