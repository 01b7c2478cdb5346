package store

import (
	"context"
	"encoding/json"
	"errors"
	"math/bits"
	"slices"
	"strings"
)

// ImportedService is one entry of a provider's catalog, as fetched.
type ImportedService struct {
	ProviderService string
	Name            string
	Category        string
	Type            string
	Rate            int64 // the provider's price per 1000, micro-units
	Min, Max        int64
	Refill          bool
	Cancel          bool
	Dripfeed        bool
}

// ImportResult counts what an import did.
type ImportResult struct {
	Added, Updated, Unchanged, Disabled, Skipped int
	// SkippedTypes names the service types notpanel does not sell, with how
	// many services of each were skipped.
	SkippedTypes map[string]int
}

// importedValues are the fields an import sets; kept per service so that the
// next import changes only what the operator has not changed since.
type importedValues struct {
	Name     string `json:"name"`
	Category string `json:"category"`
	Type     string `json:"type"`
	Rate     int64  `json:"rate"`
	Min      int64  `json:"min"`
	Max      int64  `json:"max"`
	Refill   bool   `json:"refill"`
	Cancel   bool   `json:"cancel"`
	Dripfeed bool   `json:"dripfeed"`
	// Delisted is set when the import disabled the service because the
	// provider stopped listing it; it is enabled again if it comes back.
	Delisted bool `json:"delisted,omitempty"`
}

// MarkupRate is rate raised by markup basis points (2500 = 25 %), rounded
// up to the micro-unit so that a markup never sells below cost.
func MarkupRate(rate, markupBP int64) (int64, error) {
	if rate < 0 || markupBP < -10000 {
		return 0, Errorf(Invalid, "Invalid markup")
	}
	hi, lo := bits.Mul64(uint64(rate), uint64(10000+markupBP))
	if hi >= 10000 {
		return 0, Errorf(Invalid, "Rate too large after markup")
	}
	q, r := bits.Div64(hi, lo, 10000)
	if r != 0 {
		q++
	}
	if q > MaxAmount {
		return 0, Errorf(Invalid, "Rate too large after markup")
	}
	return int64(q), nil
}

