package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"notpanel/httpapi"
)

// shutdownTimeout bounds how long serve waits for requests in flight once
// asked to stop, so that a stuck client cannot hold up a restart.
const shutdownTimeout = 15 * time.Second

type serveCmd struct {
	Listen         string        `default:":8080" help:"Address to listen on, host:port."`
	Worker         bool          `default:"true" negatable:"" help:"Run the background worker beside the API; --worker=false serves the API alone (maintenance, API-only nodes)."`
	WorkerInterval time.Duration `default:"2s" help:"How often the worker looks for new work: dispatch, cancel requests, refills, webhook deliveries."`
	SyncInterval   time.Duration `default:"60s" help:"How soon an in-flight order or refill is asked about upstream again (failures back off beyond it)."`
}

func (c *serveCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	// Listen before logging so that the log names the real address, also
	// when the port was 0.
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	srv := httpapi.NewServer(c.Listen, httpapi.New(httpapi.Config{DB: db, Log: a.log}))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.log.Info().Str("addr", ln.Addr().String()).Str("db", db.Path()).Msg("listening")

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	a.log.Info().Dur("timeout", shutdownTimeout).Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if shutdownErr != nil {
		srv.Close()
		return shutdownErr
	}
	a.log.Info().Msg("stopped")
	return nil
}
