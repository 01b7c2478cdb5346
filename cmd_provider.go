package main

import (
	"context"
	"fmt"
	"net/url"

	"notpanel/store"
)

type providerCmd struct {
	Add  providerAddCmd  `cmd:"" help:"Register an upstream provider; prints its id."`
	List providerListCmd `cmd:"" help:"List providers (their API keys are never shown)."`
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
			ID: p.ID, Name: p.Name, URL: redactURL(p.URL), Dialect: p.Dialect, Status: p.Status, Created: when(p.Created),
		})
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "ID", "NAME", "URL", "DIALECT", "STATUS", "CREATED")
	for _, r := range rows {
		t.row(count(r.ID), r.Name, r.URL, r.Dialect, r.Status, r.Created)
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
