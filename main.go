// Command notpanel is a self-hosted SMM reseller panel in one binary: it
// serves the customer API (API v2) and is also the operator's admin tool
// for users, keys, funds, providers, the catalog and orders.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/rs/zerolog"

	"notpanel/replica"
	"notpanel/store"
)

//go:embed schema.sql
var schema string

const description = `notpanel is a self-hosted SMM reseller panel in one binary. Customers buy
social-media services on its storefront and through its API v2 ("notpanel
serve"), and upstream providers fulfil the orders. The other commands are the
operator's tools and may run while serve is up.`

// cli is the command line. Each verb is one command struct with a Run method.
type cli struct {
	DB       string `name:"db" default:"${db}" help:"SQLite database file, created when missing; the default comes from $$NOTPANEL_DB, else ./notpanel.db."`
	LogLevel string `name:"log-level" default:"${loglevel}" enum:"debug,info,warn,error" help:"Least severe log lines written to stderr: debug, info (one line per request), warn or error; the default comes from $$NOTPANEL_LOG_LEVEL, else info."`

	Serve    serveCmd    `cmd:"" help:"Serve the storefront and the API, and run the worker, until SIGINT or SIGTERM."`
	Demo     demoCmd     `cmd:"" help:"Try notpanel: a fresh demo database, a simulated provider, a funded demo account; prints the storefront's address with a sign-in, and an API key."`
	User     userCmd     `cmd:"" help:"Manage customer accounts."`
	Key      keyCmd      `cmd:"" help:"Manage customers' API keys."`
	Funds    fundsCmd    `cmd:"" help:"Credit or debit a customer's balance."`
	Provider providerCmd `cmd:"" help:"Manage upstream providers orders are forwarded to."`
	Service  serviceCmd  `cmd:"" help:"Manage the service catalog."`
	Order    orderCmd    `cmd:"" help:"Inspect, cancel and refund orders."`
	Tier     tierCmd     `cmd:"" help:"Manage rate-limit tiers."`
	Audit    auditCmd    `cmd:"" help:"Check the ledger invariants; exits non-zero on a violation."`
	Bench    benchCmd    `cmd:"" help:"Load-test a scratch instance over loopback HTTP and print throughput and latency per action."`
	Backup   backupCmd   `cmd:"" help:"Write a consistent copy of the database, safe while serve runs."`
	Restore  restoreCmd  `cmd:"" help:"Bring the database back from the replica serve streams it to (serve --replica), into --db, which must not exist."`
	Replica  replicaCmd  `cmd:"" help:"Inspect the replica serve streams the database to."`
	Currency currencyCmd `cmd:"" help:"Show or set the panel currency."`
	Webhook  webhookCmd  `cmd:"" help:"Inspect customers' webhooks and their deliveries."`
	Gateway  gatewayCmd  `cmd:"" help:"Manage the payment gateways customers top up through."`
	Payment  paymentCmd  `cmd:"" help:"Inspect, refresh and settle customers' deposits."`
	Site     siteCmd     `cmd:"" help:"Show or set the storefront's shop window: name, tagline, contact, terms, accent colour, public URL."`
	Invite   inviteCmd   `cmd:"" help:"Make invitation codes for sign-up when serve runs with --signup invite."`
}

// app is what every command's Run receives: where to read and write, the
// logger, and the database, opened on first use.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            zerolog.Logger
	dbPath         string
	db             *store.DB
}

// closeDB closes the database if it is open. run calls it after the
// command; serve calls it earlier, before the replica's last sync.
func (a *app) closeDB() error {
	if a.db == nil {
		return nil
	}
	err := a.db.Close()
	a.db = nil
	return err
}

// open opens the database once; run closes it after the command.
func (a *app) open(ctx context.Context) (*store.DB, error) {
	if a.db != nil {
		return a.db, nil
	}
	_, statErr := os.Stat(a.dbPath)
	db, err := store.Open(ctx, a.dbPath, store.Options{Schema: schema})
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// A mistyped --db silently starting an empty panel would be confusing.
		fmt.Fprintf(a.stderr, "notpanel: created new database %s\n", a.dbPath)
	}
	a.db = db
	return db, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once instead of waiting for the shutdown
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// exitCode carries kong's exit request (after --help) out of the parser.
type exitCode int

// run parses args, runs the chosen command and returns the exit status.
// Commands stop early when ctx is cancelled; serve stops only then.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) (code int) {
	logs := newLogBuffer(stderr)
	defer logs.Close()
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, log: zerolog.New(logs).With().Timestamp().Logger()}
	var c cli
	parser, err := newParser(ctx, &c, a, getenv)
	if err != nil {
		return fail(stderr, err, 1) // a bug in the command structs
	}
	kctx, exited, err := parse(parser, liftNegatives(args))
	if exited >= 0 {
		return exited
	}
	if err != nil {
		return fail(stderr, usageError(err, args), 2)
	}
	a.dbPath = c.DB
	if lvl, err := zerolog.ParseLevel(c.LogLevel); err == nil {
		a.log = a.log.Level(lvl)
	}
	defer func() {
		if err := a.closeDB(); err != nil && code == 0 {
			code = fail(stderr, err, 1)
		}
	}()
	if err := kctx.Run(); err != nil {
		return fail(stderr, err, 1)
	}
	return 0
}

// newParser builds the kong parser for c; Run methods receive ctx and a.
func newParser(ctx context.Context, c *cli, a *app, getenv func(string) string) (*kong.Kong, error) {
	dbDefault := getenv("NOTPANEL_DB")
	if dbDefault == "" {
		dbDefault = "./notpanel.db"
	}
	levelDefault := getenv("NOTPANEL_LOG_LEVEL")
	if levelDefault == "" {
		levelDefault = "info"
	}
	return kong.New(c,
		kong.Name("notpanel"),
		kong.Description(description),
		kong.Vars{
			"db":          dbDefault,
			"loglevel":    levelDefault,
			"replica":     getenv("NOTPANEL_REPLICA"),
			"replicatick": replica.DefaultInterval.String(),
			"sftpkey":     getenv("NOTPANEL_SFTP_KEY"),
			"sftphostkey": getenv("NOTPANEL_SFTP_HOST_KEY"),
			"types":       strings.Join(store.ServiceTypes, ", "),
			"statuses":    strings.Join(orderStatuses(), ", "),
		},
		kong.Writers(a.stdout, a.stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(a),
	)
}

// parse runs kong's parser; exited is the status kong asked to exit with
// (after printing help), or -1.
func parse(k *kong.Kong, args []string) (kctx *kong.Context, exited int, err error) {
	exited = -1
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitCode)
			if !ok {
				panic(r)
			}
			exited = int(c)
		}
	}()
	kctx, err = k.Parse(args)
	return kctx, exited, err
}

// fail prints err as the one line the operator sees and returns code.
func fail(stderr io.Writer, err error, code int) int {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	fmt.Fprintf(stderr, "notpanel: %s\n", msg)
	return code
}

// accountOf is the id of the account a --user flag names, or 0 (every
// account) when it is empty.
func accountOf(ctx context.Context, db *store.DB, user string) (int64, error) {
	if user == "" {
		return 0, nil
	}
	acc, err := db.FindAccount(ctx, user)
	return acc.ID, err
}

// scopeOf is the scope of an operator's listing: the account named by
// --user, or every account.
func scopeOf(ctx context.Context, db *store.DB, user string) (store.Scope, error) {
	if user == "" {
		return store.Operator, nil
	}
	acc, err := db.FindAccount(ctx, user)
	return store.Customer(acc.ID), err
}
