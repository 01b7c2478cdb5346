package storefront

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"notpanel/store"
)

// Mailer sends one plain-text e-mail.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// forgotPage asks for the address a reset link goes to.
type forgotPage struct {
	base
	Mail  bool
	Email string
	Error string
}

func (s *site) forgotForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, http.StatusOK, "forgot", forgotPage{base: s.base(r, v, "Forgot your password?", "login"), Mail: s.cfg.Mailer != nil})
}

// forgotSend mails a reset link to each account using the address. The
// answer is the same whether or not one does, so that the form does not
// tell which addresses have accounts.
func (s *site) forgotSend(w http.ResponseWriter, r *http.Request, v *visit) {
	p := forgotPage{base: s.base(r, v, "Forgot your password?", "login"), Mail: s.cfg.Mailer != nil,
		Email: strings.TrimSpace(r.PostFormValue("email"))}
	if s.cfg.Mailer == nil {
		s.render(w, r, http.StatusOK, "forgot", p)
		return
	}
	if !s.resets.Take(v.ip, resetsPerIP, s.now()).OK {
		p.Error = "Too many requests from your address just now. Wait a minute, then try again."
		s.render(w, r, http.StatusTooManyRequests, "forgot", p)
		return
	}
	accounts, err := s.db.AccountsByEmail(r.Context(), p.Email)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	site := p.Site
	if site.URL == "" && len(accounts) > 0 {
		// The link is never built from the request's Host header, which
		// whoever asks can set: a reset mail must not point elsewhere.
		s.log.Error().Msg("storefront: reset link not sent: the panel's address is not set (notpanel site set --url https://…)")
		accounts = nil
	}
	for _, a := range accounts {
		token, err := s.db.CreateResetToken(r.Context(), a.ID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		link := site.URL + "/reset?token=" + url.QueryEscape(token)
		body := fmt.Sprintf("Hello %s,\n\nSomeone (we hope you) asked to set a new password for your account at %s.\n"+
			"Open this link within an hour to choose one:\n\n%s\n\nIf it was not you, ignore this message: your password stays as it is.\n\n-- %s\n",
			a.Name, site.Name, link, site.Name)
		if err := s.cfg.Mailer.Send(r.Context(), p.Email, "Set a new password for "+site.Name, body); err != nil {
			// Logged, not shown: the answer must not depend on the address.
			s.log.Error().Err(err).Int64("account", a.ID).Msg("storefront: reset mail not sent")
			continue
		}
		s.log.Info().Int64("account", a.ID).Msg("storefront: reset link sent")
	}
	redirect(w, r, "/login?notice=sent")
}

// resetPage sets a new password with a reset link's token.
type resetPage struct {
	base
	Token, Name, Error string
	Valid              bool
}

func (s *site) resetForm(w http.ResponseWriter, r *http.Request, v *visit) {
	p := resetPage{base: s.base(r, v, "Choose a new password", "login"), Token: r.URL.Query().Get("token")}
	a, err := s.db.ResetAccount(r.Context(), p.Token)
	switch msg, ok := userError(err); {
	case err == nil:
		p.Valid, p.Name = true, a.Name
	case ok:
		p.Error = msg
	default:
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "reset", p)
}

func (s *site) resetSave(w http.ResponseWriter, r *http.Request, v *visit) {
	p := resetPage{base: s.base(r, v, "Choose a new password", "login"), Token: r.PostFormValue("token"), Valid: true}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		p.Error = "The two passwords are not the same."
		if a, err := s.db.ResetAccount(r.Context(), p.Token); err == nil {
			p.Name = a.Name
		}
		s.render(w, r, http.StatusBadRequest, "reset", p)
		return
	}
	a, err := s.db.ResetPassword(r.Context(), p.Token, r.PostFormValue("password"))
	if err != nil {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		p.Error, p.Name, p.Valid = msg, a.Name, err != store.ErrResetToken
		s.render(w, r, http.StatusBadRequest, "reset", p)
		return
	}
	s.log.Info().Int64("account", a.ID).Msg("storefront: password reset")
	// The reset ended every session, this browser's too if it had one.
	s.signOut(r.Context(), w, v)
	redirect(w, r, "/login?notice=reset")
}
