// Package simulator is a SIMULATED upstream provider for demos: an
// in-process panel that speaks the classic API v2 and moves orders along as
// a real provider would (pending, in progress, completed, some partial),
// with cancels and refills. Nothing it reports is real delivery.
package simulator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"notpanel/store"
)

// Timing of a simulated order: it waits, then delivers over a while.
const (
	startDelay   = 5 * time.Second
	deliverSpeed = 50 // units per second
	maxDelivery  = 45 * time.Second
	refillTime   = 20 * time.Second
)

// Service is one entry of the simulated catalog.
type Service struct {
	ID       int64
	Name     string
	Category string
	Type     string
	Rate     string // per 1000, decimal
	Min, Max int64
	Refill   bool
	Cancel   bool
	Dripfeed bool
}

// Catalog is the simulated provider's default catalog.
var Catalog = []Service{
	{ID: 1, Name: "Instagram Followers [simulated]", Category: "Instagram", Type: "Default", Rate: "0.90", Min: 50, Max: 10000, Refill: true, Cancel: true},
	{ID: 2, Name: "Instagram Likes [simulated]", Category: "Instagram", Type: "Default", Rate: "0.30", Min: 20, Max: 20000, Cancel: true, Dripfeed: true},
	{ID: 3, Name: "TikTok Views [simulated]", Category: "TikTok", Type: "Default", Rate: "0.05", Min: 100, Max: 100000},
	{ID: 4, Name: "YouTube Comments [simulated]", Category: "YouTube", Type: "Custom Comments", Rate: "12.00", Min: 1, Max: 100},
	{ID: 5, Name: "Starter pack [simulated]", Category: "Instagram", Type: "Package", Rate: "2.50", Min: 1000, Max: 1000},
}

type order struct {
	link      string
	created   time.Time
	quantity  int64
	start     int64
	partial   int64 // units never delivered; 0 for a full delivery
	cancelled bool
}

type refill struct {
	created time.Time
}

// Provider is a simulated classic-dialect provider. It is safe for
// concurrent use.
type Provider struct {
	Key string
	// AddLatency is how long an add takes to answer, as real providers take
	// half a second to three; 0 answers at once. Set it before serving.
	AddLatency time.Duration
	// LoseAnswers is the share (0 to 1) of the adds it takes whose answer
	// is lost on the way back, as when the proxy in front of a panel gives
	// up waiting (HTTP 504): the order exists, the caller cannot know it.
	LoseAnswers float64
	now         func() time.Time

	mu      sync.Mutex
	rng     *rand.Rand
	orders  map[int64]*order
	refills map[int64]*refill
	nextID  int64
	balance int64 // micro-units our orders spend; an add it cannot pay is refused
}

// startBalance is the simulated account's balance: enough for any demo.
const startBalance = 1_000_000 * 1_000_000

// New returns a simulated provider that accepts key; now is its clock.
func New(key string, now func() time.Time, seed uint64) *Provider {
	if now == nil {
		now = time.Now
	}
	return &Provider{Key: key, now: now, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		orders: map[int64]*order{}, refills: map[int64]*refill{}, nextID: 1000, balance: startBalance}
}

// AddFunds changes our balance at the simulated provider by micro
// micro-units (negative spends it); an add it cannot pay is refused with
// "Not enough funds on balance", as real panels refuse it.
func (p *Provider) AddFunds(micro int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.balance = max(p.balance+micro, 0)
}

// Balance is our balance at the simulated provider, in micro-units.
func (p *Provider) Balance() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.balance
}

