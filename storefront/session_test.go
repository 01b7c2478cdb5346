package storefront_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"notpanel/store"
)

// token is the browser's session token, as its jar holds it.
func (b *browser) token() string {
	for _, c := range b.c.Jar.Cookies(b.last.Request.URL) {
		if c.Name == "np_session" {
			return c.Value
		}
	}
	return ""
}

// withToken is a fresh browser holding a session token (a copied cookie).
func (s *shop) withToken(token string) *browser {
	b := s.browser()
	b.headers = http.Header{"Cookie": {"np_session=" + token}}
	return b
}

func TestForgedSessionCookie(t *testing.T) {
	s := newShop(t)
	real := s.signedIn().token()
	for _, forged := range []string{"forged", strings.Repeat("A", 43), real[:len(real)-1] + "x", real + "x",
		strings.Repeat("x", 5000), "", "%00", real[:20]} {
		b := s.withToken(forged)
		if !b.signedOut() {
			t.Errorf("cookie %.50q signs in", forged)
		}
		code, body := b.get("/")
		if code != http.StatusOK || strings.Contains(body, `id="order-form"`) {
			t.Errorf("home with cookie %.50q: %d, order form shown", forged, code)
		}
	}
	if s.withToken(real).signedOut() {
		t.Error("the real cookie does not sign in")
	}
	// The database keeps only the token's hash.
	if n := s.count(`SELECT count(*) FROM sessions WHERE CAST(hash AS TEXT) = ? OR hex(hash) = upper(?)`, real, real); n != 0 {
		t.Error("the session token is stored as it is")
	}
}

func TestSessionExpiry(t *testing.T) {
	s := newShop(t)
	// Idle: a week without a request ends it.
	idle := s.signedIn()
	s.clock.Advance(store.SessionIdle - time.Minute)
	if idle.signedOut() {
		t.Fatal("signed out before the idle limit")
	}
	s.clock.Advance(store.SessionIdle - time.Minute) // a request in between kept it alive
	if idle.signedOut() {
		t.Fatal("a session in use ended at the idle limit counted from its start")
	}
	s.clock.Advance(store.SessionIdle + time.Second)
	if !idle.signedOut() {
		t.Error("a session idle for a week is still signed in")
	}
	if n := s.count(`SELECT count(*) FROM sessions WHERE account_id = ?`, s.alice.ID); n != 0 {
		t.Errorf("%d sessions left after the idle one expired", n)
	}

	// Absolute: thirty days, however busy.
	busy := s.signedIn()
	for elapsed := time.Duration(0); elapsed < store.SessionMax-24*time.Hour; elapsed += 24 * time.Hour {
		s.clock.Advance(24 * time.Hour)
		if busy.signedOut() {
			t.Fatalf("a busy session ended after %v", elapsed+24*time.Hour)
		}
	}
	s.clock.Advance(24 * time.Hour)
	if !busy.signedOut() {
		t.Error("a session in daily use lives past thirty days")
	}
	// Signing in again works at once.
	busy.signIn("alice", alicePassword)
	if busy.signedOut() {
		t.Error("cannot sign in again after a session expired")
	}
}

func TestSignOut(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	token := b.token()
	code, _ := b.post("/logout")
	b.wantRedirect(code, "/login?notice=signedout")
	if c := b.cookie("np_session"); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("sign-out cookie %+v, want it cleared", c)
	}
	if _, body := b.get(b.location()); !strings.Contains(text(body), "You are signed out.") {
		t.Error("no notice after signing out")
	}
	// The token is dead on the server, not just forgotten by the browser.
	if !s.withToken(token).signedOut() {
		t.Error("a copy of the cookie still signs in after signing out")
	}
	// Signing out when not signed in is harmless.
	code, _ = s.browser().post("/logout")
	if code != http.StatusSeeOther {
		t.Errorf("sign-out of a visitor: %d", code)
	}
	// A GET does not sign out (a link or an image on another site could).
	c := s.signedIn()
	if code, _ := c.get("/logout"); code != http.StatusMethodNotAllowed || c.signedOut() {
		t.Errorf("GET /logout: %d, signed out %v", code, c.signedOut())
	}
}

