package paymenttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"
)

// Stripe fakes Stripe's Checkout Sessions API: create and retrieve, with
// idempotency keys, and events signed with Stripe-Signature.
type Stripe struct {
	fake
	Key, WebhookSecret string
	// APIVersion is the version events are sent in (the account's, which
	// may differ from the SDK's).
	APIVersion string
	idem       map[string]string // idempotency key → session id
}

// NewStripe returns a fake Stripe that accepts key and signs events with
// webhookSecret.
func NewStripe(key, webhookSecret string) *Stripe {
	s := &Stripe{Key: key, WebhookSecret: webhookSecret, APIVersion: "2020-08-27", idem: map[string]string{}}
	s.init()
	return s
}

func (s *Stripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/checkout/sessions" && r.Method == http.MethodPost {
		s.creates.Add(1)
	}
	if s.misbehave(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Key {
		stripeError(w, http.StatusUnauthorized, "Invalid API Key provided")
		return
	}
	switch {
	case r.URL.Path == "/v1/checkout/sessions" && r.Method == http.MethodPost:
		s.create(w, r)
	case strings.HasPrefix(r.URL.Path, "/v1/checkout/sessions/") && r.Method == http.MethodGet:
		s.lookups.Add(1)
		c, ok := s.get(strings.TrimPrefix(r.URL.Path, "/v1/checkout/sessions/"))
		if !ok {
			stripeError(w, http.StatusNotFound, "No such checkout.session")
			return
		}
		writeJSON(w, s.session(c))
	default:
		stripeError(w, http.StatusNotFound, "Unrecognized request URL")
	}
}

func (s *Stripe) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		stripeError(w, http.StatusBadRequest, "bad form")
		return
	}
	f := r.PostForm
	amount := f.Get("line_items[0][price_data][unit_amount]")
	if f.Get("mode") != "payment" || f.Get("line_items[0][quantity]") != "1" || amount == "" ||
		f.Get("success_url") == "" || f.Get("cancel_url") == "" {
		stripeError(w, http.StatusBadRequest, "missing parameters")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	if id, ok := s.idem[key]; ok && key != "" {
		writeJSON(w, s.session(*s.checkouts[id]))
		return
	}
	c := &Checkout{Reference: s.next("cs_test_"), Deposit: f.Get("client_reference_id"), Amount: amount,
		Currency: f.Get("line_items[0][price_data][currency]")}
	s.add(c)
	s.idem[key] = c.Reference
	writeJSON(w, s.session(*c))
}

// session is c as Stripe answers it, its payment intent expanded.
func (s *Stripe) session(c Checkout) map[string]any {
	status, paid, intent := "open", "unpaid", "requires_payment_method"
	total, _ := strconv.ParseInt(c.Amount, 10, 64)
	switch c.State {
	case Paid:
		status, paid, intent = "complete", "paid", "succeeded"
	case Overpaid:
		status, paid, intent = "complete", "paid", "succeeded"
		total++
	case Expired:
		status, intent = "expired", "canceled"
	case Failed, Underpaid:
		status = "complete"
	}
	return map[string]any{
		"id": c.Reference, "object": "checkout.session", "mode": "payment", "amount_total": total,
		"currency": c.Currency, "client_reference_id": c.Deposit, "status": status, "payment_status": paid,
		"url":            "https://checkout.stripe.test/c/pay/" + c.Reference,
		"payment_intent": map[string]any{"id": "pi_" + c.Reference, "object": "payment_intent", "status": intent},
	}
}

// Webhook returns an event of type about the checkout, signed now, and
// its headers.
func (s *Stripe) Webhook(reference, typ string) ([]byte, http.Header) {
	c, ok := s.get(reference)
	if !ok {
		c = Checkout{Reference: reference}
	}
	body, _ := json.Marshal(map[string]any{
		"id": "evt_" + reference, "object": "event", "api_version": s.APIVersion, "type": typ,
		"created": time.Now().Unix(), "data": map[string]any{"object": s.session(c)},
	})
	return body, s.Sign(body, time.Now())
}

// Sign signs body with the webhook secret as Stripe does at t.
func (s *Stripe) Sign(body []byte, t time.Time) http.Header {
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: s.WebhookSecret, Timestamp: t})
	return http.Header{"Stripe-Signature": {p.Header}, "Content-Type": {"application/json"}}
}

func stripeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"type": "invalid_request_error", "message": msg}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(fmt.Sprint("paymenttest: ", err))
	}
}
