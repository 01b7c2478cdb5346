package worker_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/worker"
)

var (
	chaosSeed   = flag.Uint64("chaos.seed", 20_260_517, "seed of TestChaos's misbehaving providers (a failure logs it)")
	chaosOrders = flag.Int("chaos.orders", 0, "how many orders TestChaos places (0: 10,000, or 2,000 under the race detector)")
)

// Answers of providers in trouble.
var (
	serverErrors = []struct {
		status int
		body   string
	}{
		{500, `{"error":"Internal Server Error"}`},
		{502, "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"},
		{503, ""},
	}
	garbage = []string{
		"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>",
		`{"order": 12`,
		`{"status":"Completed",}`,
		"Warning: mysqli_connect(): Too many connections in /var/www/api.php on line 3",
		"\x00\x1f\x8b\x08",
	}
	temporaryTexts    = []string{"Not enough funds on balance", "Too many requests, try again later", "Service is under maintenance"}
	permanentTexts    = []string{"Incorrect service ID", "Incorrect link", "Quantity less than minimal 10"}
	unrecognizedTexts = []string{"Something went wrong", "Ошибка сервера", "null"}
	callErrors        = []string{"Service is under maintenance", "Too many requests, try again later", "Incorrect request"}
	unknownStatuses   = []string{"Awaiting moderation", "Processing (queue 3)", "", "⏳"}
)

// state is a provider order's status text and remains at one moment.
type state struct {
	status  string
	remains int64
}

func (s state) ended() bool {
	switch s.status {
	case "Completed", "Partial", "Canceled", "Refunded":
		return true
	}
	return false
}

// chaosProvider is a fakeProvider whose every answer is drawn at random: the
// right one, no answer at all, 5xx, an error with HTTP 200 (temporary,
// permanent or unheard of), garbage, 10 MB, and for statuses stale,
// backwards, unknown and malformed rows. Its orders move on whenever they
// are asked about, whatever it answers. It lies in every way but one: it
// never reports an end its order did not reach, so that what the panel
// ends with can be checked against what the provider did.
//
// Each draw comes from its own generator, seeded with the test's seed, what
// it is about (our order's link) and how often that was drawn before, so
// that a seed replays the same misbehaviour order by order whatever order
// the worker's concurrent calls arrive in.
//
// Once calm, it answers everything right and ends each order when first
// asked about it.
type chaosProvider struct {
	*fakeProvider
	dialect string
	seed    uint64
	huge    string // a 10 MB answer
	calm    atomic.Bool

	// Guarded by fakeProvider.mu.
	draws   map[string]uint64
	byLink  map[string][]string // link → ids of the orders taken for it
	history map[string][]state  // order id → the states it went through
	dupAdds []string            // links added again although an order for them was held (classic)
	faults  map[string]int      // misbehaviour by kind
}

func newChaosProvider(t *testing.T, dialect string, seed uint64, huge string) *chaosProvider {
	c := &chaosProvider{fakeProvider: newFakeProvider(t, dialect == notpanel), dialect: dialect, seed: seed, huge: huge,
		draws: map[string]uint64{}, byLink: map[string][]string{}, history: map[string][]state{}, faults: map[string]int{}}
	c.setAlways("add", c.add)
	c.setAlways("status", c.status)
	c.setAlways("cancel", c.cancel)
	return c
}

// draw returns the generator for the next draw about key. c.mu is held.
func (c *chaosProvider) draw(key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	n := c.draws[key]
	c.draws[key]++
	return rand.New(rand.NewPCG(c.seed, h.Sum64()+n*0x9e3779b97f4a7c15))
}

