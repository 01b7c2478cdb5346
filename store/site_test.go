package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestSite(t *testing.T) {
	db := storetest.Open(t)
	s, err := db.Site(ctx)
	if err != nil || s != store.DefaultSite {
		t.Fatalf("Site of a new panel = %+v, %v; want the defaults", s, err)
	}
	if store.DefaultSite.Name == "" || store.DefaultSite.Tagline == "" || store.DefaultSite.Accent == "" || store.DefaultSite.URL != "" {
		t.Errorf("defaults %+v: want a name, a tagline, an accent and no URL", store.DefaultSite)
	}

	want := store.Site{
		Name: "Boost Shop", Tagline: "Followers by the morning", Contact: "@boostshop on Telegram",
		Terms: "Refunds go to your balance.\n\nNo refunds for deleted posts.", Accent: "#AA3377", URL: "https://panel.example.com/shop",
	}
	got, err := db.SetSite(ctx, store.SitePatch{
		Name: ptr("  Boost Shop "), Tagline: ptr(want.Tagline), Contact: ptr(want.Contact),
		Terms: ptr("\n" + want.Terms + "\n"), Accent: ptr(want.Accent), URL: ptr("https://panel.example.com/shop//"),
	})
	if err != nil || got != want {
		t.Fatalf("SetSite = %+v, %v; want %+v", got, err, want)
	}
	if s, err := db.Site(ctx); err != nil || s != want {
		t.Errorf("Site = %+v, %v; want %+v", s, err, want)
	}
	snap, err := db.Refresh(ctx)
	if err != nil || snap.Site() != want {
		t.Errorf("a refreshed snapshot's Site = %+v, %v; want %+v", snap.Site(), err, want)
	}

	// Only the fields given change; an empty one goes back to its default.
	got, err = db.SetSite(ctx, store.SitePatch{Name: ptr(""), Accent: ptr("  ")})
	want.Name, want.Accent = store.DefaultSite.Name, store.DefaultSite.Accent
	if err != nil || got != want {
		t.Errorf("clearing name and accent = %+v, %v; want %+v", got, err, want)
	}
	if snap, _ := db.Refresh(ctx); snap.Site() != want {
		t.Errorf("the snapshot kept the old site: %+v", snap.Site())
	}
	got, err = db.SetSite(ctx, store.SitePatch{Contact: ptr(""), Terms: ptr(""), URL: ptr(""), Tagline: ptr("")})
	if err != nil || got != store.DefaultSite {
		t.Errorf("clearing the rest = %+v, %v; want the defaults", got, err)
	}
	if got, err := db.SetSite(ctx, store.SitePatch{}); err != nil || got != store.DefaultSite {
		t.Errorf("an empty patch = %+v, %v; want nothing changed", got, err)
	}
}

func TestSiteInvalid(t *testing.T) {
	db := storetest.Open(t)
	if _, err := db.SetSite(ctx, store.SitePatch{Name: ptr("Boost Shop")}); err != nil {
		t.Fatal(err)
	}
	const url = "the panel's address, such as https://panel.example.com"
	tests := []struct {
		name    string
		patch   store.SitePatch
		message string
	}{
		{"NameTooLong", store.SitePatch{Name: ptr(strings.Repeat("n", 61))}, "Site name: at most 60 characters of text"},
		{"NameTwoLines", store.SitePatch{Name: ptr("Boost\nShop")}, "Site name: one line"},
		{"NameControl", store.SitePatch{Name: ptr("Boost\x1b[31mShop")}, "Site name: text without control characters"},
		{"NameNotUTF8", store.SitePatch{Name: ptr("Boost \xff")}, "Site name: at most 60 characters of text"},
		{"TaglineTooLong", store.SitePatch{Tagline: ptr(strings.Repeat("é", 201))}, "Site tagline: at most 200 characters of text"},
		{"TaglineCarriageReturn", store.SitePatch{Tagline: ptr("fast\rcheap")}, "Site tagline: one line"},
		{"ContactTooLong", store.SitePatch{Contact: ptr(strings.Repeat("c", 201))}, "Site contact: at most 200 characters of text"},
		{"ContactTwoLines", store.SitePatch{Contact: ptr("mail\nphone")}, "Site contact: one line"},
		{"TermsTooLong", store.SitePatch{Terms: ptr(strings.Repeat("t", 100_001))}, "Site terms: at most 100000 characters of text"},
		{"TermsNul", store.SitePatch{Terms: ptr("terms\x00")}, "Site terms: text without control characters"},
		{"AccentName", store.SitePatch{Accent: ptr("blue")}, `Site accent colour "blue": write it as #rrggbb`},
		{"AccentShort", store.SitePatch{Accent: ptr("#123")}, `Site accent colour "#123": write it as #rrggbb`},
		{"AccentNoHash", store.SitePatch{Accent: ptr("2557d6")}, `Site accent colour "2557d6": write it as #rrggbb`},
		{"AccentNotHex", store.SitePatch{Accent: ptr("#GG0000")}, `Site accent colour "#GG0000": write it as #rrggbb`},
		{"AccentTooLong", store.SitePatch{Accent: ptr("#1234567")}, "Site accent colour: at most 7 characters of text"},
		{"URLNoScheme", store.SitePatch{URL: ptr("panel.example.com")}, `Site URL "panel.example.com": ` + url},
		{"URLOtherScheme", store.SitePatch{URL: ptr("ftp://panel.example.com")}, `Site URL "ftp://panel.example.com": ` + url},
		{"URLNoHost", store.SitePatch{URL: ptr("https://")}, `Site URL "https://": ` + url},
		{"URLUser", store.SitePatch{URL: ptr("https://me:secret@panel.example.com")}, `Site URL "https://me:secret@panel.example.com": ` + url},
		{"URLQuery", store.SitePatch{URL: ptr("https://panel.example.com/?ref=1")}, `Site URL "https://panel.example.com/?ref=1": ` + url},
		{"URLEmptyQuery", store.SitePatch{URL: ptr("https://panel.example.com?")}, `Site URL "https://panel.example.com?": ` + url},
		{"URLFragment", store.SitePatch{URL: ptr("https://panel.example.com/#top")}, `Site URL "https://panel.example.com/#top": ` + url},
		{"URLEmptyFragment", store.SitePatch{URL: ptr("https://panel.example.com#")}, `Site URL "https://panel.example.com#": ` + url},
		{"URLSpace", store.SitePatch{URL: ptr("https://panel.example.com/my shop")}, `Site URL "https://panel.example.com/my shop": ` + url},
		{"URLTooLong", store.SitePatch{URL: ptr("https://" + strings.Repeat("a", 200) + ".com")}, "Site URL: at most 200 characters of text"},
		// One bad field refuses the whole patch.
		{"OneBadFieldOfTwo", store.SitePatch{Name: ptr("Other Shop"), Accent: ptr("red")}, `Site accent colour "red": write it as #rrggbb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.SetSite(ctx, tt.patch)
			wantErr(t, err, store.Invalid, tt.message)
		})
	}
	want := store.DefaultSite
	want.Name = "Boost Shop"
	if s, err := db.Site(ctx); err != nil || s != want {
		t.Errorf("after refused patches Site = %+v, %v; want %+v", s, err, want)
	}
}
