package store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestSessionOf(t *testing.T) {
	db, clock := clocked(t)
	alice, _ := db.CreateAccount(ctx, "alice", "")
	token, err := db.CreateSession(ctx, alice.ID, false, "192.0.2.1", strings.Repeat("M", 500))
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.SessionOf(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if s.Account != alice || s.SecondFactor || s.Created != clock.Now().Unix() {
		t.Errorf("session = %+v, want alice's, fully signed in, created now", s)
	}
	raw := storetest.Raw(t, db)
	var ua string
	var hash []byte
	if err := raw.QueryRowContext(ctx, `SELECT user_agent, hash FROM sessions`).Scan(&ua, &hash); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte(token)); !bytes.Equal(hash, want[:]) {
		t.Errorf("stored %x, want the token's SHA-256 alone", hash)
	}
	if len(ua) != 200 {
		t.Errorf("stored user agent of %d bytes, want the first 200", len(ua))
	}

	// The account is read as it is now, not as it was at sign-in.
	if _, err := db.AddFunds(ctx, "alice", 5_000_000, "card"); err != nil {
		t.Fatal(err)
	}
	if s, err := db.SessionOf(ctx, token); err != nil || s.Account.Balance != 5_000_000 {
		t.Errorf("session account = %+v, %v; want the balance of now", s.Account, err)
	}

	flipped := []byte(token)
	flipped[10] ^= 1
	for name, forged := range map[string]string{
		"Empty":      "",
		"Random":     "ZG9lcyBub3QgZXhpc3QgYXQgYWxsIGluIHRoZSBkYXRhYmFzZQ",
		"OneBitOff":  string(flipped),
		"Truncated":  token[:len(token)-1],
		"Longer":     token + "A",
		"Huge":       strings.Repeat(token, 10),
		"UpperCased": strings.ToUpper(token),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := db.SessionOf(ctx, forged); !errors.Is(err, store.ErrNoSession) {
				t.Errorf("SessionOf(%q) = %v, want %v", forged, err, store.ErrNoSession)
			}
		})
	}
	if !live(t, db, token) {
		t.Errorf("forged tokens ended the real session")
	}
}

