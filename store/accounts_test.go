package store_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestCreateAccount(t *testing.T) {
	db := storetest.Open(t)
	tests := []struct {
		name, user, tier string
		wantTier         string
		code             store.Code
		message          string
	}{
		{"DefaultTier", "alice", "", "standard", "", ""},
		{"ExplicitTier", "bob.smith@shop-1", "reseller", "reseller", "", ""},
		{"UnicodeLetters", "Zoë_Ωmega", "", "standard", "", ""},
		{"Duplicate", "alice", "", "", store.Conflict, `User "alice" already exists`},
		{"UnknownTier", "carol", "gold", "", store.NotFound, `Tier "gold" not found`},
		{"Empty", "", "", "", store.Invalid, `Invalid user name "": 1 to 64 characters`},
		{"TooLong", strings.Repeat("a", 65), "", "", store.Invalid, `Invalid user name "` + strings.Repeat("a", 65) + `": 1 to 64 characters`},
		{"Space", "a b", "", "", store.Invalid, `Invalid user name "a b": use letters, digits and . _ - @`},
		{"Slash", "a/b", "", "", store.Invalid, `Invalid user name "a/b": use letters, digits and . _ - @`},
		{"Number", "123", "", "", store.Invalid, `Invalid user name "123": a name cannot be a number (numbers address ids)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := db.CreateAccount(ctx, tt.user, tt.tier)
			if tt.message != "" {
				wantErr(t, err, tt.code, tt.message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := store.Account{ID: a.ID, Name: tt.user, Tier: tt.wantTier, Status: store.AccountActive, Created: a.Created}
			if a != want || a.ID == 0 || a.Created == 0 {
				t.Errorf("account = %+v, want %+v", a, want)
			}
			for _, ref := range []string{tt.user, itoa(a.ID)} {
				if got, err := db.FindAccount(ctx, ref); err != nil || got != a {
					t.Errorf("FindAccount(%q) = %+v, %v; want %+v", ref, got, err, a)
				}
			}
		})
	}
	list, err := db.ListAccounts(ctx)
	if err != nil || len(list) != 3 || list[0].Name != "alice" || list[2].Name != "Zoë_Ωmega" {
		t.Errorf("ListAccounts = %+v, %v; want the three accounts by id", list, err)
	}
	_, err = db.FindAccount(ctx, "nobody")
	wantErr(t, err, store.NotFound, `User "nobody" not found`)
	_, err = db.FindAccount(ctx, "999")
	wantErr(t, err, store.NotFound, `User 999 not found`)
}

func TestAccountSettings(t *testing.T) {
	db := storetest.Open(t)
	a, key := storetest.Account(t, db, "alice", 0)
	t.Run("SuspendAndReactivate", func(t *testing.T) {
		got, err := db.SetAccountStatus(ctx, "alice", store.AccountSuspended)
		if err != nil || got.Status != store.AccountSuspended {
			t.Fatalf("suspend = %+v, %v", got, err)
		}
		_, err = db.Authenticate(ctx, key)
		wantErr(t, err, store.Forbidden, "Account suspended")
		if got, err := db.SetAccountStatus(ctx, itoa(a.ID), store.AccountActive); err != nil || got.Status != store.AccountActive {
			t.Fatalf("reactivate = %+v, %v", got, err)
		}
		if _, err := db.Authenticate(ctx, key); err != nil {
			t.Errorf("key after reactivation: %v", err)
		}
		_, err = db.SetAccountStatus(ctx, "alice", "banned")
		wantErr(t, err, store.Invalid, `Invalid account status "banned"`)
		_, err = db.SetAccountStatus(ctx, "nobody", store.AccountSuspended)
		wantErr(t, err, store.NotFound, `User "nobody" not found`)
	})
	t.Run("Tier", func(t *testing.T) {
		if got, err := db.SetAccountTier(ctx, "alice", "agency"); err != nil || got.Tier != "agency" {
			t.Errorf("SetAccountTier = %+v, %v", got, err)
		}
		if p, err := db.Authenticate(ctx, key); err != nil || p.Tier != "agency" {
			t.Errorf("principal = %+v, %v; want tier agency", p, err)
		}
		_, err := db.SetAccountTier(ctx, "alice", "gold")
		wantErr(t, err, store.NotFound, `Tier "gold" not found`)
	})
	t.Run("LowBalance", func(t *testing.T) {
		if got, err := db.SetLowBalance(ctx, "alice", 5_000_000); err != nil || got.LowBalance != 5_000_000 {
			t.Errorf("SetLowBalance = %+v, %v", got, err)
		}
		_, err := db.SetLowBalance(ctx, "alice", -1)
		wantErr(t, err, store.Invalid, "Low-balance threshold cannot be negative")
	})
}

func TestAddFunds(t *testing.T) {
	f := newFixture(t, 0)
	tests := []struct {
		name        string
		ref         string
		amount      int64
		wantBalance int64
		code        store.Code
		message     string
	}{
		{"Deposit", "alice", 5_000_000, 5_000_000, "", ""},
		{"DepositByID", itoa(f.acct.ID), 1, 5_000_001, "", ""},
		{"Deduct", "alice", -2_000_001, 3_000_000, "", ""},
		{"DeductEverything", "alice", -3_000_000, 0, "", ""},
		{"Overdraw", "alice", -1, 0, store.Invalid, "Cannot deduct 0.000001: balance is 0.00"},
		{"Zero", "alice", 0, 0, store.Invalid, "Amount must not be zero"},
		{"TooLarge", "alice", store.MaxAmount + 1, 0, store.Invalid, "Amount too large"},
		{"TooLargeNegative", "alice", -store.MaxAmount - 1, 0, store.Invalid, "Amount too large"},
		{"UpToMaxAmount", "alice", store.MaxAmount, store.MaxAmount, "", ""},
		{"BeyondMaxAmount", "alice", 1, store.MaxAmount, store.Invalid, "Balance would become too large"},
		{"UnknownUser", "nobody", 1, store.MaxAmount, store.NotFound, `User "nobody" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := len(f.checkLedger(t, f.acct.ID))
			got, err := f.db.AddFunds(ctx, tt.ref, tt.amount, "note "+tt.name)
			if tt.message != "" {
				wantErr(t, err, tt.code, tt.message)
				if n := len(f.checkLedger(t, f.acct.ID)); n != rows {
					t.Errorf("a refused change wrote %d ledger rows", n-rows)
				}
			} else if err != nil || got != tt.wantBalance {
				t.Errorf("AddFunds = %d, %v; want %d", got, err, tt.wantBalance)
			} else {
				ledger := f.checkLedger(t, f.acct.ID)
				last := ledger[len(ledger)-1]
				kind := store.KindDeposit
				if tt.amount < 0 {
					kind = store.KindAdjustment
				}
				if last.Kind != kind || last.Amount != tt.amount || last.Note != "note "+tt.name || last.OrderID != "" {
					t.Errorf("ledger row = %+v, want %s of %d", last, kind, tt.amount)
				}
			}
			if b := f.balance(t, f.acct.ID); b != tt.wantBalance {
				t.Errorf("balance = %d, want %d", b, tt.wantBalance)
			}
		})
	}
	storetest.Audit(t, f.db)
}

