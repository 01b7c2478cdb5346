package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestServices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	storetest.Service(t, e.db, store.Service{Name: "Likes", Category: "Facebook", Rate: 278_190, Min: 10, Max: 500, Dripfeed: true})
	off := storetest.Service(t, e.db, store.Service{Name: "Gone", Category: "Apple", Rate: 1, Min: 1, Max: 2})
	off.Enabled = false
	if _, err := e.db.UpdateService(ctx, off.ID, store.ServicePatch{Enabled: &off.Enabled}); err != nil {
		t.Fatal(err)
	}
	code, got := e.call("action", "services")
	want := fmt.Sprintf(`[{"service":%d,"name":"Likes","type":"Default","category":"Facebook","rate":"0.27819","min":"10","max":"500","refill":false,"cancel":false,"dripfeed":true},`+
		`{"service":%d,"name":"Followers","type":"Default","category":"Instagram","rate":"0.90","min":"50","max":"10000","refill":true,"cancel":true,"dripfeed":false}]`,
		e.svc.ID+1, e.svc.ID)
	if code != 200 || !sameJSON(t, got, want) {
		t.Errorf("services:\n got %d %s\nwant %s", code, jsonString(t, got), want)
	}
}

func TestAddEveryType(t *testing.T) {
	e := newEnv(t)
	mk := func(typ string, dripfeed bool) int64 {
		return storetest.Service(t, e.db, store.Service{Name: typ, Type: typ, Rate: 1_500_000, Min: 2, Max: 1000, Dripfeed: dripfeed}).ID
	}
	link := "https://instagram.com/p/abc"
	tests := []struct {
		name       string
		service    int64
		params     []string
		wantCharge int64 // micro-units
		wantUnits  int64
	}{
		{"Default", mk(store.TypeDefault, false), []string{"quantity", "333"}, 499_500, 333},
		{"DefaultRoundsUp", mk(store.TypeDefault, false), []string{"quantity", "3"}, 4_500, 3},
		{"DripFeed", mk(store.TypeDefault, true), []string{"quantity", "100", "runs", "5", "interval", "30"}, 750_000, 500},
		{"PackageBillsMin", mk(store.TypePackage, false), []string{"quantity", "999"}, 3_000, 2},
		{"CustomCommentsCountsLines", mk(store.TypeComments, false), []string{"comments", "nice\n\n  great  \r\nwow\n"}, 4_500, 3},
		{"MentionsCustomList", mk(store.TypeMentionsList, false), []string{"usernames", "a\nb"}, 3_000, 2},
		{"CommentLikes", mk(store.TypeCommentLikes, false), []string{"quantity", "10", "username", "bob"}, 15_000, 10},
		{"Poll", mk(store.TypePoll, false), []string{"quantity", "10", "answer_number", "2"}, 15_000, 10},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.balance()
			params := append([]string{"action", "add", "service", itoa(tt.service), "request_id", fmt.Sprint("r", i), "link", link}, tt.params...)
			code, got := e.call(params...)
			if code != 200 {
				t.Fatalf("add: %d %v", code, got)
			}
			id := got.(map[string]any)["order"].(string)
			if !strings.HasPrefix(id, "ord_") {
				t.Errorf("order id %q lacks ord_", id)
			}
			if spent := before - e.balance(); spent != tt.wantCharge {
				t.Errorf("charged %d, want %d", spent, tt.wantCharge)
			}
			o, err := e.db.FindOrder(context.Background(), id)
			if err != nil || o.Units != tt.wantUnits || o.Charge != tt.wantCharge {
				t.Errorf("stored order %+v (%v), want units %d charge %d", o, err, tt.wantUnits, tt.wantCharge)
			}
		})
	}
	storetest.Audit(t, e.db)
}

func TestAddErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := itoa(e.svc.ID)
	disabled := storetest.Service(t, e.db, store.Service{Name: "Off", Rate: 1, Min: 1, Max: 10})
	no := false
	e.db.UpdateService(ctx, disabled.ID, store.ServicePatch{Enabled: &no})
	pricey := storetest.Service(t, e.db, store.Service{Name: "Gold", Rate: 1_000_000_000, Min: 1, Max: 1000})
	likes := storetest.Service(t, e.db, store.Service{Name: "CL", Type: store.TypeCommentLikes, Rate: 1, Min: 1, Max: 10})
	poll := storetest.Service(t, e.db, store.Service{Name: "P", Type: store.TypePoll, Rate: 1, Min: 1, Max: 10})
	comments := storetest.Service(t, e.db, store.Service{Name: "C", Type: store.TypeComments, Rate: 1, Min: 2, Max: 10})
	link := "https://instagram.com/p/abc"
	tests := []struct {
		name     string
		params   []string
		wantCode int
		wantMsg  string
	}{
		{"MissingService", []string{"request_id", "a", "link", link, "quantity", "100"}, 400, "Missing required parameter: service"},
		{"NonNumericService", []string{"service", "abc", "request_id", "a", "link", link, "quantity", "100"}, 400, "Invalid parameter: service (must be a whole number)"},
		{"UnknownService", []string{"service", "999999", "request_id", "a", "link", link, "quantity", "100"}, 400, "Service not found"},
		{"DisabledService", []string{"service", itoa(disabled.ID), "request_id", "a", "link", link, "quantity", "5"}, 400, "Service not found"},
		{"MissingRequestID", []string{"service", svc, "link", link, "quantity", "100"}, 400, "Missing required parameter: request_id"},
		{"LongRequestID", []string{"service", svc, "request_id", strings.Repeat("r", 129), "link", link, "quantity", "100"}, 400, "Invalid parameter: request_id (at most 128 characters)"},
		{"MissingLink", []string{"service", svc, "request_id", "a", "quantity", "100"}, 400, "Missing required parameter: link"},
		{"FTPLink", []string{"service", svc, "request_id", "a", "link", "ftp://x.com/a", "quantity", "100"}, 400, "Invalid link"},
		{"LinkWithoutHost", []string{"service", svc, "request_id", "a", "link", "https:///a", "quantity", "100"}, 400, "Invalid link"},
		{"LinkWithSpace", []string{"service", svc, "request_id", "a", "link", "https://x.com/a b", "quantity", "100"}, 400, "Invalid link"},
		{"LongLink", []string{"service", svc, "request_id", "a", "link", "https://x.com/" + strings.Repeat("a", 1000), "quantity", "100"}, 400, "Invalid link"},
		{"MissingQuantity", []string{"service", svc, "request_id", "a", "link", link}, 400, "Missing required parameter: quantity"},
		{"NegativeQuantity", []string{"service", svc, "request_id", "a", "link", link, "quantity", "-5"}, 400, "Invalid parameter: quantity (must be a whole number)"},
		{"FractionalQuantity", []string{"service", svc, "request_id", "a", "link", link, "quantity", "1.5"}, 400, "Invalid parameter: quantity (must be a whole number)"},
		{"HugeQuantity", []string{"service", svc, "request_id", "a", "link", link, "quantity", "99999999999999999999"}, 400, "Invalid parameter: quantity (must be a whole number)"},
		{"BelowMin", []string{"service", svc, "request_id", "a", "link", link, "quantity", "49"}, 400, "Quantity less than minimal 50"},
		{"AboveMax", []string{"service", svc, "request_id", "a", "link", link, "quantity", "10001"}, 400, "Quantity more than maximal 10000"},
		{"NoDripfeed", []string{"service", svc, "request_id", "a", "link", link, "quantity", "100", "runs", "2", "interval", "5"}, 400, "Service does not support drip-feed"},
		{"InsufficientBalance", []string{"service", itoa(pricey.ID), "request_id", "a", "link", link, "quantity", "101"}, 400, "Insufficient balance"},
		{"CommentLikesNeedUsername", []string{"service", itoa(likes.ID), "request_id", "a", "link", link, "quantity", "5"}, 400, "Missing required parameter: username"},
		{"PollNeedsAnswer", []string{"service", itoa(poll.ID), "request_id", "a", "link", link, "quantity", "5"}, 400, "Missing required parameter: answer_number"},
		{"PollAnswerZero", []string{"service", itoa(poll.ID), "request_id", "a", "link", link, "quantity", "5", "answer_number", "0"}, 400, "Invalid parameter: answer_number (must be a whole number from 1)"},
		{"CommentsNeeded", []string{"service", itoa(comments.ID), "request_id", "a", "link", link, "comments", "\n \n"}, 400, "Missing required parameter: comments"},
		{"TooFewComments", []string{"service", itoa(comments.ID), "request_id", "a", "link", link, "comments", "only one"}, 400, "Quantity less than minimal 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := e.call(append([]string{"action", "add"}, tt.params...)...)
			wantError(t, code, got, tt.wantCode, tt.wantMsg)
		})
	}
	if b := e.balance(); b != startBalance {
		t.Errorf("balance after refused adds = %d, want %d", b, startBalance)
	}
	if orders, _ := e.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator}); len(orders) != 0 {
		t.Errorf("refused adds left %d orders", len(orders))
	}
}

