package main

import (
	"context"
	"fmt"
	"strings"

	"notpanel/store"
)

type userCmd struct {
	Add           userAddCmd           `cmd:"" help:"Create a customer account with a zero balance; prints its id."`
	List          userListCmd          `cmd:"" help:"List customer accounts."`
	Show          userShowCmd          `cmd:"" help:"Show one account and its keys."`
	Suspend       userSuspendCmd       `cmd:"" help:"Suspend an account: its keys are refused from the next request on, and its browsers are signed out."`
	Unsuspend     userUnsuspendCmd     `cmd:"" help:"Reactivate a suspended account."`
	SetTier       userSetTierCmd       `cmd:"" name:"set-tier" help:"Move an account to another rate-limit tier."`
	SetLowBalance userSetLowBalanceCmd `cmd:"" name:"set-low-balance" help:"Set the account's low-balance threshold."`
	SetPassword   userSetPasswordCmd   `cmd:"" name:"set-password" help:"Set the password a customer signs in to the storefront with; signs the account's browsers out."`
	ResetLink     userResetLinkCmd     `cmd:"" name:"reset-link" help:"Print a one-time link, good for an hour, where the customer chooses a new password."`
	Reset2FA      userReset2FACmd      `cmd:"" name:"reset-2fa" help:"Turn two-factor sign-in off for a customer who lost the phone and the recovery codes."`
	Signout       userSignoutCmd       `cmd:"" help:"Sign every browser of the account out now (its API keys keep working)."`
}

// userJSON is an account as the CLI prints it: money as decimal strings.
type userJSON struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Tier       string `json:"tier"`
	Status     string `json:"status"`
	Balance    string `json:"balance"`
	LowBalance string `json:"low_balance"`
	Created    string `json:"created"`
}

func toUserJSON(a store.Account) userJSON {
	return userJSON{
		ID: a.ID, Name: a.Name, Tier: a.Tier, Status: a.Status,
		Balance: store.FormatMoney(a.Balance), LowBalance: store.FormatMoney(a.LowBalance), Created: when(a.Created),
	}
}

type userAddCmd struct {
	Name string `arg:"" help:"Account name: letters, digits and . _ - @ (not a number, numbers address ids)."`
	Tier string `default:"standard" placeholder:"TIER" help:"Rate-limit tier (see notpanel tier list)."`
}

func (c *userAddCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	acc, err := db.CreateAccount(ctx, c.Name, c.Tier)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, acc.ID)
	return nil
}

