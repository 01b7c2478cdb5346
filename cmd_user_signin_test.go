package main

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"notpanel/store"
)

const passphrase = "violet kettle under the bridge"

// signedIn opens a browser session for the account named user.
func signedIn(t *testing.T, s *store.DB, user string) string {
	t.Helper()
	a, err := s.FindAccount(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.CreateSession(t.Context(), a.ID, false, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func sessionLive(t *testing.T, s *store.DB, token string) bool {
	t.Helper()
	_, err := s.SessionOf(t.Context(), token)
	if err != nil && !errors.Is(err, store.ErrNoSession) {
		t.Fatal(err)
	}
	return err == nil
}

func TestUserSetPassword(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	ok(t, db, "user", "add", "bob")
	s := openStore(t, db)
	laptop, bobs := signedIn(t, s, "alice"), signedIn(t, s, "bob")

	tests := []struct {
		name, stdin string
		args        []string
		stderr      string // what the failure says; "" for success
	}{
		{"ErrCommon", "Password1!\n", []string{"alice"}, "notpanel: Password is too common; choose one that is not on the lists of the passwords people use most\n"},
		{"ErrShort", "kettle\n", []string{"alice"}, "notpanel: Password must be at least 8 characters\n"},
		{"ErrUserName", "alice2024\n", []string{"alice"}, "notpanel: Password must not be your user name\n"},
		{"ErrEmptyStdin", "", []string{"alice"}, "no password on stdin"},
		{"ErrEmptyLine", "\n" + passphrase + "\n", []string{"alice"}, "no password on stdin"},
		{"ErrUnknownUser", passphrase + "\n", []string{"nobody"}, `notpanel: User "nobody" not found` + "\n"},
		{"ErrTooLong", strings.Repeat("word ", 200) + "\n", []string{"alice"}, "notpanel: Password must be at most 128 characters\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := notpanelIn(t, tt.stdin, db, append([]string{"user", "set-password"}, tt.args...)...)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", r.code, r.stdout, r.stderr, tt.stderr)
			}
		})
	}
	if !sessionLive(t, s, laptop) {
		t.Fatalf("a refused password ended a session")
	}

	r := notpanelIn(t, passphrase+"\r\nsecond line ignored\n", db, "user", "set-password", "alice")
	want := "password of alice (id 1) set; every browser signed in to the account was signed out\n"
	if r.code != 0 || r.stdout != "" || r.stderr != want {
		t.Fatalf("set-password: exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, want)
	}
	if sessionLive(t, s, laptop) {
		t.Errorf("alice's browser is still signed in after set-password")
	}
	if !sessionLive(t, s, bobs) {
		t.Errorf("bob's browser was signed out")
	}
	if a, _, err := s.SignIn(t.Context(), "alice", passphrase); err != nil || a.Name != "alice" {
		t.Errorf("SignIn with the password set = %+v, %v", a, err)
	}

	// By id, without a line break at the end, for a suspended account.
	ok(t, db, "user", "suspend", "bob")
	r = notpanelIn(t, "bob's own long passphrase", db, "user", "set-password", "2")
	if r.code != 0 || !strings.Contains(r.stderr, "bob is suspended: it signs in after notpanel user unsuspend bob") {
		t.Errorf("set-password of a suspended account: exit %d, stderr %q", r.code, r.stderr)
	}
	ok(t, db, "user", "unsuspend", "bob")
	if _, _, err := s.SignIn(t.Context(), "bob", "bob's own long passphrase"); err != nil {
		t.Errorf("SignIn with the password piped without a line break: %v", err)
	}
}

var resetLink = regexp.MustCompile(`^https://panel\.example\.com/reset\?token=([a-z0-9]{26})\n$`)

func TestUserResetLink(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	r := failing(t, db, "user", "reset-link", "alice")
	if !strings.Contains(r.stderr, "no site URL is set") || !strings.Contains(r.stderr, "notpanel site set --url https://panel.example.com") {
		t.Errorf("reset-link without a site URL: stderr %q, want the command that sets it", r.stderr)
	}
	ok(t, db, "site", "set", "--url", "https://panel.example.com/")
	failing(t, db, "user", "reset-link", "nobody")

	before := time.Now()
	r = notpanel(t, db, "user", "reset-link", "alice")
	m := resetLink.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("reset-link: exit %d, stdout %q, want the link alone (stderr %q)", r.code, r.stdout, r.stderr)
	}
	wantUntil(t, r.stderr, "it works once, until ", before.Add(time.Hour))
	s := openStore(t, db)
	laptop := signedIn(t, s, "alice")
	if a, err := s.ResetPassword(t.Context(), m[1], passphrase); err != nil || a.Name != "alice" {
		t.Fatalf("ResetPassword with the printed link = %+v, %v", a, err)
	}
	if sessionLive(t, s, laptop) {
		t.Errorf("a browser stayed signed in after the reset")
	}
	if _, err := s.ResetPassword(t.Context(), m[1], "another long passphrase"); !errors.Is(err, store.ErrResetToken) {
		t.Errorf("the link worked twice: %v", err)
	}
	again := resetLink.FindStringSubmatch(ok(t, db, "user", "reset-link", "1"))
	if again == nil || again[1] == m[1] {
		t.Errorf("a second link = %v, want a new token", again)
	}
}