// fault counts one misbehaviour of kind. c.mu is held.
func (c *chaosProvider) fault(kind string) { c.faults[kind]++ }

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// broken is one of the answers of a provider in trouble that are not an
// error it wrote: 5xx, garbage or 10 MB. c.mu is held.
func (c *chaosProvider) broken(action string, r *rand.Rand) (int, string) {
	switch x := r.IntN(10); {
	case x < 5:
		e := pick(r, serverErrors)
		c.fault(fmt.Sprintf("%s: HTTP %d", action, e.status))
		return e.status, e.body
	case x < 9:
		c.fault(action + ": garbage")
		return 200, pick(r, garbage)
	default:
		c.fault(action + ": 10 MB")
		return 200, c.huge
	}
}

// take accepts an add as a well-behaved provider does.
func (c *chaosProvider) take(f url.Values) (int, string) {
	status, body := c.defaults(f)
	var out struct {
		Order json.Number `json:"order"`
	}
	if json.Unmarshal([]byte(body), &out) == nil && out.Order != "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		link, id := f.Get("link"), out.Order.String()
		if ids := c.byLink[link]; !slices.Contains(ids, id) {
			c.byLink[link] = append(ids, id)
			q, _ := strconv.ParseInt(f.Get("quantity"), 10, 64)
			c.history[id] = []state{{"Pending", q}}
		}
	}
	return status, body
}

func (c *chaosProvider) add(f url.Values) (int, string) {
	link := f.Get("link")
	c.mu.Lock()
	held := len(c.byLink[link]) > 0
	if held && !c.notpanel {
		c.dupAdds = append(c.dupAdds, link)
	}
	r := c.draw("add " + link)
	// What the provider does: take the order or not, and answer status with
	// body, or with its usual answer when usual.
	take, usual, status, body := true, true, 200, ""
	withError := false
	if !c.calm.Load() {
		switch x := r.IntN(100); {
		case x < 50:
		case x < 54:
			c.fault("add: no answer")
			take, usual, status = false, false, 0
		case x < 58:
			c.fault("add: taken, no answer")
			usual, status = false, 0
		case x < 64:
			usual = false
			status, body = c.broken("add", r)
			take = status == 200 && r.IntN(2) == 0 // garbage or 10 MB: it may have taken the order
		case x < 72:
			c.fault("add: temporary error")
			take, usual, body = false, false, jsonOf(map[string]string{"error": pick(r, temporaryTexts)})
		case x < 75 && !held: // a notpanel provider holding the order finds it by request_id
			c.fault("add: permanent error")
			take, usual, body = false, false, jsonOf(map[string]string{"error": pick(r, permanentTexts)})
		case x < 78:
			c.fault("add: unrecognized error")
			take, usual, body = false, false, jsonOf(map[string]string{"error": pick(r, unrecognizedTexts)})
		case x < 80:
			c.fault("add: HTTP 504")
			usual, status, body = false, 504, "<html>Gateway Timeout</html>"
			take = r.IntN(2) == 0
		case x < 82:
			c.fault("add: answer without an id")
			take, usual, body = false, false, pick(r, []string{`{"order":0}`, `{"status":"ok"}`, `[]`})
		case x < 85:
			c.fault("add: id with an error")
			withError = true
		}
	}
	c.mu.Unlock()
	if take {
		_, answer := c.take(f)
		if withError {
			answer = strings.TrimSuffix(answer, "}") + `,"error":"Order is being processed"}`
		}
		if usual {
			body = answer
		}
	}
	return status, body
}

func remainsOf(o *upOrder) int64 {
	n, _ := strconv.ParseInt(o.remains, 10, 64)
	return n
}

// move sets the truth of o. c.mu is held.
func (c *chaosProvider) move(o *upOrder, s state) {
	o.status, o.remains = s.status, strconv.FormatInt(s.remains, 10)
	c.history[o.id] = append(c.history[o.id], s)
}

// progress delivers a little more of o, maybe to its end. c.mu is held.
func (c *chaosProvider) progress(o *upOrder) {
	now := state{o.status, remainsOf(o)}
	if now.ended() {
		return
	}
	r := c.draw("progress " + o.link)
	switch {
	case c.calm.Load() || o.status == "In progress" && r.IntN(2) == 0:
		c.finish(o, r)
	case r.IntN(100) < 40 && o.quantity > 1:
		c.move(o, state{"In progress", max(1, min(now.remains, o.quantity-1)-r.Int64N(max(now.remains/2, 1)))})
	}
}

