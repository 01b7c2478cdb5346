package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"notpanel/store"
)

// stripeTolerance is how old a Stripe-Signature timestamp may be.
const stripeTolerance = 5 * time.Minute

// stripeGateway is Stripe Checkout through Stripe's SDK: a Checkout Session
// in payment mode per deposit, credited when the session read back is
// paid, for its amount_total.
type stripeGateway struct {
	g  store.Gateway
	sc *stripe.Client
}

func newStripe(g store.Gateway, client *http.Client) *stripeGateway {
	backends := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL:        stripe.String(g.URL),
		HTTPClient: client,
		// A call is retried once (with the same idempotency key); the
		// worker retries the rest later.
		MaxNetworkRetries: stripe.Int64(1),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return &stripeGateway{g: g, sc: stripe.NewClient(g.APIKey, stripe.WithBackends(backends))}
}

func (s *stripeGateway) Checkout(ctx context.Context, c CheckoutRequest) (Checkout, error) {
	minor, err := toMinor(c.Amount, c.Currency)
	if err != nil {
		return Checkout{}, err
	}
	params := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(c.Deposit),
		SuccessURL:        stripe.String(c.SuccessURL),
		CancelURL:         stripe.String(c.CancelURL),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(c.Currency)),
				UnitAmount:  stripe.Int64(minor),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(c.Description)},
			},
		}},
		Metadata: map[string]string{"deposit": c.Deposit},
	}
	params.SetIdempotencyKey(c.Deposit)
	sess, err := s.sc.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return Checkout{}, &gatewayError{s.g.Name, "create checkout session", err}
	}
	if sess.ID == "" || !validCheckoutURL(sess.URL) {
		return Checkout{}, &gatewayError{s.g.Name, "create checkout session", fmt.Errorf("answer without a session id or URL")}
	}
	return Checkout{Reference: sess.ID, URL: sess.URL}, nil
}

// stripeEvent is the part of an event a webhook needs; everything else is
// read back from the API. Events come in the account's API version, which
// may differ from the SDK's: nothing here depends on it.
type stripeEvent struct {
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID     string `json:"id"`
			Object string `json:"object"`
		} `json:"object"`
	} `json:"data"`
}

func (s *stripeGateway) Verify(h http.Header, body []byte) (string, error) {
	if s.g.WebhookSecret == "" {
		return "", ErrNoSecret
	}
	// The SDK checks the HMAC in constant time and the timestamp's age,
	// before the body is parsed.
	if err := webhook.ValidatePayloadWithTolerance(body, h.Get("Stripe-Signature"), s.g.WebhookSecret, stripeTolerance); err != nil {
		return "", fmt.Errorf("%w: %v", ErrSignature, err)
	}
	var ev stripeEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("signed event is not JSON: %v", err)
	}
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded",
		"checkout.session.async_payment_failed", "checkout.session.expired":
		if ev.Data.Object.Object == "checkout.session" {
			return ev.Data.Object.ID, nil
		}
	}
	return "", nil
}

func (s *stripeGateway) Lookup(ctx context.Context, reference string) (Payment, error) {
	params := &stripe.CheckoutSessionRetrieveParams{}
	params.AddExpand("payment_intent")
	sess, err := s.sc.V1CheckoutSessions.Retrieve(ctx, reference, params)
	if err != nil {
		return Payment{}, &gatewayError{s.g.Name, "read checkout session " + reference, err}
	}
	if sess.ID != reference {
		return Payment{}, &gatewayError{s.g.Name, "read checkout session " + reference, fmt.Errorf("answer is about %q", truncate(sess.ID, 64))}
	}
	p := Payment{Currency: strings.ToUpper(string(sess.Currency)), Deposit: sess.ClientReferenceID,
		Status: string(sess.Status) + "/" + string(sess.PaymentStatus)}
	switch {
	case sess.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid:
		amount, err := fromMinor(sess.AmountTotal, p.Currency)
		if err != nil || amount == 0 {
			return Payment{}, &gatewayError{s.g.Name, "read checkout session " + reference, fmt.Errorf("paid, but amount_total is %d", sess.AmountTotal)}
		}
		p.Verdict, p.Amount = Paid, amount
	case sess.Status == stripe.CheckoutSessionStatusExpired:
		p.Verdict = Expired
	case sess.Status == stripe.CheckoutSessionStatusComplete && sess.PaymentIntent != nil &&
		(sess.PaymentIntent.Status == stripe.PaymentIntentStatusCanceled ||
			sess.PaymentIntent.Status == stripe.PaymentIntentStatusRequiresPaymentMethod):
		// A delayed payment (a bank debit) that failed.
		p.Verdict = Failed
		p.Status += "/" + string(sess.PaymentIntent.Status)
	case sess.PaymentStatus == stripe.CheckoutSessionPaymentStatusNoPaymentRequired:
		p.Verdict, p.Reason = Review, "Stripe says no payment was required"
	default:
		p.Verdict = Open
	}
	return p, nil
}

// validCheckoutURL reports whether a gateway's checkout URL is one a
// customer can be sent to.
func validCheckoutURL(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && len(s) < 4096 &&
		!strings.ContainsAny(s, " \r\n\t")
}
