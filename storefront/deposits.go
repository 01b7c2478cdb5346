package storefront

import (
	"net/http"
	"net/url"
	"strings"

	"notpanel/payment"
	"notpanel/store"
)

// addFundsPage is /addfunds: the top-up form (an amount and one of the
// enabled gateways, each with its limits) and the customer's top-ups.
type addFundsPage struct {
	base
	Choices  []payment.Choice
	Deposits []store.Deposit
	Amount   string
	Gateway  string
	Error    string
}

// DepositsShown is how many of a customer's top-ups /addfunds lists.
const DepositsShown = 20

func (s *site) addFundsPage(r *http.Request, v *visit) (addFundsPage, error) {
	p := addFundsPage{base: s.base(r, v, "Add funds", "addfunds")}
	if s.cfg.Payments == nil {
		return p, nil
	}
	var err error
	if p.Choices, err = s.cfg.Payments.Choices(r.Context()); err != nil {
		return p, err
	}
	p.Deposits, err = s.cfg.Payments.Deposits(r.Context(), v.Account.ID, DepositsShown)
	return p, err
}

func (s *site) addFundsForm(w http.ResponseWriter, r *http.Request, v *visit) {
	p, err := s.addFundsPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(p.Choices) == 1 {
		p.Gateway = p.Choices[0].Name
	}
	checkoutPolicy(w)
	s.render(w, r, http.StatusOK, "addfunds", p)
}

// checkoutPolicy lets the top-up form's answer, a 303 to the gateway's
// checkout, leave the site: a browser holds a form's redirect to the
// page's form-action, which elsewhere is 'self' alone.
func checkoutPolicy(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "form-action 'self'", "form-action 'self' https:", 1))
}

// addFundsStart starts a top-up through the chosen gateway and sends the
// customer to its checkout. Nothing is credited here, nor on the return
// page: the gateway's own answer, read back by the server, decides.
func (s *site) addFundsStart(w http.ResponseWriter, r *http.Request, v *visit) {
	p, err := s.addFundsPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p.Amount, p.Gateway = strings.TrimSpace(r.PostFormValue("amount")), r.PostFormValue("gateway")
	fail := func(code int, msg string) {
		p.Error = msg
		checkoutPolicy(w)
		s.render(w, r, code, "addfunds", p)
	}
	if s.cfg.Payments == nil || len(p.Choices) == 0 {
		fail(http.StatusBadRequest, "Online top-ups are not set up on this panel.")
		return
	}
	amount, err := store.ParseMoney(p.Amount)
	if err != nil || amount <= 0 {
		fail(http.StatusBadRequest, "Write the amount as a number such as 25 or 12.50.")
		return
	}
	base := siteOrigin(p.Site, r, v)
	d, err := s.cfg.Payments.StartDeposit(r.Context(), v.Account.ID, p.Gateway, amount, payment.ReturnURLs{
		Success: base + "/addfunds/return?deposit=" + payment.DepositPlaceholder,
		Cancel:  base + "/addfunds",
	})
	if err != nil {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		code := http.StatusBadRequest
		if store.ErrorCode(err) == store.Unavailable {
			code = http.StatusServiceUnavailable
		}
		fail(code, msg)
		return
	}
	u, err := url.Parse(d.CheckoutURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		s.internal(w, r, err)
		return
	}
	http.Redirect(w, r, d.CheckoutURL, http.StatusSeeOther)
}

// returnPage is where a gateway sends the customer back.
type returnPage struct {
	base
	Deposit *store.Deposit
}

// addFundsReturn only says the payment will show shortly: a browser's
// return proves nothing, and never credits anything.
func (s *site) addFundsReturn(w http.ResponseWriter, r *http.Request, v *visit) {
	p := returnPage{base: s.base(r, v, "Thank you", "addfunds")}
	if s.cfg.Payments != nil {
		deps, err := s.cfg.Payments.Deposits(r.Context(), v.Account.ID, DepositsShown)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		id := r.URL.Query().Get("deposit")
		for i := range deps {
			if deps[i].ID == id {
				p.Deposit = &deps[i]
			}
		}
	}
	s.render(w, r, http.StatusOK, "addfunds_return", p)
}
