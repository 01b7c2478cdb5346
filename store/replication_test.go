package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

// The rules Litestream sets for an application sharing its database (see
// the package comment) hold.
func TestReplicationRules(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()

	t.Run("every connection waits for locks", func(t *testing.T) {
		var writer, reader int
		if err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&writer)
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.View(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&reader)
		}); err != nil {
			t.Fatal(err)
		}
		if writer < 5000 || reader < 5000 {
			t.Errorf("busy_timeout: writer %d ms, readers %d ms; Litestream wants at least 5000", writer, reader)
		}
	})

	t.Run("a write waits for Litestream's lock", func(t *testing.T) {
		// Litestream holds the write lock for a moment while it captures the
		// WAL; a write meanwhile must wait, not fail.
		raw := storetest.Raw(t, db)
		conn, err := raw.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			t.Fatal(err)
		}
		released := make(chan time.Time, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			released <- time.Now()
			conn.ExecContext(ctx, `ROLLBACK`)
		}()
		if err := db.SetCurrency(ctx, "EUR"); err != nil {
			t.Fatalf("a write while another connection held the lock: %v", err)
		}
		if done, at := time.Now(), <-released; done.Before(at) {
			t.Errorf("the write committed at %v, before the lock was released at %v", done, at)
		}
	})

	t.Run("no checkpoint resets the WAL", func(t *testing.T) {
		resets := regexp.MustCompile(`(?i)wal_checkpoint\s*\(\s*(RESTART|TRUNCATE)|SQLITE_CHECKPOINT_(RESTART|TRUNCATE)`)
		files, err := filepath.Glob("*.go")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if m := resets.Find(b); m != nil {
				t.Errorf("%s runs %s: Litestream alone may reset the WAL", f, m)
			}
		}
	})
}