// ImportServices brings a provider's catalog into ours in one transaction:
// new services are added (enabled) at the provider's rate plus markupBP
// basis points; services imported before are updated field by field, except
// fields the operator has changed since the last import, which are kept;
// services the provider no longer lists are disabled. Entries of types
// notpanel does not sell, or that do not validate, are skipped.
func (db *DB) ImportServices(ctx context.Context, providerRef string, items []ImportedService, markupBP int64) (ImportResult, error) {
	res := ImportResult{SkippedTypes: map[string]int{}}
	p, err := db.FindProvider(ctx, providerRef)
	if err != nil {
		return res, err
	}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		existing, err := importTargets(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		listed := map[string]bool{}
		for _, it := range items {
			if !slices.Contains(ServiceTypes, it.Type) {
				res.Skipped++
				res.SkippedTypes[it.Type]++
				continue
			}
			rate, err := MarkupRate(it.Rate, markupBP)
			if err != nil {
				res.Skipped++
				continue
			}
			want := importedValues{Name: it.Name, Category: it.Category, Type: it.Type, Rate: rate, Min: it.Min,
				Max: min(it.Max, MaxQuantity), Refill: it.Refill, Cancel: it.Cancel, Dripfeed: it.Dripfeed && it.Type == TypeDefault}
			s := Service{Name: want.Name, Category: want.Category, Type: want.Type, Rate: want.Rate, Min: want.Min,
				Max: want.Max, Refill: want.Refill, Cancel: want.Cancel, Dripfeed: want.Dripfeed, Enabled: true,
				ProviderID: p.ID, ProviderService: it.ProviderService}
			cur, ok := existing[it.ProviderService]
			if ok {
				s = merge(cur.svc, cur.last, want)
			}
			if err := validateService(&s); err != nil {
				res.Skipped++
				continue
			}
			listed[it.ProviderService] = true
			blob, _ := json.Marshal(want)
			switch {
			case !ok:
				_, err = tx.ExecContext(ctx,
					`INSERT INTO services (name, category, type, rate, min, max, refill, cancel, dripfeed, enabled,
					   provider_id, provider_service, imported, created_at, updated_at)
					 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
					s.Name, s.Category, s.Type, s.Rate, s.Min, s.Max, s.Refill, s.Cancel, s.Dripfeed,
					p.ID, it.ProviderService, string(blob), now, now)
				res.Added++
			case s == cur.svc && cur.last == want:
				res.Unchanged++
				continue
			default:
				_, err = tx.ExecContext(ctx,
					`UPDATE services SET name = ?, category = ?, type = ?, rate = ?, min = ?, max = ?, refill = ?,
					   cancel = ?, dripfeed = ?, enabled = ?, imported = ?, updated_at = ? WHERE id = ?`,
					s.Name, s.Category, s.Type, s.Rate, s.Min, s.Max, s.Refill, s.Cancel, s.Dripfeed, s.Enabled,
					string(blob), now, cur.svc.ID)
				res.Updated++
			}
			if err != nil {
				return internal("import service", err)
			}
		}
		for ps, cur := range existing {
			if listed[ps] || !cur.svc.Enabled {
				continue
			}
			cur.last.Delisted = true
			blob, _ := json.Marshal(cur.last)
			if _, err := tx.ExecContext(ctx, `UPDATE services SET enabled = 0, imported = ?, updated_at = ? WHERE id = ?`,
				string(blob), now, cur.svc.ID); err != nil {
				return internal("disable delisted service", err)
			}
			res.Disabled++
		}
		return bumpConfig(ctx, tx)
	})
	return res, err
}

type importTarget struct {
	svc  Service
	last importedValues
}

// importTargets reads the provider's services that came from an import
// (keyed by the provider's service id); services the operator added by
// hand are left alone.
func importTargets(ctx context.Context, tx *Tx, providerID int64) (map[string]importTarget, error) {
	rows, err := tx.QueryContext(ctx,
		`SELECT `+serviceCols+`, s.imported FROM services s JOIN providers p ON p.id = s.provider_id
		 WHERE s.provider_id = ? AND s.imported IS NOT NULL`, providerID)
	if err != nil {
		return nil, internal("read imported services", err)
	}
	defer rows.Close()
	out := map[string]importTarget{}
	for rows.Next() {
		var t importTarget
		var blob string
		s := &t.svc
		if err := rows.Scan(&s.ID, &s.Name, &s.Type, &s.Category, &s.Rate, &s.Min, &s.Max, &s.Refill, &s.Cancel,
			&s.Dripfeed, &s.Enabled, &s.ProviderID, &s.Provider, &s.ProviderService, &s.Description, &blob); err != nil {
			return nil, internal("read imported services", err)
		}
		if err := json.Unmarshal([]byte(blob), &t.last); err != nil {
			return nil, internal("read imported values", errors.New(strings.TrimSpace(err.Error())))
		}
		out[s.ProviderService] = t
	}
	return out, internal("read imported services", rows.Err())
}

// merge takes each field from want unless the operator changed it since the
// last import (cur differs from last), in which case cur's value stays. A
// service the import itself disabled comes back enabled; one the operator
// disabled stays disabled.
func merge(cur Service, last, want importedValues) Service {
	out := cur
	take(&out.Name, cur.Name, last.Name, want.Name)
	take(&out.Category, cur.Category, last.Category, want.Category)
	take(&out.Type, cur.Type, last.Type, want.Type)
	take(&out.Rate, cur.Rate, last.Rate, want.Rate)
	take(&out.Min, cur.Min, last.Min, want.Min)
	take(&out.Max, cur.Max, last.Max, want.Max)
	take(&out.Refill, cur.Refill, last.Refill, want.Refill)
	take(&out.Cancel, cur.Cancel, last.Cancel, want.Cancel)
	take(&out.Dripfeed, cur.Dripfeed, last.Dripfeed, want.Dripfeed)
	if last.Delisted && !cur.Enabled {
		out.Enabled = true
	}
	return out
}

// take sets *dst to the imported value w unless the current value c differs
// from what the last import set (l): then the operator changed it.
func take[T comparable](dst *T, c, l, w T) {
	if c == l {
		*dst = w
	}
}
