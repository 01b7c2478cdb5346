package webhook

import "testing"

// The test vector published with the Standard Webhooks specification.
func TestSignMatchesTheSpecification(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
		[]byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Errorf("Sign = %q, %v; want %q", got, err, want)
	}
	if _, err := Sign("whsec_not base64!", "msg", 1, nil); err == nil {
		t.Error("a secret that is not base64 was accepted")
	}
}
