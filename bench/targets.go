package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
)

// Notpanel builds the actions of a seeded scratch notpanel.
type Notpanel struct {
	Scratch Scratch
	Runner  *Runner
	// Run tells this run's request ids apart from an earlier run's.
	Run string
	seq atomic.Int64
}

func (n *Notpanel) key(client int) string { return n.Scratch.Keys[client%len(n.Scratch.Keys)] }

// randomOrders picks k preloaded orders of the client's account.
func (n *Notpanel) randomOrders(client, k int) []string {
	a := client % n.Scratch.Accounts
	per := (n.Scratch.Orders - a + n.Scratch.Accounts - 1) / n.Scratch.Accounts
	out := make([]string, k)
	for i := range out {
		out[i] = OrderID(a + rand.IntN(max(per, 1))*n.Scratch.Accounts)
	}
	return out
}

// okJSON checks an answer: HTTP 200, JSON holding field. Bodies up to
// 4 KiB are parsed in full; a larger one (the catalog, a status or cancel
// of 100 orders) only has to be framed as JSON, so that the load
// generator, on the same cores, does not spend on checking large answers
// what the server needs to make them.
func okJSON(field string) func(int, []byte) error {
	f := []byte(field)
	return func(status int, body []byte) error {
		if status != 200 || !bytes.Contains(body, f) || !framedJSON(body) {
			return fmt.Errorf("HTTP %d: %.200s", status, body)
		}
		return nil
	}
}

func framedJSON(body []byte) bool {
	if len(body) <= 4096 {
		return json.Valid(body)
	}
	b := bytes.TrimSpace(body)
	return len(b) >= 2 && (b[0] == '[' && b[len(b)-1] == ']' || b[0] == '{' && b[len(b)-1] == '}')
}

func (n *Notpanel) post(client int, check string, kv ...string) Call {
	f := url.Values{"key": {n.key(client)}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return Call{Path: "/api/v2", Form: f, Check: okJSON(check)}
}

// add places a fresh order: every call of a run has its own request_id.
func (n *Notpanel) add(client, _ int) Call {
	return n.post(client, `"order"`, "action", "add", "service", "1", "request_id", fmt.Sprintf("%s-%d", n.Run, n.seq.Add(1)),
		"link", "https://instagram.com/p/bench", "quantity", "100")
}

// webOrder posts the storefront's new-order form with the client's
// session, as a browser does; the answer is a 303 to the new order.
func (n *Notpanel) webOrder(client, _ int) Call {
	return Call{Path: "/order", Cookie: "np_session=" + n.Scratch.Sessions[client%len(n.Scratch.Sessions)],
		Form: url.Values{"service": {"1"}, "request_id": {fmt.Sprintf("%s-w%d", n.Run, n.seq.Add(1))},
			"link": {"https://instagram.com/p/bench"}, "quantity": {"100"}},
		Check: func(status int, body []byte) error {
			if status != 303 {
				return fmt.Errorf("HTTP %d, want 303 to the order: %.200s", status, body)
			}
			return nil
		}}
}

// webOrders loads the first page of /orders of the first account, which
// holds every preloaded order when the scratch has one account.
func (n *Notpanel) webOrders(int, int) Call {
	return Call{Method: "GET", Path: "/orders", Cookie: "np_session=" + n.Scratch.Sessions[0],
		Check: func(status int, body []byte) error {
			if status != 200 || !bytes.Contains(body, []byte(`class="orders stack"`)) {
				return fmt.Errorf("HTTP %d: %.200s", status, body)
			}
			return nil
		}}
}

// Actions returns the actions by name: add, status, status100, cancel100,
// services, balance, mix, and the storefront's web-order (the new-order
// form) and web-orders (the first page of /orders).
func (n *Notpanel) Actions() map[string]Action {
	status := func(client, _ int) Call {
		return n.post(client, `"status"`, "action", "status", "order", n.randomOrders(client, 1)[0])
	}
	services := func(client, _ int) Call { return n.post(client, `"service"`, "action", "services") }
	balance := func(client, _ int) Call { return n.post(client, `"balance"`, "action", "balance") }
	return map[string]Action{
		"add":    {Name: "add", Next: n.add},
		"status": {Name: "status", Next: status},
		"status100": {Name: "status100", Next: func(client, _ int) Call {
			return n.post(client, `"status"`, "action", "status", "orders", strings.Join(n.randomOrders(client, 100), ","))
		}},
		"cancel100": {Name: "cancel100", Clients: 1, Prepare: func(ctx context.Context, client, seq int) (Call, error) {
			ids := make([]string, 100)
			for i := range ids {
				_, body, err := n.Runner.Do(ctx, n.add(client, seq))
				if err != nil {
					return Call{}, err
				}
				var out struct{ Order string }
				json.Unmarshal(body, &out)
				ids[i] = out.Order
			}
			return n.post(client, `"cancel"`, "action", "cancel", "orders", strings.Join(ids, ",")), nil
		}},
		"services":   {Name: "services", Next: services},
		"web-order":  {Name: "web-order", Next: n.webOrder},
		"web-orders": {Name: "web-orders", Next: n.webOrders},
		"balance":    {Name: "balance", Next: balance},
		"mix": {Name: "mix", Next: func(client, seq int) Call {
			switch r := rand.IntN(10); {
			case r < 6:
				return status(client, seq)
			case r < 8:
				return n.add(client, seq)
			case r < 9:
				return services(client, seq)
			default:
				return balance(client, seq)
			}
		}},
	}
}

// Limitref builds the same actions for the reference server of
// ../shared/limitref: 1000 keys key%032d, orders 1..100000, order N
// belonging to user ((N-1)/100)%1000+1.
type Limitref struct{}

func limitrefKey(user int) string { return fmt.Sprintf("key%032d", user) }

// Actions returns limitref's add and status.
func (Limitref) Actions() map[string]Action {
	return map[string]Action{
		"add": {Name: "add", Next: func(client, _ int) Call {
			return Call{Path: "/add", Form: url.Values{"key": {limitrefKey(client%1000 + 1)}, "service": {"1"},
				"link": {"https://instagram.com/p/bench"}, "quantity": {"100"}}, Check: okJSON(`"order"`)}
		}},
		"status": {Name: "status", Next: func(client, _ int) Call {
			user := client%1000 + 1
			// orders of user u: blocks of 100 starting at (u-1)*100+1, every 100000
			n := (user-1)*100 + 1 + rand.IntN(100)
			return Call{Path: "/status", Form: url.Values{"key": {limitrefKey(user)}, "order": {fmt.Sprint(n)}},
				Check: okJSON(`"status"`)}
		}},
	}
}
