package store_test

import (
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestUpdateProvider(t *testing.T) {
	db := storetest.Open(t)
	p := storetest.Provider(t, db, "up")
	if p.Settings.Concurrency != store.DefaultConcurrency || p.Settings.CatalogSync != 0 || p.Settings.MarkupBP != nil {
		t.Fatalf("new provider settings = %+v", p.Settings)
	}
	if err := db.RecordUpkeep(ctx, p.ID, store.Upkeep{Next: 1 << 40, BalanceError: "x"}); err != nil {
		t.Fatal(err)
	}
	n, zero, markup, hour, low := 4, 0, int64(1250), time.Hour, int64(5_000_000)
	got, err := db.UpdateProvider(ctx, "up", store.ProviderPatch{Concurrency: &n, PerMinute: &zero})
	if err != nil || got.Settings.Concurrency != 4 || got.State.UpkeepNext != 1<<40 {
		t.Fatalf("concurrency 4: %+v, %v; want the upkeep left on its schedule", got, err)
	}
	if _, err := db.UpdateProvider(ctx, "up", store.ProviderPatch{CatalogSync: &hour}); err == nil || !strings.Contains(err.Error(), "needs a markup") {
		t.Errorf("catalog sync without a markup: %v", err)
	}
	if _, err := db.UpdateProvider(ctx, "up", store.ProviderPatch{CatalogSync: &hour, MarkupBP: &markup, LowBalance: &low}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindProvider(ctx, "up")
	s := got.Settings
	if s.Concurrency != 4 || s.CatalogSync != time.Hour || *s.MarkupBP != 1250 || *s.LowBalance != low || got.State.UpkeepNext != 0 {
		t.Errorf("after setting the catalog sync: %+v %+v; want it due at once", s, got.State)
	}
	if s.Upkeep() != time.Hour {
		t.Errorf("upkeep every %v, want the catalog's hour", s.Upkeep())
	}
	none := int64(-1)
	if got, _ := db.UpdateProvider(ctx, "up", store.ProviderPatch{LowBalance: &none}); got.Settings.LowBalance != nil {
		t.Errorf("low balance after removing it: %v", *got.Settings.LowBalance)
	}
	if got, _ := db.FindProvider(ctx, "up"); got.Settings.LowBalance != nil || got.Settings.Upkeep() != time.Hour {
		t.Errorf("stored: %+v", got.Settings)
	}
	for _, tt := range []struct {
		patch store.ProviderPatch
		want  string
	}{
		{store.ProviderPatch{Concurrency: &zero}, "Concurrency must be between 1 and 1000"},
		{store.ProviderPatch{Concurrency: ptr(1001)}, "Concurrency"},
		{store.ProviderPatch{PerMinute: ptr(-1)}, "Calls a minute"},
		{store.ProviderPatch{CatalogSync: ptr(30 * time.Second)}, "between 1m0s and 30 days"},
		{store.ProviderPatch{MarkupBP: ptr(int64(-10000))}, "Markup"},
		{store.ProviderPatch{LowBalance: ptr(int64(store.MaxAmount + 1))}, "too large"},
	} {
		if _, err := db.UpdateProvider(ctx, "up", tt.patch); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("UpdateProvider(%+v) = %v, want %q", tt.patch, err, tt.want)
		}
	}
	_, err = db.UpdateProvider(ctx, "nope", store.ProviderPatch{Concurrency: &n})
	wantErr(t, err, store.NotFound, `Provider "nope" not found`)
}

func ptr[T any](v T) *T { return &v }

// The worker's findings are kept for provider list: the pace, the balance
// (a failed read keeps the last one known) and the catalog sync.
func TestRecordPaceAndUpkeep(t *testing.T) {
	db := storetest.Open(t)
	p := storetest.Provider(t, db, "up")
	if err := db.RecordPace(ctx, p.ID, 4, 2*time.Second, "429", 1234); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordUpkeep(ctx, p.ID, store.Upkeep{Balance: 7_500_000, Currency: "EUR", Catalog: true, Next: 99}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.FindProvider(ctx, "up")
	s := got.State
	if s.Pace != 4 || s.PaceHold != 2*time.Second || s.PaceReason != "429" || s.PaceAt != 1234 ||
		*s.Balance != 7_500_000 || s.BalanceCurrency != "EUR" || s.BalanceAt == 0 || s.CatalogAt == 0 || s.UpkeepNext != 99 {
		t.Errorf("state = %+v", s)
	}
	if err := db.RecordPace(ctx, p.ID, 0, 0, "", 1300); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordUpkeep(ctx, p.ID, store.Upkeep{BalanceError: "HTTP 502", Catalog: true, CatalogError: "HTTP 502", Next: 100}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindProvider(ctx, "up")
	s = got.State
	if s.Pace != 0 || s.PaceReason != "" || *s.Balance != 7_500_000 || s.BalanceError != "HTTP 502" || s.CatalogError != "HTTP 502" {
		t.Errorf("state after recovery and a failed read = %+v", s)
	}
}
