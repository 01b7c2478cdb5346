package storefront

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"notpanel/server"
	"notpanel/store"
)

// page is one parsed page: the layout, the partials and the page's own
// template.
type page struct{ t *template.Template }

// base is what every page shows: the shop window, who is signed in, and a
// message carried over a redirect.
type base struct {
	Site     store.Site
	Currency string
	Account  *store.Account
	Title    string
	// Nav names the menu entry of the page, for its highlight.
	Nav    string
	Notice string
	// Theme is the version of /theme.css, so that a new accent colour
	// is fetched at once.
	Theme int64
	// Signup says whether the sign-up link is shown.
	Signup bool
}

var funcs = template.FuncMap{
	"money":       store.FormatMoney,
	"date":        formatDate,
	"day":         func(unix int64) string { return time.Unix(unix, 0).UTC().Format("2 Jan 2006") },
	"status":      statusLabel,
	"statusClass": func(s string) string { return "st-" + strings.ReplaceAll(s, "_", "-") },
	"count":       func(n int64) string { return groupDigits(strconv.FormatInt(n, 10)) },
	"paragraphs": func(s string) []string {
		var out []string
		for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	"short": shorten,
	// needs says whether the order form shows field for the chosen
	// service (every field while none is chosen: the page works without
	// JavaScript, which hides the others as soon as one is).
	"needs": func(field string, svc *store.Service) bool {
		if svc == nil {
			return true
		}
		return slices.Contains(fieldsOf(*svc), field)
	},
	"fieldsOf": func(svc store.Service) string { return strings.Join(fieldsOf(svc), " ") },
	"asset":    func(name string) string { return "/static/" + name + "?v=" + assetVersion },
	"initial": func(s string) string {
		for _, r := range s {
			return strings.ToUpper(string(r))
		}
		return ""
	},
	"minRate": func(svcs []store.Service) int64 {
		var m int64 = -1
		for _, s := range svcs {
			if m < 0 || s.Rate < m {
				m = s.Rate
			}
		}
		return max(m, 0)
	},
	"has": func(list []string, s string) bool { return slices.Contains(list, s) },
	"kindLabel": func(kind string) string {
		switch kind {
		case "stripe":
			return "card or wallet"
		case "btcpay":
			return "Bitcoin"
		case "cryptomus":
			return "crypto"
		}
		return kind
	},
	"depositLabel": func(status, review string) string {
		switch {
		case status == store.DepositPending && review != "":
			return "Being checked"
		case status == store.DepositPending:
			return "Waiting for payment"
		}
		return statusLabel(status)
	},
	"depositClass": func(status string) string {
		switch status {
		case store.DepositCredited:
			return "st-completed"
		case store.DepositExpired, store.DepositFailed:
			return "st-cancelled"
		}
		return "st-pending"
	},
}

// fieldsOf lists the order form's fields a service takes.
func fieldsOf(svc store.Service) []string {
	var f []string
	switch svc.Type {
	case store.TypeDefault:
		f = []string{"quantity"}
	case store.TypePackage:
		f = nil
	case store.TypeComments:
		f = []string{"comments"}
	case store.TypeMentionsList:
		f = []string{"usernames"}
	case store.TypeCommentLikes:
		f = []string{"quantity", "username"}
	case store.TypePoll:
		f = []string{"quantity", "answer_number"}
	}
	if svc.Dripfeed {
		f = append(f, "dripfeed")
	}
	return f
}

// assetVersion changes when the embedded static files do, so that browsers
// keeping them a day fetch new ones after an upgrade.
var assetVersion = func() string {
	h := sha256.New()
	fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(files, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:10]
}()

// formatDate is a moment as the pages show it, in UTC.
func formatDate(unix int64) string {
	if unix == 0 {
		return ""
	}
	return time.Unix(unix, 0).UTC().Format("2 Jan 2006 15:04")
}

// shorten cuts s to n characters, the last an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// statusLabel is an order or refill status as a customer reads it.
func statusLabel(s string) string {
	switch s {
	case store.StatusInProgress:
		return "In progress"
	case "":
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// groupDigits writes 1234567 as 1,234,567.
func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// parsePages parses every page under templates/ with the layout and the
// partials.
func parsePages() (map[string]*page, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	partials, err := fs.Glob(files, "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*page{}
	for _, name := range names {
		if path.Base(name) == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files,
			append(append([]string{"templates/layout.html"}, partials...), name)...)
		if err != nil {
			return nil, fmt.Errorf("storefront template %s: %w", name, err)
		}
		out[strings.TrimSuffix(path.Base(name), ".html")] = &page{t: t}
	}
	return out, nil
}

// render writes a page: the whole of it or, when its template fails, an
// error page, never half of one.
func (s *site) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	p, ok := s.pages[name]
	if !ok {
		s.internal(w, r, fmt.Errorf("no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		s.log.Error().Err(err).Str("req", server.InfoFrom(r.Context()).ID).Str("page", name).Msg("storefront: render")
		if name != "error" {
			s.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again in a moment.")
		} else {
			http.Error(w, "Internal error", http.StatusInternalServerError)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// base fills what every page shows.
func (s *site) base(r *http.Request, v *visit, title, nav string) base {
	b := base{Title: title, Nav: nav, Site: store.DefaultSite, Currency: "USD", Signup: s.cfg.Signup != SignupClosed}
	if snap, err := s.snapshot(r.Context(), v); err == nil {
		b.Site, b.Currency, b.Theme = snap.Site(), snap.Currency(), snap.Version()
	}
	if v != nil {
		b.Account = v.Account
	}
	q := r.URL.Query()
	if n := q.Get("notice"); n != "" {
		b.Notice = notices[n]
	}
	return b
}

// notices are the messages a redirect may ask the next page to show, by
// name: never text from the URL itself.
var notices = map[string]string{
	"signedup":    "Welcome! Your account is ready.",
	"signedout":   "You are signed out.",
	"password":    "Your password is changed. Other browsers signed in to your account were signed out.",
	"reset":       "Your password is set. Sign in with it now.",
	"email":       "Your e-mail address is saved.",
	"lowbalance":  "Your low-balance alert is saved.",
	"2fa-on":      "Two-factor sign-in is on.",
	"2fa-off":     "Two-factor sign-in is off.",
	"everywhere":  "Every other browser signed in to your account is signed out.",
	"revoked":     "The key is revoked: requests made with it are refused from now on.",
	"hookremoved": "The webhook is removed.",
	"hooktest":    "A ping event is on its way to the webhook.",
	"cancel":      "Cancel requested: the provider is asked to stop the order, and the charge is refunded if it does.",
	"cancelled":   "The order is cancelled and its charge refunded to your balance.",
	"refill":      "Refill requested.",
	"placed":      "Your order is placed.",
	"sent":        "If an account uses that address, a link to set a new password is on its way. It works for one hour.",
}

// errorPage is the data of the error page.
type errorPage struct {
	base
	Code    int
	Message string
}

// fail answers with the error page.
func (s *site) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	setSecurityHeaders(w.Header())
	v, _ := s.visit(r, nil)
	title := http.StatusText(code)
	s.render(w, r, code, "error", errorPage{base: s.base(r, v, title, ""), Code: code, Message: msg})
}

func (s *site) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, http.StatusNotFound, "There is no page at this address. It may have moved, or the link may be mistyped.")
}
