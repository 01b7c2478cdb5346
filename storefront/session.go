package storefront

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/julienschmidt/httprouter"

	"notpanel/server"
	"notpanel/store"
)

// cookieName holds the session token. The __Host- prefix, over TLS, binds
// it to this host and path /, so no subdomain can set or read it.
const (
	cookieName       = "np_session"
	secureCookieName = "__Host-np_session"
)

// visit is one request's view of who is there.
type visit struct {
	// Account is the signed-in customer, nil for a visitor.
	Account *store.Account
	// halfway is a session whose password was right and whose two-factor
	// code is awaited; halfAccount is its account.
	halfway     bool
	halfAccount int64
	token       string
	secure      bool
	params      httprouter.Params
	ip          string
	// snap is the request's snapshot, once read (site.snapshot).
	snap *store.Snapshot
}

// visit reads the session cookie. A cookie that names no live session
// (forged, expired, ended, its account suspended) is a visitor.
func (s *site) visit(r *http.Request, p httprouter.Params) (*visit, error) {
	v := &visit{params: p, secure: s.overTLS(r), ip: server.InfoFrom(r.Context()).IP}
	c, err := r.Cookie(v.cookieName())
	if err != nil || c.Value == "" {
		return v, nil
	}
	sess, err := s.db.SessionOf(r.Context(), c.Value)
	switch {
	case errors.Is(err, store.ErrNoSession):
		return v, nil
	case err != nil:
		return v, err
	}
	v.token = c.Value
	if sess.SecondFactor {
		v.halfway, v.halfAccount = true, sess.Account.ID
		return v, nil
	}
	v.Account = &sess.Account
	return v, nil
}

// overTLS says whether the browser reached us over TLS: directly, or as a
// trusted reverse proxy says.
func (s *site) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(peer.Unmap()) {
			return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
		}
	}
	return false
}

func (v *visit) cookieName() string {
	if v.secure {
		return secureCookieName
	}
	return cookieName
}

// signIn starts a session for the account and sets its cookie; with
// secondFactor the session only lets the code be given.
func (s *site) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request, v *visit, accountID int64, secondFactor bool) error {
	if v.token != "" {
		// A new session for a new privilege: the old token, which may
		// have been seen before signing in, is worth nothing.
		if err := s.db.EndSession(ctx, v.token); err != nil {
			return err
		}
	}
	token, err := s.db.CreateSession(ctx, accountID, secondFactor, v.ip, r.UserAgent())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: v.cookieName(), Value: token, Path: "/", HttpOnly: true, Secure: v.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(store.SessionMax.Seconds())})
	v.token = token
	return nil
}

// signOut ends the visit's session and clears its cookie.
func (s *site) signOut(ctx context.Context, w http.ResponseWriter, v *visit) error {
	http.SetCookie(w, &http.Cookie{Name: v.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: v.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	if v.token == "" {
		return nil
	}
	return s.db.EndSession(ctx, v.token)
}

// nextPage is where to go after signing in: a path of this site the
// visitor was sent away from, never another site.
func nextPage(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(raw, "//") || strings.HasPrefix(raw, "/\\") || strings.ContainsAny(raw, "\r\n\\") {
		return "/"
	}
	switch u.Path {
	case "/login", "/logout", "/signup", "/login/code":
		return "/"
	}
	return u.RequestURI()
}
