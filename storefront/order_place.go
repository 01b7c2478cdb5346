package storefront

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"notpanel/store"
)

// category is a catalog category with its services, in catalog order.
type category struct {
	Name     string
	Services []store.Service
}

func categories(svcs []store.Service) []category {
	var out []category
	for _, s := range svcs {
		if len(out) == 0 || out[len(out)-1].Name != s.Category {
			out = append(out, category{Name: s.Category})
		}
		out[len(out)-1].Services = append(out[len(out)-1].Services, s)
	}
	return out
}

// orderForm is what the new-order form holds: the catalog to choose from,
// what the customer typed (kept when something is wrong), the price when
// asked for, and the hidden request_id that makes a repeated submit place
// one order.
type orderForm struct {
	// Categories are every category, for the category select; Options
	// the services the service select offers: all of them in a small
	// catalog, one category's in a large one (Narrowed), so that the page
	// stays small however many services the panel sells.
	Categories   []category
	Options      []category
	Category     string
	Narrowed     bool
	Selected     *store.Service
	ServiceID    int64
	Link         string
	Quantity     string
	Comments     string
	Usernames    string
	Username     string
	AnswerNumber string
	Runs         string
	Interval     string
	RequestID    string
	Quote        *store.Quote
	Error        string
}

// homePage is / : what the panel sells and the way in for a visitor, the
// new-order form for a customer.
type homePage struct {
	base
	Form orderForm
	// Categories are the catalog's tiles, for a visitor; a customer's
	// form has its own.
	Categories []category
	Services   int
	Recent     []store.Order
}

func newRequestID() string { return "web-" + strings.ToLower(rand.Text()) }

// WholeCatalog is the largest catalog the new-order form offers in one
// list; a larger one is offered a category at a time.
const WholeCatalog = 150

// choices fills the form's categories and the services it offers: the
// category asked for, else the chosen service's, else the first.
func (f *orderForm) choices(snap *store.Snapshot, want string) {
	all := categories(snap.Catalog())
	f.Categories, f.Options, f.Category = all, all, ""
	if f.Selected != nil {
		f.Category = f.Selected.Category
	}
	if len(snap.Catalog()) <= WholeCatalog || len(all) == 0 {
		if want != "" {
			f.Category = want
		}
		return
	}
	f.Narrowed = true
	if want == "" {
		want = f.Category
	}
	f.Options, f.Category = all[:1], all[0].Name
	for _, c := range all {
		if c.Name == want {
			f.Options, f.Category = []category{c}, c.Name
		}
	}
	if f.Selected != nil && f.Selected.Category != f.Category {
		f.Selected, f.ServiceID = nil, 0
	}
}

func (s *site) home(w http.ResponseWriter, r *http.Request, v *visit) {
	snap, err := s.snapshot(r.Context(), v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := homePage{base: s.base(r, v, "", "home"), Services: len(snap.Catalog())}
	if v.Account == nil {
		p.Categories = categories(snap.Catalog())
		s.render(w, r, http.StatusOK, "home", p)
		return
	}
	p.Title, p.Nav = "New order", "order"
	q := r.URL.Query()
	p.Form = orderForm{RequestID: newRequestID(), Link: strings.TrimSpace(q.Get("link")), Quantity: strings.TrimSpace(q.Get("quantity"))}
	if id, err := strconv.ParseInt(q.Get("service"), 10, 64); err == nil {
		if svc, err := snap.Service(id); err == nil && svc.Enabled {
			p.Form.ServiceID, p.Form.Selected = id, &svc
		}
	}
	p.Form.choices(snap, q.Get("category"))
	if p.Recent, err = s.db.ListOrders(r.Context(), store.OrderFilter{Scope: store.Customer(v.Account.ID), Limit: 5}); err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", p)
}

// orderPlace places the order of the new-order form, through the same
// store.PlaceOrderAs the API's add uses. "Check the price" (preview) shows
// the charge and places nothing. A refused order comes back on the form,
// as typed, with the reason.
func (s *site) orderPlace(w http.ResponseWriter, r *http.Request, v *visit) {
	f := orderForm{
		Link: strings.TrimSpace(r.PostFormValue("link")), Quantity: strings.TrimSpace(r.PostFormValue("quantity")),
		Comments: r.PostFormValue("comments"), Usernames: r.PostFormValue("usernames"),
		Username: strings.TrimSpace(r.PostFormValue("username")), AnswerNumber: strings.TrimSpace(r.PostFormValue("answer_number")),
		Runs: strings.TrimSpace(r.PostFormValue("runs")), Interval: strings.TrimSpace(r.PostFormValue("interval")),
		RequestID: r.PostFormValue("request_id"),
	}
	if f.RequestID == "" || len(f.RequestID) > 64 {
		f.RequestID = newRequestID()
	}
	f.ServiceID, _ = strconv.ParseInt(r.PostFormValue("service"), 10, 64)
	in := store.OrderInput{ServiceID: f.ServiceID, RequestID: f.RequestID, Link: f.Link, Quantity: f.Quantity,
		Comments: f.Comments, Usernames: f.Usernames, Username: f.Username, AnswerNumber: f.AnswerNumber,
		Runs: f.Runs, Interval: f.Interval}
	account := v.Account.ID
	if r.PostFormValue("preview") == "" {
		placed, err := s.db.PlaceOrderAs(r.Context(), func(_ context.Context, _ *store.Snapshot) (int64, error) { return account, nil }, in)
		if err == nil {
			redirect(w, r, "/orders/"+placed.ID+"?notice=placed")
			return
		}
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		f.Error = msg
		if errors.Is(err, store.ErrRequestIDReused) {
			// Back to a form that placed an order, changed and sent
			// again: a new order is meant, and the next submit of this
			// form, with a request_id of its own, places it.
			f.Error = "This form already placed an order, with other details. Check them and press Place order again to place a new one."
			f.RequestID = newRequestID()
		}
	}
	snap, err := s.snapshot(r.Context(), v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if svc, err := snap.Service(f.ServiceID); err == nil && svc.Enabled {
		f.Selected = &svc
	}
	f.choices(snap, r.PostFormValue("category"))
	code := http.StatusBadRequest
	if f.Error == "" {
		q, err := snap.Quote(in)
		if msg, ok := userError(err); ok {
			f.Error = msg
		} else if err != nil {
			s.internal(w, r, err)
			return
		} else {
			f.Quote, code = &q, http.StatusOK
		}
	}
	p := homePage{base: s.base(r, v, "New order", "order"), Form: f, Services: len(snap.Catalog())}
	if p.Recent, err = s.db.ListOrders(r.Context(), store.OrderFilter{Scope: store.Customer(account), Limit: 5}); err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, code, "home", p)
}

// MaxMassLines bounds a mass order.
const MaxMassLines = 100

// massLine is one line of a mass order and what became of it.
type massLine struct {
	N       int
	Text    string
	OrderID string
	Charge  int64
	Error   string
	// Before: the same line of this form placed the order earlier, and
	// nothing was charged now.
	Before bool
}

// massPage is /massorder: one "service|link|quantity" a line.
type massPage struct {
	base
	Text      string
	RequestID string
	Lines     []massLine
	Placed    int
	Charged   int64
	Before    int // lines placed by an earlier submit of the form
	Error     string
}

func (s *site) massOrderForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, http.StatusOK, "massorder", massPage{base: s.base(r, v, "Mass order", "massorder"), RequestID: newRequestID()})
}

