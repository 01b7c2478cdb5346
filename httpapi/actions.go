package httpapi

import (
	"bytes"
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

func (a *api) services(ctx context.Context, _ store.Principal, _ form) (any, error) {
	svcs, err := a.db.Services(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]Service, len(svcs))
	for i, s := range svcs {
		out[i] = ServiceView(s)
	}
	return out, nil
}

func (a *api) add(ctx context.Context, p store.Principal, f form) (any, error) {
	raw, err := f.require("service")
	if err != nil {
		return nil, err
	}
	svc, err := store.ParseCount("service", raw)
	if err != nil {
		return nil, err
	}
	id, err := a.db.PlaceOrder(ctx, p.AccountID, store.OrderInput{
		ServiceID:    svc,
		RequestID:    f["request_id"],
		Link:         f["link"],
		Quantity:     f["quantity"],
		Runs:         f["runs"],
		Interval:     f["interval"],
		Comments:     f["comments"],
		Usernames:    f["usernames"],
		Username:     f["username"],
		AnswerNumber: f["answer_number"],
	})
	if err != nil {
		return nil, err
	}
	return struct {
		Order string `json:"order"`
	}{id}, nil
}

type statusJSON struct {
	Status     string `json:"status"`
	Charge     string `json:"charge"`
	StartCount string `json:"start_count"`
	Remains    string `json:"remains"`
	Currency   string `json:"currency"`
}

func (a *api) status(ctx context.Context, p store.Principal, f form) (any, error) {
	ids, batch, err := f.ids("order", "orders")
	if err != nil {
		return nil, err
	}
	orders, err := a.db.Orders(ctx, p.AccountID, ids)
	if err != nil {
		return nil, err
	}
	currency, err := a.db.Currency(ctx)
	if err != nil {
		return nil, err
	}
	view := func(o store.Order) statusJSON {
		return statusJSON{
			Status: o.Status, Charge: store.FormatMoney(o.Charge), StartCount: strconv.FormatInt(o.StartCount, 10),
			Remains: strconv.FormatInt(o.Remains, 10), Currency: currency,
		}
	}
	if !batch {
		o, ok := orders[canonical(store.PrefixOrder, ids[0])]
		if !ok {
			return nil, store.ErrOrderNotFound
		}
		return view(o), nil
	}
	out := make(object, 0, len(ids))
	for _, id := range ids {
		if o, ok := orders[canonical(store.PrefixOrder, id)]; ok {
			out = append(out, member{id, view(o)})
		} else {
			out = append(out, member{id, errorBody{store.ErrOrderNotFound.Message}})
		}
	}
	return out, nil
}

// canonical is the stored form of an id as a customer may have typed it
// (ULIDs are case-insensitive).
func canonical(prefix, raw string) string {
	if id, ok := store.ParseID(prefix, raw); ok {
		return id
	}
	return raw
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

func (a *api) cancel(ctx context.Context, p store.Principal, f form) (any, error) {
	ids, batch, err := f.ids("order", "orders")
	if err != nil {
		return nil, err
	}
	res, err := a.db.CancelOrders(ctx, p.AccountID, ids)
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

func (a *api) refill(ctx context.Context, p store.Principal, f form) (any, error) {
	ids, batch, err := f.ids("order", "orders")
	if err != nil {
		return nil, err
	}
	res, err := a.db.RequestRefills(ctx, p.AccountID, ids)
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

func (a *api) refillStatus(ctx context.Context, p store.Principal, f form) (any, error) {
	ids, batch, err := f.ids("refill", "refills")
	if err != nil {
		return nil, err
	}
	refills, err := a.db.Refills(ctx, p.AccountID, ids)
	if err != nil {
		return nil, err
	}
	if !batch {
		r, ok := refills[canonical(store.PrefixRefill, ids[0])]
		if !ok {
			return nil, store.ErrRefillNotFound
		}
		return object{{"status", r.Status}}, nil
	}
	out := make([]object, len(ids))
	for i, id := range ids {
		if r, ok := refills[canonical(store.PrefixRefill, id)]; ok {
			out[i] = object{{"refill", id}, {"status", r.Status}}
		} else {
			out[i] = object{{"refill", id}, {"error", store.ErrRefillNotFound.Message}}
		}
	}
	return out, nil
}

func (a *api) balance(ctx context.Context, p store.Principal, _ form) (any, error) {
	b, err := a.db.Balance(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	currency, err := a.db.Currency(ctx)
	if err != nil {
		return nil, err
	}
	return object{{"balance", store.FormatMoney(b)}, {"currency", currency}}, nil
}

// object is a JSON object whose members keep their order.
type object []member

type member struct {
	key   string
	value any
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
