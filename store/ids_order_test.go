package store_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

// An order's id leads to it by number; an id made up around a real order's
// number (another time or salt) must not reach that order through any path.
// oneOrder is a database with a cancellable service (1.00 per 1000), an
// account with 10.00 and one pending order of 100 on it.
func oneOrder(t *testing.T) (*store.DB, store.Service, store.Account, string) {
	t.Helper()
	db := storetest.Open(t)
	svc := storetest.Service(t, db, store.Service{Name: "F", Rate: 1_000_000, Min: 10, Max: 1000, Cancel: true})
	a, _ := storetest.Account(t, db, "alice", 10_000_000)
	id, err := db.PlaceOrder(context.Background(), a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "r1",
		Link: "https://x.example/p", Quantity: "100"})
	if err != nil {
		t.Fatal(err)
	}
	return db, svc, a, id
}

func TestOrderIDMadeUpAroundANumberIsNotTheOrder(t *testing.T) {
	db, _, a, id := oneOrder(t)
	ctx := context.Background()
	o, err := db.FindOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if byNumber, err := db.FindOrder(ctx, strconv.FormatInt(o.Number, 10)); err != nil || byNumber.ID != id {
		t.Fatalf("FindOrder(%d) = %s, %v; want %s", o.Number, byNumber.ID, err, id)
	}
	forged := []string{
		store.OrderID(o.Number, time.UnixMilli(o.Created*1000+1), 7),
		store.OrderID(o.Number, time.Now().Add(time.Hour), 7),
	}
	for _, f := range forged {
		if f == id {
			t.Fatalf("forged id %s equals the real one", f)
		}
		if got, err := db.OrderStatuses(ctx, a.ID, []string{f}); err != nil || len(got) != 0 {
			t.Errorf("OrderStatuses(%s) = %v, %v; want nothing", f, got, err)
		}
		if _, err := db.FindOrder(ctx, f); store.ErrorCode(err) != store.NotFound {
			t.Errorf("FindOrder(%s) = %v; want not found", f, err)
		}
		res, err := db.CancelOrders(ctx, store.Customer(a.ID), []string{f})
		if err != nil || len(res) != 1 || store.ErrorCode(res[0].Err) != store.NotFound {
			t.Errorf("CancelOrders(%s) = %+v, %v; want Order not found", f, res, err)
		}
	}
	// The real id, asked together with a forged one, still answers.
	if got, _ := db.OrderStatuses(ctx, a.ID, append(forged, id)); len(got) != 1 || got[id].Status != store.StatusPending {
		t.Errorf("OrderStatuses(real + forged) = %v; want only %s", got, id)
	}
	if o, err := db.FindOrder(ctx, id); err != nil || o.Status != store.StatusPending {
		t.Errorf("the real order after forged cancels: %+v, %v; want it pending", o, err)
	}
}