func TestTiers(t *testing.T) {
	db := storetest.Open(t)
	if err := db.SetTier(ctx, store.Tier{Name: "gold", KeyPerMin: 5000, AccountPerMin: 9000}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTier(ctx, store.Tier{Name: "standard", KeyPerMin: 60, AccountPerMin: 120}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Tiers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Tier{
		{Name: "agency", KeyPerMin: 1000, AccountPerMin: 3000},
		{Name: "gold", KeyPerMin: 5000, AccountPerMin: 9000},
		{Name: "reseller", KeyPerMin: 300, AccountPerMin: 1000},
		{Name: "standard", KeyPerMin: 60, AccountPerMin: 120},
	}
	if len(got) != len(want) {
		t.Fatalf("Tiers = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("tier %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	err = db.SetTier(ctx, store.Tier{Name: "free", KeyPerMin: 0, AccountPerMin: 10})
	wantErr(t, err, store.Invalid, "Tier limits must be positive")
	err = db.SetTier(ctx, store.Tier{Name: "", KeyPerMin: 1, AccountPerMin: 1})
	wantErr(t, err, store.Invalid, `Invalid tier name "": 1 to 64 characters`)
}

// A running server caches keys, accounts, tiers and services while the
// config version stays put; admin writes must move it, order traffic not.
func TestConfigVersion(t *testing.T) {
	f := newFixture(t, 10_000_000)
	version := func() int64 {
		v, err := f.db.ConfigVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	id := f.add(t, f.acct.ID, store.TypeDefault, 100)
	tests := []struct {
		name  string
		do    func() error
		bumps bool
	}{
		{"PlaceOrder", func() error { f.add(t, f.acct.ID, store.TypeDefault, 100); return nil }, false},
		{"Cancel", func() error { _, err := f.db.CancelOrders(ctx, store.Customer(f.acct.ID), []string{id}); return err }, false},
		{"AddFunds", func() error { _, err := f.db.AddFunds(ctx, "alice", 1, ""); return err }, false},
		{"CreateAccount", func() error { _, err := f.db.CreateAccount(ctx, "bob", ""); return err }, true},
		{"CreateKey", func() error { _, _, err := f.db.CreateKey(ctx, "bob"); return err }, true},
		{"Suspend", func() error { _, err := f.db.SetAccountStatus(ctx, "bob", store.AccountSuspended); return err }, true},
		{"SetTier", func() error { return f.db.SetTier(ctx, store.Tier{Name: "x", KeyPerMin: 1, AccountPerMin: 1}) }, true},
		{"SetAccountTier", func() error { _, err := f.db.SetAccountTier(ctx, "bob", "x"); return err }, true},
		{"SetLowBalance", func() error { _, err := f.db.SetLowBalance(ctx, "bob", 1); return err }, true},
		{"UpdateService", func() error {
			rate := int64(1)
			_, err := f.db.UpdateService(ctx, f.svc["Free"].ID, store.ServicePatch{Rate: &rate})
			return err
		}, true},
		{"SetCurrency", func() error { return f.db.SetCurrency(ctx, "EUR") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := version()
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			if got := version() != before; got != tt.bumps {
				t.Errorf("config version moved = %v, want %v", got, tt.bumps)
			}
		})
	}
}

func TestCurrency(t *testing.T) {
	db := storetest.Open(t)
	if c, err := db.Currency(ctx); err != nil || c != "USD" {
		t.Errorf("Currency = %q, %v; want USD", c, err)
	}
	if err := db.SetCurrency(ctx, "EUR"); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Currency(ctx); c != "EUR" {
		t.Errorf("Currency = %q, want EUR", c)
	}
	for _, bad := range []string{"", "usd", "EURO", "E1R", "US", "€UR"} {
		err := db.SetCurrency(ctx, bad)
		wantErr(t, err, store.Invalid, `Invalid currency "`+bad+`": want three upper-case letters such as USD`)
	}
	if c, _ := db.Currency(ctx); c != "EUR" {
		t.Errorf("Currency = %q after refused changes, want EUR", c)
	}
}

// A server under load answers most config-version asks from its cache, yet
// never misses a change another process (the CLI) committed before the ask.
func TestConfigVersionNeverStale(t *testing.T) {
	f := newFixture(t, 10_000_000)
	cli := storetest.OpenPath(t, f.db.Path()) // another process's handle on the file
	stop := make(chan struct{})
	var busy sync.WaitGroup
	for range 8 { // a server under load keeps a read running at all times
		busy.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.db.ConfigVersion(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 100 {
		if err := cli.SetTier(ctx, store.Tier{Name: "t", KeyPerMin: int64(i + 1), AccountPerMin: 1}); err != nil {
			t.Fatal(err)
		}
		want, err := cli.ConfigVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var callers sync.WaitGroup
		for range 8 {
			callers.Go(func() {
				if got, err := f.db.ConfigVersion(ctx); err != nil || got < want {
					t.Errorf("ConfigVersion = %d, %v after the CLI committed version %d", got, err, want)
				}
			})
		}
		callers.Wait()
	}
	close(stop)
	busy.Wait()
}

// A config change that left no signal (its process died between the commit
// and rewriting the signal file) is still seen, within about a second.
func TestConfigVersionWithoutSignal(t *testing.T) {
	f := newFixture(t, 10_000_000)
	before, err := f.db.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, `UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE name = 'config_version'`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		v, err := f.db.ConfigVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v == before+1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("config version still %d after 10 s, want %d", v, before+1)
		}
	}
}
