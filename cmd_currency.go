package main

import (
	"context"
	"fmt"
	"strings"
)

type currencyCmd struct {
	Code string `arg:"" optional:"" help:"New three-letter currency code, e.g. EUR; omit to print the current one."`
}

func (c *currencyCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	if c.Code == "" {
		cur, err := db.Currency(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, cur)
		return nil
	}
	code := strings.ToUpper(c.Code)
	if err := db.SetCurrency(ctx, code); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "currency set to %s; existing balances and prices keep their numbers, nothing is converted\n", code)
	return nil
}
