package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"notpanel/payment"
	"notpanel/payment/paymenttest"
	"notpanel/store"
)

func TestGatewayCommands(t *testing.T) {
	db := dbPath(t)
	id := strings.TrimSpace(ok(t, db, "gateway", "add", "card", "--kind", "stripe", "--api-key", "sk_test_secretkey",
		"--webhook-secret", "whsec_secretsecret", "--min", "5", "--max", "500"))
	if id != "1" {
		t.Errorf("gateway add printed %q, want its id 1", id)
	}
	r := notpanel(t, db, "gateway", "add", "btc", "--kind", "btcpay", "--url", "https://btcpay.example", "--api-key", "btcpay-secret-key",
		"--store-id", "St0re")
	if r.code != 0 || !strings.Contains(r.stderr, "webhooks to btc are refused") {
		t.Errorf("gateway add without a webhook secret: exit %d, stderr %q; want a warning", r.code, r.stderr)
	}
	r = notpanel(t, db, "gateway", "add", "crypto", "--kind", "cryptomus", "--api-key", "cryptomus-secret-key", "--merchant", "m-uuid")
	if r.code != 0 || !strings.Contains(r.stderr, "/payments/crypto/webhook") {
		t.Errorf("gateway add cryptomus: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"gateway", "add", "x", "--kind", "btcpay", "--url", "https://b.example", "--api-key", "k"}, // no store
		{"gateway", "add", "x", "--kind", "cryptomus", "--api-key", "k"},                            // no merchant
		{"gateway", "add", "x", "--kind", "paypal", "--api-key", "k"},
		{"gateway", "add", "card", "--kind", "stripe", "--api-key", "k"}, // taken
		{"gateway", "add", "x", "--kind", "stripe", "--api-key", "k", "--min", "10", "--max", "5"},
		{"gateway", "add", "x", "--kind", "stripe", "--api-key", "k", "--min", "lots"},
		{"gateway", "disable", "nosuch"},
	} {
		failing(t, db, args...)
	}
	for _, args := range [][]string{{"gateway", "list"}, {"gateway", "list", "--json"}} {
		out := ok(t, db, args...)
		for _, secret := range []string{"sk_test_secretkey", "whsec_secretsecret", "btcpay-secret-key", "cryptomus-secret-key"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows a secret:\n%s", strings.Join(args, " "), out)
			}
		}
	}
	var rows []map[string]any
	decode(t, ok(t, db, "gateway", "list", "--json"), &rows)
	if len(rows) != 3 || rows[0]["url"] != "https://api.stripe.com" || rows[0]["min"] != "5.00" || rows[0]["webhooks"] != true ||
		rows[1]["webhooks"] != false || rows[2]["url"] != "https://api.cryptomus.com" {
		t.Errorf("gateway list --json: %v", rows)
	}
	// Rotating a key and a secret, moving the limits; the secrets stay unseen.
	ok(t, db, "gateway", "set", "card", "--api-key", "sk_test_rotated", "--webhook-secret", "whsec_rotated", "--max", "800")
	ok(t, db, "gateway", "set", "crypto", "--api-key", "cryptomus-rotated-key")
	failing(t, db, "gateway", "set", "card", "--min", "900")
	failing(t, db, "gateway", "set", "card", "--store-id", "s")
	failing(t, db, "gateway", "set", "crypto", "--webhook-secret", "other")
	failing(t, db, "gateway", "set", "nosuch", "--max", "5")
	failing(t, db, "gateway", "set", "card", "--max", "lots")
	decode(t, ok(t, db, "gateway", "list", "--json"), &rows)
	if rows[0]["max"] != "800.00" || rows[0]["min"] != "5.00" || strings.Contains(ok(t, db, "gateway", "list"), "rotated") {
		t.Errorf("after gateway set: %v", rows[0])
	}
	st := openStore(t, db)
	for name, want := range map[string][2]string{"card": {"sk_test_rotated", "whsec_rotated"},
		"crypto": {"cryptomus-rotated-key", "cryptomus-rotated-key"}} {
		g, err := st.FindGateway(context.Background(), name)
		if err != nil || g.APIKey != want[0] || g.WebhookSecret != want[1] {
			t.Errorf("%s after gateway set: key %q secret %q, want %q", name, g.APIKey, g.WebhookSecret, want)
		}
	}
	ok(t, db, "gateway", "disable", "card")
	decode(t, ok(t, db, "gateway", "list", "--json"), &rows)
	if rows[0]["status"] != "disabled" {
		t.Errorf("after disable: %v", rows[0])
	}
	ok(t, db, "gateway", "enable", "card")
	ok(t, db, "gateway", "remove", "btc")
	decode(t, ok(t, db, "gateway", "list", "--json"), &rows)
	if len(rows) != 2 || rows[0]["status"] != "enabled" {
		t.Errorf("after enable and remove: %v", rows)
	}
	if out := ok(t, db, "gateway", "list"); !strings.Contains(out, "card") || !strings.Contains(out, "WEBHOOKS") {
		t.Errorf("gateway list:\n%s", out)
	}
}

