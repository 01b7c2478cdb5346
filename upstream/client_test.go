package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"notpanel/store"
)

var ctx = context.Background()

// fake is a provider whose every answer is written by reply; it records the
// forms it received.
type fake struct {
	srv *httptest.Server

	mu    sync.Mutex
	forms []url.Values
}

func newFake(t *testing.T, reply http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			f.mu.Lock()
			f.forms = append(f.forms, r.PostForm)
			f.mu.Unlock()
		}
		reply(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a client of the fake in dialect with a short timeout.
func (f *fake) client(dialect string, timeout time.Duration) *Client {
	return New(store.Provider{URL: f.srv.URL, APIKey: "k3y", Dialect: dialect}, timeout)
}

func (f *fake) last(t *testing.T) url.Values {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) == 0 {
		t.Fatal("the provider received no request")
	}
	return f.forms[len(f.forms)-1]
}

// answer replies with status and body as JSON.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const htmlPage = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>`

func TestAddAnswers(t *testing.T) {
	const (
		classic  = store.DialectClassic
		notpanel = store.DialectNotpanel
	)
	type want struct {
		id    string
		class Class
	}
	for _, tt := range []struct {
		name    string
		dialect string
		status  int
		body    string
		want    want
	}{
		{"StringID", classic, 200, `{"order":"157"}`, want{id: "157"}},
		{"NumberID", classic, 200, `{"order":157}`, want{id: "157"}},
		{"NotpanelID", notpanel, 200, `{"order":"ord_01HG9X7KJP4N"}`, want{id: "ord_01HG9X7KJP4N"}},
		{"EmptyErrorBesideID", classic, 200, `{"order":157,"error":""}`, want{id: "157"}},
		{"ZeroErrorBesideID", classic, 200, `{"order":"158","error":0}`, want{id: "158"}},
		{"NullErrorBesideID", classic, 200, `{"order":159,"error":null}`, want{id: "159"}},
		{"ErrorTextBesideID", classic, 200, `{"order":160,"error":"Order created, start delayed"}`, want{id: "160"}},
		{"KeyErrorBesideID", classic, 200, `{"order":161,"error":"Invalid API key"}`, want{class: Account}},
		{"NotEnoughFunds", classic, 200, `{"error":"Not enough funds on balance"}`, want{class: Temporary}},
		{"ActiveOrderWithLink", classic, 200, `{"error":"You have active order with this link. Please wait until order being completed."}`, want{class: Temporary}},
		{"IncorrectService", classic, 200, `{"error":"Incorrect service ID"}`, want{class: Permanent}},
		{"QuantityBelowMin", classic, 200, `{"error":"Quantity less than minimal 50"}`, want{class: Permanent}},
		{"BadLink", classic, 200, `{"error":"Incorrect link"}`, want{class: Permanent}},
		{"InvalidLink", notpanel, 400, `{"error":"Invalid link"}`, want{class: Permanent}},
		{"ErrorObject", classic, 200, `{"error":{"message":"Incorrect service ID"}}`, want{class: Permanent}},
		{"InvalidKey", classic, 200, `{"error":"Invalid API key"}`, want{class: Account}},
		{"HTTP401", notpanel, 401, `{"error":"Invalid API key"}`, want{class: Account}},
		{"HTTP401HTML", classic, 401, htmlPage, want{class: Account}},
		{"UnknownText", classic, 200, `{"error":"Something odd happened"}`, want{class: Temporary}},
		{"HTMLClassic", classic, 200, htmlPage, want{class: Unknown}},
		{"HTMLNotpanel", notpanel, 200, htmlPage, want{class: Temporary}},
		{"HTTP500", classic, 500, `{"error":"Internal error"}`, want{class: Temporary}},
		{"HTTP502HTML", classic, 502, htmlPage, want{class: Temporary}},
		{"HTTP429", classic, 429, `{"error":"Rate limit exceeded"}`, want{class: Busy}},
		{"TooManyRequestsText", classic, 200, `{"error":"Too many requests, try again later"}`, want{class: Busy}},
		{"HTTP504Classic", classic, 504, htmlPage, want{class: Unknown}},
		{"HTTP504Notpanel", notpanel, 504, htmlPage, want{class: Temporary}},
		{"HTTP302", classic, 302, ``, want{class: Temporary}},
		{"HTTP404Empty", classic, 404, `{}`, want{class: Temporary}},
		{"NoIDClassic", classic, 200, `{}`, want{class: Unknown}},
		{"NoIDNotpanel", notpanel, 200, `{"status":"ok"}`, want{class: Temporary}},
		{"ZeroIDClassic", classic, 200, `{"order":0}`, want{class: Unknown}},
		{"ObjectID", classic, 200, `{"order":{"id":5}}`, want{class: Unknown}},
		{"EmptyBody", classic, 200, ``, want{class: Unknown}},
		{"JSONArray", classic, 200, `[1,2]`, want{class: Unknown}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, answer(tt.status, tt.body))
			got, err := f.client(tt.dialect, 5*time.Second).Add(ctx, Order{RequestID: "ord_X", Service: "1", Link: "https://x.example/p", Quantity: 100})
			if tt.want.id != "" {
				if err != nil || got != tt.want.id {
					t.Fatalf("Add = %q, %v; want %q", got, err, tt.want.id)
				}
				return
			}
			if err == nil {
				t.Fatalf("Add = %q, nil; want a %s error", got, tt.want.class)
			}
			if c := ClassOf(err); c != tt.want.class {
				t.Errorf("class of %v = %s, want %s", err, c, tt.want.class)
			}
			if MaybeDone(err) && tt.dialect != notpanel {
				t.Errorf("MaybeDone(%v) for a classic add", err)
			}
		})
	}
}

