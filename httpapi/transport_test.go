package httpapi

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestTransport(t *testing.T) {
	e := newEnv(t)
	post := func(contentType, body string) (*http.Response, error) {
		return http.Post(e.srv.URL+"/api/v2", contentType, strings.NewReader(body))
	}
	form := "application/x-www-form-urlencoded"
	balanceBody := "key=" + e.key + "&action=balance"

	tests := []struct {
		name     string
		do       func() (*http.Response, error)
		wantCode int
		wantMsg  string
	}{
		{"GETIs405", func() (*http.Response, error) { return http.Get(e.srv.URL + "/api/v2") }, 405, "Method not allowed: use POST"},
		{"UnknownPathIs404", func() (*http.Response, error) { return post(form, balanceBody) }, 0, ""},
		{"BodyOver1MiBIs413", func() (*http.Response, error) {
			return post(form, balanceBody+"&pad="+strings.Repeat("a", MaxBody))
		}, 413, "Request body too large (limit 1 MiB)"},
		{"JSONBodyRefused", func() (*http.Response, error) { return post("application/json", `{"key":"x"}`) }, 400,
			"Unsupported Content-Type application/json: send application/x-www-form-urlencoded or multipart/form-data"},
		{"DuplicateParameter", func() (*http.Response, error) { return post(form, balanceBody+"&action=services") }, 400,
			"Duplicate parameter: action"},
		{"BadPercentEncoding", func() (*http.Response, error) { return post(form, balanceBody+"&x=%zz") }, 400,
			"Malformed form body: bad percent-encoding"},
		{"Semicolons", func() (*http.Response, error) { return post(form, balanceBody+";x=1") }, 400,
			"Malformed form body: semicolons are not separators; use &"},
		{"BadUTF8", func() (*http.Response, error) { return post(form, balanceBody+"&link=%ff%fe") }, 400,
			"Invalid parameter: link (not valid UTF-8)"},
		{"KeyInQueryStringIgnored", func() (*http.Response, error) {
			return http.Post(e.srv.URL+"/api/v2?key="+e.key, form, strings.NewReader("action=balance"))
		}, 401, "Invalid API key"},
		{"MissingContentTypeIsForm", func() (*http.Response, error) { return post("", balanceBody) }, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "UnknownPathIs404" {
				resp, err := http.Post(e.srv.URL+"/api/v3", form, strings.NewReader(balanceBody))
				if err != nil {
					t.Fatal(err)
				}
				code, got := decode(t, resp)
				wantError(t, code, got, 404, "Not found")
				return
			}
			resp, err := tt.do()
			if err != nil {
				t.Fatal(err)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id header")
			}
			code, got := decode(t, resp)
			if tt.wantCode == 200 {
				if code != 200 {
					t.Errorf("got %d %v, want 200", code, got)
				}
				return
			}
			wantError(t, code, got, tt.wantCode, tt.wantMsg)
		})
	}
}

func TestMultipartForm(t *testing.T) {
	e := newEnv(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("key", e.key)
	mw.WriteField("action", "balance")
	mw.Close()
	resp, err := http.Post(e.srv.URL+"/api/v2", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	code, got := decode(t, resp)
	if m, _ := got.(map[string]any); code != 200 || m["balance"] != "100.00" {
		t.Errorf("got %d %v, want 200 with balance 100.00", code, got)
	}

	// A multipart body over the limit is a 413 too.
	body.Reset()
	mw = multipart.NewWriter(&body)
	mw.WriteField("key", e.key)
	mw.WriteField("action", "balance")
	mw.WriteField("pad", strings.Repeat("x", MaxBody))
	mw.Close()
	resp, err = http.Post(e.srv.URL+"/api/v2", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	code, got = decode(t, resp)
	wantError(t, code, got, 413, "Request body too large (limit 1 MiB)")

	// A file part is never a parameter: beside a field of its name it is
	// a duplicate (curl -F key=@file -F key=…), alone it is refused rather
	// than left unread.
	for _, tt := range []struct {
		name   string
		fields []string
		files  []string
		msg    string
	}{
		{"FileBesideField", []string{"key", "action"}, []string{"key"}, "Duplicate parameter: key"},
		{"FileBeforeField", nil, []string{"action"}, "Invalid parameter: action (a file; send it as a text field)"},
		{"TwoFiles", []string{"key"}, []string{"comments", "comments"}, "Duplicate parameter: comments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for _, f := range tt.files {
				w, _ := mw.CreateFormFile(f, "value.txt")
				w.Write([]byte("balance"))
			}
			for _, f := range tt.fields {
				v := map[string]string{"key": e.key, "action": "balance"}[f]
				mw.WriteField(f, v)
			}
			mw.Close()
			resp, err := http.Post(e.srv.URL+"/api/v2", mw.FormDataContentType(), &body)
			if err != nil {
				t.Fatal(err)
			}
			code, got := decode(t, resp)
			wantError(t, code, got, 400, tt.msg)
		})
	}
}

// A path that is almost the API's is a JSON 404, never a redirect that a
// POST client may follow as a GET or not at all.
func TestNearMissPathsAre404(t *testing.T) {
	e := newEnv(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/api/v2/", "/API/V2", "//api/v2", "/api//v2", "/api/v2/.", "/classic/api/v2/", "/Classic/Api/V2"} {
		resp, err := client.Post(e.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader("key="+e.key+"&action=balance"))
		if err != nil {
			t.Fatal(err)
		}
		code, got := decode(t, resp)
		if code != 404 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s %v, want a JSON 404", path, code, resp.Header.Get("Content-Type"), got)
			continue
		}
		wantError(t, code, got, 404, "Not found")
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v2", strings.NewReader("key="+e.key+"&action=balance"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-Id", "proxy-abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "proxy-abc-123" {
		t.Errorf("X-Request-Id = %q, want the caller's proxy-abc-123", got)
	}
	req.Header.Set("X-Request-Id", "bad id\twith spaces")
	req.Body = http.NoBody
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("X-Request-Id = %q, want a fresh id instead of the unsafe one", got)
	}
	logs := e.logs.String()
	for _, want := range []string{`"req":"proxy-abc-123"`, `"action":"balance"`, `"status":200`, `"account":` + itoa(e.acct.ID)} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, e.key) {
		t.Error("access log contains the API key")
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, bobKey := storetest.Account(t, e.db, "bob", 0)
	keys, _ := e.db.ListKeys(ctx, "bob")
	revoked := bobKey
	if err := e.db.RevokeKey(ctx, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	_, carolKey := storetest.Account(t, e.db, "carol", 0)
	if _, err := e.db.SetAccountStatus(ctx, "carol", store.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		key      string
		params   []string
		wantCode int
		wantMsg  string
	}{
		{"MissingKey", "", []string{"action", "balance"}, 401, "Invalid API key"},
		{"WrongKey", "np_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", []string{"action", "balance"}, 401, "Invalid API key"},
		{"GarbageKey", "'; DROP TABLE accounts; --", []string{"action", "balance"}, 401, "Invalid API key"},
		{"RevokedKey", revoked, []string{"action", "balance"}, 401, "Invalid API key"},
		{"SuspendedAccount", carolKey, []string{"action", "balance"}, 403, "Account suspended"},
		{"MissingAction", e.key, nil, 400, "Missing required parameter: action"},
		{"UnknownAction", e.key, []string{"action", "steal"}, 400, "Unknown action: steal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := e.callKey(tt.key, tt.params...)
			wantError(t, code, got, tt.wantCode, tt.wantMsg)
		})
	}
	// Unsuspending lets the very next request through.
	if _, err := e.db.SetAccountStatus(ctx, "carol", store.AccountActive); err != nil {
		t.Fatal(err)
	}
	if code, got := e.callKey(carolKey, "action", "balance"); code != 200 {
		t.Errorf("after unsuspend: %d %v", code, got)
	}
}

