package payment_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"notpanel/payment"
	"notpanel/payment/paymenttest"
	"notpanel/store"
	"notpanel/store/storetest"
)

var ctx = context.Background()

// fakeGateway is what the tests need of each fake.
type fakeGateway interface {
	http.Handler
	Fail(paymenttest.Failure)
	Set(reference string, s paymenttest.State)
	Checkouts() []paymenttest.Checkout
	Lookups() int64
	Creates() int64
}

// world is a panel with one gateway of a kind, served by its fake, and a
// customer, alice.
type world struct {
	t       *testing.T
	db      *store.DB
	svc     *payment.Service
	reg     *prometheus.Registry
	kind    string
	fake    fakeGateway
	server  *httptest.Server
	gateway store.Gateway
	alice   store.Account
	logs    *bytes.Buffer
	now     func() time.Time
	// webhook makes the gateway's webhook about a checkout, signed.
	webhook func(reference string) ([]byte, http.Header)
}

var kinds = []string{store.GatewayStripe, store.GatewayBTCPay, store.GatewayCryptomus}

func newWorld(t *testing.T, kind string) *world {
	t.Helper()
	w := &world{t: t, db: storetest.Open(t), kind: kind, reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}, now: time.Now}
	g := store.Gateway{Name: "pay", Kind: kind, APIKey: "key-1", Min: 1_000_000, Max: 1_000_000_000}
	switch kind {
	case store.GatewayStripe:
		f := paymenttest.NewStripe("key-1", "whsec_test")
		w.fake, g.WebhookSecret = f, "whsec_test"
		w.webhook = func(ref string) ([]byte, http.Header) { return f.Webhook(ref, "checkout.session.completed") }
	case store.GatewayBTCPay:
		f := paymenttest.NewBTCPay("key-1", "store-1", "btcpay-secret")
		w.fake, g.WebhookSecret, g.StoreID = f, "btcpay-secret", "store-1"
		w.webhook = func(ref string) ([]byte, http.Header) { return f.Webhook(ref, "InvoiceSettled") }
	case store.GatewayCryptomus:
		f := paymenttest.NewCryptomus("key-1", "merchant-1")
		w.fake, g.Merchant = f, "merchant-1"
		w.webhook = f.Webhook
	}
	w.server = httptest.NewServer(w.fake)
	t.Cleanup(w.server.Close)
	g.URL = w.server.URL
	w.svc = payment.New(payment.Config{DB: w.db, Log: zerolog.New(w.logs), Registry: w.reg, Timeout: 2 * time.Second,
		Now: func() time.Time { return w.now() }})
	var err error
	if w.gateway, err = w.svc.AddGateway(ctx, g); err != nil {
		t.Fatal(err)
	}
	w.alice, _ = storetest.Account(t, w.db, "alice", 0)
	return w
}

var urls = payment.ReturnURLs{Success: "https://panel.test/addfunds/return?deposit={DEPOSIT}", Cancel: "https://panel.test/addfunds"}

// start starts a deposit of amount for alice; it must succeed.
func (w *world) start(amount int64) store.Deposit {
	w.t.Helper()
	d, err := w.svc.StartDeposit(ctx, w.alice.ID, "pay", amount, urls)
	if err != nil {
		w.t.Fatalf("start deposit: %v", err)
	}
	return d
}

// post sends a webhook to the service and returns the status.
func (w *world) post(name string, body []byte, h http.Header) int {
	w.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/payments/"+name+"/webhook", bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	w.svc.ServeHTTP(rec, req)
	return rec.Code
}

func (w *world) balance() int64 {
	w.t.Helper()
	b, err := w.db.Balance(ctx, w.alice.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (w *world) deposit(id string) store.Deposit {
	w.t.Helper()
	d, err := w.db.FindDeposit(ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// notify posts the gateway's webhook about a checkout to the service.
func (w *world) notify(reference string) int {
	w.t.Helper()
	body, h := w.webhook(reference)
	return w.post("pay", body, h)
}

func httptestRequest(method, path string, body []byte, h http.Header) *http.Request {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	return req
}

func recorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