func TestPasswordChange(t *testing.T) {
	s := newShop(t)
	here, there := s.signedIn(), s.signedIn()
	tests := []struct {
		name                 string
		current, next, next2 string
		msg                  string
	}{
		{"wrong current", "not my password", "a brand new phrase", "a brand new phrase", "Current password is wrong"},
		{"not the same", alicePassword, "a brand new phrase", "a brand new phrasee", "The two new passwords are not the same."},
		{"too short", alicePassword, "short", "short", "Password must be at least 8 characters"},
		{"common", alicePassword, "qwerty123", "qwerty123", store.ErrorMessage(store.CheckPassword("alice", "qwerty123"))},
		{"the name", alicePassword, "alice123", "alice123", "Password must not be your user name"},
	}
	for _, tt := range tests {
		code, body := here.post("/account/password", "current", tt.current, "password", tt.next, "password2", tt.next2)
		wantPage(t, code, body, http.StatusBadRequest, tt.msg)
		if strings.Contains(body, tt.next) {
			t.Errorf("%s: the page echoes the password", tt.name)
		}
	}
	if here.signedOut() || there.signedOut() {
		t.Fatal("a refused change signed a browser out")
	}
	code, _ := here.post("/account/password", "current", alicePassword, "password", "a brand new phrase", "password2", "a brand new phrase")
	here.wantRedirect(code, "/account?notice=password")
	if here.signedOut() {
		t.Error("the browser that changed the password was signed out")
	}
	if !there.signedOut() {
		t.Error("another browser is still signed in after the password change")
	}
	code, body := s.browser().post("/login", "name", "alice", "password", alicePassword)
	wantPage(t, code, body, http.StatusUnauthorized, "Wrong user name or password")
	s.browser().signIn("alice", "a brand new phrase")
}

func TestSuspendedAccount(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	if _, err := s.db.SetAccountStatus(ctx, "alice", store.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	if !b.signedOut() {
		t.Fatal("a suspended account's browser is still signed in")
	}
	code, body := b.post("/order", "service", fmt.Sprint(s.svc[store.TypeDefault].ID), "link", "https://x.example/p",
		"quantity", "100", "request_id", "web-suspended")
	if code != http.StatusSeeOther || len(s.orders(s.alice.ID)) != 0 {
		t.Errorf("a suspended account's browser posted an order: %d %s", code, errorOf(body))
	}
	code, body = s.browser().post("/login", "name", "alice", "password", alicePassword)
	wantPage(t, code, body, http.StatusUnauthorized, "Account suspended")
	// Reactivated, the account signs in again, afresh: the sessions the
	// suspension ended stay ended.
	if _, err := s.db.SetAccountStatus(ctx, "alice", store.AccountActive); err != nil {
		t.Fatal(err)
	}
	if !b.signedOut() {
		t.Error("a session from before the suspension is alive again after it")
	}
	s.browser().signIn("alice", alicePassword)
}

func TestSignOutEverywhere(t *testing.T) {
	s := newShop(t)
	here, there := s.signedIn(), s.signedIn()
	old := here.token()
	bob, _ := s.customer("bob", 0)
	code, _ := here.post("/account/signout-everywhere")
	here.wantRedirect(code, "/account?notice=everywhere")
	if _, body := here.get(here.location()); !strings.Contains(text(body), "Every other browser signed in to your account is signed out.") {
		t.Errorf("this browser after signing out everywhere: %q", text(body))
	}
	if !there.signedOut() {
		t.Error("another browser is still signed in")
	}
	if !s.withToken(old).signedOut() {
		t.Error("this browser's old token still signs in: it may have been the stolen one")
	}
	if bob.signedOut() {
		t.Error("another account was signed out")
	}
}

// TestCrossSitePosts: a form sent from another site (as a browser says in
// Sec-Fetch-Site, or in Origin when it sends no Sec-Fetch-Site) is refused
// and changes nothing; the API takes server-to-server calls, which carry
// neither.
func TestCrossSitePosts(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	pending := s.place(s.alice.ID, s.svc[store.TypeDefault], "https://instagram.com/p/pending", 100)
	keys, _ := s.db.AccountKeys(ctx, s.alice.ID)
	s.db.SetEmail(ctx, s.alice.ID, "alice@example.com")
	balance := s.balance(s.alice.ID)
	rows := func() string {
		var out []string
		for _, q := range []string{`SELECT count(*) FROM orders`, `SELECT count(*) FROM ledger`, `SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`,
			`SELECT count(*) FROM accounts`, `SELECT count(*) FROM sessions`, `SELECT count(*) FROM webhooks`, `SELECT count(*) FROM refills`,
			`SELECT count(*) FROM cancel_requests`, `SELECT count(*) FROM tokens`, `SELECT count(*) FROM credentials WHERE totp_secret != ''`,
			`SELECT count(*) FROM accounts WHERE low_balance != 0`, `SELECT count(*) FROM credentials WHERE email = 'alice@example.com'`} {
			out = append(out, fmt.Sprint(s.count(q)))
		}
		return strings.Join(out, " ")
	}
	before := rows()
	posts := [][]string{
		{"/order", "service", fmt.Sprint(s.svc[store.TypeDefault].ID), "link", "https://x.example/p", "quantity", "100", "request_id", "web-x"},
		{"/massorder", "orders", fmt.Sprintf("%d|https://x.example/p|100", s.svc[store.TypeDefault].ID), "request_id", "web-y"},
		{"/orders/" + pending + "/cancel"},
		{"/keys", "label", "evil"},
		{"/keys/" + keys[0].ID + "/revoke"},
		{"/webhooks", "url", "https://evil.example/hook", "key", keys[0].ID},
		{"/account/password", "current", alicePassword, "password", "evil new password", "password2", "evil new password"},
		{"/account/email", "email", "evil@evil.example"},
		{"/account/low-balance", "amount", "5"},
		{"/account/2fa/confirm", "secret", "JBSWY3DPEHPK3PXP", "code", "123456"},
		{"/account/signout-everywhere"},
		{"/logout"},
	}
	hostile := []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://evil." + strings.TrimPrefix(s.srv.URL, "http://")}},
		{"Origin": {"https://evil.example"}},
		{"Origin": {"null"}},
	}
	for _, hdr := range hostile {
		for _, p := range posts {
			code, body := b.postWith(hdr, p[0], p[1:]...)
			if code != http.StatusForbidden || !strings.Contains(text(body), "This form was sent from another site, so it was not accepted.") {
				t.Errorf("POST %s with %v: %d %q", p[0], hdr, code, errorOf(body))
			}
		}
	}
	if after := rows(); after != before || s.balance(s.alice.ID) != balance || s.order(pending).Status != store.StatusPending {
		t.Errorf("cross-site posts changed the store: %s → %s", before, after)
	}
	if b.signedOut() {
		t.Error("a cross-site sign-out signed the browser out")
	}
	// Sign-in and sign-up forms too: a login CSRF would sign the victim in
	// as the attacker.
	v := s.browser()
	for _, p := range [][]string{{"/login", "name", "alice", "password", alicePassword}, {"/signup", "name", "mallory",
		"password", "violet tractor moon", "password2", "violet tractor moon"}, {"/forgot", "email", "alice@example.com"}} {
		code, _ := v.postWith(http.Header{"Sec-Fetch-Site": {"cross-site"}}, p[0], p[1:]...)
		if code != http.StatusForbidden || v.cookie("np_session") != nil {
			t.Errorf("cross-site POST %s: %d", p[0], code)
		}
	}
	if _, ok := s.accountNamed("mallory"); ok || len(s.mail.all()) != 0 {
		t.Error("a cross-site sign-up or reset went through")
	}

	// The API is for programs: a server-to-server POST has no Origin and
	// no Sec-Fetch-Site, and is served.
	_, key := storeKey(t, s, s.alice.ID)
	code, got := s.api(key, "action", "add", "service", fmt.Sprint(s.svc[store.TypeDefault].ID), "link", "https://x.example/api",
		"quantity", "100", "request_id", "api-1")
	if code != http.StatusOK || got["order"] == nil {
		t.Errorf("API add without browser headers: %d %v", code, got)
	}
	code, got = s.api(key, "action", "cancel", "order", pending)
	if code != http.StatusOK || s.order(pending).Status != store.StatusCancelled {
		t.Errorf("API cancel without browser headers: %d %v", code, got)
	}
	// A same-origin form, and one the browser says the user typed or
	// bookmarked, are accepted.
	if code, _ := b.postWith(http.Header{"Sec-Fetch-Site": {"same-origin"}}, "/account/low-balance", "amount", "2"); code != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d", code)
	}
	if code, _ := b.postWith(http.Header{"Origin": {s.srv.URL}}, "/account/low-balance", "amount", "3"); code != http.StatusSeeOther {
		t.Errorf("POST with this site's Origin: %d", code)
	}
}

