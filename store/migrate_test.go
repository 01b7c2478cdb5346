package store_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// rawFile opens path with a plain handle, outside the store.
func rawFile(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func tableNames(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func hasColumn(t *testing.T, db *sql.DB, table, column string) bool {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// freshFile creates a notpanel database at version 1 and closes it.
// latest is the schema version this notpanel writes.
func latest() string { return fmt.Sprint(len(store.Upgrades) + 1) }

// versionFile makes a file of a shipped schema version from its schema
// under testdata, with an account, a funded balance, an order and its
// ledger rows in it.
func versionFile(t *testing.T, version int) string {
	t.Helper()
	old, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("schema-v%d.sql", version)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", version))
	w := rawFile(t, path)
	defer w.Close()
	for _, q := range []string{string(old), fmt.Sprintf(`PRAGMA user_version = %d`, version),
		`INSERT INTO accounts (name, tier, balance, created_at) VALUES ('alice', 'standard', 9900000, 0)`,
		`INSERT INTO providers (name, url, api_key, dialect, created_at) VALUES ('up', 'https://up.example/api/v2', 'k', 'classic', 0)`,
		`INSERT INTO services (name, category, type, rate, min, max, provider_id, provider_service, created_at, updated_at)
		   VALUES ('F', 'I', 'Default', 1000000, 10, 1000, 1, '1', 0, 0)`,
		`INSERT INTO orders (number, id, account_id, service_id, link, quantity, units, charge, request_id, fingerprint, created_at, updated_at)
		   VALUES (1, 'ord_01HG9X7KJP4N5Q6R7S8T9V0W1X', 1, 1, 'https://x.example/p', 100, 100, 100000, 'r-1', x'00', 0, 0)`,
		`INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, created_at) VALUES
		   (1, 'deposit', 10000000, 10000000, NULL, 0),
		   (1, 'charge', -100000, 9900000, 'ord_01HG9X7KJP4N5Q6R7S8T9V0W1X', 0)`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("version %d file: %v\n%s", version, err, q)
		}
	}
	return path
}

// shape lists a file's tables with their columns, and its indexes and
// triggers with their definitions: what an upgrade must bring a file to.
func shape(t *testing.T, raw *sql.DB) []string {
	t.Helper()
	rows, err := raw.QueryContext(ctx, `SELECT type, name, coalesce(sql, '') FROM sqlite_schema
		WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	var out, tables []string
	for rows.Next() {
		var typ, name, def string
		rows.Scan(&typ, &name, &def)
		if typ == "table" {
			tables = append(tables, name)
			continue
		}
		out = append(out, typ+" "+name+": "+strings.Join(strings.Fields(def), " "))
	}
	rows.Close()
	for _, table := range tables {
		cols, err := raw.QueryContext(ctx, `SELECT name, type, "notnull", coalesce(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY name`, table)
		if err != nil {
			t.Fatal(err)
		}
		for cols.Next() {
			var name, typ, dflt string
			var notNull, pk int
			cols.Scan(&name, &typ, &notNull, &dflt, &pk)
			out = append(out, fmt.Sprintf("table %s: %s %s notnull=%d default=%s pk=%d", table, name, typ, notNull, dflt, pk))
		}
		cols.Close()
	}
	slices.Sort(out)
	return out
}

// A file of every shipped version from 2 on upgrades to the shape of a
// fresh one (tables, columns, indexes, triggers), keeping its books.
func TestUpgradedFileHasTheFreshShape(t *testing.T) {
	fresh := shape(t, rawFile(t, freshFile(t)))
	for v := 2; v < len(store.Upgrades)+1; v++ {
		db := storetest.OpenPath(t, versionFile(t, v))
		raw := storetest.Raw(t, db)
		if got := pragma(t, raw, "user_version"); got != latest() {
			t.Errorf("version %d: user_version = %s, want %s", v, got, latest())
		}
		got := shape(t, raw)
		for _, line := range fresh {
			if !slices.Contains(got, line) {
				t.Errorf("version %d upgraded lacks %s", v, line)
			}
		}
		for _, line := range got {
			if !slices.Contains(fresh, line) {
				t.Errorf("version %d upgraded has %s, which a fresh file has not", v, line)
			}
		}
		storetest.Audit(t, db)
	}
}

func freshFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notpanel.db")
	db, err := store.Open(ctx, path, store.Options{Schema: storetest.Schema(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAccount(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return path
}

func TestOpenCreatesSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notpanel.db")
	storetest.OpenPath(t, path)
	raw := rawFile(t, path)
	if got := pragma(t, raw, "user_version"); got != latest() {
		t.Errorf("user_version = %s, want %s", got, latest())
	}
	if got := pragma(t, raw, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %s, want wal", got)
	}
	want := []string{"accounts", "api_keys", "cancel_requests", "credentials", "deliveries", "deposits", "events", "gateways",
		"ledger", "orders", "providers", "recovery_codes", "refills", "services", "sessions", "settings", "tiers", "tokens", "webhooks"}
	if got := tableNames(t, raw); !slices.Equal(got, want) {
		t.Errorf("tables = %v, want %v", got, want)
	}
}

func TestOpenTwiceIsNoOp(t *testing.T) {
	path := freshFile(t)
	schemaText := func() string {
		raw := rawFile(t, path)
		defer raw.Close()
		var s string
		if err := raw.QueryRowContext(ctx, `SELECT group_concat(sql, ';') FROM sqlite_schema`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := schemaText()
	db := storetest.OpenPath(t, path)
	if _, err := db.FindAccount(ctx, "alice"); err != nil {
		t.Errorf("account made before reopening: %v", err)
	}
	if got := schemaText(); got != before {
		t.Errorf("reopening changed the schema:\n%s\nwant\n%s", got, before)
	}
	if got := pragma(t, rawFile(t, path), "user_version"); got != latest() {
		t.Errorf("user_version = %s, want %s", got, latest())
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, path string)
		schema      string
		wantErr     string
		wantTables  []string
		wantVersion string
	}{
		{"NewerVersion", func(t *testing.T, path string) {
			rawFile(t, path).ExecContext(ctx, `CREATE TABLE accounts (id INTEGER); PRAGMA user_version = 99`)
		}, storetest.Schema(t), "newer", []string{"accounts"}, "99"},
		{"ForeignTables", func(t *testing.T, path string) {
			rawFile(t, path).ExecContext(ctx, `CREATE TABLE notes (body TEXT)`)
		}, storetest.Schema(t), "notpanel database", []string{"notes"}, "0"},
		{"NotSQLite", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("this is not a database\n", 100)), 0o600)
		}, storetest.Schema(t), "not a database", nil, ""},
		{"NoSchema", func(t *testing.T, path string) {}, "", "no schema", nil, ""},
		{"BrokenSchemaRolledBack", func(t *testing.T, path string) {}, "CREATE TABLE a (x); CREATE TABLE (", "create schema", []string{}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			tt.setup(t, path)
			db, err := store.Open(ctx, path, store.Options{Schema: tt.schema})
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want an error mentioning %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if tt.wantTables == nil {
				return
			}
			// A refused database keeps its tables and version. (Open does
			// switch it to WAL first: the pragmas live in the DSN.)
			raw := rawFile(t, path)
			if got := tableNames(t, raw); !slices.Equal(got, tt.wantTables) {
				t.Errorf("tables after refusal = %v, want %v", got, tt.wantTables)
			}
			if got := pragma(t, raw, "user_version"); got != tt.wantVersion {
				t.Errorf("user_version after refusal = %s, want %s", got, tt.wantVersion)
			}
		})
	}
}

// made-up steps after the real ones: the file is at the current version v,
// and they take it to v+1, v+2, ...
func madeUpSteps(steps ...string) []string { return append(slices.Clone(store.Upgrades), steps...) }

func TestMigrateUpgrade(t *testing.T) {
	v := len(store.Upgrades) + 1 // the version of a fresh file
	tests := []struct {
		name        string
		steps       []string
		wantErr     string
		wantVersion int
		wantColumns []string // accounts columns that must exist
		noColumns   []string // and must not
	}{
		{"OneStep", []string{"ALTER TABLE accounts ADD COLUMN x INTEGER"}, "", v + 1, []string{"x"}, nil},
		{"TwoSteps", []string{
			"ALTER TABLE accounts ADD COLUMN x INTEGER",
			"ALTER TABLE accounts ADD COLUMN y TEXT NOT NULL DEFAULT ''; CREATE INDEX accounts_y ON accounts (y)",
		}, "", v + 2, []string{"x", "y"}, nil},
		{"FailingStepRollsBackEverything", []string{
			"ALTER TABLE accounts ADD COLUMN x INTEGER",
			"ALTER TABLE nosuch ADD COLUMN y INTEGER",
		}, fmt.Sprintf("upgrade schema from version %d to %d", v+1, v+2), v, nil, []string{"x", "y"}},
		{"FailingFirstStep", []string{"THIS IS NOT SQL"}, fmt.Sprintf("from version %d to %d", v, v+1), v, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := freshFile(t)
			w := rawFile(t, path)
			err := store.Migrate(ctx, w, storetest.Schema(t), madeUpSteps(tt.steps...))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("migrate error = %v, want one mentioning %q", err, tt.wantErr)
			}
			if got := pragma(t, w, "user_version"); got != fmt.Sprint(tt.wantVersion) {
				t.Errorf("user_version = %s, want %d", got, tt.wantVersion)
			}
			for _, c := range tt.wantColumns {
				if !hasColumn(t, w, "accounts", c) {
					t.Errorf("accounts has no column %s after the upgrade", c)
				}
			}
			for _, c := range tt.noColumns {
				if hasColumn(t, w, "accounts", c) {
					t.Errorf("accounts has column %s from a failed upgrade", c)
				}
			}
			var n int
			w.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE name = 'alice'`).Scan(&n)
			if n != 1 {
				t.Errorf("%d accounts named alice after the upgrade, want 1", n)
			}
			// Running the same steps again changes nothing.
			if err == nil {
				if err := store.Migrate(ctx, w, storetest.Schema(t), madeUpSteps(tt.steps...)); err != nil {
					t.Errorf("second migrate: %v", err)
				}
			}
		})
	}
}

