package upstream

import (
	"encoding/json"
	"testing"

	"notpanel/store"
)

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int64
		ok   bool
	}{
		{`"157"`, 157, true},
		{`157`, 157, true},
		{`"157.0"`, 157, true},
		{`157.9`, 157, true},
		{`" 157 "`, 157, true},
		{`-3`, 0, true},
		{`"-3.5"`, 0, true},
		{`1e3`, 1000, true},
		{`1e300`, 1<<63/2 - 1, true},
		{`"1e400"`, 0, false},
		{`"NaN"`, 0, false},
		{`"abc"`, 0, false},
		{`""`, 0, false},
		{`null`, 0, false},
		{`true`, 0, false},
		{`{}`, 0, false},
		{``, 0, false},
	} {
		got, ok := count(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("count(%s) = %d, %v; want %d, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAmount(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int64
		ok   bool
	}{
		{`"0.90"`, 900_000, true},
		{`0.9`, 900_000, true},
		{`12`, 12_000_000, true},
		{`"0.27819"`, 278_190, true},
		{`"1.23456789"`, 1_234_567, true}, // beyond micro-units: cut, not rounded
		{`1.5e-5`, 15, true},
		{`1.2345678e-5`, 12, true},
		{`1.0000001e3`, 1_000_000_100, true},
		{`2E2`, 200_000_000, true},
		{`1e30`, 0, false},
		{`"1,000.00"`, 0, false},
		{`"1.2.3"`, 0, false},
		{`"12abc"`, 0, false},
		{`"1.1234567x"`, 0, false},
		{`null`, 0, false},
		{`""`, 0, false},
	} {
		got, ok := amount(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("amount(%s) = %d, %v; want %d, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIDAndFlag(t *testing.T) {
	for raw, want := range map[string]string{
		`157`: "157", `"157"`: "157", `" 157 "`: "157", `"ord_01ABC"`: "ord_01ABC", `null`: "", `{"id":1}`: "", `[1]`: "",
		`"` + string(make([]byte, 101)) + `"`: "",
	} {
		if got := id(json.RawMessage(raw)); got != want {
			t.Errorf("id(%.20q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]bool{
		`true`: true, `"1"`: true, `1`: true, `"yes"`: true, `"on"`: true, `"TRUE"`: true,
		`false`: false, `0`: false, `"0"`: false, `null`: false, ``: false, `"no"`: false,
	} {
		if got := flag(json.RawMessage(raw)); got != want {
			t.Errorf("flag(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestErrorText(t *testing.T) {
	for raw, want := range map[string]string{
		`"Incorrect order ID"`:        "Incorrect order ID",
		`{"message":"Bad key"}`:       "Bad key",
		`{"error":"Nested"}`:          "Nested",
		`{"msg":"Short"}`:             "Short",
		`{"code":17}`:                 `{"code":17}`,
		`true`:                        "true",
		`42`:                          "42",
		``:                            "",
		`null`:                        "",
		`false`:                       "",
		`""`:                          "",
		`"   "`:                       "",
		`0`:                           "",
		`"0"`:                         "",
		`{}`:                          "",
		`[]`:                          "",
		`["Quantity less than min"]`:  `["Quantity less than min"]`,
		`{"message":"","code":"E17"}`: `{"message":"","code":"E17"}`,
	} {
		if got := errorText(json.RawMessage(raw)); got != want {
			t.Errorf("errorText(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestStatusMapping(t *testing.T) {
	for raw, want := range map[string]string{
		"Pending": store.StatusProcessing, "Processing": store.StatusProcessing, "In progress": store.StatusInProgress,
		"in_progress": store.StatusInProgress, "IN-PROGRESS": store.StatusInProgress, "Completed": store.StatusCompleted,
		"Partial": store.StatusPartial, "Canceled": store.StatusCancelled, "cancelled": store.StatusCancelled,
		"Refunded": store.StatusRefunded, "Fail": store.StatusFailed, " completed ": store.StatusCompleted,
		"Awaiting moderation": "", "": "", "Completed!": "",
	} {
		if got := Status(raw); got != want {
			t.Errorf("Status(%q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]string{
		"Pending": store.RefillPending, "In progress": store.RefillProcessing, "Processing": store.RefillProcessing,
		"Completed": store.RefillCompleted, "Rejected": store.RefillRejected, "Canceled": store.RefillRejected,
		"Being checked": "", "": "",
	} {
		if got := RefillStatus(raw); got != want {
			t.Errorf("RefillStatus(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		ok     bool
		class  Class
	}{
		{"OK", 200, ` {"order":1} `, true, 0},
		{"ErrorWith200", 200, `{"error":"Incorrect service ID"}`, false, Permanent},
		{"ErrorWith400", 400, `{"error":"Missing required parameter: link"}`, false, Permanent},
		{"Unauthorized", 401, ``, false, Account},
		{"Forbidden", 403, `{"error":"Account suspended"}`, false, Account},
		{"TooMany", 429, htmlPage, false, Busy},
		{"ServerError", 503, `{"error":"Invalid API key"}`, false, Temporary},
		{"GatewayTimeout", 504, ``, false, Unknown},
		{"Redirect", 301, ``, false, Temporary},
		{"NotJSON", 200, htmlPage, false, Unknown},
		{"Truncated", 200, `{"order":`, false, Unknown},
		{"NoMessage400", 400, `{"code":1}`, false, Temporary},
		{"ArrayOK", 200, `[{"order":1,"cancel":1}]`, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := decode(tt.status, []byte(tt.body))
			if tt.ok {
				if err != nil || !json.Valid(raw) {
					t.Fatalf("decode = %s, %v; want the body", raw, err)
				}
				return
			}
			if err == nil || ClassOf(err) != tt.class {
				t.Fatalf("decode = %s, %v; want a %s error", raw, err, tt.class)
			}
		})
	}
}
