package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
)

func TestNewID(t *testing.T) {
	prefixes := []string{store.PrefixOrder, store.PrefixRefill, store.PrefixKey, store.PrefixWebhook, store.PrefixEvent}
	for _, prefix := range prefixes {
		t.Run(strings.TrimSuffix(prefix, "_"), func(t *testing.T) {
			id := store.NewID(prefix)
			if got, want := len(id), len(prefix)+26; got != want {
				t.Errorf("len(%q) = %d, want %d", id, got, want)
			}
			got, ok := store.ParseID(prefix, id)
			if !ok || got != id {
				t.Errorf("ParseID(%q) = %q, %v; want it back unchanged", id, got, ok)
			}
		})
	}
}

// Ids sort by creation time, so "newest first" listings and pagination can
// rely on them; they are never repeated.
func TestNewIDIncreases(t *testing.T) {
	prev := store.NewID(store.PrefixOrder)
	for range 10_000 {
		id := store.NewID(store.PrefixOrder)
		if id <= prev {
			t.Fatalf("NewID gave %q after %q, want strictly increasing", id, prev)
		}
		prev = id
	}
}

func TestParseID(t *testing.T) {
	const valid = "ord_01HG9X7KJP4N5Q6R7S8T9V0W1X"
	tests := []struct {
		name   string
		prefix string
		in     string
		want   string
		wantOK bool
	}{
		{"Canonical", store.PrefixOrder, valid, valid, true},
		{"LowercaseCanonicalised", store.PrefixOrder, strings.ToLower(valid[:4]) + strings.ToLower(valid[4:]), valid, true},
		{"MixedCaseCanonicalised", store.PrefixOrder, "ord_01hG9x7KjP4n5Q6r7S8t9V0w1X", valid, true},
		{"LargestULID", store.PrefixOrder, "ord_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "ord_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", true},
		{"RefillPrefix", store.PrefixRefill, "ref_01HG9X7KJP4N5Q6R7S8T9V0W1X", "ref_01HG9X7KJP4N5Q6R7S8T9V0W1X", true},
		{"WrongPrefix", store.PrefixOrder, "ref_01HG9X7KJP4N5Q6R7S8T9V0W1X", "", false},
		{"UpperCasePrefix", store.PrefixOrder, "ORD_01HG9X7KJP4N5Q6R7S8T9V0W1X", "", false},
		{"NoPrefix", store.PrefixOrder, "01HG9X7KJP4N5Q6R7S8T9V0W1X", "", false},
		{"BareULIDPaddedToLength", store.PrefixOrder, "000001HG9X7KJP4N5Q6R7S8T9V0W1X", "", false},
		{"OneCharShort", store.PrefixOrder, valid[:len(valid)-1], "", false},
		{"OneCharLong", store.PrefixOrder, valid + "0", "", false},
		{"Empty", store.PrefixOrder, "", "", false},
		{"PrefixOnly", store.PrefixOrder, "ord_", "", false},
		{"LetterI", store.PrefixOrder, "ord_01HG9X7KJP4N5Q6R7S8T9V0W1I", "", false},
		{"LetterL", store.PrefixOrder, "ord_01HG9X7KJP4N5Q6R7S8T9V0W1L", "", false},
		{"LetterO", store.PrefixOrder, "ord_01HG9X7KJP4N5Q6R7S8T9V0W1O", "", false},
		{"LetterU", store.PrefixOrder, "ord_01HG9X7KJP4N5Q6R7S8T9V0W1U", "", false},
		{"Punctuation", store.PrefixOrder, "ord_01HG9X7KJP4N5Q6R7S8T9V0W1-", "", false},
		{"SQLWildcard", store.PrefixOrder, "ord_01HG9X7KJP4N5Q6R7S8T9V0W1%", "", false},
		{"MultibyteSameByteLength", store.PrefixOrder, "ord_01HG9X7KJP4N5Q6R7S8T9V0Wé", "", false},
		{"Overflow", store.PrefixOrder, "ord_8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "", false},
		{"OverflowLowercase", store.PrefixOrder, "ord_zzzzzzzzzzzzzzzzzzzzzzzzzz", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := store.ParseID(tt.prefix, tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseID(%q, %q) = %q, %v; want %q, %v", tt.prefix, tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("ord_01HG9X7KJP4N5Q6R7S8T9V0W1X")
	f.Add("ord_01hg9x7kjp4n5q6r7s8t9v0w1x")
	f.Add("ord_8ZZZZZZZZZZZZZZZZZZZZZZZZZ")
	f.Add("ref_01HG9X7KJP4N5Q6R7S8T9V0W1X")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := store.ParseID(store.PrefixOrder, s)
		if !ok {
			if id != "" {
				t.Fatalf("ParseID(%q) = %q but not ok", s, id)
			}
			return
		}
		if want := store.PrefixOrder + strings.ToUpper(s[len(store.PrefixOrder):]); id != want {
			t.Fatalf("ParseID(%q) = %q, want %q", s, id, want)
		}
		if s[4] > '7' {
			t.Fatalf("ParseID(%q) accepted a ULID beyond 128 bits", s)
		}
		again, ok := store.ParseID(store.PrefixOrder, id)
		if !ok || again != id {
			t.Fatalf("ParseID(%q) = %q, %v; canonical ids must parse to themselves", id, again, ok)
		}
	})
}