// A fresh file gets schema.sql, which already is the newest version: the
// upgrade steps are not replayed on top of it.
func TestMigrateFreshFileSkipsSteps(t *testing.T) {
	w := rawFile(t, filepath.Join(t.TempDir(), "fresh.db"))
	steps := madeUpSteps("ALTER TABLE accounts ADD COLUMN x INTEGER")
	if err := store.Migrate(ctx, w, storetest.Schema(t), steps); err != nil {
		t.Fatal(err)
	}
	if got := pragma(t, w, "user_version"); got != fmt.Sprint(len(steps)+1) {
		t.Errorf("user_version = %s, want %d", got, len(steps)+1)
	}
	if hasColumn(t, w, "accounts", "x") {
		t.Errorf("upgrade step was replayed on a fresh schema")
	}
}

// After an upgrade by a newer binary, this one refuses the file.
func TestOpenAfterUpgradeByNewerBinary(t *testing.T) {
	path := freshFile(t)
	w := rawFile(t, path)
	if err := store.Migrate(ctx, w, storetest.Schema(t), madeUpSteps("ALTER TABLE accounts ADD COLUMN x INTEGER")); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, path, store.Options{Schema: storetest.Schema(t)})
	if err == nil {
		db.Close()
		t.Fatal("Open of a file from a newer version succeeded, want a refusal")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q does not mention newer", err)
	}
}

