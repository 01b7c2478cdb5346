package upstream

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"notpanel/store"
)

// Seeds beyond these live in testdata/fuzz/<FuzzName>/.

// FuzzDecode feeds any status and body to the answer checker: it must not
// panic, must pass only JSON without an error message, and must keep the
// classes the worker's safety rests on.
func FuzzDecode(f *testing.F) {
	f.Add(200, []byte(`{"order":1}`))
	f.Add(200, []byte(`{"error":"Incorrect service ID"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		raw, err := decode(status, body)
		if err == nil {
			if !json.Valid(raw) {
				t.Fatalf("decode passed invalid JSON %q", raw)
			}
			var probe struct {
				Error json.RawMessage `json:"error"`
			}
			if json.Unmarshal(raw, &probe) == nil && errorText(probe.Error) != "" {
				t.Fatalf("decode passed an error answer %q", raw)
			}
			if status >= 300 {
				t.Fatalf("decode passed HTTP %d", status)
			}
			return
		}
		e, ok := err.(*Error)
		if !ok || e.Class < Temporary || e.Class > Busy {
			t.Fatalf("decode error %#v is not a classified *Error", err)
		}
		switch {
		case status == 401 && e.Class != Account:
			t.Fatalf("HTTP 401 classed %s", e.Class)
		case status == 429 && e.Class != Busy:
			t.Fatalf("HTTP 429 classed %s", e.Class)
		case status >= 500 && status != 504 && e.Class != Temporary:
			t.Fatalf("HTTP %d classed %s", status, e.Class)
		}
	})
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// FuzzStatuses feeds any JSON to the status parser: every row it returns is
// consistent (status from its raw text, counts not negative, text bounded).
func FuzzStatuses(f *testing.F) {
	f.Add([]byte(`{"1":{"status":"Partial","start_count":"157","remains":"157.0"}}`), "1")
	f.Fuzz(func(t *testing.T, body []byte, ids string) {
		got, err := parseStatuses(body, splitIDs(ids))
		if err != nil {
			if ClassOf(err) != Temporary {
				t.Fatalf("parse error %v is not temporary", err)
			}
			return
		}
		for k, s := range got {
			if s.Status != "" && s.Status != Status(s.Raw) {
				t.Fatalf("%s: status %q from raw %q", k, s.Status, s.Raw)
			}
			if s.Remains < 0 || s.StartCount < 0 || !s.HasRemains && s.Remains != 0 {
				t.Fatalf("%s: counts %+v", k, s)
			}
			if len(s.Raw) > 64+len("…") {
				t.Fatalf("%s: raw text of %d bytes", k, len(s.Raw))
			}
		}
	})
}

// FuzzCancels feeds any JSON to the cancel parser: a row carrying an error
// is never read as an accepted cancel.
func FuzzCancels(f *testing.F) {
	f.Add([]byte(`[{"order":9,"cancel":1},{"order":10,"cancel":{"error":"Incorrect order ID"}}]`), "9,10")
	f.Fuzz(func(t *testing.T, body []byte, ids string) {
		got, err := parseCancels(body, splitIDs(ids))
		if err != nil {
			return
		}
		// Rows as JSON reads them into a struct: member names matched
		// without regard to case, the last of a repeated name winning.
		type row struct{ Order, Cancel, Error json.RawMessage }
		var rows []row
		if json.Unmarshal(body, &rows) != nil {
			return
		}
		last := map[string]row{}
		for _, r := range rows {
			if k := id(r.Order); k != "" {
				last[k] = r
			}
		}
		for k, r := range last {
			refusal, ok := got[k]
			if !ok {
				t.Fatalf("row of %q missing from %q", k, got)
			}
			var nested struct{ Error json.RawMessage }
			json.Unmarshal(r.Cancel, &nested)
			if refusal == "" && (errorText(r.Error) != "" || errorText(nested.Error) != "") {
				t.Fatalf("row %+v with an error read as accepted", r)
			}
			// A yes is 1, true, or a notpanel id echoed; nothing else.
			yes := text(r.Cancel) == "1" || strings.EqualFold(text(r.Cancel), "true") ||
				string(bytes.TrimSpace(r.Cancel)) == "true" || text(r.Cancel) == k && !bareNumber(k)
			if refusal == "" && !yes {
				t.Fatalf("row order=%s cancel=%s read as accepted", r.Order, r.Cancel)
			}
		}
	})
}

// FuzzAmount checks that money read from a provider is the number it sent,
// cut to micro-units, whatever its spelling.
func FuzzAmount(f *testing.F) {
	f.Add("1.2345678e-5")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		quoted, _ := json.Marshal(s)
		for _, raw := range []json.RawMessage{quoted, json.RawMessage(s)} {
			m, ok := amount(raw)
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(text(raw)), 64)
			if err != nil {
				t.Fatalf("amount(%s) = %d but it is not a number", raw, m)
			}
			if diff := math.Abs(v - float64(m)/1e6); diff > 1e-6+4e-16*math.Abs(v) {
				t.Fatalf("amount(%s) = %d micro-units, far from %g", raw, m, v)
			}
			if math.Abs(float64(m)) > store.MaxAmount {
				t.Fatalf("amount(%s) = %d beyond the maximum", raw, m)
			}
		}
	})
}

// FuzzServices feeds any JSON to the catalog parser: what it keeps can be
// imported (id, name, rate ≥ 0, 1 ≤ min ≤ max), and every row is either
// kept or counted as skipped.
func FuzzServices(f *testing.F) {
	f.Add([]byte(`[{"service":1,"name":"F","rate":"0.9","min":"50","max":10000}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, skipped, err := parseServices(body)
		if err != nil {
			return
		}
		var rows []json.RawMessage
		json.Unmarshal(body, &rows)
		if len(got)+skipped != len(rows) {
			t.Fatalf("%d kept + %d skipped of %d rows", len(got), skipped, len(rows))
		}
		for _, s := range got {
			if s.ID == "" || s.Name == "" || s.Type == "" || s.Rate < 0 || s.Min < 1 || s.Max < s.Min {
				t.Fatalf("kept unusable service %+v", s)
			}
		}
	})
}
