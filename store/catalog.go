package store

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Service types (API.md §3).
const (
	TypeDefault      = "Default"
	TypePackage      = "Package"
	TypeComments     = "Custom Comments"
	TypeMentionsList = "Mentions Custom List"
	TypeCommentLikes = "Comment Likes"
	TypePoll         = "Poll"
)

// ServiceTypes lists every supported service type.
var ServiceTypes = []string{TypeDefault, TypePackage, TypeComments, TypeMentionsList, TypeCommentLikes, TypePoll}

// Upstream dialects.
const (
	DialectClassic  = "classic"
	DialectNotpanel = "notpanel"
)

// MaxQuantity bounds a service's max (and so any order's quantity).
const MaxQuantity = 1_000_000_000

// Provider is an upstream panel orders are forwarded to.
type Provider struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	URL     string `json:"url"`
	APIKey  string `json:"-"`
	Dialect string `json:"dialect"`
	Status  string `json:"status"`
	// PausedReason says why the worker stopped calling the provider.
	PausedReason string `json:"paused_reason,omitempty"`
	Created      int64  `json:"created"`
	// Settings is what the operator set (provider set); State what the
	// worker learnt. Both are read by FindProvider and ListProviders only:
	// the worker's job listings carry the fields above.
	Settings ProviderSettings `json:"settings"`
	State    ProviderState    `json:"state"`
}

