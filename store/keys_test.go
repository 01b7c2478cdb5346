package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestCreateKeyAndAuthenticate(t *testing.T) {
	f := newFixture(t, 0)
	raw, k, err := f.db.CreateKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, store.KeyPrefix) || len(raw) != len(store.KeyPrefix)+32 {
		t.Errorf("raw key %q: want np_ and 32 base32 characters (160 bits)", raw)
	}
	if k.AccountID != f.acct.ID || k.Prefix != raw[:9] || !strings.HasPrefix(k.ID, store.PrefixKey) {
		t.Errorf("key = %+v, want alice's with prefix %q", k, raw[:9])
	}
	if n := f.count(t, `SELECT count(*) FROM api_keys WHERE instr(CAST(hash AS TEXT), ?) > 0 OR prefix = ?`, raw, raw); n != 0 {
		t.Errorf("the raw key is stored")
	}
	p, err := f.db.Authenticate(ctx, raw)
	if err != nil || p != (store.Principal{AccountID: f.acct.ID, KeyID: k.ID, Tier: "standard"}) {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	other, _, _ := f.db.CreateKey(ctx, "alice")
	bad := []struct{ name, key string }{
		{"Empty", ""},
		{"WrongPrefix", "xx_" + raw[3:]},
		{"Short", raw[:len(raw)-1]},
		{"Long", raw + "a"},
		{"OneCharOff", raw[:len(raw)-1] + map[bool]string{true: "b", false: "a"}[raw[len(raw)-1] == 'a']},
		{"Uppercase", strings.ToUpper(raw)},
		{"Unknown", store.KeyPrefix + strings.Repeat("a", 32)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.db.Authenticate(ctx, tt.key)
			wantErr(t, err, store.Unauthorized, "Invalid API key")
		})
	}
	t.Run("Revoked", func(t *testing.T) {
		if err := f.db.RevokeKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		_, err := f.db.Authenticate(ctx, raw)
		wantErr(t, err, store.Unauthorized, "Invalid API key")
		if _, err := f.db.Authenticate(ctx, other); err != nil {
			t.Errorf("the account's other key: %v", err)
		}
		err = f.db.RevokeKey(ctx, k.ID)
		wantErr(t, err, store.Conflict, `Key "`+k.ID+`" is already revoked`)
		err = f.db.RevokeKey(ctx, "key_nope")
		wantErr(t, err, store.NotFound, `Key "key_nope" not found`)
	})
	keys, err := f.db.ListKeys(ctx, "alice")
	if err != nil || len(keys) != 3 { // the fixture's key, k and other
		t.Fatalf("ListKeys = %+v, %v", keys, err)
	}
	for _, got := range keys {
		if revoked := got.ID == k.ID; revoked != (got.Revoked != 0) {
			t.Errorf("key %s revoked at %d", got.ID, got.Revoked)
		}
	}
	_, err = f.db.ListKeys(ctx, "nobody")
	wantErr(t, err, store.NotFound, `User "nobody" not found`)
	_, _, err = f.db.CreateKey(ctx, "nobody")
	wantErr(t, err, store.NotFound, `User "nobody" not found`)
}