// finish ends o the way orders end. c.mu is held.
func (c *chaosProvider) finish(o *upOrder, r *rand.Rand) {
	switch x := r.IntN(100); {
	case x < 75 || o.quantity < 2:
		c.move(o, state{"Completed", 0})
	case x < 87:
		c.move(o, state{"Partial", 1 + r.Int64N(max(min(remainsOf(o), o.quantity-1), 1))})
	case x < 95:
		c.move(o, state{"Canceled", o.quantity})
	default:
		c.move(o, state{"Refunded", o.quantity})
	}
}

func statusRow(s state, remains any) json.RawMessage {
	return json.RawMessage(jsonOf(map[string]any{"status": s.status, "start_count": "157", "remains": remains,
		"charge": "0.1", "currency": "USD"}))
}

// row is what the provider says about o, or nothing. c.mu is held.
func (c *chaosProvider) row(o *upOrder) (json.RawMessage, bool) {
	now := state{o.status, remainsOf(o)}
	truth := statusRow(now, strconv.FormatInt(now.remains, 10))
	if c.calm.Load() {
		return truth, true
	}
	r := c.draw("row " + o.link)
	switch x := r.IntN(100); {
	case x < 60:
		return truth, true
	case x < 68:
		c.fault("status row: stale")
		s := pick(r, c.history[o.id])
		return statusRow(s, strconv.FormatInt(s.remains, 10)), true
	case x < 75:
		// Completed, then In progress again; remains going up.
		c.fault("status row: backwards")
		if now.remains >= o.quantity {
			return statusRow(state{"Pending", o.quantity}, strconv.FormatInt(o.quantity, 10)), true
		}
		back := now.remains + 1 + r.Int64N(o.quantity-now.remains)
		return statusRow(state{"In progress", back}, strconv.FormatInt(back, 10)), true
	case x < 78:
		c.fault("status row: unknown status")
		return statusRow(state{pick(r, unknownStatuses), now.remains}, strconv.FormatInt(now.remains, 10)), true
	case x < 82:
		c.fault("status row: error")
		return json.RawMessage(`{"error":"Incorrect order ID"}`), true
	case x < 85:
		c.fault("status row: missing")
		return nil, false
	case x < 87:
		c.fault("status row: malformed")
		return json.RawMessage(pick(r, []string{`"Completed"`, `[1,2]`, `{"status":{"text":"Completed"},"remains":true}`})), true
	case x < 89:
		c.fault("status row: partial without remains")
		return json.RawMessage(`{"status":"Partial","start_count":"157"}`), true
	case x < 94:
		c.fault("status row: numbers as numbers")
		return statusRow(now, pick(r, []any{now.remains, float64(now.remains), strconv.FormatInt(now.remains, 10) + ".0"})), true
	}
	return truth, true
}

// drawFor is the generator of a batch call, named by its first order's
// link (its id when the provider does not know it).
func (c *chaosProvider) drawFor(action string, ids []string) *rand.Rand {
	first := ids[0]
	if o := c.orders[first]; o != nil {
		first = o.link
	}
	return c.draw(action + " " + first)
}