// A version 1 file (orders_work on an IN condition, which the worker's
// listings do not imply) is upgraded on open: the index is rebuilt on the
// condition they use, and its open orders are still listed.
func TestUpgradeFromVersion1(t *testing.T) {
	path := versionFile(t, 2)
	w := rawFile(t, path)
	if _, err := w.ExecContext(ctx, `DROP INDEX orders_work;
		CREATE INDEX orders_work ON orders (status, next_at) WHERE status IN ('pending', 'processing', 'in_progress');
		PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	db := storetest.OpenPath(t, path)
	raw := storetest.Raw(t, db)
	if got := pragma(t, raw, "user_version"); got != latest() {
		t.Errorf("user_version = %s, want %s", got, latest())
	}
	var def string
	if err := raw.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = 'orders_work'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "status = 'pending' OR status = 'processing' OR status = 'in_progress'") {
		t.Errorf("orders_work after the upgrade: %s", def)
	}
	var plan, detail string
	rows, err := raw.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT number FROM orders WHERE status = 'pending' AND next_at <= 5`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a, b, c int
		rows.Scan(&a, &b, &c, &detail)
		plan += detail + "; "
	}
	rows.Close()
	if !strings.Contains(plan, "orders_work") {
		t.Errorf("the dispatch condition does not use orders_work after the upgrade: %s", plan)
	}
}

