// Package storetest opens real notpanel databases for tests and seeds them
// with the usual fixtures: a provider, services and funded accounts.
package storetest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"notpanel/store"
)

var (
	schemaOnce sync.Once
	schema     string
	schemaErr  error
)

// Schema returns the text of the repository's schema.sql, found by walking
// up from the working directory to the module root.
func Schema(tb testing.TB) string {
	tb.Helper()
	schemaOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			schemaErr = err
			return
		}
		for {
			if b, err := os.ReadFile(filepath.Join(dir, "schema.sql")); err == nil {
				if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
					schema = string(b)
					return
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				schemaErr = os.ErrNotExist
				return
			}
			dir = parent
		}
	})
	if schemaErr != nil {
		tb.Fatalf("find schema.sql: %v", schemaErr)
	}
	return schema
}

// Open opens a fresh database file under tb.TempDir and closes it at the
// end of the test.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	return OpenPath(tb, filepath.Join(tb.TempDir(), "notpanel.db"))
}

// OpenWith opens a fresh database file under tb.TempDir with opt (a clock,
// say; the schema is filled in) and closes it at the end of the test.
func OpenWith(tb testing.TB, opt store.Options) *store.DB {
	tb.Helper()
	return openPath(tb, filepath.Join(tb.TempDir(), "notpanel.db"), opt)
}

// OpenPath opens (or creates) the database at path and closes it at the end
// of the test.
func OpenPath(tb testing.TB, path string) *store.DB {
	tb.Helper()
	return openPath(tb, path, store.Options{})
}

func openPath(tb testing.TB, path string, opt store.Options) *store.DB {
	tb.Helper()
	opt.Schema = Schema(tb)
	db, err := store.Open(context.Background(), path, opt)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Provider adds a classic provider named name. Its URL is a closed port on
// loopback, so a worker that calls it by mistake fails fast and stays local.
func Provider(tb testing.TB, db *store.DB, name string) store.Provider {
	tb.Helper()
	p, err := db.AddProvider(context.Background(), store.Provider{Name: name, URL: "http://127.0.0.1:9/" + name + "/api/v2", APIKey: "upstream-key"})
	if err != nil {
		tb.Fatalf("add provider: %v", err)
	}
	return p
}

// Service adds s under provider (created as "upstream" when it does not
// exist yet), filling in a provider service id when empty.
func Service(tb testing.TB, db *store.DB, s store.Service) store.Service {
	tb.Helper()
	ctx := context.Background()
	if _, err := db.FindProvider(ctx, "upstream"); err != nil {
		Provider(tb, db, "upstream")
	}
	if s.ProviderService == "" {
		s.ProviderService = "100"
	}
	if s.Category == "" {
		s.Category = "Instagram"
	}
	if s.Type == "" {
		s.Type = store.TypeDefault
	}
	out, err := db.AddService(ctx, s, "upstream")
	if err != nil {
		tb.Fatalf("add service: %v", err)
	}
	return out
}

// Account creates an account funded with balance micro-units (no deposit
// when zero) and returns it with a fresh raw API key.
func Account(tb testing.TB, db *store.DB, name string, balance int64) (store.Account, string) {
	tb.Helper()
	ctx := context.Background()
	a, err := db.CreateAccount(ctx, name, "")
	if err != nil {
		tb.Fatalf("create account: %v", err)
	}
	if balance != 0 {
		if a.Balance, err = db.AddFunds(ctx, name, balance, "test funds"); err != nil {
			tb.Fatalf("add funds: %v", err)
		}
	}
	key, _, err := db.CreateKey(ctx, name)
	if err != nil {
		tb.Fatalf("create key: %v", err)
	}
	return a, key
}

// Audit fails the test if any money invariant is broken.
func Audit(tb testing.TB, db *store.DB) {
	tb.Helper()
	vs, err := db.Audit(context.Background())
	if err != nil {
		tb.Fatalf("audit: %v", err)
	}
	for _, v := range vs {
		tb.Errorf("audit violation: %s", v)
	}
}

// Raw opens a second, plain database/sql handle on db's file, for tests that
// must change rows the way another process (the worker, a bug) would. It is
// closed at the end of the test.
func Raw(tb testing.TB, db *store.DB) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", "file:"+db.Path()+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)")
	if err != nil {
		tb.Fatalf("open raw handle: %v", err)
	}
	raw.SetMaxOpenConns(1)
	tb.Cleanup(func() { raw.Close() })
	return raw
}

// Clock is a settable time source for the code under test, safe to read
// from other goroutines while the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