func (c *chaosProvider) status(f url.Values) (int, string) {
	ids := strings.Split(f.Get("orders"), ",")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids { // the provider works whether or not its answer gets through
		if o := c.orders[id]; o != nil {
			c.progress(o)
		}
	}
	if !c.calm.Load() {
		r := c.drawFor("status", ids)
		switch x := r.IntN(100); {
		case x < 5:
			c.fault("status: no answer")
			return 0, ""
		case x < 15:
			return c.broken("status", r)
		case x < 18:
			c.fault("status: error")
			return 200, jsonOf(map[string]string{"error": pick(r, callErrors)})
		case x < 20:
			c.fault("status: not an object")
			return 200, pick(r, []string{`["Completed"]`, `null`, `"ok"`})
		case x < 22 && len(ids) == 1:
			if o := c.orders[ids[0]]; o != nil {
				if row, ok := c.row(o); ok {
					c.fault("status: one row unkeyed")
					return 200, string(row)
				}
			}
		}
	}
	rows := map[string]json.RawMessage{}
	for _, id := range ids {
		o := c.orders[id]
		if o == nil {
			rows[id] = json.RawMessage(`{"error":"Incorrect order ID"}`)
		} else if row, ok := c.row(o); ok {
			rows[id] = row
		}
	}
	return 200, jsonOf(rows)
}

// cancelRows cancels what it can of ids, answering each as a classic
// panel does; chaos leaves some rows out or refuses them. c.mu is held.
func (c *chaosProvider) cancelRows(ids []string) string {
	var rows []map[string]any
	for _, id := range ids {
		o := c.orders[id]
		if o != nil && !c.calm.Load() {
			r := c.draw("cancel row " + o.link)
			switch x := r.IntN(10); {
			case x < 1:
				c.fault("cancel row: missing")
				continue
			case x < 2:
				c.fault("cancel row: refused")
				rows = append(rows, map[string]any{"order": num(id), "cancel": map[string]string{"error": "Cancel is not available for this order"}})
				continue
			}
		}
		if o == nil || (state{o.status, 0}).ended() {
			rows = append(rows, map[string]any{"order": num(id), "cancel": map[string]string{"error": "Incorrect order ID"}})
			continue
		}
		c.move(o, state{"Canceled", o.quantity})
		rows = append(rows, map[string]any{"order": num(id), "cancel": 1})
	}
	return jsonOf(rows)
}

func (c *chaosProvider) cancel(f url.Values) (int, string) {
	ids := strings.Split(f.Get("orders"), ",")
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.calm.Load() {
		r := c.drawFor("cancel", ids)
		switch x := r.IntN(100); {
		case x < 8:
			c.fault("cancel: no answer")
			return 0, ""
		case x < 13:
			c.fault("cancel: done, no answer")
			c.cancelRows(ids)
			return 0, ""
		case x < 25:
			return c.broken("cancel", r)
		case x < 30:
			c.fault("cancel: error")
			return 200, jsonOf(map[string]string{"error": pick(r, callErrors)})
		}
	}
	return 200, c.cancelRows(ids)
}

// truth is the state of the provider's order id, and whether it has it.
func (c *chaosProvider) truth(id string) (state, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orders[id]
	if !ok {
		return state{}, false
	}
	return state{o.status, remainsOf(o)}, true
}

// held is the ids of the orders the provider took for link.
func (c *chaosProvider) held(link string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.byLink[link])
}

// errorLog keeps what the worker logs at level error.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *errorLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(bytes.TrimSpace(p)))
	return len(p), nil
}

// chaosOrder is one order the customers placed.
type chaosOrder struct {
	id, link string
	acct     int64
	up       *chaosProvider
}

// outcome is what an ended order looked like at a checkpoint.
type outcome struct {
	status             string
	remains            int64
	refund, refundRows int64
}

// chaos is TestChaos's shop: two misbehaving providers (classic and
// notpanel), three services, eight customers and their orders.
type chaos struct {
	t      *testing.T
	db     *store.DB
	clock  *storetest.Clock
	cfg    worker.Config
	ups    []*chaosProvider
	svcs   []store.Service
	owner  map[int64]*chaosProvider // service id → provider
	accts  []store.Account
	orders map[string]chaosOrder
	ids    []string           // in the order placed
	ended  map[string]outcome // by order id
	log    *errorLog

	mu    sync.Mutex
	calls map[string]int // provider/call/outcome, as the worker observed them
}