func TestUserReset2FA(t *testing.T) {
	ctx := t.Context()
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	s := openStore(t, db)
	alice, _ := s.FindAccount(ctx, "alice")
	signIn := func(want string, password, twoFactor bool) {
		t.Helper()
		text := ok(t, db, "user", "show", "alice")
		if !slices.ContainsFunc(strings.Split(text, "\n"), func(l string) bool {
			v, found := strings.CutPrefix(l, "sign-in:")
			return found && strings.TrimSpace(v) == want
		}) {
			t.Errorf("user show lacks sign-in: %s\n%s", want, text)
		}
		var u map[string]any
		decode(t, ok(t, db, "user", "show", "alice", "--json"), &u)
		if u["password"] != password || u["two_factor"] != twoFactor {
			t.Errorf("user show --json: password %v, two_factor %v; want %v, %v", u["password"], u["two_factor"], password, twoFactor)
		}
	}
	signIn("no password yet (notpanel user set-password or user reset-link gives one)", false, false)
	if err := s.SetPassword(ctx, alice.ID, passphrase); err != nil {
		t.Fatal(err)
	}
	signIn("password", true, false)
	r := failing(t, db, "user", "reset-2fa", "alice")
	if !strings.Contains(r.stderr, "alice (id 1) has no two-factor sign-in to turn off") {
		t.Errorf("reset-2fa without two-factor: stderr %q", r.stderr)
	}
	key, err := store.NewTOTP("notpanel", "alice")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCodeCustom(key.Secret(), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	codes, err := s.EnableTOTP(ctx, alice.ID, key.Secret(), code)
	if err != nil {
		t.Fatal(err)
	}
	signIn("password and two-factor code (10 recovery codes left)", true, true)

	r = notpanel(t, db, "user", "reset-2fa", "alice")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "two-factor sign-in of alice (id 1) is off") {
		t.Fatalf("reset-2fa: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if c, err := s.AccountCredentials(ctx, alice.ID); err != nil || c.TwoFactor || c.RecoveryLeft != 0 || !c.HasPassword {
		t.Errorf("credentials after reset-2fa = %+v, %v; want the password alone", c, err)
	}
	if err := s.CheckSecondFactor(ctx, alice.ID, codes[0]); !errors.Is(err, store.ErrSecondFactor) {
		t.Errorf("a recovery code works after reset-2fa: %v", err)
	}
	if _, _, err := s.SignIn(ctx, "alice", passphrase); err != nil {
		t.Errorf("the password no longer signs in: %v", err)
	}
	signIn("password", true, false)
	failing(t, db, "user", "reset-2fa", "alice")
	failing(t, db, "user", "reset-2fa", "nobody")
}

func TestUserSignout(t *testing.T) {
	db := dbPath(t)
	ok(t, db, "user", "add", "alice")
	ok(t, db, "user", "add", "bob")
	key := strings.TrimSpace(ok(t, db, "key", "create", "alice"))
	s := openStore(t, db)
	laptop, phone, bobs := signedIn(t, s, "alice"), signedIn(t, s, "alice"), signedIn(t, s, "bob")

	for _, tt := range []struct{ user, want string }{
		{"alice", "2 browser sessions of alice (id 1) ended; its API keys still work (notpanel key revoke ends those)\n"},
		{"alice", "0 browser sessions of alice (id 1) ended; its API keys still work (notpanel key revoke ends those)\n"},
		{"2", "1 browser session of bob (id 2) ended; its API keys still work (notpanel key revoke ends those)\n"},
	} {
		if r := notpanel(t, db, "user", "signout", tt.user); r.code != 0 || r.stdout != "" || r.stderr != tt.want {
			t.Errorf("signout %s: exit %d, stdout %q, stderr %q; want %q", tt.user, r.code, r.stdout, r.stderr, tt.want)
		}
		if tt.user == "alice" && (sessionLive(t, s, laptop) || sessionLive(t, s, phone)) {
			t.Errorf("alice's browsers are still signed in")
		}
		if tt.user == "alice" && !sessionLive(t, s, bobs) {
			t.Errorf("signing alice out signed bob out")
		}
	}
	if _, err := s.Authenticate(t.Context(), key); err != nil {
		t.Errorf("alice's API key after signout: %v", err)
	}
	failing(t, db, "user", "signout", "nobody")
}

func TestInviteCreate(t *testing.T) {
	db := dbPath(t)
	before := time.Now()
	r := notpanel(t, db, "invite", "create")
	code := strings.TrimSuffix(r.stdout, "\n")
	if r.code != 0 || len(code) != 26 || strings.ContainsAny(code, " \n") {
		t.Fatalf("invite create: exit %d, stdout %q; want the code alone", r.code, r.stdout)
	}
	wantUntil(t, r.stderr, "for one sign-up, until ", before.Add(30*24*time.Hour))
	if !strings.Contains(r.stderr, "--signup invite") {
		t.Errorf("invite create: stderr %q, want when the code is asked for", r.stderr)
	}
	if other := strings.TrimSpace(ok(t, db, "invite", "create")); other == code {
		t.Errorf("two invitations share the code %s", code)
	}
	s := openStore(t, db)
	if _, err := s.SignUp(t.Context(), "carol", passphrase, code, true); err != nil {
		t.Fatalf("SignUp with the printed code: %v", err)
	}
	if _, err := s.SignUp(t.Context(), "dave", passphrase, code, true); store.ErrorCode(err) != store.Invalid {
		t.Errorf("the code worked twice: %v", err)
	}
}

// wantUntil checks that msg tells, after prefix, a time from from to a few
// seconds later: when a link or code made at from stops working.
func wantUntil(t *testing.T, msg, prefix string, from time.Time) {
	t.Helper()
	_, rest, found := strings.Cut(msg, prefix)
	end, _, _ := strings.Cut(rest, ";")
	until, err := time.Parse(time.RFC3339, end)
	if !found || err != nil || until.Before(from.Truncate(time.Second)) || until.After(from.Add(time.Minute)) {
		t.Errorf("message %q: want %s%s", msg, prefix, from.UTC().Format(time.RFC3339))
	}
}
