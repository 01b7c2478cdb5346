package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"notpanel/payment"
	"notpanel/store"
)

type paymentCmd struct {
	List    paymentListCmd    `cmd:"" help:"List customers' deposits through the gateways, newest first."`
	Show    paymentShowCmd    `cmd:"" help:"Show a deposit with its ledger row."`
	Refresh paymentRefreshCmd `cmd:"" help:"Ask the deposit's gateway about it now and apply the answer (credit, expire, park)."`
	Credit  paymentCreditCmd  `cmd:"" help:"Credit a deposit that was not credited (parked, pending, expired, failed) by hand, after checking the gateway."`
}

// depositJSON is a deposit as the CLI prints it: money as decimal strings.
type depositJSON struct {
	Deposit       string `json:"deposit"`
	User          string `json:"user"`
	AccountID     int64  `json:"account_id"`
	Gateway       string `json:"gateway"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
	Status        string `json:"status"`
	Credited      string `json:"credited,omitempty"`
	GatewayStatus string `json:"gateway_status,omitempty"`
	Review        string `json:"review,omitempty"`
	Note          string `json:"note,omitempty"`
	Reference     string `json:"reference"`
	CheckoutURL   string `json:"checkout_url"`
	ReadBacks     int64  `json:"read_backs"`
	NextReadBack  string `json:"next_read_back,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	Created       string `json:"created"`
	Updated       string `json:"updated"`
}

func toDepositJSON(d store.Deposit, user string) depositJSON {
	r := depositJSON{Deposit: d.ID, User: user, AccountID: d.AccountID, Gateway: d.Gateway, Amount: store.FormatMoney(d.Amount),
		Currency: d.Currency, Status: d.Status, GatewayStatus: d.GatewayStatus, Review: d.Review, Note: d.Note,
		Reference: d.Reference, CheckoutURL: d.CheckoutURL, ReadBacks: d.Attempts, LastError: d.LastError,
		Created: when(d.Created), Updated: when(d.Updated)}
	if d.Status == store.DepositCredited {
		r.Credited = store.FormatMoney(d.Credited)
	}
	if d.Status == store.DepositPending && d.Review == "" {
		r.NextReadBack = when(d.NextAt)
	}
	return r
}

