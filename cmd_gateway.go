package main

import (
	"context"
	"fmt"

	"notpanel/payment"
	"notpanel/store"
)

type gatewayCmd struct {
	Add     gatewayAddCmd     `cmd:"" help:"Register a payment gateway customers top up through; prints its id."`
	List    gatewayListCmd    `cmd:"" help:"List payment gateways (their keys and secrets are never shown)."`
	Set     gatewaySetCmd     `cmd:"" help:"Change a gateway's URL, keys, webhook secret or limits (rotating a key, say)."`
	Disable gatewayDisableCmd `cmd:"" help:"Take no new deposits through a gateway; its pending ones are still credited."`
	Enable  gatewayEnableCmd  `cmd:"" help:"Take deposits through a disabled gateway again."`
	Remove  gatewayRemoveCmd  `cmd:"" help:"Remove a gateway and forget its keys (refused while deposits through it are pending)."`
}

type gatewayAddCmd struct {
	Name          string `arg:"" help:"Gateway name, shown to customers and part of its webhook URL (/payments/NAME/webhook)."`
	Kind          string `required:"" enum:"stripe,btcpay,cryptomus" placeholder:"KIND" help:"stripe (Stripe Checkout), btcpay (your BTCPay Server) or cryptomus."`
	URL           string `name:"url" placeholder:"BASE" help:"Base URL of the gateway's API; defaults to the public one (https://api.stripe.com, https://api.cryptomus.com). Required for btcpay: your server's address."`
	APIKey        string `name:"api-key" required:"" placeholder:"KEY" help:"Stripe secret key (sk_… or a restricted rk_…), BTCPay Greenfield API key, or Cryptomus payment API key."`
	WebhookSecret string `name:"webhook-secret" placeholder:"SECRET" help:"Secret that signs the gateway's webhooks (Stripe whsec_…, the BTCPay webhook's secret). Without it every webhook is refused and deposits are credited by the worker's read-backs alone. Cryptomus signs with the API key: leave it out."`
	StoreID       string `name:"store-id" placeholder:"ID" help:"BTCPay store id."`
	Merchant      string `placeholder:"UUID" help:"Cryptomus merchant UUID."`
	Min           string `default:"1" placeholder:"AMOUNT" help:"Smallest deposit, in the panel currency."`
	Max           string `default:"10000" placeholder:"AMOUNT" help:"Largest deposit, in the panel currency."`
}

func (c *gatewayAddCmd) Run(ctx context.Context, a *app) error {
	min, err := store.ParseMoney(c.Min)
	if err != nil {
		return fmt.Errorf("--min: %w", err)
	}
	max, err := store.ParseMoney(c.Max)
	if err != nil {
		return fmt.Errorf("--max: %w", err)
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	g, err := payment.New(payment.Config{DB: db, Log: a.log}).AddGateway(ctx, store.Gateway{Name: c.Name, Kind: c.Kind,
		URL: c.URL, APIKey: c.APIKey, WebhookSecret: c.WebhookSecret, StoreID: c.StoreID, Merchant: c.Merchant,
		Min: min, Max: max})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, g.ID)
	switch {
	case g.Kind == store.GatewayCryptomus:
		fmt.Fprintf(a.stderr, "Cryptomus is told the webhook URL with each payment: https://YOUR-PANEL/payments/%s/webhook\n", g.Name)
	case g.WebhookSecret == "":
		fmt.Fprintf(a.stderr, "no --webhook-secret: webhooks to %s are refused; deposits are credited when the worker reads them back (30 s to an hour)\n", g.Name)
	default:
		fmt.Fprintf(a.stderr, "give %s the webhook URL https://YOUR-PANEL/payments/%s/webhook\n", g.Name, g.Name)
	}
	return nil
}