// payments is a panel whose BTCPay gateway is a fake, with deposits made
// as the storefront makes them.
type paymentsShop struct {
	path  string
	db    *store.DB
	fake  *paymenttest.BTCPay
	svc   *payment.Service
	alice int64
}

func newPaymentsShop(t *testing.T) *paymentsShop {
	t.Helper()
	s := &paymentsShop{path: dbPath(t), fake: paymenttest.NewBTCPay("key", "st", "sec")}
	srv := httptest.NewServer(s.fake)
	t.Cleanup(srv.Close)
	ok(t, s.path, "user", "add", "alice")
	ok(t, s.path, "gateway", "add", "btc", "--kind", "btcpay", "--url", srv.URL, "--api-key", "key", "--store-id", "st",
		"--webhook-secret", "sec")
	s.db = openStore(t, s.path)
	s.svc = payment.New(payment.Config{DB: s.db})
	s.alice = 1
	return s
}

func (s *paymentsShop) start(t *testing.T, amount int64) store.Deposit {
	t.Helper()
	d, err := s.svc.StartDeposit(context.Background(), s.alice, "btc", amount,
		payment.ReturnURLs{Success: "https://panel.test/r", Cancel: "https://panel.test/c"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPaymentCommands(t *testing.T) {
	s := newPaymentsShop(t)
	paid := s.start(t, 10_000_000)
	partial := s.start(t, 20_000_000)
	open := s.start(t, 5_000_000)
	s.fake.Set(paid.Reference, paymenttest.Paid)
	s.fake.Set(partial.Reference, paymenttest.Underpaid)

	if out := ok(t, s.path, "payment", "refresh", paid.ID); !strings.HasPrefix(out, paid.ID+"\tcredited 10.00") {
		t.Errorf("payment refresh of a paid deposit: %q", out)
	}
	if out := ok(t, s.path, "payment", "refresh", paid.ID); !strings.HasPrefix(out, paid.ID+"\tcredited 10.00") {
		t.Errorf("second refresh: %q", out)
	}
	if out := ok(t, s.path, "payment", "refresh", partial.ID); !strings.Contains(out, "needs review") {
		t.Errorf("payment refresh of an underpaid deposit: %q", out)
	}
	if out := ok(t, s.path, "payment", "refresh", open.ID); !strings.Contains(out, "pending (gateway says New)") {
		t.Errorf("payment refresh of an open deposit: %q", out)
	}
	s.fake.Fail(paymenttest.Down)
	if r := failing(t, s.path, "payment", "refresh", open.ID); !strings.Contains(r.stderr, "503") {
		t.Errorf("refresh with the gateway down: %q", r.stderr)
	}
	s.fake.Fail(paymenttest.Healthy)

	var rows []map[string]any
	decode(t, ok(t, s.path, "payment", "list", "--review", "--json"), &rows)
	if len(rows) != 1 || rows[0]["deposit"] != partial.ID || rows[0]["review"] == "" || rows[0]["user"] != "alice" {
		t.Errorf("payment list --review: %v", rows)
	}
	decode(t, ok(t, s.path, "payment", "list", "--status", "credited", "--user", "alice", "--json"), &rows)
	if len(rows) != 1 || rows[0]["credited"] != "10.00" {
		t.Errorf("payment list --status credited: %v", rows)
	}
	if out := ok(t, s.path, "payment", "list"); strings.Count(out, "dep_") != 3 || !strings.Contains(out, "GATEWAY SAYS") {
		t.Errorf("payment list:\n%s", out)
	}
	failing(t, s.path, "payment", "list", "--status", "paid")
	failing(t, s.path, "payment", "list", "--limit", "0")

	out := ok(t, s.path, "payment", "credit", partial.ID, "--amount", "15", "--note", "BTCPay shows 15.00 received")
	if !strings.HasPrefix(out, partial.ID+"\tcredited 15.00") {
		t.Errorf("payment credit: %q", out)
	}
	if r := failing(t, s.path, "payment", "credit", partial.ID, "--amount", "15"); !strings.Contains(r.stderr, "already credited") {
		t.Errorf("second payment credit: %q", r.stderr)
	}
	failing(t, s.path, "payment", "credit", open.ID, "--amount", "-1")
	failing(t, s.path, "payment", "credit", "dep_nosuch", "--amount", "1")
	if got := balanceOf(t, s.db, "alice"); got != 25_000_000 {
		t.Errorf("balance %s, want 25.00", store.FormatMoney(got))
	}

	var shown struct {
		Deposit, Status, Credited, Note string
		Ledger                          []struct{ Kind, Amount, Note string }
	}
	decode(t, ok(t, s.path, "payment", "show", partial.ID, "--json"), &shown)
	if shown.Status != "credited" || shown.Credited != "15.00" || len(shown.Ledger) != 1 || shown.Ledger[0].Amount != "15.00" ||
		shown.Ledger[0].Note != "credited by the operator: BTCPay shows 15.00 received" {
		t.Errorf("payment show --json: %+v", shown)
	}
	if out := ok(t, s.path, "payment", "show", open.ID); !strings.Contains(out, "next read-back:") || !strings.Contains(out, open.Reference) {
		t.Errorf("payment show:\n%s", out)
	}
	failing(t, s.path, "payment", "show", "dep_nosuch")
	if r := notpanel(t, s.path, "audit"); r.code != 0 {
		t.Errorf("audit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// serve answers the gateways' webhooks at /payments/NAME/webhook and
// credits the deposit they tell of, after asking the gateway.
func TestServeCreditsOnWebhook(t *testing.T) {
	s := newPaymentsShop(t)
	d := s.start(t, 8_000_000)
	srv := startServe(t, s.path, "--worker=false")
	body, h := s.fake.Webhook(d.Reference, "InvoiceSettled")
	post := func(h http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+"/payments/btc/webhook", bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(http.Header{}); code != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: %d", code)
	}
	s.fake.Set(d.Reference, paymenttest.Paid)
	if code := post(h); code != http.StatusOK {
		t.Errorf("signed webhook: %d", code)
	}
	if got := balanceOf(t, s.db, "alice"); got != 8_000_000 {
		t.Errorf("balance %s after the webhook, want 8.00", store.FormatMoney(got))
	}
	// Beside the storefront's pages, /payments/ answers in JSON.
	for _, c := range []struct {
		method, path string
		want         int
	}{{http.MethodGet, "/payments/btc/webhook", 405}, {http.MethodPost, "/payments/btc", 404}, {http.MethodPost, "/payments/nosuch/webhook", 404}} {
		req, _ := http.NewRequest(c.method, "http://"+srv.addr+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s, want %d JSON", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.want)
		}
	}
	resp, err := http.Get("http://" + srv.ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`notpanel_deposits{gateway="btc",status="credited"} 1`, `notpanel_deposits_credited_amount{gateway="btc"} 8`,
		`notpanel_payment_webhooks_total{gateway="btc",outcome="recorded"} 1`} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, _ := srv.shutdown(t); code != 0 {
		t.Errorf("serve exited %d", code)
	}
}
