package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"notpanel/store"
	"notpanel/upstream"
)

type providerCmd struct {
	Add     providerAddCmd     `cmd:"" help:"Register an upstream provider; prints its id."`
	Set     providerSetCmd     `cmd:"" help:"Change how a provider is called and looked after: its pace, catalog sync and low-balance mark. A running server applies it within seconds."`
	List    providerListCmd    `cmd:"" help:"List providers with their pace, balance and catalog sync (their API keys are never shown)."`
	Balance providerBalanceCmd `cmd:"" help:"Ask a provider for our balance there."`
	Resume  providerResumeCmd  `cmd:"" help:"Let the worker call a provider it paused (after it refused our key) again."`
}

type providerAddCmd struct {
	Name    string `arg:"" help:"Provider name, used by service add --provider."`
	URL     string `name:"url" required:"" placeholder:"URL" help:"The provider's API v2 endpoint, e.g. https://provider.example/api/v2."`
	Key     string `required:"" placeholder:"KEY" help:"Your API key at the provider."`
	Dialect string `enum:"classic,notpanel" default:"classic" help:"How the provider speaks API v2: classic (what most panels serve) or notpanel (another notpanel; retried orders are never doubled)."`
}

func (c *providerAddCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	p, err := db.AddProvider(ctx, store.Provider{Name: c.Name, URL: c.URL, APIKey: c.Key, Dialect: c.Dialect})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, p.ID)
	return nil
}

type providerSetCmd struct {
	Name        string         `arg:"" help:"Provider name or id."`
	Concurrency *int           `placeholder:"N" help:"Calls in flight to the provider at once (default 16, 1 to 1000). Dispatch runs at about N divided by the provider's answer time, in orders a second."`
	PerMinute   *int           `name:"per-minute" placeholder:"N" help:"At most N calls a minute, spread evenly; 0 for no cap (the default)."`
	Markup      *string        `placeholder:"PCT" help:"Markup over the provider's rates, in percent (e.g. 25 or 12.5), for the catalog sync; service import uses it when given none."`
	CatalogSync *time.Duration `name:"catalog-sync" placeholder:"DURATION" help:"Import the provider's catalog this often (e.g. 1h; 0 stops it), as service import does: rates follow the provider at the markup unless set by hand, and a hand-set rate below the provider's disables its service with a warning."`
	LowBalance  *string        `name:"low-balance" placeholder:"AMOUNT" help:"Warn in the log when our balance at the provider, read on the catalog schedule or hourly, falls below AMOUNT; 0 removes the mark."`
}

func (c *providerSetCmd) Run(ctx context.Context, a *app) error {
	patch := store.ProviderPatch{Concurrency: c.Concurrency, PerMinute: c.PerMinute, CatalogSync: c.CatalogSync}
	if c.Markup != nil {
		bp, err := parseMarkup(*c.Markup)
		if err != nil {
			return err
		}
		patch.MarkupBP = &bp
	}
	if c.LowBalance != nil {
		low, err := store.ParseMoney(*c.LowBalance)
		if err != nil || low < 0 {
			return fmt.Errorf("--low-balance: want an amount of 0 or more, e.g. 20.00 (got %q)", *c.LowBalance)
		}
		if low == 0 {
			low = -1
		}
		patch.LowBalance = &low
	}
	if patch == (store.ProviderPatch{}) {
		return errors.New("nothing to change: give at least one flag (see notpanel provider set --help)")
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	p, err := db.UpdateProvider(ctx, c.Name, patch)
	if err != nil {
		return err
	}
	r := toProviderJSON(p)
	fmt.Fprintf(a.stderr, "provider %s: %s; catalog %s; low-balance mark %s. A running server applies this within seconds.\n",
		p.Name, r.pace(), r.catalog(), or(r.LowBalance, "none"))
	return nil
}

// providerJSON leaves out the provider's API key on purpose: list output
// ends up in terminals, logs and tickets.
type providerJSON struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	URL     string `json:"url"`
	Dialect string `json:"dialect"`
	Status  string `json:"status"`
	Paused  string `json:"paused_reason,omitempty"`
	Created string `json:"created"`

	Concurrency int    `json:"concurrency"`
	PerMinute   int    `json:"per_minute"`
	Pace        int    `json:"pace"`                  // calls at once allowed now
	PaceHold    string `json:"pace_hold,omitempty"`   // how long calls were held
	PaceReason  string `json:"pace_reason,omitempty"` // why the pace is lowered
	PaceSince   string `json:"pace_since,omitempty"`

	Markup        string `json:"markup,omitempty"`
	CatalogSync   string `json:"catalog_sync,omitempty"`
	CatalogSynced string `json:"catalog_synced,omitempty"`
	CatalogError  string `json:"catalog_error,omitempty"`

	Balance         string `json:"balance,omitempty"`
	BalanceCurrency string `json:"balance_currency,omitempty"`
	BalanceAt       string `json:"balance_at,omitempty"`
	BalanceError    string `json:"balance_error,omitempty"`
	LowBalance      string `json:"low_balance,omitempty"`
	BalanceLow      bool   `json:"balance_low,omitempty"`
}

