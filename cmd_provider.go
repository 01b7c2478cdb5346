package main

import (
	"context"
	"fmt"
	"net/url"

	"notpanel/store"
	"notpanel/upstream"
)

type providerCmd struct {
	Add     providerAddCmd     `cmd:"" help:"Register an upstream provider; prints its id."`
	List    providerListCmd    `cmd:"" help:"List providers (their API keys are never shown)."`
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
		rows = append(rows, providerJSON{
			ID: p.ID, Name: p.Name, URL: redactURL(p.URL), Dialect: p.Dialect, Status: p.Status, Paused: p.PausedReason,
			Created: when(p.Created),
		})
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "ID", "NAME", "URL", "DIALECT", "STATUS", "CREATED")
	for _, r := range rows {
		status := r.Status
		if r.Paused != "" {
			status += " (" + r.Paused + ")"
		}
		t.row(count(r.ID), r.Name, r.URL, r.Dialect, status, r.Created)
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
