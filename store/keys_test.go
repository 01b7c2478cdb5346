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
