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
	// Losses are the services this import disabled because the operator's
	// own rate is now below the provider's.
	Losses []Loss
}

// Loss is a service disabled because its rate, set by hand, is below what
// the provider charges for it.
type Loss struct {
	ServiceID  int64
	Name       string
	Rate, Cost int64
	Warning    string
}

// lossWarning explains a service disabled for selling at a loss.
func lossWarning(rate, cost int64) string {
	return "rate " + FormatMoney(rate) + " is below the provider's " + FormatMoney(cost) +
		": disabled so as not to sell at a loss; raise it (service set --rate) and enable it again"
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
	// Loss is set when the import disabled the service because its rate,
	// set by hand, is below the provider's; it is enabled again when that
	// is no longer so, unless the operator changed its rate or enabled it
	// meanwhile (UpdateService removes the flag).
	Loss bool `json:"loss,omitempty"`
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
// services the provider no longer lists are disabled. A rate the operator
// set by hand that is now below the provider's disables its service, with a
// warning, so that it is never sold at a loss: imported services are
// enabled again once it no longer is, services added by hand are left to
// the operator. Entries of types notpanel does not sell, or that do not
// validate, are skipped. Orders already placed keep their price.
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
			if ok {
				s, want.Loss = checkLoss(cur, s, want, it.Rate, &res)
			}
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
					   cancel = ?, dripfeed = ?, enabled = ?, warning = ?, imported = ?, updated_at = ? WHERE id = ?`,
					s.Name, s.Category, s.Type, s.Rate, s.Min, s.Max, s.Refill, s.Cancel, s.Dripfeed, s.Enabled,
					s.Warning, string(blob), now, cur.svc.ID)
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
		if err := disableHandSetLosses(ctx, tx, p.ID, items, now, &res); err != nil {
			return err
		}
		return bumpConfig(ctx, tx)
	})
	return res, err
}

// checkLoss disables s, merged from cur and want, when its rate was set by
// hand (it is not the imported one) and is below cost, the provider's
// rate; or enables it again when the last import disabled it so and that is
// no longer the case. loss is what the import records.
func checkLoss(cur importTarget, s Service, want importedValues, cost int64, res *ImportResult) (_ Service, loss bool) {
	atLoss := s.Rate != want.Rate && s.Rate < cost
	switch {
	case atLoss && cur.svc.Enabled:
		s.Enabled, s.Warning = false, lossWarning(s.Rate, cost)
		res.Losses = append(res.Losses, Loss{ServiceID: cur.svc.ID, Name: s.Name, Rate: s.Rate, Cost: cost, Warning: s.Warning})
		return s, true
	case atLoss && cur.last.Loss:
		s.Enabled, s.Warning = false, lossWarning(s.Rate, cost) // still at a loss
		return s, true
	case cur.last.Loss:
		s.Enabled, s.Warning = true, ""
	}
	return s, false
}

// disableHandSetLosses disables the provider's enabled services that the
// operator added by hand (not imported) and that sell below the rate the
// provider lists for them, with a warning.
func disableHandSetLosses(ctx context.Context, tx *Tx, providerID int64, items []ImportedService, now int64, res *ImportResult) error {
	costs := make(map[string]int64, len(items))
	for _, it := range items {
		costs[it.ProviderService] = it.Rate
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, name, rate, provider_service FROM services
		WHERE provider_id = ? AND imported IS NULL AND enabled = 1`, providerID)
	if err != nil {
		return internal("read services added by hand", err)
	}
	var losses []Loss
	for rows.Next() {
		var l Loss
		var ps string
		if err := rows.Scan(&l.ServiceID, &l.Name, &l.Rate, &ps); err != nil {
			rows.Close()
			return internal("read services added by hand", err)
		}
		if cost, listed := costs[ps]; listed && l.Rate < cost {
			l.Cost, l.Warning = cost, lossWarning(l.Rate, cost)
			losses = append(losses, l)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal("read services added by hand", err)
	}
	for _, l := range losses {
		if _, err := tx.ExecContext(ctx, `UPDATE services SET enabled = 0, warning = ?, updated_at = ? WHERE id = ?`,
			l.Warning, now, l.ServiceID); err != nil {
			return internal("disable service sold at a loss", err)
		}
	}
	res.Losses = append(res.Losses, losses...)
	return nil
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
		`SELECT `+serviceCols+`, s.imported FROM `+serviceTables+`
		 WHERE s.provider_id = ? AND s.imported IS NOT NULL`, providerID)
	if err != nil {
		return nil, internal("read imported services", err)
	}
	defer rows.Close()
	out := map[string]importTarget{}
	for rows.Next() {
		var t importTarget
		var blob string
		var err error
		if t.svc, err = scanService(rows, &blob); err != nil {
			return nil, internal("read imported services", err)
		}
		if err := json.Unmarshal([]byte(blob), &t.last); err != nil {
			return nil, internal("read imported values", errors.New(strings.TrimSpace(err.Error())))
		}
		out[t.svc.ProviderService] = t
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
