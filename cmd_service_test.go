package main

import (
	"strings"
	"testing"
)

// catalog registers a provider and one service through the CLI and returns
// the service id as printed.
func catalog(t *testing.T, db string) string {
	t.Helper()
	ok(t, db, "provider", "add", "upstream", "--url", "http://127.0.0.1:9/api/v2", "--key", "secret-upstream-key")
	return strings.TrimSpace(ok(t, db, "service", "add", "--name", "Followers", "--category", "Instagram",
		"--rate", "0.90", "--min", "50", "--max", "10000", "--refill", "--cancel",
		"--provider", "upstream", "--provider-service", "101"))
}

func TestProviders(t *testing.T) {
	db := dbPath(t)
	if got := ok(t, db, "provider", "add", "up1", "--url", "https://user:hunter2@up1.example/api/v2", "--key", "k-one"); got != "1\n" {
		t.Errorf("provider add: stdout %q, want the id alone", got)
	}
	if got := ok(t, db, "provider", "add", "up2", "--url", "https://up2.example/api/v2", "--key", "k-two", "--dialect", "notpanel"); got != "2\n" {
		t.Errorf("provider add: stdout %q, want the id alone", got)
	}
	failing(t, db, "provider", "add", "up1", "--url", "https://up1.example", "--key", "k")
	failing(t, db, "provider", "add", "up3", "--url", "ftp://up3.example", "--key", "k")
	failing(t, db, "provider", "add", "up3", "--url", "https://up3.example") // no --key

	for _, args := range [][]string{{"provider", "list"}, {"provider", "list", "--json"}} {
		out := ok(t, db, args...)
		for _, secret := range []string{"k-one", "k-two", "hunter2"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the secret %q:\n%s", strings.Join(args, " "), secret, out)
			}
		}
	}
	var rows []map[string]any
	decode(t, ok(t, db, "provider", "list", "--json"), &rows)
	if len(rows) != 2 || rows[1]["name"] != "up2" || rows[1]["dialect"] != "notpanel" {
		t.Errorf("provider list --json: %v", rows)
	}
}

func TestServiceAddAndList(t *testing.T) {
	db := dbPath(t)
	if id := catalog(t, db); id != "1" {
		t.Errorf("service add: stdout %q, want the id alone", id)
	}
	var rows []map[string]any
	decode(t, ok(t, db, "service", "list", "--json"), &rows)
	if len(rows) != 1 {
		t.Fatalf("service list --json: %d rows, want 1", len(rows))
	}
	want := "cancel,category,dripfeed,enabled,max,min,name,provider,provider_service,rate,refill,service,type"
	if got := strings.Join(keysOf(rows[0]), ","); got != want {
		t.Errorf("service list --json fields\n got %s\nwant %s", got, want)
	}
	for k, v := range map[string]any{
		"service": 1.0, "name": "Followers", "type": "Default", "category": "Instagram", "rate": "0.90",
		"min": "50", "max": "10000", "refill": true, "cancel": true, "dripfeed": false,
		"provider": "upstream", "provider_service": "101", "enabled": true,
	} {
		if rows[0][k] != v {
			t.Errorf("service list --json %s = %#v, want %#v", k, rows[0][k], v)
		}
	}
	if table := ok(t, db, "service", "list"); !strings.Contains(table, "Followers") || !strings.Contains(table, "0.90") {
		t.Errorf("service list table:\n%s", table)
	}
}

func TestServiceAddErrors(t *testing.T) {
	db := dbPath(t)
	catalog(t, db)
	base := []string{"service", "add", "--name", "X", "--category", "C", "--min", "1", "--max", "10", "--provider-service", "7"}
	for name, extra := range map[string][]string{
		"ErrRate":         {"--rate", "cheap", "--provider", "upstream"},
		"ErrNegativeRate": {"--rate=-1", "--provider", "upstream"},
		"ErrProvider":     {"--rate", "1", "--provider", "nobody"},
		"ErrType":         {"--rate", "1", "--provider", "upstream", "--type", "Magic"},
		"ErrDripPackage":  {"--rate", "1", "--provider", "upstream", "--type", "Package", "--dripfeed"},
	} {
		t.Run(name, func(t *testing.T) {
			failing(t, db, append(base, extra...)...)
		})
	}
	if r := failing(t, db, append(base, "--rate", "1")...); r.code != 2 {
		t.Errorf("missing --provider: exit %d, want 2", r.code)
	}
}

func TestServiceSet(t *testing.T) {
	db := dbPath(t)
	id := catalog(t, db)
	ok(t, db, "service", "set", id, "--rate", "1.25", "--no-refill", "--dripfeed", "--name", "Real followers")

	var rows []map[string]any
	decode(t, ok(t, db, "service", "list", "--json"), &rows)
	got := rows[0]
	for k, v := range map[string]any{
		"name": "Real followers", "rate": "1.25", "refill": false, "dripfeed": true,
		// untouched:
		"cancel": true, "min": "50", "max": "10000", "category": "Instagram", "provider_service": "101", "enabled": true,
	} {
		if got[k] != v {
			t.Errorf("after service set: %s = %#v, want %#v", k, got[k], v)
		}
	}

	failing(t, db, "service", "set", id)                         // nothing to change
	failing(t, db, "service", "set", id, "--min", "20000")       // min > max
	failing(t, db, "service", "set", "99", "--name", "Ghost")    // unknown
	failing(t, db, "service", "set", id, "--rate", "0.1234567")  // too precise
	failing(t, db, "service", "set", id, "--type", "Impossible") // bad type
	ok(t, db, "service", "set", id, "--no-enabled")
	ok(t, db, "service", "set", id, "--enabled", "--provider-service", "202", "--min", "10", "--max", "20")

	ok(t, db, "service", "disable", id)
	decode(t, ok(t, db, "service", "list", "--json"), &rows)
	if rows[0]["enabled"] != false || rows[0]["provider_service"] != "202" || rows[0]["max"] != "20" {
		t.Errorf("after service disable: %v", rows[0])
	}
	failing(t, db, "service", "disable", "99")
}