// gatewayJSON is a gateway as the CLI prints it: never its key or secret,
// only whether a webhook secret is set.
type gatewayJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	URL      string `json:"url"`
	StoreID  string `json:"store_id,omitempty"`
	Merchant string `json:"merchant,omitempty"`
	Min      string `json:"min"`
	Max      string `json:"max"`
	Webhooks bool   `json:"webhooks"`
	Status   string `json:"status"`
	Created  string `json:"created"`
}

type gatewayListCmd struct {
	JSON bool `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *gatewayListCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	gs, err := db.ListGateways(ctx, false)
	if err != nil {
		return err
	}
	rows := make([]gatewayJSON, 0, len(gs))
	for _, g := range gs {
		rows = append(rows, gatewayJSON{ID: g.ID, Name: g.Name, Kind: g.Kind, URL: redactURL(g.URL), StoreID: g.StoreID,
			Merchant: g.Merchant, Min: store.FormatMoney(g.Min), Max: store.FormatMoney(g.Max), Webhooks: g.WebhookSecret != "",
			Status: g.Status, Created: when(g.Created)})
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "ID", "NAME", "KIND", "URL", "ACCOUNT", "MIN", "MAX", "WEBHOOKS", "STATUS", "CREATED")
	for _, r := range rows {
		t.row(count(r.ID), r.Name, r.Kind, r.URL, r.StoreID+r.Merchant, r.Min, r.Max, yesNo(r.Webhooks), r.Status, r.Created)
	}
	return t.flush()
}

type gatewayDisableCmd struct {
	Name string `arg:"" help:"Gateway name or id."`
}

func (c *gatewayDisableCmd) Run(ctx context.Context, a *app) error {
	return setGatewayStatus(ctx, a, c.Name, store.GatewayDisabled)
}

type gatewayEnableCmd struct {
	Name string `arg:"" help:"Gateway name or id."`
}

func (c *gatewayEnableCmd) Run(ctx context.Context, a *app) error {
	return setGatewayStatus(ctx, a, c.Name, store.GatewayEnabled)
}

func setGatewayStatus(ctx context.Context, a *app, name, status string) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	g, err := db.SetGatewayStatus(ctx, name, status)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "gateway %s is %s\n", g.Name, g.Status)
	return nil
}

type gatewayRemoveCmd struct {
	Name string `arg:"" help:"Gateway name or id."`
}

func (c *gatewayRemoveCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	g, err := db.RemoveGateway(ctx, c.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "gateway %s removed; its keys are forgotten, its deposits kept\n", g.Name)
	return nil
}

type gatewaySetCmd struct {
	Name          string  `arg:"" help:"Gateway name or id."`
	URL           *string `name:"url" placeholder:"BASE" help:"New base URL of the gateway's API (\"\" for the public default)."`
	APIKey        *string `name:"api-key" placeholder:"KEY" help:"New API key."`
	WebhookSecret *string `name:"webhook-secret" placeholder:"SECRET" help:"New webhook secret (\"\" refuses every webhook)."`
	StoreID       *string `name:"store-id" placeholder:"ID" help:"New BTCPay store id."`
	Merchant      *string `placeholder:"UUID" help:"New Cryptomus merchant UUID."`
	Min           *string `placeholder:"AMOUNT" help:"New smallest deposit."`
	Max           *string `placeholder:"AMOUNT" help:"New largest deposit."`
}

func (c *gatewaySetCmd) Run(ctx context.Context, a *app) error {
	p := payment.GatewayPatch{URL: c.URL, APIKey: c.APIKey, WebhookSecret: c.WebhookSecret, StoreID: c.StoreID, Merchant: c.Merchant}
	for _, f := range []struct {
		flag string
		v    *string
		dst  **int64
	}{{"--min", c.Min, &p.Min}, {"--max", c.Max, &p.Max}} {
		if f.v == nil {
			continue
		}
		amount, err := store.ParseMoney(*f.v)
		if err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
		*f.dst = &amount
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	g, err := payment.New(payment.Config{DB: db, Log: a.log}).SetGateway(ctx, c.Name, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "gateway %s changed\n", g.Name)
	return nil
}