func TestActiveKeyLimit(t *testing.T) {
	db := storetest.Open(t)
	if _, err := db.CreateAccount(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	var first store.APIKey
	for i := range store.MaxActiveKeys {
		_, k, err := db.CreateKey(ctx, "alice")
		if err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
		if i == 0 {
			first = k
		}
	}
	_, _, err := db.CreateKey(ctx, "alice")
	wantErr(t, err, store.Conflict, "At most 10 active API keys per account; revoke one first")
	if err := db.RevokeKey(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateKey(ctx, "alice"); err != nil {
		t.Errorf("key after revoking one: %v", err)
	}
}

func TestAccountKeys(t *testing.T) {
	db := storetest.Open(t)
	alice, _ := db.CreateAccount(ctx, "alice", "")
	bob, bobsRaw := storetest.Account(t, db, "bob", 0)
	const labelRule = "Key label: one line of at most 60 characters"
	tests := []struct {
		name, label string
		want        string // the label kept; "" with message for a refusal
		message     string
	}{
		{"NoLabel", "", "", ""},
		{"Label", "CI server", "CI server", ""},
		{"Trimmed", "  laptop \t", "laptop", ""},
		{"SixtyRunes", strings.Repeat("é", 60), strings.Repeat("é", 60), ""},
		{"ErrTooLong", strings.Repeat("k", 61), "", labelRule},
		{"ErrTwoLines", "CI\nserver", "", labelRule},
		{"ErrCarriageReturn", "CI\rserver", "", labelRule},
		{"ErrNul", "CI\x00", "", labelRule},
		{"ErrNotUTF8", "CI \xff", "", labelRule},
	}
	var made []store.APIKey
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, k, err := db.CreateAccountKey(ctx, alice.ID, tt.label)
			if tt.message != "" {
				wantErr(t, err, store.Invalid, tt.message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Label != tt.want || k.AccountID != alice.ID || k.Prefix != raw[:9] {
				t.Errorf("key = %+v, want alice's labelled %q", k, tt.want)
			}
			if p, err := db.Authenticate(ctx, raw); err != nil || p.AccountID != alice.ID || p.KeyID != k.ID {
				t.Errorf("Authenticate = %+v, %v", p, err)
			}
			made = append(made, k)
		})
	}
	keys, err := db.AccountKeys(ctx, alice.ID)
	if err != nil || len(keys) != len(made) {
		t.Fatalf("AccountKeys = %+v, %v; want the %d made, none of bob's", keys, err, len(made))
	}
	for i, k := range keys {
		if k != made[i] {
			t.Errorf("key %d = %+v, want %+v (oldest first)", i, k, made[i])
		}
	}

	t.Run("AnotherAccountsKeyIsNotFound", func(t *testing.T) {
		bobs, _ := db.AccountKeys(ctx, bob.ID)
		err := db.RevokeAccountKey(ctx, alice.ID, bobs[0].ID)
		wantErr(t, err, store.NotFound, `Key "`+bobs[0].ID+`" not found`)
		if _, err := db.Authenticate(ctx, bobsRaw); err != nil {
			t.Errorf("bob's key after alice tried to revoke it: %v", err)
		}
	})
	t.Run("RevokeOwn", func(t *testing.T) {
		if err := db.RevokeAccountKey(ctx, alice.ID, made[0].ID[:4]+strings.ToLower(made[0].ID[4:])); err != nil {
			t.Fatal(err)
		}
		err := db.RevokeAccountKey(ctx, alice.ID, made[0].ID)
		wantErr(t, err, store.Conflict, `Key "`+made[0].ID+`" is already revoked`)
		keys, _ := db.AccountKeys(ctx, alice.ID)
		if keys[0].Revoked == 0 || keys[1].Revoked != 0 {
			t.Errorf("keys after revoking the first: %+v", keys)
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		for _, ref := range []string{"", "key_", "nonsense", "ord_" + made[1].ID[4:]} {
			err := db.RevokeAccountKey(ctx, alice.ID, ref)
			wantErr(t, err, store.NotFound, `Key "`+ref+`" not found`)
		}
	})
	t.Run("NoAccount", func(t *testing.T) {
		if _, _, err := db.CreateAccountKey(ctx, 0, ""); store.ErrorCode(err) != store.Internal {
			t.Errorf("CreateAccountKey without an account = %v, want an internal error", err)
		}
		if _, err := db.AccountKeys(ctx, 0); store.ErrorCode(err) != store.Internal {
			t.Errorf("AccountKeys without an account = %v, want an internal error", err)
		}
		if err := db.RevokeAccountKey(ctx, 0, made[1].ID); store.ErrorCode(err) != store.Internal {
			t.Errorf("RevokeAccountKey without an account = %v, want an internal error", err)
		}
	})
}

func TestAccountKeyLimit(t *testing.T) {
	db := storetest.Open(t)
	alice, _ := db.CreateAccount(ctx, "alice", "")
	var first store.APIKey
	for i := range store.MaxActiveKeys {
		_, k, err := db.CreateAccountKey(ctx, alice.ID, "key")
		if err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
		if i == 0 {
			first = k
		}
	}
	_, _, err := db.CreateAccountKey(ctx, alice.ID, "one too many")
	wantErr(t, err, store.Conflict, "At most 10 active API keys per account; revoke one first")
	if err := db.RevokeAccountKey(ctx, alice.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateAccountKey(ctx, alice.ID, "in its place"); err != nil {
		t.Errorf("key after revoking one: %v", err)
	}
	_, _, err = db.CreateAccountKey(ctx, alice.ID, "and another")
	wantErr(t, err, store.Conflict, "At most 10 active API keys per account; revoke one first")
	if keys, _ := db.AccountKeys(ctx, alice.ID); len(keys) != 11 {
		t.Errorf("%d keys listed, want 11 (the revoked one too)", len(keys))
	}
}
