package store

import (
	"context"
	"time"
)

// Bounds of a provider's settings.
const (
	DefaultConcurrency = 16
	MaxConcurrency     = 1000
	MaxPerMinute       = 1_000_000
	// MinCatalogSync is the shortest catalog schedule: a catalog is a large
	// answer, and providers change prices far less often.
	MinCatalogSync = time.Minute
	// UpkeepInterval is how often the balance is read when the catalog is
	// not synced.
	UpkeepInterval = time.Hour
)

// ProviderSettings is how the operator wants a provider called.
type ProviderSettings struct {
	// Concurrency is how many calls may be in flight to it at once.
	Concurrency int `json:"concurrency"`
	// PerMinute caps the calls a minute; 0 for no cap.
	PerMinute int `json:"per_minute"`
	// MarkupBP is the markup of its catalog in basis points; nil until set.
	MarkupBP *int64 `json:"markup_bp,omitempty"`
	// CatalogSync is how often the worker imports its catalog; 0 for never.
	CatalogSync time.Duration `json:"catalog_sync"`
	// LowBalance is the balance below which the worker warns; nil for none.
	LowBalance *int64 `json:"low_balance,omitempty"`
}

// Upkeep is how often the worker reads the provider's balance, and its
// catalog when it syncs it.
func (s ProviderSettings) Upkeep() time.Duration {
	if s.CatalogSync > 0 {
		return s.CatalogSync
	}
	return UpkeepInterval
}

// ProviderState is what the worker learnt about a provider.
type ProviderState struct {
	// Pace is how many calls at once the worker allows itself after the
	// provider said it was too busy; 0 when it keeps the operator's pace.
	Pace int `json:"pace,omitempty"`
	// PaceHold is how long it holds every call when even one at a time was
	// too many.
	PaceHold time.Duration `json:"pace_hold,omitempty"`
	// PaceReason says why the pace was lowered; PaceAt is when it last
	// changed (unix seconds).
	PaceReason string `json:"pace_reason,omitempty"`
	PaceAt     int64  `json:"pace_at,omitempty"`
	// CatalogAt is when the catalog was last imported on schedule, and
	// CatalogError what went wrong with the last try ("" when it worked).
	CatalogAt    int64  `json:"catalog_at,omitempty"`
	CatalogError string `json:"catalog_error,omitempty"`
	// Balance is our balance there as last read (nil before the first
	// read), in BalanceCurrency, at BalanceAt; BalanceError is what went
	// wrong with the last read.
	Balance         *int64 `json:"balance,omitempty"`
	BalanceCurrency string `json:"balance_currency,omitempty"`
	BalanceAt       int64  `json:"balance_at,omitempty"`
	BalanceError    string `json:"balance_error,omitempty"`
	// UpkeepNext is when the worker next reads the balance (and catalog).
	UpkeepNext int64 `json:"upkeep_next"`
}

// ProviderPatch holds the settings to change; nil leaves a setting.
type ProviderPatch struct {
	Concurrency, PerMinute *int
	MarkupBP               *int64
	CatalogSync            *time.Duration
	// LowBalance: a negative value removes the mark.
	LowBalance *int64
}

