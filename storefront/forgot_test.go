package storefront_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/storefront"
)

var resetLinkRE = regexp.MustCompile(`https://panel\.example\.com/reset\?token=[a-z0-9]+`)

// resetLink is the link of the last mail sent, "" when none.
func (s *shop) resetLink() string {
	sent := s.mail.all()
	if len(sent) == 0 {
		return ""
	}
	return resetLinkRE.FindString(sent[len(sent)-1])
}

func TestForgotPassword(t *testing.T) {
	s := newShop(t, behindProxy)
	s.db.SetEmail(ctx, s.alice.ID, "alice@example.com")
	b := s.browser()
	code, body := b.get("/forgot")
	if code != http.StatusOK || !strings.Contains(body, `name="email"`) {
		t.Fatalf("GET /forgot: %d", code)
	}

	// Without the panel's address no link can be made (never from the
	// Host header, which anyone sets): the answer is the same, no mail.
	code, _ = b.post("/forgot", "email", "alice@example.com")
	b.wantRedirect(code, "/login?notice=sent")
	if len(s.mail.all()) != 0 {
		t.Fatal("a reset link was mailed with no panel address set")
	}
	if !strings.Contains(s.logs.String(), "notpanel site set --url") {
		t.Error("the log does not tell the operator to set the panel's address")
	}

	siteURL := "https://panel.example.com/"
	name := "Boost"
	s.db.SetSite(ctx, store.SitePatch{URL: &siteURL, Name: &name})
	// The same answer for an address with an account, in another case,
	// and without one.
	var answers []string
	for i, email := range []string{"alice@example.com", "ALICE@Example.com", "nobody@example.com", "not an address", ""} {
		c := s.browser().from(fmt.Sprint("198.51.100.", i+1))
		code, body := c.post("/forgot", "email", email)
		answers = append(answers, strings.Join([]string{http.StatusText(code), c.location(), text(body)}, "|"))
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Errorf("answers differ: %q and %q", answers[0], a)
		}
	}
	if _, body := b.get("/login?notice=sent"); !strings.Contains(text(body), "If an account uses that address, a link to set a new password is on its way.") {
		t.Error("the sign-in page does not say a link may be on its way")
	}
	sent := s.mail.all()
	if len(sent) != 2 {
		t.Fatalf("%d mails, want one for each request naming alice's address", len(sent))
	}
	parts := strings.SplitN(sent[0], "|", 3)
	if parts[0] != "alice@example.com" || parts[1] != "Set a new password for Boost" || !strings.Contains(parts[2], "Hello alice") ||
		!resetLinkRE.MatchString(parts[2]) {
		t.Errorf("mail %q", sent[0])
	}
}

