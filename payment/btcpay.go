package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"notpanel/store"
)

// btcpay is a BTCPay Server (the operator's own node) through its
// Greenfield API: an invoice per deposit, credited when the invoice read
// back is Settled, for its amount.
type btcpay struct {
	g      store.Gateway
	client *http.Client
}

// btcpayInvoice is the part of a Greenfield invoice notpanel reads.
type btcpayInvoice struct {
	ID               string `json:"id"`
	CheckoutLink     string `json:"checkoutLink"`
	Status           string `json:"status"`
	AdditionalStatus string `json:"additionalStatus"`
	Amount           string `json:"amount"`
	Currency         string `json:"currency"`
	Metadata         struct {
		OrderID string `json:"orderId"`
	} `json:"metadata"`
}

func (b *btcpay) invoices() string {
	return b.g.URL + "/api/v1/stores/" + url.PathEscape(b.g.StoreID) + "/invoices"
}

func (b *btcpay) Checkout(ctx context.Context, c CheckoutRequest) (Checkout, error) {
	body, _ := json.Marshal(map[string]any{
		"amount":   store.FormatMoney(c.Amount),
		"currency": c.Currency,
		"metadata": map[string]string{"orderId": c.Deposit, "itemDesc": c.Description},
		"checkout": map[string]any{"redirectURL": c.SuccessURL, "redirectAutomatically": true},
	})
	var inv btcpayInvoice
	if err := b.call(ctx, http.MethodPost, b.invoices(), body, &inv); err != nil {
		return Checkout{}, &gatewayError{b.g.Name, "create invoice", err}
	}
	if inv.ID == "" || !validCheckoutURL(inv.CheckoutLink) {
		return Checkout{}, &gatewayError{b.g.Name, "create invoice", fmt.Errorf("answer without an invoice id or checkoutLink")}
	}
	return Checkout{Reference: inv.ID, URL: inv.CheckoutLink}, nil
}

// btcpayEvent is the part of a webhook notpanel reads: which invoice.
type btcpayEvent struct {
	Type      string `json:"type"`
	InvoiceID string `json:"invoiceId"`
	StoreID   string `json:"storeId"`
}

func (b *btcpay) Verify(h http.Header, body []byte) (string, error) {
	if b.g.WebhookSecret == "" {
		return "", ErrNoSecret
	}
	sig, ok := strings.CutPrefix(h.Get("BTCPay-Sig"), "sha256=")
	got, err := hex.DecodeString(sig)
	if !ok || err != nil {
		return "", ErrSignature
	}
	mac := hmac.New(sha256.New, []byte(b.g.WebhookSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "", ErrSignature
	}
	var ev btcpayEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("signed event is not JSON: %v", err)
	}
	if !strings.HasPrefix(ev.Type, "Invoice") || ev.StoreID != "" && ev.StoreID != b.g.StoreID {
		return "", nil
	}
	return ev.InvoiceID, nil
}

func (b *btcpay) Lookup(ctx context.Context, reference string) (Payment, error) {
	var inv btcpayInvoice
	if err := b.call(ctx, http.MethodGet, b.invoices()+"/"+url.PathEscape(reference), nil, &inv); err != nil {
		return Payment{}, &gatewayError{b.g.Name, "read invoice " + reference, err}
	}
	if inv.ID != reference {
		return Payment{}, &gatewayError{b.g.Name, "read invoice " + reference, fmt.Errorf("answer is about %q", truncate(inv.ID, 64))}
	}
	p := Payment{Currency: strings.ToUpper(inv.Currency), Status: inv.Status, Deposit: inv.Metadata.OrderID}
	if inv.AdditionalStatus != "" && inv.AdditionalStatus != "None" {
		p.Status += "/" + inv.AdditionalStatus
	}
	switch inv.Status {
	case "Settled":
		amount, err := parseDecimal(inv.Amount)
		if err != nil || amount == 0 {
			return Payment{}, &gatewayError{b.g.Name, "read invoice " + reference, fmt.Errorf("settled, but amount %q", truncate(inv.Amount, 40))}
		}
		p.Verdict, p.Amount = Paid, amount
	case "Expired":
		switch inv.AdditionalStatus {
		case "PaidPartial":
			p.Verdict, p.Reason = Review, "the invoice expired after a partial payment"
		case "PaidLate":
			p.Verdict, p.Reason = Review, "paid after the invoice expired"
		default:
			p.Verdict = Expired
		}
	case "Invalid":
		p.Verdict = Failed
	default: // New, Processing
		p.Verdict = Open
	}
	return p, nil
}

// call sends a Greenfield request and decodes a 2xx answer into out.
func (b *btcpay) call(ctx context.Context, method, u string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+b.g.APIKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return doJSON(b.client, req, out)
}

// doJSON runs req and decodes a 2xx JSON answer into out; anything else is
// an error that says what came back, without echoing much of it.
func doJSON(client *http.Client, req *http.Request, out any) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if len(raw) > maxAnswer {
		return fmt.Errorf("answer larger than %d bytes", maxAnswer)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, truncate(strings.TrimSpace(string(raw)), 200))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("answer is not the JSON expected: %v", err)
	}
	return nil
}