func newChaos(t *testing.T, seed uint64) *chaos {
	db := storetest.Open(t)
	huge := `{"order":` + strings.Repeat(" ", 10<<20) + `1}` // a good answer, were it not 10 MB
	c := &chaos{t: t, db: db, clock: storetest.NewClock(time.Unix(1_800_000_000, 0)), owner: map[int64]*chaosProvider{},
		orders: map[string]chaosOrder{}, ended: map[string]outcome{}, log: &errorLog{}, calls: map[string]int{}}
	for i, dialect := range []string{classic, notpanel} {
		up := newChaosProvider(t, dialect, seed+uint64(i), huge)
		name := "up-" + dialect
		if _, err := db.AddProvider(ctx, store.Provider{Name: name, URL: up.srv.URL, APIKey: "up-key", Dialect: dialect}); err != nil {
			t.Fatal(err)
		}
		pace(t, db, name, 32, 0)
		c.ups = append(c.ups, up)
		services := []store.Service{{Name: "Followers " + dialect, Type: store.TypeDefault, Rate: 900_000 + int64(i)*334_567, Min: 10, Max: 100_000, Cancel: true}}
		if dialect == classic {
			services = append(services, store.Service{Name: "Poll votes", Type: store.TypePoll, Rate: 278_190, Min: 10, Max: 1000, Cancel: true})
		}
		for j, s := range services {
			s.ProviderService, s.Category = strconv.Itoa(101+j), "Instagram"
			svc, err := db.AddService(ctx, s, name)
			if err != nil {
				t.Fatal(err)
			}
			c.svcs = append(c.svcs, svc)
			c.owner[svc.ID] = up
		}
	}
	for i := range 8 {
		a, _ := storetest.Account(t, db, fmt.Sprintf("customer%d", i), 10_000*store.MicrosPerUnit)
		c.accts = append(c.accts, a)
	}
	c.cfg = worker.Config{DB: db, Log: zerolog.New(c.log).Level(zerolog.ErrorLevel), Now: c.clock.Now,
		Jitter: func() float64 { return 0.5 }, SyncInterval: time.Minute,
		CallTimeout: 100 * time.Millisecond, MaxAttempts: 5, Observe: c.observe}
	return c
}

func (c *chaos) observe(provider, call, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[provider+" "+call+" "+outcome]++
}

