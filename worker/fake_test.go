package worker_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// handler scripts one answer of the fake provider. A zero status means: take
// the request and never answer (the client times out).
type handler func(form url.Values) (status int, body string)

func reply(status int, body string) handler {
	return func(url.Values) (int, string) { return status, body }
}

// hang never answers.
var hang = reply(0, "")

// call is one request the fake provider received.
type call struct {
	action string
	form   url.Values
}

type upOrder struct {
	id, link, requestID string
	quantity            int64
	status              string // classic status text
	startCount, remains string
	row                 string // raw JSON row that replaces the usual one
}

// fakeProvider is an httptest provider of the classic (or notpanel) dialect
// that records every call, keeps its own orders and refills, and can be
// scripted per action to misbehave.
type fakeProvider struct {
	srv      *httptest.Server
	notpanel bool
	stop     chan struct{}

	mu        sync.Mutex
	calls     []call
	script    map[string][]handler // consumed first, one per call
	always    map[string]handler   // then this, when set
	orders    map[string]*upOrder
	byRequest map[string]string // notpanel request_id → order id
	refills   map[string]string // refill id → status text
	nextID    int
	inflight  int
	peak      int
	gate      chan struct{} // when set, each request waits for a token
	arrived   chan string
	// retryAfter, when set, is sent as the Retry-After header of a 429.
	retryAfter string
	// catalog is what services answers; balance what balance answers.
	catalog []map[string]any
	balance string
}

func newFakeProvider(t *testing.T, notpanel bool) *fakeProvider {
	p := &fakeProvider{notpanel: notpanel, stop: make(chan struct{}), script: map[string][]handler{},
		always: map[string]handler{}, orders: map[string]*upOrder{}, byRequest: map[string]string{},
		refills: map[string]string{}, nextID: 1000}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() { close(p.stop); p.srv.Close() })
	return p
}

// next queues scripted answers for action.
func (p *fakeProvider) next(action string, hs ...handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.script[action] = append(p.script[action], hs...)
}

// sell sets the provider's catalog entry of service id: its name and rate
// per 1000 (a decimal string); a rate of "" takes it off the catalog.
func (p *fakeProvider) sell(id int, name, rate string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.catalog = slices.DeleteFunc(p.catalog, func(s map[string]any) bool { return s["service"] == id })
	if rate != "" {
		p.catalog = append(p.catalog, map[string]any{"service": id, "name": name, "type": "Default", "category": "Instagram",
			"rate": rate, "min": "10", "max": "10000", "refill": false, "cancel": true})
	}
}

// setBalance sets what the provider answers to balance ("": an error).
func (p *fakeProvider) setBalance(b string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.balance = b
}

// setRetryAfter makes 429 answers carry Retry-After: v ("" for none).
func (p *fakeProvider) setRetryAfter(v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retryAfter = v
}

// setAlways makes h the answer to every later call of action (nil: default).
func (p *fakeProvider) setAlways(action string, h handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.always[action] = h
}

