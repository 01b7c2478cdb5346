package main

import (
	"context"
	"errors"
	"fmt"

	"notpanel/httpapi"
	"notpanel/store"
	"notpanel/upstream"
)

type serviceCmd struct {
	Add     serviceAddCmd     `cmd:"" help:"Add a service to the catalog, enabled; prints its id."`
	List    serviceListCmd    `cmd:"" help:"List the whole catalog, disabled services included."`
	Set     serviceSetCmd     `cmd:"" help:"Change a service; only the flags given change. Orders already placed keep their price."`
	Disable serviceDisableCmd `cmd:"" help:"Take a service off the catalog; its existing orders are unaffected."`
	Import  serviceImportCmd  `cmd:"" help:"Bring a provider's catalog in at its rates plus a markup; re-run to update."`
}

// serviceJSON is a catalog row: the fields of the API's services action
// plus what only the operator sees.
type serviceJSON struct {
	httpapi.Service
	Provider              string `json:"provider"`
	ProviderService       string `json:"provider_service"`
	BackupProvider        string `json:"backup_provider,omitempty"`
	BackupProviderService string `json:"backup_provider_service,omitempty"`
	Enabled               bool   `json:"enabled"`
	// Warning says why the catalog sync disabled the service.
	Warning string `json:"warning,omitempty"`
}

func toServiceJSON(s store.Service) serviceJSON {
	return serviceJSON{Service: httpapi.ServiceView(s), Provider: s.Provider, ProviderService: s.ProviderService,
		BackupProvider: s.BackupProvider, BackupProviderService: s.BackupProviderService, Enabled: s.Enabled, Warning: s.Warning}
}

type serviceAddCmd struct {
	Name            string `required:"" placeholder:"NAME" help:"Name customers see."`
	Category        string `required:"" placeholder:"CATEGORY" help:"Category customers see, e.g. Instagram."`
	Type            string `default:"Default" help:"Service type: ${types}."`
	Rate            string `required:"" placeholder:"PRICE" help:"Price of 1000 units in the panel currency, e.g. 0.90."`
	Min             int64  `required:"" placeholder:"N" help:"Smallest quantity an order may ask for."`
	Max             int64  `required:"" placeholder:"N" help:"Largest quantity an order may ask for."`
	Refill          bool   `help:"Customers may ask for refills of completed orders."`
	Cancel          bool   `help:"Customers may cancel orders already sent to the provider."`
	Dripfeed        bool   `help:"Customers may split orders into runs (Default services only)."`
	Provider        string `required:"" placeholder:"NAME" help:"Provider name or id that fulfils the orders."`
	ProviderService string `required:"" name:"provider-service" placeholder:"ID" help:"The provider's service id."`
	Description     string `placeholder:"TEXT" help:"What customers get (speed, quality, refill terms), shown in the storefront's catalog."`
}

func (c *serviceAddCmd) Run(ctx context.Context, a *app) error {
	rate, err := parseRate(c.Rate)
	if err != nil {
		return err
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	s, err := db.AddService(ctx, store.Service{
		Name: c.Name, Category: c.Category, Type: c.Type, Rate: rate, Min: c.Min, Max: c.Max,
		Refill: c.Refill, Cancel: c.Cancel, Dripfeed: c.Dripfeed, ProviderService: c.ProviderService,
		Description: c.Description,
	}, c.Provider)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, s.ID)
	return nil
}

// parseRate reads a rate; a negative one is refused here, where the message
// can name the flag.
func parseRate(s string) (int64, error) {
	rate, err := store.ParseMoney(s)
	if err != nil {
		return 0, fmt.Errorf("--rate: %w", err)
	}
	if rate < 0 {
		return 0, fmt.Errorf("--rate: must not be negative (got %s)", s)
	}
	return rate, nil
}

