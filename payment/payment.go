// Package payment lets customers top up their balance through payment
// gateways (Stripe Checkout, BTCPay Server, Cryptomus), and credits every
// payment exactly once.
//
// The promise rests on three rules. A deposit is recorded only once its
// gateway has made the checkout, so no half-made deposit is ever left
// behind. Nothing the customer's browser or a webhook says is believed: a
// webhook, once its signature is checked on the raw body, only makes the
// deposit due for a read-back, and the credit is decided on the gateway's
// own answer to that read-back. The credit itself is the store's guarded
// pending → credited transition in the transaction of its ledger row, so
// repeated webhooks, the worker's reconciler and the operator's refresh,
// racing one another, credit once.
//
// # For the storefront
//
// The /addfunds page needs three calls on the *Service that serve makes
// (cmd_serve.go: payments), each scoped to the signed-in account (a
// customer-facing call without one is an error), and store.ParseMoney for
// the amount typed:
//
//	amount, err := store.ParseMoney(form.Get("amount"))
//	choices, err := svc.Choices(ctx)
//	    // the enabled gateways, each with its Min and Max (micro-units), for the form
//	dep, err := svc.StartDeposit(ctx, accountID, gatewayName, amount, payment.ReturnURLs{
//	    Success: "https://panel.example/addfunds/return?deposit={DEPOSIT}",
//	    Cancel:  "https://panel.example/addfunds?cancelled={DEPOSIT}",
//	})
//	    // on success: http.Redirect(w, r, dep.CheckoutURL, http.StatusSeeOther)
//	    // on error: show store.ErrorMessage(err) (codes Invalid, NotFound,
//	    // Forbidden, Unavailable: "The payment provider is unavailable…")
//	deps, err := svc.Deposits(ctx, accountID, 20)
//	    // the account's top-ups, newest first: show ID, Gateway, Amount,
//	    // Currency, Status, Credited and Created (Review, Note, LastError
//	    // and Reference are the operator's)
//
// {DEPOSIT} in a return URL is replaced by the deposit's id. The return
// page only says that the payment will show shortly: a browser's return
// credits nothing. Gateways that take a callback address with each payment
// (Cryptomus) are told the site's public URL (store.Site.URL; the Success
// URL's scheme and host while it is unset) followed by
// /payments/NAME/webhook, served by Service.ServeHTTP in the payments room
// (Service.Room).
package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"notpanel/store"
)

// Gateway is one payment gateway's API: the only code that knows how it
// speaks. Adding a gateway is one file implementing it, and its tests.
type Gateway interface {
	// Checkout asks the gateway for a checkout page for one deposit.
	Checkout(ctx context.Context, c CheckoutRequest) (Checkout, error)
	// Verify checks a webhook's signature on its raw body, before anything
	// in it is believed, and returns the gateway's reference of the
	// checkout it tells of: "" for an event about something else, which is
	// acknowledged and ignored. A missing or wrong signature is an
	// ErrSignature.
	Verify(h http.Header, body []byte) (reference string, err error)
	// Lookup reads a checkout back from the gateway's API: the answer a
	// credit is decided on.
	Lookup(ctx context.Context, reference string) (Payment, error)
}

// CheckoutRequest is what a gateway is asked to collect.
type CheckoutRequest struct {
	// Deposit is our id: the gateway's order reference and idempotency key.
	Deposit string
	// Amount is in micro-units of Currency (upper-case ISO 4217).
	Amount   int64
	Currency string
	// What the customer sees on the gateway's page.
	Description string
	// SuccessURL and CancelURL take the customer back to the panel;
	// WebhookURL is this gateway's webhook endpoint, for gateways that take
	// it with each payment.
	SuccessURL, CancelURL, WebhookURL string
}

// Checkout is a gateway's answer to a CheckoutRequest.
type Checkout struct {
	Reference string // the gateway's id of the checkout
	URL       string // where the customer pays
}

// Verdict is what a read-back says of a payment.
type Verdict int

// The verdicts.
const (
	// Open: not paid yet, maybe later.
	Open Verdict = iota
	// Paid: paid in full; Payment.Amount is what to credit.
	Paid
	// Expired: the checkout ended unpaid.
	Expired
	// Failed: the payment failed for good.
	Failed
	// Review: something the operator must look at (Payment.Reason says
	// what), such as less paid than asked.
	Review
)

