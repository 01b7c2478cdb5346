package storefront

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"notpanel/store"
)

// signupPage is the sign-up form.
type signupPage struct {
	base
	Mode                       string
	Name, Email, Invite, Error string
}

func (s *site) signupForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, http.StatusOK, "signup", signupPage{base: s.base(r, v, "Create an account", "signup"),
		Mode: s.cfg.Signup, Invite: r.URL.Query().Get("invite")})
}

func (s *site) signupCheck(w http.ResponseWriter, r *http.Request, v *visit) {
	p := signupPage{base: s.base(r, v, "Create an account", "signup"), Mode: s.cfg.Signup,
		Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Invite: strings.TrimSpace(r.PostFormValue("invite"))}
	fail := func(code int, msg string) {
		p.Error = msg
		s.render(w, r, code, "signup", p)
	}
	switch {
	case s.cfg.Signup == SignupClosed:
		fail(http.StatusForbidden, "This panel is not taking new accounts. Contact it to get one.")
		return
	case !s.signups.Take(v.ip, signupsPerIP, s.now()).OK:
		// Every attempt counts (each may cost a password hash), so the
		// message does not say accounts were made.
		fail(http.StatusTooManyRequests, "Too many sign-ups from your address just now. Try again in a minute.")
		return
	case r.PostFormValue("password") != r.PostFormValue("password2"):
		fail(http.StatusBadRequest, "The two passwords are not the same.")
		return
	}
	if err := store.CheckEmail(p.Email); err != nil {
		fail(http.StatusBadRequest, store.ErrorMessage(err))
		return
	}
	a, err := s.db.SignUp(r.Context(), p.Name, r.PostFormValue("password"), p.Invite, s.cfg.Signup == SignupInvite)
	if err != nil {
		if msg, ok := userError(err); ok {
			fail(http.StatusBadRequest, msg)
			return
		}
		s.internal(w, r, err)
		return
	}
	if p.Email != "" {
		if err := s.db.SetEmail(r.Context(), a.ID, p.Email); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	s.log.Info().Int64("account", a.ID).Str("name", a.Name).Str("ip", v.ip).Msg("storefront: account created")
	if err := s.signIn(r.Context(), w, r, v, a.ID, false); err != nil {
		s.internal(w, r, err)
		return
	}
	redirect(w, r, "/?notice=signedup")
}

// loginPage is the sign-in form.
type loginPage struct {
	base
	Name, Next, Error string
	Forgot            bool
}

func (s *site) loginForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, http.StatusOK, "login", loginPage{base: s.base(r, v, "Sign in", "login"),
		Next: nextPage(r.URL.Query().Get("next"))})
}

// loginCheck signs a customer in. Failures are counted per client address
// and per name: past either budget the form says to wait, whatever was
// typed, so that guessing is slow from one address and against one
// account from many.
func (s *site) loginCheck(w http.ResponseWriter, r *http.Request, v *visit) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	p := loginPage{base: s.base(r, v, "Sign in", "login"), Name: name, Next: nextPage(r.PostFormValue("next"))}
	now := s.now()
	nameKey := strings.ToLower(name)
	if !s.loginIPs.Peek(v.ip, loginFailuresPerIP, now).OK || !s.loginNames.Peek(nameKey, loginFailuresPerName, now).OK {
		p.Error = "Too many failed sign-ins. Wait a minute, then try again."
		s.render(w, r, http.StatusTooManyRequests, "login", p)
		return
	}
	a, creds, err := s.db.SignIn(r.Context(), name, r.PostFormValue("password"))
	if err != nil {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		s.loginIPs.Take(v.ip, loginFailuresPerIP, now)
		s.loginNames.Take(nameKey, loginFailuresPerName, now)
		s.log.Info().Str("ip", v.ip).Str("name", truncate(name, 64)).Msg("storefront: sign-in failed")
		p.Error, p.Forgot = msg, true
		s.render(w, r, http.StatusUnauthorized, "login", p)
		return
	}
	if err := s.signIn(r.Context(), w, r, v, a.ID, creds.TwoFactor); err != nil {
		s.internal(w, r, err)
		return
	}
	if creds.TwoFactor {
		redirect(w, r, "/login/code?next="+url.QueryEscape(p.Next))
		return
	}
	redirect(w, r, p.Next)
}

// codePage asks for the two-factor code.
type codePage struct {
	base
	Next, Error string
}

func (s *site) codeForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, http.StatusOK, "login_code", codePage{base: s.base(r, v, "Two-factor sign-in", "login"),
		Next: nextPage(r.URL.Query().Get("next"))})
}

func (s *site) codeCheck(w http.ResponseWriter, r *http.Request, v *visit) {
	p := codePage{base: s.base(r, v, "Two-factor sign-in", "login"), Next: nextPage(r.PostFormValue("next"))}
	now := s.now()
	key := "2fa:" + strconv.FormatInt(v.halfAccount, 10)
	if !s.loginIPs.Peek(v.ip, loginFailuresPerIP, now).OK || !s.loginNames.Peek(key, loginFailuresPerName, now).OK {
		p.Error = "Too many wrong codes. Wait a minute, then try again."
		s.render(w, r, http.StatusTooManyRequests, "login_code", p)
		return
	}
	if err := s.db.CheckSecondFactor(r.Context(), v.halfAccount, r.PostFormValue("code")); err != nil {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		s.loginIPs.Take(v.ip, loginFailuresPerIP, now)
		s.loginNames.Take(key, loginFailuresPerName, now)
		p.Error = msg
		s.render(w, r, http.StatusUnauthorized, "login_code", p)
		return
	}
	if err := s.signIn(r.Context(), w, r, v, v.halfAccount, false); err != nil {
		s.internal(w, r, err)
		return
	}
	redirect(w, r, p.Next)
}

func (s *site) logout(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.signOut(r.Context(), w, v); err != nil {
		s.internal(w, r, err)
		return
	}
	redirect(w, r, "/login?notice=signedout")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
