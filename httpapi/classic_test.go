package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"notpanel/store/storetest"
)

// classic posts to the classic endpoint and decodes the answer.
func (e *env) classic(params ...string) (int, any) {
	e.t.Helper()
	return e.classicKey(e.key, params...)
}

func (e *env) classicKey(key string, params ...string) (int, any) {
	e.t.Helper()
	v := url.Values{"key": {key}}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	resp, err := http.PostForm(e.srv.URL+"/classic/api/v2", v)
	if err != nil {
		e.t.Fatal(err)
	}
	return decode(e.t, resp)
}

func TestClassicDialect(t *testing.T) {
	e := newEnv(t)
	svc := strconv.FormatInt(e.svc.ID, 10)
	code, got := e.classic("action", "add", "service", svc, "link", "https://instagram.com/p/c", "quantity", "1000")
	n, ok := got.(map[string]any)["order"].(float64)
	if code != 200 || !ok || n < 1 {
		t.Fatalf("add without request_id: %d %v, want an integer order number", code, got)
	}
	num := strconv.FormatInt(int64(n), 10)
	// With a request_id, the same idempotency as the native dialect.
	_, first := e.classic("action", "add", "service", svc, "request_id", "r1", "link", "https://instagram.com/p/c", "quantity", "100")
	_, again := e.classic("action", "add", "service", svc, "request_id", "r1", "link", "https://instagram.com/p/c", "quantity", "100")
	if jsonString(t, first) != jsonString(t, again) || first.(map[string]any)["order"] == nil {
		t.Errorf("retried add: %v then %v, want the same order", first, again)
	}
	code, got = e.classic("action", "status", "order", num)
	if want := `{"charge":"0.90","start_count":"0","status":"Pending","remains":"1000","currency":"USD"}`; code != 200 || !sameJSON(t, got, want) {
		t.Errorf("status: %d %s, want %s", code, jsonString(t, got), want)
	}
	code, got = e.classic("action", "status", "orders", num+",999999,abc")
	want := fmt.Sprintf(`{%q:{"charge":"0.90","start_count":"0","status":"Pending","remains":"1000","currency":"USD"},`+
		`"999999":{"error":"Incorrect order ID"},"abc":{"error":"Incorrect order ID"}}`, num)
	if code != 200 || !sameJSON(t, got, want) {
		t.Errorf("multi status: %d %s\nwant %s", code, jsonString(t, got), want)
	}

	// Errors are HTTP 200 with the classic wording.
	for _, tt := range []struct {
		params []string
		msg    string
	}{
		{[]string{"action", "add", "service", "999", "link", "https://x.com/a", "quantity", "100"}, "Incorrect service ID"},
		{[]string{"action", "add", "service", svc, "link", "https://x.com/a", "quantity", "10000000"}, "Quantity more than maximal 10000"},
		{[]string{"action", "status", "order", "999999"}, "Incorrect order ID"},
		{[]string{"action", "refill_status", "refill", "42"}, "Incorrect refill ID"},
		{[]string{"action", "nope"}, "Incorrect request"},
		{nil, "Incorrect request"}, // refill calls without an action, as some clients send them
	} {
		code, got := e.classic(tt.params...)
		wantError(t, code, got, 200, tt.msg)
	}
	_, broke := storetest.Account(t, e.db, "broke", 0)
	code, got = e.classicKey(broke, "action", "add", "service", svc, "link", "https://x.com/a", "quantity", "100")
	wantError(t, code, got, 200, "Not enough funds on balance")
}

func TestClassicCancelAndRefill(t *testing.T) {
	e := newEnv(t)
	pending := e.order("p", "1000")
	done := e.order("d", "1000")
	e.exec(`UPDATE orders SET status = 'completed', claimed_at = 1, remains = 0 WHERE id = ?`, done)
	var nums []string
	for _, id := range []string{pending, done} {
		var n int64
		e.raw.QueryRow(`SELECT number FROM orders WHERE id = ?`, id).Scan(&n)
		nums = append(nums, strconv.FormatInt(n, 10))
	}
	code, got := e.classic("action", "cancel", "orders", nums[0]+","+nums[1]+",77777")
	want := fmt.Sprintf(`[{"order":%s,"cancel":1},{"order":%s,"cancel":{"error":"Order cannot be cancelled (already completed)"}},`+
		`{"order":77777,"cancel":{"error":"Incorrect order ID"}}]`, nums[0], nums[1])
	if code != 200 || !sameJSON(t, got, want) {
		t.Errorf("cancel: %d %s\nwant %s", code, jsonString(t, got), want)
	}
	code, got = e.classic("action", "refill", "order", nums[1])
	r, ok := got.(map[string]any)["refill"].(float64)
	if code != 200 || !ok {
		t.Fatalf("refill: %d %v", code, got)
	}
	code, got = e.classic("action", "refill_status", "refill", strconv.FormatInt(int64(r), 10))
	if code != 200 || !sameJSON(t, got, `{"status":"Pending"}`) {
		t.Errorf("refill_status: %d %v", code, got)
	}
	e.exec(`UPDATE refills SET status = 'processing'`)
	code, got = e.classic("action", "refill_status", "refills", strconv.FormatInt(int64(r), 10)+",5555")
	want = fmt.Sprintf(`[{"refill":%d,"status":"In progress"},{"refill":5555,"status":{"error":"Incorrect refill ID"}}]`, int64(r))
	if code != 200 || !sameJSON(t, got, want) {
		t.Errorf("refill_status batch: %d %s\nwant %s", code, jsonString(t, got), want)
	}
	code, got = e.classic("action", "refill", "orders", nums[0])
	want = fmt.Sprintf(`[{"order":%s,"refill":{"error":"Order cannot be refilled (cancelled)"}}]`, nums[0])
	if code != 200 || !sameJSON(t, got, want) {
		t.Errorf("refill batch: %d %s\nwant %s", code, jsonString(t, got), want)
	}
}