// A version 1 file of a development build kept request_ids in a table of
// their own. Upgraded, its orders carry them: a retry of an add made before
// the upgrade gets its first answer without a second charge, and its
// orders, whose ids carry no number, are still found.
func TestUpgradeFromPreReleaseVersion1(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "schema-v1-prerelease.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	w := rawFile(t, path)
	in := store.OrderInput{ServiceID: 1, RequestID: "r-1", Link: "https://x.example/p", Quantity: "100"}
	const first, second = "ord_01HG9X7KJP4N5Q6R7S8T9V0W1X", "ord_01HG9X7KJP4N5Q6R7S8T9V0W1Y"
	for _, q := range []string{string(old), `PRAGMA user_version = 1`,
		`INSERT INTO accounts (name, tier, balance, created_at) VALUES ('alice', 'standard', 10000000, 0)`,
		`INSERT INTO providers (name, url, api_key, dialect, created_at) VALUES ('up', 'https://up.example/api/v2', 'k', 'classic', 0)`,
		`INSERT INTO services (name, category, type, rate, min, max, provider_id, provider_service, created_at, updated_at)
		   VALUES ('F', 'I', 'Default', 1000000, 10, 1000, 1, '1', 0, 0)`,
		`INSERT INTO orders (number, id, account_id, service_id, link, quantity, units, charge, created_at, updated_at) VALUES
		   (1, '` + first + `', 1, 1, 'https://x.example/p', 100, 100, 100000, 0, 0),
		   (2, '` + second + `', 1, 1, 'https://x.example/q', 100, 100, 100000, 0, 0)`,
		`UPDATE accounts SET balance = 9800000`,
		`INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, created_at) VALUES
		   (1, 'deposit', 10000000, 10000000, NULL, 0),
		   (1, 'charge', -100000, 9900000, '` + first + `', 0),
		   (1, 'charge', -100000, 9800000, '` + second + `', 0)`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("old file: %v\n%s", err, q)
		}
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO idempotency (account_id, request_id, fingerprint, order_id, created_at)
		VALUES (1, 'r-1', ?, '`+first+`', 0)`, store.Fingerprint(in)); err != nil {
		t.Fatal(err)
	}
	w.Close()

	db := storetest.OpenPath(t, path)
	if got := pragma(t, storetest.Raw(t, db), "user_version"); got != fmt.Sprint(len(store.Upgrades)+1) {
		t.Errorf("user_version = %s", got)
	}
	if id, err := db.PlaceOrder(ctx, 1, in); err != nil || id != first {
		t.Errorf("retry of an add from before the upgrade = %q, %v; want %s", id, err, first)
	}
	if a, _ := db.FindAccount(ctx, "alice"); a.Balance != 9_800_000 {
		t.Errorf("balance %d after the retry, want 9800000: charged again", a.Balance)
	}
	in.Quantity = "200"
	if _, err := db.PlaceOrder(ctx, 1, in); err != store.ErrRequestIDReused {
		t.Errorf("reuse with other parameters: %v, want ErrRequestIDReused", err)
	}
	fresh, err := db.PlaceOrder(ctx, 1, store.OrderInput{ServiceID: 1, RequestID: "r-2", Link: "https://x.example/n", Quantity: "100"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.OrderStatuses(ctx, 1, []string{first, second, fresh})
	if err != nil || len(got) != 3 {
		t.Errorf("statuses after the upgrade = %v, %v; want all three orders", got, err)
	}
	storetest.Audit(t, db)
}

// A file of version 4 keeps its provider and service through the upgrade
// that gave providers their pace, catalog sync and balance: the settings
// start at their defaults, no backup, nothing to warn of, and orders go on.
func TestUpgradeGivesProvidersTheirDefaults(t *testing.T) {
	db := storetest.OpenPath(t, versionFile(t, 4))
	p, err := db.FindProvider(ctx, "up")
	if err != nil || p.Settings.Concurrency != store.DefaultConcurrency || p.Settings.CatalogSync != 0 ||
		p.Settings.MarkupBP != nil || p.State.Balance != nil || p.State.Pace != 0 {
		t.Errorf("provider after the upgrade = %+v, %v", p, err)
	}
	s, err := db.Service(ctx, 1)
	if err != nil || s.BackupProviderID != 0 || s.Warning != "" || !s.Enabled {
		t.Errorf("service after the upgrade = %+v, %v", s, err)
	}
	o, err := db.FindOrder(ctx, "1")
	if err != nil || o.Failover != "" {
		t.Errorf("order after the upgrade = %+v, %v", o, err)
	}
	if _, err := db.PlaceOrder(ctx, 1, store.OrderInput{ServiceID: 1, RequestID: "r-2", Link: "https://x.example/p", Quantity: "100"}); err != nil {
		t.Errorf("add after the upgrade: %v", err)
	}
}
