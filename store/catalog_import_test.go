package store_test

import (
	"maps"
	"math"
	"math/big"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestMarkupRate(t *testing.T) {
	tests := []struct {
		name         string
		rate, markup int64
		want         int64
		wantErr      bool
	}{
		{"NoMarkup", 900_000, 0, 900_000, false},
		{"QuarterUp", 900_000, 2500, 1_125_000, false},
		{"RoundsUpNeverBelowCost", 1, 2500, 2, false},
		{"OneBasisPoint", 278_190, 1, 278_218, false}, // ceil(278217.819)
		{"Discount", 900_000, -5000, 450_000, false},
		{"Free", 900_000, -10000, 0, false},
		{"BelowFree", 900_000, -10001, 0, true},
		{"NegativeRate", -1, 0, 0, true},
		{"MaxAmount", store.MaxAmount, 0, store.MaxAmount, false},
		{"BeyondMaxAmount", store.MaxAmount, 1, 0, true},
		{"ProductOverflows", math.MaxInt64, math.MaxInt64 - 10000, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.MarkupRate(tt.rate, tt.markup)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("MarkupRate(%d, %d) = %d, %v; want %d (error %v)", tt.rate, tt.markup, got, err, tt.want, tt.wantErr)
			}
		})
	}
	// Against exact arithmetic: ceil(rate × (10000 + bp) / 10000).
	for _, rate := range []int64{0, 1, 999, 123_456, 900_000, 1e12, 1e17} {
		for _, bp := range []int64{-9999, -1, 1, 333, 2500, 10000, 1e6} {
			want := new(big.Int).Mul(big.NewInt(rate), big.NewInt(10000+bp))
			want.Add(want, big.NewInt(9999)).Quo(want, big.NewInt(10000))
			got, err := store.MarkupRate(rate, bp)
			if fits := want.Cmp(big.NewInt(store.MaxAmount)) <= 0; fits != (err == nil) || fits && got != want.Int64() {
				t.Errorf("MarkupRate(%d, %d) = %d, %v; want %s", rate, bp, got, err, want)
			}
		}
	}
}

