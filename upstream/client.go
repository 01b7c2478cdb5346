// Package upstream is the client for upstream providers: panels that speak
// API v2 in the classic dialect (what almost every panel serves) or in
// notpanel's own. Every answer is treated as untrusted input: numbers come
// as strings or numbers, errors come with HTTP 200, bodies may be HTML,
// huge or slow, and bulk answers carry per-row errors.
package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"notpanel/store"
)

// Limits on what a provider may send back.
const (
	MaxBody         = 1 << 20  // one answer
	MaxServicesBody = 32 << 20 // a catalog
	DefaultTimeout  = 30 * time.Second
)

// Client calls one provider.
type Client struct {
	URL     string
	Key     string
	Dialect string // store.DialectClassic or store.DialectNotpanel
	HTTP    *http.Client
}

// New returns a client for provider p with a bounded per-call timeout and
// no proxy taken from the environment.
func New(p store.Provider, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy:                 nil,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &Client{URL: p.URL, Key: p.APIKey, Dialect: p.Dialect, HTTP: &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirected POST would lose its body
		},
	}}
}

// call posts form (with key) and returns the JSON answer. The error is an
// *Error: Temporary when the request never reached the provider or it
// answered that it could not act now, Unknown when the request was sent but
// no usable answer came back, Permanent or Account for what the provider
// said.
func (c *Client) call(ctx context.Context, form url.Values, limit int64) (json.RawMessage, error) {
	form.Set("key", c.Key)
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &Error{Class: Permanent, Msg: "bad provider URL: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "notpanel")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if sent.Load() {
			return nil, &Error{Class: Unknown, Msg: "no answer: " + err.Error()}
		}
		return nil, &Error{Class: Temporary, Msg: "cannot reach provider: " + err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &Error{Class: Unknown, Msg: "answer cut off: " + err.Error()}
	}
	if int64(len(body)) > limit {
		return nil, &Error{Class: Unknown, Msg: fmt.Sprintf("answer larger than %d bytes", limit)}
	}
	raw, err := decode(resp.StatusCode, body)
	if e, ok := err.(*Error); ok && e.Class == Busy {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return raw, err
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h = strings.TrimSpace(h); h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// decode checks an answer's status and body and extracts a provider's
// {"error": …}.
func decode(status int, body []byte) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	var probe struct {
		Error json.RawMessage `json:"error"`
	}
	isJSON := json.Valid(trimmed) && len(trimmed) > 0
	if isJSON && trimmed[0] == '{' {
		json.Unmarshal(trimmed, &probe)
	}
	msg := errorText(probe.Error)
	switch {
	case status == http.StatusUnauthorized:
		return nil, &Error{Class: Account, Msg: fmt.Sprintf("HTTP 401 %s", msg)}
	case status == http.StatusTooManyRequests:
		if msg == "" {
			msg = "Too Many Requests"
		}
		return nil, &Error{Class: Busy, Msg: "HTTP 429 " + msg}
	case status == http.StatusGatewayTimeout:
		return nil, &Error{Class: Unknown, Msg: "HTTP 504 from the provider's gateway"}
	case status >= 500:
		return nil, &Error{Class: Temporary, Msg: fmt.Sprintf("HTTP %d %s", status, msg)}
	case status >= 300 && status < 400:
		return nil, &Error{Class: Temporary, Msg: fmt.Sprintf("HTTP %d redirect (check the provider URL)", status)}
	case msg != "" && status < 300:
		return trimmed, classify(msg) // the body too: an add may carry an order id beside the error
	case msg != "":
		return nil, classify(msg)
	case !isJSON:
		return nil, &Error{Class: Unknown, Msg: fmt.Sprintf("HTTP %d answer is not JSON: %q", status, truncate(string(trimmed), 120))}
	case status >= 400:
		return nil, &Error{Class: Temporary, Msg: fmt.Sprintf("HTTP %d without an error message", status)}
	}
	return trimmed, nil
}

// Order is what is sent upstream for one add.
type Order struct {
	RequestID string // our ord_ id; sent as request_id to notpanel providers
	Service   string
	Link      string
	Quantity  int64
	Runs      int64
	Interval  int64
	Extra     map[string]string // comments, usernames, username, answer_number
}

// Add places an order and returns the provider's id for it. Towards a
// classic provider an Unknown error means the order may exist upstream;
// towards a notpanel provider a retry is safe (request_id), so Unknown is
// reported as Temporary.
func (c *Client) Add(ctx context.Context, o Order) (string, error) {
	f := url.Values{"action": {"add"}, "service": {o.Service}, "link": {o.Link}}
	if o.Quantity > 0 {
		f.Set("quantity", strconv.FormatInt(o.Quantity, 10))
	}
	if o.Runs > 0 {
		f.Set("runs", strconv.FormatInt(o.Runs, 10))
		f.Set("interval", strconv.FormatInt(o.Interval, 10))
	}
	for k, v := range o.Extra {
		f.Set(k, v)
	}
	if c.Dialect == store.DialectNotpanel {
		f.Set("request_id", o.RequestID)
	}
	raw, err := c.call(ctx, f, MaxBody)
	var out struct {
		Order json.RawMessage `json:"order"`
	}
	json.Unmarshal(raw, &out)
	if got := id(out.Order); got != "" && got != "0" && ClassOf(err) != Account {
		// An order id means the provider took the order, even when an error
		// text came with it: resending would order twice.
		return got, nil
	}
	if err == nil {
		err = &Error{Class: Unknown, Msg: fmt.Sprintf("answer without an order id: %s", truncate(string(raw), 120))}
	}
	if e := err.(*Error); c.Dialect == store.DialectNotpanel && e.Class == Unknown {
		e.Class, e.MaybeDone = Temporary, true
	}
	return "", err
}

// OrderStatus is a provider's word on one order.
type OrderStatus struct {
	Status     string // notpanel status, "" when Raw is not understood
	Raw        string // the provider's status text
	StartCount int64
	Remains    int64
	HasRemains bool
	Err        string // a per-row error, e.g. "Incorrect order ID"
}

// Statuses asks about up to 100 orders in one call. Ids missing from the
// answer are absent from the map.
func (c *Client) Statuses(ctx context.Context, ids []string) (map[string]OrderStatus, error) {
	raw, err := c.call(ctx, url.Values{"action": {"status"}, "orders": {strings.Join(ids, ",")}}, MaxBody)
	if err != nil {
		return nil, downgrade(err)
	}
	return parseStatuses(raw, ids)
}

// parseStatuses reads a status answer about ids.
func parseStatuses(raw json.RawMessage, ids []string) (map[string]OrderStatus, error) {
	var rows map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, &Error{Class: Temporary, Msg: "status answer is not an object keyed by order id"}
	}
	if _, single := rows["status"]; single && len(ids) == 1 {
		rows = map[string]json.RawMessage{ids[0]: raw} // some panels answer one id unkeyed
	}
	out := make(map[string]OrderStatus, len(rows))
	for k, v := range rows {
		var row struct {
			Status     json.RawMessage `json:"status"`
			StartCount json.RawMessage `json:"start_count"`
			Remains    json.RawMessage `json:"remains"`
			Error      json.RawMessage `json:"error"`
		}
		if json.Unmarshal(v, &row) != nil {
			out[k] = OrderStatus{Err: "malformed row"}
			continue
		}
		s := OrderStatus{Raw: truncate(text(row.Status), 64), Err: errorText(row.Error)}
		s.Status = Status(s.Raw)
		s.StartCount, _ = count(row.StartCount)
		s.Remains, s.HasRemains = count(row.Remains)
		out[k] = s
	}
	return out, nil
}

// downgrade turns Unknown into Temporary for calls that are safe to repeat.
func downgrade(err error) error {
	if e, ok := err.(*Error); ok && e.Class == Unknown {
		e.Class = Temporary
	}
	return err
}