func TestAddParams(t *testing.T) {
	for _, tt := range []struct {
		name    string
		dialect string
		order   Order
		want    map[string]string // "" means absent
	}{
		{"ClassicDefault", store.DialectClassic,
			Order{RequestID: "ord_A", Service: "77", Link: "https://x.example/a", Quantity: 500},
			map[string]string{"action": "add", "key": "k3y", "service": "77", "link": "https://x.example/a", "quantity": "500", "request_id": "", "runs": ""}},
		{"NotpanelSendsRequestID", store.DialectNotpanel,
			Order{RequestID: "ord_B", Service: "3", Link: "https://x.example/b", Quantity: 10},
			map[string]string{"request_id": "ord_B", "quantity": "10"}},
		{"DripFeed", store.DialectClassic,
			Order{RequestID: "ord_C", Service: "3", Link: "https://x.example/c", Quantity: 10, Runs: 5, Interval: 30},
			map[string]string{"runs": "5", "interval": "30"}},
		{"CommentsWithoutQuantity", store.DialectClassic,
			Order{RequestID: "ord_D", Service: "4", Link: "https://x.example/d", Extra: map[string]string{"comments": "nice\ngreat"}},
			map[string]string{"comments": "nice\ngreat", "quantity": ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, answer(200, `{"order":1}`))
			if _, err := f.client(tt.dialect, 5*time.Second).Add(ctx, tt.order); err != nil {
				t.Fatal(err)
			}
			form := f.last(t)
			for k, want := range tt.want {
				if got := form.Get(k); got != want || want == "" && form.Has(k) {
					t.Errorf("%s = %q (present %v), want %q", k, got, form.Has(k), want)
				}
			}
		})
	}
}

// block holds an answer until the client gives up or the test ends.
func block(done <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func TestTransportFailures(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	slowBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"order":`)
		w.(http.Flusher).Flush()
		block(done)(w, r)
	}
	huge := func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"order":1,"pad":"%s"}`, strings.Repeat("x", MaxBody))
	}
	refused := newFake(t, answer(200, `{}`))
	refused.srv.Close()

	for _, tt := range []struct {
		name      string
		handler   http.HandlerFunc
		dialect   string
		wantAdd   Class
		wantOther Class // status, cancel, refill: safe to repeat
	}{
		{"NoHeadersClassic", block(done), store.DialectClassic, Unknown, Temporary},
		{"NoHeadersNotpanel", block(done), store.DialectNotpanel, Temporary, Temporary},
		{"SlowBodyClassic", slowBody, store.DialectClassic, Unknown, Temporary},
		{"SlowBodyNotpanel", slowBody, store.DialectNotpanel, Temporary, Temporary},
		{"BodyOverLimit", huge, store.DialectClassic, Unknown, Temporary},
		{"ConnectionRefused", nil, store.DialectClassic, Temporary, Temporary},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := refused
			if tt.handler != nil {
				f = newFake(t, tt.handler)
			}
			c := f.client(tt.dialect, 300*time.Millisecond)
			_, err := c.Add(ctx, Order{RequestID: "ord_X", Service: "1", Link: "https://x.example", Quantity: 1})
			if err == nil || ClassOf(err) != tt.wantAdd {
				t.Errorf("Add error %v, want class %s", err, tt.wantAdd)
			}
			if got, want := MaybeDone(err), tt.dialect == store.DialectNotpanel; got != want {
				t.Errorf("MaybeDone(%v) = %v, want %v: the provider may hold the order", err, got, want)
			}
			_, err = c.Statuses(ctx, []string{"1"})
			if err == nil || ClassOf(err) != tt.wantOther {
				t.Errorf("Statuses error %v, want class %s", err, tt.wantOther)
			}
			_, err = c.Cancels(ctx, []string{"1"})
			if err == nil || ClassOf(err) != tt.wantOther {
				t.Errorf("Cancels error %v, want class %s", err, tt.wantOther)
			}
		})
	}
}