// UpdateProvider changes a provider's settings; a running worker applies
// them on its next pass. A changed catalog schedule or balance mark makes
// the balance (and the catalog) due at once, so that the operator sees the
// effect within seconds.
func (db *DB) UpdateProvider(ctx context.Context, ref string, patch ProviderPatch) (Provider, error) {
	p, err := db.FindProvider(ctx, ref)
	if err != nil {
		return p, err
	}
	s := &p.Settings
	if patch.Concurrency != nil {
		if c := *patch.Concurrency; c < 1 || c > MaxConcurrency {
			return p, Errorf(Invalid, "Concurrency must be between 1 and %d (got %d)", MaxConcurrency, c)
		}
		s.Concurrency = *patch.Concurrency
	}
	if patch.PerMinute != nil {
		if n := *patch.PerMinute; n < 0 || n > MaxPerMinute {
			return p, Errorf(Invalid, "Calls a minute must be between 0 (no cap) and %d (got %d)", MaxPerMinute, n)
		}
		s.PerMinute = *patch.PerMinute
	}
	if patch.MarkupBP != nil {
		if m := *patch.MarkupBP; m <= -10000 || m > 1_000_000 {
			return p, Errorf(Invalid, "Markup must be above -100 %% and at most 10000 %%")
		}
		s.MarkupBP = patch.MarkupBP
	}
	if patch.CatalogSync != nil {
		d := *patch.CatalogSync
		if d != 0 && (d < MinCatalogSync || d > 30*24*time.Hour) {
			return p, Errorf(Invalid, "Catalog sync must be 0 (off) or between %s and 30 days (got %s)", MinCatalogSync, d)
		}
		s.CatalogSync = d.Truncate(time.Second)
	}
	if patch.LowBalance != nil {
		if b := *patch.LowBalance; b < 0 {
			s.LowBalance = nil
		} else if b > MaxAmount {
			return p, Errorf(Invalid, "Low balance mark too large")
		} else {
			s.LowBalance = patch.LowBalance
		}
	}
	if s.CatalogSync > 0 && s.MarkupBP == nil {
		return p, Errorf(Invalid, "A catalog sync needs a markup: give --markup too")
	}
	upkeepNow := patch.CatalogSync != nil || patch.LowBalance != nil || patch.MarkupBP != nil && s.CatalogSync > 0
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE providers SET concurrency = ?, per_minute = ?, markup_bp = ?, catalog_sync = ?, low_balance = ?,
			   upkeep_next = CASE WHEN ? THEN 0 ELSE upkeep_next END
			 WHERE id = ?`,
			s.Concurrency, s.PerMinute, s.MarkupBP, int64(s.CatalogSync/time.Second), s.LowBalance, upkeepNow, p.ID)
		if err != nil {
			return internal("update provider", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Errorf(NotFound, "Provider %q not found", ref)
		}
		return nil
	})
	if err == nil && upkeepNow {
		p.State.UpkeepNext = 0
	}
	return p, err
}

// RecordPace keeps the pace the worker allows itself towards a provider,
// for provider list: pace calls at once (0 when back at the operator's
// pace), calls held for hold when one at a time was too many, and why.
func (db *DB) RecordPace(ctx context.Context, providerID int64, pace int, hold time.Duration, reason string, at int64) error {
	var p any
	if pace > 0 {
		p = pace
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE providers SET pace = ?, pace_hold = ?, pace_reason = ?, pace_at = ? WHERE id = ?`,
			p, hold.Milliseconds(), truncateText(reason, 300), at, providerID)
		return internal("record pace", err)
	})
}

// Upkeep is the outcome of one scheduled look at a provider.
type Upkeep struct {
	// Balance, Currency: the balance read, when BalanceError is "".
	Balance      int64
	Currency     string
	BalanceError string
	// Catalog: whether the catalog was imported (or tried); CatalogError is
	// what went wrong.
	Catalog      bool
	CatalogError string
	// Next is when to look again (unix seconds).
	Next int64
}

// RecordUpkeep keeps what a scheduled look at a provider found. A failed
// balance read keeps the last balance known.
func (db *DB) RecordUpkeep(ctx context.Context, providerID int64, u Upkeep) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		if _, err := tx.ExecContext(ctx, `UPDATE providers SET upkeep_next = ?, balance_error = ? WHERE id = ?`,
			u.Next, truncateText(u.BalanceError, 300), providerID); err != nil {
			return internal("record upkeep", err)
		}
		if u.BalanceError == "" {
			if _, err := tx.ExecContext(ctx,
				`UPDATE providers SET balance = ?, balance_currency = ?, balance_at = ? WHERE id = ?`,
				u.Balance, truncateText(u.Currency, 8), now, providerID); err != nil {
				return internal("record balance", err)
			}
		}
		if u.Catalog {
			if _, err := tx.ExecContext(ctx, `UPDATE providers SET catalog_at = ?, catalog_error = ? WHERE id = ?`,
				now, truncateText(u.CatalogError, 300), providerID); err != nil {
				return internal("record catalog sync", err)
			}
		}
		return nil
	})
}
