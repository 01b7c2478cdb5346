package store_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// TestQueryPlansStayFlat runs the API's and the worker's operations once
// and checks the plan of every query they prepare: none may scan the
// orders, ledger, refills, events or deliveries tables, so that a request costs the
// same with ten orders or ten million. The admin's list and audit queries
// are not on these paths.
func TestQueryPlansStayFlat(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	var mu sync.Mutex
	queries := map[string]bool{}
	db.SeeQueries(func(q string) { mu.Lock(); queries[q] = true; mu.Unlock() })

	svc := storetest.Service(t, db, store.Service{Name: "F", Rate: 900_000, Min: 10, Max: 1000, Cancel: true, Refill: true})
	a, key := storetest.Account(t, db, "alice", 100_000_000)
	snap, err := db.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snap.Authenticate(ctx, key); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 4 {
		o, err := snap.PlaceOrder(ctx, a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "r" + string(rune('a'+i)),
			Link: "https://x.example/p", Quantity: "100"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	db.OrderStatuses(ctx, a.ID, ids)
	db.Balance(ctx, a.ID)
	db.CancelOrders(ctx, store.Customer(a.ID), ids[:1])
	jobs, _ := db.DueDispatches(ctx, 1<<40, 10, nil)
	db.DueDispatchesFor(ctx, 1<<40, 10, svc.ProviderID)
	for _, j := range jobs[:2] {
		db.ClaimOrder(ctx, j.OrderID)
		db.DispatchAccepted(ctx, j.OrderID, "u-"+j.OrderID, 0)
	}
	db.CancelOrders(ctx, store.Customer(a.ID), ids[1:2])
	db.DueCancels(ctx, 1<<40, 10, nil)
	db.CancelAccepted(ctx, ids[1])
	db.DueSyncs(ctx, 1<<40, 10, nil)
	db.ApplyStatuses(ctx, []store.StatusUpdate{{OrderID: ids[2], UpstreamStatus: store.UpstreamStatus{Status: store.StatusCompleted, Raw: "Completed"}}}, 0)
	res, _ := db.RequestRefills(ctx, store.Customer(a.ID), ids[2:3])
	db.Refills(ctx, a.ID, []string{res[0].Result})
	db.DueRefills(ctx, 1<<40, 10, nil)
	db.DueDeliveries(ctx, 1<<40, 10, nil)
	db.Gauges(ctx)

	raw := storetest.Raw(t, db)
	if len(queries) < 20 {
		t.Fatalf("only %d queries seen: the hook is not wired", len(queries))
	}
	for q := range queries {
		if strings.HasPrefix(q, "SAVEPOINT") || strings.HasPrefix(q, "RELEASE") || strings.HasPrefix(q, "ROLLBACK") ||
			strings.HasPrefix(q, "BEGIN") || strings.HasPrefix(q, "COMMIT") {
			continue
		}
		// Adding an account, a service or a provider is an admin act; its
		// plan lists the foreign-key scan of child tables that SQLite runs
		// only while a deferred violation is outstanding, which never happens.
		if strings.HasPrefix(q, "INSERT INTO accounts") || strings.HasPrefix(q, "INSERT INTO services") ||
			strings.HasPrefix(q, "INSERT INTO providers") {
			continue
		}
		rows, err := raw.Query("EXPLAIN QUERY PLAN "+q, make([]any, placeholders(q))...)
		if err != nil {
			t.Errorf("explain %s: %v", q, err)
			continue
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		counts := strings.HasPrefix(q, "SELECT count(*)") || strings.HasPrefix(q, "SELECT status, count(*)")
		for _, step := range plan {
			// A listing of the worker's queue must come out of orders_work in
			// order: sorting it reads every due order to return a few.
			if strings.Contains(q, "ORDER BY") && strings.Contains(strings.Join(plan, ";"), "orders_work") &&
				strings.Contains(step, "TEMP B-TREE FOR ORDER BY") {
				t.Errorf("query sorts the due orders:\n%s\nplan: %v", q, plan)
			}
			// An account's index is a scan too: one account may have
			// millions of orders and ledger rows.
			if strings.Contains(step, "orders_request (account_id=?)") || strings.Contains(step, "ledger_account") {
				t.Errorf("query walks an account's rows:\n%s\nplan: %v", q, plan)
			}
			for _, table := range []string{"orders", "ledger", "refills", "cancel_requests", "deliveries", "events"} {
				// "SCAN o" is a whole table, "SCAN o USING INDEX x" a whole
				// index: fine only for the gauges' counts of open rows.
				if f := strings.Fields(step); len(f) >= 2 && f[0] == "SCAN" && (f[1] == table || f[1] == table[:1]) &&
					!(counts && openRows[f[len(f)-1]]) {
					t.Errorf("query scans %s:\n%s\nplan: %v", table, q, plan)
				}
			}
		}
	}
}

// openRows are the partial indexes that hold open work only (orders to
// dispatch or sync, parked orders, open cancels and refills, deliveries to
// make): counting one costs what is open, not what the database holds.
var openRows = map[string]bool{"orders_work": true, "orders_review": true, "cancel_requests_open": true,
	"refills_open": true, "deliveries_due": true}

// placeholders counts the parameters of a query: plain ? and numbered ?N.
func placeholders(q string) int {
	plain, numbered := 0, 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if j == i+1 {
			plain++
		} else if n, _ := strconv.Atoi(q[i+1 : j]); n > numbered {
			numbered = n
		}
	}
	return max(plain, numbered)
}

// TestPagedQueriesReadByIndex checks the storefront's pages: an account's
// orders (every filter), its ledger and a session are read through an
// index in the order they are shown, never by scanning a table or sorting
// every row of the account, so that a page of an account with a hundred
// thousand orders costs what a page of one with ten does.
func TestPagedQueriesReadByIndex(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	svc := storetest.Service(t, db, store.Service{Name: "F", Rate: 900_000, Min: 10, Max: 1000, Cancel: true, Refill: true})
	a, _ := storetest.Account(t, db, "alice", 100_000_000)
	id, err := db.PlaceOrder(ctx, a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "r", Link: "https://x.example/p", Quantity: "100"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	queries := map[string]bool{}
	db.SeeQueries(func(q string) { mu.Lock(); queries[q] = true; mu.Unlock() })
	scope := store.Customer(a.ID)
	for _, f := range []store.OrderFilter{{}, {Status: store.StatusPending}, {Before: 10}, {Search: id}, {Search: "1"}, {Search: "x.example"}} {
		f.Scope, f.Limit = scope, 51
		if _, err := db.ListOrders(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	db.AccountLedger(ctx, a.ID, store.LedgerCursor{}, 51)
	db.AccountLedger(ctx, a.ID, store.LedgerCursor{Before: 5, Order: 5}, 51)
	token, _ := db.CreateSession(ctx, a.ID, false, "", "")
	db.SessionOf(ctx, token)
	raw := storetest.Raw(t, db)
	for q := range queries {
		if !strings.HasPrefix(q, "SELECT") {
			continue
		}
		rows, err := raw.Query("EXPLAIN QUERY PLAN "+q, make([]any, placeholders(q))...)
		if err != nil {
			t.Errorf("explain %s: %v", q, err)
			continue
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			f := strings.Fields(step)
			if strings.Contains(step, "TEMP B-TREE") || len(f) >= 2 && f[0] == "SCAN" && len(f) < 4 {
				t.Errorf("query sorts or scans a table:\n%s\nplan: %v", q, plan)
			}
		}
	}
}