// Service is one entry of the catalog.
type Service struct {
	ID              int64  `json:"service"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	Category        string `json:"category"`
	Rate            int64  `json:"rate"`
	Min             int64  `json:"min"`
	Max             int64  `json:"max"`
	Refill          bool   `json:"refill"`
	Cancel          bool   `json:"cancel"`
	Dripfeed        bool   `json:"dripfeed"`
	Enabled         bool   `json:"enabled"`
	ProviderID      int64  `json:"provider_id"`
	Provider        string `json:"provider"`
	ProviderService string `json:"provider_service"`
	// Description tells customers what they get (speed, quality, refill
	// terms); plain text, shown on the storefront's catalog.
	Description string `json:"description,omitempty"`
	// BackupProviderID (0 when none) takes the orders its provider
	// definitely refuses and cannot take now, as BackupProviderService.
	BackupProviderID      int64  `json:"backup_provider_id,omitempty"`
	BackupProvider        string `json:"backup_provider,omitempty"`
	BackupProviderService string `json:"backup_provider_service,omitempty"`
	// Warning says why the catalog sync disabled the service.
	Warning string `json:"warning,omitempty"`
}

// AddProvider registers an upstream provider.
func (db *DB) AddProvider(ctx context.Context, p Provider) (Provider, error) {
	if err := validName("provider", p.Name); err != nil {
		return p, err
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p, Errorf(Invalid, "Invalid provider URL %q: want http(s)://host/path", p.URL)
	}
	if p.APIKey == "" {
		return p, Errorf(Invalid, "Missing provider key")
	}
	if p.Dialect == "" {
		p.Dialect = DialectClassic
	}
	if p.Dialect != DialectClassic && p.Dialect != DialectNotpanel {
		return p, Errorf(Invalid, "Invalid dialect %q: want classic or notpanel", p.Dialect)
	}
	p.Status, p.Created = "active", db.unix()
	p.Settings = ProviderSettings{Concurrency: DefaultConcurrency}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM providers WHERE name = ?`, p.Name).Scan(&n); err != nil {
			return internal("read provider", err)
		}
		if n > 0 {
			return Errorf(Conflict, "Provider %q already exists", p.Name)
		}
		err := tx.QueryRowContext(ctx,
			`INSERT INTO providers (name, url, api_key, dialect, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			p.Name, p.URL, p.APIKey, p.Dialect, p.Created).Scan(&p.ID)
		if err != nil {
			return internal("insert provider", err)
		}
		return bumpConfig(ctx, tx)
	})
	return p, err
}

// providerCols are the columns a worker's job needs to call a provider.
const providerCols = `p.id, p.name, p.url, p.api_key, p.dialect, p.status, p.paused_reason, p.created_at`

// providerAllCols adds the settings and the state to providerCols.
const providerAllCols = providerCols + `, p.concurrency, p.per_minute, p.markup_bp, p.catalog_sync, p.low_balance,
	coalesce(p.pace, 0), p.pace_hold, p.pace_reason, coalesce(p.pace_at, 0), coalesce(p.catalog_at, 0), p.catalog_error,
	p.balance, p.balance_currency, coalesce(p.balance_at, 0), p.balance_error, p.upkeep_next`

func scanProvider(row interface{ Scan(...any) error }) (Provider, error) {
	var p Provider
	c, s := &p.Settings, &p.State
	var hold int64
	err := row.Scan(&p.ID, &p.Name, &p.URL, &p.APIKey, &p.Dialect, &p.Status, &p.PausedReason, &p.Created,
		&c.Concurrency, &c.PerMinute, &c.MarkupBP, &c.CatalogSync, &c.LowBalance,
		&s.Pace, &hold, &s.PaceReason, &s.PaceAt, &s.CatalogAt, &s.CatalogError,
		&s.Balance, &s.BalanceCurrency, &s.BalanceAt, &s.BalanceError, &s.UpkeepNext)
	c.CatalogSync *= time.Second
	s.PaceHold = time.Duration(hold) * time.Millisecond
	return p, err
}

// FindProvider returns the provider named by ref: its name or numeric id.
func (db *DB) FindProvider(ctx context.Context, ref string) (Provider, error) {
	q, arg := `SELECT `+providerAllCols+` FROM providers p WHERE name = ?`, any(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		q, arg = `SELECT `+providerAllCols+` FROM providers p WHERE id = ?`, id
	}
	p, err := scanProvider(db.read.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return p, Errorf(NotFound, "Provider %q not found", ref)
	}
	return p, internal("read provider", err)
}

// ListProviders returns every provider, by id.
func (db *DB) ListProviders(ctx context.Context) ([]Provider, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+providerAllCols+` FROM providers p ORDER BY id`)
	if err != nil {
		return nil, internal("list providers", err)
	}
	defer rows.Close()
	out := []Provider{}
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, internal("list providers", err)
		}
		out = append(out, p)
	}
	return out, internal("list providers", rows.Err())
}

func validateService(s *Service) error {
	s.Name, s.Category = strings.TrimSpace(s.Name), strings.TrimSpace(s.Category)
	switch {
	case s.Name == "" || len(s.Name) > 200:
		return Errorf(Invalid, "Service name must be 1 to 200 characters")
	case s.Category == "" || len(s.Category) > 200:
		return Errorf(Invalid, "Service category must be 1 to 200 characters")
	case s.Rate < 0 || s.Rate > MaxAmount:
		return Errorf(Invalid, "Service rate must be between 0 and %s", FormatMoney(MaxAmount))
	case s.Min < 1 || s.Max < s.Min || s.Max > MaxQuantity:
		return Errorf(Invalid, "Service needs 1 <= min <= max <= %d (got min %d, max %d)", MaxQuantity, s.Min, s.Max)
	case s.ProviderService == "" || len(s.ProviderService) > 100:
		return Errorf(Invalid, "Service needs the provider's service id")
	case len(s.Description) > 5000 || !utf8.ValidString(s.Description):
		return Errorf(Invalid, "Service description must be text of at most 5000 bytes")
	case s.Dripfeed && s.Type != TypeDefault:
		return Errorf(Invalid, "Only Default services can be drip-fed")
	}
	for _, t := range ServiceTypes {
		if s.Type == t {
			return nil
		}
	}
	return Errorf(Invalid, "Invalid service type %q: want one of %s", s.Type, strings.Join(ServiceTypes, ", "))
}

// AddService adds a service to the catalog, enabled, and returns it.
func (db *DB) AddService(ctx context.Context, s Service, provider string) (Service, error) {
	p, err := db.FindProvider(ctx, provider)
	if err != nil {
		return s, err
	}
	s.ProviderID, s.Provider, s.Enabled = p.ID, p.Name, true
	if err := validateService(&s); err != nil {
		return s, err
	}
	now := db.unix()
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO services (name, category, type, rate, min, max, refill, cancel, dripfeed, enabled,
			   provider_id, provider_service, description, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING id`,
			s.Name, s.Category, s.Type, s.Rate, s.Min, s.Max, s.Refill, s.Cancel, s.Dripfeed,
			s.ProviderID, s.ProviderService, s.Description, now, now).Scan(&s.ID)
		if err != nil {
			return internal("insert service", err)
		}
		return bumpConfig(ctx, tx)
	})
	return s, err
}

// serviceCols are read FROM serviceTables.
const (
	serviceCols = `s.id, s.name, s.type, s.category, s.rate, s.min, s.max, s.refill, s.cancel, s.dripfeed,
	s.enabled, s.provider_id, p.name, s.provider_service, s.description, coalesce(s.backup_provider_id, 0),
	coalesce(b.name, ''), coalesce(s.backup_provider_service, ''), s.warning`
	serviceTables = `services s JOIN providers p ON p.id = s.provider_id LEFT JOIN providers b ON b.id = s.backup_provider_id`
)

func scanService(row interface{ Scan(...any) error }, more ...any) (Service, error) {
	var s Service
	err := row.Scan(append([]any{&s.ID, &s.Name, &s.Type, &s.Category, &s.Rate, &s.Min, &s.Max, &s.Refill, &s.Cancel,
		&s.Dripfeed, &s.Enabled, &s.ProviderID, &s.Provider, &s.ProviderService, &s.Description, &s.BackupProviderID,
		&s.BackupProvider, &s.BackupProviderService, &s.Warning}, more...)...)
	return s, err
}

