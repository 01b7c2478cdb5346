package paymenttest_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"notpanel/payment/paymenttest"
)

func call(t *testing.T, method, u string, body []byte, h http.Header) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestStripeFake(t *testing.T) {
	f := paymenttest.NewStripe("sk", "whsec")
	srv := httptest.NewServer(f)
	defer srv.Close()
	auth := http.Header{"Authorization": {"Bearer sk"}, "Idempotency-Key": {"dep_1"},
		"Content-Type": {"application/x-www-form-urlencoded"}}
	form := url.Values{"mode": {"payment"}, "line_items[0][quantity]": {"1"}, "line_items[0][price_data][unit_amount]": {"500"},
		"line_items[0][price_data][currency]": {"usd"}, "success_url": {"https://p/s"}, "cancel_url": {"https://p/c"},
		"client_reference_id": {"dep_1"}}
	code, s := call(t, http.MethodPost, srv.URL+"/v1/checkout/sessions", []byte(form.Encode()), auth)
	if code != 200 || s["payment_status"] != "unpaid" {
		t.Fatalf("create: %d %v", code, s)
	}
	// The same idempotency key answers the same session.
	if _, again := call(t, http.MethodPost, srv.URL+"/v1/checkout/sessions", []byte(form.Encode()), auth); again["id"] != s["id"] {
		t.Errorf("idempotent create made %v, then %v", s["id"], again["id"])
	}
	id := s["id"].(string)
	f.Set(id, paymenttest.Paid)
	if code, got := call(t, http.MethodGet, srv.URL+"/v1/checkout/sessions/"+id, nil, auth); code != 200 || got["payment_status"] != "paid" {
		t.Errorf("read back: %d %v", code, got)
	}
	if code, _ := call(t, http.MethodGet, srv.URL+"/v1/checkout/sessions/"+id, nil, nil); code != 401 {
		t.Errorf("without the key: %d", code)
	}
	if code, _ := call(t, http.MethodGet, srv.URL+"/v1/checkout/sessions/cs_none", nil, auth); code != 404 {
		t.Errorf("unknown session: %d", code)
	}
	body, h := f.Webhook(id, "checkout.session.completed")
	if err := webhook.ValidatePayload(body, h.Get("Stripe-Signature"), "whsec"); err != nil {
		t.Errorf("the fake's event does not verify: %v", err)
	}
	if len(f.Checkouts()) != 1 || f.Lookups() != 2 || f.Creates() != 2 {
		t.Errorf("checkouts %v, lookups %d, creates %d", f.Checkouts(), f.Lookups(), f.Creates())
	}
	for _, mode := range []paymenttest.Failure{paymenttest.Down, paymenttest.Garbage, paymenttest.Slow} {
		f.Fail(mode)
		if code, _ := call(t, http.MethodGet, srv.URL+"/v1/checkout/sessions/"+id, nil, auth); code == 200 && mode != paymenttest.Garbage || code == 0 && mode != paymenttest.Slow {
			t.Errorf("failure %d answered %d", mode, code)
		}
	}
}

func TestBTCPayFake(t *testing.T) {
	f := paymenttest.NewBTCPay("k", "st", "sec")
	srv := httptest.NewServer(f)
	defer srv.Close()
	auth := http.Header{"Authorization": {"token k"}}
	code, inv := call(t, http.MethodPost, srv.URL+"/api/v1/stores/st/invoices", []byte(`{"amount":"5.00","currency":"USD","metadata":{"orderId":"dep_1"}}`), auth)
	if code != 200 || inv["status"] != "New" {
		t.Fatalf("create: %d %v", code, inv)
	}
	id := inv["id"].(string)
	for state, want := range map[paymenttest.State]string{paymenttest.Paid: "Settled", paymenttest.Overpaid: "Settled",
		paymenttest.Expired: "Expired", paymenttest.Underpaid: "Expired", paymenttest.Failed: "Invalid"} {
		f.Set(id, state)
		if _, got := call(t, http.MethodGet, srv.URL+"/api/v1/stores/st/invoices/"+id, nil, auth); got["status"] != want {
			t.Errorf("state %d: %v, want %s", state, got["status"], want)
		}
	}
	if code, _ := call(t, http.MethodPost, srv.URL+"/api/v1/stores/st/invoices", []byte(`{}`), auth); code != 400 {
		t.Errorf("invoice without amount: %d", code)
	}
	if code, _ := call(t, http.MethodGet, srv.URL+"/api/v1/stores/st/invoices/none", nil, auth); code != 404 {
		t.Errorf("unknown invoice: %d", code)
	}
	if code, _ := call(t, http.MethodGet, srv.URL+"/api/v1/stores/st/invoices/"+id, nil, nil); code != 401 {
		t.Errorf("without the key: %d", code)
	}
	body, h := f.Webhook(id, "InvoiceSettled")
	if !strings.HasPrefix(h.Get("BTCPay-Sig"), "sha256=") || !bytes.Contains(body, []byte(id)) {
		t.Errorf("webhook %s %v", body, h)
	}
}

