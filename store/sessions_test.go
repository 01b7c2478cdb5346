package store_test

import (
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

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
