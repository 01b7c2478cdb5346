// Package storefront is the customer website, a room of the server: people
// sign up, order, follow their orders, manage API keys and webhooks, and
// read the API's documentation in a browser. Pages are rendered on the
// server from templates embedded in the binary and work without
// JavaScript. No money or order rule lives here: the handlers decode a
// form, call the same store functions the API calls, and render or
// redirect.
package storefront

import (
	"context"
	"embed"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/rs/zerolog"

	"notpanel/payment"
	"notpanel/ratelimit"
	"notpanel/server"
	"notpanel/store"
	"notpanel/webhook"
)

//go:embed templates static
var files embed.FS

// Sign-up modes of serve --signup.
const (
	SignupOpen   = "open"
	SignupInvite = "invite"
	SignupClosed = "closed"
)

// Config is what the storefront needs.
type Config struct {
	DB  *store.DB
	Log zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TrustedProxies may say, in X-Forwarded-Proto, that a request came
	// over TLS: then the session cookie is Secure.
	TrustedProxies []netip.Prefix
	// Signup is who may create an account: SignupOpen (default),
	// SignupInvite (with a code from notpanel invite create) or
	// SignupClosed.
	Signup string
	// Mailer sends password reset links; nil when the operator set no
	// SMTP server, and the forgot page then says to contact the panel.
	Mailer Mailer
	// Payments starts top-ups through the operator's gateways; nil when
	// there are none, and /addfunds says to contact the panel.
	Payments *payment.Service
	// Resolver and WebhookInsecure apply the API's webhook rules.
	Resolver        webhook.Resolver
	WebhookInsecure bool
}

// site is the storefront's state.
type site struct {
	cfg   Config
	db    *store.DB
	log   zerolog.Logger
	now   func() time.Time
	pages map[string]*page
	// Buckets: sign-in failures by client address and by account name,
	// sign-ups and reset requests by client address.
	loginIPs, loginNames, signups, resets *ratelimit.Buckets
	cop                                   *http.CrossOriginProtection
	static                                http.Handler
}

// Budgets of the storefront's buckets, a minute.
const (
	loginFailuresPerIP   = 20
	loginFailuresPerName = 10
	signupsPerIP         = 3
	resetsPerIP          = 5
)

// New returns the storefront room. Its templates are parsed here, once: a
// broken template is an error at start, not a panic on a page.
func New(cfg Config) (server.Room, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch cfg.Signup {
	case "":
		cfg.Signup = SignupOpen
	case SignupOpen, SignupInvite, SignupClosed:
	default:
		return server.Room{}, errors.New("signup mode must be open, invite or closed")
	}
	pages, err := parsePages()
	if err != nil {
		return server.Room{}, err
	}
	s := &site{cfg: cfg, db: cfg.DB, log: cfg.Log, now: cfg.Now, pages: pages,
		loginIPs: ratelimit.New(100_000), loginNames: ratelimit.New(100_000),
		signups: ratelimit.New(100_000), resets: ratelimit.New(100_000),
		cop:    http.NewCrossOriginProtection(),
		static: staticHandler(),
	}
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "This form was sent from another site, so it was not accepted. Open the page again and send it from there.")
	}))
	return server.Room{
		Name:     "store",
		Routes:   s.routes,
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }),
		MethodNotAllowed: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, http.StatusMethodNotAllowed, "That page cannot be used this way.")
		}),
		Panicked: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side. Nothing was charged twice; please try again.")
		}),
	}, nil
}

// access is who may see a page.
type access int

const (
	public   access = iota // anyone, signed in or not
	guest                  // only someone not signed in (sign-up, sign-in)
	customer               // only a signed-in customer
	halfway                // only someone who gave the password and owes the two-factor code
)

// handler is a page's handler: it gets the request's visit (who, the site).
type handler func(w http.ResponseWriter, r *http.Request, v *visit)

