package store_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// payments is a database with a gateway and a customer, alice.
type payments struct {
	db    *store.DB
	alice store.Account
	gw    store.Gateway
}

func newPayments(t *testing.T) *payments {
	t.Helper()
	db := storetest.Open(t)
	p := &payments{db: db}
	p.alice, _ = storetest.Account(t, db, "alice", 0)
	var err error
	p.gw, err = db.AddGateway(ctx, store.Gateway{Name: "card", Kind: store.GatewayStripe, URL: "https://api.stripe.test",
		APIKey: "sk_test_1", WebhookSecret: "whsec_1", Min: 1_000_000, Max: 500_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// deposit records a pending deposit of amount for alice and returns its id.
func (p *payments) deposit(t *testing.T, amount int64) string {
	t.Helper()
	id := store.NewID(store.PrefixDeposit)
	_, err := p.db.CreateDeposit(ctx, store.Deposit{ID: id, AccountID: p.alice.ID, GatewayID: p.gw.ID, Amount: amount,
		Currency: "USD", Reference: "cs_" + id, CheckoutURL: "https://checkout.test/" + id})
	if err != nil {
		t.Fatalf("create deposit: %v", err)
	}
	return id
}

func (p *payments) balance(t *testing.T) int64 {
	t.Helper()
	b, err := p.db.Balance(ctx, p.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGatewayLifecycle(t *testing.T) {
	p := newPayments(t)
	if _, err := p.db.AddGateway(ctx, store.Gateway{Name: "card", Kind: store.GatewayBTCPay, URL: "https://b.test",
		APIKey: "k", Min: 1, Max: 2}); store.ErrorCode(err) != store.Conflict {
		t.Errorf("second gateway named card: %v, want a conflict", err)
	}
	for name, g := range map[string]store.Gateway{
		"BadKind":    {Name: "x", Kind: "paypal", URL: "https://p.test", APIKey: "k", Min: 1, Max: 2},
		"BadURL":     {Name: "x", Kind: store.GatewayBTCPay, URL: "ftp://p.test", APIKey: "k", Min: 1, Max: 2},
		"URLWithPwd": {Name: "x", Kind: store.GatewayBTCPay, URL: "https://u:p@p.test", APIKey: "k", Min: 1, Max: 2},
		"NoKey":      {Name: "x", Kind: store.GatewayBTCPay, URL: "https://p.test", Min: 1, Max: 2},
		"MaxBelow":   {Name: "x", Kind: store.GatewayBTCPay, URL: "https://p.test", APIKey: "k", Min: 5, Max: 2},
		"BadName":    {Name: "a b", Kind: store.GatewayBTCPay, URL: "https://p.test", APIKey: "k", Min: 1, Max: 2},
	} {
		if _, err := p.db.AddGateway(ctx, g); store.ErrorCode(err) != store.Invalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}

	if got, err := p.db.ListGateways(ctx, true); err != nil || len(got) != 1 || got[0].Name != "card" || got[0].APIKey != "sk_test_1" {
		t.Errorf("enabled gateways: %+v, %v", got, err)
	}
	if _, err := p.db.SetGatewayStatus(ctx, "card", store.GatewayRemoved); store.ErrorCode(err) != store.Invalid {
		t.Errorf("remove through SetGatewayStatus: %v", err)
	}
	if _, err := p.db.SetGatewayStatus(ctx, "nosuch", store.GatewayDisabled); store.ErrorCode(err) != store.NotFound {
		t.Errorf("disable an unknown gateway: %v", err)
	}
	if _, err := p.db.RemoveGateway(ctx, "nosuch"); store.ErrorCode(err) != store.NotFound {
		t.Errorf("remove an unknown gateway: %v", err)
	}
	if _, err := p.db.SetGatewayStatus(ctx, "card", store.GatewayDisabled); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.db.ListGateways(ctx, true); len(got) != 0 {
		t.Errorf("enabled gateways while card is disabled: %v", got)
	}
	id := store.NewID(store.PrefixDeposit)
	_, err := p.db.CreateDeposit(ctx, store.Deposit{ID: id, AccountID: p.alice.ID, GatewayID: p.gw.ID, Amount: 5_000_000,
		Currency: "USD", Reference: "cs_1", CheckoutURL: "https://c.test"})
	if err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("deposit through a disabled gateway: %v", err)
	}
	if _, err := p.db.SetGatewayStatus(ctx, "card", store.GatewayEnabled); err != nil {
		t.Fatal(err)
	}
	dep := p.deposit(t, 5_000_000)
	if _, err := p.db.RemoveGateway(ctx, "card"); store.ErrorCode(err) != store.Conflict {
		t.Errorf("remove with a pending deposit: %v, want a conflict", err)
	}
	if _, err := p.db.CloseDeposit(ctx, dep, store.DepositCredited, "paid"); store.ErrorCode(err) != store.Invalid {
		t.Errorf("close as credited: %v", err)
	}
	if _, err := p.db.FindDeposit(ctx, "dep_01HG9X7KJP4N5Q6R7S8T9V0W1X"); err != store.ErrDepositNotFound {
		t.Errorf("find an unknown deposit: %v", err)
	}
	if ok, err := p.db.CloseDeposit(ctx, dep, store.DepositExpired, "expired"); !ok || err != nil {
		t.Fatalf("close: %v %v", ok, err)
	}
	removed, err := p.db.RemoveGateway(ctx, "card")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.db.FindGateway(ctx, "card"); store.ErrorCode(err) != store.NotFound {
		t.Errorf("find a removed gateway by name: %v", err)
	}
	if err := p.db.SetGateway(ctx, removed); store.ErrorCode(err) != store.Invalid {
		t.Errorf("set a removed gateway without its key: %v", err)
	}
	removed.APIKey = "k"
	if err := p.db.SetGateway(ctx, removed); store.ErrorCode(err) != store.NotFound {
		t.Errorf("set a removed gateway: %v, want not found", err)
	}
	old, err := p.db.GatewayByID(ctx, removed.ID)
	if err != nil || old.Status != store.GatewayRemoved || old.APIKey != "" || old.WebhookSecret != "" {
		t.Errorf("removed gateway by id: %+v, %v; want it kept without secrets", old, err)
	}
	// The name is free again, and the old deposit still names its gateway.
	if _, err := p.db.AddGateway(ctx, store.Gateway{Name: "card", Kind: store.GatewayBTCPay, URL: "https://b.test",
		APIKey: "k", StoreID: "s", Min: 1, Max: 2}); err != nil {
		t.Errorf("new gateway under a removed one's name: %v", err)
	}
	if d, err := p.db.FindDeposit(ctx, dep); err != nil || d.Gateway != "card" || d.GatewayID != removed.ID {
		t.Errorf("old deposit: %+v, %v", d, err)
	}
}

func TestCreateDepositChecks(t *testing.T) {
	p := newPayments(t)
	ok := store.Deposit{AccountID: p.alice.ID, GatewayID: p.gw.ID, Amount: 5_000_000, Currency: "USD",
		Reference: "cs_x", CheckoutURL: "https://c.test"}
	tests := []struct {
		name   string
		change func(d *store.Deposit)
		want   string
	}{
		{"BelowMin", func(d *store.Deposit) { d.Amount = 999_999 }, "Amount must be between 1.00 and 500.00"},
		{"AboveMax", func(d *store.Deposit) { d.Amount = 500_000_001 }, "Amount must be between 1.00 and 500.00"},
		{"NoReference", func(d *store.Deposit) { d.Reference = "" }, "reference"},
		{"UnknownAccount", func(d *store.Deposit) { d.AccountID = 99 }, "User 99 not found"},
		{"UnknownGateway", func(d *store.Deposit) { d.GatewayID = 99 }, "not available"},
		{"BadID", func(d *store.Deposit) { d.ID = "dep_nope" }, "Invalid deposit id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			d.ID = store.NewID(store.PrefixDeposit)
			tt.change(&d)
			if _, err := p.db.CreateDeposit(ctx, d); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
	// One deposit per checkout of a gateway.
	d := ok
	d.ID = store.NewID(store.PrefixDeposit)
	if _, err := p.db.CreateDeposit(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.ID = store.NewID(store.PrefixDeposit)
	if _, err := p.db.CreateDeposit(ctx, d); store.ErrorCode(err) != store.Conflict {
		t.Errorf("second deposit for checkout cs_x: %v, want a conflict", err)
	}
	if _, err := p.db.SetAccountStatus(ctx, "alice", store.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	d.ID, d.Reference = store.NewID(store.PrefixDeposit), "cs_y"
	if _, err := p.db.CreateDeposit(ctx, d); err != store.ErrAccountSuspended {
		t.Errorf("deposit of a suspended account: %v", err)
	}
}

func TestCreditDepositOnce(t *testing.T) {
	p := newPayments(t)
	id := p.deposit(t, 10_000_000)
	// Twenty credits race: one credits, the others find it credited.
	var wg sync.WaitGroup
	var mu sync.Mutex
	credited := 0
	for range 20 {
		wg.Go(func() {
			ok, err := p.db.CreditDeposit(ctx, id, 10_000_000, "paid")
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				credited++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if credited != 1 {
		t.Errorf("%d credits took, want 1", credited)
	}
	if got := p.balance(t); got != 10_000_000 {
		t.Errorf("balance %s, want 10.00", store.FormatMoney(got))
	}
	d, err := p.db.FindDeposit(ctx, id)
	if err != nil || d.Status != store.DepositCredited || d.Credited != 10_000_000 || d.GatewayStatus != "paid" {
		t.Errorf("deposit after credit: %+v, %v", d, err)
	}
	// A credited deposit is closed, parked or credited by hand no more.
	if ok, err := p.db.CloseDeposit(ctx, id, store.DepositExpired, "expired"); ok || err != nil {
		t.Errorf("close a credited deposit: %v %v", ok, err)
	}
	if ok, err := p.db.ParkDeposit(ctx, id, "why", "x"); ok || err != nil {
		t.Errorf("park a credited deposit: %v %v", ok, err)
	}
	if err := p.db.CreditByOperator(ctx, id, 1_000_000, "again"); store.ErrorCode(err) != store.Conflict {
		t.Errorf("operator credit of a credited deposit: %v", err)
	}
	entries, err := p.db.Ledger(ctx, p.alice.ID, "")
	if err != nil || len(entries) != 1 || entries[0].DepositID != id || entries[0].Kind != store.KindDeposit {
		t.Errorf("ledger: %+v, %v; want one deposit row naming %s", entries, err, id)
	}
	if rows, err := p.db.DepositLedger(ctx, id); err != nil || len(rows) != 1 || rows[0].ID != entries[0].ID {
		t.Errorf("deposit's ledger: %+v, %v; want the row %+v", rows, err, entries)
	}
	if _, err := p.db.CreditDeposit(ctx, "dep_01HG9X7KJP4N5Q6R7S8T9V0W1X", 1, "paid"); err != store.ErrDepositNotFound {
		t.Errorf("credit of an unknown deposit: %v", err)
	}
	if _, err := p.db.CreditDeposit(ctx, id, 0, "paid"); store.ErrorCode(err) != store.Invalid {
		t.Errorf("credit of nothing: %v", err)
	}
	storetest.Audit(t, p.db)
}

func TestParkAndCreditByOperator(t *testing.T) {
	p := newPayments(t)
	id := p.deposit(t, 10_000_000)
	other := p.deposit(t, 2_000_000)
	if ok, err := p.db.ParkDeposit(ctx, id, "paid less than asked (wrong_amount)", "wrong_amount"); !ok || err != nil {
		t.Fatalf("park: %v %v", ok, err)
	}
	due, err := p.db.DueDeposits(ctx, 1<<40, nil, 10)
	if err != nil || len(due) != 1 || due[0].ID != other {
		t.Errorf("due deposits: %+v, %v; want only the one not parked", due, err)
	}
	parked, err := p.db.ListDeposits(ctx, store.DepositFilter{Review: true})
	if err != nil || len(parked) != 1 || parked[0].ID != id || parked[0].Review == "" {
		t.Errorf("parked deposits: %+v, %v", parked, err)
	}
	if err := p.db.CreditByOperator(ctx, id, 7_500_000, "customer paid 7.50 of 10.00"); err != nil {
		t.Fatal(err)
	}
	d, _ := p.db.FindDeposit(ctx, id)
	if d.Status != store.DepositCredited || d.Credited != 7_500_000 || d.Review != "" || d.Note != "customer paid 7.50 of 10.00" {
		t.Errorf("after the operator's credit: %+v", d)
	}
	// An expired deposit can be credited by hand too (the customer proved a
	// payment the gateway lost).
	if _, err := p.db.CloseDeposit(ctx, other, store.DepositExpired, "expired"); err != nil {
		t.Fatal(err)
	}
	if err := p.db.CreditByOperator(ctx, other, 2_000_000, "late payment"); err != nil {
		t.Errorf("operator credit of an expired deposit: %v", err)
	}
	if got := p.balance(t); got != 9_500_000 {
		t.Errorf("balance %s, want 9.50", store.FormatMoney(got))
	}
	if err := p.db.CreditByOperator(ctx, other, 0, "x"); store.ErrorCode(err) != store.Invalid {
		t.Errorf("operator credit of 0: %v", err)
	}
	entries, _ := p.db.Ledger(ctx, p.alice.ID, "")
	if len(entries) != 2 || entries[0].Note != "customer paid 7.50 of 10.00" {
		t.Errorf("ledger: %+v", entries)
	}
	storetest.Audit(t, p.db)
}

func TestDepositScheduleAndLists(t *testing.T) {
	p := newPayments(t)
	bob, _ := storetest.Account(t, p.db, "bob", 0)
	a := p.deposit(t, 1_000_000)
	b := p.deposit(t, 2_000_000)
	if ok, err := p.db.DepositChecked(ctx, a, "open", "", 500); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := p.db.DepositChecked(ctx, b, "", "gateway: 503", 100); !ok || err != nil {
		t.Fatal(ok, err)
	}
	due, _ := p.db.DueDeposits(ctx, 200, nil, 10)
	if len(due) != 1 || due[0].ID != b || due[0].LastError != "gateway: 503" || due[0].Attempts != 1 {
		t.Errorf("due at 200: %+v", due)
	}
	if due, _ := p.db.DueDeposits(ctx, 1000, []int64{p.gw.ID}, 10); len(due) != 0 {
		t.Errorf("due with the gateway skipped: %+v", due)
	}
	// A webhook makes a deposit due at once.
	if ok, err := p.db.DepositDue(ctx, a); !ok || err != nil {
		t.Fatal(ok, err)
	}
	d, _ := p.db.FindDeposit(ctx, a)
	if d.NextAt > d.Updated || d.GatewayStatus != "open" {
		t.Errorf("after the hint: %+v", d)
	}
	if _, err := p.db.DepositDue(ctx, "dep_01HG9X7KJP4N5Q6R7S8T9V0W1X"); err != store.ErrDepositNotFound {
		t.Errorf("hint for an unknown deposit: %v", err)
	}
	byRef, err := p.db.DepositByReference(ctx, p.gw.ID, "cs_"+b)
	if err != nil || byRef.ID != b {
		t.Errorf("by reference: %+v, %v", byRef, err)
	}
	if _, err := p.db.DepositByReference(ctx, p.gw.ID, "cs_nope"); err != store.ErrDepositNotFound {
		t.Errorf("unknown reference: %v", err)
	}

	if _, err := p.db.AccountDeposits(ctx, 0, 10); err == nil {
		t.Errorf("deposits of no account: %v", err)
	}
	mine, _ := p.db.AccountDeposits(ctx, p.alice.ID, 10)
	if len(mine) != 2 || mine[0].ID != b {
		t.Errorf("alice's deposits, newest first: %+v", mine)
	}
	if theirs, _ := p.db.AccountDeposits(ctx, bob.ID, 10); len(theirs) != 0 {
		t.Errorf("bob sees %+v", theirs)
	}
	if _, err := p.db.CreditDeposit(ctx, b, 2_000_000, "complete/paid"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f    store.DepositFilter
		want []string
	}{
		{store.DepositFilter{}, []string{b, a}},
		{store.DepositFilter{Status: store.DepositCredited}, []string{b}},
		{store.DepositFilter{AccountID: p.alice.ID, GatewayID: p.gw.ID, Limit: 1}, []string{b}},
		{store.DepositFilter{AccountID: bob.ID}, nil},
	} {
		got, err := p.db.ListDeposits(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("ListDeposits(%+v) = %v, want %v", tt.f, ids, tt.want)
		}
	}
	counts, err := p.db.DepositCounts(ctx)
	want := []store.DepositCount{{"card", "credited", 1, 2_000_000}, {"card", "pending", 1, 0}}
	if err != nil || !slices.Equal(counts, want) {
		t.Errorf("counts %+v, %v; want %+v", counts, err, want)
	}
}

// The audit catches a deposit credited twice, credited without its ledger
// row, or a ledger row crediting a deposit that is not credited.
func TestAuditDeposits(t *testing.T) {
	p := newPayments(t)
	raw := storetest.Raw(t, p.db)
	credited := p.deposit(t, 3_000_000)
	if _, err := p.db.CreditDeposit(ctx, credited, 3_000_000, "paid"); err != nil {
		t.Fatal(err)
	}
	pending := p.deposit(t, 4_000_000)
	storetest.Audit(t, p.db)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO ledger (account_id, kind, amount, balance_after, deposit_id, created_at) VALUES (?, 'deposit', 3000000, 6000000, ?, 0)`,
		p.alice.ID, credited)
	exec(`INSERT INTO ledger (account_id, kind, amount, balance_after, deposit_id, created_at) VALUES (?, 'deposit', 4000000, 10000000, ?, 0)`,
		p.alice.ID, pending)
	exec(`UPDATE accounts SET balance = 10000000 WHERE id = ?`, p.alice.ID)
	vs, err := p.db.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, v := range vs {
		rules = append(rules, v.Rule+" "+v.Subject)
	}
	slices.Sort(rules)
	want := []string{"credited-deposit-credited-once deposit " + credited, "deposit-rows-name-a-credited-deposit user 1 (alice)"}
	if !slices.Equal(rules, want) {
		t.Errorf("violations %q, want %q", rules, want)
	}
}

// A file from before payments upgrades to a panel whose audit holds: its
// credits by funds add are deposit rows that name no deposit, and new
// deposits are credited beside them.
func TestUpgradeKeepsOldDepositRows(t *testing.T) {
	db := storetest.OpenPath(t, versionFile(t, 2))
	entries, err := db.Ledger(ctx, 1, "")
	if err != nil || len(entries) != 2 || entries[0].Kind != store.KindDeposit || entries[0].DepositID != "" {
		t.Fatalf("ledger after the upgrade: %+v, %v", entries, err)
	}
	gw, err := db.AddGateway(ctx, store.Gateway{Name: "btc", Kind: store.GatewayBTCPay, URL: "https://b.test", APIKey: "k",
		StoreID: "s", Min: 1, Max: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	id := store.NewID(store.PrefixDeposit)
	if _, err := db.CreateDeposit(ctx, store.Deposit{ID: id, AccountID: 1, GatewayID: gw.ID, Amount: 2_000_000,
		Currency: "USD", Reference: "inv", CheckoutURL: "https://b.test/i/inv"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.CreditDeposit(ctx, id, 2_000_000, "Settled"); !ok || err != nil {
		t.Fatalf("credit: %v %v", ok, err)
	}
	storetest.Audit(t, db)
}