// place places orders first to first+n-1, drawn from r, sixteen customers'
// requests at a time.
func (c *chaos) place(r *rand.Rand, first, n int) {
	type plan struct {
		acct int64
		in   store.OrderInput
	}
	plans := make([]plan, n)
	for i := range plans {
		seq := first + i
		svc := c.svcs[r.IntN(len(c.svcs))]
		in := store.OrderInput{ServiceID: svc.ID, RequestID: fmt.Sprintf("req-%d", seq),
			Link: fmt.Sprintf("https://instagram.com/p/chaos%d", seq), Quantity: strconv.Itoa(10 + r.IntN(991))}
		if svc.Type == store.TypePoll {
			in.AnswerNumber = "1"
		}
		plans[i] = plan{c.accts[seq%len(c.accts)].ID, in}
	}
	ids := make([]string, n)
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for g := range errs {
		wg.Go(func() {
			for i := g; i < n && errs[g] == nil; i += len(errs) {
				ids[i], errs[g] = c.db.PlaceOrder(ctx, plans[i].acct, plans[i].in)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.t.Fatalf("PlaceOrder: %v", err)
	}
	for i, id := range ids {
		c.orders[id] = chaosOrder{id: id, acct: plans[i].acct, link: plans[i].in.Link, up: c.owner[plans[i].in.ServiceID]}
		c.ids = append(c.ids, id)
	}
}

// cancelSome has customers cancel n orders drawn from r, whatever their
// state.
func (c *chaos) cancelSome(r *rand.Rand, n int) {
	byAcct := map[int64][]string{}
	for range n {
		id := c.ids[r.IntN(len(c.ids))]
		byAcct[c.orders[id].acct] = append(byAcct[c.orders[id].acct], id)
	}
	for _, acct := range slices.Sorted(maps.Keys(byAcct)) {
		if _, err := c.db.CancelOrders(ctx, store.Customer(acct), byAcct[acct]); err != nil {
			c.t.Fatalf("CancelOrders: %v", err)
		}
	}
}

// settled reports whether nothing is left for the worker to do without the
// operator: every order has ended or is parked.
func (c *chaos) settled() bool {
	g, err := c.db.Gauges(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	return g.OpenOrders[store.StatusProcessing]+g.OpenOrders[store.StatusInProgress] == 0 &&
		g.OpenOrders[store.StatusPending] == g.Parked
}

// run lets w work until the shop settles or bound passes have run, the
// clock moving step after each; it returns the passes run.
func (c *chaos) run(w *worker.Worker, bound int, step time.Duration) int {
	for pass := 1; pass <= bound; pass++ {
		w.Tick(ctx)
		c.clock.Advance(step)
		if c.settled() {
			return pass
		}
	}
	return bound
}

// orderList reads every order with the sum and count of its refunds.
func (c *chaos) orderList() ([]store.Order, map[string][2]int64) {
	orders, err := c.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator, Limit: len(c.ids) + 1})
	if err != nil {
		c.t.Fatal(err)
	}
	refunds := map[string][2]int64{}
	for _, a := range c.accts {
		ls, err := c.db.Ledger(ctx, a.ID, "")
		if err != nil {
			c.t.Fatal(err)
		}
		for _, l := range ls {
			if l.Kind == store.KindRefund {
				r := refunds[l.OrderID]
				refunds[l.OrderID] = [2]int64{r[0] + l.Amount, r[1] + 1}
			}
		}
	}
	return orders, refunds
}

// checkpoint checks, between two passes, the money invariants; that an
// ended order never changes again (no refund taken back or paid twice,
// whatever the provider says later); and that no order is stuck where
// nobody looks: each one has ended, is being asked about under its
// provider's id, is due to be sent (again), or is parked with a reason.
func (c *chaos) checkpoint(when string) {
	t := c.t
	t.Helper()
	storetest.Audit(t, c.db)
	orders, refunds := c.orderList()
	if len(orders) != len(c.ids) {
		t.Fatalf("%s: %d orders listed, %d placed", when, len(orders), len(c.ids))
	}
	horizon := c.clock.Now().Add(2 * time.Hour).Unix() // beyond the longest backoff (1 h)
	bad := 0
	report := func(o store.Order, format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf("%s: order %s (%s, claimed %v, upstream %q, attempts %d, next %d, reason %q, review %q): %s",
				when, o.ID, o.Status, o.Claimed, o.UpstreamID, o.Attempts, o.NextAt, o.Reason, o.Review, fmt.Sprintf(format, args...))
		}
	}
	for _, o := range orders {
		switch {
		case store.Terminal(o.Status):
			now := outcome{o.Status, o.Remains, refunds[o.ID][0], refunds[o.ID][1]}
			if was, ok := c.ended[o.ID]; ok && was != now {
				report(o, "ended as %+v, now %+v", was, now)
			}
			c.ended[o.ID] = now
		case o.Status == store.StatusPending && o.Review != "":
			if !o.Claimed {
				report(o, "parked but not claimed")
			}
		case o.Status == store.StatusPending:
			if o.Claimed {
				report(o, "claimed between passes, not parked: nobody will send it or look at it")
			}
			if o.Attempts > 0 && o.Reason == "" {
				report(o, "retried without a reason")
			}
			if o.NextAt > horizon {
				report(o, "next try too far off")
			}
		case o.UpstreamID == "":
			report(o, "with the provider but without its id")
		case o.NextAt > horizon:
			report(o, "next status check too far off")
		}
	}
	if bad > 20 {
		t.Errorf("%s: %d orders in all", when, bad)
	}
	c.log.mu.Lock()
	if len(c.log.lines) > 0 {
		t.Errorf("%s: the worker logged %d errors, the first: %s", when, len(c.log.lines), c.log.lines[0])
		c.log.lines = nil
	}
	c.log.mu.Unlock()
}

// resolve does what the operator does with each parked order: looks for it
// at its provider and records its id there, or sends it again.
func (c *chaos) resolve() (found, resent int) {
	parked, err := c.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator, Review: true, Limit: len(c.ids) + 1})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, o := range parked {
		if o.Status != store.StatusPending {
			c.t.Errorf("order %s is %s and flagged %q although the provider answers right", o.ID, o.Status, o.Review)
			continue
		}
		if held := c.orders[o.ID].up.held(o.Link); len(held) > 0 {
			found++
			err = c.db.ResolveUpstreamID(ctx, o.ID, held[0], c.clock.Now().Unix())
		} else {
			resent++
			err = c.db.ResolveResend(ctx, o.ID)
		}
		if err != nil {
			c.t.Fatalf("resolve %s: %v", o.ID, err)
		}
	}
	return found, resent
}