func TestBadURL(t *testing.T) {
	c := New(store.Provider{URL: "http://bad host/\x7f", APIKey: "k"}, 0)
	if c.HTTP.Timeout != DefaultTimeout {
		t.Errorf("timeout %v, want the default %v", c.HTTP.Timeout, DefaultTimeout)
	}
	_, _, err := c.Balance(ctx)
	if ClassOf(err) != Permanent {
		t.Errorf("Balance on a bad URL: %v, want permanent", err)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	target := newFake(t, answer(200, `{"order":5}`))
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.srv.URL, http.StatusFound)
	})
	_, err := f.client(store.DialectClassic, time.Second).Add(ctx, Order{Service: "1", Link: "https://x.example", Quantity: 1})
	if ClassOf(err) != Temporary {
		t.Errorf("Add through a redirect: %v, want temporary", err)
	}
	target.mu.Lock()
	defer target.mu.Unlock()
	if len(target.forms) != 0 {
		t.Errorf("the redirect was followed: %d requests at its target", len(target.forms))
	}
}

func TestErrors(t *testing.T) {
	e := &Error{Class: Account, Msg: "Invalid API key"}
	if got, want := e.Error(), "account: Invalid API key"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := ClassOf(fmt.Errorf("wrapped: %w", e)); got != Account {
		t.Errorf("ClassOf(wrapped) = %s, want account", got)
	}
	if got := ClassOf(errors.New("context canceled")); got != Temporary {
		t.Errorf("ClassOf(plain) = %s, want temporary", got)
	}
	for c, want := range map[Class]string{Temporary: "temporary", Permanent: "permanent", Account: "account", Unknown: "unknown-outcome"} {
		if c.String() != want {
			t.Errorf("%d.String() = %q, want %q", c, c.String(), want)
		}
	}
}

// A 429's Retry-After, in seconds or as a date, says how long the provider
// wants us to wait; a busy text with HTTP 200 says nothing of it.
func TestBusyRetryAfter(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		name, header string
		status       int
		min, max     time.Duration
	}{
		{"Seconds", "30", 429, 30 * time.Second, 30 * time.Second},
		{"Date", now.Add(90 * time.Second).UTC().Format(http.TimeFormat), 429, 80 * time.Second, 90 * time.Second},
		{"PastDate", now.Add(-time.Hour).UTC().Format(http.TimeFormat), 429, 0, 0},
		{"Garbage", "soon", 429, 0, 0},
		{"Absent", "", 429, 0, 0},
		{"Huge", "999999999", 429, 24 * time.Hour, 24 * time.Hour},
		{"TextWith200", "30", 200, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" && tt.status == 429 {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, `{"error":"Too many requests"}`)
			})
			_, err := f.client(store.DialectClassic, 5*time.Second).Statuses(ctx, []string{"1"})
			if ClassOf(err) != Busy {
				t.Fatalf("Statuses: %v, want a busy error", err)
			}
			if got := RetryAfter(err); got < tt.min || got > tt.max {
				t.Errorf("RetryAfter = %v, want %v to %v", got, tt.min, tt.max)
			}
		})
	}
}

// Only a definite refusal that no other order of the service would escape
// makes a provider unavailable for it: never an unknown outcome.
func TestUnavailable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{classify("Incorrect service ID"), true},
		{classify("Service is disabled"), true},
		{classify("Not enough funds on balance"), true},
		{classify("Insufficient balance"), true},
		{classify("Invalid API key"), true},
		{&Error{Class: Account, Msg: "HTTP 401"}, true},
		{classify("Incorrect link"), false},
		{classify("Quantity less than minimal 50"), false},
		{classify("Too many requests"), false},
		{classify("Service is under maintenance"), false},
		{&Error{Class: Unknown, Msg: "no answer: EOF"}, false},
		{&Error{Class: Temporary, Msg: "not enough funds", MaybeDone: true}, false},
		{context.Canceled, false},
	} {
		if got := Unavailable(tt.err); got != tt.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
