package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"notpanel/simulator"
	"notpanel/store"
	"notpanel/worker"
)

// demoFile is the demo's database, made afresh in the working directory on
// every start, apart from the operator's own --db.
const demoFile = "notpanel-demo.db"

type demoCmd struct {
	Listen string `default:"127.0.0.1:8080" help:"Address to serve the API on, host:port."`
}

func (c *demoCmd) Run(ctx context.Context, a *app) error {
	for _, suffix := range []string{"", "-wal", "-shm", "-config"} {
		if err := os.Remove(demoFile + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	a.dbPath = demoFile
	db, err := a.open(ctx)
	if err != nil {
		return err
	}

	// The simulated provider serves the classic dialect on a loopback port,
	// so the worker reaches it through the same client as a real provider.
	simKey := rand.Text()
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sim := &http.Server{Handler: simulator.New(simKey, nil, uint64(time.Now().UnixNano())), ReadHeaderTimeout: 10 * time.Second}
	go sim.Serve(simLn)
	defer sim.Close()
	simURL := "http://" + simLn.Addr().String() + "/api/v2"
	a.log.Warn().Str("url", simURL).Msg("SIMULATED provider: orders are not really delivered anywhere")

	key, password, err := seedDemo(ctx, db, simURL, simKey)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	ops, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return err
	}
	site := "http://" + ln.Addr().String()
	api := site + "/api/v2"
	fmt.Fprintf(a.stdout, "Storefront: %s  (sign in as demo, password %s)\n", site, password)
	fmt.Fprintf(a.stdout, "API key: %s\n\n", key)
	fmt.Fprintf(a.stdout, "Try it (database %s, simulated provider, 100.00 USD of demo funds):\n", demoFile)
	fmt.Fprintf(a.stdout, "  curl -s %s -d key=%s -d action=services\n", api, key)
	fmt.Fprintf(a.stdout, "  curl -s %s -d key=%s -d action=add -d service=1 -d request_id=demo-1 --data-urlencode link=https://instagram.com/p/demo -d quantity=1000\n", api, key)
	fmt.Fprintf(a.stdout, "  curl -s %s -d key=%s -d action=status -d order=ORDER_ID\n", api, key)
	fmt.Fprintf(a.stdout, "  curl -s %s -d key=%s -d action=balance\n\n", api, key)
	fmt.Fprintf(a.stdout, "Operator view: notpanel --db %s order list\n", demoFile)
	fmt.Fprintf(a.stdout, "Metrics: http://%s/metrics\n", ops.Addr())
	return serve(ctx, a, db, listeners{public: ln, ops: ops}, siteConfig{},
		&worker.Config{Interval: time.Second, SyncInterval: 5 * time.Second})
}

// seedDemo registers the simulated provider, imports its catalog at a 25 %
// markup, and creates a funded demo account that signs in to the
// storefront; it returns the account's API key and password.
func seedDemo(ctx context.Context, db *store.DB, simURL, simKey string) (key, password string, err error) {
	p, err := db.AddProvider(ctx, store.Provider{Name: "simulated", URL: simURL, APIKey: simKey, Dialect: store.DialectClassic})
	if err != nil {
		return "", "", err
	}
	if _, _, err := importCatalog(ctx, db, p, 2500); err != nil {
		return "", "", err
	}
	a, err := db.CreateAccount(ctx, "demo", "")
	if err != nil {
		return "", "", err
	}
	if _, err := db.AddFunds(ctx, "demo", 100*store.MicrosPerUnit, "demo funds"); err != nil {
		return "", "", err
	}
	// A fresh random password each start: the demo listens on loopback,
	// but a copied command line must not carry a password that works
	// everywhere.
	password = strings.ToLower(rand.Text()[:12])
	if err := db.SetPassword(ctx, a.ID, password); err != nil {
		return "", "", err
	}
	site := "Demo panel"
	tagline := "A notpanel demo: a simulated provider, nothing is really delivered."
	if _, err := db.SetSite(ctx, store.SitePatch{Name: &site, Tagline: &tagline}); err != nil {
		return "", "", err
	}
	key, _, err = db.CreateKey(ctx, "demo")
	return key, password, err
}