// Service returns one service, enabled or not.
func (db *DB) Service(ctx context.Context, id int64) (Service, error) {
	s, err := scanService(db.read.QueryRowContext(ctx, `SELECT `+serviceCols+` FROM `+serviceTables+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrServiceNotFound
	}
	return s, internal("read service", err)
}

// Services lists the catalog ordered by category then id; only enabled
// services unless all is set.
func (db *DB) Services(ctx context.Context, all bool) ([]Service, error) {
	q := `SELECT ` + serviceCols + ` FROM ` + serviceTables
	if !all {
		q += ` WHERE s.enabled = 1`
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY s.category, s.id`)
	if err != nil {
		return nil, internal("list services", err)
	}
	defer rows.Close()
	out := []Service{}
	for rows.Next() {
		s, err := scanService(rows)
		if err != nil {
			return nil, internal("list services", err)
		}
		out = append(out, s)
	}
	return out, internal("list services", rows.Err())
}

// ServicePatch holds the fields of a service to change; nil leaves a field.
type ServicePatch struct {
	Name, Category, Type, ProviderService *string
	Description                           *string
	Rate, Min, Max                        *int64
	Refill, Cancel, Dripfeed, Enabled     *bool
	// BackupProvider names the backup provider ("" for none), with the
	// service's id there in BackupProviderService.
	BackupProvider, BackupProviderService *string
}

// UpdateService changes a service. Orders already placed keep the price and
// terms they were placed with. A change of rate or of enabled clears the
// warning of a catalog sync that disabled the service: the operator has seen
// to it (the next sync warns again if the rate is still below the
// provider's).
func (db *DB) UpdateService(ctx context.Context, id int64, p ServicePatch) (Service, error) {
	s, err := db.Service(ctx, id)
	if err != nil {
		return s, err
	}
	if err := db.setBackup(ctx, &s, p); err != nil {
		return s, err
	}
	seen := p.Rate != nil || p.Enabled != nil
	if seen {
		s.Warning = ""
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&s.Name, p.Name)
	set(&s.Category, p.Category)
	set(&s.Type, p.Type)
	set(&s.ProviderService, p.ProviderService)
	set(&s.Description, p.Description)
	for _, f := range []struct {
		dst *int64
		src *int64
	}{{&s.Rate, p.Rate}, {&s.Min, p.Min}, {&s.Max, p.Max}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct {
		dst *bool
		src *bool
	}{{&s.Refill, p.Refill}, {&s.Cancel, p.Cancel}, {&s.Dripfeed, p.Dripfeed}, {&s.Enabled, p.Enabled}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := validateService(&s); err != nil {
		return s, err
	}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE services SET name = ?, category = ?, type = ?, rate = ?, min = ?, max = ?, refill = ?,
			   cancel = ?, dripfeed = ?, enabled = ?, provider_service = ?, backup_provider_id = nullif(?, 0),
			   backup_provider_service = nullif(?, ''), warning = ?,
			   imported = CASE WHEN ? THEN json_remove(imported, '$.loss') ELSE imported END, updated_at = ?
			 WHERE id = ?`,
			s.Name, s.Category, s.Type, s.Rate, s.Min, s.Max, s.Refill, s.Cancel, s.Dripfeed, s.Enabled,
			s.ProviderService, s.BackupProviderID, s.BackupProviderService, s.Warning, seen, db.unix(), s.ID)
		if err != nil {
			return internal("update service", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrServiceNotFound
		}
		if p.Description != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE services SET description = ? WHERE id = ?`, s.Description, s.ID); err != nil {
				return internal("update service", err)
			}
		}
		return bumpConfig(ctx, tx)
	})
	return s, err
}

// setBackup applies the backup provider of patch p to s.
func (db *DB) setBackup(ctx context.Context, s *Service, p ServicePatch) error {
	if p.BackupProvider == nil && p.BackupProviderService == nil {
		return nil
	}
	if p.BackupProvider != nil && *p.BackupProvider == "" {
		if p.BackupProviderService != nil && *p.BackupProviderService != "" {
			return Errorf(Invalid, "A backup provider service needs a backup provider")
		}
		s.BackupProviderID, s.BackupProvider, s.BackupProviderService = 0, "", ""
		return nil
	}
	if p.BackupProvider != nil {
		b, err := db.FindProvider(ctx, *p.BackupProvider)
		if err != nil {
			return err
		}
		s.BackupProviderID, s.BackupProvider = b.ID, b.Name
	}
	if p.BackupProviderService != nil {
		s.BackupProviderService = strings.TrimSpace(*p.BackupProviderService)
	}
	switch {
	case s.BackupProviderID == 0:
		return Errorf(Invalid, "A backup provider service needs a backup provider")
	case s.BackupProviderID == s.ProviderID:
		return Errorf(Invalid, "The backup provider must differ from the service's provider (%s)", s.Provider)
	case s.BackupProviderService == "" || len(s.BackupProviderService) > 100:
		return Errorf(Invalid, "A backup provider needs the service's id there: give --backup-provider-service")
	}
	return nil
}