// Numbers are given in the writer: concurrent adds, some refused and rolled
// back inside a shared transaction, leave numbers 1..n without a gap, each
// carried by its order's id.
func TestOrderNumbersAreDenseUnderGroupCommit(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	svc := storetest.Service(t, db, store.Service{Name: "F", Rate: 1_000_000, Min: 10, Max: 1000})
	rich, _ := storetest.Account(t, db, "rich", 1_000_000_000)
	poor, _ := storetest.Account(t, db, "poor", 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				acct := rich.ID
				if i%3 == 0 {
					acct = poor.ID // refused: no funds
				}
				id, err := db.PlaceOrder(ctx, acct, store.OrderInput{ServiceID: svc.ID, RequestID: fmt.Sprint(g, "-", i),
					Link: "https://x.example/p", Quantity: "100"})
				if acct == poor.ID {
					if err != store.ErrInsufficientBalance {
						t.Errorf("add without funds: %v", err)
					}
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	numbers := make([]int64, len(ids))
	for i, id := range ids {
		o, err := db.FindOrder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		numbers[i] = o.Number
	}
	sort.Slice(numbers, func(i, j int) bool { return numbers[i] < numbers[j] })
	for i, n := range numbers {
		if n != int64(i+1) {
			t.Fatalf("numbers %v...: want 1..%d without a gap", numbers[:min(i+1, len(numbers))], len(numbers))
		}
	}
	commits, writes := db.WriteStats()
	t.Logf("%d writes in %d commits", writes, commits)
}

func TestOrderIDCarriesItsNumber(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, n := range []int64{1, 2, 255, 1 << 32, 1<<40 + 12345, store.MaxOrderNumber} {
		for _, salt := range []uint32{0, 1, 0xdeadbeef, 0xffffffff} {
			id := store.OrderID(n, at, salt)
			if canon, ok := store.ParseID(store.PrefixOrder, id); !ok || canon != id {
				t.Fatalf("OrderID(%d, salt %x) = %q is not a canonical order id", n, salt, id)
			}
			if got, ok := store.OrderNumberIn(id); !ok || got != n {
				t.Errorf("OrderID(%d, salt %x) = %q carries %d", n, salt, id, got)
			}
		}
	}
	// Ids of neighbouring numbers do not share the visible tail of the
	// number: the count of orders is not shown at a glance.
	a, b := store.OrderID(1, at, 1), store.OrderID(2, at, 2)
	if a[14:24] == b[14:24] {
		t.Errorf("ids %s and %s show the same number field", a, b)
	}
}

// An order made before ids carried numbers (a random ULID, as a database
// upgraded from version 1 holds) is still found by its id on every path,
// beside new ones; a database made at version 2 never asks by id.
func TestOrderWithLegacyIDIsFound(t *testing.T) {
	db, svc, a, fresh := oneOrder(t)
	ctx := context.Background()
	var byID []string
	db.SeeQueries(func(q string) {
		if strings.Contains(q, "o.id IN") {
			byID = append(byID, q)
		}
	})
	madeUp := store.OrderID(1, time.Now().Add(time.Hour), 1) // around fresh's number
	if got, _ := db.OrderStatuses(ctx, a.ID, []string{fresh, madeUp}); len(got) != 1 || len(byID) != 0 {
		t.Fatalf("OrderStatuses = %v, asking by id %d times; want fresh only, never by id", got, len(byID))
	}
	legacy := "ord_01HG9X7KJP4N5Q6R7S8T9V0W1X" // carries no number of this database
	raw := storetest.Raw(t, db)
	for _, q := range []string{
		`INSERT INTO settings (name, value) VALUES ('legacy_order_ids', '1')`, // as the upgrade writes it
		`INSERT INTO orders (number, id, account_id, service_id, link, quantity, units, charge, request_id, fingerprint,
		   created_at, updated_at) VALUES (7, '` + legacy + `', ?1, ?2, 'https://x.example/p', 100, 100, 100000, 'old', x'', 1, 1)`,
		`UPDATE accounts SET balance = balance - 100000 WHERE id = ?1`,
		`INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, created_at)
		   SELECT ?1, 'charge', -100000, balance, '` + legacy + `', 1 FROM accounts WHERE id = ?1`,
	} {
		if _, err := raw.Exec(q, a.ID, svc.ID); err != nil {
			t.Fatal(err)
		}
	}
	path := db.Path()
	db.Close()
	db = storetest.OpenPath(t, path)
	got, err := db.OrderStatuses(ctx, a.ID, []string{fresh, strings.ToLower(legacy), madeUp})
	if err != nil || len(got) != 2 || got[legacy].Charge != 100000 || got[fresh].Status != store.StatusPending {
		t.Fatalf("OrderStatuses = %+v, %v; want the new and the legacy order, nothing for a made-up id", got, err)
	}
	if o, err := db.FindOrder(ctx, legacy); err != nil || o.Number != 7 {
		t.Errorf("FindOrder(legacy) = %+v, %v", o, err)
	}
	res, err := db.CancelOrders(ctx, store.Customer(a.ID), []string{legacy})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("CancelOrders(legacy) = %+v, %v", res, err)
	}
	if o, _ := db.FindOrder(ctx, legacy); o.Status != store.StatusCancelled {
		t.Errorf("legacy order after cancel: %s, want cancelled", o.Status)
	}
	storetest.Audit(t, db)
}

// The classic dialect's status reads the account's orders by number; other
// accounts' numbers and unknown ones are absent.
func TestOrderStatusesByNumber(t *testing.T) {
	db, svc, a, _ := oneOrder(t)
	ctx := context.Background()
	b, _ := storetest.Account(t, db, "bob", 10_000_000)
	if _, err := db.PlaceOrder(ctx, b.ID, store.OrderInput{ServiceID: svc.ID, RequestID: "b", Link: "https://x.example/b", Quantity: "100"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.OrderStatusesByNumber(ctx, a.ID, []int64{1, 2, 99})
	if err != nil || len(got) != 1 || got[1].Status != store.StatusPending || got[1].Charge != 100_000 || got[1].Remains != 100 {
		t.Errorf("OrderStatusesByNumber = %+v, %v; want alice's order 1 only", got, err)
	}
	if got, err := db.OrderStatusesByNumber(ctx, a.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("no numbers: %v, %v", got, err)
	}
}
