package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"notpanel/store"
)

func TestUserAdd(t *testing.T) {
	db := dbPath(t)
	if got := ok(t, db, "user", "add", "alice"); got != "1\n" {
		t.Errorf("user add alice: stdout %q, want the id alone", got)
	}
	if got := ok(t, db, "user", "add", "bob", "--tier", "reseller"); got != "2\n" {
		t.Errorf("user add bob: stdout %q, want the id alone", got)
	}
	r := failing(t, db, "user", "add", "alice")
	if !strings.Contains(r.stderr, `User "alice" already exists`) {
		t.Errorf("duplicate: stderr %q", r.stderr)
	}
	failing(t, db, "user", "add", "carol", "--tier", "platinum")
	failing(t, db, "user", "add", "42")

	var users []map[string]any
	decode(t, ok(t, db, "user", "list", "--json"), &users)
	if len(users) != 2 {
		t.Fatalf("user list --json: %d rows, want 2", len(users))
	}
	want := []string{"balance", "created", "id", "low_balance", "name", "status", "tier"}
	if got := keysOf(users[1]); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("user list --json fields %q, want %q", got, want)
	}
	if users[1]["name"] != "bob" || users[1]["tier"] != "reseller" || users[1]["balance"] != "0.00" {
		t.Errorf("user list --json row %v", users[1])
	}
	table := ok(t, db, "user", "list")
	if !strings.Contains(table, "BALANCE USD") || !strings.Contains(table, "bob") {
		t.Errorf("user list table:\n%s", table)
	}
}

