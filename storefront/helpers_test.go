package storefront_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

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
	db := storetest.Open(t)
	s := &shop{t: t, db: db, logs: &logBuf{}, svc: map[string]store.Service{}, mail: &fakeMailer{}}
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
	a, _ := storetest.Account(t, db, "alice", 100_000_000)
	if err := db.SetPassword(ctx, a.ID, alicePassword); err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(s.logs)
	cfg := storefront.Config{DB: db, Log: log, Mailer: s.mail, WebhookInsecure: true}
	for _, m := range mutate {
		m(&cfg)
	}
	room, err := storefront.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ips := ratelimit.New(1000)
	api := httpapi.New(httpapi.Config{DB: db, Log: log, IPs: ips, IPPerMin: 1e6})
	s.srv = httptest.NewServer(server.New(server.Config{DB: db, Log: log, IPs: ips, IPPerMin: 1e6}, api, room))
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
	return b.do(req)
}

// post sends a form as a browser on this site does (same-origin), and
// returns the status and body; Location is in b.last.
func (b *browser) post(path string, form ...string) (int, string) {
	b.t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(form); i += 2 {
		v.Add(form[i], form[i+1])
	}
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
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

// field is the value of an input named name on a page.
func field(body, name string) string {
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		m = regexp.MustCompile(`value="([^"]*)"[^>]*name="` + regexp.QuoteMeta(name) + `"`).FindStringSubmatch(body)
	}
	if m == nil {
		return ""
	}
	return htmlText(m[1])
}

func storetestAudit(t *testing.T, s *shop) { storetest.Audit(t, s.db) }
