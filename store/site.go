package store

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Site is the operator's shop window, shown on every storefront page.
type Site struct {
	Name    string `json:"name"`
	Tagline string `json:"tagline"`
	// Contact is how customers reach the panel: an e-mail address, a
	// Telegram handle, a URL; shown as written.
	Contact string `json:"contact"`
	// Terms is the text of /terms, plain text in paragraphs.
	Terms string `json:"terms"`
	// Accent is the colour of buttons and links, #rrggbb.
	Accent string `json:"accent"`
	// URL is the panel's public address (https://panel.example.com), for
	// links that leave the site: password reset mails and links, payment
	// gateways' return pages.
	URL string `json:"url"`
}

// DefaultSite is what a panel shows until its operator says otherwise.
var DefaultSite = Site{
	Name:    "notpanel",
	Tagline: "Social media services, delivered fast, refunded when they are not.",
	Accent:  "#2557d6",
}

var siteKeys = []string{"site_name", "site_tagline", "site_contact", "site_terms", "site_accent", "site_url"}

func (s *Site) fields() []*string {
	return []*string{&s.Name, &s.Tagline, &s.Contact, &s.Terms, &s.Accent, &s.URL}
}

// Site reads the shop window's settings, defaults where none is set.
func (db *DB) Site(ctx context.Context) (Site, error) {
	s := DefaultSite
	rows, err := db.read.QueryContext(ctx, `SELECT name, value FROM settings WHERE name LIKE 'site\_%' ESCAPE '\'`)
	if err != nil {
		return s, internal("read site", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return s, internal("read site", err)
		}
		for i, k := range siteKeys {
			if k == name {
				*s.fields()[i] = value
			}
		}
	}
	return s, internal("read site", rows.Err())
}

var accentColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// AccentOK says whether c is written as the site's accent colour must be,
// #rrggbb.
func AccentOK(c string) bool { return accentColor.MatchString(c) }

// SitePatch changes the fields that are not nil.
type SitePatch struct {
	Name, Tagline, Contact, Terms, Accent, URL *string
}

// SetSite changes the shop window; an empty value goes back to the
// default.
func (db *DB) SetSite(ctx context.Context, p SitePatch) (Site, error) {
	limits := []struct {
		v    *string
		what string
		max  int
	}{{p.Name, "name", 60}, {p.Tagline, "tagline", 200}, {p.Contact, "contact", 200}, {p.Terms, "terms", 100_000},
		{p.Accent, "accent colour", 7}, {p.URL, "URL", 200}}
	for _, l := range limits {
		if l.v == nil {
			continue
		}
		*l.v = strings.TrimSpace(*l.v)
		if !utf8.ValidString(*l.v) || utf8.RuneCountInString(*l.v) > l.max {
			return Site{}, Errorf(Invalid, "Site %s: at most %d characters of text", l.what, l.max)
		}
		if l.what != "terms" && strings.ContainsAny(*l.v, "\r\n") {
			return Site{}, Errorf(Invalid, "Site %s: one line", l.what)
		}
		if strings.ContainsFunc(*l.v, func(r rune) bool { return unicode.IsControl(r) && !strings.ContainsRune("\n\r\t", r) }) {
			return Site{}, Errorf(Invalid, "Site %s: text without control characters", l.what)
		}
	}
	if p.Accent != nil && *p.Accent != "" && !AccentOK(*p.Accent) {
		return Site{}, Errorf(Invalid, "Site accent colour %q: write it as #rrggbb", *p.Accent)
	}
	if p.URL != nil && *p.URL != "" {
		u, err := url.Parse(*p.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			strings.ContainsAny(*p.URL, " \t?#") {
			return Site{}, Errorf(Invalid, "Site URL %q: the panel's address, such as https://panel.example.com", *p.URL)
		}
		*p.URL = strings.TrimRight(*p.URL, "/") // links append /reset and the like
	}
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		for i, v := range []*string{p.Name, p.Tagline, p.Contact, p.Terms, p.Accent, p.URL} {
			if v == nil {
				continue
			}
			var err error
			if *v == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM settings WHERE name = ?`, siteKeys[i])
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
					ON CONFLICT (name) DO UPDATE SET value = excluded.value`, siteKeys[i], *v)
			}
			if err != nil {
				return internal("set site", err)
			}
		}
		return bumpConfig(ctx, tx)
	})
	if err != nil {
		return Site{}, err
	}
	return db.Site(ctx)
}