func toProviderJSON(p store.Provider) providerJSON {
	set, st := p.Settings, p.State
	r := providerJSON{
		ID: p.ID, Name: p.Name, URL: redactURL(p.URL), Dialect: p.Dialect, Status: p.Status, Paused: p.PausedReason,
		Created: when(p.Created), Concurrency: set.Concurrency, PerMinute: set.PerMinute, Pace: set.Concurrency,
		CatalogError: st.CatalogError, BalanceCurrency: st.BalanceCurrency, BalanceError: st.BalanceError,
	}
	if st.Pace > 0 || st.PaceHold > 0 {
		r.Pace, r.PaceReason, r.PaceSince = min(max(st.Pace, 1), set.Concurrency), st.PaceReason, when(st.PaceAt)
		if st.Pace == 0 {
			r.Pace = set.Concurrency
		}
		if st.PaceHold > 0 {
			r.PaceHold = st.PaceHold.String()
		}
	}
	if set.MarkupBP != nil {
		r.Markup = strconv.FormatFloat(float64(*set.MarkupBP)/100, 'f', -1, 64)
	}
	if set.CatalogSync > 0 {
		r.CatalogSync, r.CatalogSynced = set.CatalogSync.String(), when(st.CatalogAt)
	}
	if st.Balance != nil {
		r.Balance, r.BalanceAt = store.FormatMoney(*st.Balance), when(st.BalanceAt)
	}
	if set.LowBalance != nil {
		r.LowBalance = store.FormatMoney(*set.LowBalance)
		r.BalanceLow = st.Balance != nil && *st.Balance < *set.LowBalance
	}
	return r
}

// pace describes the provider's pace for the table.
func (r providerJSON) pace() string {
	out := fmt.Sprintf("%d at once", r.Concurrency)
	if r.Pace < r.Concurrency || r.PaceHold != "" {
		out = fmt.Sprintf("%d of %d at once", r.Pace, r.Concurrency)
	}
	if r.PerMinute > 0 {
		out += fmt.Sprintf(", %d/min", r.PerMinute)
	}
	if r.PaceReason != "" {
		lowered := "lowered"
		if r.PaceHold != "" {
			lowered = "calls held " + r.PaceHold
		}
		out += " (" + lowered + ": " + r.PaceReason + ")"
	}
	return out
}

// catalog describes the catalog sync for the table.
func (r providerJSON) catalog() string {
	if r.CatalogSync == "" {
		if r.Markup != "" {
			return "not synced (markup " + r.Markup + " %)"
		}
		return "not synced"
	}
	out := "every " + r.CatalogSync + " at " + r.Markup + " %"
	switch {
	case r.CatalogError != "":
		out += " (last try failed: " + r.CatalogError + ")"
	case r.CatalogSynced != "":
		out += ", synced " + r.CatalogSynced
	}
	return out
}

// balance describes our balance at the provider for the table.
func (r providerJSON) balance() string {
	out := "not read yet"
	if r.Balance != "" {
		out = strings.TrimSpace(r.Balance + " " + r.BalanceCurrency)
	}
	if r.BalanceLow {
		out += " (below " + r.LowBalance + ")"
	}
	if r.BalanceError != "" {
		out += " (last read failed: " + r.BalanceError + ")"
	}
	return out
}

// or is s, or alt when s is empty.
func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

type providerListCmd struct {
	JSON bool `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *providerListCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	providers, err := db.ListProviders(ctx)
	if err != nil {
		return err
	}
	rows := make([]providerJSON, 0, len(providers))
	for _, p := range providers {
		rows = append(rows, toProviderJSON(p))
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "ID", "NAME", "URL", "DIALECT", "STATUS", "PACE", "BALANCE", "CATALOG", "CREATED")
	for _, r := range rows {
		status := r.Status
		if r.Paused != "" {
			status += " (" + r.Paused + ")"
		}
		t.row(count(r.ID), r.Name, r.URL, r.Dialect, status, r.pace(), r.balance(), r.catalog(), r.Created)
	}
	return t.flush()
}

// redactURL hides a password in the URL, since some providers take
// credentials there.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}

type providerBalanceCmd struct {
	Name string `arg:"" help:"Provider name or id."`
}

func (c *providerBalanceCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	p, err := db.FindProvider(ctx, c.Name)
	if err != nil {
		return err
	}
	balance, currency, err := upstream.New(p, 0).Balance(ctx)
	if err != nil {
		return fmt.Errorf("provider %s: %w", p.Name, err)
	}
	fmt.Fprintf(a.stdout, "%s %s\n", store.FormatMoney(balance), currency)
	return nil
}

type providerResumeCmd struct {
	Name string `arg:"" help:"Provider name or id."`
}

func (c *providerResumeCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	p, err := db.ResumeProvider(ctx, c.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "provider %s is active again\n", p.Name)
	return nil
}
