package main

import (
	"context"
	"fmt"

	"notpanel/store"
)

type keyCmd struct {
	Create keyCreateCmd `cmd:"" help:"Create an API key for an account; prints the raw key, which is shown only this once."`
	List   keyListCmd   `cmd:"" help:"List an account's keys, revoked ones included (never the keys themselves)."`
	Revoke keyRevokeCmd `cmd:"" help:"Revoke a key; the next request made with it is refused."`
}

// keyJSON describes a key; only its first characters are ever shown again.
type keyJSON struct {
	ID      string `json:"id"`
	Prefix  string `json:"prefix"`
	Label   string `json:"label,omitempty"`
	Status  string `json:"status"`
	Created string `json:"created"`
	Revoked string `json:"revoked,omitempty"`
}

func keyRows(keys []store.APIKey) []keyJSON {
	rows := make([]keyJSON, 0, len(keys))
	for _, k := range keys {
		r := keyJSON{ID: k.ID, Prefix: k.Prefix, Label: k.Label, Status: "active", Created: when(k.Created)}
		if k.Revoked != 0 {
			r.Status, r.Revoked = "revoked", when(k.Revoked)
		}
		rows = append(rows, r)
	}
	return rows
}

type keyCreateCmd struct {
	User string `arg:"" help:"Account name or id."`
}

func (c *keyCreateCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	raw, k, err := db.CreateKey(ctx, c.User)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, raw)
	fmt.Fprintf(a.stderr, "key %s created; it is stored only as a hash, so copy it now\n", k.ID)
	return nil
}

type keyListCmd struct {
	User string `arg:"" help:"Account name or id."`
	JSON bool   `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *keyListCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	keys, err := db.ListKeys(ctx, c.User)
	if err != nil {
		return err
	}
	rows := keyRows(keys)
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "ID", "PREFIX", "STATUS", "CREATED", "REVOKED", "LABEL")
	for _, r := range rows {
		t.row(r.ID, r.Prefix+"…", r.Status, r.Created, r.Revoked, r.Label)
	}
	return t.flush()
}

type keyRevokeCmd struct {
	ID string `arg:"" name:"keyid" help:"Key id (key_…), as key list shows it."`
}

func (c *keyRevokeCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	if err := db.RevokeKey(ctx, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "key %s revoked\n", c.ID)
	return nil
}
