package main

import (
	"context"
	"fmt"

	"notpanel/store"
)

type auditCmd struct{}

func (c *auditCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	violations, err := db.Audit(ctx)
	if err != nil {
		return err
	}
	for _, v := range violations {
		fmt.Fprintln(a.stdout, v)
	}
	if len(violations) > 0 {
		return fmt.Errorf("audit found %d violations of the ledger invariants", len(violations))
	}
	accounts, err := db.ListAccounts(ctx)
	if err != nil {
		return err
	}
	// Orders are never deleted (the ledger refers to them), so the newest
	// order's number is how many there are.
	var orders int64
	newest, err := db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator, Limit: 1})
	if err != nil {
		return err
	}
	if len(newest) == 1 {
		orders = newest[0].Number
	}
	fmt.Fprintf(a.stderr, "audit: ok (%d accounts, %d orders)\n", len(accounts), orders)
	return nil
}
