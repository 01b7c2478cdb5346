package main

import (
	"context"
	"fmt"

	"notpanel/store"
)

type fundsCmd struct {
	Add fundsAddCmd `cmd:"" help:"Add funds to an account, or deduct them with a negative amount; prints the new balance."`
}

type fundsAddCmd struct {
	User   string `arg:"" help:"Account name or id."`
	Amount string `arg:"" help:"Amount in the panel currency, e.g. 25 or 9.99; negative deducts (funds add alice -5)."`
	Note   string `placeholder:"TEXT" help:"Why, kept on the ledger row (e.g. a payment reference)."`
}

func (c *fundsAddCmd) Run(ctx context.Context, a *app) error {
	amount, err := store.ParseMoney(c.Amount)
	if err != nil {
		return err
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	balance, err := db.AddFunds(ctx, c.User, amount, c.Note)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, store.FormatMoney(balance))
	return nil
}