// ServeHTTP answers API v2 calls in the classic dialect: HTTP 200 with
// {"error": …} for refusals, integer ids, Title-Case statuses.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		reply(w, map[string]string{"error": "Incorrect request"})
		return
	}
	if r.PostForm.Get("key") != p.Key {
		reply(w, map[string]string{"error": "Invalid API key"})
		return
	}
	if r.PostForm.Get("action") == "add" && p.AddLatency > 0 {
		select {
		case <-time.After(p.AddLatency):
		case <-r.Context().Done():
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := r.PostForm
	switch f.Get("action") {
	case "services":
		reply(w, p.services())
	case "add":
		res := p.add(f.Get("service"), f.Get("link"), f.Get("quantity"), f.Get("runs"), f.Get("comments"))
		if _, taken := res["order"]; taken && p.LoseAnswers > 0 && p.rng.Float64() < p.LoseAnswers {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusGatewayTimeout)
			fmt.Fprint(w, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
			return
		}
		reply(w, res)
	case "status":
		reply(w, p.statuses(f.Get("orders")+","+f.Get("order")))
	case "cancel":
		reply(w, p.cancel(f.Get("orders")+","+f.Get("order")))
	case "refill":
		reply(w, p.refill(f.Get("order")))
	case "refill_status":
		reply(w, p.refillStatuses(f.Get("refills")))
	case "balance":
		reply(w, map[string]string{"balance": store.FormatMoney(p.balance), "currency": "USD"})
	default:
		reply(w, map[string]string{"error": "Incorrect request"})
	}
}

func reply(w http.ResponseWriter, v any) {
	json.NewEncoder(w).Encode(v)
}

func (p *Provider) services() []map[string]any {
	out := make([]map[string]any, len(Catalog))
	for i, s := range Catalog {
		out[i] = map[string]any{"service": s.ID, "name": s.Name, "type": s.Type, "category": s.Category,
			"rate": s.Rate, "min": strconv.FormatInt(s.Min, 10), "max": strconv.FormatInt(s.Max, 10),
			"refill": s.Refill, "cancel": s.Cancel, "dripfeed": s.Dripfeed}
	}
	return out
}

func (p *Provider) add(service, link, quantity, runs, comments string) map[string]any {
	var svc *Service
	for i := range Catalog {
		if strconv.FormatInt(Catalog[i].ID, 10) == service {
			svc = &Catalog[i]
		}
	}
	if svc == nil {
		return map[string]any{"error": "Incorrect service ID"}
	}
	q, _ := strconv.ParseInt(quantity, 10, 64)
	switch svc.Type {
	case "Package":
		q = svc.Min
	case "Custom Comments":
		q = int64(len(strings.Split(strings.TrimSpace(comments), "\n")))
	}
	if q < svc.Min {
		return map[string]any{"error": fmt.Sprintf("Quantity less than minimal %d", svc.Min)}
	}
	if q > svc.Max {
		return map[string]any{"error": fmt.Sprintf("Quantity more than maximal %d", svc.Max)}
	}
	if n, _ := strconv.ParseInt(runs, 10, 64); n > 1 {
		q *= n
	}
	rate, _ := store.ParseMoney(svc.Rate) // the catalog above: always valid
	cost := rate * q / 1000
	if cost > p.balance {
		return map[string]any{"error": "Not enough funds on balance"}
	}
	p.balance -= cost
	o := &order{link: link, created: p.now(), quantity: q, start: 100 + p.rng.Int64N(5000)}
	if p.rng.IntN(10) == 0 { // one in ten ends partial
		o.partial = 1 + p.rng.Int64N(max(q/2, 1))
	}
	p.nextID++
	p.orders[p.nextID] = o
	return map[string]any{"order": p.nextID}
}

// state is where a simulated order stands now.
func (p *Provider) state(o *order) (status string, remains int64) {
	if o.cancelled {
		return "Canceled", o.quantity
	}
	elapsed := p.now().Sub(o.created)
	if elapsed < startDelay {
		return "Pending", o.quantity
	}
	took := min(time.Duration(o.quantity/deliverSpeed)*time.Second, maxDelivery)
	deliverable := o.quantity - o.partial
	if elapsed-startDelay >= took {
		if o.partial > 0 {
			return "Partial", o.partial
		}
		return "Completed", 0
	}
	done := int64(float64(deliverable) * float64(elapsed-startDelay) / float64(max(took, time.Second)))
	return "In progress", o.quantity - done
}

func ids(csv string) []int64 {
	var out []int64
	for _, s := range strings.Split(csv, ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (p *Provider) statuses(csv string) map[string]any {
	out := map[string]any{}
	for _, id := range ids(csv) {
		o, ok := p.orders[id]
		if !ok {
			out[strconv.FormatInt(id, 10)] = map[string]string{"error": "Incorrect order ID"}
			continue
		}
		status, remains := p.state(o)
		out[strconv.FormatInt(id, 10)] = map[string]string{"charge": "0", "start_count": strconv.FormatInt(o.start, 10),
			"status": status, "remains": strconv.FormatInt(remains, 10), "currency": "USD"}
	}
	return out
}

func (p *Provider) cancel(csv string) []map[string]any {
	var out []map[string]any
	for _, id := range ids(csv) {
		o, ok := p.orders[id]
		if !ok {
			out = append(out, map[string]any{"order": id, "cancel": map[string]string{"error": "Incorrect order ID"}})
			continue
		}
		if status, _ := p.state(o); status != "Pending" && status != "In progress" {
			out = append(out, map[string]any{"order": id, "cancel": map[string]string{"error": "Order is " + strings.ToLower(status)}})
			continue
		}
		o.cancelled = true
		out = append(out, map[string]any{"order": id, "cancel": 1})
	}
	return out
}

func (p *Provider) refill(orderID string) map[string]any {
	id, _ := strconv.ParseInt(orderID, 10, 64)
	o, ok := p.orders[id]
	if !ok {
		return map[string]any{"error": "Incorrect order ID"}
	}
	if status, _ := p.state(o); status != "Completed" && status != "Partial" {
		return map[string]any{"error": "Refill is not available for this order"}
	}
	p.nextID++
	p.refills[p.nextID] = &refill{created: p.now()}
	return map[string]any{"refill": strconv.FormatInt(p.nextID, 10)}
}

func (p *Provider) refillStatuses(csv string) []map[string]any {
	var out []map[string]any
	for _, id := range ids(csv) {
		r, ok := p.refills[id]
		if !ok {
			out = append(out, map[string]any{"refill": id, "status": map[string]string{"error": "Refill not found"}})
			continue
		}
		status := "In progress"
		if p.now().Sub(r.created) >= refillTime {
			status = "Completed"
		}
		out = append(out, map[string]any{"refill": id, "status": status})
	}
	return out
}

// Orders is how many orders the simulated provider has taken.
func (p *Provider) Orders() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.orders)
}

// Links counts the orders taken for each link: a test that gives every
// order a link of its own sees a doubled order as a count of two.
func (p *Provider) Links() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, o := range p.orders {
		out[o.link]++
	}
	return out
}
