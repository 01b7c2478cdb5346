package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// verify is the receiver's check shown in the README, word for word.
func verify(secret, id, timestamp string, body []byte, signatures string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(signatures) { // the header may carry several
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func TestReadmeVerification(t *testing.T) {
	secret, id, body := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(`{"test": 2432232314}`)
	sig, _ := Sign(secret, id, 1614265330, body)
	if !verify(secret, id, "1614265330", body, "v1,bm90IHRoaXMgb25l "+sig) {
		t.Error("a genuine signature does not verify")
	}
	if verify(secret, id, "1614265331", body, sig) || verify(secret, id, "1614265330", []byte(`{"test": 1}`), sig) {
		t.Error("a signature verifies for another timestamp or body")
	}
}
