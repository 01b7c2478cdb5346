package payment_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"notpanel/payment"
	"notpanel/payment/paymenttest"
	"notpanel/store"
	"notpanel/store/storetest"
)

// Each gateway: a deposit starts a checkout for its amount, a webhook
// about the paid checkout credits it once, and webhooks repeated later
// credit nothing more.
func TestDepositPaidThroughWebhook(t *testing.T) {
	wantAsked := map[string]string{store.GatewayStripe: "1250", store.GatewayBTCPay: "12.50", store.GatewayCryptomus: "12.50"}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			d := w.start(12_500_000)
			if d.Status != store.DepositPending || !strings.HasPrefix(d.CheckoutURL, "https://") || d.Gateway != "pay" {
				t.Errorf("started deposit: %+v", d)
			}
			cs := w.fake.Checkouts()
			if len(cs) != 1 || cs[0].Deposit != d.ID || cs[0].Amount != wantAsked[kind] || !strings.EqualFold(cs[0].Currency, "USD") {
				t.Fatalf("checkouts at the gateway: %+v; want one for %s of %s USD", cs, d.ID, wantAsked[kind])
			}
			if d.Reference != cs[0].Reference {
				t.Errorf("deposit reference %q, gateway's %q", d.Reference, cs[0].Reference)
			}
			// A webhook while it is unpaid credits nothing.
			if code := w.notify(d.Reference); code != http.StatusOK {
				t.Errorf("webhook about an open checkout: %d", code)
			}
			if w.balance() != 0 || w.deposit(d.ID).Status != store.DepositPending {
				t.Fatalf("credited before payment: balance %d", w.balance())
			}
			w.fake.Set(d.Reference, paymenttest.Paid)
			for range 3 {
				if code := w.notify(d.Reference); code != http.StatusOK {
					t.Errorf("webhook about the paid checkout: %d", code)
				}
			}
			if got := w.balance(); got != 12_500_000 {
				t.Errorf("balance %s, want 12.50", store.FormatMoney(got))
			}
			got := w.deposit(d.ID)
			if got.Status != store.DepositCredited || got.Credited != 12_500_000 || got.GatewayStatus == "" {
				t.Errorf("deposit after payment: %+v", got)
			}
			if _, err := w.svc.Refresh(ctx, d.ID); err != nil {
				t.Errorf("refresh of a credited deposit: %v", err)
			}
			if got := w.balance(); got != 12_500_000 {
				t.Errorf("balance after a refresh %s, want 12.50", store.FormatMoney(got))
			}
			deps, err := w.svc.Deposits(ctx, w.alice.ID, 10)
			if err != nil || len(deps) != 1 || deps[0].ID != d.ID {
				t.Errorf("alice's deposits: %+v, %v", deps, err)
			}
			storetest.Audit(t, w.db)
			if n := gauge(t, w, "notpanel_deposits_credited_amount"); n != 12.5 {
				t.Errorf("credited amount metric %v, want 12.5", n)
			}
		})
	}
}

