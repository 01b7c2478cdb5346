package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x1f\x7f", "ünïcødé ✓",
		"\u2028\u2029", "bad \xff utf-8", "<script>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("appendString(%q) = %s: not JSON: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if !utf8.ValidString(s) {
			// Each invalid byte becomes one U+FFFD, as encoding/json does.
			var sb strings.Builder
			for i := 0; i < len(s); {
				r, size := utf8.DecodeRuneInString(s[i:])
				sb.WriteRune(r)
				i += size
			}
			want = sb.String()
		}
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q, want %q", s, got, want)
		}
	})
}

func TestAppendJSONShapes(t *testing.T) {
	v := []object{{{"order", "ord_1"}, {"cancel", "ord_1"}}, {{"ok", true}, {"n", 3}, {"number", int64(23501)}}}
	b, err := appendJSON(nil, v)
	if want := `[{"order":"ord_1","cancel":"ord_1"},{"ok":true,"n":3,"number":23501}]`; err != nil || string(b) != want {
		t.Errorf("appendJSON = %s, %v; want %s", b, err, want)
	}
	if _, err := appendJSON(nil, object{{"bad", func() {}}}); err == nil {
		t.Error("an unencodable value did not fail")
	}
}