// massOrderPlace places each line as its own add, through the same
// store.PlaceOrderAs: a refused line is charged nothing and does not stop
// the others. Each line's request_id is the form's plus its line number,
// so sending the form twice places each line once.
func (s *site) massOrderPlace(w http.ResponseWriter, r *http.Request, v *visit) {
	p := massPage{base: s.base(r, v, "Mass order", "massorder"), Text: r.PostFormValue("orders"), RequestID: r.PostFormValue("request_id")}
	if p.RequestID == "" || len(p.RequestID) > 64 {
		p.RequestID = newRequestID()
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(p.Text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	switch {
	case len(lines) == 0:
		p.Error = "Write one order a line: service id|link|quantity."
		s.render(w, r, http.StatusBadRequest, "massorder", p)
		return
	case len(lines) > MaxMassLines:
		p.Error = "At most " + strconv.Itoa(MaxMassLines) + " lines at once; this has " + strconv.Itoa(len(lines)) + ". Nothing was placed."
		s.render(w, r, http.StatusBadRequest, "massorder", p)
		return
	}
	account := v.Account.ID
	authorize := func(_ context.Context, _ *store.Snapshot) (int64, error) { return account, nil }
	seen := map[string]int{}
	for i, l := range lines {
		line := massLine{N: i + 1, Text: l}
		parts := strings.Split(l, "|")
		if len(parts) != 3 {
			line.Error = "Write it as service id|link|quantity"
			p.Lines = append(p.Lines, line)
			continue
		}
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		svc, err := store.ParseCount("service", parts[0])
		if err != nil {
			line.Error = "Unknown service id " + strconv.Quote(parts[0])
			p.Lines = append(p.Lines, line)
			continue
		}
		// A line's request_id is the form's, the line's order and how
		// many times the same order came before in the form: not its
		// position, so that the form sent again with placed lines taken
		// out, or refused ones fixed, places what is new and nothing
		// twice.
		key := strings.Join(parts, "|")
		seen[key]++
		sum := sha256.Sum256([]byte(key))
		placed, err := s.db.PlaceOrderAs(r.Context(), authorize, store.OrderInput{ServiceID: svc,
			RequestID: p.RequestID + "-" + hex.EncodeToString(sum[:8]) + "-" + strconv.Itoa(seen[key]),
			Link:      parts[1], Quantity: parts[2]})
		if err != nil {
			msg, ok := userError(err)
			if !ok {
				s.internal(w, r, err)
				return
			}
			line.Error = msg
		} else {
			line.OrderID, line.Before = placed.ID, placed.Before
			if o, err := s.db.Order(r.Context(), store.Customer(account), placed.ID); err == nil {
				line.Charge = o.Charge
			}
			if placed.Before {
				p.Before++
			} else {
				p.Placed++
				p.Charged += line.Charge
			}
		}
		p.Lines = append(p.Lines, line)
	}
	if a, err := s.db.AccountByID(r.Context(), account); err == nil {
		v.Account = &a // the balance after the charges
		p.base.Account = v.Account
	}
	s.render(w, r, http.StatusOK, "massorder", p)
}