func TestResetLink(t *testing.T) {
	s := newShop(t)
	siteURL := "https://panel.example.com"
	s.db.SetSite(ctx, store.SitePatch{URL: &siteURL})
	s.db.SetEmail(ctx, s.alice.ID, "alice@example.com")
	signedIn := s.signedIn()
	s.browser().post("/forgot", "email", "alice@example.com")
	link := s.resetLink()
	if link == "" {
		t.Fatal("no link mailed")
	}
	u, _ := url.Parse(link)
	token := u.Query().Get("token")
	path := "/reset?" + u.RawQuery

	b := s.browser()
	code, body := b.get(path)
	if code != http.StatusOK || !strings.Contains(text(body), "For the account alice") || field(body, "token") != token {
		t.Fatalf("the reset page: %d %q", code, text(body))
	}
	code, body = b.post("/reset", "token", token, "password", "a new long phrase", "password2", "a new long phrasee")
	wantPage(t, code, body, http.StatusBadRequest, "The two passwords are not the same.")
	code, body = b.post("/reset", "token", token, "password", "password", "password2", "password")
	wantPage(t, code, body, http.StatusBadRequest, store.ErrorMessage(store.CheckPassword("alice", "password")))
	if field(body, "token") != token {
		t.Error("after a refused password the form lost its token")
	}
	code, _ = b.post("/reset", "token", token, "password", "a new long phrase", "password2", "a new long phrase")
	b.wantRedirect(code, "/login?notice=reset")
	if !signedIn.signedOut() {
		t.Error("a browser signed in before the reset is still signed in")
	}
	s.browser().signIn("alice", "a new long phrase")
	code, body = s.browser().post("/login", "name", "alice", "password", alicePassword)
	wantPage(t, code, body, http.StatusUnauthorized, "Wrong user name or password")

	// The link works once.
	code, body = b.get(path)
	if code != http.StatusOK || !strings.Contains(text(body), "This reset link is not valid any more; ask for a new one") ||
		strings.Contains(body, `name="password"`) {
		t.Errorf("the used link: %d %q", code, text(body))
	}
	code, body = b.post("/reset", "token", token, "password", "yet another phrase", "password2", "yet another phrase")
	wantPage(t, code, body, http.StatusBadRequest, "This reset link is not valid any more")
	s.browser().signIn("alice", "a new long phrase")

	// A link is good for an hour, and a made-up one for nothing.
	s.browser().post("/forgot", "email", "alice@example.com")
	late := s.resetLink()
	s.clock.Advance(store.ResetTTL + time.Second)
	lu, _ := url.Parse(late)
	if _, body := b.get("/reset?" + lu.RawQuery); !strings.Contains(text(body), "This reset link is not valid any more") {
		t.Error("a link older than an hour still works")
	}
	for _, tok := range []string{"", "made-up", strings.Repeat("a", 5000)} {
		if code, body := b.get("/reset?token=" + tok); code != http.StatusOK || !strings.Contains(text(body), "not valid any more") {
			t.Errorf("token %.20q: %d", tok, code)
		}
	}
}

func TestResetRequestsLimited(t *testing.T) {
	s := newShop(t)
	siteURL := "https://panel.example.com"
	s.db.SetSite(ctx, store.SitePatch{URL: &siteURL})
	s.db.SetEmail(ctx, s.alice.ID, "alice@example.com")
	for range 5 {
		if code, _ := s.browser().post("/forgot", "email", "alice@example.com"); code != http.StatusSeeOther {
			t.Fatalf("request: %d", code)
		}
	}
	code, body := s.browser().post("/forgot", "email", "alice@example.com")
	wantPage(t, code, body, http.StatusTooManyRequests, "Too many requests from your address just now.")
	if n := len(s.mail.all()); n != 5 {
		t.Errorf("%d mails, want 5", n)
	}
	// A mail server that fails: the same answer, the failure logged.
	s.clock.Advance(time.Minute)
	s.mail.mu.Lock()
	s.mail.fail = errors.New("smtp: 421 try later")
	s.mail.mu.Unlock()
	c := s.browser()
	code, _ = c.post("/forgot", "email", "alice@example.com")
	c.wantRedirect(code, "/login?notice=sent")
	if !strings.Contains(s.logs.String(), "reset mail not sent") {
		t.Error("a failed mail is not logged")
	}
}

func TestForgotWithoutMail(t *testing.T) {
	s := newShop(t, func(c *storefront.Config) { c.Mailer = nil })
	contact := "support@boost.example"
	s.db.SetSite(ctx, store.SitePatch{Contact: &contact})
	s.db.SetEmail(ctx, s.alice.ID, "alice@example.com")
	b := s.browser()
	for _, answer := range []func() (int, string){
		func() (int, string) { return b.get("/forgot") },
		func() (int, string) { return b.post("/forgot", "email", "alice@example.com") },
	} {
		code, body := answer()
		if code != http.StatusOK || !strings.Contains(text(body), "This panel does not send e-mail. Contact it (support@boost.example) and ask for a link to set a new password.") ||
			strings.Contains(body, `name="email"`) {
			t.Errorf("/forgot without mail: %d %q", code, text(body))
		}
	}
	if n := s.count(`SELECT count(*) FROM tokens WHERE kind = 'reset'`); n != 0 {
		t.Errorf("%d reset tokens made with no way to send them", n)
	}
	// The operator's link (user reset-link) works the same.
	token, err := s.db.CreateResetToken(ctx, s.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := b.post("/reset", "token", token, "password", "set by a link", "password2", "set by a link")
	b.wantRedirect(code, "/login?notice=reset")
	s.browser().signIn("alice", "set by a link")
}
