package httpapi

import (
	"context"
	"encoding/json"
	"strconv"

	"notpanel/store"
)

// Service is a catalog entry as the services action shows it: money and
// counts as strings.
type Service struct {
	Service  int64  `json:"service"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Category string `json:"category"`
	Rate     string `json:"rate"`
	Min      string `json:"min"`
	Max      string `json:"max"`
	Refill   bool   `json:"refill"`
	Cancel   bool   `json:"cancel"`
	Dripfeed bool   `json:"dripfeed"`
}

// ServiceView is the services action's view of s.
func ServiceView(s store.Service) Service {
	return Service{
		Service: s.ID, Name: s.Name, Type: s.Type, Category: s.Category,
		Rate: store.FormatMoney(s.Rate), Min: strconv.FormatInt(s.Min, 10), Max: strconv.FormatInt(s.Max, 10),
		Refill: s.Refill, Cancel: s.Cancel, Dripfeed: s.Dripfeed,
	}
}

// catalog is the services answer, encoded once per config version.
type catalog struct {
	version int64
	answer  *encoded
}

func (a *api) services(_ context.Context, c *call) (any, error) {
	if cur := a.catalog.Load(); cur != nil && cur.version == c.snap.Version() {
		return cur.answer, nil
	}
	svcs := c.snap.Catalog()
	out := make([]Service, len(svcs))
	for i, s := range svcs {
		out[i] = ServiceView(s)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	answer, err := encode(body)
	if err != nil {
		return nil, err
	}
	a.catalog.Store(&catalog{version: c.snap.Version(), answer: answer})
	return answer, nil
}

func (a *api) add(ctx context.Context, c *call) (any, error) {
	o, err := a.placeOrder(ctx, c)
	if err != nil {
		return nil, err
	}
	return object{{"order", o.ID}}, nil
}

// placeOrder places the order an add call asks for, authenticating the
// call first on the snapshot the store places it on.
func (a *api) placeOrder(ctx context.Context, c *call) (store.Placed, error) {
	raw, err := c.f.require("service")
	var svc int64
	if err == nil {
		svc, err = store.ParseCount("service", raw)
	}
	in := store.OrderInput{
		ServiceID:    svc,
		RequestID:    c.f["request_id"],
		Link:         c.f["link"],
		Quantity:     c.f["quantity"],
		Runs:         c.f["runs"],
		Interval:     c.f["interval"],
		Comments:     c.f["comments"],
		Usernames:    c.f["usernames"],
		Username:     c.f["username"],
		AnswerNumber: c.f["answer_number"],
	}
	return a.db.PlaceOrderAs(ctx, func(ctx context.Context, snap *store.Snapshot) (int64, error) {
		if aerr := c.auth(ctx, snap); aerr != nil {
			return 0, aerr
		}
		return c.p.AccountID, err // a bad service parameter is answered once the key is known good
	}, in)
}

func (a *api) status(ctx context.Context, c *call) (any, error) {
	ids, batch, err := c.f.ids("order", "orders")
	if err != nil {
		return nil, err
	}
	orders, err := a.db.OrderStatuses(ctx, c.p.AccountID, ids)
	if err != nil {
		return nil, err
	}
	currency := c.snap.Currency()
	view := func(o store.OrderStatus) object {
		return object{{"status", o.Status}, {"charge", store.FormatMoney(o.Charge)},
			{"start_count", strconv.FormatInt(o.StartCount, 10)}, {"remains", strconv.FormatInt(o.Remains, 10)},
			{"currency", currency}}
	}
	if !batch {
		o, ok := orders[store.CanonicalID(store.PrefixOrder, ids[0])]
		if !ok {
			return nil, store.ErrOrderNotFound
		}
		return view(o), nil
	}
	out := make(object, 0, len(ids))
	for _, id := range ids {
		if o, ok := orders[store.CanonicalID(store.PrefixOrder, id)]; ok {
			out = append(out, member{id, view(o)})
		} else {
			out = append(out, member{id, errorBody(store.ErrOrderNotFound.Message)})
		}
	}
	return out, nil
}

// rows turns batch results into answer rows: {"order":id,"cancel":id} or
// {"order":id,"error":msg}, with the key names of the action.
func rows(idKey, resultKey string, results []store.RowResult) []object {
	out := make([]object, len(results))
	for i, r := range results {
		if r.Err != nil {
			out[i] = object{{idKey, r.ID}, {"error", store.ErrorMessage(r.Err)}}
		} else {
			out[i] = object{{idKey, r.ID}, {resultKey, r.Result}}
		}
	}
	return out
}

func (a *api) cancel(ctx context.Context, c *call) (any, error) {
	ids, batch, err := c.f.ids("order", "orders")
	if err != nil {
		return nil, err
	}
	res, err := a.db.CancelOrders(ctx, store.Customer(c.p.AccountID), ids)
	if err != nil {
		return nil, err
	}
	if batch {
		return rows("order", "cancel", res), nil
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	return object{{"cancel", res[0].Result}}, nil
}

func (a *api) refill(ctx context.Context, c *call) (any, error) {
	ids, batch, err := c.f.ids("order", "orders")
	if err != nil {
		return nil, err
	}
	res, err := a.db.RequestRefills(ctx, store.Customer(c.p.AccountID), ids)
	if err != nil {
		return nil, err
	}
	if batch {
		return rows("order", "refill", res), nil
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	return object{{"refill", res[0].Result}}, nil
}

func (a *api) refillStatus(ctx context.Context, c *call) (any, error) {
	ids, batch, err := c.f.ids("refill", "refills")
	if err != nil {
		return nil, err
	}
	refills, err := a.db.Refills(ctx, c.p.AccountID, ids)
	if err != nil {
		return nil, err
	}
	if !batch {
		r, ok := refills[store.CanonicalID(store.PrefixRefill, ids[0])]
		if !ok {
			return nil, store.ErrRefillNotFound
		}
		return object{{"status", r.Status}}, nil
	}
	out := make([]object, len(ids))
	for i, id := range ids {
		if r, ok := refills[store.CanonicalID(store.PrefixRefill, id)]; ok {
			out[i] = object{{"refill", id}, {"status", r.Status}}
		} else {
			out[i] = object{{"refill", id}, {"error", store.ErrRefillNotFound.Message}}
		}
	}
	return out, nil
}

func (a *api) balance(ctx context.Context, c *call) (any, error) {
	b, err := a.db.Balance(ctx, c.p.AccountID)
	if err != nil {
		return nil, err
	}
	return object{{"balance", store.FormatMoney(b)}, {"currency", c.snap.Currency()}}, nil
}
