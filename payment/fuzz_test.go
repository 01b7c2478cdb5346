package payment

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"notpanel/store"
)

// The webhook parsers take outside input: none may panic, and none may
// accept a body whose signature was not made with the secret.

func FuzzCryptomusVerify(f *testing.F) {
	f.Add([]byte(`{"type":"payment","uuid":"u-1","status":"paid","url":"https://x/y","sign":"00"}`))
	f.Add([]byte(`{"a":{"0":"x","1":[]},"sign":"x","n":1.5e300}`))
	f.Add([]byte(`[1,2,{"sign":"a"}]`))
	c := &cryptomus{g: store.Gateway{Name: "c", APIKey: "key", WebhookSecret: "key"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		if ref, err := c.Verify(nil, body); err == nil && ref != "" {
			t.Errorf("accepted a body not signed with the key: %q", body)
		}
		// Whatever PHP decodes, encoding it is stable: decode(encode(v))
		// encodes the same again.
		if v, err := decodePHP(body); err == nil {
			for _, raw := range []bool{false, true} {
				var once, twice bytes.Buffer
				encodePHP(&once, v, raw)
				again, err := decodePHP(once.Bytes())
				if err != nil {
					t.Fatalf("PHP encoding of %q does not decode: %v (%s)", body, err, once.Bytes())
				}
				encodePHP(&twice, again, raw)
				if !bytes.Equal(once.Bytes(), twice.Bytes()) {
					t.Fatalf("unstable encoding of %q:\n%s\n%s", body, once.Bytes(), twice.Bytes())
				}
			}
		}
	})
}

func FuzzStripeVerify(f *testing.F) {
	f.Add([]byte(`{"type":"checkout.session.completed","data":{"object":{"id":"cs_1","object":"checkout.session"}}}`), true)
	f.Add([]byte(`not json`), true)
	f.Add([]byte(`{"type":"checkout.session.completed"}`), false)
	s := newStripe(store.Gateway{Name: "s", APIKey: "sk", WebhookSecret: "whsec_x", URL: "http://127.0.0.1:9"}, http.DefaultClient)
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		h := http.Header{}
		if signed {
			p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_x", Timestamp: time.Now()})
			h.Set("Stripe-Signature", p.Header)
		} else {
			h.Set("Stripe-Signature", "t=1,v1="+hex.EncodeToString(body))
		}
		if _, err := s.Verify(h, body); !signed && err == nil {
			t.Errorf("accepted an unsigned body %q", body)
		}
	})
}

func FuzzBTCPayVerify(f *testing.F) {
	f.Add([]byte(`{"type":"InvoiceSettled","invoiceId":"Inv1","storeId":"s"}`), true)
	f.Add([]byte(`{"type":"InvoiceSettled","invoiceId":"Inv1","storeId":"other"}`), true)
	f.Add([]byte(`[]`), false)
	b := &btcpay{g: store.Gateway{Name: "b", APIKey: "k", StoreID: "s", WebhookSecret: "secret"}}
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		key := "secret"
		if !signed {
			key = "not the secret"
		}
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(body)
		_, err := b.Verify(http.Header{"Btcpay-Sig": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}, body)
		if !signed && err == nil {
			t.Errorf("accepted a body signed with another key: %q", body)
		}
	})
}
