package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzReadForm(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "key=np_x&action=add&service=1&link=https%3A%2F%2Fx.com&quantity=100"},
		{"application/x-www-form-urlencoded", "a=1&a=2"},
		{"application/x-www-form-urlencoded", "a=%ff&b=;c"},
		{"multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nv\r\n--X--\r\n"},
		{"text/plain", "key=1"},
		{"", "orders=ord_1,,ord_2, ord_1"},
	} {
		f.Add(seed.ct, seed.body)
	}
	f.Fuzz(func(t *testing.T, ct, body string) {
		req := httptest.NewRequest("POST", "/api/v2", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, MaxBody)
		got, err := readForm(req)
		if err != nil {
			if statusOf(err) != 400 && statusOf(err) != 413 {
				t.Fatalf("form error %v maps to %d, want 400 or 413", err, statusOf(err))
			}
			return
		}
		for k, v := range got {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("accepted invalid UTF-8: %q=%q", k, v)
			}
		}
		ids, batch, err := got.ids("order", "orders")
		if err != nil {
			return
		}
		if len(ids) == 0 || len(ids) > MaxBatch || !batch && len(ids) != 1 {
			t.Fatalf("ids() returned %d ids (batch %v)", len(ids), batch)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" || seen[id] || batch && strings.Contains(id, ",") {
				t.Fatalf("ids() returned empty, duplicate or unsplit id %q in %q", id, ids)
			}
			seen[id] = true
		}
	})
}
