package bench

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"notpanel/store"
)

// Scratch describes a seeded scratch database.
type Scratch struct {
	Keys []string // one API key per account; account i+1 has Keys[i]
	// Sessions are signed-in storefront sessions, one per account, as
	// Keys: the cookie's token.
	Sessions []string
	Orders   int // preloaded orders
	Accounts int
}

// seedEpoch is the time of the first preloaded order.
var seedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// OrderID is the id of preloaded order i (0-based). Order i belongs to
// account i%accounts + 1. Ids are derived, not stored, so that a run over
// millions of orders needs no list of them. Its number is i+1.
func OrderID(i int) string {
	return store.OrderID(int64(i+1), seedEpoch.Add(time.Duration(i)*time.Millisecond), uint32(i)*2654435761)
}

// Seed fills a fresh database with a catalog of services, accounts with
// keys and ample funds, and orders in progress spread over the accounts.
// Orders go in through one bulk transaction with their charge rows, so the
// ledger stays exact while millions of rows take a minute, not an hour.
func Seed(ctx context.Context, db *store.DB, accounts, services, orders int) (Scratch, error) {
	s := Scratch{Orders: orders, Accounts: accounts}
	if _, err := db.AddProvider(ctx, store.Provider{Name: "bench-upstream", URL: "http://127.0.0.1:9/api/v2",
		APIKey: "none"}); err != nil {
		return s, err
	}
	for i := range services {
		if _, err := db.AddService(ctx, store.Service{Name: fmt.Sprintf("Instagram Followers #%d", i+1),
			Category: "Instagram", Type: store.TypeDefault, Rate: 900_000, Min: 10, Max: 1_000_000, Refill: true,
			Cancel: true, ProviderService: fmt.Sprint(i + 1)}, "bench-upstream"); err != nil {
			return s, err
		}
	}
	const funds = 1_000_000 * store.MicrosPerUnit
	if err := db.SetTier(ctx, store.Tier{Name: "bench", KeyPerMin: 1e9, AccountPerMin: 1e9}); err != nil {
		return s, err
	}
	for i := range accounts {
		name := fmt.Sprintf("bench%04d", i+1)
		if _, err := db.CreateAccount(ctx, name, "bench"); err != nil {
			return s, err
		}
		if _, err := db.AddFunds(ctx, name, funds, "bench funds"); err != nil {
			return s, err
		}
		key, _, err := db.CreateKey(ctx, name)
		if err != nil {
			return s, err
		}
		s.Keys = append(s.Keys, key)
		session, err := db.CreateSession(ctx, int64(i+1), false, "127.0.0.1", "notpanel bench")
		if err != nil {
			return s, err
		}
		s.Sessions = append(s.Sessions, session)
	}
	if orders == 0 {
		return s, nil
	}
	// A scratch database loaded in one transaction: a big page cache keeps
	// the random index inserts from spilling the same pages to the WAL over
	// and over, and nothing needs to survive a power cut.
	raw, err := sql.Open("sqlite", "file:"+db.Path()+
		"?_pragma=busy_timeout(10000)&_pragma=cache_size(-2000000)&_pragma=synchronous(OFF)&_txlock=immediate")
	if err != nil {
		return s, err
	}
	defer raw.Close()
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return s, err
	}
	defer tx.Rollback()
	insOrder, err := tx.PrepareContext(ctx, `INSERT INTO orders (number, id, account_id, service_id, link, quantity, units,
		charge, status, claimed_at, upstream_id, start_count, remains, next_at, request_id, fingerprint, created_at,
		updated_at)
		VALUES (?, ?, ?, 1, 'https://instagram.com/p/bench', 1000, 1000, 900000, 'in_progress', ?, ?, 100, 500, ?, ?, x'', ?, ?)`)
	if err != nil {
		return s, err
	}
	insLedger, err := tx.PrepareContext(ctx, `INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, created_at)
		VALUES (?, 'charge', -900000, ?, ?, ?)`)
	if err != nil {
		return s, err
	}
	balance := make([]int64, accounts)
	for i := range balance {
		balance[i] = funds
	}
	far := time.Now().Add(365 * 24 * time.Hour).Unix() // the worker has nothing to ask about them during a run
	for i := range orders {
		a := i % accounts
		if balance[a] < 900_000 {
			return s, fmt.Errorf("account %d runs out of funds at order %d: seed fewer orders or more accounts", a+1, i)
		}
		balance[a] -= 900_000
		now := seedEpoch.Add(time.Duration(i) * time.Millisecond).Unix()
		id := OrderID(i)
		if _, err := insOrder.ExecContext(ctx, i+1, id, a+1, now, fmt.Sprint(i+1), far, "seed-"+id, now, now); err != nil {
			return s, err
		}
		if _, err := insLedger.ExecContext(ctx, a+1, balance[a], id, now); err != nil {
			return s, err
		}
	}
	for a, b := range balance {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = ? WHERE id = ?`, b, a+1); err != nil {
			return s, err
		}
	}
	if err := tx.Commit(); err != nil {
		return s, err
	}
	_, err = raw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return s, err
}