func TestUserSuspend(t *testing.T) {
	ctx := context.Background()
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	key := strings.TrimSpace(ok(t, db, "key", "create", "alice"))
	s := openStore(t, db)
	browser := signedIn(t, s, "alice")

	r := notpanel(t, db, "user", "suspend", "alice")
	want := "user alice (id 1) is now suspended: its API keys are refused and its browser sessions end at their next request\n"
	if r.code != 0 || r.stderr != want {
		t.Errorf("suspend: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	if _, err := s.Authenticate(ctx, key); !errors.Is(err, store.ErrAccountSuspended) {
		t.Errorf("after suspend: Authenticate = %v, want Account suspended", err)
	}
	if sessionLive(t, s, browser) {
		t.Errorf("after suspend: the browser is still signed in")
	}
	if r := notpanel(t, db, "user", "unsuspend", "1"); r.code != 0 || r.stderr != "user alice (id 1) is now active\n" { // by id this time
		t.Errorf("unsuspend: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := s.Authenticate(ctx, key); err != nil {
		t.Errorf("after unsuspend: Authenticate = %v", err)
	}
	if sessionLive(t, s, browser) {
		t.Errorf("after unsuspend: the browser signed out by the suspension is signed in again")
	}
	failing(t, db, "user", "suspend", "nobody")
}

func TestUserSettings(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	ok(t, db, "user", "set-tier", "alice", "agency")
	ok(t, db, "user", "set-low-balance", "alice", "2.5")
	failing(t, db, "user", "set-tier", "alice", "platinum")
	failing(t, db, "user", "set-low-balance", "alice", "-1")
	failing(t, db, "user", "set-low-balance", "alice", "lots")

	var u map[string]any
	decode(t, ok(t, db, "user", "show", "alice", "--json"), &u)
	if u["tier"] != "agency" || u["low_balance"] != "2.50" || u["currency"] != "USD" {
		t.Errorf("user show --json: %v", u)
	}
	text := ok(t, db, "user", "show", "alice")
	for _, want := range []string{"tier:", "agency", "low balance:", "2.50 USD", "0 active"} {
		if !strings.Contains(text, want) {
			t.Errorf("user show lacks %q:\n%s", want, text)
		}
	}
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	r := notpanel(t, db, "key", "create", "alice")
	if r.code != 0 {
		t.Fatalf("key create: exit %d: %s", r.code, r.stderr)
	}
	key := strings.TrimSuffix(r.stdout, "\n")
	if strings.ContainsAny(key, " \n\t") || !strings.HasPrefix(key, store.KeyPrefix) {
		t.Fatalf("key create: stdout %q, want the raw key alone", r.stdout)
	}
	s := openStore(t, db)
	p, err := s.Authenticate(ctx, key)
	if err != nil {
		t.Fatalf("the printed key does not authenticate: %v", err)
	}
	if p.AccountID != 1 {
		t.Errorf("key acts for account %d, want 1", p.AccountID)
	}

	out := ok(t, db, "key", "list", "alice", "--json")
	if strings.Contains(out, key) {
		t.Fatalf("key list prints the raw key")
	}
	var keys []map[string]any
	decode(t, out, &keys)
	if len(keys) != 1 || keys[0]["id"] != p.KeyID || keys[0]["status"] != "active" {
		t.Fatalf("key list --json = %v, want one active row with id %s", keys, p.KeyID)
	}

	ok(t, db, "key", "revoke", p.KeyID)
	if _, err := s.Authenticate(ctx, key); !errors.Is(err, store.ErrInvalidKey) {
		t.Errorf("after revoke: Authenticate = %v, want Invalid API key", err)
	}
	failing(t, db, "key", "revoke", p.KeyID)
	failing(t, db, "key", "revoke", "key_nonsense")
	if table := ok(t, db, "key", "list", "alice"); !strings.Contains(table, "revoked") || strings.Contains(table, key) {
		t.Errorf("key list table:\n%s", table)
	}
	failing(t, db, "key", "create", "nobody")

	// A key the customer made on the storefront shows its label.
	if _, _, err := s.CreateAccountKey(ctx, 1, "CI server"); err != nil {
		t.Fatal(err)
	}
	if table := ok(t, db, "key", "list", "alice"); !strings.Contains(table, "LABEL") || !strings.Contains(table, "CI server") {
		t.Errorf("key list lacks the label:\n%s", table)
	}
	decode(t, ok(t, db, "key", "list", "alice", "--json"), &keys)
	if len(keys) != 2 || keys[1]["label"] != "CI server" || keys[0]["label"] != nil {
		t.Errorf("key list --json = %v, want the second key labelled CI server, the first without", keys)
	}
	if text := ok(t, db, "user", "show", "alice"); !strings.Contains(text, "active  CI server\n") {
		t.Errorf("user show lacks the key's label:\n%s", text)
	}
}

func TestFundsAdd(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	s := openStore(t, db)
	for _, tc := range []struct {
		name    string
		args    []string
		want    string // stdout; "" for a failure
		balance int64
	}{
		{"OK", []string{"alice", "10"}, "10.00\n", 10_000_000},
		{"OKNote", []string{"alice", "0.25", "--note", "paypal 123"}, "10.25\n", 10_250_000},
		{"Negative", []string{"alice", "-5"}, "5.25\n", 5_250_000},
		{"NegativeBeforeFlag", []string{"alice", "-0.25", "--note", "fee"}, "5.00\n", 5_000_000},
		{"NegativeAfterDashes", []string{"alice", "--", "-1.5"}, "3.50\n", 3_500_000},
		{"ByID", []string{"1", "1.5"}, "5.00\n", 5_000_000},
		{"ErrInsufficientBalance", []string{"alice", "-5.01"}, "", 5_000_000},
		{"ErrZero", []string{"alice", "0"}, "", 5_000_000},
		{"ErrNotMoney", []string{"alice", "1e3"}, "", 5_000_000},
		{"ErrTooPrecise", []string{"alice", "0.0000001"}, "", 5_000_000},
		{"ErrUnknownUser", []string{"bob", "5"}, "", 5_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := notpanel(t, db, append([]string{"funds", "add"}, tc.args...)...)
			if tc.want == "" {
				if r.code == 0 || r.stdout != "" || !strings.HasPrefix(r.stderr, "notpanel: ") {
					t.Errorf("exit %d, stdout %q, stderr %q; want a failure", r.code, r.stdout, r.stderr)
				}
			} else if r.code != 0 || r.stdout != tc.want {
				t.Errorf("exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, tc.want, r.stderr)
			}
			if got := balanceOf(t, s, "alice"); got != tc.balance {
				t.Errorf("balance %s, want %s", store.FormatMoney(got), store.FormatMoney(tc.balance))
			}
		})
	}
	r := failing(t, db, "funds", "add", "alice", "-5.01")
	if !strings.Contains(r.stderr, "balance is 5.00") {
		t.Errorf("over-deduct: stderr %q, want the current balance", r.stderr)
	}
}

func TestTiers(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "tier", "set", "gold", "--key-per-min", "50", "--account-per-min", "500")
	ok(t, db, "tier", "set", "gold", "--key-per-min", "60") // the other limit stays
	failing(t, db, "tier", "set", "silver", "--key-per-min", "10")
	failing(t, db, "tier", "set", "gold")
	failing(t, db, "tier", "set", "gold", "--key-per-min", "0")

	var tiers []store.Tier
	decode(t, ok(t, db, "tier", "list", "--json"), &tiers)
	var gold *store.Tier
	for i := range tiers {
		if tiers[i].Name == "gold" {
			gold = &tiers[i]
		}
	}
	if gold == nil || gold.KeyPerMin != 60 || gold.AccountPerMin != 500 {
		t.Errorf("tier list --json: gold = %+v, want 60/min per key, 500 per account", gold)
	}
	if len(tiers) != 4 {
		t.Errorf("tier list --json: %d tiers, want standard, reseller, agency and gold", len(tiers))
	}
	if table := ok(t, db, "tier", "list"); !strings.Contains(table, "gold") {
		t.Errorf("tier list:\n%s", table)
	}
	ok(t, db, "user", "add", "alice", "--tier", "gold")
}

func TestCurrency(t *testing.T) {
	db := dbPath(t)
	if got := ok(t, db, "currency"); got != "USD\n" {
		t.Errorf("currency: %q, want USD", got)
	}
	ok(t, db, "currency", "eur")
	if got := ok(t, db, "currency"); got != "EUR\n" {
		t.Errorf("currency after setting eur: %q, want EUR", got)
	}
	failing(t, db, "currency", "EURO")
}