type paymentListCmd struct {
	User   string `placeholder:"USER" help:"Only this account's deposits (name or id)."`
	Status string `placeholder:"STATUS" help:"Only deposits in this status: pending, credited, expired or failed."`
	Review bool   `help:"Only deposits parked for the operator (a wrong amount paid, no answer for days); settle them with payment credit or payment refresh."`
	Limit  int    `default:"100" placeholder:"N" help:"At most this many deposits."`
	JSON   bool   `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *paymentListCmd) Run(ctx context.Context, a *app) error {
	if c.Status != "" && !slices.Contains(store.DepositStatuses, c.Status) {
		return fmt.Errorf("unknown status %q: want one of %s", c.Status, strings.Join(store.DepositStatuses, ", "))
	}
	if err := checkLimit(c.Limit); err != nil {
		return err
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	f := store.DepositFilter{Status: c.Status, Review: c.Review, Limit: c.Limit}
	if f.AccountID, err = accountOf(ctx, db, c.User); err != nil {
		return err
	}
	deps, err := db.ListDeposits(ctx, f)
	if err != nil {
		return err
	}
	names := &userNames{db: db, names: map[int64]string{}}
	rows := make([]depositJSON, 0, len(deps))
	for _, d := range deps {
		name, err := names.name(ctx, d.AccountID)
		if err != nil {
			return err
		}
		rows = append(rows, toDepositJSON(d, name))
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "DEPOSIT", "USER", "GATEWAY", "AMOUNT", "STATUS", "CREDITED", "GATEWAY SAYS", "REVIEW", "CREATED")
	for _, r := range rows {
		t.row(r.Deposit, r.User, r.Gateway, r.Amount+" "+r.Currency, r.Status, r.Credited, r.GatewayStatus, r.Review, r.Created)
	}
	return t.flush()
}

type paymentShowCmd struct {
	Deposit string `arg:"" help:"Deposit id (dep_…)."`
	JSON    bool   `name:"json" help:"Print JSON instead of text."`
}

func (c *paymentShowCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	d, err := db.FindDeposit(ctx, c.Deposit)
	if err != nil {
		return err
	}
	acc, err := db.AccountByID(ctx, d.AccountID)
	if err != nil {
		return err
	}
	entries, err := db.DepositLedger(ctx, d.ID)
	if err != nil {
		return err
	}
	ledger := []ledgerJSON{}
	for _, e := range entries {
		ledger = append(ledger, ledgerJSON{ID: e.ID, Kind: e.Kind, Amount: store.FormatMoney(e.Amount),
			BalanceAfter: store.FormatMoney(e.BalanceAfter), Note: e.Note, Created: when(e.Created)})
	}
	row := toDepositJSON(d, acc.Name)
	if c.JSON {
		return writeJSON(a.stdout, struct {
			depositJSON
			Ledger []ledgerJSON `json:"ledger"`
		}{row, ledger})
	}
	t := newTable(a.stdout, "deposit:", row.Deposit)
	for _, kv := range [][2]string{
		{"user:", fmt.Sprintf("%s (id %d)", row.User, row.AccountID)}, {"gateway:", row.Gateway},
		{"amount:", row.Amount + " " + row.Currency}, {"status:", row.Status}, {"credited:", row.Credited},
		{"gateway says:", row.GatewayStatus}, {"needs review:", row.Review}, {"note:", row.Note},
		{"reference:", row.Reference}, {"checkout:", row.CheckoutURL}, {"read-backs:", count(row.ReadBacks)},
		{"next read-back:", row.NextReadBack}, {"last error:", row.LastError}, {"created:", row.Created},
		{"updated:", row.Updated},
	} {
		if kv[1] != "" {
			t.row(kv[0], kv[1])
		}
	}
	for _, e := range ledger {
		t.row("ledger:", fmt.Sprintf("#%d %s %s, balance %s, %s %s", e.ID, e.Kind, e.Amount, e.BalanceAfter, e.Created, e.Note))
	}
	return t.flush()
}

type paymentRefreshCmd struct {
	Deposit string `arg:"" help:"Deposit id (dep_…)."`
}

func (c *paymentRefreshCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	d, err := payment.New(payment.Config{DB: db, Log: a.log}).Refresh(ctx, c.Deposit)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, depositLine(d))
	return nil
}

// depositLine sums a deposit up in one line.
func depositLine(d store.Deposit) string {
	line := d.ID + "\t" + d.Status
	switch {
	case d.Status == store.DepositCredited:
		line += " " + store.FormatMoney(d.Credited)
	case d.Review != "":
		line += ", needs review: " + d.Review
	}
	if d.GatewayStatus != "" {
		line += " (gateway says " + d.GatewayStatus + ")"
	}
	return line
}

type paymentCreditCmd struct {
	Deposit string `arg:"" help:"Deposit id (dep_…)."`
	Amount  string `required:"" placeholder:"AMOUNT" help:"What the customer really paid, in the panel currency (e.g. 7.50 of 10.00 asked)."`
	Note    string `placeholder:"TEXT" help:"Why, kept on the deposit and its ledger row (e.g. what the gateway's dashboard shows)."`
}

func (c *paymentCreditCmd) Run(ctx context.Context, a *app) error {
	amount, err := store.ParseMoney(c.Amount)
	if err != nil {
		return err
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	note := "credited by the operator"
	if c.Note != "" {
		note += ": " + c.Note
	}
	if err := db.CreditByOperator(ctx, c.Deposit, amount, note); err != nil {
		return err
	}
	d, err := db.FindDeposit(ctx, c.Deposit)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, depositLine(d))
	return nil
}
