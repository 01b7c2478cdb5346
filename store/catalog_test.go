package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestAddProvider(t *testing.T) {
	db := storetest.Open(t)
	ok := store.Provider{Name: "smmking", URL: "https://smmking.example/api/v2", APIKey: "k"}
	tests := []struct {
		name    string
		change  func(p *store.Provider)
		code    store.Code
		message string
	}{
		{"OK", func(p *store.Provider) {}, "", ""},
		{"Notpanel", func(p *store.Provider) {
			p.Name, p.Dialect, p.URL = "np", store.DialectNotpanel, "http://10.0.0.1:8080/api/v2"
		}, "", ""},
		{"Duplicate", func(p *store.Provider) {}, store.Conflict, `Provider "smmking" already exists`},
		{"BadName", func(p *store.Provider) { p.Name = "smm king" }, store.Invalid, `Invalid provider name "smm king": use letters, digits and . _ - @`},
		{"FTP", func(p *store.Provider) { p.Name, p.URL = "x", "ftp://x.example" }, store.Invalid, `Invalid provider URL "ftp://x.example": want http(s)://host/path`},
		{"NoHost", func(p *store.Provider) { p.Name, p.URL = "x", "https:///api" }, store.Invalid, `Invalid provider URL "https:///api": want http(s)://host/path`},
		{"NoKey", func(p *store.Provider) { p.Name, p.APIKey = "x", "" }, store.Invalid, "Missing provider key"},
		{"BadDialect", func(p *store.Provider) { p.Name, p.Dialect = "x", "soap" }, store.Invalid, `Invalid dialect "soap": want classic or notpanel`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.change(&in)
			got, err := db.AddProvider(ctx, in)
			if tt.message != "" {
				wantErr(t, err, tt.code, tt.message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantDialect := in.Dialect
			if wantDialect == "" {
				wantDialect = store.DialectClassic
			}
			if got.ID == 0 || got.Dialect != wantDialect || got.Status != "active" {
				t.Errorf("provider = %+v, want an active %s provider", got, wantDialect)
			}
			for _, ref := range []string{in.Name, itoa(got.ID)} {
				if p, err := db.FindProvider(ctx, ref); err != nil || p.Name != in.Name || p.APIKey != in.APIKey || p.URL != in.URL {
					t.Errorf("FindProvider(%q) = %+v, %v", ref, p, err)
				}
			}
		})
	}
	list, err := db.ListProviders(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "smmking" || list[1].Name != "np" {
		t.Errorf("ListProviders = %+v, %v", list, err)
	}
	_, err = db.FindProvider(ctx, "nope")
	wantErr(t, err, store.NotFound, `Provider "nope" not found`)
}

func TestAddServiceValidation(t *testing.T) {
	db := storetest.Open(t)
	storetest.Provider(t, db, "upstream")
	valid := store.Service{Name: "Followers", Category: "Instagram", Type: store.TypeDefault, Rate: 900_000,
		Min: 50, Max: 10_000, ProviderService: "12"}
	tests := []struct {
		name    string
		change  func(s *store.Service)
		message string
	}{
		{"EmptyName", func(s *store.Service) { s.Name = "  " }, "Service name must be 1 to 200 characters"},
		{"LongName", func(s *store.Service) { s.Name = strings.Repeat("n", 201) }, "Service name must be 1 to 200 characters"},
		{"EmptyCategory", func(s *store.Service) { s.Category = "" }, "Service category must be 1 to 200 characters"},
		{"NegativeRate", func(s *store.Service) { s.Rate = -1 }, "Service rate must be between 0 and 1000000000000.00"},
		{"HugeRate", func(s *store.Service) { s.Rate = store.MaxAmount + 1 }, "Service rate must be between 0 and 1000000000000.00"},
		{"MinZero", func(s *store.Service) { s.Min = 0 }, "Service needs 1 <= min <= max <= 1000000000 (got min 0, max 10000)"},
		{"MaxBelowMin", func(s *store.Service) { s.Max = 49 }, "Service needs 1 <= min <= max <= 1000000000 (got min 50, max 49)"},
		{"MaxTooBig", func(s *store.Service) { s.Max = store.MaxQuantity + 1 }, "Service needs 1 <= min <= max <= 1000000000 (got min 50, max 1000000001)"},
		{"NoProviderService", func(s *store.Service) { s.ProviderService = "" }, "Service needs the provider's service id"},
		{"DripFeedPackage", func(s *store.Service) { s.Type, s.Dripfeed = store.TypePackage, true }, "Only Default services can be drip-fed"},
		{"UnknownType", func(s *store.Service) { s.Type = "Subscriptions" }, `Invalid service type "Subscriptions": want one of Default, Package, Custom Comments, Mentions Custom List, Comment Likes, Poll`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid
			tt.change(&s)
			_, err := db.AddService(ctx, s, "upstream")
			wantErr(t, err, store.Invalid, tt.message)
		})
	}
	_, err := db.AddService(ctx, valid, "nope")
	wantErr(t, err, store.NotFound, `Provider "nope" not found`)
	if all, _ := db.Services(ctx, true); len(all) != 0 {
		t.Errorf("refused services were stored: %+v", all)
	}
	s, err := db.AddService(ctx, store.Service{Name: " Trimmed ", Category: " Cat ", Type: store.TypeDefault, Rate: 0,
		Min: 1, Max: 1, ProviderService: "1"}, "upstream")
	if err != nil || s.Name != "Trimmed" || s.Category != "Cat" || !s.Enabled || s.Provider != "upstream" {
		t.Errorf("AddService = %+v, %v; want trimmed, enabled, under upstream", s, err)
	}
}

func TestServicesListing(t *testing.T) {
	f := newFixture(t, 10_000_000)
	tt := addService(t, f, store.Service{Name: "TikTok likes", Category: "TikTok", Rate: 1, Min: 1, Max: 10})
	aa := addService(t, f, store.Service{Name: "Apple", Category: "AAA", Rate: 1, Min: 1, Max: 10})
	off := false
	if _, err := f.db.UpdateService(ctx, aa.ID, store.ServicePatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	enabled, err := f.db.Services(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	all, err := f.db.Services(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(enabled)+1 || all[0].ID != aa.ID || all[0].Enabled {
		t.Errorf("Services(all) starts with %+v; want the disabled AAA service first", all[0])
	}
	for i, s := range enabled {
		if s.ID == aa.ID {
			t.Errorf("disabled service %d listed", s.ID)
		}
		if i > 0 {
			p := enabled[i-1]
			if p.Category > s.Category || p.Category == s.Category && p.ID > s.ID {
				t.Errorf("%s/%d listed after %s/%d, want by category then id", s.Category, s.ID, p.Category, p.ID)
			}
		}
	}
	if last := enabled[len(enabled)-1]; last.ID != tt.ID {
		t.Errorf("last service = %+v, want TikTok", last)
	}
	// A disabled service is still readable by id (for the operator and for
	// orders placed before).
	if s, err := f.db.Service(ctx, aa.ID); err != nil || s.Enabled {
		t.Errorf("Service(disabled) = %+v, %v", s, err)
	}
	_, err = f.db.Service(ctx, 9999)
	wantErr(t, err, store.NotFound, "Service not found")
}

func TestUpdateService(t *testing.T) {
	f := newFixture(t, 10_000_000)
	svc := f.svc[store.TypeDefault]
	before := f.add(t, f.acct.ID, store.TypeDefault, 1000)

	rate, least, name, yes := int64(2_000_000), int64(100), "Followers HQ", true
	got, err := f.db.UpdateService(ctx, svc.ID, store.ServicePatch{Rate: &rate, Min: &least, Name: &name, Refill: &yes})
	if err != nil {
		t.Fatal(err)
	}
	want := svc
	want.Rate, want.Min, want.Name = rate, least, name
	if got != want {
		t.Errorf("UpdateService = %+v, want %+v", got, want)
	}
	if stored, _ := f.db.Service(ctx, svc.ID); stored != want {
		t.Errorf("stored = %+v, want %+v", stored, want)
	}
	// Orders already placed keep their price.
	if o := f.order(t, before); o.Charge != 900_000 {
		t.Errorf("old order's charge = %d, want 900000", o.Charge)
	}
	if o := f.order(t, f.add(t, f.acct.ID, store.TypeDefault, 1000)); o.Charge != 2_000_000 {
		t.Errorf("new order's charge = %d, want 2000000", o.Charge)
	}

	bad := int64(10_000_000_000)
	_, err = f.db.UpdateService(ctx, svc.ID, store.ServicePatch{Min: &bad})
	wantErr(t, err, store.Invalid, "Service needs 1 <= min <= max <= 1000000000 (got min 10000000000, max 10000)")
	if stored, _ := f.db.Service(ctx, svc.ID); stored != want {
		t.Errorf("a refused patch changed the service: %+v", stored)
	}
	_, err = f.db.UpdateService(ctx, 9999, store.ServicePatch{Name: &name})
	wantErr(t, err, store.NotFound, "Service not found")
}