// gauge reads the first series of a gauge from the world's registry.
func gauge(t *testing.T, w *world, name string) float64 {
	t.Helper()
	mfs, err := w.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// A gateway that is down, slow or answers garbage when a deposit starts:
// the customer is told the provider is unavailable, and no deposit is
// left behind.
func TestStartDepositGatewayFails(t *testing.T) {
	for _, kind := range kinds {
		for name, mode := range map[string]paymenttest.Failure{"Down": paymenttest.Down, "Slow": paymenttest.Slow, "Garbage": paymenttest.Garbage} {
			t.Run(kind+"/"+name, func(t *testing.T) {
				w := newWorld(t, kind)
				w.fake.Fail(mode)
				_, err := w.svc.StartDeposit(ctx, w.alice.ID, "pay", 5_000_000, urls)
				if store.ErrorCode(err) != store.Unavailable || !strings.Contains(store.ErrorMessage(err), "payment provider is unavailable") {
					t.Errorf("error %v (code %s, message %q), want the provider unavailable", err, store.ErrorCode(err), store.ErrorMessage(err))
				}
				if deps, _ := w.db.ListDeposits(ctx, store.DepositFilter{}); len(deps) != 0 {
					t.Errorf("deposits left behind: %+v", deps)
				}
				if w.fake.Creates() == 0 {
					t.Error("the gateway was never asked")
				}
				if !strings.Contains(w.logs.String(), "no deposit recorded") {
					t.Errorf("log does not tell the operator: %s", w.logs)
				}
			})
		}
	}
}

func TestStartDepositRefuses(t *testing.T) {
	w := newWorld(t, store.GatewayBTCPay)
	bob, _ := storetest.Account(t, w.db, "bob", 0)
	if _, err := w.db.SetAccountStatus(ctx, "bob", store.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		account int64
		gateway string
		amount  int64
		urls    payment.ReturnURLs
		want    string
	}{
		{"NoAccount", 0, "pay", 5_000_000, urls, "No account"},
		{"Suspended", bob.ID, "pay", 5_000_000, urls, "Account suspended"},
		{"UnknownGateway", w.alice.ID, "paypal", 5_000_000, urls, "not available"},
		{"BelowMin", w.alice.ID, "pay", 999_999, urls, "between 1.00 and 1000.00"},
		{"AboveMax", w.alice.ID, "pay", 1_000_000_001, urls, "between 1.00 and 1000.00"},
		{"RelativeURL", w.alice.ID, "pay", 5_000_000, payment.ReturnURLs{Success: "/addfunds", Cancel: "/addfunds"}, "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.svc.StartDeposit(ctx, tt.account, tt.gateway, tt.amount, tt.urls)
			if err == nil || !strings.Contains(store.ErrorMessage(err), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := w.db.SetGatewayStatus(ctx, "pay", store.GatewayDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.StartDeposit(ctx, w.alice.ID, "pay", 5_000_000, urls); err == nil {
		t.Error("deposit through a disabled gateway started")
	}
	if choices, _ := w.svc.Choices(ctx); len(choices) != 0 {
		t.Errorf("choices with the only gateway disabled: %+v", choices)
	}
	if w.fake.Creates() != 0 {
		t.Errorf("the gateway was asked %d times for refused deposits", w.fake.Creates())
	}
}

// Stripe counts yen in yen and dinars in thousandths; an amount finer
// than the currency's minor unit is refused before Stripe is asked.
func TestStripeMinorUnits(t *testing.T) {
	w := newWorld(t, store.GatewayStripe)
	if err := w.db.SetCurrency(ctx, "JPY"); err != nil {
		t.Fatal(err)
	}
	d := w.start(500_000_000)
	if cs := w.fake.Checkouts(); cs[0].Amount != "500" || cs[0].Currency != "jpy" {
		t.Errorf("JPY checkout %+v, want 500 jpy", cs[0])
	}
	w.fake.Set(d.Reference, paymenttest.Paid)
	if _, err := w.svc.Refresh(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if got := w.balance(); got != 500_000_000 {
		t.Errorf("balance %s, want 500", store.FormatMoney(got))
	}
	if _, err := w.svc.StartDeposit(ctx, w.alice.ID, "pay", 500_500_000, urls); store.ErrorCode(err) != store.Invalid {
		t.Errorf("500.50 JPY: %v, want refused", err)
	}
}

// What each read-back verdict does to a deposit.
func TestReadBackVerdicts(t *testing.T) {
	type want struct {
		status   string
		credited int64
		parked   bool
	}
	tests := map[paymenttest.State]map[string]want{
		paymenttest.Expired: {store.GatewayStripe: {store.DepositExpired, 0, false}, store.GatewayBTCPay: {store.DepositExpired, 0, false},
			store.GatewayCryptomus: {store.DepositExpired, 0, false}},
		paymenttest.Failed: {store.GatewayStripe: {store.DepositFailed, 0, false}, store.GatewayBTCPay: {store.DepositFailed, 0, false},
			store.GatewayCryptomus: {store.DepositFailed, 0, false}},
		paymenttest.Underpaid: {store.GatewayBTCPay: {store.DepositPending, 0, true}, store.GatewayCryptomus: {store.DepositPending, 0, true}},
		// Overpaid: Stripe's amount_total is what was paid; the crypto
		// gateways credit the invoice's amount and show paid_over.
		paymenttest.Overpaid: {store.GatewayStripe: {store.DepositCredited, 20_010_000, false},
			store.GatewayBTCPay: {store.DepositCredited, 20_000_000, false}, store.GatewayCryptomus: {store.DepositCredited, 20_000_000, false}},
	}
	for state, byKind := range tests {
		for kind, want := range byKind {
			t.Run(kind+"/"+status(state), func(t *testing.T) {
				w := newWorld(t, kind)
				d := w.start(20_000_000)
				w.fake.Set(d.Reference, state)
				got, err := w.svc.Refresh(ctx, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != want.status || got.Credited != want.credited || (got.Review != "") != want.parked {
					t.Errorf("deposit %+v, want %+v", got, want)
				}
				if w.balance() != want.credited {
					t.Errorf("balance %d, want %d", w.balance(), want.credited)
				}
				if want.parked {
					if due, _ := w.db.DueDeposits(ctx, 1<<40, nil, 10); len(due) != 0 {
						t.Errorf("a parked deposit is still due: %+v", due)
					}
					// The operator settles it by hand.
					if err := w.db.CreditByOperator(ctx, d.ID, 15_000_000, "paid 15.00 of 20.00"); err != nil {
						t.Fatal(err)
					}
				}
				storetest.Audit(t, w.db)
			})
		}
	}
}

// Money paid after the deposit was closed as expired (a late crypto
// payment, an invoice marked settled by hand) is not lost: the gateway's
// webhook about it has the gateway asked again, and its answer parks the
// deposit for the operator, who credits it; nothing is credited without
// the operator, and webhooks repeated later ask no more.
func TestPaidAfterExpired(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			d := w.start(20_000_000)
			w.fake.Set(d.Reference, paymenttest.Expired)
			if got, err := w.svc.Refresh(ctx, d.ID); err != nil || got.Status != store.DepositExpired {
				t.Fatalf("refresh of an expired checkout: %+v, %v", got, err)
			}
			w.fake.Set(d.Reference, paymenttest.Paid)
			if code := w.notify(d.Reference); code != http.StatusOK {
				t.Errorf("webhook about the late payment: %d", code)
			}
			got := w.deposit(d.ID)
			if got.Status != store.DepositExpired || got.Review == "" || w.balance() != 0 {
				t.Fatalf("deposit after a late payment: %+v, balance %d; want it expired, parked, nothing credited", got, w.balance())
			}
			parked, err := w.db.ListDeposits(ctx, store.DepositFilter{Review: true})
			if err != nil || len(parked) != 1 || parked[0].ID != d.ID {
				t.Errorf("payment list --review: %+v, %v", parked, err)
			}
			lookups := w.fake.Lookups()
			if code := w.notify(d.Reference); code != http.StatusOK || w.fake.Lookups() != lookups {
				t.Errorf("webhook repeated about a parked deposit: %d, %d more read-backs", code, w.fake.Lookups()-lookups)
			}
			if err := w.db.CreditByOperator(ctx, d.ID, 20_000_000, "paid late"); err != nil {
				t.Fatal(err)
			}
			if w.balance() != 20_000_000 {
				t.Errorf("balance %d after the operator's credit, want 20.00", w.balance())
			}
			storetest.Audit(t, w.db)
		})
	}
}

func status(s paymenttest.State) string {
	return map[paymenttest.State]string{paymenttest.Expired: "expired", paymenttest.Failed: "failed",
		paymenttest.Underpaid: "underpaid", paymenttest.Overpaid: "overpaid"}[s]
}

// A read-back that fails leaves the deposit pending, says why, and backs
// off: 30 s, then doubling up to an hour; after three days without a
// verdict the deposit is parked for the operator.
func TestReadBackFailureBacksOff(t *testing.T) {
	w := newWorld(t, store.GatewayBTCPay)
	base := time.Now()
	w.now = func() time.Time { return base }
	d := w.start(5_000_000)
	if d.NextAt != base.Add(30*time.Second).Unix() {
		t.Errorf("first read-back at %d, want 30 s after the start (%d)", d.NextAt, base.Add(30*time.Second).Unix())
	}
	w.fake.Fail(paymenttest.Down)
	var delays []int64
	for range 9 {
		if _, err := w.svc.Refresh(ctx, d.ID); err == nil {
			t.Fatal("refresh against a gateway that is down succeeded")
		}
		got := w.deposit(d.ID)
		if got.Status != store.DepositPending || !strings.Contains(got.LastError, "503") {
			t.Fatalf("after a failed read-back: %+v", got)
		}
		delays = append(delays, got.NextAt-base.Unix())
	}
	want := []int64{60, 120, 240, 480, 960, 1920, 3600, 3600, 3600}
	if !equal(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
	w.fake.Fail(paymenttest.Healthy)
	if got, err := w.svc.Refresh(ctx, d.ID); err != nil || got.LastError != "" || got.GatewayStatus != "New" {
		t.Errorf("read-back once the gateway is back: %+v, %v", got, err)
	}
	w.now = func() time.Time { return base.Add(payment.GiveUpAfter + time.Minute) }
	got, err := w.svc.Refresh(ctx, d.ID)
	if err != nil || got.Status != store.DepositPending || !strings.Contains(got.Review, "still unpaid") {
		t.Errorf("after three days: %+v, %v; want it parked", got, err)
	}
}

// A gateway that answers nothing for three days parks the deposit as one
// without a verdict does: the read-backs stop, and the operator is told
// why, with the gateway's last word kept.
func TestReadBackFailureGivesUp(t *testing.T) {
	w := newWorld(t, store.GatewayBTCPay)
	base := time.Now()
	w.now = func() time.Time { return base }
	d := w.start(5_000_000)
	if _, err := w.svc.Refresh(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	w.fake.Fail(paymenttest.Down)
	w.now = func() time.Time { return base.Add(payment.GiveUpAfter + time.Minute) }
	if _, err := w.svc.Refresh(ctx, d.ID); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("refresh against a gateway that is down: %v; want its error", err)
	}
	got := w.deposit(d.ID)
	if got.Status != store.DepositPending || !strings.Contains(got.Review, "no answer") || !strings.Contains(got.Review, "503") ||
		got.GatewayStatus != "New" {
		t.Errorf("after three days without an answer: %+v; want it parked, the gateway's last word kept", got)
	}
	if due, _ := w.db.DueDeposits(ctx, 1<<40, nil, 10); len(due) != 0 {
		t.Errorf("a parked deposit is still due: %+v", due)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Fifty webhooks about one paid deposit, with read-backs racing them,
// credit it once.
func TestConcurrentWebhooksCreditOnce(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			d := w.start(7_000_000)
			w.fake.Set(d.Reference, paymenttest.Paid)
			other := payment.New(payment.Config{DB: w.db}) // another process: the CLI's payment refresh
			var wg sync.WaitGroup
			for i := range 60 {
				wg.Go(func() {
					switch {
					case i < 50:
						if code := w.notify(d.Reference); code != http.StatusOK {
							t.Errorf("webhook %d: %d", i, code)
						}
					case i%2 == 0:
						w.svc.Refresh(ctx, d.ID)
					default:
						other.Refresh(ctx, d.ID)
					}
				})
			}
			wg.Wait()
			if got := w.balance(); got != 7_000_000 {
				t.Errorf("balance %s, want 7.00", store.FormatMoney(got))
			}
			entries, _ := w.db.Ledger(ctx, w.alice.ID, "")
			if len(entries) != 1 {
				t.Errorf("%d ledger rows, want 1", len(entries))
			}
			storetest.Audit(t, w.db)
		})
	}
}

// Webhooks that are not the gateway's are refused before anything in them
// is believed.
func TestWebhookRefused(t *testing.T) {
	w := newWorld(t, store.GatewayBTCPay)
	d := w.start(5_000_000)
	w.fake.Set(d.Reference, paymenttest.Paid)
	body, h := w.webhook(d.Reference)
	tampered := bytes.Replace(body, []byte("InvoiceSettled"), []byte("InvoiceExpired"), 1)
	tests := []struct {
		name   string
		method string
		path   string
		body   []byte
		h      http.Header
		want   int
	}{
		{"NoSignature", http.MethodPost, "/payments/pay/webhook", body, http.Header{}, http.StatusUnauthorized},
		{"Tampered", http.MethodPost, "/payments/pay/webhook", tampered, h, http.StatusUnauthorized},
		{"NotHex", http.MethodPost, "/payments/pay/webhook", body, http.Header{"Btcpay-Sig": {"sha256=zz"}}, http.StatusUnauthorized},
		{"UnknownGateway", http.MethodPost, "/payments/other/webhook", body, h, http.StatusNotFound},
		{"BadPath", http.MethodPost, "/payments/pay/x/webhook", body, h, http.StatusNotFound},
		{"Get", http.MethodGet, "/payments/pay/webhook", nil, h, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptestRequest(tt.method, tt.path, tt.body, tt.h)
			rec := recorder()
			w.svc.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
	if w.balance() != 0 || w.fake.Lookups() != 0 {
		t.Errorf("a refused webhook moved money (%d) or asked the gateway (%d)", w.balance(), w.fake.Lookups())
	}
	if code := w.post("pay", body, h); code != http.StatusOK || w.balance() != 5_000_000 {
		t.Errorf("the genuine webhook: %d, balance %d", code, w.balance())
	}
}

// A gateway without a webhook secret refuses every webhook; its deposits
// are still credited by the read-backs.
func TestWebhookWithoutSecret(t *testing.T) {
	w := newWorld(t, store.GatewayStripe)
	g, err := w.svc.AddGateway(ctx, store.Gateway{Name: "nosecret", Kind: store.GatewayStripe, URL: w.server.URL,
		APIKey: "key-1", Min: 1_000_000, Max: 2_000_000})
	if err != nil {
		t.Fatal(err)
	}
	d, err := w.svc.StartDeposit(ctx, w.alice.ID, g.Name, 1_000_000, urls)
	if err != nil {
		t.Fatal(err)
	}
	w.fake.Set(d.Reference, paymenttest.Paid)
	body, h := w.webhook(d.Reference)
	if code := w.post("nosecret", body, h); code != http.StatusForbidden {
		t.Errorf("webhook to a gateway without a secret: %d, want 403", code)
	}
	if _, err := w.svc.Refresh(ctx, d.ID); err != nil || w.balance() != 1_000_000 {
		t.Errorf("read-back: %v, balance %d", err, w.balance())
	}
}

// Stripe: events in another API version than the SDK's are accepted; a
// signature older than five minutes is not.
func TestStripeWebhookVersionsAndAge(t *testing.T) {
	w := newWorld(t, store.GatewayStripe)
	f := w.fake.(*paymenttest.Stripe)
	d := w.start(3_000_000)
	f.Set(d.Reference, paymenttest.Paid)
	f.APIVersion = "2019-02-19"
	body, _ := f.Webhook(d.Reference, "checkout.session.completed")
	if code := w.post("pay", body, f.Sign(body, time.Now().Add(-6*time.Minute))); code != http.StatusUnauthorized {
		t.Errorf("a six-minute-old signature: %d, want 401", code)
	}
	if w.balance() != 0 {
		t.Fatal("credited on a stale webhook")
	}
	other, _ := f.Webhook(d.Reference, "customer.created")
	if code := w.post("pay", other, f.Sign(other, time.Now())); code != http.StatusOK || w.balance() != 0 {
		t.Errorf("an event of another type: %d, balance %d; want acknowledged and ignored", code, w.balance())
	}
	if code := w.post("pay", body, f.Sign(body, time.Now().Add(-4*time.Minute))); code != http.StatusOK {
		t.Errorf("an event of API version 2019-02-19, four minutes old: %d, want 200", code)
	}
	if w.balance() != 3_000_000 {
		t.Errorf("balance %d, want 3.00", w.balance())
	}
	// A webhook about a session that is no deposit is acknowledged.
	stray, _ := f.Webhook("cs_elsewhere", "checkout.session.completed")
	if code := w.post("pay", stray, f.Sign(stray, time.Now())); code != http.StatusOK {
		t.Errorf("webhook about a session of another integration: %d", code)
	}
}

// Cryptomus signs the body as PHP re-encodes it: slashes escaped, unicode
// as it is. A receiver that checked the raw bytes, or Go's encoding of
// them, would refuse every real callback.
func TestCryptomusCallbackSignature(t *testing.T) {
	w := newWorld(t, store.GatewayCryptomus)
	f := w.fake.(*paymenttest.Cryptomus)
	d := w.start(4_000_000)
	if got, want := f.Callback(d.Reference), "https://panel.test/payments/pay/webhook"; got != want {
		t.Errorf("url_callback %q, want %q", got, want)
	}
	f.Set(d.Reference, paymenttest.Paid)
	body, h := f.Webhook(d.Reference)
	if !bytes.Contains(body, []byte(`"https://pay.cryptomus.test/pay/`)) || !bytes.Contains(body, []byte("Zoë")) {
		t.Fatalf("the fake's callback lost its slashes or unicode: %s", body)
	}
	forger := paymenttest.NewCryptomus("another-key", "merchant-1")
	forged := forger.Signed([]paymenttest.Field{{Key: "type", Value: "payment"}, {Key: "uuid", Value: d.Reference},
		{Key: "order_id", Value: d.ID}, {Key: "status", Value: "paid"}})
	if code := w.post("pay", forged, h); code != http.StatusUnauthorized {
		t.Errorf("callback signed with another key: %d", code)
	}
	for _, bad := range [][]byte{[]byte(`{"type":"payment"}`), []byte(`not json`), []byte(`{"sign":5}`), []byte("{\"sign\":\"\xff\"}")} {
		if code := w.post("pay", bad, h); code != http.StatusUnauthorized {
			t.Errorf("callback %q: %d, want 401", bad, code)
		}
	}
	if code := w.post("pay", body, h); code != http.StatusOK || w.balance() != 4_000_000 {
		t.Errorf("genuine callback: %d, balance %d", code, w.balance())
	}
	// Once the operator has set the site's public URL, callbacks go there.
	site := "https://shop.example/"
	if _, err := w.db.SetSite(ctx, store.SitePatch{URL: &site}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.Callback(w.start(1_000_000).Reference), "https://shop.example/payments/pay/webhook"; got != want {
		t.Errorf("url_callback %q with the site's URL set, want %q", got, want)
	}
	wallet := f.Signed([]paymenttest.Field{{Key: "type", Value: "wallet"}, {Key: "uuid", Value: d.Reference}})
	if code := w.post("pay", wallet, h); code != http.StatusOK {
		t.Errorf("a wallet callback: %d, want acknowledged", code)
	}
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		name string
		g    store.Gateway
		want string // "" for OK
		url  string
	}{
		{"StripeDefaultURL", store.Gateway{Kind: store.GatewayStripe}, "", "https://api.stripe.com"},
		{"CryptomusDefaultURL", store.Gateway{Kind: store.GatewayCryptomus, Merchant: "m", APIKey: "k"}, "", "https://api.cryptomus.com"},
		{"TrailingSlash", store.Gateway{Kind: store.GatewayBTCPay, URL: "https://btcpay.example/", StoreID: "s"}, "", "https://btcpay.example"},
		{"BTCPayNeedsURL", store.Gateway{Kind: store.GatewayBTCPay, StoreID: "s"}, "--url", ""},
		{"BTCPayNeedsStore", store.Gateway{Kind: store.GatewayBTCPay, URL: "https://b.example"}, "--store-id", ""},
		{"CryptomusNeedsMerchant", store.Gateway{Kind: store.GatewayCryptomus, APIKey: "k"}, "--merchant", ""},
		{"CryptomusOwnSecret", store.Gateway{Kind: store.GatewayCryptomus, Merchant: "m", APIKey: "k", WebhookSecret: "x"}, "--webhook-secret", ""},
		{"StoreForStripe", store.Gateway{Kind: store.GatewayStripe, StoreID: "s"}, "BTCPay gateways only", ""},
		{"MerchantForStripe", store.Gateway{Kind: store.GatewayStripe, Merchant: "m"}, "Cryptomus gateways only", ""},
		{"UnknownKind", store.Gateway{Kind: "paypal"}, "Invalid gateway kind", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := payment.Prepare(&tt.g)
			if tt.want == "" && (err != nil || tt.g.URL != tt.url) {
				t.Errorf("got %v, URL %q; want OK with %q", err, tt.g.URL, tt.url)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