// verify checks the end: every order ended and matches what its provider
// did, which holds at most one order for it.
func (c *chaos) verify() {
	t := c.t
	orders, _ := c.orderList()
	bad := 0
	report := func(o store.Order, format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf("order %s at the %s provider (%s, remains %d of %d, upstream %q, reason %q): %s", o.ID,
				c.orders[o.ID].up.dialect, o.Status, o.Remains, o.Units, o.UpstreamID, o.Reason, fmt.Sprintf(format, args...))
		}
	}
	for _, o := range orders {
		up := c.orders[o.ID].up
		held := up.held(o.Link)
		if !store.Terminal(o.Status) || o.Review != "" {
			report(o, "not ended at the end (review %q)", o.Review)
			continue
		}
		if len(held) > 1 {
			report(o, "the provider holds %d orders for it: %v", len(held), held)
			continue
		}
		if o.UpstreamID == "" {
			if len(held) > 0 {
				report(o, "refunded in full as never sent, but the provider holds %v", held)
			} else if o.Status != store.StatusFailed && o.Status != store.StatusCancelled {
				report(o, "ended without ever being sent")
			}
			continue
		}
		if len(held) == 0 || held[0] != o.UpstreamID {
			report(o, "the provider holds %v for it", held)
			continue
		}
		truth, _ := up.truth(o.UpstreamID)
		want := map[string]string{"Completed": store.StatusCompleted, "Partial": store.StatusPartial,
			"Canceled": store.StatusCancelled, "Refunded": store.StatusRefunded}[truth.status]
		if o.Status != want || o.Status == store.StatusCompleted && o.Remains != 0 ||
			o.Status == store.StatusPartial && o.Remains != min(truth.remains, o.Units) {
			report(o, "the provider's order ended %s with %d remaining", truth.status, truth.remains)
		}
	}
	if bad > 20 {
		t.Errorf("%d orders in all", bad)
	}
	for _, up := range c.ups {
		up.mu.Lock()
		if len(up.dupAdds) > 0 {
			t.Errorf("the classic provider was sent %d adds for orders it held already, the first for %s", len(up.dupAdds), up.dupAdds[0])
		}
		up.mu.Unlock()
	}
	if g, err := c.db.Gauges(ctx); err != nil || g.CancelRequests != 0 || g.Parked != 0 {
		t.Errorf("gauges %+v, %v: want no open cancel request, nothing parked", g, err)
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	return ok && slices.Contains(bi.Settings, debug.BuildSetting{Key: "-race", Value: "true"})
}

