package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"notpanel/store/storetest"
)

func setup(t *testing.T) (*storetest.Clock, func(params ...string) any) {
	t.Helper()
	c := storetest.NewClock(time.Unix(1_800_000_000, 0))
	return c, caller(t, New("k", c.Now, 1))
}

// caller serves p and returns a function that posts name, value, … pairs
// with p's key and decodes the answer.
func caller(t *testing.T, p *Provider) func(params ...string) any {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return func(params ...string) any {
		t.Helper()
		v := url.Values{"key": {p.Key}}
		for i := 0; i+1 < len(params); i += 2 {
			v.Set(params[i], params[i+1])
		}
		resp, err := http.PostForm(srv.URL, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func field(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// idOf prints a JSON number id as the provider's integer id.
func idOf(v any) string {
	f, _ := v.(float64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func TestOrderLifecycle(t *testing.T) {
	c, call := setup(t)
	key := idOf(field(call("action", "add", "service", "1", "link", "https://x", "quantity", "1000"), "order"))
	status := func() (string, string) {
		row := field(call("action", "status", "orders", key), key)
		return field(row, "status").(string), field(row, "remains").(string)
	}
	if s, r := status(); s != "Pending" || r != "1000" {
		t.Errorf("at once: %s %s, want Pending 1000", s, r)
	}
	c.Advance(startDelay + 5*time.Second)
	if s, r := status(); s != "In progress" || r == "1000" || r == "0" {
		t.Errorf("mid-way: %s %s, want In progress with some delivered", s, r)
	}
	c.Advance(maxDelivery)
	if s, _ := status(); s != "Completed" && s != "Partial" {
		t.Errorf("at the end: %s, want Completed or Partial", s)
	}
	ref := field(call("action", "refill", "order", key), "refill").(string)
	rows := call("action", "refill_status", "refills", ref).([]any)
	if field(rows[0], "status") != "In progress" {
		t.Errorf("fresh refill: %v", rows)
	}
	c.Advance(refillTime)
	rows = call("action", "refill_status", "refills", ref+",999999").([]any)
	if field(rows[0], "status") != "Completed" || field(rows[1], "status", "error") != "Refill not found" {
		t.Errorf("refill rows: %v", rows)
	}
	rows = call("action", "cancel", "orders", key).([]any)
	if field(rows[0], "cancel", "error") == nil {
		t.Errorf("cancel of a finished order accepted: %v", rows)
	}
}

func TestCancelAndErrors(t *testing.T) {
	_, call := setup(t)
	key := idOf(field(call("action", "add", "service", "2", "link", "https://x", "quantity", "100", "runs", "3"), "order"))
	rows := call("action", "cancel", "orders", key+",42").([]any)
	if field(rows[0], "cancel") != float64(1) || field(rows[1], "cancel", "error") != "Incorrect order ID" {
		t.Errorf("cancel rows: %v", rows)
	}
	if s := field(call("action", "status", "orders", key), key, "status"); s != "Canceled" {
		t.Errorf("after cancel: %v", s)
	}
	tests := []struct {
		params []string
		want   string
	}{
		{[]string{"action", "add", "service", "99", "link", "https://x", "quantity", "100"}, "Incorrect service ID"},
		{[]string{"action", "add", "service", "1", "link", "https://x", "quantity", "1"}, "Quantity less than minimal 50"},
		{[]string{"action", "add", "service", "1", "link", "https://x", "quantity", "99999"}, "Quantity more than maximal 10000"},
		{[]string{"action", "refill", "order", "42"}, "Incorrect order ID"},
		{[]string{"action", "refill", "order", key}, "Refill is not available for this order"},
		{[]string{"action", "nope"}, "Incorrect request"},
		{[]string{"key", "wrong", "action", "balance"}, "Invalid API key"},
	}
	for _, tt := range tests {
		if got := field(call(tt.params...), "error"); got != tt.want {
			t.Errorf("%v: error %v, want %q", tt.params, got, tt.want)
		}
	}
	if field(call("action", "status", "orders", "42"), "42", "error") != "Incorrect order ID" {
		t.Error("unknown order status")
	}
	if b := field(call("action", "balance"), "balance"); b != "999999.91" { // the order of 100 at 0.90 above
		t.Errorf("balance %v", b)
	}
	pkg := field(call("action", "add", "service", "5", "link", "https://x"), "order")
	comments := field(call("action", "add", "service", "4", "link", "https://x", "comments", "a\nb"), "order")
	if pkg == nil || comments == nil {
		t.Errorf("package or comments add refused: %v %v", pkg, comments)
	}
	svcs := call("action", "services").([]any)
	if len(svcs) != len(Catalog) || !strings.Contains(field(svcs[0], "name").(string), "[simulated]") {
		t.Errorf("services: %v", svcs)
	}
}

// Orders spend the simulated balance; one it cannot pay is refused as real
// panels refuse it, and taken again once funds are added.
func TestFunds(t *testing.T) {
	p := New("k", nil, 1)
	post := caller(t, p)
	call := func(params ...string) map[string]any {
		t.Helper()
		out, _ := post(params...).(map[string]any)
		return out
	}
	p.AddFunds(-p.Balance() + 1_000_000) // 1.00 left: 1000 followers at 0.90 cost 0.90
	if got := call("action", "balance")["balance"]; got != "1.00" {
		t.Fatalf("balance %v, want 1.00", got)
	}
	if got := call("action", "add", "service", "1", "link", "https://x/1", "quantity", "1000"); got["order"] == nil {
		t.Fatalf("add within the balance: %v", got)
	}
	if got := call("action", "balance")["balance"]; got != "0.10" {
		t.Errorf("balance %v after an order of 0.90, want 0.10", got)
	}
	if got := call("action", "add", "service", "1", "link", "https://x/2", "quantity", "1000"); got["error"] != "Not enough funds on balance" {
		t.Errorf("add beyond the balance: %v", got)
	}
	p.AddFunds(5_000_000)
	if got := call("action", "add", "service", "1", "link", "https://x/2", "quantity", "1000"); got["order"] == nil {
		t.Errorf("add after a top-up: %v", got)
	}
	if n := p.Orders(); n != 2 {
		t.Errorf("%d orders, want 2", n)
	}
}

// An add takes AddLatency to answer.
func TestAddLatency(t *testing.T) {
	p := New("k", nil, 1)
	p.AddLatency = 200 * time.Millisecond
	call := caller(t, p)
	start := time.Now()
	call("action", "add", "service", "1", "link", "https://x", "quantity", "100")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("add answered in %v, want 200 ms or more", d)
	}
	if n := p.Orders(); n != 1 {
		t.Errorf("%d orders", n)
	}
}

// With LoseAnswers the order is taken but its answer is an error page.
func TestLoseAnswers(t *testing.T) {
	p := New("k", nil, 1)
	p.LoseAnswers = 1
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	resp, err := http.PostForm(srv.URL, url.Values{"key": {"k"}, "action": {"add"}, "service": {"1"}, "link": {"https://x"}, "quantity": {"100"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || p.Orders() != 1 {
		t.Errorf("HTTP %d with %d orders taken, want 504 and the order taken", resp.StatusCode, p.Orders())
	}
}
