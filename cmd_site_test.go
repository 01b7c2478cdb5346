package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"notpanel/store"
)

func TestSiteSet(t *testing.T) {
	db := dbPath(t)
	dir := t.TempDir()
	file := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	terms := file("terms.txt", "Refunds go to your balance.\r\n\r\nNo refunds for deleted posts.\r\n")
	latin1 := file("latin1.txt", "Caf\xe9 terms")
	long := file("long.txt", strings.Repeat("t", 100_001))
	s := openStore(t, db)
	site := func() store.Site {
		t.Helper()
		snap, err := s.Refresh(t.Context()) // what serve shows on its next request
		if err != nil {
			t.Fatal(err)
		}
		return snap.Site()
	}

	tests := []struct {
		name   string
		stdin  string
		args   []string
		stderr string // the message, or the failure's reason
		want   func(*store.Site)
	}{
		{"Name", "", []string{"--name", "  Boost Shop "}, "site name set; serve shows it from its next request\n",
			func(s *store.Site) { s.Name = "Boost Shop" }},
		{"Several", "", []string{"--tagline", "Followers by the morning", "--contact", "@boostshop on Telegram", "--accent-color", "#b03a2e"},
			"site tagline, contact, accent colour set; serve shows it from its next request\n",
			func(s *store.Site) {
				s.Tagline, s.Contact, s.Accent = "Followers by the morning", "@boostshop on Telegram", "#b03a2e"
			}},
		{"TermsFile", "", []string{"--terms-file", terms}, "site terms set; serve shows it from its next request\n",
			func(s *store.Site) { s.Terms = "Refunds go to your balance.\n\nNo refunds for deleted posts." }},
		{"TermsFromStdin", "Be nice.\n", []string{"--terms-file", "-"}, "site terms set",
			func(s *store.Site) { s.Terms = "Be nice." }},
		{"URL", "", []string{"--url", "https://boost.example.com/"}, "site URL set",
			func(s *store.Site) { s.URL = "https://boost.example.com" }},
		{"URLInClear", "", []string{"--url", "http://boost.example.com"}, "the URL is http: passwords and session cookies would cross the network in clear",
			func(s *store.Site) { s.URL = "http://boost.example.com" }},
		{"EmptyRestoresDefaults", "", []string{"--name", "", "--accent-color=", "--terms-file", ""}, "site name, terms, accent colour set",
			func(s *store.Site) { s.Name, s.Accent, s.Terms = store.DefaultSite.Name, store.DefaultSite.Accent, "" }},

		{"ErrNothing", "", nil, "notpanel: nothing to change: give at least one flag (see notpanel site set --help)\n", nil},
		{"ErrAccent", "", []string{"--name", "Other", "--accent-color", "red"}, "notpanel: Site accent colour \"red\": write it as #rrggbb\n", nil},
		{"ErrNameTooLong", "", []string{"--name", strings.Repeat("n", 61)}, "notpanel: Site name: at most 60 characters of text\n", nil},
		{"ErrTaglineTwoLines", "", []string{"--tagline", "one\ntwo"}, "notpanel: Site tagline: one line\n", nil},
		{"ErrURL", "", []string{"--url", "panel.example.com"}, `notpanel: Site URL "panel.example.com": the panel's address, such as https://panel.example.com` + "\n", nil},
		{"ErrTermsMissing", "", []string{"--terms-file", filepath.Join(dir, "nope.txt")}, "no such file or directory", nil},
		{"ErrTermsNotUTF8", "", []string{"--terms-file", latin1}, "is not UTF-8 text: save it as UTF-8 plain text", nil},
		{"ErrTermsTooLong", "", []string{"--terms-file", long}, "notpanel: Site terms: at most 100000 characters of text\n", nil},
	}
	want := store.DefaultSite
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := notpanelIn(t, tt.stdin, db, append([]string{"site", "set"}, tt.args...)...)
			if tt.want == nil {
				if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tt.stderr) {
					t.Errorf("exit %d, stdout %q, stderr %q; want a failure saying %q", r.code, r.stdout, r.stderr, tt.stderr)
				}
			} else {
				tt.want(&want)
				if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, tt.stderr) {
					t.Errorf("exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, tt.stderr)
				}
			}
			if got := site(); got != want {
				t.Errorf("site = %+v, want %+v", got, want)
			}
		})
	}
}

func TestSiteShow(t *testing.T) {
	db := dbPath(t)
	golden(t, "default.txt", ok(t, db, "site", "show"))
	golden(t, "default.json", ok(t, db, "site", "show", "--json"))
	r := notpanelIn(t, "Refunds go to your balance.\n\nNo refunds for deleted posts.\n", db, "site", "set", "--terms-file", "-",
		"--name", "Boost Shop", "--tagline", "Followers by the morning", "--contact", "hello@boost.example.com",
		"--accent-color", "#B03A2E", "--url", "https://boost.example.com")
	if r.code != 0 {
		t.Fatalf("site set: exit %d, stderr %q", r.code, r.stderr)
	}
	golden(t, "set.txt", ok(t, db, "site", "show"))
	golden(t, "set.json", ok(t, db, "site", "show", "--json"))
}
