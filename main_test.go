package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	_ "modernc.org/sqlite"

	"notpanel/store"
	"notpanel/store/storetest"
)

// result is what an operator sees from one command.
type result struct {
	code           int
	stdout, stderr string
}

// notpanel runs the command line against the database file db, the way the
// binary would, with an empty environment and nothing on stdin.
func notpanel(t *testing.T, db string, args ...string) result {
	t.Helper()
	return notpanelEnv(t, nil, append([]string{"--db", db}, args...)...)
}

// notpanelIn is notpanel with stdin given.
func notpanelIn(t *testing.T, stdin, db string, args ...string) result {
	t.Helper()
	return notpanelStdin(t, nil, stdin, append([]string{"--db", db}, args...)...)
}

func notpanelEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return notpanelStdin(t, env, "", args...)
}

func notpanelStdin(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return result{code, stdout.String(), stderr.String()}
}

// ok runs a command that must succeed and returns its stdout.
func ok(t *testing.T, db string, args ...string) string {
	t.Helper()
	r := notpanel(t, db, args...)
	if r.code != 0 {
		t.Fatalf("notpanel %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// failing runs a command that must fail and returns its one-line reason.
func failing(t *testing.T, db string, args ...string) result {
	t.Helper()
	r := notpanel(t, db, args...)
	if r.code == 0 {
		t.Fatalf("notpanel %s: exit 0, want failure; stdout:\n%s", strings.Join(args, " "), r.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "notpanel: ") {
		t.Errorf("notpanel %s: last stderr line %q, want notpanel: <reason>", strings.Join(args, " "), last)
	}
	return r
}

func dbPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "notpanel.db")
}

// decode parses --json output into v, failing the test on bad JSON.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
}

// keysOf returns the sorted field names of a JSON object.
func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// rawSQL opens the file with the plain driver, as an intruder or a broken
// tool would, bypassing every store rule.
func rawSQL(t *testing.T, path, query string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestHelp(t *testing.T) {
	r := notpanel(t, dbPath(t), "--help")
	if r.code != 0 {
		t.Fatalf("--help: exit %d, stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{"self-hosted SMM reseller panel", "funds add", "order cancel", "--db="} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q:\n%s", want, r.stdout)
		}
	}
	r = notpanel(t, dbPath(t), "service", "set", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--[no-]refill") {
		t.Errorf("service set --help: exit %d\n%s", r.code, r.stdout)
	}
}

// TestHelpEverywhere keeps the promise that every command, argument and
// flag explains itself in --help.
func TestHelpEverywhere(t *testing.T) {
	var c cli
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	k, err := newParser(t.Context(), &c, a, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		if n.Type == kong.CommandNode && n.Help == "" {
			t.Errorf("command %q has no help", n.Path())
		}
		for _, f := range n.Flags {
			if f.Help == "" {
				t.Errorf("flag --%s of %q has no help", f.Name, n.Path())
			}
		}
		for _, p := range n.Positional {
			if p.Help == "" {
				t.Errorf("argument %s of %q has no help", p.Name, n.Path())
			}
		}
		for _, child := range n.Children {
			walk(child)
		}
	}
	walk(k.Model.Node)
}

func TestUsageErrors(t *testing.T) {
	db := dbPath(t)
	for _, args := range [][]string{
		{"usr", "list"},
		{"user", "add"},
		{"provider", "add", "x", "--url", "https://x.example", "--key", "k", "--dialect", "smtp"},
		{"service", "set", "abc", "--name", "x"},
	} {
		r := failing(t, db, args...)
		if r.code != 2 {
			t.Errorf("notpanel %s: exit %d, want 2 (usage)", strings.Join(args, " "), r.code)
		}
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("notpanel %s: stderr is not one line:\n%s", strings.Join(args, " "), r.stderr)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a usage error created the database")
	}
}

func TestDBFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	fromEnv := filepath.Join(dir, "env.db")
	env := map[string]string{"NOTPANEL_DB": fromEnv}
	if r := notpanelEnv(t, env, "user", "add", "alice"); r.code != 0 || r.stdout != "1\n" {
		t.Fatalf("user add with NOTPANEL_DB: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if r := notpanelEnv(t, env, "user", "show", "alice"); r.code != 0 {
		t.Fatalf("user show with NOTPANEL_DB: exit %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(fromEnv); err != nil {
		t.Fatalf("NOTPANEL_DB file not created: %v", err)
	}
	// --db wins over the environment.
	flag := filepath.Join(dir, "flag.db")
	if r := notpanelEnv(t, env, "--db", flag, "user", "show", "alice"); r.code == 0 {
		t.Errorf("user show --db %s found the account of NOTPANEL_DB's file", flag)
	}
	if r := notpanelEnv(t, env, "--db", flag, "user", "list", "--json"); r.stdout != "[]\n" {
		t.Errorf("user list --json on a fresh --db: %q, want []", r.stdout)
	}
}

func TestNewDatabaseIsAnnounced(t *testing.T) {
	db := dbPath(t)
	if r := notpanel(t, db, "user", "list"); !strings.Contains(r.stderr, "created new database "+db) {
		t.Errorf("first use: stderr %q, want a note that the file was created", r.stderr)
	}
	if r := notpanel(t, db, "user", "list"); r.stderr != "" {
		t.Errorf("second use: stderr %q, want nothing", r.stderr)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	rawSQL(t, db, "PRAGMA user_version = 99")
	r := failing(t, db, "user", "list")
	if !strings.Contains(r.stderr, "newer than this notpanel understands") {
		t.Errorf("stderr %q, want a clear refusal of the newer schema", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte("shopping list: milk, eggs, and much more text than a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	failing(t, path, "user", "list")
}

func TestLiftNegatives(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"OK", []string{"funds", "add", "alice", "5"}, []string{"funds", "add", "alice", "5"}},
		{"Last", []string{"funds", "add", "alice", "-5"}, []string{"funds", "add", "alice", "--", "-5"}},
		{"Decimal", []string{"funds", "add", "alice", "-.5"}, []string{"funds", "add", "alice", "--", "-.5"}},
		{"FlagAfter", []string{"funds", "add", "alice", "-5", "--note", "oops"},
			[]string{"funds", "add", "alice", "--note", "oops", "--", "-5"}},
		{"AlreadyEscaped", []string{"funds", "add", "alice", "--", "-5"}, []string{"funds", "add", "alice", "--", "-5"}},
		{"FlagValue", []string{"service", "set", "1", "--rate", "-1"}, []string{"service", "set", "1", "--rate", "-1"}},
		{"PositionalAfter", []string{"funds", "add", "-5", "alice"}, []string{"funds", "add", "-5", "alice"}},
		{"ShortFlag", []string{"user", "-h"}, []string{"user", "-h"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := liftNegatives(tc.args); !slices.Equal(got, tc.want) {
				t.Errorf("liftNegatives(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

// openStore opens the CLI's database file from the test, as a second
// process (serve, say) would.
func openStore(t *testing.T, path string) *store.DB {
	return storetest.OpenPath(t, path)
}

func balanceOf(t *testing.T, db *store.DB, name string) int64 {
	t.Helper()
	a, err := db.FindAccount(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}