func TestAddIdempotency(t *testing.T) {
	e := newEnv(t)
	first := e.order("same", "100")
	after := e.balance()
	if again := e.order("same", "100"); again != first {
		t.Errorf("retry got order %s, want the first %s", again, first)
	}
	if b := e.balance(); b != after {
		t.Errorf("retry charged again: balance %d, want %d", b, after)
	}
	code, got := e.call("action", "add", "service", itoa(e.svc.ID), "request_id", "same",
		"link", "https://instagram.com/p/abc", "quantity", "101")
	wantError(t, code, got, 409, "request_id already used with different parameters")

	// request_id is scoped to the account: bob may use "same" too.
	_, bobKey := storetest.Account(t, e.db, "bob", startBalance)
	code, got = e.callKey(bobKey, "action", "add", "service", itoa(e.svc.ID), "request_id", "same",
		"link", "https://instagram.com/p/abc", "quantity", "100")
	if id, _ := got.(map[string]any)["order"].(string); code != 200 || id == first || id == "" {
		t.Errorf("bob's add with alice's request_id: %d %v, want a new order", code, got)
	}
	storetest.Audit(t, e.db)
}

func TestBalance(t *testing.T) {
	e := newEnv(t)
	e.order("a", "300") // 0.27
	code, got := e.call("action", "balance")
	if want := `{"balance":"99.73","currency":"USD"}`; code != 200 || !sameJSON(t, got, want) {
		t.Errorf("balance: %d %s, want %s", code, jsonString(t, got), want)
	}
	if err := e.db.SetCurrency(context.Background(), "EUR"); err != nil {
		t.Fatal(err)
	}
	if _, got := e.call("action", "balance"); got.(map[string]any)["currency"] != "EUR" {
		t.Errorf("currency not updated: %v", got)
	}
}

// The catalog is sent gzipped to a client that asks for it, plain to one
// that does not, and both say the same; a catalog change reaches both.
func TestServicesGzip(t *testing.T) {
	e := newEnv(t)
	for i := range 50 {
		storetest.Service(t, e.db, store.Service{Name: fmt.Sprint("Views ", i), Category: "YouTube", Rate: 1_000, Min: 100, Max: 1_000_000})
	}
	get := func(acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2", strings.NewReader("action=services&key="+e.key))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
			t.Fatalf("Accept-Encoding %q: %d, headers %v", acceptEncoding, resp.StatusCode, resp.Header)
		}
		return resp, body
	}
	gunzip := func(b []byte) []byte {
		t.Helper()
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	check := func(wantServices int) {
		t.Helper()
		_, plain := get("")
		var list []map[string]any
		if err := json.Unmarshal(plain, &list); err != nil || len(list) != wantServices {
			t.Fatalf("plain catalog: %d services, %v; want %d", len(list), err, wantServices)
		}
		for _, ae := range []string{"gzip", "br, gzip;q=0.5", "GZIP", "deflate, gzip", "x-gzip", "gzip;level=1;q=1"} {
			resp, body := get(ae)
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want gzip", ae, resp.Header.Get("Content-Encoding"))
				continue
			}
			if len(body)*4 > len(plain) {
				t.Errorf("gzipped catalog is %d bytes of %d", len(body), len(plain))
			}
			if got := gunzip(body); !bytes.Equal(got, plain) {
				t.Errorf("Accept-Encoding %q: gunzipped catalog differs from the plain one", ae)
			}
		}
		for _, ae := range []string{"identity", "gzip;q=0", "gzip; q=0.0", "gzip;level=1;q=0", "br", "*"} {
			if resp, body := get(ae); resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, plain) {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q; want the plain catalog", ae, resp.Header.Get("Content-Encoding"))
			}
		}
	}
	check(51)
	storetest.Service(t, e.db, store.Service{Name: "New", Category: "TikTok", Rate: 1_000, Min: 100, Max: 1_000})
	check(52)
}