func (s *site) routes(m server.Mux) {
	get := func(path, name string, who access, h handler) { m.Handle(http.MethodGet, path, s.wrap(name, who, h)) }
	post := func(path, name string, who access, h handler) {
		m.Handler(http.MethodPost, path, s.cop.Handler(adapt(s.wrap(name, who, h))))
	}
	m.Handler(http.MethodGet, "/static/*file", s.static)
	m.Handle(http.MethodGet, "/theme.css", s.theme)

	get("/", "home", public, s.home)
	get("/services", "services", public, s.serviceList)
	get("/api", "api", public, s.apiDoc)
	get("/terms", "terms", public, s.terms)

	get("/signup", "signup", guest, s.signupForm)
	post("/signup", "signup", guest, s.signupCheck)
	get("/login", "login", guest, s.loginForm)
	post("/login", "login", guest, s.loginCheck)
	get("/login/code", "login_code", halfway, s.codeForm)
	post("/login/code", "login_code", halfway, s.codeCheck)
	post("/logout", "logout", public, s.logout)
	get("/forgot", "forgot", guest, s.forgotForm)
	post("/forgot", "forgot", guest, s.forgotSend)
	get("/reset", "reset", public, s.resetForm)
	post("/reset", "reset", public, s.resetSave)

	post("/order", "order_place", customer, s.orderPlace)
	get("/massorder", "massorder", customer, s.massOrderForm)
	post("/massorder", "massorder", customer, s.massOrderPlace)
	get("/orders", "orders", customer, s.orderList)
	get("/orders/:id", "order", customer, s.orderShow)
	post("/orders/:id/cancel", "order_cancel", customer, s.orderCancel)
	post("/orders/:id/refill", "order_refill", customer, s.orderRefill)

	get("/account", "account", customer, s.accountShow)
	post("/account/password", "account_password", customer, s.passwordChange)
	post("/account/email", "account_email", customer, s.emailChange)
	post("/account/low-balance", "account_low_balance", customer, s.lowBalanceChange)
	post("/account/2fa", "account_2fa", customer, s.twoFactorStart)
	post("/account/2fa/confirm", "account_2fa", customer, s.twoFactorConfirm)
	post("/account/2fa/off", "account_2fa", customer, s.twoFactorOff)
	post("/account/signout-everywhere", "account_signout", customer, s.signOutEverywhere)
	get("/transactions", "transactions", customer, s.transactions)
	get("/addfunds", "addfunds", customer, s.addFundsForm)
	post("/addfunds", "addfunds", customer, s.addFundsStart)
	get("/addfunds/return", "addfunds_return", customer, s.addFundsReturn)
	get("/keys", "keys", customer, s.keyList)
	post("/keys", "keys", customer, s.keyCreate)
	post("/keys/:id/revoke", "key_revoke", customer, s.keyRevoke)
	get("/webhooks", "webhooks", customer, s.webhookList)
	post("/webhooks", "webhooks", customer, s.webhookAdd)
	post("/webhooks/:id/remove", "webhook_remove", customer, s.webhookRemove)
	post("/webhooks/:id/test", "webhook_test", customer, s.webhookTest)
}

func adapt(h httprouter.Handle) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, httprouter.ParamsFromContext(r.Context())) })
}

// MaxForm bounds a page's form body: a mass order of 100 lines fits many
// times over.
const MaxForm = 256 << 10

// wrap sets the security headers every page carries, loads the visitor's
// session, keeps each page to the visitors it is for, and bounds the form.
func (s *site) wrap(name string, who access, h handler) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, p httprouter.Params) {
		info := server.InfoFrom(r.Context())
		info.Action, info.Room = name, "store"
		setSecurityHeaders(w.Header())
		r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					s.fail(w, r, http.StatusRequestEntityTooLarge, "That form is too large to accept. Nothing was done.")
				} else {
					s.fail(w, r, http.StatusBadRequest, "That form could not be read. Nothing was done.")
				}
				return
			}
		}
		v, err := s.visit(r, p)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if v.Account != nil {
			info.Account = v.Account.ID
		}
		switch {
		case who == customer && v.Account == nil:
			if v.halfway {
				redirect(w, r, "/login/code")
				return
			}
			redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
			return
		case who == guest && v.Account != nil:
			redirect(w, r, "/")
			return
		case who == halfway && !v.halfway:
			redirect(w, r, "/login")
			return
		}
		h(w, r, v)
	}
}

// setSecurityHeaders: no script but the site's own files, no framing, no
// sniffing, and no full URL (order links, reset tokens) sent to other
// sites.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// redirect answers a POST (or a guarded GET) with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.HasPrefix(to, "/\\") {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// internal answers a failure of ours: logged with the request id, shown as
// a page that says nothing of the cause.
func (s *site) internal(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		return // the browser went away
	}
	s.log.Error().Err(err).Str("req", server.InfoFrom(r.Context()).ID).Msg("storefront: internal error")
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again in a moment.")
}

// userError is the text of an error meant for the customer, and whether it
// is one (an Internal error is logged, never shown).
func userError(err error) (string, bool) {
	if err == nil || store.ErrorCode(err) == store.Internal {
		return "", false
	}
	return store.ErrorMessage(err), true
}

// snapshot is the catalog, currency and shop window as of now, read once a
// visit: the page's base and its handler share it.
func (s *site) snapshot(ctx context.Context, v *visit) (*store.Snapshot, error) {
	if v != nil && v.snap != nil {
		return v.snap, nil
	}
	snap, err := s.db.Refresh(ctx)
	if err == nil && v != nil {
		v.snap = snap
	}
	return snap, err
}
