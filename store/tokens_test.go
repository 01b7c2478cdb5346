package store_test

import (
	"errors"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestResetPassword(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db, clock := clocked(t)
	alice := signUp(t, db, "alice", goodPassword)
	bob, _ := db.CreateAccount(ctx, "bob", "") // made by user add: no password yet
	laptop := session(t, db, alice.ID)
	token, err := db.CreateResetToken(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 26 {
		t.Errorf("token %q: want at least 128 bits", token)
	}
	if a, err := db.ResetAccount(ctx, token); err != nil || a.ID != alice.ID {
		t.Fatalf("ResetAccount = %+v, %v; want alice", a, err)
	}

	// A refused password leaves the link usable.
	_, err = db.ResetPassword(ctx, token, "alice2024")
	wantErr(t, err, store.Invalid, "Password must not be your user name")
	if !live(t, db, laptop) {
		t.Errorf("a refused reset ended a session")
	}
	a, err := db.ResetPassword(ctx, token, otherPassword)
	if err != nil || a.ID != alice.ID {
		t.Fatalf("ResetPassword = %+v, %v", a, err)
	}
	if live(t, db, laptop) {
		t.Errorf("a session outlived the password reset")
	}
	if _, _, err := db.SignIn(ctx, "alice", otherPassword); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}

	invite, _ := db.CreateInvite(ctx)
	expiring, _ := db.CreateResetToken(ctx, bob.ID)
	clock.Advance(store.ResetTTL - time.Second)
	bobs, _ := db.CreateResetToken(ctx, bob.ID)
	clock.Advance(time.Second)
	for name, bad := range map[string]string{
		"Used":       token,
		"Expired":    expiring,
		"Unknown":    "abcdefghijklmnopqrstuvwxyz",
		"Empty":      "",
		"Invitation": invite,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := db.ResetAccount(ctx, bad); !errors.Is(err, store.ErrResetToken) {
				t.Errorf("ResetAccount = %v, want %v", err, store.ErrResetToken)
			}
			_, err := db.ResetPassword(ctx, bad, "a brand new passphrase")
			wantErr(t, err, store.Invalid, "This reset link is not valid any more; ask for a new one")
		})
	}
	if _, _, err := db.SignIn(ctx, "alice", "a brand new passphrase"); err == nil {
		t.Errorf("a spent link set a password")
	}

	// A link gives an account made by user add its first password.
	if _, err := db.ResetPassword(ctx, bobs, goodPassword); err != nil {
		t.Fatalf("ResetPassword of a good link made an hour less a second ago: %v", err)
	}
	if a, _, err := db.SignIn(ctx, "bob", goodPassword); err != nil || a.ID != bob.ID {
		t.Errorf("SignIn after the reset = %+v, %v", a, err)
	}
}

// Of two links, spending one (or the password changing any other way)
// spends the other: an old link must not undo a newer password.
func TestResetLinksSpentTogether(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db := storetest.Open(t)
	alice := signUp(t, db, "alice", goodPassword)
	bob := signUp(t, db, "bob", goodPassword)
	first, _ := db.CreateResetToken(ctx, alice.ID)
	second, _ := db.CreateResetToken(ctx, alice.ID)
	bobs, _ := db.CreateResetToken(ctx, bob.ID)
	if _, err := db.ResetPassword(ctx, second, otherPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ResetAccount(ctx, first); !errors.Is(err, store.ErrResetToken) {
		t.Errorf("the other link still works: %v", err)
	}
	if a, err := db.ResetAccount(ctx, bobs); err != nil || a.ID != bob.ID {
		t.Errorf("another account's link = %+v, %v; want it untouched", a, err)
	}
	third, _ := db.CreateResetToken(ctx, alice.ID)
	if err := db.ChangePassword(ctx, alice.ID, otherPassword, "yet another long passphrase", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ResetAccount(ctx, third); !errors.Is(err, store.ErrResetToken) {
		t.Errorf("a link asked for before a password change still works: %v", err)
	}
}

func TestInvitesAreDistinct(t *testing.T) {
	db := storetest.Open(t)
	seen := map[string]bool{}
	for range 20 {
		code, err := db.CreateInvite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[code] || len(code) < 26 {
			t.Fatalf("invitation %q: repeated or shorter than 128 bits", code)
		}
		seen[code] = true
	}
}