func TestImportServices(t *testing.T) {
	f := newFixture(t, 10_000_000)
	storetest.Provider(t, f.db, "bulk")
	handMade, err := f.db.AddService(ctx, store.Service{Name: "Mine", Category: "X", Type: store.TypeDefault, Rate: 1, Min: 1, Max: 5, ProviderService: "hand"}, "bulk")
	if err != nil {
		t.Fatal(err)
	}
	first := []store.ImportedService{
		{ProviderService: "1", Name: "Followers", Category: "Instagram", Type: store.TypeDefault, Rate: 800_000, Min: 10, Max: 5_000_000_000, Refill: true, Dripfeed: true},
		{ProviderService: "2", Name: "Package", Category: "Instagram", Type: store.TypePackage, Rate: 4_000_000, Min: 100, Max: 100, Dripfeed: true},
		{ProviderService: "3", Name: "Views", Category: "YouTube", Type: store.TypeDefault, Rate: 10_000, Min: 100, Max: 1000},
		{ProviderService: "4", Name: "Likes", Category: "TikTok", Type: store.TypeDefault, Rate: 20_000, Min: 10, Max: 100},
		{ProviderService: "5", Name: "Monthly", Category: "Instagram", Type: "Subscriptions", Rate: 1, Min: 1, Max: 1},
		{ProviderService: "6", Name: "Broken", Category: "Instagram", Type: store.TypeDefault, Rate: 1, Min: 0, Max: 1},
	}
	res, err := f.db.ImportServices(ctx, "bulk", first, 2500)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 4 || res.Skipped != 2 || res.Updated+res.Unchanged+res.Disabled != 0 || !maps.Equal(res.SkippedTypes, map[string]int{"Subscriptions": 1}) {
		t.Errorf("first import = %+v", res)
	}
	imported := func() map[string]store.Service {
		all, err := f.db.Services(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Service{}
		for _, s := range all {
			if s.Provider == "bulk" {
				out[s.ProviderService] = s
			}
		}
		return out
	}
	got := imported()
	if s := got["1"]; s.Rate != 1_000_000 || s.Max != store.MaxQuantity || !s.Dripfeed || !s.Enabled || !s.Refill {
		t.Errorf("service 1 = %+v, want rate 1.00 with 25%% markup, max clamped", s)
	}
	if s := got["2"]; s.Dripfeed || s.Rate != 5_000_000 {
		t.Errorf("service 2 = %+v, want no drip-feed on a Package", s)
	}

	// The operator renames and reprices 1 and disables 3.
	name, rate, off := "Real followers", int64(1_500_000), false
	f.db.UpdateService(ctx, got["1"].ID, store.ServicePatch{Name: &name, Rate: &rate})
	f.db.UpdateService(ctx, got["3"].ID, store.ServicePatch{Enabled: &off})
	id := f.add(t, f.acct.ID, store.TypeDefault, 100) // an order placed before the re-import

	second := []store.ImportedService{
		{ProviderService: "1", Name: "Followers v2", Category: "Instagram HQ", Type: store.TypeDefault, Rate: 880_000, Min: 10, Max: 5_000_000_000, Refill: true, Dripfeed: true},
		{ProviderService: "2", Name: "Package", Category: "Instagram", Type: store.TypePackage, Rate: 4_000_000, Min: 100, Max: 100},
		{ProviderService: "3", Name: "Views", Category: "YouTube", Type: store.TypeDefault, Rate: 10_000, Min: 200, Max: 1000},
	}
	res, err = f.db.ImportServices(ctx, "bulk", second, 2500)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || res.Updated != 2 || res.Unchanged != 1 || res.Disabled != 1 || res.Skipped != 0 {
		t.Errorf("second import = %+v, want 2 updated, 1 unchanged, 1 disabled", res)
	}
	got = imported()
	if s := got["1"]; s.Name != name || s.Rate != rate || s.Category != "Instagram HQ" {
		t.Errorf("service 1 = %+v, want the operator's name and rate kept, the new category taken", s)
	}
	if s := got["3"]; s.Enabled || s.Min != 200 {
		t.Errorf("service 3 = %+v, want the new min and still disabled by the operator", s)
	}
	if s := got["4"]; s.Enabled {
		t.Errorf("delisted service 4 is still enabled")
	}
	if s := got["hand"]; !s.Enabled || s.ID != handMade.ID {
		t.Errorf("hand-made service = %+v, want it left alone", s)
	}
	if o := f.order(t, id); o.Charge != 90_000 {
		t.Errorf("order placed before the import was repriced: %d", o.Charge)
	}

	// Listed again: the import re-enables what it disabled itself.
	res, err = f.db.ImportServices(ctx, "bulk", append(second, first[3]), 2500)
	if err != nil {
		t.Fatal(err)
	}
	if s := imported()["4"]; !s.Enabled || res.Updated != 1 {
		t.Errorf("relisted service 4 = %+v after %+v, want enabled again", s, res)
	}
	if s := imported()["3"]; s.Enabled {
		t.Errorf("the operator's disabled service was re-enabled")
	}
	_, err = f.db.ImportServices(ctx, "nope", nil, 0)
	wantErr(t, err, store.NotFound, `Provider "nope" not found`)
}

// A rate set by hand below what the provider now charges disables the
// service, with the loss in the result and a warning on the service; the
// next import that finds the provider cheaper again enables it. A rate the
// operator changes (or a service enabled by hand) clears the warning.
func TestImportDisablesLosses(t *testing.T) {
	f := newFixture(t, 0)
	storetest.Provider(t, f.db, "bulk")
	item := func(rate int64) []store.ImportedService {
		return []store.ImportedService{{ProviderService: "1", Name: "Followers", Category: "I", Type: store.TypeDefault,
			Rate: rate, Min: 10, Max: 100}}
	}
	if _, err := f.db.ImportServices(ctx, "bulk", item(800_000), 2500); err != nil {
		t.Fatal(err)
	}
	all, _ := f.db.Services(ctx, true)
	var svc store.Service
	for _, s := range all {
		if s.Provider == "bulk" {
			svc = s
		}
	}
	hand := int64(900_000)
	if _, err := f.db.UpdateService(ctx, svc.ID, store.ServicePatch{Rate: &hand}); err != nil {
		t.Fatal(err)
	}
	res, err := f.db.ImportServices(ctx, "bulk", item(950_000), 2500)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Losses) != 1 || res.Losses[0] != (store.Loss{ServiceID: svc.ID, Name: "Followers", Rate: hand, Cost: 950_000,
		Warning: res.Losses[0].Warning}) || res.Updated != 1 {
		t.Fatalf("import above the hand-set rate = %+v", res)
	}
	s, _ := f.db.Service(ctx, svc.ID)
	if s.Enabled || s.Rate != hand || !strings.Contains(s.Warning, "0.90 is below the provider's 0.95") {
		t.Fatalf("service = %+v, want disabled at the operator's rate with a warning", s)
	}
	// Still at a loss: nothing new to report.
	if res, _ := f.db.ImportServices(ctx, "bulk", item(960_000), 2500); len(res.Losses) != 0 {
		t.Errorf("a loss reported twice: %+v", res.Losses)
	}
	if s, _ := f.db.Service(ctx, svc.ID); s.Enabled || !strings.Contains(s.Warning, "0.96") {
		t.Errorf("service = %+v, want the warning to follow the provider's rate", s)
	}
	res, _ = f.db.ImportServices(ctx, "bulk", item(850_000), 2500)
	if s, _ := f.db.Service(ctx, svc.ID); !s.Enabled || s.Warning != "" || s.Rate != hand || len(res.Losses) != 0 {
		t.Errorf("service = %+v once the provider is cheaper, want enabled again at the operator's rate", s)
	}
	// The operator enables a service the import disabled: the import
	// disables it again while the loss lasts, and leaves the operator's
	// own disabling alone once it is over.
	f.db.ImportServices(ctx, "bulk", item(950_000), 2500)
	on, off := true, false
	if s, err := f.db.UpdateService(ctx, svc.ID, store.ServicePatch{Enabled: &on}); err != nil || s.Warning != "" {
		t.Fatalf("enabled by hand: %+v, %v", s, err)
	}
	if res, _ := f.db.ImportServices(ctx, "bulk", item(950_000), 2500); len(res.Losses) != 1 {
		t.Errorf("re-enabled at a loss: %+v, want disabled again", res)
	}
	f.db.UpdateService(ctx, svc.ID, store.ServicePatch{Enabled: &off})
	f.db.ImportServices(ctx, "bulk", item(850_000), 2500)
	if s, _ := f.db.Service(ctx, svc.ID); s.Enabled {
		t.Error("the import enabled a service the operator disabled")
	}
}
