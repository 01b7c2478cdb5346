package storefront_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"notpanel/httpapi"
	"notpanel/ratelimit"
	"notpanel/server"
	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/storefront"
)

var ctx = context.Background()

// shop is a running server with the storefront and the API on a real
// SQLite file, a catalog of one service of each type, and a funded
// customer "alice" with a password.
type shop struct {
	t    *testing.T
	db   *store.DB
	srv  *httptest.Server
	logs *logBuf
	svc  map[string]store.Service // by type, plus "Drip"
	mail *fakeMailer
	// clock is the time of the store, the storefront and the server: a
	// test moves it to expire sessions and refill buckets.
	clock *storetest.Clock
	alice store.Account
	rawDB *sql.DB
}

const alicePassword = "correct horse battery"

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// fakeMailer keeps the mails it is asked to send.
type fakeMailer struct {
	mu   sync.Mutex
	sent []string // "to|subject|body"
	fail error
}

func (m *fakeMailer) Send(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, to+"|"+subject+"|"+body)
	return nil
}

func (m *fakeMailer) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
}

func newShop(t *testing.T, mutate ...func(*storefront.Config)) *shop {
	t.Helper()
	clock := storetest.NewClock(time.Now().Truncate(time.Second))
	db := storetest.OpenWith(t, store.Options{Now: clock.Now})
	s := &shop{t: t, db: db, logs: &logBuf{}, svc: map[string]store.Service{}, mail: &fakeMailer{}, clock: clock}
	for _, typ := range store.ServiceTypes {
		min, max := int64(10), int64(10_000)
		if typ == store.TypePackage {
			min, max = 100, 100
		}
		s.svc[typ] = storetest.Service(t, db, store.Service{Name: typ + " service", Category: "Instagram", Type: typ,
			Rate: 900_000, Min: min, Max: max, Refill: true, Cancel: true, Description: "Fast start, real-looking accounts."})
	}
	s.svc["Drip"] = storetest.Service(t, db, store.Service{Name: "Views", Category: "YouTube", Type: store.TypeDefault,
		Rate: 1_500_000, Min: 100, Max: 100_000, Dripfeed: true})
	s.alice, _ = storetest.Account(t, db, "alice", 100_000_000)
	if err := db.SetPassword(ctx, s.alice.ID, alicePassword); err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(s.logs)
	cfg := storefront.Config{DB: db, Log: log, Now: clock.Now, Mailer: s.mail, WebhookInsecure: true}
	for _, m := range mutate {
		m(&cfg)
	}
	room, err := storefront.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ips := ratelimit.New(1000)
	api := httpapi.New(httpapi.Config{DB: db, Log: log, Now: clock.Now, IPs: ips, IPPerMin: 1e6,
		Resolver: cfg.Resolver, WebhookInsecure: cfg.WebhookInsecure})
	// The server names the client from X-Forwarded-For behind the same
	// proxies the storefront trusts, as serve sets them up.
	s.srv = httptest.NewServer(server.New(server.Config{DB: db, Log: log, Now: clock.Now, TrustedProxies: cfg.TrustedProxies,
		IPs: ips, IPPerMin: 1e6}, api, room))
	t.Cleanup(s.srv.Close)
	return s
}

// browser is a client with a cookie jar that does not follow redirects, so
// that a test sees each 303.
type browser struct {
	t    *testing.T
	s    *shop
	c    *http.Client
	last *http.Response
	// headers go with every request (X-Forwarded-For, to come from
	// another address through a trusted proxy).
	headers http.Header
}

func (s *shop) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// get fetches a page and returns its status and body.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.s.srv.URL+path, nil)
	b.addHeaders(req)
	return b.do(req)
}

// post sends a form as a browser on this site does (same-origin), and
// returns the status and body; Location is in b.last.
func (b *browser) post(path string, form ...string) (int, string) {
	b.t.Helper()
	return b.postWith(http.Header{"Origin": {b.s.srv.URL}, "Sec-Fetch-Site": {"same-origin"}}, path, form...)
}

// postWith sends a form with the headers hdr (and the browser's address
// and cookies): a cross-site form, a request through a proxy.
func (b *browser) postWith(hdr http.Header, path string, form ...string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, strings.NewReader(values(form...).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	b.addHeaders(req)
	return b.do(req)
}

// getWith fetches a page with the headers hdr.
func (b *browser) getWith(hdr http.Header, path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.s.srv.URL+path, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	b.addHeaders(req)
	return b.do(req)
}

func (b *browser) addHeaders(req *http.Request) {
	for k, v := range b.headers {
		if req.Header.Get(k) == "" {
			req.Header[k] = v
		}
	}
}

func values(form ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(form); i += 2 {
		v.Add(form[i], form[i+1])
	}
	return v
}

func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = resp
	return resp.StatusCode, string(body)
}

func (b *browser) location() string { return b.last.Header.Get("Location") }

// signIn signs in as name with password and wants the redirect home.
func (b *browser) signIn(name, password string) {
	b.t.Helper()
	if code, body := b.post("/login", "name", name, "password", password); code != http.StatusSeeOther {
		b.t.Fatalf("sign in as %s: %d %s", name, code, errorOf(body))
	}
}

var alertRE = regexp.MustCompile(`(?s)role="alert"[^>]*>(.*?)</div>`)