// storeKey makes an API key for the account and returns it with its id.
func storeKey(t *testing.T, s *shop, account int64) (string, string) {
	t.Helper()
	raw, k, err := s.db.CreateAccountKey(ctx, account, "test")
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, raw
}

// TestPasswordGuessingThrottled: a signed-in browser (a stolen session,
// say) guesses the password no faster than the sign-in form allows, on
// the password change and the two-factor switch alike.
func TestPasswordGuessingThrottled(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	for i := range 10 {
		code, body := b.post("/account/password", "current", fmt.Sprint("guess ", i), "password", "a brand new phrase", "password2", "a brand new phrase")
		wantPage(t, code, body, http.StatusBadRequest, "Current password is wrong")
	}
	code, body := b.post("/account/password", "current", alicePassword, "password", "a brand new phrase", "password2", "a brand new phrase")
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many wrong passwords. Wait a minute, then try again.")
	code, body = b.post("/account/2fa/off", "password", alicePassword)
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many wrong passwords.")
	// The same budget as the sign-in form's.
	code, body = s.browser().post("/login", "name", "alice", "password", alicePassword)
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many failed sign-ins.")
	s.clock.Advance(time.Minute)
	code, _ = b.post("/account/password", "current", alicePassword, "password", "a brand new phrase", "password2", "a brand new phrase")
	b.wantRedirect(code, "/account?notice=password")
}
