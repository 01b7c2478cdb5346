package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

var ctx = context.Background()

// fixture is a database with one service of every type and a funded account.
type fixture struct {
	db   *store.DB
	raw  *sql.DB
	acct store.Account
	svc  map[string]store.Service // by type, plus "NoCancel", "NoRefill", "Free"
}

// Rates are micro-units per 1000 units.
func newFixture(t *testing.T, balance int64) *fixture {
	t.Helper()
	db := storetest.Open(t)
	f := &fixture{db: db, raw: storetest.Raw(t, db), svc: map[string]store.Service{}}
	for _, s := range []store.Service{
		{Name: "Followers", Type: store.TypeDefault, Rate: 900_000, Min: 50, Max: 10_000, Refill: true, Cancel: true, Dripfeed: true},
		{Name: "Package", Type: store.TypePackage, Rate: 5_000_000, Min: 100, Max: 1000, Cancel: true},
		{Name: "Comments", Type: store.TypeComments, Rate: 2_000_000, Min: 1, Max: 100, Cancel: true},
		{Name: "Mentions", Type: store.TypeMentionsList, Rate: 1_500_000, Min: 2, Max: 100, Cancel: true},
		{Name: "Comment likes", Type: store.TypeCommentLikes, Rate: 300_000, Min: 10, Max: 1000, Cancel: true},
		{Name: "Poll votes", Type: store.TypePoll, Rate: 278_190, Min: 10, Max: 1000, Cancel: true},
	} {
		f.svc[s.Type] = storetest.Service(t, db, s)
	}
	f.svc["NoCancel"] = storetest.Service(t, db, store.Service{Name: "Likes", Rate: 1_000_000, Min: 10, Max: 1000, Refill: true})
	f.svc["NoRefill"] = storetest.Service(t, db, store.Service{Name: "Views", Rate: 10_000, Min: 100, Max: 100_000, Cancel: true})
	f.svc["Free"] = storetest.Service(t, db, store.Service{Name: "Free views", Rate: 0, Min: 1, Max: 1000, Cancel: true, Refill: true})
	f.acct, _ = storetest.Account(t, db, "alice", balance)
	return f
}

var requestSeq atomic.Int64

// add places a Default order of quantity q on service svc for acct and
// fails the test on error.
func (f *fixture) add(t *testing.T, acct int64, svc string, q int64) string {
	t.Helper()
	id, err := f.db.PlaceOrder(ctx, acct, store.OrderInput{
		ServiceID: f.svc[svc].ID, RequestID: fmt.Sprintf("req-%d", requestSeq.Add(1)),
		Link: "https://instagram.com/p/abc", Quantity: fmt.Sprint(q),
	})
	if err != nil {
		t.Fatalf("PlaceOrder(%s, %d): %v", svc, q, err)
	}
	return id
}

// exec runs raw SQL that must succeed.
func (f *fixture) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := f.raw.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// setStatus moves an order to status the way the worker would, without
// money (use rawRefund for that).
func (f *fixture) setStatus(t *testing.T, id, status string) {
	t.Helper()
	f.exec(t, `UPDATE orders SET status = ? WHERE id = ?`, status, id)
}

// rawRefund credits an order's account amount with a refund ledger row, as
// the worker does when an order ends partial or failed.
func (f *fixture) rawRefund(t *testing.T, id string, amount int64) {
	t.Helper()
	tx, err := f.raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var acct, balance int64
	if err := tx.QueryRowContext(ctx,
		`UPDATE accounts SET balance = balance + ? WHERE id = (SELECT account_id FROM orders WHERE id = ?) RETURNING id, balance`,
		amount, id).Scan(&acct, &balance); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, created_at) VALUES (?, 'refund', ?, ?, ?, 0)`,
		acct, amount, balance, id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) order(t *testing.T, id string) store.Order {
	t.Helper()
	o, err := f.db.FindOrder(ctx, id)
	if err != nil {
		t.Fatalf("FindOrder(%s): %v", id, err)
	}
	return o
}

func (f *fixture) balance(t *testing.T, acct int64) int64 {
	t.Helper()
	b, err := f.db.Balance(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.raw.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkLedger verifies that the account's ledger is a consistent chain: each
// row's balance_after is the previous one plus its amount, and the last one
// is the balance. It returns the rows.
func (f *fixture) checkLedger(t *testing.T, acct int64) []store.LedgerEntry {
	t.Helper()
	rows, err := f.db.Ledger(ctx, acct, "")
	if err != nil {
		t.Fatal(err)
	}
	var running int64
	for _, r := range rows {
		running += r.Amount
		if r.BalanceAfter != running {
			t.Errorf("ledger row %d (%s %d): balance_after %d, want %d", r.ID, r.Kind, r.Amount, r.BalanceAfter, running)
		}
	}
	if got := f.balance(t, acct); got != running {
		t.Errorf("balance %d, ledger sums to %d", got, running)
	}
	return rows
}

// wantErr fails unless err carries message msg and code.
func wantErr(t *testing.T, err error, code store.Code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s %q", code, msg)
	}
	if got := store.ErrorMessage(err); got != msg {
		t.Errorf("message = %q, want %q (err %v)", got, msg, err)
	}
	if got := store.ErrorCode(err); got != code {
		t.Errorf("code = %s, want %s", got, code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// clocked opens a fresh database whose clock the test moves.
func clocked(t *testing.T) (*store.DB, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(time.Unix(1_800_000_000, 0))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "notpanel.db"), store.Options{Schema: storetest.Schema(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, clock
}

// signUp makes a customer who signs in with password, failing the test on
// error.
func signUp(t *testing.T, db *store.DB, name, password string) store.Account {
	t.Helper()
	a, err := db.SignUp(ctx, name, password, "", false)
	if err != nil {
		t.Fatalf("SignUp(%s): %v", name, err)
	}
	return a
}

// session signs a browser in for the account, failing the test on error.
func session(t *testing.T, db *store.DB, accountID int64) string {
	t.Helper()
	token, err := db.CreateSession(ctx, accountID, false, "192.0.2.1", "test browser")
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return token
}

// live reports whether a session token still signs its browser in.
func live(t *testing.T, db *store.DB, token string) bool {
	t.Helper()
	_, err := db.SessionOf(ctx, token)
	if err != nil && !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("SessionOf: %v", err)
	}
	return err == nil
}
