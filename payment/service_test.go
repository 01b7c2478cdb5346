package payment_test

import (
	"net/http"
	"strings"
	"testing"

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
