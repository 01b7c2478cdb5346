package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"notpanel/store"
)

type orderCmd struct {
	List    orderListCmd    `cmd:"" help:"List orders, newest first."`
	Show    orderShowCmd    `cmd:"" help:"Show an order with its ledger rows and cancel request."`
	Cancel  orderCancelCmd  `cmd:"" help:"Cancel orders exactly as a customer's cancel would; one result line per order."`
	Refund  orderRefundCmd  `cmd:"" help:"Refund whatever of an order's charge is not refunded yet and mark it refunded; prints the amount."`
	Resolve orderResolveCmd `cmd:"" help:"Settle an order parked for review (see order list --review)."`
}

func orderStatuses() []string {
	return []string{
		store.StatusPending, store.StatusProcessing, store.StatusInProgress, store.StatusCompleted,
		store.StatusPartial, store.StatusCancelled, store.StatusRefunded, store.StatusFailed,
	}
}

// orderJSON is an order as the CLI prints it: money as decimal strings and
// counts as strings, as in the API.
type orderJSON struct {
	Order      string `json:"order"`
	Number     int64  `json:"number"`
	User       string `json:"user"`
	AccountID  int64  `json:"account_id"`
	Service    int64  `json:"service"`
	Link       string `json:"link"`
	Quantity   string `json:"quantity"`
	Runs       string `json:"runs,omitempty"`
	Interval   string `json:"interval,omitempty"`
	Units      string `json:"units"`
	Extra      string `json:"extra,omitempty"`
	Charge     string `json:"charge"`
	Status     string `json:"status"`
	Claimed    bool   `json:"claimed"`
	UpstreamID string `json:"upstream_id,omitempty"`
	StartCount string `json:"start_count"`
	Remains    string `json:"remains"`
	Reason     string `json:"reason,omitempty"`
	Review     string `json:"review,omitempty"`
	Upstream   string `json:"upstream_status,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Failover   string `json:"failover,omitempty"`
	Created    string `json:"created"`
	Updated    string `json:"updated"`
}

func toOrderJSON(o store.Order, user string) orderJSON {
	r := orderJSON{
		Order: o.ID, Number: o.Number, User: user, AccountID: o.AccountID, Service: o.ServiceID, Link: o.Link,
		Quantity: count(o.Quantity), Units: count(o.Units), Extra: o.Extra, Charge: store.FormatMoney(o.Charge),
		Status: o.Status, Claimed: o.Claimed, UpstreamID: o.UpstreamID, StartCount: count(o.StartCount),
		Remains: count(o.Remains), Reason: o.Reason, Review: o.Review, Upstream: o.UpstreamStatus, Failover: o.Failover,
		Created: when(o.Created), Updated: when(o.Updated),
	}
	if o.Runs > 0 {
		r.Runs, r.Interval = count(o.Runs), count(o.Interval)
	}
	return r
}

// userNames resolves account ids to names, each at most once.
type userNames struct {
	db    *store.DB
	names map[int64]string
}

func (u *userNames) name(ctx context.Context, id int64) (string, error) {
	if n, ok := u.names[id]; ok {
		return n, nil
	}
	a, err := u.db.AccountByID(ctx, id)
	if err != nil {
		return "", err
	}
	u.names[id] = a.Name
	return a.Name, nil
}

type orderListCmd struct {
	User   string `placeholder:"USER" help:"Only this account's orders (name or id)."`
	Status string `placeholder:"STATUS" help:"Only orders in this status: ${statuses}."`
	Review bool   `help:"Only orders parked for the operator's review (dispatch outcome unknown); settle them with order resolve."`
	Limit  int    `default:"100" placeholder:"N" help:"At most this many orders."`
	JSON   bool   `name:"json" help:"Print a JSON array instead of a table."`
}

func (c *orderListCmd) Run(ctx context.Context, a *app) error {
	if c.Status != "" && !slices.Contains(orderStatuses(), c.Status) {
		return fmt.Errorf("unknown status %q: want one of %s", c.Status, strings.Join(orderStatuses(), ", "))
	}
	if err := checkLimit(c.Limit); err != nil {
		return err
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	f := store.OrderFilter{Status: c.Status, Review: c.Review, Limit: c.Limit}
	if f.Scope, err = scopeOf(ctx, db, c.User); err != nil {
		return err
	}
	orders, err := db.ListOrders(ctx, f)
	if err != nil {
		return err
	}
	names := &userNames{db: db, names: map[int64]string{}}
	rows := make([]orderJSON, 0, len(orders))
	for _, o := range orders {
		name, err := names.name(ctx, o.AccountID)
		if err != nil {
			return err
		}
		rows = append(rows, toOrderJSON(o, name))
	}
	if c.JSON {
		return writeJSON(a.stdout, rows)
	}
	t := newTable(a.stdout, "NUMBER", "ORDER", "USER", "SERVICE", "STATUS", "CHARGE", "QUANTITY", "REMAINS", "CREATED")
	for _, r := range rows {
		t.row(count(r.Number), r.Order, r.User, count(r.Service), r.Status, r.Charge, r.Quantity, r.Remains, r.Created)
	}
	return t.flush()
}

// ledgerJSON is a ledger row with money as decimal strings.
type ledgerJSON struct {
	ID           int64  `json:"id"`
	Kind         string `json:"kind"`
	Amount       string `json:"amount"`
	BalanceAfter string `json:"balance_after"`
	Note         string `json:"note,omitempty"`
	Created      string `json:"created"`
}

type orderShowCmd struct {
	Order string `arg:"" help:"Order id (ord_…) or number."`
	JSON  bool   `name:"json" help:"Print JSON instead of text."`
}

func (c *orderShowCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	o, err := db.FindOrder(ctx, c.Order)
	if err != nil {
		return err
	}
	acc, err := db.AccountByID(ctx, o.AccountID)
	if err != nil {
		return err
	}
	entries, err := db.Ledger(ctx, o.AccountID, o.ID)
	if err != nil {
		return err
	}
	cr, hasCR, err := db.CancelRequestFor(ctx, o.ID)
	if err != nil {
		return err
	}
	ledger := make([]ledgerJSON, 0, len(entries))
	for _, e := range entries {
		ledger = append(ledger, ledgerJSON{ID: e.ID, Kind: e.Kind, Amount: store.FormatMoney(e.Amount),
			BalanceAfter: store.FormatMoney(e.BalanceAfter), Note: e.Note, Created: when(e.Created)})
	}
	row := toOrderJSON(o, acc.Name)
	if o.ProviderID != 0 {
		p, err := db.FindProvider(ctx, count(o.ProviderID))
		if err != nil {
			return err
		}
		row.Provider = p.Name
	}
	if c.JSON {
		out := struct {
			orderJSON
			Ledger        []ledgerJSON         `json:"ledger"`
			CancelRequest *store.CancelRequest `json:"cancel_request"`
		}{orderJSON: row, Ledger: ledger}
		if hasCR {
			out.CancelRequest = &cr
		}
		return writeJSON(a.stdout, out)
	}
	t := newTable(a.stdout, "order:", row.Order)
	for _, kv := range [][2]string{
		{"number:", count(row.Number)}, {"user:", fmt.Sprintf("%s (id %d)", row.User, row.AccountID)},
		{"service:", count(row.Service)}, {"link:", row.Link}, {"quantity:", row.Quantity},
		{"runs:", row.Runs}, {"interval:", row.Interval}, {"units:", row.Units}, {"extra:", row.Extra},
		{"charge:", row.Charge}, {"status:", row.Status}, {"claimed by worker:", yesNo(row.Claimed)},
		{"provider:", row.Provider}, {"sent to the backup:", row.Failover},
		{"upstream id:", row.UpstreamID}, {"start count:", row.StartCount}, {"remains:", row.Remains},
		{"provider status:", row.Upstream}, {"reason:", row.Reason}, {"needs review:", row.Review},
		{"created:", row.Created}, {"updated:", row.Updated},
	} {
		if kv[1] != "" {
			t.row(kv[0], kv[1])
		}
	}
	if hasCR {
		detail := cr.Status + " since " + when(cr.Updated)
		if cr.Error != "" {
			detail += ": " + cr.Error
		}
		t.row("cancel request:", detail)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	lt := newTable(a.stdout, "LEDGER", "KIND", "AMOUNT", "BALANCE AFTER", "CREATED", "NOTE")
	for _, e := range ledger {
		lt.row(count(e.ID), e.Kind, e.Amount, e.BalanceAfter, e.Created, e.Note)
	}
	return lt.flush()
}

type orderCancelCmd struct {
	Orders []string `arg:"" name:"order" help:"Order ids (ord_…) or numbers."`
}

func (c *orderCancelCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	// The API takes ord_ ids only; numbers are the operator's shorthand. An
	// unknown number is passed on as it is, so that the store reports it
	// with the same "Order not found" as any other unknown order.
	ids := make([]string, len(c.Orders))
	for i, ref := range c.Orders {
		ids[i] = ref
		if _, err := strconv.ParseInt(ref, 10, 64); err == nil {
			if o, err := db.FindOrder(ctx, ref); err == nil {
				ids[i] = o.ID
			} else if store.ErrorCode(err) != store.NotFound {
				return err
			}
		}
	}
	results, err := db.CancelOrders(ctx, store.Operator, ids)
	if err != nil {
		return err
	}
	failed := 0
	for i, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(a.stdout, "%s\terror: %s\n", c.Orders[i], r.Err)
			continue
		}
		fmt.Fprintf(a.stdout, "%s\t%s\n", r.ID, cancelOutcome(ctx, db, r.ID))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d orders not cancelled", failed, len(results))
	}
	return nil
}

// cancelOutcome says what a successful cancel did: a pending order is
// cancelled and refunded at once; one with the provider is only queued.
func cancelOutcome(ctx context.Context, db *store.DB, id string) string {
	o, err := db.FindOrder(ctx, id)
	switch {
	case err != nil:
		return "cancel accepted"
	case o.Status == store.StatusCancelled:
		return "cancelled, refunded " + store.FormatMoney(o.Charge)
	default:
		return "cancel requested from the provider (order is " + o.Status + ")"
	}
}

type orderRefundCmd struct {
	Order string `arg:"" help:"Order id (ord_…) or number."`
	Note  string `placeholder:"TEXT" help:"Why, kept on the ledger row (default: operator refund)."`
}

func (c *orderRefundCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	amount, err := db.RefundOrder(ctx, c.Order, c.Note)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, store.FormatMoney(amount))
	fmt.Fprintf(a.stderr, "order %s refunded\n", c.Order)
	return nil
}

type orderResolveCmd struct {
	Order      string `arg:"" help:"Order id (ord_…) or number."`
	Resend     bool   `xor:"how" help:"The provider does not have the order: send it again."`
	Fail       bool   `xor:"how" help:"The provider does not have the order and it should not be sent: fail it with a full refund."`
	UpstreamID string `xor:"how" name:"upstream-id" placeholder:"N" help:"The provider has the order under this id: record it and track it."`
	Reason     string `help:"Reason stored with --fail."`
}

func (c *orderResolveCmd) Run(ctx context.Context, a *app) error {
	if !c.Resend && !c.Fail && c.UpstreamID == "" {
		return fmt.Errorf("say how: --resend, --fail or --upstream-id N")
	}
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	switch {
	case c.Resend:
		err = db.ResolveResend(ctx, c.Order)
	case c.Fail:
		err = db.ResolveFail(ctx, c.Order, c.Reason)
	default:
		err = db.ResolveUpstreamID(ctx, c.Order, c.UpstreamID, 0)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "order %s resolved\n", c.Order)
	return nil
}
