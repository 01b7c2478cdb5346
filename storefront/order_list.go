package storefront

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"notpanel/store"
)

// OrdersPerPage is the length of a page of /orders.
const OrdersPerPage = 50

// orderRow is an order as the list shows it, with the actions the API
// would allow on it.
type orderRow struct {
	store.Order
	Service   string
	CanCancel bool
	CanRefill bool
	// The row's text, written once here rather than by a template call
	// per cell: a page of fifty orders renders in a fraction of the time.
	When, ChargeText, StartText, RemainsText, StatusText, StatusClass, ShortLink string
}

// ordersPage is /orders: newest first, paged by key, filtered by status,
// searched by order id, number or link.
type ordersPage struct {
	base
	Orders   []orderRow
	Status   string
	Search   string
	Statuses []string
	Next     string // the next (older) page's URL, "" on the last
	First    bool
	Newest   string // the first page's URL, with the same filter
	Error    string
}

var orderStatuses = []string{store.StatusPending, store.StatusProcessing, store.StatusInProgress, store.StatusCompleted,
	store.StatusPartial, store.StatusCancelled, store.StatusRefunded, store.StatusFailed}

func (s *site) orderList(w http.ResponseWriter, r *http.Request, v *visit) {
	q := r.URL.Query()
	p := ordersPage{base: s.base(r, v, "Orders", "orders"), Status: q.Get("status"), Search: strings.TrimSpace(q.Get("q")),
		Statuses: orderStatuses}
	if p.Status != "" && !slices.Contains(orderStatuses, p.Status) {
		p.Status = ""
	}
	if len(p.Search) > 200 {
		p.Search = p.Search[:200]
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	p.First = before <= 0
	orders, err := s.db.ListOrders(r.Context(), store.OrderFilter{Scope: store.Customer(v.Account.ID), Status: p.Status,
		Search: p.Search, Before: before, Limit: OrdersPerPage + 1})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	snap, err := s.snapshot(r.Context(), v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	filter := url.Values{}
	if p.Status != "" {
		filter.Set("status", p.Status)
	}
	if p.Search != "" {
		filter.Set("q", p.Search)
	}
	p.Newest = "/orders"
	if len(filter) > 0 {
		p.Newest += "?" + filter.Encode()
	}
	if len(orders) > OrdersPerPage {
		orders = orders[:OrdersPerPage]
		filter.Set("before", strconv.FormatInt(orders[len(orders)-1].Number, 10))
		p.Next = "/orders?" + filter.Encode()
	}
	for _, o := range orders {
		p.Orders = append(p.Orders, s.row(snap, o))
	}
	s.render(w, r, http.StatusOK, "orders", p)
}

// row decorates an order with its service's name and the buttons the API's
// rules allow: cancel while it is not finished (pending always; in flight
// when the service allows it), refill once completed or partial when the
// service refills. The store decides in the end; a button is a hint.
func (s *site) row(snap *store.Snapshot, o store.Order) orderRow {
	row := orderRow{Order: o, Service: "Service " + strconv.FormatInt(o.ServiceID, 10),
		When: formatDate(o.Created), ChargeText: store.FormatMoney(o.Charge), StartText: groupDigits(strconv.FormatInt(o.StartCount, 10)),
		RemainsText: groupDigits(strconv.FormatInt(o.Remains, 10)), StatusText: statusLabel(o.Status),
		StatusClass: "st-" + strings.ReplaceAll(o.Status, "_", "-"), ShortLink: shorten(o.Link, 48)}
	svc, err := snap.Service(o.ServiceID)
	if err == nil {
		row.Service = svc.Name
	}
	switch o.Status {
	case store.StatusPending:
		row.CanCancel = true
	case store.StatusProcessing, store.StatusInProgress:
		row.CanCancel = err == nil && svc.Cancel
	case store.StatusCompleted, store.StatusPartial:
		row.CanRefill = err == nil && svc.Refill
	}
	return row
}

// orderPage is /orders/ID: one order, its refills and its cancel request.
type orderPage struct {
	base
	Order   orderRow
	Refills []store.Refill
	Cancel  *store.CancelRequest
	Extra   []extraField
	Error   string
}

type extraField struct{ Label, Value string }

func (s *site) orderShow(w http.ResponseWriter, r *http.Request, v *visit) {
	s.showOrder(w, r, v, http.StatusOK, "")
}

func (s *site) showOrder(w http.ResponseWriter, r *http.Request, v *visit, code int, errMsg string) {
	scope := store.Customer(v.Account.ID)
	o, err := s.db.Order(r.Context(), scope, v.params.ByName("id"))
	if err != nil {
		if _, ok := userError(err); ok {
			s.notFound(w, r) // another account's order looks exactly like none
			return
		}
		s.internal(w, r, err)
		return
	}
	snap, err := s.snapshot(r.Context(), v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := orderPage{base: s.base(r, v, "Order "+strconv.FormatInt(o.Number, 10), "orders"), Order: s.row(snap, o), Error: errMsg}
	if p.Refills, err = s.db.OrderRefills(r.Context(), scope, o.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	// With the refills at hand, the store's other refill rules too.
	if store.RefillRoom(p.Refills) != nil {
		p.Order.CanRefill = false
	}
	if c, ok, err := s.db.CancelRequestFor(r.Context(), o.ID); err != nil {
		s.internal(w, r, err)
		return
	} else if ok {
		p.Cancel = &c
	}
	p.Extra = extraFields(o)
	s.render(w, r, code, "order", p)
}

// extraFields are the type-specific fields an order was placed with.
func extraFields(o store.Order) []extraField {
	var out []extraField
	if o.Runs > 0 {
		out = append(out, extraField{"Drip-feed", strconv.FormatInt(o.Runs, 10) + " runs, every " + strconv.FormatInt(o.Interval, 10) + " minutes"})
	}
	extra := parseExtra(o.Extra)
	for _, k := range []struct{ key, label string }{{"comments", "Comments"}, {"usernames", "Usernames"},
		{"username", "Username"}, {"answer_number", "Answer number"}} {
		if v, ok := extra[k.key]; ok {
			out = append(out, extraField{k.label, v})
		}
	}
	return out
}

func (s *site) orderCancel(w http.ResponseWriter, r *http.Request, v *visit) {
	res, err := s.db.CancelOrders(r.Context(), store.Customer(v.Account.ID), []string{v.params.ByName("id")})
	s.afterAction(w, r, v, res, err, "cancel")
}

func (s *site) orderRefill(w http.ResponseWriter, r *http.Request, v *visit) {
	res, err := s.db.RequestRefills(r.Context(), store.Customer(v.Account.ID), []string{v.params.ByName("id")})
	s.afterAction(w, r, v, res, err, "refill")
}

// afterAction shows the order again: with the API's own message when the
// store refused, or redirected with a notice when it took the request.
func (s *site) afterAction(w http.ResponseWriter, r *http.Request, v *visit, res []store.RowResult, err error, notice string) {
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(res) == 1 && res[0].Err != nil {
		if store.ErrorCode(res[0].Err) == store.NotFound {
			s.notFound(w, r)
			return
		}
		msg, ok := userError(res[0].Err)
		if !ok {
			s.internal(w, r, res[0].Err)
			return
		}
		s.showOrder(w, r, v, http.StatusBadRequest, msg)
		return
	}
	if notice == "cancel" {
		// A pending order is cancelled at once; one with the provider
		// waits for the provider's answer.
		if o, err := s.db.Order(r.Context(), store.Customer(v.Account.ID), v.params.ByName("id")); err == nil && o.Status == store.StatusCancelled {
			notice = "cancelled"
		}
	}
	back := "/orders/" + url.PathEscape(v.params.ByName("id")) + "?notice=" + notice
	if from := r.PostFormValue("from"); from == "list" {
		back = "/orders?notice=" + notice
	}
	redirect(w, r, back)
}