func TestCryptomusFake(t *testing.T) {
	f := paymenttest.NewCryptomus("key", "m")
	srv := httptest.NewServer(f)
	defer srv.Close()
	signed := func(body string) http.Header {
		sum := md5.Sum([]byte(base64.StdEncoding.EncodeToString([]byte(body)) + "key"))
		return http.Header{"merchant": {"m"}, "sign": {hex.EncodeToString(sum[:])}}
	}
	create := `{"amount":"5.00","currency":"USD","order_id":"dep_1","url_callback":"https://p/payments/c/webhook"}`
	code, ans := call(t, http.MethodPost, srv.URL+"/v1/payment", []byte(create), signed(create))
	if code != 200 || ans["state"] != 0.0 {
		t.Fatalf("create: %d %v", code, ans)
	}
	id := ans["result"].(map[string]any)["uuid"].(string)
	if f.Callback(id) != "https://p/payments/c/webhook" {
		t.Errorf("callback %q", f.Callback(id))
	}
	f.Set(id, paymenttest.Underpaid)
	info := `{"uuid":"` + id + `"}`
	if _, got := call(t, http.MethodPost, srv.URL+"/v1/payment/info", []byte(info), signed(info)); got["result"].(map[string]any)["payment_status"] != "wrong_amount" {
		t.Errorf("info: %v", got)
	}
	if code, _ := call(t, http.MethodPost, srv.URL+"/v1/payment/info", []byte(info), signed("other")); code != 401 {
		t.Errorf("badly signed request: %d", code)
	}
	none := `{"uuid":"none"}`
	if code, _ := call(t, http.MethodPost, srv.URL+"/v1/payment/info", []byte(none), signed(none)); code != 404 {
		t.Errorf("unknown invoice: %d", code)
	}
	if code, _ := call(t, http.MethodPost, srv.URL+"/v1/payment", []byte(`{}`), signed(`{}`)); code != 422 {
		t.Errorf("invoice without amount: %d", code)
	}
	if code, _ := call(t, http.MethodPost, srv.URL+"/v1/other", []byte(`{}`), signed(`{}`)); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
	// The callback's sign is over PHP's encoding: slashes escaped, unicode kept.
	body, _ := f.Webhook(id)
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil || fields["sign"] == "" {
		t.Fatalf("callback %s: %v", body, err)
	}
	php := `{"type":"payment","uuid":"` + id + `","order_id":"dep_1","amount":"5.00","payment_amount":"5.00","merchant_amount":"5.00",` +
		`"is_final":true,"status":"wrong_amount","from":null,"network":"tron","currency":"USD","payer_currency":"USDT",` +
		`"additional_data":"Zoë's top-up: https:\/\/panel.test\/addfunds ✓","url":"https:\/\/pay.cryptomus.test\/pay\/` + id + `"}`
	sum := md5.Sum([]byte(base64.StdEncoding.EncodeToString([]byte(php)) + "key"))
	if fields["sign"] != hex.EncodeToString(sum[:]) {
		t.Errorf("callback sign %v, want the md5 over PHP's encoding", fields["sign"])
	}
}