type serviceListCmd struct {
	JSON bool `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *serviceListCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	services, err := db.Services(ctx, true)
	if err != nil {
		return err
	}
	rows := make([]serviceJSON, 0, len(services))
	for _, s := range services {
		rows = append(rows, toServiceJSON(s))
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	cur, err := db.Currency(ctx)
	if err != nil {
		return err
	}
	t := newTable(a.stdout, "ID", "NAME", "CATEGORY", "TYPE", "RATE/1000 "+cur, "MIN", "MAX",
		"REFILL", "CANCEL", "DRIPFEED", "PROVIDER", "UPSTREAM ID", "BACKUP", "ENABLED")
	for _, r := range rows {
		backup := ""
		if r.BackupProvider != "" {
			backup = r.BackupProvider + " " + r.BackupProviderService
		}
		enabled := yesNo(r.Enabled)
		if r.Warning != "" {
			enabled += " (warning below)"
		}
		t.row(count(r.Service.Service), r.Name, r.Category, r.Type, r.Rate, r.Min, r.Max,
			yesNo(r.Refill), yesNo(r.Cancel), yesNo(r.Dripfeed), r.Provider, r.ProviderService, backup, enabled)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Warning != "" {
			fmt.Fprintf(a.stdout, "warning: service %d (%s): %s\n", r.Service.Service, r.Name, r.Warning)
		}
	}
	return nil
}

type serviceSetCmd struct {
	ID              int64   `arg:"" help:"Service id."`
	Name            *string `help:"New name."`
	Category        *string `help:"New category."`
	Type            *string `help:"New type: ${types}."`
	Rate            *string `placeholder:"PRICE" help:"New price of 1000 units, e.g. 0.90."`
	Min             *int64  `placeholder:"N" help:"New smallest quantity."`
	Max             *int64  `placeholder:"N" help:"New largest quantity."`
	Refill          *bool   `negatable:"" help:"Allow or (--no-refill) refuse refills."`
	Cancel          *bool   `negatable:"" help:"Allow or (--no-cancel) refuse cancelling orders sent upstream."`
	Dripfeed        *bool   `negatable:"" help:"Allow or (--no-dripfeed) refuse drip-feed."`
	Enabled         *bool   `negatable:"" help:"Show or (--no-enabled) hide the service in the catalog."`
	ProviderService *string `name:"provider-service" placeholder:"ID" help:"New provider service id."`
	Description     *string `placeholder:"TEXT" help:"New description for customers (\"\" for none)."`
	BackupProvider  *string `name:"backup-provider" placeholder:"NAME" help:"Provider (name or id) that takes the orders the service's provider definitely refuses and cannot take now (service gone, no funds there, provider paused); an order whose outcome there is unknown never moves. \"\" removes the backup."`
	BackupService   *string `name:"backup-provider-service" placeholder:"ID" help:"The service's id at the backup provider."`
}

func (c *serviceSetCmd) Run(ctx context.Context, a *app) error {
	p := store.ServicePatch{
		Name: c.Name, Category: c.Category, Type: c.Type, ProviderService: c.ProviderService, Description: c.Description,
		Min: c.Min, Max: c.Max, Refill: c.Refill, Cancel: c.Cancel, Dripfeed: c.Dripfeed, Enabled: c.Enabled,
		BackupProvider: c.BackupProvider, BackupProviderService: c.BackupService,
	}
	if c.Rate != nil {
		rate, err := parseRate(*c.Rate)
		if err != nil {
			return err
		}
		p.Rate = &rate
	}
	if p == (store.ServicePatch{}) {
		return errors.New("nothing to change: give at least one flag (see notpanel service set --help)")
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	s, err := db.UpdateService(ctx, c.ID, p)
	if err != nil {
		return err
	}
	backup := ""
	if s.BackupProvider != "" {
		backup = fmt.Sprintf(", backup %s service %s", s.BackupProvider, s.BackupProviderService)
	}
	fmt.Fprintf(a.stderr, "service %d updated: %s, %s per 1000, %s%s\n", s.ID, s.Name, store.FormatMoney(s.Rate), enabledWord(s.Enabled), backup)
	return nil
}

func enabledWord(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

type serviceDisableCmd struct {
	ID int64 `arg:"" help:"Service id."`
}

func (c *serviceDisableCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	off := false
	s, err := db.UpdateService(ctx, c.ID, store.ServicePatch{Enabled: &off})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "service %d (%s) disabled; customers no longer see or order it\n", s.ID, s.Name)
	return nil
}

type serviceImportCmd struct {
	Provider string  `required:"" help:"Provider name or id to import from."`
	Markup   *string `placeholder:"PCT" help:"Markup over the provider's rate in percent, e.g. 25 or 12.5; without it, the provider's markup (provider set --markup)."`
}

func (c *serviceImportCmd) Run(ctx context.Context, a *app) error {
	var bp int64
	if c.Markup != nil {
		var err error
		if bp, err = parseMarkup(*c.Markup); err != nil {
			return err
		}
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	p, err := db.FindProvider(ctx, c.Provider)
	if err != nil {
		return err
	}
	if c.Markup == nil {
		if p.Settings.MarkupBP == nil {
			return fmt.Errorf("provider %s has no markup: give --markup, or set one with provider set %s --markup PCT", p.Name, p.Name)
		}
		bp = *p.Settings.MarkupBP
	}
	res, broken, err := importCatalog(ctx, db, p, bp)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "imported from %s: %d added, %d updated, %d unchanged, %d disabled (no longer listed), %d skipped\n",
		p.Name, res.Added, res.Updated, res.Unchanged, res.Disabled, res.Skipped+broken)
	for t, n := range res.SkippedTypes {
		fmt.Fprintf(a.stderr, "  skipped %d of type %q (not sold by notpanel)\n", n, t)
	}
	if broken > 0 {
		fmt.Fprintf(a.stderr, "  skipped %d unreadable entries (no id, name or rate, or min above max)\n", broken)
	}
	for _, l := range res.Losses {
		fmt.Fprintf(a.stderr, "  warning: service %d (%s) disabled: %s\n", l.ServiceID, l.Name, l.Warning)
	}
	return nil
}

// parseMarkup reads a percentage with at most two decimals as basis points.
func parseMarkup(s string) (int64, error) {
	micro, err := store.ParseMoney(s)
	if err != nil || micro%10_000 != 0 || micro <= -100*store.MicrosPerUnit || micro > 10_000*store.MicrosPerUnit {
		return 0, fmt.Errorf("--markup: want a percentage above -100 with at most two decimals, e.g. 25 or 12.5 (got %q)", s)
	}
	return micro / 10_000, nil
}

// importCatalog fetches a provider's catalog and imports it at markupBP;
// broken counts entries too malformed to read.
func importCatalog(ctx context.Context, db *store.DB, p store.Provider, markupBP int64) (res store.ImportResult, broken int, err error) {
	list, broken, err := upstream.New(p, 0).Services(ctx)
	if err != nil {
		return res, 0, fmt.Errorf("provider %s: %w", p.Name, err)
	}
	items := make([]store.ImportedService, len(list))
	for i, s := range list {
		items[i] = s.Imported()
	}
	res, err = db.ImportServices(ctx, p.Name, items, markupBP)
	return res, broken, err
}