type userListCmd struct {
	JSON bool `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *userListCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	accounts, err := db.ListAccounts(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		rows := make([]userJSON, 0, len(accounts))
		for _, acc := range accounts {
			rows = append(rows, toUserJSON(acc))
		}
		return writeJSON(a.stdout, rows)
	}
	cur, err := db.Currency(ctx)
	if err != nil {
		return err
	}
	t := newTable(a.stdout, "ID", "NAME", "TIER", "STATUS", "BALANCE "+cur, "LOW BALANCE", "CREATED")
	for _, acc := range accounts {
		u := toUserJSON(acc)
		t.row(count(u.ID), u.Name, u.Tier, u.Status, u.Balance, u.LowBalance, u.Created)
	}
	return t.flush()
}

type userShowCmd struct {
	User string `arg:"" help:"Account name or id."`
	JSON bool   `name:"json" help:"Print JSON instead of text."`
}

func (c *userShowCmd) Run(ctx context.Context, a *app) error {
	db, acc, err := a.openAccount(ctx, c.User)
	if err != nil {
		return err
	}
	keys, err := db.ListKeys(ctx, count(acc.ID))
	if err != nil {
		return err
	}
	cur, err := db.Currency(ctx)
	if err != nil {
		return err
	}
	creds, err := db.AccountCredentials(ctx, acc.ID)
	if err != nil {
		return err
	}
	u := toUserJSON(acc)
	rows := keyRows(keys)
	if c.JSON {
		return writeJSON(a.stdout, struct {
			userJSON
			Currency  string    `json:"currency"`
			Password  bool      `json:"password"`
			TwoFactor bool      `json:"two_factor"`
			Keys      []keyJSON `json:"keys"`
		}{u, cur, creds.HasPassword, creds.TwoFactor, rows})
	}
	t := newTable(a.stdout, "id:", count(u.ID))
	t.row("name:", u.Name)
	t.row("tier:", u.Tier)
	t.row("status:", u.Status)
	t.row("balance:", u.Balance+" "+cur)
	t.row("low balance:", u.LowBalance+" "+cur)
	t.row("created:", u.Created)
	t.row("sign-in:", signInSummary(creds))
	active := 0
	for _, k := range rows {
		if k.Status == "active" {
			active++
		}
	}
	t.row("keys:", fmt.Sprintf("%d active, %d revoked", active, len(rows)-active))
	for _, k := range rows {
		t.row("", strings.TrimSpace(k.ID+"  "+k.Prefix+"…  "+k.Status+"  "+k.Label))
	}
	return t.flush()
}

// openAccount opens the database and finds the account ref names.
func (a *app) openAccount(ctx context.Context, ref string) (*store.DB, store.Account, error) {
	db, err := a.open(ctx)
	if err != nil {
		return nil, store.Account{}, err
	}
	acc, err := db.FindAccount(ctx, ref)
	return db, acc, err
}

type userSuspendCmd struct {
	User string `arg:"" help:"Account name or id."`
}

func (c *userSuspendCmd) Run(ctx context.Context, a *app) error {
	return setStatus(ctx, a, c.User, store.AccountSuspended)
}

type userUnsuspendCmd struct {
	User string `arg:"" help:"Account name or id."`
}

func (c *userUnsuspendCmd) Run(ctx context.Context, a *app) error {
	return setStatus(ctx, a, c.User, store.AccountActive)
}

func setStatus(ctx context.Context, a *app, user, status string) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	acc, err := db.SetAccountStatus(ctx, user, status)
	if err != nil {
		return err
	}
	switch acc.Status {
	case store.AccountSuspended:
		fmt.Fprintf(a.stderr, "user %s (id %d) is now suspended: its API keys are refused and its browser sessions end at their next request\n",
			acc.Name, acc.ID)
	default:
		fmt.Fprintf(a.stderr, "user %s (id %d) is now %s\n", acc.Name, acc.ID, acc.Status)
	}
	return nil
}

type userSetTierCmd struct {
	User string `arg:"" help:"Account name or id."`
	Tier string `arg:"" help:"Tier name (see notpanel tier list)."`
}

func (c *userSetTierCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	acc, err := db.SetAccountTier(ctx, c.User, c.Tier)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "user %s (id %d) is now in tier %s\n", acc.Name, acc.ID, acc.Tier)
	return nil
}

type userSetLowBalanceCmd struct {
	User   string `arg:"" help:"Account name or id."`
	Amount string `arg:"" help:"Threshold in the panel currency, e.g. 5 or 2.50; 0 turns the warning off."`
}

func (c *userSetLowBalanceCmd) Run(ctx context.Context, a *app) error {
	amount, err := store.ParseMoney(c.Amount)
	if err != nil {
		return err
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	acc, err := db.SetLowBalance(ctx, c.User, amount)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "user %s (id %d) low-balance threshold is now %s\n", acc.Name, acc.ID, store.FormatMoney(acc.LowBalance))
	return nil
}

// signInSummary says how the account signs in to the storefront.
func signInSummary(c store.Credentials) string {
	switch {
	case !c.HasPassword:
		return "no password yet (notpanel user set-password or user reset-link gives one)"
	case c.TwoFactor:
		return fmt.Sprintf("password and two-factor code (%d recovery codes left)", c.RecoveryLeft)
	}
	return "password"
}
