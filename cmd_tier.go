package main

import (
	"context"
	"fmt"

	"notpanel/store"
)

type tierCmd struct {
	Set  tierSetCmd  `cmd:"" help:"Create a tier or change its limits; a running server applies them on its next request."`
	List tierListCmd `cmd:"" help:"List tiers and their limits."`
}

type tierSetCmd struct {
	Name          string `arg:"" help:"Tier name, e.g. standard, reseller, agency."`
	KeyPerMin     *int64 `name:"key-per-min" placeholder:"N" help:"Requests per minute one API key may make (required for a new tier)."`
	AccountPerMin *int64 `name:"account-per-min" placeholder:"N" help:"Requests per minute one account may make over all its keys (required for a new tier)."`
}

func (c *tierSetCmd) Run(ctx context.Context, a *app) error {
	if c.KeyPerMin == nil && c.AccountPerMin == nil {
		return fmt.Errorf("nothing to change: give --key-per-min and/or --account-per-min")
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	tiers, err := db.Tiers(ctx)
	if err != nil {
		return err
	}
	t := store.Tier{Name: c.Name}
	found := false
	for _, old := range tiers {
		if old.Name == c.Name {
			t, found = old, true
		}
	}
	if !found && (c.KeyPerMin == nil || c.AccountPerMin == nil) {
		return fmt.Errorf("tier %q is new: give both --key-per-min and --account-per-min", c.Name)
	}
	if c.KeyPerMin != nil {
		t.KeyPerMin = *c.KeyPerMin
	}
	if c.AccountPerMin != nil {
		t.AccountPerMin = *c.AccountPerMin
	}
	if err := db.SetTier(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "tier %s: %d requests/min per key, %d per account\n", t.Name, t.KeyPerMin, t.AccountPerMin)
	return nil
}

type tierListCmd struct {
	JSON bool `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *tierListCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	tiers, err := db.Tiers(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		if tiers == nil {
			tiers = []store.Tier{}
		}
		return writeJSON(a.stdout, tiers)
	}
	t := newTable(a.stdout, "NAME", "PER KEY/MIN", "PER ACCOUNT/MIN")
	for _, tier := range tiers {
		t.row(tier.Name, count(tier.KeyPerMin), count(tier.AccountPerMin))
	}
	return t.flush()
}
