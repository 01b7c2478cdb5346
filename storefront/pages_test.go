package storefront_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestHomeForAVisitor(t *testing.T) {
	s := newShop(t)
	code, body := s.browser().get("/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	page := text(body)
	for _, want := range []string{"notpanel", store.DefaultSite.Tagline, "Create an account", "Sign in",
		"7 services", "Instagram", "6 services · from 0.90", "YouTube", "1 service · from 1.50"} {
		if !strings.Contains(page, want) {
			t.Errorf("the visitor's home page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="order-form"`) {
		t.Error("a visitor is shown the new-order form")
	}
}

func TestHomeForACustomer(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	id := s.place(s.alice.ID, s.svc[store.TypeDefault], "https://instagram.com/p/recent", 1000)
	code, body := b.get("/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	page := text(body)
	for _, want := range []string{"New order", "Balance", "99.10 USD", "Recent orders"} {
		if !strings.Contains(page, want) {
			t.Errorf("the customer's home page lacks %q", want)
		}
	}
	if !strings.Contains(body, `id="order-form"`) || !strings.Contains(body, `href="/orders/`+id+`"`) {
		t.Error("no order form, or the recent order is not linked")
	}
	if rid := field(body, "request_id"); !strings.HasPrefix(rid, "web-") {
		t.Errorf("request_id %q", rid)
	}
	_, again := b.get("/")
	if field(again, "request_id") == field(body, "request_id") {
		t.Error("two loads of the form carry the same request_id: the second order would be taken for the first")
	}

	// /?service=ID (the Order button of /services) picks the service and
	// shows only its fields; an unknown or disabled one picks nothing.
	drip := s.svc["Drip"]
	_, body = b.get(fmt.Sprint("/?service=", drip.ID))
	if !regexp.MustCompile(fmt.Sprintf(`<option value="%d"[^>]* selected>`, drip.ID)).MatchString(body) {
		t.Error("/?service= does not select the service")
	}
	if !strings.Contains(body, `data-field="dripfeed"`) || strings.Contains(body, `data-field="comments"`) {
		t.Error("the form for a drip-feed Default service shows the wrong fields")
	}
	off := false
	if _, err := s.db.UpdateService(ctx, drip.ID, store.ServicePatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{fmt.Sprint(drip.ID), "999", "x"} {
		if _, body = b.get("/?service=" + q); strings.Contains(body, " selected>#") {
			t.Errorf("/?service=%s selects a service", q)
		}
	}
}

func TestServices(t *testing.T) {
	s := newShop(t)
	b := s.browser()
	code, body := b.get("/services")
	if code != http.StatusOK {
		t.Fatalf("GET /services = %d", code)
	}
	page := text(body)
	for _, svc := range s.svc {
		if !strings.Contains(page, svc.Name) {
			t.Errorf("/services lacks %q", svc.Name)
		}
	}
	for _, want := range []string{"7 services.", "Instagram", "YouTube", "Rate per 1000", "0.90", "1.50", "10,000", "100,000",
		"Refill", "Cancel", "Drip-feed", "Fast start, real-looking accounts."} {
		if !strings.Contains(page, want) {
			t.Errorf("/services lacks %q", want)
		}
	}
	if !strings.Contains(body, fmt.Sprintf(`href="/?service=%d"`, s.svc["Drip"].ID)) {
		t.Error("no Order link to the new-order form")
	}

	filters := []struct {
		q     string
		shown []string
		count string
	}{
		{"youtube", []string{"Views"}, "1 of 7 services match “youtube”."},
		{"INSTAGRAM poll", []string{"Poll service"}, "1 of 7 services match"},
		{fmt.Sprint("#", s.svc[store.TypePackage].ID), []string{"Package service"}, "1 of 7"},
		{"comment", []string{"Custom Comments service", "Comment Likes service"}, "2 of 7"},
	}
	for _, f := range filters {
		_, body := b.get("/services?q=" + strings.ReplaceAll(strings.ReplaceAll(f.q, " ", "+"), "#", "%23"))
		page := text(body)
		if !strings.Contains(page, f.count) {
			t.Errorf("?q=%s: no %q in %q", f.q, f.count, between(page, "Filter", "Refill"))
		}
		for _, svc := range s.svc {
			want := false
			for _, name := range f.shown {
				want = want || svc.Name == name
			}
			if got := strings.Contains(body, "<strong>"+svc.Name+"</strong>"); got != want {
				t.Errorf("?q=%s: %s shown %v, want %v", f.q, svc.Name, got, want)
			}
		}
	}
	_, body = b.get("/services?q=%3Cscript%3Ealert(1)%3C/script%3E")
	if strings.Contains(body, "<script>alert") || !strings.Contains(text(body), "No service matches “<script>alert(1)</script>”") {
		t.Error("a filter that matches nothing is not answered, escaped, as such")
	}
	_, body = b.get("/services?q=" + strings.Repeat("a", 5000))
	if strings.Contains(body, strings.Repeat("a", 101)) {
		t.Error("a 5000-character filter is echoed whole")
	}
}

func TestAPIPage(t *testing.T) {
	s := newShop(t)
	code, body := s.browser().get("/api")
	if code != http.StatusOK {
		t.Fatalf("GET /api = %d", code)
	}
	page := text(body)
	for _, want := range []string{s.srv.URL + "/api/v2", s.srv.URL + "/classic/api/v2",
		"services", "add", "status", "cancel", "refill", "refill_status", "balance",
		"webhook.add", "webhook.list", "webhook.remove", "webhook.test", "request_id", "Rate limits", "429", "Retry-After",
		"Insufficient balance", "webhook-signature", "whsec_", "HMAC-SHA256",
		"curl", "PHP", "Python", "JavaScript", "Your key is on the API keys page", `"balance":"100.00"`} {
		if !strings.Contains(page, want) {
			t.Errorf("/api for a visitor lacks %q", want)
		}
	}
	// The catalog example is the panel's own first service.
	first := s.svc[store.TypeDefault]
	if !strings.Contains(page, fmt.Sprintf(`"service":%d,"name":"%s"`, first.ID, first.Name)) {
		t.Errorf("the services example does not show the first service: %s", between(page, `[{"service"`, "}]"))
	}

	// Signed in: the customer's own balance, and a word about the key.
	b := s.signedIn()
	_, body = b.get("/api")
	page = text(body)
	if !strings.Contains(page, `"balance":"100.00"`) || !strings.Contains(page, "Paste your API key to fill it into every example") {
		t.Errorf("/api for alice: %q", between(page, "Getting started", "Authentication"))
	}
	if _, err := s.db.AddFunds(ctx, "alice", 23_450_000, "top-up"); err != nil {
		t.Fatal(err)
	}
	keys, _ := s.db.AccountKeys(ctx, s.alice.ID)
	for _, k := range keys {
		if err := s.db.RevokeAccountKey(ctx, s.alice.ID, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, body = b.get("/api")
	page = text(body)
	if !strings.Contains(page, `"balance":"123.45"`) || !strings.Contains(page, "You have no API key yet. Create one") {
		t.Errorf("/api for alice without a key: %q", between(page, "Getting started", "Authentication"))
	}

	// The operator's address, once set, is the one the examples name.
	url := "https://panel.example.com"
	if _, err := s.db.SetSite(ctx, store.SitePatch{URL: &url}); err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/api")
	if page = text(body); !strings.Contains(page, "POST https://panel.example.com/api/v2") || strings.Contains(page, s.srv.URL) {
		t.Error("/api does not name the panel's address")
	}
}

func TestTerms(t *testing.T) {
	s := newShop(t)
	b := s.browser()
	_, body := b.get("/terms")
	page := text(body)
	if !strings.Contains(page, "Terms of service") || !strings.Contains(page, "notpanel delivers social media services") ||
		!strings.Contains(page, "Whatever is not delivered is refunded to your balance") {
		t.Errorf("default terms: %q", between(page, "Terms", "Contact"))
	}

	name, tagline, contact := "Boost & Co", "Likes <fast>", "help@boost.example"
	terms := "First paragraph: no refunds to cards.\n\nSecond paragraph <b>bold</b>.\r\n\r\nThird."
	if _, err := s.db.SetSite(ctx, store.SitePatch{Name: &name, Tagline: &tagline, Contact: &contact, Terms: &terms}); err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/terms")
	for _, want := range []string{"<p>First paragraph: no refunds to cards.</p>", "<p>Second paragraph &lt;b&gt;bold&lt;/b&gt;.</p>",
		"<p>Third.</p>", "<title>Terms of service · Boost &amp; Co</title>", "Likes &lt;fast&gt;", "Contact: help@boost.example"} {
		if !strings.Contains(body, want) {
			t.Errorf("/terms lacks %q", want)
		}
	}
	if strings.Contains(body, "delivers social media services") {
		t.Error("the default terms are shown beside the operator's")
	}
	// The shop window is on every page.
	for _, p := range []string{"/", "/services", "/login", "/signup", "/nowhere"} {
		_, body := b.get(p)
		if !strings.Contains(body, "Boost &amp; Co") || !strings.Contains(body, "help@boost.example") {
			t.Errorf("%s does not show the operator's name and contact", p)
		}
	}
}

func TestNotFound(t *testing.T) {
	s := newShop(t)
	for _, b := range []*browser{s.browser(), s.signedIn()} {
		for _, p := range []string{"/nowhere", "/orders/x/y", "/static/", "/static/nothing.js", "/apix", "/API", "/services/"} {
			resp, err := b.c.Get(s.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/") {
				t.Errorf("GET %s = %d %s, want an HTML 404", p, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && !strings.Contains(string(body), "There is no page at this address") {
				t.Errorf("GET %s: %s", p, text(string(body)))
			}
		}
	}
	// Under /api/ and /classic/ a program asks: it gets JSON.
	for _, p := range []string{"/api/v2/", "/api/v3", "/api/v2/orders", "/API/V2", "/classic/api/v2/x"} {
		for _, method := range []string{"GET", "POST"} {
			req, _ := http.NewRequest(method, s.srv.URL+p, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || err != nil || got["error"] != "Not found" {
				t.Errorf("%s %s = %d %v %v, want a JSON 404", method, p, resp.StatusCode, got, err)
			}
		}
	}
	// A page asked with a method it does not take.
	req, _ := http.NewRequest("DELETE", s.srv.URL+"/orders", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("DELETE /orders = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// wantSecurityHeaders fails unless an answer carries the page policy: no
// script but the site's files (never 'unsafe-inline'), no framing, no
// sniffing, no full URL sent to other sites.
func wantSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			directives[f[0]] = strings.Join(f[1:], " ")
		}
	}
	script, ok := directives["script-src"]
	if !ok {
		script, ok = directives["default-src"]
	}
	if !ok || strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") || strings.Contains(script, "*") {
		t.Errorf("%s: scripts allowed by %q (policy %q)", what, script, csp)
	}
	if directives["frame-ancestors"] != "'none'" {
		t.Errorf("%s: frame-ancestors %q", what, directives["frame-ancestors"])
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
	switch rp := h.Get("Referrer-Policy"); rp {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin", "origin":
	default:
		t.Errorf("%s: Referrer-Policy %q", what, rp)
	}
}

var (
	scriptTag  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	inlineAttr = regexp.MustCompile(`(?i)<[^>]+\s(on[a-z]+|style)=|<style\b`)
)

// inlineCode is the first inline script, handler or style of a page, which
// its policy would block, or "".
func inlineCode(body string) string {
	for _, m := range scriptTag.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			return m[0]
		}
	}
	return inlineAttr.FindString(body)
}

func TestEveryPageCarriesTheSecurityHeaders(t *testing.T) {
	s := newShop(t)
	id := s.place(s.alice.ID, s.svc[store.TypeDefault], "https://instagram.com/p/x", 100)
	visitor, alice := s.browser(), s.signedIn()
	pages := []struct {
		b    *browser
		path string
	}{
		{visitor, "/"}, {visitor, "/services"}, {visitor, "/api"}, {visitor, "/terms"}, {visitor, "/login"},
		{visitor, "/signup"}, {visitor, "/forgot"}, {visitor, "/reset?token=nothing"}, {visitor, "/nowhere"},
		{visitor, "/orders"}, {visitor, "/theme.css"}, {visitor, "/static/style.css"}, {visitor, "/static/order.js"},
		{alice, "/"}, {alice, "/orders"}, {alice, "/orders/" + id}, {alice, "/orders/ord_nothing"}, {alice, "/massorder"},
		{alice, "/account"}, {alice, "/transactions"}, {alice, "/keys"}, {alice, "/webhooks"}, {alice, "/api"},
	}
	for _, p := range pages {
		p.b.get(p.path)
		wantSecurityHeaders(t, "GET "+p.path, p.b.last.Header)
	}
	posts := []struct {
		b    *browser
		path string
		form []string
	}{
		{visitor, "/login", []string{"name", "alice", "password", "wrong password"}},
		{visitor, "/signup", []string{"name", "x y"}},
		{alice, "/order", []string{"service", "999"}},
		{alice, "/massorder", []string{"orders", ""}},
		{alice, "/keys", []string{"label", strings.Repeat("x", 100)}},
		{alice, "/orders/" + id + "/refill", nil},
		{alice, "/account/email", []string{"email", "not an address"}},
	}
	for _, p := range posts {
		_, body := p.b.post(p.path, p.form...)
		wantSecurityHeaders(t, "POST "+p.path, p.b.last.Header)
		if errorOf(body) == "" {
			t.Errorf("POST %s: no error shown", p.path)
		}
	}
	// Refused from another site, and a page asked the wrong way.
	visitor.postWith(http.Header{"Sec-Fetch-Site": {"cross-site"}}, "/login", "name", "alice")
	wantSecurityHeaders(t, "cross-site POST", visitor.last.Header)
	visitor.get("/logout")
	wantSecurityHeaders(t, "GET /logout", visitor.last.Header)

	// With no inline script, style or handler, the policy breaks nothing.
	for _, p := range pages {
		if _, body := p.b.get(p.path); strings.HasPrefix(p.b.last.Header.Get("Content-Type"), "text/html") {
			if m := inlineCode(body); m != "" {
				t.Errorf("%s has inline code the policy blocks: %q", p.path, m)
			}
		}
	}
}

// TestPageSizes measures the pages with a catalog of a thousand services in
// ten categories (a large panel's; the new-order form then offers one
// category at a time) and a customer with fifty orders, fifty ledger rows,
// ten keys and five webhooks: none but /services and /api is over 60 KB
// before compression.
func TestPageSizes(t *testing.T) {
	s := newShop(t)
	cats := []string{"Instagram Followers", "Instagram Likes", "Instagram Views", "TikTok Followers", "TikTok Likes",
		"TikTok Views", "YouTube Views", "YouTube Subscribers", "Telegram Members", "X (Twitter) Followers"}
	var last store.Service
	for i := range 1000 - len(s.svc) {
		cat := cats[i%len(cats)]
		last = storetest.Service(t, s.db, store.Service{
			Name:     fmt.Sprintf("%s [Real] [Refill 30 days] [Max 100K] [Start 0-1 hour] #%d", cat, i+1),
			Category: cat, Type: store.TypeDefault, Rate: int64(350_000 + 10_000*(i%100)), Min: 50, Max: 100_000,
			Refill: i%2 == 0, Cancel: true, Dripfeed: i%3 == 0,
			Description: "High-quality profiles with posts and avatars. Speed up to 20K a day. No password needed; the account must be public.",
		})
	}
	b := s.signedIn()
	var firstOrder string
	for i := range 50 {
		id := s.place(s.alice.ID, last, fmt.Sprintf("https://www.instagram.com/p/C%08dxYzAbCdEf/?igsh=MWQ1ZGUxMzBkMA==", i), 1000)
		if i == 0 {
			firstOrder = id
		}
	}
	for range 9 {
		if _, _, err := s.db.CreateAccountKey(ctx, s.alice.ID, "Reseller panel on the main VPS"); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ := s.db.AccountKeys(ctx, s.alice.ID)
	for i := range 5 {
		if _, _, err := s.db.AddWebhook(ctx, store.Principal{AccountID: s.alice.ID, KeyID: keys[0].ID},
			fmt.Sprintf("https://hooks.example.com/notpanel/%d/receive", i), store.EventTypes); err != nil {
			t.Fatal(err)
		}
	}
	// The form offers one category: the one asked for, or the chosen
	// service's.
	_, home := b.get("/?category=" + url.QueryEscape(cats[3]))
	if strings.Count(home, "<optgroup") != 1 || !strings.Contains(home, `<optgroup label="`+cats[3]+`">`) ||
		!strings.Contains(home, "Show its services") {
		t.Errorf("a large catalog's form does not offer one category (%d groups)", strings.Count(home, "<optgroup"))
	}
	if _, home := b.get(fmt.Sprint("/?service=", last.ID)); !strings.Contains(home, `<optgroup label="`+last.Category+`">`) ||
		strings.Count(home, "<optgroup") != 1 {
		t.Error("the chosen service's category is not the one offered")
	}
	sizes := map[string]int{}
	for _, p := range []string{"/", fmt.Sprint("/?service=", last.ID), "/orders", "/orders/" + firstOrder, "/transactions",
		"/account", "/keys", "/webhooks", "/massorder", "/terms", "/services", "/api"} {
		code, body := b.get(p)
		if code != http.StatusOK {
			t.Fatalf("GET %s = %d", p, code)
		}
		sizes[p] = len(body)
	}
	visitor := s.browser()
	for _, p := range []string{"/", "/login", "/signup", "/forgot", "/nowhere"} {
		_, body := visitor.get(p)
		sizes["visitor "+p] = len(body)
	}
	_, body := b.post("/order", "service", fmt.Sprint(last.ID), "link", "https://instagram.com/p/x", "quantity", "1",
		"comments", strings.Repeat("a comment\n", 100))
	sizes["refused order"] = len(body)
	for p, n := range sizes {
		t.Logf("%-24s %6.1f KB", p, float64(n)/1024)
		if n > 60<<10 && p != "/services" && p != "/api" {
			t.Errorf("%s is %.1f KB, over 60 KB", p, float64(n)/1024)
		}
	}
}

// between is the part of s from the first a to the next b after it, for
// short failure messages.
func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return s[:min(len(s), 200)]
	}
	j := strings.Index(s[i:], b)
	if j < 0 {
		return s[i:min(len(s), i+200)]
	}
	return s[i : i+j+len(b)]
}

// TestInternalError: a failure of ours is a page that says so, without its
// cause, which goes to the log with the request id.
func TestInternalError(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	s.db.Close()
	for _, p := range []string{"/account", "/", "/services"} {
		code, body := b.get(p)
		if code != http.StatusInternalServerError || !strings.Contains(text(body), "Something went wrong on our side.") ||
			strings.Contains(strings.ToLower(body), "closed") || strings.Contains(body, "sql") {
			t.Errorf("GET %s with the database closed: %d %q", p, code, text(body))
		}
		wantSecurityHeaders(t, p, b.last.Header)
		if id := b.last.Header.Get("X-Request-Id"); id == "" || !strings.Contains(s.logs.String(), `"req":"`+id+`"`) {
			t.Errorf("GET %s: the log does not name request %q", p, id)
		}
	}
	if !strings.Contains(s.logs.String(), "storefront: internal error") {
		t.Error("the failure is not logged")
	}
}

func TestTheme(t *testing.T) {
	s := newShop(t)
	b := s.browser()
	theme := func() string {
		t.Helper()
		_, home := b.get("/")
		href := regexp.MustCompile(`href="(/theme\.css\?v=\d+)"`).FindStringSubmatch(home)
		if href == nil {
			t.Fatal("no theme stylesheet on the page")
		}
		code, body := b.get(href[1])
		if code != http.StatusOK || !strings.HasPrefix(b.last.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("GET %s: %d %s", href[1], code, b.last.Header.Get("Content-Type"))
		}
		return href[1] + " " + body
	}
	before := theme()
	if !strings.Contains(before, "--accent:#2557d6;--accent-ink:#ffffff") {
		t.Errorf("default theme %q", before)
	}
	for accent, ink := range map[string]string{"#ffcc00": "#111111", "#1a1a40": "#ffffff"} {
		if _, err := s.db.SetSite(ctx, store.SitePatch{Accent: &accent}); err != nil {
			t.Fatal(err)
		}
		got := theme()
		if !strings.Contains(got, "--accent:"+accent+";--accent-ink:"+ink) {
			t.Errorf("theme for %s: %q", accent, got)
		}
		if strings.Fields(got)[0] == strings.Fields(before)[0] {
			t.Error("a new accent colour keeps the stylesheet's URL: browsers would keep the old one")
		}
		before = got
	}
}
