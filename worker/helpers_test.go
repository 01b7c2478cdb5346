package worker_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/worker"
)

var ctx = context.Background()

// env is a database with a funded account, one service of each type at the
// fake provider, and a worker on the injected clock.
type env struct {
	t     *testing.T
	db    *store.DB
	up    *fakeProvider
	clock *storetest.Clock
	cfg   worker.Config
	w     *worker.Worker
	acct  store.Account
	svc   map[string]store.Service
	links map[string]string // order id → its unique link
	seq   int
	raw   *sql.DB // opened on first use
}

const funds = 1_000_000_000 // 1000.00

func newEnv(t *testing.T, dialect string, tune ...func(*worker.Config)) *env {
	t.Helper()
	db := storetest.Open(t)
	e := &env{t: t, db: db, up: newFakeProvider(t, dialect == store.DialectNotpanel), svc: map[string]store.Service{},
		clock: storetest.NewClock(time.Unix(1_800_000_000, 0)), links: map[string]string{}}
	addProvider(t, db, store.Provider{Name: "upstream", URL: e.up.srv.URL, APIKey: "up-key", Dialect: dialect})
	for i, s := range []store.Service{
		{Name: "Followers", Type: store.TypeDefault, Rate: 900_000, Min: 10, Max: 100_000, Refill: true, Cancel: true, Dripfeed: true},
		{Name: "Package", Type: store.TypePackage, Rate: 5_000_000, Min: 100, Max: 1000, Cancel: true},
		{Name: "Comments", Type: store.TypeComments, Rate: 2_000_000, Min: 1, Max: 100, Cancel: true},
		{Name: "Mentions", Type: store.TypeMentionsList, Rate: 1_500_000, Min: 1, Max: 100},
		{Name: "Comment likes", Type: store.TypeCommentLikes, Rate: 300_000, Min: 10, Max: 1000},
		{Name: "Poll votes", Type: store.TypePoll, Rate: 278_190, Min: 10, Max: 1000, Cancel: true},
	} {
		s.ProviderService = strconv.Itoa(101 + i)
		e.svc[s.Type] = storetest.Service(t, db, s)
	}
	e.acct, _ = storetest.Account(t, db, "alice", funds)
	e.cfg = worker.Config{DB: db, Now: e.clock.Now, Jitter: func() float64 { return 0.5 }, SyncInterval: time.Minute,
		CallTimeout: 5 * time.Second}
	for _, f := range tune {
		f(&e.cfg)
	}
	e.w = worker.New(e.cfg)
	return e
}

func (e *env) tick() { e.w.Tick(ctx) }

// addProvider adds p, with its first upkeep (balance read) far off, so
// that a test's calls to the provider are only those it is about; the
// upkeep tests ask for it.
func addProvider(t *testing.T, db *store.DB, p store.Provider) store.Provider {
	t.Helper()
	p, err := db.AddProvider(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RecordUpkeep(ctx, p.ID, store.Upkeep{Next: 1 << 40, BalanceError: "not read in this test"}); err != nil {
		t.Fatal(err)
	}
	return p
}

// pace sets how many calls at once provider name may have, and how many a
// minute (0: no cap).
func pace(t *testing.T, db *store.DB, name string, concurrency, perMinute int) {
	t.Helper()
	if _, err := db.UpdateProvider(ctx, name, store.ProviderPatch{Concurrency: &concurrency, PerMinute: &perMinute}); err != nil {
		t.Fatal(err)
	}
}

// place places an order of type typ (Default when ""), quantity q, with a
// link of its own; more sets the type's other fields.
func (e *env) place(typ string, q int64, more ...func(*store.OrderInput)) string {
	e.t.Helper()
	if typ == "" {
		typ = store.TypeDefault
	}
	e.seq++
	in := store.OrderInput{ServiceID: e.svc[typ].ID, RequestID: fmt.Sprintf("req-%d", e.seq),
		Link: fmt.Sprintf("https://instagram.com/p/o%d", e.seq), Quantity: strconv.FormatInt(q, 10)}
	switch typ {
	case store.TypePoll:
		in.AnswerNumber = "1"
	case store.TypeCommentLikes:
		in.Username = "ann"
	}
	for _, f := range more {
		f(&in)
	}
	id, err := e.db.PlaceOrder(ctx, e.acct.ID, in)
	if err != nil {
		e.t.Fatalf("PlaceOrder: %v", err)
	}
	e.links[id] = in.Link
	return id
}

func (e *env) get(id string) store.Order {
	e.t.Helper()
	o, err := e.db.FindOrder(ctx, id)
	if err != nil {
		e.t.Fatalf("FindOrder(%s): %v", id, err)
	}
	return o
}

// refunds sums an order's refund rows and counts them.
func (e *env) refunds(id string) (total int64, rows int) {
	e.t.Helper()
	ls, err := e.db.Ledger(ctx, 0, id)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, l := range ls {
		if l.Kind == store.KindRefund {
			total += l.Amount
			rows++
		}
	}
	return total, rows
}

// check asserts the money invariants and that every order is somewhere the
// operator can see: ended, with its provider under an id, or parked with a
// reason.
func (e *env) check() {
	e.t.Helper()
	storetest.Audit(e.t, e.db)
	checkVisible(e.t, e.db)
}

func checkVisible(t *testing.T, db *store.DB) {
	t.Helper()
	orders, err := db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator, Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		switch {
		case store.Terminal(o.Status):
		case (o.Status == store.StatusProcessing || o.Status == store.StatusInProgress) && o.UpstreamID != "":
		case o.Status == store.StatusPending && o.Review != "":
		default:
			t.Errorf("order %s is %s (claimed %v, upstream %q, review %q, reason %q): not visible to the operator",
				o.ID, o.Status, o.Claimed, o.UpstreamID, o.Review, o.Reason)
		}
	}
}

// want fails unless order id is in status.
func (e *env) want(id, status string) store.Order {
	e.t.Helper()
	o := e.get(id)
	if o.Status != status {
		e.t.Fatalf("order %s is %s (review %q, reason %q), want %s", id, o.Status, o.Review, o.Reason, status)
	}
	return o
}
