package storefront_test

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"notpanel/store"
	"notpanel/storefront"
)

// behindProxy trusts the loopback proxy the tests' browsers come through,
// so that each browser may come from an address of its own.
func behindProxy(c *storefront.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

// from makes the browser's requests come from addr through the proxy.
func (b *browser) from(addr string) *browser {
	b.headers = http.Header{"X-Forwarded-For": {addr}}
	return b
}

// signUp posts the sign-up form with a password typed twice.
func (b *browser) signUp(name, password string, more ...string) (int, string) {
	b.t.Helper()
	return b.post("/signup", append([]string{"name", name, "password", password, "password2", password}, more...)...)
}

// accountNamed is the account of that name, and whether there is one.
func (s *shop) accountNamed(name string) (store.Account, bool) {
	s.t.Helper()
	a, err := s.db.FindAccount(ctx, name)
	if store.ErrorCode(err) == store.NotFound {
		return a, false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return a, true
}

func TestSignUpOpen(t *testing.T) {
	s := newShop(t)
	b := s.browser()
	code, body := b.get("/signup")
	if code != http.StatusOK || !strings.Contains(body, `name="password2"`) || strings.Contains(body, `name="invite"`) {
		t.Fatalf("GET /signup = %d, without the form or with an invitation field", code)
	}
	code, _ = b.signUp("bob", "violet tractor moon", "email", " bob@example.com ")
	b.wantRedirect(code, "/?notice=signedup")
	c := b.cookie("np_session")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" ||
		c.MaxAge != int(store.SessionMax.Seconds()) || len(c.Value) < 40 {
		t.Fatalf("session cookie %+v", c)
	}
	code, body = b.get(b.location())
	if code != http.StatusOK || !strings.Contains(text(body), "Welcome! Your account is ready.") || !strings.Contains(body, `id="order-form"`) {
		t.Errorf("after sign-up: %d %q", code, text(body)[:min(200, len(text(body)))])
	}
	a, ok := s.accountNamed("bob")
	if !ok || a.Balance != 0 || a.Tier != "standard" || a.Status != store.AccountActive {
		t.Fatalf("account %+v", a)
	}
	if email, _ := s.db.Email(ctx, a.ID); email != "bob@example.com" {
		t.Errorf("e-mail %q", email)
	}
	if n := s.count(`SELECT count(*) FROM sessions WHERE account_id = ?`, a.ID); n != 1 {
		t.Errorf("%d sessions", n)
	}
	// A signed-in customer is sent home from the sign-up and sign-in pages.
	for _, p := range []string{"/signup", "/login", "/forgot"} {
		code, _ := b.get(p)
		b.wantRedirect(code, "/")
	}
}

func TestSignUpRefusals(t *testing.T) {
	s := newShop(t, behindProxy)
	common := store.ErrorMessage(store.CheckPassword("carol", "Password1!"))
	tests := []struct {
		name, form       []string
		code             int
		msg              string
		wantName, noName string
	}{
		{[]string{"taken"}, []string{"name", "ALICE", "password", "violet tractor moon", "password2", "violet tractor moon"},
			http.StatusBadRequest, `User "ALICE" already exists`, "ALICE", ""},
		{[]string{"taken in another case"}, []string{"name", "Alice", "password", "violet tractor moon", "password2", "violet tractor moon"},
			http.StatusBadRequest, `User "Alice" already exists`, "Alice", ""},
		{[]string{"short"}, []string{"name", "carol", "password", "short", "password2", "short"},
			http.StatusBadRequest, "Password must be at least 8 characters", "carol", ""},
		{[]string{"common"}, []string{"name", "carol", "password", "Password1!", "password2", "Password1!"},
			http.StatusBadRequest, common, "carol", ""},
		{[]string{"a run"}, []string{"name", "carol", "password", "abcdefghij", "password2", "abcdefghij"},
			http.StatusBadRequest, "Password is too easy to guess", "carol", ""},
		{[]string{"the name"}, []string{"name", "carolina", "password", "carolina77", "password2", "carolina77"},
			http.StatusBadRequest, "Password must not be your user name", "carolina", ""},
		{[]string{"too long"}, []string{"name", "carol", "password", strings.Repeat("long words ", 12), "password2", strings.Repeat("long words ", 12)},
			http.StatusBadRequest, "Password must be at most 128 characters", "carol", ""},
		{[]string{"not the same"}, []string{"name", "carol", "password", "violet tractor moon", "password2", "violet tractor noon"},
			http.StatusBadRequest, "The two passwords are not the same.", "carol", ""},
		{[]string{"bad name"}, []string{"name", "carol smith", "password", "violet tractor moon", "password2", "violet tractor moon"},
			http.StatusBadRequest, "use letters, digits and . _ - @", "carol smith", ""},
		{[]string{"a number"}, []string{"name", "12345", "password", "violet tractor moon", "password2", "violet tractor moon"},
			http.StatusBadRequest, "a name cannot be a number", "12345", ""},
		{[]string{"long name"}, []string{"name", strings.Repeat("c", 65), "password", "violet tractor moon", "password2", "violet tractor moon"},
			http.StatusBadRequest, "1 to 64 characters", "", ""},
		{[]string{"no name"}, []string{"name", "", "password", "violet tractor moon", "password2", "violet tractor moon"},
			http.StatusBadRequest, "1 to 64 characters", "", ""},
		{[]string{"bad e-mail"}, []string{"name", "carol", "email", "carol at example", "password", "violet tractor moon", "password2", "violet tractor moon"},
			http.StatusBadRequest, `E-mail address "carol at example" does not look right`, "carol", ""},
	}
	accounts := s.count(`SELECT count(*) FROM accounts`)
	for i, tt := range tests {
		t.Run(tt.name[0], func(t *testing.T) {
			b := s.browser().from(fmt.Sprintf("198.51.100.%d", i+1))
			code, body := b.post("/signup", tt.form...)
			wantPage(t, code, body, tt.code, tt.msg)
			if b.cookie("np_session") != nil {
				t.Error("a refused sign-up set a session cookie")
			}
			if tt.wantName != "" && field(body, "name") != tt.wantName {
				t.Errorf("the name field holds %q, want %q kept", field(body, "name"), tt.wantName)
			}
			if strings.Contains(body, "violet tractor") {
				t.Error("the page echoes the password")
			}
		})
	}
	if n := s.count(`SELECT count(*) FROM accounts`); n != accounts {
		t.Errorf("%d accounts after refused sign-ups, want %d", n, accounts)
	}
	// The same name, in another case, cannot sign up twice either.
	b := s.browser().from("198.51.100.200")
	b.signUp("Dave", "violet tractor moon")
	code, body := s.browser().from("198.51.100.201").signUp("dAVE", "another fine phrase")
	wantPage(t, code, body, http.StatusBadRequest, `User "dAVE" already exists`)
}

func TestSignUpLimitPerAddress(t *testing.T) {
	s := newShop(t, behindProxy)
	for i := range 3 {
		code, body := s.browser().from("203.0.113.9").signUp(fmt.Sprint("user", i), "violet tractor moon")
		if code != http.StatusSeeOther {
			t.Fatalf("sign-up %d from one address: %d %s", i+1, code, errorOf(body))
		}
	}
	code, body := s.browser().from("203.0.113.9").signUp("user3", "violet tractor moon")
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many sign-ups from your address just now. Try again in a minute.")
	if _, ok := s.accountNamed("user3"); ok {
		t.Error("the fourth sign-up from one address made an account")
	}
	// Another address is not held back, and a minute later this one is not
	// either.
	if code, body := s.browser().from("203.0.113.10").signUp("user4", "violet tractor moon"); code != http.StatusSeeOther {
		t.Errorf("sign-up from another address: %d %s", code, errorOf(body))
	}
	s.clock.Advance(time.Minute)
	if code, body := s.browser().from("203.0.113.9").signUp("user3", "violet tractor moon"); code != http.StatusSeeOther {
		t.Errorf("sign-up a minute later: %d %s", code, errorOf(body))
	}
	// Refused attempts count too: each may cost a password hash.
	s.clock.Advance(time.Minute)
	for range 3 {
		s.browser().from("203.0.113.11").signUp("alice", "violet tractor moon")
	}
	code, body = s.browser().from("203.0.113.11").signUp("user5", "violet tractor moon")
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many sign-ups from your address just now.")
}

func TestSignUpByInvitation(t *testing.T) {
	s := newShop(t, behindProxy, func(c *storefront.Config) { c.Signup = storefront.SignupInvite })
	invite, err := s.db.CreateInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := s.browser().from("192.0.2.1")
	_, body := b.get("/signup?invite=" + url.QueryEscape(invite))
	if field(body, "invite") != invite {
		t.Errorf("the link's code is not filled in: %q", field(body, "invite"))
	}

	code, body := b.signUp("erin", "violet tractor moon")
	wantPage(t, code, body, http.StatusBadRequest, "An invitation code is needed to sign up here")
	code, body = s.browser().from("192.0.2.2").signUp("erin", "violet tractor moon", "invite", "not-a-code")
	wantPage(t, code, body, http.StatusBadRequest, "This invitation code is not valid or was used already")
	if _, ok := s.accountNamed("erin"); ok {
		t.Fatal("an account was made without a valid code")
	}
	// A refused sign-up leaves the code unspent, and it may be typed in
	// capitals, with spaces around.
	code, body = s.browser().from("192.0.2.3").signUp("erin", "short", "invite", invite)
	wantPage(t, code, body, http.StatusBadRequest, "Password must be at least 8 characters")
	code, body = s.browser().from("192.0.2.4").signUp("erin", "violet tractor moon", "invite", " "+strings.ToUpper(invite)+" ")
	if code != http.StatusSeeOther {
		t.Fatalf("sign-up with the code: %d %s", code, errorOf(body))
	}
	code, body = s.browser().from("192.0.2.5").signUp("frank", "violet tractor moon", "invite", invite)
	wantPage(t, code, body, http.StatusBadRequest, "This invitation code is not valid or was used already")
	if _, ok := s.accountNamed("frank"); ok {
		t.Error("a used code made a second account")
	}
	// A code is good for 30 days.
	old, _ := s.db.CreateInvite(ctx)
	s.clock.Advance(store.InviteTTL + time.Second)
	code, body = s.browser().from("192.0.2.6").signUp("frank", "violet tractor moon", "invite", old)
	wantPage(t, code, body, http.StatusBadRequest, "This invitation code is not valid or was used already")
}

func TestSignUpClosed(t *testing.T) {
	s := newShop(t, func(c *storefront.Config) { c.Signup = storefront.SignupClosed })
	contact := "@boost_support"
	s.db.SetSite(ctx, store.SitePatch{Contact: &contact})
	b := s.browser()
	code, body := b.get("/signup")
	if code != http.StatusOK || !strings.Contains(text(body), "This panel is not taking new accounts. Contact it to get one: @boost_support.") ||
		strings.Contains(body, `name="password"`) {
		t.Errorf("GET /signup when closed: %d %q", code, text(body))
	}
	code, body = b.signUp("gina", "violet tractor moon")
	if code != http.StatusForbidden || !strings.Contains(text(body), "This panel is not taking new accounts") {
		t.Errorf("POST /signup when closed: %d %q", code, text(body))
	}
	if _, ok := s.accountNamed("gina"); ok {
		t.Error("a closed panel made an account")
	}
	for _, p := range []string{"/", "/login"} {
		if _, body := b.get(p); strings.Contains(body, `href="/signup"`) {
			t.Errorf("%s links to the sign-up page of a closed panel", p)
		}
	}
	if _, err := storefront.New(storefront.Config{DB: s.db, Signup: "sometimes"}); err == nil {
		t.Error("an unknown sign-up mode is accepted")
	}
}

// TestSessionCookieOverTLS: the cookie is Secure, and named __Host-, when
// the browser came over TLS, directly or as a trusted proxy says; a
// proxy's word is not taken from anyone else.
func TestSessionCookieOverTLS(t *testing.T) {
	s := newShop(t, behindProxy)
	wantCookie := func(what string, resp *http.Response, name string, secure bool) string {
		t.Helper()
		for _, c := range resp.Cookies() {
			if c.Name == name {
				if c.Secure != secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
					t.Errorf("%s: cookie %+v", what, c)
				}
				return c.Value
			}
		}
		t.Errorf("%s: no cookie %s in %v", what, name, resp.Header["Set-Cookie"])
		return ""
	}
	// Through the trusted proxy, which says https.
	b := s.browser()
	code, _ := b.postWith(http.Header{"X-Forwarded-Proto": {"https"}, "Origin": {"https://panel.example.com"},
		"Sec-Fetch-Site": {"same-origin"}}, "/login", "name", "alice", "password", alicePassword)
	if code != http.StatusSeeOther {
		t.Fatalf("sign-in through the proxy: %d", code)
	}
	token := wantCookie("through the proxy", b.last, "__Host-np_session", true)
	// The session works under its secure name over https, and not under
	// the plain name.
	code, _ = b.getWith(http.Header{"X-Forwarded-Proto": {"https"}, "Cookie": {"__Host-np_session=" + token}}, "/account")
	if code != http.StatusOK {
		t.Errorf("/account with the secure cookie through the proxy: %d", code)
	}
	plain := s.browser()
	code, _ = plain.getWith(http.Header{"Cookie": {"np_session=" + token}, "X-Forwarded-Proto": {"https"}}, "/account")
	if code != http.StatusSeeOther {
		t.Errorf("/account with the token under the plain name over https: %d", code)
	}

	// A proxy that is not trusted cannot say https.
	untrusted := newShop(t, func(c *storefront.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	u := untrusted.browser()
	u.postWith(http.Header{"X-Forwarded-Proto": {"https"}, "Sec-Fetch-Site": {"same-origin"}}, "/login", "name", "alice", "password", alicePassword)
	wantCookie("from an untrusted peer saying https", u.last, "np_session", false)

	// Directly over TLS.
	tlsSrv := httptest.NewTLSServer(s.srv.Config.Handler)
	defer tlsSrv.Close()
	jar, _ := cookiejar.New(nil)
	c := tlsSrv.Client()
	c.Jar, c.CheckRedirect = jar, func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(tlsSrv.URL+"/login", url.Values{"name": {"alice"}, "password": {alicePassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantCookie("over TLS", resp, "__Host-np_session", true)
	resp, err = c.Get(tlsSrv.URL + "/account")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/account over TLS after signing in: %d", resp.StatusCode)
	}
	// Signing out over TLS clears the secure cookie.
	req, _ := http.NewRequest("POST", tlsSrv.URL+"/logout", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-np_session" && (ck.MaxAge >= 0 || !ck.Secure) {
			t.Errorf("sign-out cookie %+v", ck)
		}
	}
}

func TestSignIn(t *testing.T) {
	s := newShop(t, behindProxy)
	// Wrong password, unknown name, an account without a password: one
	// answer, whatever the name.
	if _, err := s.db.CreateAccount(ctx, "nopass", ""); err != nil {
		t.Fatal(err)
	}
	var pages []string
	for i, name := range []string{"alice", "nobody", "nopass"} {
		b := s.browser().from(fmt.Sprint("198.51.100.", i+1))
		code, body := b.post("/login", "name", name, "password", "wrong password here")
		wantPage(t, code, body, http.StatusUnauthorized, "Wrong user name or password")
		if field(body, "name") != name {
			t.Errorf("the name %q is not kept", name)
		}
		if b.cookie("np_session") != nil {
			t.Error("a failed sign-in set a cookie")
		}
		pages = append(pages, strings.ReplaceAll(text(body), name, "NAME"))
	}
	if pages[0] != pages[1] || pages[1] != pages[2] {
		t.Errorf("the answers differ:\n%s\n%s\n%s", pages[0], pages[1], pages[2])
	}
	// The name in another case, with spaces around, signs in.
	b := s.browser()
	code, _ := b.post("/login", "name", " ALICE ", "password", alicePassword)
	b.wantRedirect(code, "/")
	if code, body := b.get("/account"); code != http.StatusOK || !strings.Contains(text(body), "Signed in as alice") {
		t.Errorf("/account after signing in as ALICE: %d", code)
	}
	if n := s.count(`SELECT count(*) FROM sessions WHERE account_id = ?`, s.alice.ID); n != 1 {
		t.Errorf("%d sessions of alice", n)
	}
}

func TestSignInThrottledPerName(t *testing.T) {
	s := newShop(t, behindProxy)
	for i := range 10 { // each from its own address: only the name's budget is spent
		code, _ := s.browser().from(fmt.Sprint("198.51.100.", i+1)).post("/login", "name", "alice", "password", "guess number "+fmt.Sprint(i))
		if code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	b := s.browser().from("203.0.113.50")
	code, body := b.post("/login", "name", "Alice", "password", alicePassword)
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many failed sign-ins. Wait a minute, then try again.")
	if b.cookie("np_session") != nil {
		t.Fatal("the right password signed in while the name was throttled")
	}
	// Another name from the same address is not held back.
	bob, _ := s.customer("bob", 0)
	if bob.signedOut() {
		t.Error("bob cannot sign in while alice is throttled")
	}
	s.clock.Advance(time.Minute)
	code, _ = b.post("/login", "name", "alice", "password", alicePassword)
	b.wantRedirect(code, "/")
}

func TestSignInThrottledPerAddress(t *testing.T) {
	s := newShop(t, behindProxy)
	if _, err := s.db.CreateAccount(ctx, "bob", ""); err != nil {
		t.Fatal(err)
	}
	a, _ := s.accountNamed("bob")
	s.db.SetPassword(ctx, a.ID, "bob's fine password")
	for i := range 20 { // each against another name: only the address's budget is spent
		code, _ := s.browser().from("203.0.113.7").post("/login", "name", fmt.Sprint("name", i), "password", "guess")
		if code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	b := s.browser().from("203.0.113.7")
	code, body := b.post("/login", "name", "bob", "password", "bob's fine password")
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many failed sign-ins")
	if b.cookie("np_session") != nil {
		t.Fatal("the right password signed in from a throttled address")
	}
	other := s.browser().from("203.0.113.8")
	code, _ = other.post("/login", "name", "bob", "password", "bob's fine password")
	other.wantRedirect(code, "/")
	// Signing in right spends nothing.
	for range 30 {
		c := s.browser().from("203.0.113.9")
		if code, body := c.post("/login", "name", "bob", "password", "bob's fine password"); code != http.StatusSeeOther {
			t.Fatalf("a good sign-in was refused: %d %s", code, errorOf(body))
		}
	}
}

func TestSignInNext(t *testing.T) {
	s := newShop(t)
	b := s.browser()
	code, _ := b.get("/orders?status=pending")
	b.wantRedirect(code, "/login?next=%2Forders%3Fstatus%3Dpending")
	_, body := b.get(b.location())
	if got := field(body, "next"); got != "/orders?status=pending" {
		t.Errorf("next field %q", got)
	}
	code, _ = b.post("/login", "name", "alice", "password", alicePassword, "next", "/orders?status=pending")
	if code != http.StatusSeeOther || b.location() != "/orders?status=pending" {
		t.Errorf("after sign-in: %d to %q", code, b.location())
	}

	for _, next := range []string{"//evil.example", "https://evil.example/orders", "/\\evil.example", "\\\\evil.example",
		"/\t/evil.example", "javascript:alert(1)", "evil.example", "///evil.example", "http:/evil.example", "/login", "/logout", ""} {
		b := s.browser()
		_, body := b.get("/login?next=" + url.QueryEscape(next))
		if got := field(body, "next"); got != "/" {
			t.Errorf("GET /login?next=%q: next field %q", next, got)
		}
		code, _ := b.post("/login", "name", "alice", "password", alicePassword, "next", next)
		if code != http.StatusSeeOther || b.location() != "/" {
			t.Errorf("next=%q: %d to %q, want /", next, code, b.location())
		}
	}
}

// enableTwoFactor turns two-factor sign-in on through the account page
// and returns the secret and the recovery codes.
func enableTwoFactor(t *testing.T, s *shop, b *browser) (string, []string) {
	t.Helper()
	code, body := b.post("/account/2fa")
	secret := field(body, "secret")
	if code != http.StatusOK || len(secret) < 16 || !strings.Contains(body, `src="data:image/png;base64,`) {
		t.Fatalf("two-factor setup: %d, secret %q", code, secret)
	}
	if key := regexp.MustCompile(`class="mono key">([^<]+)<`).FindStringSubmatch(body); key == nil ||
		strings.ReplaceAll(key[1], " ", "") != secret {
		t.Errorf("the key to type is not the secret: %v", key)
	}
	if c, _ := s.db.AccountCredentials(ctx, s.alice.ID); c.TwoFactor {
		t.Fatal("two-factor is on before a code confirmed it")
	}
	// A wrong code keeps the enrolment on the page.
	code, body = b.post("/account/2fa/confirm", "secret", secret, "code", wrongCode(secret, s.clock.Now(), 0))
	wantPage(t, code, body, http.StatusBadRequest, "That code does not match")
	if field(body, "secret") != secret {
		t.Error("after a wrong code the secret is not kept")
	}
	now, _ := totp.GenerateCode(secret, s.clock.Now())
	code, body = b.post("/account/2fa/confirm", "secret", secret, "code", now)
	if code != http.StatusOK || !strings.Contains(text(body), "Two-factor sign-in is on.") {
		t.Fatalf("confirm: %d %s", code, errorOf(body))
	}
	codes := regexp.MustCompile(`<li>([a-z0-9]{5}-[a-z0-9]{5})</li>`).FindAllStringSubmatch(body, -1)
	if len(codes) != store.RecoveryCodes {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	var out []string
	for _, c := range codes {
		out = append(out, c[1])
	}
	if _, again := b.get("/account"); strings.Contains(again, out[0]) {
		t.Error("the recovery codes are shown again")
	}
	return secret, out
}

// wrongCode is a six-digit code that is not the right one at t, nor of the
// steps around it (which are taken too): the n-th such from 000000.
func wrongCode(secret string, t time.Time, n int) string {
	right := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, _ := totp.GenerateCode(secret, t.Add(d))
		right[c] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !right[c] {
			if n == 0 {
				return c
			}
			n--
		}
	}
}

func TestTwoFactor(t *testing.T) {
	s := newShop(t, behindProxy)
	secret, recovery := enableTwoFactor(t, s, s.signedIn())
	s.clock.Advance(30 * time.Second) // the step of the code that confirmed it is spent

	b := s.browser()
	code, _ := b.post("/login", "name", "alice", "password", alicePassword, "next", "/orders")
	b.wantRedirect(code, "/login/code?next=%2Forders")
	// Halfway in: nothing but the code page.
	for _, p := range []string{"/orders", "/account", "/keys", "/transactions"} {
		code, _ := b.get(p)
		b.wantRedirect(code, "/login/code")
	}
	if code, _ := b.post("/order", "service", fmt.Sprint(s.svc[store.TypeDefault].ID), "link", "https://x.example/p", "quantity", "100"); code != http.StatusSeeOther {
		t.Errorf("a half-signed-in POST /order answered %d", code)
	}
	if n := len(s.orders(s.alice.ID)); n != 0 {
		t.Fatalf("a half-signed-in session placed %d orders", n)
	}
	if code, body := b.get("/login/code?next=%2Forders"); code != http.StatusOK || field(body, "next") != "/orders" {
		t.Fatalf("the code page: %d next %q", code, field(body, "next"))
	}
	code, body := b.post("/login/code", "code", wrongCode(secret, s.clock.Now(), 0), "next", "/orders")
	wantPage(t, code, body, http.StatusUnauthorized, "Wrong or already used code")
	now, _ := totp.GenerateCode(secret, s.clock.Now())
	code, _ = b.post("/login/code", "code", now, "next", "/orders")
	if code != http.StatusSeeOther || b.location() != "/orders" {
		t.Fatalf("the right code: %d to %q", code, b.location())
	}
	if code, _ := b.get("/orders"); code != http.StatusOK {
		t.Errorf("/orders after the code: %d", code)
	}
	// The code page is for halfway sessions only.
	if code, _ := b.get("/login/code"); code != http.StatusSeeOther {
		t.Errorf("/login/code when signed in: %d", code)
	}
	if code, _ := s.browser().get("/login/code"); code != http.StatusSeeOther {
		t.Errorf("/login/code for a visitor: %d", code)
	}

	// A code works once: the same code in the same 30 seconds is refused.
	c := s.browser()
	c.post("/login", "name", "alice", "password", alicePassword)
	code, body = c.post("/login/code", "code", now)
	wantPage(t, code, body, http.StatusUnauthorized, "Wrong or already used code")
	// A recovery code, as printed or typed in capitals without the dash,
	// works once too.
	code, _ = c.post("/login/code", "code", strings.ToUpper(strings.ReplaceAll(recovery[0], "-", "")))
	c.wantRedirect(code, "/")
	if _, body := c.get("/account"); !strings.Contains(text(body), "9 recovery codes left") {
		t.Errorf("account page after a recovery code: %q", between(text(body), "Two-factor", "Sessions"))
	}
	d := s.browser()
	d.post("/login", "name", "alice", "password", alicePassword)
	code, body = d.post("/login/code", "code", recovery[0])
	wantPage(t, code, body, http.StatusUnauthorized, "Wrong or already used code")
	s.clock.Advance(30 * time.Second)
	next, _ := totp.GenerateCode(secret, s.clock.Now())
	code, _ = d.post("/login/code", "code", next)
	d.wantRedirect(code, "/")

	// Wrong codes are throttled like passwords: the right one is refused
	// once ten were wrong.
	e := s.browser().from("203.0.113.77")
	e.post("/login", "name", "alice", "password", alicePassword)
	s.clock.Advance(30 * time.Second)
	right, _ := totp.GenerateCode(secret, s.clock.Now())
	for i := range 10 {
		e.post("/login/code", "code", wrongCode(secret, s.clock.Now(), i))
	}
	code, body = e.post("/login/code", "code", right)
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many wrong codes")

	// Turning it off takes the password.
	code, body = c.post("/account/2fa/off", "password", "not my password")
	wantPage(t, code, body, http.StatusBadRequest, "Password is wrong")
	code, _ = c.post("/account/2fa/off", "password", alicePassword)
	c.wantRedirect(code, "/account?notice=2fa-off")
	f := s.browser()
	code, _ = f.post("/login", "name", "alice", "password", alicePassword)
	f.wantRedirect(code, "/")
	if f.signedOut() {
		t.Error("after turning two-factor off, the password alone does not sign in")
	}
}