func (p *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	action := r.PostForm.Get("action")
	p.mu.Lock()
	p.calls = append(p.calls, call{action, r.PostForm})
	p.inflight++
	p.peak = max(p.peak, p.inflight)
	gate := p.gate
	h := p.always[action]
	if q := p.script[action]; len(q) > 0 {
		h, p.script[action] = q[0], q[1:]
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
	}()
	if gate != nil {
		p.arrived <- action
		select {
		case <-gate:
		case <-p.stop:
		}
	}
	if h == nil {
		h = p.defaults
	}
	status, body := h(r.PostForm)
	if status == 0 {
		select {
		case <-r.Context().Done():
		case <-p.stop:
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	p.mu.Lock()
	if status == 429 && p.retryAfter != "" {
		w.Header().Set("Retry-After", p.retryAfter)
	}
	p.mu.Unlock()
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// num writes a numeric id as a JSON number, as classic panels do.
func num(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

// defaults answers as a well-behaved provider.
func (p *fakeProvider) defaults(form url.Values) (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch form.Get("action") {
	case "add":
		if id, ok := p.byRequest[form.Get("request_id")]; ok && p.notpanel {
			return 200, jsonOf(map[string]any{"order": num(id)})
		}
		p.nextID++
		id := strconv.Itoa(p.nextID)
		q, _ := strconv.ParseInt(form.Get("quantity"), 10, 64)
		p.orders[id] = &upOrder{id: id, link: form.Get("link"), requestID: form.Get("request_id"), quantity: q,
			status: "Pending", startCount: "0", remains: strconv.FormatInt(q, 10)}
		if p.notpanel {
			p.byRequest[form.Get("request_id")] = id
		}
		return 200, jsonOf(map[string]any{"order": num(id)})
	case "status":
		out := map[string]json.RawMessage{}
		for _, id := range strings.Split(form.Get("orders"), ",") {
			o, ok := p.orders[id]
			switch {
			case !ok:
				out[id] = json.RawMessage(`{"error":"Incorrect order ID"}`)
			case o.row != "":
				out[id] = json.RawMessage(o.row)
			default:
				out[id] = json.RawMessage(jsonOf(map[string]string{"status": o.status, "start_count": o.startCount,
					"remains": o.remains, "charge": "0.1", "currency": "USD"}))
			}
		}
		return 200, jsonOf(out)
	case "cancel":
		var rows []map[string]any
		for _, id := range strings.Split(form.Get("orders"), ",") {
			o, ok := p.orders[id]
			if !ok || o.status == "Canceled" || o.status == "Completed" || o.status == "Partial" {
				rows = append(rows, map[string]any{"order": num(id), "cancel": map[string]string{"error": "Incorrect order ID"}})
				continue
			}
			o.status, o.remains = "Canceled", strconv.FormatInt(o.quantity, 10)
			rows = append(rows, map[string]any{"order": num(id), "cancel": 1})
		}
		return 200, jsonOf(rows)
	case "refill":
		if _, ok := p.orders[form.Get("order")]; !ok {
			return 200, `{"error":"Incorrect order ID"}`
		}
		p.nextID++
		id := strconv.Itoa(p.nextID)
		p.refills[id] = "Pending"
		return 200, jsonOf(map[string]any{"refill": num(id)})
	case "services":
		return 200, jsonOf(p.catalog)
	case "balance":
		if p.balance == "" {
			break
		}
		return 200, jsonOf(map[string]string{"balance": p.balance, "currency": "USD"})
	case "refill_status":
		var rows []map[string]any
		for _, id := range strings.Split(form.Get("refills"), ",") {
			if st, ok := p.refills[id]; ok {
				rows = append(rows, map[string]any{"refill": num(id), "status": st})
			} else {
				rows = append(rows, map[string]any{"refill": num(id), "error": "Incorrect refill ID"})
			}
		}
		return 200, jsonOf(rows)
	}
	return 200, `{"error":"Incorrect request"}`
}

// set changes (or makes up) what the provider reports about its order id.
func (p *fakeProvider) set(id, status, startCount, remains string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.orders[id]
	if o == nil {
		o = &upOrder{id: id}
		p.orders[id] = o
	}
	o.status, o.startCount, o.remains, o.row = status, startCount, remains, ""
}

// setRow makes the provider answer row (raw JSON) about its order id.
func (p *fakeProvider) setRow(id, row string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.orders[id].row = row
}

// callsOf returns the calls of action so far.
func (p *fakeProvider) callsOf(action string) []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []url.Values
	for _, c := range p.calls {
		if c.action == action {
			out = append(out, c.form)
		}
	}
	return out
}

func (p *fakeProvider) count(action string) int { return len(p.callsOf(action)) }

// addsFor counts the adds received for link.
func (p *fakeProvider) addsFor(link string) int {
	n := 0
	for _, f := range p.callsOf("add") {
		if f.Get("link") == link {
			n++
		}
	}
	return n
}

// total counts every call so far.
func (p *fakeProvider) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// orderCount counts the orders the provider holds.
func (p *fakeProvider) orderCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.orders)
}

// hold makes every later request wait for a token on the returned gate;
// each announces its action on arrived first.
func (p *fakeProvider) hold() (gate chan struct{}, arrived chan string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate, p.arrived = make(chan struct{}), make(chan string)
	return p.gate, p.arrived
}

// peakInflight is the most requests the provider had in hand at once.
func (p *fakeProvider) peakInflight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}
