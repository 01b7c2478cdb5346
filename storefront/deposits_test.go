package storefront_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"notpanel/payment"
	"notpanel/payment/paymenttest"
	"notpanel/store"
	"notpanel/storefront"
)

// withBTCPay gives the shop a BTCPay gateway at a fake that keeps its
// invoices.
func withBTCPay(t *testing.T) (*paymenttest.BTCPay, **payment.Service, func(*storefront.Config)) {
	fake := paymenttest.NewBTCPay("key-1", "store-1", "btcpay-secret")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	var svcOut *payment.Service
	return fake, &svcOut, func(cfg *storefront.Config) {
		svc := payment.New(payment.Config{DB: cfg.DB, Log: zerolog.Nop(), Timeout: 2 * time.Second})
		if _, err := svc.AddGateway(ctx, store.Gateway{Name: "bitcoin", Kind: store.GatewayBTCPay, URL: srv.URL, APIKey: "key-1",
			WebhookSecret: "btcpay-secret", StoreID: "store-1", Min: 5 * store.MicrosPerUnit, Max: 500 * store.MicrosPerUnit}); err != nil {
			t.Fatal(err)
		}
		cfg.Payments, svcOut = svc, svc
	}
}

// aliceBalance reads alice's balance from the store.
func aliceBalance(t *testing.T, s *shop) (int64, int64) {
	t.Helper()
	a, err := s.db.FindAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, a.Balance
}

// A top-up goes to the gateway's checkout; the browser's return credits
// nothing; the gateway's "paid", read back, credits once; a gateway that
// is down leaves no deposit behind and says so.
func TestAddFunds(t *testing.T) {
	fake, svc, withGateway := withBTCPay(t)
	s := newShop(t, withGateway)
	b := s.browser()
	b.signIn("alice", alicePassword)
	code, body := b.get("/addfunds")
	if code != 200 || !strings.Contains(body, `value="bitcoin"`) || !strings.Contains(body, "5.00 to 500.00") {
		t.Fatalf("/addfunds: %d %s", code, errorOf(body))
	}
	if csp := b.last.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https:") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the top-up page's policy %q must let its form go on to the checkout, and nothing more", csp)
	}
	for _, tt := range []struct{ amount, want string }{
		{"abc", "Write the amount as a number"}, {"1", "Amount must be between 5.00 and 500.00"}, {"-5", "Write the amount"},
	} {
		if code, body := b.post("/addfunds", "amount", tt.amount, "gateway", "bitcoin"); code != 400 || !strings.Contains(errorOf(body), tt.want) {
			t.Errorf("amount %q: %d %q, want %q", tt.amount, code, errorOf(body), tt.want)
		}
	}
	if code, body := b.post("/addfunds", "amount", "25", "gateway", "paypal"); code != 400 || !strings.Contains(errorOf(body), "not available") {
		t.Errorf("unknown gateway: %d %q", code, errorOf(body))
	}
	alice, before := aliceBalance(t, s)
	code, _ = b.post("/addfunds", "amount", "25", "gateway", "bitcoin")
	checkouts := fake.Checkouts()
	if code != http.StatusSeeOther || len(checkouts) != 1 || !strings.HasPrefix(b.location(), "http") {
		t.Fatalf("top-up: %d to %q, %d checkouts", code, b.location(), len(checkouts))
	}
	deposit := checkouts[0].Deposit
	if code, body := b.get("/addfunds/return?deposit=" + deposit); code != 200 || !strings.Contains(body, "will show on your balance") {
		t.Errorf("return page: %d", code)
	}
	if _, got := aliceBalance(t, s); got != before {
		t.Errorf("balance %d after the return page, want %d: a browser's return credits nothing", got, before)
	}
	if _, body := b.get("/addfunds"); !strings.Contains(body, deposit) || !strings.Contains(body, "Waiting for payment") {
		t.Error("the pending top-up is not listed")
	}

	fake.Set(checkouts[0].Reference, paymenttest.Paid)
	if _, err := (*svc).Refresh(ctx, deposit); err != nil {
		t.Fatal(err)
	}
	if _, got := aliceBalance(t, s); got != before+25*store.MicrosPerUnit {
		t.Errorf("balance %d after the gateway said paid, want %d", got, before+25*store.MicrosPerUnit)
	}
	if _, body := b.get("/addfunds/return?deposit=" + deposit); !strings.Contains(body, "is on your balance") {
		t.Error("the return page does not say the top-up arrived")
	}

	fake.Fail(paymenttest.Down)
	if code, body := b.post("/addfunds", "amount", "30", "gateway", "bitcoin"); code != 503 || !strings.Contains(errorOf(body), "unavailable") {
		t.Errorf("gateway down: %d %q", code, errorOf(body))
	}
	if n := len(fake.Checkouts()); n != 1 {
		t.Errorf("%d checkouts after the failed start", n)
	}
	deps, _ := (*svc).Deposits(ctx, alice, 10)
	if len(deps) != 1 {
		t.Errorf("%d deposits, want the one that started: a failed start leaves nothing behind", len(deps))
	}
	storetestAudit(t, s)
}

// Without gateways the page says to contact the panel.
func TestAddFundsWithoutGateways(t *testing.T) {
	s := newShop(t)
	b := s.browser()
	b.signIn("alice", alicePassword)
	if code, body := b.get("/addfunds"); code != 200 || !strings.Contains(body, "not set up on this panel") {
		t.Errorf("/addfunds without gateways: %d", code)
	}
	if code, body := b.post("/addfunds", "amount", "10", "gateway", "any"); code != 400 || !strings.Contains(errorOf(body), "not set up") {
		t.Errorf("POST /addfunds without gateways: %d %q", code, errorOf(body))
	}
}