func TestSessionExpiry(t *testing.T) {
	db, clock := clocked(t)
	alice, _ := db.CreateAccount(ctx, "alice", "")
	raw := storetest.Raw(t, db)
	seen := func(token string) int64 {
		t.Helper()
		var at int64
		s, err := db.SessionOf(ctx, token)
		if err != nil {
			t.Fatalf("SessionOf: %v", err)
		}
		if err := raw.QueryRowContext(ctx, `SELECT seen_at FROM sessions WHERE account_id = ? AND created_at = ?`,
			alice.ID, s.Created).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}

	t.Run("TouchedOnceAMinute", func(t *testing.T) {
		token := session(t, db, alice.ID)
		start := clock.Now().Unix()
		clock.Advance(59 * time.Second)
		if got := seen(token); got != start {
			t.Errorf("seen_at %d after 59 s, want %d: a request within the minute writes nothing", got, start)
		}
		clock.Advance(time.Second)
		if got := seen(token); got != start+60 {
			t.Errorf("seen_at %d after a minute, want %d", got, start+60)
		}
		clock.Advance(30 * time.Second)
		if got := seen(token); got != start+60 {
			t.Errorf("seen_at %d 30 s after the touch, want %d", got, start+60)
		}
	})
	t.Run("Idle", func(t *testing.T) {
		token := session(t, db, alice.ID)
		clock.Advance(store.SessionIdle - time.Second)
		if !live(t, db, token) {
			t.Fatalf("session ended a second before its idle limit")
		}
		clock.Advance(store.SessionIdle - time.Second) // the request above moved the idle limit on
		if !live(t, db, token) {
			t.Fatalf("a request did not keep the session alive")
		}
		clock.Advance(store.SessionIdle)
		if live(t, db, token) {
			t.Fatalf("session alive after %s without a request", store.SessionIdle)
		}
		clock.Advance(-store.SessionIdle) // even with the clock set back, it is gone
		if live(t, db, token) {
			t.Errorf("an idle session came back")
		}
		clock.Advance(store.SessionIdle)
	})
	t.Run("Absolute", func(t *testing.T) {
		token := session(t, db, alice.ID)
		var used time.Duration
		for used+store.SessionIdle/2 < store.SessionMax {
			clock.Advance(store.SessionIdle / 2)
			used += store.SessionIdle / 2
			if !live(t, db, token) {
				t.Fatalf("a session in use ended after %s, before %s", used, store.SessionMax)
			}
		}
		clock.Advance(store.SessionMax - used)
		if live(t, db, token) {
			t.Errorf("a session in use outlived %s", store.SessionMax)
		}
	})
	t.Run("SecondFactorWait", func(t *testing.T) {
		token, err := db.CreateSession(ctx, alice.ID, true, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := db.SessionOf(ctx, token); err != nil || !s.SecondFactor {
			t.Fatalf("session = %+v, %v; want one awaiting its code", s, err)
		}
		clock.Advance(store.SecondFactorWait - time.Second)
		if !live(t, db, token) {
			t.Fatalf("ended before the wait was over")
		}
		clock.Advance(time.Second)
		if live(t, db, token) {
			t.Errorf("a session awaiting its code lived past %s", store.SecondFactorWait)
		}
	})
	t.Run("Swept", func(t *testing.T) {
		old := session(t, db, alice.ID)
		clock.Advance(store.SessionMax)
		session(t, db, alice.ID) // signing anyone in sweeps what has expired
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE expires_at <= ?`, clock.Now().Unix()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d expired sessions left after a sign-in", n)
		}
		if live(t, db, old) {
			t.Errorf("an expired session is live")
		}
	})
}

func TestSessionsEnd(t *testing.T) {
	db := storetest.Open(t)
	alice, _ := db.CreateAccount(ctx, "alice", "")
	bob, _ := db.CreateAccount(ctx, "bob", "")
	laptop, phone, bobs := session(t, db, alice.ID), session(t, db, alice.ID), session(t, db, bob.ID)

	if err := db.EndSession(ctx, laptop); err != nil {
		t.Fatal(err)
	}
	if live(t, db, laptop) || !live(t, db, phone) {
		t.Errorf("sign-out: laptop live %v, phone live %v; want only the phone", live(t, db, laptop), live(t, db, phone))
	}
	if err := db.EndSession(ctx, laptop); err != nil {
		t.Errorf("signing out twice: %v", err)
	}

	tablet := session(t, db, alice.ID)
	if n, err := db.EndSessions(ctx, alice.ID); err != nil || n != 2 {
		t.Errorf("EndSessions = %d, %v; want the phone and the tablet", n, err)
	}
	if live(t, db, phone) || live(t, db, tablet) {
		t.Errorf("a session outlived EndSessions")
	}
	if !live(t, db, bobs) {
		t.Errorf("EndSessions ended another account's session")
	}
	if n, err := db.EndSessions(ctx, alice.ID); err != nil || n != 0 {
		t.Errorf("EndSessions again = %d, %v; want 0", n, err)
	}
}

// Suspending an account ends its sessions at their next request, for good:
// unsuspending does not sign the browsers back in.
func TestSessionOfSuspended(t *testing.T) {
	db := storetest.Open(t)
	alice, _ := db.CreateAccount(ctx, "alice", "")
	token := session(t, db, alice.ID)
	if _, err := db.SetAccountStatus(ctx, "alice", store.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	if live(t, db, token) {
		t.Fatalf("a suspended account's session is live")
	}
	if _, err := db.SetAccountStatus(ctx, "alice", store.AccountActive); err != nil {
		t.Fatal(err)
	}
	if live(t, db, token) {
		t.Errorf("unsuspending brought an ended session back")
	}
	if !live(t, db, session(t, db, alice.ID)) {
		t.Errorf("a new sign-in after unsuspending is not live")
	}
}

// TestNewPasswordEndsSessions: the operator's set-password and a reset
// link end every session of the account; a customer's own change ends all
// but the one that made it. Other accounts' sessions stay.
func TestNewPasswordEndsSessions(t *testing.T) {
	db := storetest.Open(t)
	alice, _ := storetest.Account(t, db, "alice", 0)
	bob, _ := storetest.Account(t, db, "bob", 0)
	session := func(id int64) string {
		t.Helper()
		tok, err := db.CreateSession(ctx, id, false, "192.0.2.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	live := func(tok string) bool {
		_, err := db.SessionOf(ctx, tok)
		if err != nil && err != store.ErrNoSession {
			t.Fatal(err)
		}
		return err == nil
	}
	bobs := session(bob.ID)
	steps := []struct {
		name   string
		change func(keep string) error
		kept   bool
	}{
		{"SetPassword", func(string) error { return db.SetPassword(ctx, alice.ID, "first fine phrase") }, false},
		{"ChangePassword", func(keep string) error {
			return db.ChangePassword(ctx, alice.ID, "first fine phrase", "second fine phrase", keep)
		}, true},
		{"ResetPassword", func(string) error {
			tok, err := db.CreateResetToken(ctx, alice.ID)
			if err != nil {
				return err
			}
			_, err = db.ResetPassword(ctx, tok, "third fine phrase")
			return err
		}, false},
	}
	for _, st := range steps {
		this, other := session(alice.ID), session(alice.ID)
		if err := st.change(this); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if live(other) || live(this) != st.kept {
			t.Errorf("%s: another session live %v, this one %v (want %v)", st.name, live(other), live(this), st.kept)
		}
		if !live(bobs) {
			t.Fatalf("%s ended another account's session", st.name)
		}
	}
}
