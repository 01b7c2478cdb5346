package paymenttest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Cryptomus fakes the Cryptomus merchant API (payment, payment/info, with
// signed requests) and its callbacks, which carry their sign inside the
// body: the md5 of the body as PHP's json_encode writes it (slashes
// escaped, JSON_UNESCAPED_UNICODE) in base64, followed by the key.
type Cryptomus struct {
	fake
	Key, Merchant string
	// AdditionalData goes into every callback; the default has slashes and
	// non-ASCII letters, which PHP encodes in its own way.
	AdditionalData string
	callbacks      map[string]string // uuid → url_callback
}

// NewCryptomus returns a fake Cryptomus merchant with payment API key key.
func NewCryptomus(key, merchant string) *Cryptomus {
	c := &Cryptomus{Key: key, Merchant: merchant, AdditionalData: "Zoë's top-up: https://panel.test/addfunds ✓",
		callbacks: map[string]string{}}
	c.init()
	return c
}

func sign(body []byte, key string) string {
	sum := md5.Sum([]byte(base64.StdEncoding.EncodeToString(body) + key))
	return hex.EncodeToString(sum[:])
}

func (c *Cryptomus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/payment" {
		c.creates.Add(1)
	}
	if c.misbehave(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("merchant") != c.Merchant || r.Header.Get("sign") != sign(body, c.Key) {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]any{"state": 1, "message": "You are forbidden"})
		return
	}
	var in map[string]string
	if err := json.Unmarshal(body, &in); err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		writeJSON(w, map[string]any{"state": 1, "message": "bad body"})
		return
	}
	switch r.URL.Path {
	case "/v1/payment":
		if in["amount"] == "" || in["currency"] == "" || in["order_id"] == "" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			writeJSON(w, map[string]any{"state": 1, "errors": map[string][]string{"amount": {"required"}}})
			return
		}
		c.mu.Lock()
		ch := &Checkout{Reference: fmt.Sprintf("8b03432e-385b-4670-8d06-%012d", c.seq.Add(1)), Deposit: in["order_id"],
			Amount: in["amount"], Currency: in["currency"]}
		c.add(ch)
		c.callbacks[ch.Reference] = in["url_callback"]
		c.mu.Unlock()
		writeJSON(w, map[string]any{"state": 0, "result": c.invoice(*ch)})
	case "/v1/payment/info":
		c.lookups.Add(1)
		ch, ok := c.get(in["uuid"])
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			writeJSON(w, map[string]any{"state": 1, "message": "Payment not found"})
			return
		}
		writeJSON(w, map[string]any{"state": 0, "result": c.invoice(ch)})
	default:
		http.NotFound(w, r)
	}
}

func status(s State) string {
	return map[State]string{Open: "check", Paid: "paid", Overpaid: "paid_over", Expired: "cancel",
		Failed: "fail", Underpaid: "wrong_amount"}[s]
}

func (c *Cryptomus) invoice(ch Checkout) map[string]any {
	return map[string]any{
		"uuid": ch.Reference, "order_id": ch.Deposit, "amount": ch.Amount + "000000", "currency": ch.Currency,
		"payment_status": status(ch.State), "url": "https://pay.cryptomus.test/pay/" + ch.Reference,
		"is_final": ch.State != Open,
	}
}

// Callback returns the URL the checkout's callbacks go to (url_callback).
func (c *Cryptomus) Callback(reference string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callbacks[reference]
}

// Webhook returns the callback Cryptomus posts about the invoice in its
// current state, and its headers.
func (c *Cryptomus) Webhook(reference string) ([]byte, http.Header) {
	ch, ok := c.get(reference)
	if !ok {
		ch = Checkout{Reference: reference}
	}
	fields := []Field{
		{"type", "payment"}, {"uuid", ch.Reference}, {"order_id", ch.Deposit}, {"amount", ch.Amount},
		{"payment_amount", ch.Amount}, {"merchant_amount", ch.Amount}, {"is_final", ch.State != Open},
		{"status", status(ch.State)}, {"from", nil}, {"network", "tron"}, {"currency", ch.Currency},
		{"payer_currency", "USDT"}, {"additional_data", c.AdditionalData},
		{"url", "https://pay.cryptomus.test/pay/" + ch.Reference},
	}
	return c.Signed(fields), http.Header{"Content-Type": {"application/json"}}
}

// Field is one key of a callback, kept in order.
type Field struct {
	Key   string
	Value any // string, bool or nil
}

// Signed adds the sign to fields and returns the body as sent: encoded the
// way Go encodes JSON, which is not PHP's way, so that a receiver must
// encode it again to check it.
func (c *Cryptomus) Signed(fields []Field) []byte {
	var php bytes.Buffer
	php.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			php.WriteByte(',')
		}
		phpString(&php, f.Key)
		php.WriteByte(':')
		switch v := f.Value.(type) {
		case string:
			phpString(&php, v)
		case bool:
			fmt.Fprint(&php, v)
		default:
			php.WriteString("null")
		}
	}
	php.WriteByte('}')
	fields = append(fields, Field{"sign", sign(php.Bytes(), c.Key)})
	var out bytes.Buffer
	out.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			out.WriteString(", ")
		}
		k, _ := json.Marshal(f.Key)
		v, _ := json.Marshal(f.Value)
		out.Write(k)
		out.WriteString(": ")
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes()
}

// phpString writes s as json_encode with JSON_UNESCAPED_UNICODE does, for
// the strings these callbacks hold (no control characters).
func phpString(buf *bytes.Buffer, s string) {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `/`, `\/`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	buf.WriteByte('"')
	buf.WriteString(r.Replace(s))
	buf.WriteByte('"')
}