// TestChaos runs thousands of orders through two providers that misbehave
// in every way they do in the wild, then behave; the operator resolves what
// was parked. Nothing may panic, break the money invariants, change after
// it ended, be ordered twice, or sit where nobody looks.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of orders")
	}
	seed, n := *chaosSeed, *chaosOrders
	if n <= 0 {
		// SQLite, pure Go here, runs some ten times slower under the race
		// detector: fewer orders keep the test under a minute there.
		n = 10_000
		if raceEnabled() {
			n = 2_000
		}
	}
	t.Logf("seed %d, %d orders; replay: go test -run 'TestChaos$' ./worker/ -args -chaos.seed=%d -chaos.orders=%d", seed, n, seed, n)
	start := time.Now()
	c := newChaos(t, seed)
	r := rand.New(rand.NewPCG(seed, 0))
	w := worker.New(c.cfg)

	// Orders come in five waves while the providers misbehave; customers
	// cancel some on the way.
	const waves, chaosBound = 5, 60
	pass := 0
	for pass < chaosBound {
		if pass < waves {
			c.place(r, pass*n/waves, (pass+1)*n/waves-pass*n/waves)
		}
		if pass%4 == 2 {
			c.cancelSome(r, n/100)
		}
		for more := true; more; { // as Run does, a backlog is worked at once
			more = w.Tick(ctx)
		}
		if pass++; pass <= 20 {
			c.clock.Advance(2 * time.Minute)
		} else {
			c.clock.Advance(10 * time.Minute) // for the last orders, through their backoffs
		}
		if pass%10 == 0 {
			c.checkpoint(fmt.Sprintf("pass %d", pass))
			g, _ := c.db.Gauges(ctx)
			t.Logf("pass %d, %v: open %v, parked %d", pass, time.Since(start).Round(time.Millisecond), g.OpenOrders, g.Parked)
		}
		if pass >= waves && c.settled() {
			break
		}
	}
	c.checkpoint("end of the chaos")
	g, _ := c.db.Gauges(ctx)
	t.Logf("chaos: %d passes, %v; open %v, parked %d", pass, time.Since(start).Round(time.Millisecond), g.OpenOrders, g.Parked)

	// The providers behave: whatever can end does, the rest waits parked.
	for _, up := range c.ups {
		up.calm.Store(true)
	}
	c.cfg.CallTimeout = 10 * time.Second // no more timeouts now that the providers answer
	w = worker.New(c.cfg)
	calm := c.run(w, 30, time.Hour)
	c.checkpoint("calm")
	if !c.settled() {
		t.Fatalf("not settled after %d calm passes", calm)
	}
	checkVisible(t, c.db)
	found, resent := c.resolve()
	again := c.run(w, 30, time.Hour)
	c.checkpoint("resolved")
	c.verify()

	statuses := map[string]int{}
	for _, e := range c.ended {
		statuses[e.status]++
	}
	t.Logf("calm: %d passes; the operator found %d parked orders at their provider and resent %d; then %d passes", calm, found, resent, again)
	t.Logf("ended: %v; %v in all", statuses, time.Since(start).Round(time.Millisecond))
	for _, up := range c.ups {
		var b strings.Builder
		up.mu.Lock()
		for _, k := range slices.Sorted(maps.Keys(up.faults)) {
			fmt.Fprintf(&b, "\n  %s: %d", k, up.faults[k])
		}
		up.mu.Unlock()
		t.Logf("the %s provider misbehaved:%s", up.dialect, b.String())
	}
	t.Logf("the worker saw: %v", c.calls)
	if n >= 1000 { // the chaos must have happened for the test to mean anything
		for _, want := range []string{"up-classic add unknown-outcome", "up-classic add temporary", "up-classic add permanent",
			"up-notpanel add temporary", "up-classic status temporary", "up-notpanel status temporary"} {
			if c.calls[want] == 0 {
				t.Errorf("the worker never saw %q", want)
			}
		}
		if statuses[store.StatusPartial] == 0 || found == 0 || resent == 0 {
			t.Errorf("no partial order, or nothing parked found (%d) or resent (%d)", found, resent)
		}
	}
}
