package payment

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"notpanel/store"
)

// cryptomus is the Cryptomus merchant API: an invoice per deposit, whose
// callbacks carry their signature inside the JSON body; credited when the
// invoice read back is paid or paid_over, for its amount.
type cryptomus struct {
	g      store.Gateway
	client *http.Client
}

// cryptomusInvoice is the part of an invoice notpanel reads. Amounts are
// decimal strings in the invoice's currency.
type cryptomusInvoice struct {
	UUID          string `json:"uuid"`
	OrderID       string `json:"order_id"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
	URL           string `json:"url"`
	PaymentStatus string `json:"payment_status"`
	Status        string `json:"status"`
}

// cryptomusAnswer wraps every answer of the API.
type cryptomusAnswer struct {
	State   *int             `json:"state"`
	Message string           `json:"message"`
	Result  cryptomusInvoice `json:"result"`
}

// cryptomusSign is the signature of a request or a callback: the md5, in
// hex, of the body in base64 followed by the payment API key.
func cryptomusSign(body []byte, key string) string {
	sum := md5.Sum([]byte(base64.StdEncoding.EncodeToString(body) + key))
	return hex.EncodeToString(sum[:])
}

func (c *cryptomus) Checkout(ctx context.Context, r CheckoutRequest) (Checkout, error) {
	body, _ := json.Marshal(map[string]string{
		"amount":       store.FormatMoney(r.Amount),
		"currency":     r.Currency,
		"order_id":     r.Deposit,
		"url_return":   r.CancelURL,
		"url_success":  r.SuccessURL,
		"url_callback": r.WebhookURL,
	})
	inv, err := c.call(ctx, "/v1/payment", body)
	if err != nil {
		return Checkout{}, &gatewayError{c.g.Name, "create invoice", err}
	}
	if inv.UUID == "" || !validCheckoutURL(inv.URL) {
		return Checkout{}, &gatewayError{c.g.Name, "create invoice", fmt.Errorf("answer without an invoice uuid or url")}
	}
	return Checkout{Reference: inv.UUID, URL: inv.URL}, nil
}

func (c *cryptomus) Verify(_ http.Header, body []byte) (string, error) {
	if c.g.WebhookSecret == "" {
		return "", ErrNoSecret
	}
	doc, err := decodePHP(body)
	if err != nil || doc.kind != 'a' {
		return "", ErrSignature
	}
	sign, ok := doc.arr.get("sign")
	if !ok || sign.kind != 's' {
		return "", ErrSignature
	}
	doc.arr.remove("sign")
	// Cryptomus documents JSON_UNESCAPED_UNICODE; PHP's default escaping
	// of non-ASCII is accepted as well. Both are always computed, so the
	// time taken does not tell which one matched.
	match := 0
	for _, raw := range []bool{true, false} {
		var buf bytes.Buffer
		encodePHP(&buf, doc, raw)
		want := cryptomusSign(buf.Bytes(), c.g.WebhookSecret)
		match |= subtle.ConstantTimeCompare([]byte(strings.ToLower(sign.str)), []byte(want))
	}
	if match != 1 {
		return "", ErrSignature
	}
	typ, _ := doc.arr.get("type")
	uuid, _ := doc.arr.get("uuid")
	if typ == nil || typ.kind != 's' || typ.str != "payment" || uuid == nil || uuid.kind != 's' {
		return "", nil // a wallet's callback, say: none of our invoices
	}
	return uuid.str, nil
}

func (c *cryptomus) Lookup(ctx context.Context, reference string) (Payment, error) {
	body, _ := json.Marshal(map[string]string{"uuid": reference})
	inv, err := c.call(ctx, "/v1/payment/info", body)
	if err != nil {
		return Payment{}, &gatewayError{c.g.Name, "read invoice " + reference, err}
	}
	if inv.UUID != reference {
		return Payment{}, &gatewayError{c.g.Name, "read invoice " + reference, fmt.Errorf("answer is about %q", truncate(inv.UUID, 64))}
	}
	status := inv.PaymentStatus
	if status == "" {
		status = inv.Status
	}
	p := Payment{Currency: strings.ToUpper(inv.Currency), Status: status, Deposit: inv.OrderID}
	switch status {
	case "paid", "paid_over":
		// paid_over credits the invoice's amount: the excess, paid in
		// crypto, is the operator's to settle (payment list shows it).
		amount, err := parseDecimal(inv.Amount)
		if err != nil || amount == 0 {
			return Payment{}, &gatewayError{c.g.Name, "read invoice " + reference, fmt.Errorf("%s, but amount %q", status, truncate(inv.Amount, 40))}
		}
		p.Verdict, p.Amount = Paid, amount
	case "wrong_amount":
		p.Verdict, p.Reason = Review, "the customer paid less than the invoice (wrong_amount); credit what was paid by hand"
	case "cancel":
		p.Verdict = Expired
	case "fail", "system_fail":
		p.Verdict = Failed
	case "refund_process", "refund_fail", "refund_paid":
		p.Verdict, p.Reason = Review, "Cryptomus reports a refund ("+status+")"
	default: // check, process, confirm_check, wrong_amount_waiting, locked
		p.Verdict = Open
	}
	return p, nil
}

// call posts a signed request to the merchant API and returns its result.
func (c *cryptomus) call(ctx context.Context, path string, body []byte) (cryptomusInvoice, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.g.URL+path, bytes.NewReader(body))
	if err != nil {
		return cryptomusInvoice{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("merchant", c.g.Merchant)
	req.Header.Set("sign", cryptomusSign(body, c.g.APIKey))
	var ans cryptomusAnswer
	if err := doJSON(c.client, req, &ans); err != nil {
		return cryptomusInvoice{}, err
	}
	if ans.State == nil || *ans.State != 0 {
		return cryptomusInvoice{}, fmt.Errorf("state not 0: %s", truncate(ans.Message, 200))
	}
	return ans.Result, nil
}