func (v Verdict) String() string {
	return [...]string{"open", "paid", "expired", "failed", "review"}[v]
}

// Payment is a checkout as read back from its gateway.
type Payment struct {
	Verdict Verdict
	// Amount paid, in micro-units of Currency; set when Paid.
	Amount   int64
	Currency string
	// Status is the gateway's own word for the checkout, kept for the
	// operator ("complete/paid", "Settled", "wrong_amount").
	Status string
	// Reason says why a Review verdict needs the operator.
	Reason string
	// Deposit is our id as the gateway holds it ("" when it holds none):
	// it must be the deposit's own.
	Deposit string
}

// Errors of the gateways.
var (
	// ErrSignature: a webhook without a valid signature.
	ErrSignature = errors.New("missing or invalid webhook signature")
	// ErrNoSecret: a webhook to a gateway that has no secret to check it.
	ErrNoSecret = errors.New("no webhook secret configured for this gateway")
	// ErrUnavailable is what a customer sees when a gateway is down, slow
	// or answers garbage while a deposit starts.
	ErrUnavailable = store.Errorf(store.Unavailable, "The payment provider is unavailable; please try again in a few minutes")
)

// gatewayError is a call to a gateway that did not give a usable answer.
type gatewayError struct {
	gateway string
	op      string
	err     error
}

func (e *gatewayError) Error() string { return e.gateway + " " + e.op + ": " + e.err.Error() }
func (e *gatewayError) Unwrap() error { return e.err }

// DefaultURL is the public API of each kind of gateway; a gateway's --url
// replaces it (a BTCPay server has no default: it is the operator's own).
var DefaultURL = map[string]string{
	store.GatewayStripe:    "https://api.stripe.com",
	store.GatewayCryptomus: "https://api.cryptomus.com",
}

// Prepare fills in the defaults of a gateway about to be added and checks
// what its kind needs: BTCPay a store and its server's URL, Cryptomus a
// merchant (its webhooks are signed with the API key, which thus is its
// webhook secret).
func Prepare(g *store.Gateway) error {
	if g.URL == "" {
		g.URL = DefaultURL[g.Kind]
	}
	g.URL = strings.TrimRight(g.URL, "/")
	switch g.Kind {
	case store.GatewayBTCPay:
		if g.URL == "" {
			return store.Errorf(store.Invalid, "A BTCPay gateway needs --url, the address of the BTCPay server")
		}
		if g.StoreID == "" {
			return store.Errorf(store.Invalid, "A BTCPay gateway needs --store-id")
		}
	case store.GatewayCryptomus:
		if g.Merchant == "" {
			return store.Errorf(store.Invalid, "A Cryptomus gateway needs --merchant, the merchant UUID")
		}
		if g.WebhookSecret != "" && g.WebhookSecret != g.APIKey {
			return store.Errorf(store.Invalid, "Cryptomus signs its webhooks with the payment API key: leave out --webhook-secret")
		}
		g.WebhookSecret = g.APIKey
	case store.GatewayStripe:
	default:
		return store.Errorf(store.Invalid, "Invalid gateway kind %q: want %s", g.Kind, strings.Join(store.GatewayKinds, ", "))
	}
	if g.Kind != store.GatewayBTCPay && g.StoreID != "" {
		return store.Errorf(store.Invalid, "--store-id is for BTCPay gateways only")
	}
	if g.Kind != store.GatewayCryptomus && g.Merchant != "" {
		return store.Errorf(store.Invalid, "--merchant is for Cryptomus gateways only")
	}
	return nil
}

// open builds the client of a stored gateway.
func open(g store.Gateway, client *http.Client) (Gateway, error) {
	switch g.Kind {
	case store.GatewayStripe:
		return newStripe(g, client), nil
	case store.GatewayBTCPay:
		return &btcpay{g: g, client: client}, nil
	case store.GatewayCryptomus:
		return &cryptomus{g: g, client: client}, nil
	}
	return nil, fmt.Errorf("gateway %s: unknown kind %q", g.Name, g.Kind)
}

// maxAnswer bounds what is read of a gateway's answer.
const maxAnswer = 1 << 20

// DefaultTimeout bounds one call to a gateway.
const DefaultTimeout = 20 * time.Second