func TestInternalErrorHidesCause(t *testing.T) {
	e := newEnv(t)
	e.db.Close() // every query now fails inside the store
	code, got := e.call("action", "balance")
	wantError(t, code, got, 500, "Internal error")
	if !strings.Contains(e.logs.String(), `"level":"error"`) {
		t.Errorf("internal error not logged:\n%s", e.logs.String())
	}
}

func TestPanicIsJSON500(t *testing.T) {
	e := newEnv(t)
	actions["boom"] = func(*api, context.Context, *call) (any, error) { panic("kaboom") }
	defer delete(actions, "boom")
	code, got := e.call("action", "boom")
	wantError(t, code, got, 500, "Internal error")
	if !strings.Contains(e.logs.String(), "kaboom") {
		t.Error("panic not logged")
	}
}

// The server answers keys and the catalog from memory; a change made by the
// operator (here through the store, as the CLI would from another process)
// must show on the very next request.
func TestAdminChangesShowOnTheNextRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if code, _ := e.call("action", "services"); code != 200 { // warm the caches
		t.Fatal(code)
	}
	off := false
	if _, err := e.db.UpdateService(ctx, e.svc.ID, store.ServicePatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if code, got := e.call("action", "services"); code != 200 || !sameJSON(t, got, `[]`) {
		t.Errorf("after disabling the only service: %d %v", code, got)
	}
	code, got := e.call("action", "add", "service", itoa(e.svc.ID), "request_id", "x", "link", "https://x.com/a", "quantity", "100")
	wantError(t, code, got, 400, "Service not found")

	if _, err := e.db.SetAccountStatus(ctx, "alice", store.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	code, got = e.call("action", "balance")
	wantError(t, code, got, 403, "Account suspended")
	if _, err := e.db.SetAccountStatus(ctx, "alice", store.AccountActive); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.call("action", "balance"); code != 200 {
		t.Fatalf("after unsuspending: %d", code)
	}
	keys, _ := e.db.ListKeys(ctx, "alice")
	if err := e.db.RevokeKey(ctx, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	code, got = e.call("action", "balance")
	wantError(t, code, got, 401, "Invalid API key")
}

// An add runs on the snapshot it has and lets the writer check it: the
// first add after an admin change must still see the change.
func TestAddRightAfterAdminChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.order("warm", "100") // the server now holds a snapshot
	price := int64(2_000_000)
	if _, err := e.db.UpdateService(ctx, e.svc.ID, store.ServicePatch{Rate: &price}); err != nil {
		t.Fatal(err)
	}
	before := e.balance()
	e.order("new-price", "1000")
	if spent := before - e.balance(); spent != 2_000_000 {
		t.Errorf("charged %d right after the price change, want the new price 2000000", spent)
	}
	keys, _ := e.db.ListKeys(ctx, "alice")
	if err := e.db.RevokeKey(ctx, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	code, got := e.call("action", "add", "service", itoa(e.svc.ID), "request_id", "after-revoke",
		"link", "https://x.com/a", "quantity", "100")
	wantError(t, code, got, 401, "Invalid API key")
	if orders, _ := e.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator}); len(orders) != 2 {
		t.Errorf("%d orders, want 2: the revoked key placed one", len(orders))
	}
}
