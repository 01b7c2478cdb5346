package main

import (
	"context"
	"fmt"
)

type backupCmd struct {
	File string `arg:"" type:"path" help:"Where to write the copy; must not exist yet."`
}

func (c *backupCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	if err := db.Backup(ctx, c.File); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "backup written to %s\n", c.File)
	return nil
}
