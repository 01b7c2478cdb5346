package main

import (
	"context"
	"fmt"
	"time"

	"notpanel/store"
)

type inviteCmd struct {
	Create inviteCreateCmd `cmd:"" help:"Print a one-time invitation code, good for 30 days, that lets one customer sign up."`
}

type inviteCreateCmd struct{}

func (c *inviteCreateCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	code, err := db.CreateInvite(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, code)
	fmt.Fprintf(a.stderr, "invitation code for one sign-up, until %s; it is stored only as a hash, so copy it now. "+
		"Sign-up asks for it when serve runs with --signup invite\n", when(time.Now().Add(store.InviteTTL).Unix()))
	return nil
}
