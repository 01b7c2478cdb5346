package paymenttest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// BTCPay fakes a BTCPay Server's Greenfield invoices of one store, and
// webhooks signed with BTCPay-Sig.
type BTCPay struct {
	fake
	Key, StoreID, WebhookSecret string
}

// NewBTCPay returns a fake BTCPay server.
func NewBTCPay(key, storeID, webhookSecret string) *BTCPay {
	b := &BTCPay{Key: key, StoreID: storeID, WebhookSecret: webhookSecret}
	b.init()
	return b
}

func (b *BTCPay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix := "/api/v1/stores/" + b.StoreID + "/invoices"
	if r.URL.Path == prefix && r.Method == http.MethodPost {
		b.creates.Add(1)
	}
	if b.misbehave(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "token "+b.Key {
		http.Error(w, `{"code":"unauthenticated","message":"Authentication is required for accessing this endpoint"}`, http.StatusUnauthorized)
		return
	}
	switch {
	case r.URL.Path == prefix && r.Method == http.MethodPost:
		var in struct {
			Amount   string            `json:"amount"`
			Currency string            `json:"currency"`
			Metadata map[string]string `json:"metadata"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Amount == "" {
			http.Error(w, `[{"path":"amount","message":"Amount is required"}]`, http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		c := &Checkout{Reference: b.next("Inv"), Deposit: in.Metadata["orderId"], Amount: in.Amount, Currency: in.Currency}
		b.add(c)
		b.mu.Unlock()
		writeJSON(w, b.invoice(*c))
	case strings.HasPrefix(r.URL.Path, prefix+"/") && r.Method == http.MethodGet:
		b.lookups.Add(1)
		c, ok := b.get(strings.TrimPrefix(r.URL.Path, prefix+"/"))
		if !ok {
			http.Error(w, `{"code":"invoice-not-found","message":"The invoice was not found"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, b.invoice(c))
	default:
		http.NotFound(w, r)
	}
}

func (b *BTCPay) invoice(c Checkout) map[string]any {
	status, extra := "New", "None"
	switch c.State {
	case Paid:
		status = "Settled"
	case Overpaid:
		status, extra = "Settled", "PaidOver"
	case Expired:
		status = "Expired"
	case Underpaid:
		status, extra = "Expired", "PaidPartial"
	case Failed:
		status = "Invalid"
	}
	return map[string]any{
		"id": c.Reference, "storeId": b.StoreID, "amount": c.Amount, "currency": c.Currency,
		"status": status, "additionalStatus": extra, "checkoutLink": "https://btcpay.test/i/" + c.Reference,
		"metadata": map[string]string{"orderId": c.Deposit}, "createdTime": time.Now().Unix(),
	}
}

// Webhook returns an event of type (InvoiceSettled, say) about the
// invoice, signed, and its headers.
func (b *BTCPay) Webhook(reference, typ string) ([]byte, http.Header) {
	body, _ := json.Marshal(map[string]any{
		"deliveryId": b.next("d"), "webhookId": "wh1", "originalDeliveryId": "d0", "isRedelivery": false,
		"type": typ, "timestamp": time.Now().Unix(), "storeId": b.StoreID, "invoiceId": reference,
	})
	return body, b.Sign(body)
}

// Sign signs body as BTCPay does.
func (b *BTCPay) Sign(body []byte) http.Header {
	mac := hmac.New(sha256.New, []byte(b.WebhookSecret))
	mac.Write(body)
	return http.Header{"Btcpay-Sig": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}, "Content-Type": {"application/json"}}
}