// errorOf is the text of a page's error message, "" when none.
func errorOf(body string) string {
	if m := alertRE.FindStringSubmatch(body); m != nil {
		return strings.TrimSpace(htmlText(m[1]))
	}
	return ""
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

func htmlText(s string) string {
	s = tagRE.ReplaceAllString(s, "")
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`).Replace(s)
}

// field is the value of an input named name on a page, or the text of a
// textarea, "" when there is none.
func field(body, name string) string {
	attr := `\sname="` + regexp.QuoteMeta(name) + `"`
	if m := regexp.MustCompile(`<input\b[^>]*` + attr + `[^>]*>`).FindString(body); m != "" {
		if v := regexp.MustCompile(`\svalue="([^"]*)"`).FindStringSubmatch(m); v != nil {
			return htmlText(v[1])
		}
		return ""
	}
	if m := regexp.MustCompile(`(?s)<textarea\b[^>]*` + attr + `[^>]*>(.*?)</textarea>`).FindStringSubmatch(body); m != nil {
		return htmlText(m[1])
	}
	return ""
}

func storetestAudit(t *testing.T, s *shop) { storetest.Audit(t, s.db) }

// customer creates an account with a password and balance (micro-units,
// none when zero) and returns a browser signed in as it.
func (s *shop) customer(name string, balance int64) (*browser, store.Account) {
	s.t.Helper()
	a, _ := storetest.Account(s.t, s.db, name, balance)
	if err := s.db.SetPassword(ctx, a.ID, name+" "+alicePassword); err != nil {
		s.t.Fatal(err)
	}
	b := s.browser()
	b.signIn(name, name+" "+alicePassword)
	return b, a
}

// signedIn is a browser signed in as alice.
func (s *shop) signedIn() *browser {
	s.t.Helper()
	b := s.browser()
	b.signIn("alice", alicePassword)
	return b
}

// balance is an account's balance in the store.
func (s *shop) balance(id int64) int64 {
	s.t.Helper()
	b, err := s.db.Balance(ctx, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// count runs a count query on the database file.
func (s *shop) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.raw().QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// exec changes rows the way the worker would.
func (s *shop) exec(query string, args ...any) {
	s.t.Helper()
	if _, err := s.raw().ExecContext(ctx, query, args...); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
}

func (s *shop) raw() *sql.DB {
	if s.rawDB == nil {
		s.rawDB = storetest.Raw(s.t, s.db)
	}
	return s.rawDB
}

// order reads an order from the store.
func (s *shop) order(id string) store.Order {
	s.t.Helper()
	o, err := s.db.FindOrder(ctx, id)
	if err != nil {
		s.t.Fatalf("order %s: %v", id, err)
	}
	return o
}

// orders lists an account's orders, newest first.
func (s *shop) orders(account int64) []store.Order {
	s.t.Helper()
	out, err := s.db.ListOrders(ctx, store.OrderFilter{Scope: store.Customer(account), Limit: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// place places an order for account as the API would, and returns its id.
func (s *shop) place(account int64, svc store.Service, link string, quantity int64) string {
	s.t.Helper()
	id, err := s.db.PlaceOrder(ctx, account, store.OrderInput{ServiceID: svc.ID, RequestID: "t-" + strings.ToLower(rand.Text()),
		Link: link, Quantity: strconv.FormatInt(quantity, 10)})
	if err != nil {
		s.t.Fatalf("place %s: %v", link, err)
	}
	return id
}

// api calls the API with a key and returns the status and the decoded
// answer.
func (s *shop) api(key string, form ...string) (int, map[string]any) {
	s.t.Helper()
	v := values(form...)
	v.Set("key", key)
	resp, err := http.PostForm(s.srv.URL+"/api/v2", v)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		s.t.Fatalf("API answer: %v", err)
	}
	return resp.StatusCode, out
}

// wantPage fails unless a page answered code, and its error message (the
// alert) holds msg; msg "" wants no alert.
func wantPage(t *testing.T, code int, body string, wantCode int, msg string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("status %d, want %d (alert %q)", code, wantCode, errorOf(body))
	}
	got := errorOf(body)
	switch {
	case msg == "" && got != "":
		t.Errorf("alert %q, want none", got)
	case !strings.Contains(got, msg):
		t.Errorf("alert %q, want %q", got, msg)
	}
}

// wantRedirect fails unless the last answer was a 303 to a location
// starting with prefix.
func (b *browser) wantRedirect(code int, prefix string) {
	b.t.Helper()
	if code != http.StatusSeeOther || !strings.HasPrefix(b.location(), prefix) {
		b.t.Errorf("answer %d to %q, want 303 to %s…", code, b.location(), prefix)
	}
}

// signedOut says whether the browser is a visitor: /account sends it to
// sign in.
func (b *browser) signedOut() bool {
	b.t.Helper()
	code, _ := b.get("/account")
	return code == http.StatusSeeOther && strings.HasPrefix(b.location(), "/login")
}

// cookie is the Set-Cookie of the last answer named name, nil if none.
func (b *browser) cookie(name string) *http.Cookie {
	for _, c := range b.last.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// text is a page's text without tags, its spaces folded, for asserting
// what a reader sees.
func text(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	return strings.Join(strings.Fields(htmlText(tagRE.ReplaceAllString(body, " "))), " ")
}
