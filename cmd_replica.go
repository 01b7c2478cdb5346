package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"notpanel/replica"
	"notpanel/store"
)

// sftpFlags say how an sftp:// replica is reached; serve, restore and
// replica status share them.
type sftpFlags struct {
	SFTPKey     string `name:"sftp-key" default:"${sftpkey}" placeholder:"FILE" help:"Private key file (without a passphrase) that logs in to an sftp:// replica; the default comes from $$NOTPANEL_SFTP_KEY."`
	SFTPHostKey string `name:"sftp-host-key" default:"${sftphostkey}" placeholder:"KEY" help:"The sftp:// replica's public host key, as \"ssh-keyscan -t ed25519 HOST\" prints it; no other server is trusted. The default comes from $$NOTPANEL_SFTP_HOST_KEY."`
}

func (f sftpFlags) options(a *app, url string) replica.Options {
	return replica.Options{URL: url, SFTPKey: f.SFTPKey, SFTPHostKey: f.SFTPHostKey, Log: a.log}
}

type restoreCmd struct {
	URL       string `arg:"" optional:"" default:"${replica}" placeholder:"URL" help:"The replica to restore from, as given to serve --replica; the default comes from $$NOTPANEL_REPLICA."`
	Timestamp string `placeholder:"RFC3339" help:"Restore the database as it was at this time (e.g. 2026-12-06T09:30:00Z), within the last two days; the newest state when not given."`
	sftpFlags `embed:""`
}

func (c *restoreCmd) Run(ctx context.Context, a *app) error {
	if c.URL == "" {
		return errors.New("name the replica to restore from: notpanel restore URL, or set $NOTPANEL_REPLICA")
	}
	var at time.Time
	if c.Timestamp != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, c.Timestamp); err != nil {
			return fmt.Errorf("--timestamp %q: want a time such as 2026-12-06T09:30:00Z (RFC 3339)", c.Timestamp)
		}
		if at.After(time.Now()) {
			return fmt.Errorf("--timestamp %s is in the future", c.Timestamp)
		}
	}
	fmt.Fprintf(a.stderr, "restore: reading %s\n", replica.Redacted(c.URL))
	var books string
	got, err := replica.Restore(ctx, a.dbPath, at, c.options(a, c.URL), func(ctx context.Context, path string) error {
		db, err := store.Open(ctx, path, store.Options{Schema: schema})
		if err != nil {
			return fmt.Errorf("the restored copy does not open; nothing was restored: %w", err)
		}
		books, err = audit(ctx, db, a.stderr)
		return errors.Join(err, db.Close())
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "restore: wrote %s: integrity_check ok, audit ok (%s); its last transaction was written at %s, %s ago\n",
		a.dbPath, books, got.LastWrite.Format(time.RFC3339), time.Since(got.LastWrite).Round(time.Second))
	if got.NewReplica {
		fmt.Fprintf(a.stderr, "restore: WARNING: serve this database with a new replica URL (another path), not %s: its daily snapshot is ahead of its last shipments (they lagged when the machine was lost), and a server that went on streaming there could be missed by a later restore\n",
			replica.Redacted(c.URL))
	}
	fmt.Fprintln(a.stdout, got.LastWrite.Format(time.RFC3339))
	return nil
}

type replicaCmd struct {
	Status replicaStatusCmd `cmd:"" help:"Show when the replica last received a write, how far it is behind this database, and its size."`
}

type replicaStatusCmd struct {
	Replica   string `placeholder:"URL" default:"${replica}" help:"The replica serve streams to (see serve --replica); the default comes from $$NOTPANEL_REPLICA."`
	JSON      bool   `name:"json" help:"Print the status as JSON."`
	sftpFlags `embed:""`
}

// replicaStatus is what replica status --json prints.
type replicaStatus struct {
	Replica     string     `json:"replica"`
	LastSync    *time.Time `json:"last_sync"`
	LagSeconds  float64    `json:"lag_seconds"`
	Behind      uint64     `json:"behind_transactions"`
	ReplicaTXID uint64     `json:"replica_txid"`
	LocalTXID   uint64     `json:"local_txid"`
	Bytes       int64      `json:"bytes"`
	Files       int        `json:"files"`
}

func (c *replicaStatusCmd) Run(ctx context.Context, a *app) error {
	if c.Replica == "" {
		return errors.New("no replica: give --replica URL or set $NOTPANEL_REPLICA")
	}
	r, err := replica.Inspect(ctx, a.dbPath, c.options(a, c.Replica))
	if err != nil {
		return err
	}
	if c.JSON {
		out := replicaStatus{Replica: r.URL, LagSeconds: r.Lag.Seconds(), Behind: r.Behind, ReplicaTXID: r.ReplicaTXID,
			LocalTXID: r.LocalTXID, Bytes: r.Bytes, Files: r.Files}
		if !r.LastSync.IsZero() {
			out.LastSync = &r.LastSync
		}
		return writeJSON(a.stdout, out)
	}
	fmt.Fprintf(a.stdout, "replica    %s\n", r.URL)
	if r.LastSync.IsZero() {
		fmt.Fprintf(a.stdout, "last sync  never: the replica is empty\n")
	} else {
		fmt.Fprintf(a.stdout, "last sync  %s (%s ago)\n", r.LastSync.UTC().Format(time.RFC3339), time.Since(r.LastSync).Round(time.Second))
	}
	switch {
	case r.LocalTXID == 0:
		fmt.Fprintf(a.stdout, "lag        unknown: serve has not replicated %s on this machine\n", a.dbPath)
	case r.Behind == 0:
		fmt.Fprintf(a.stdout, "lag        0s: the replica holds every transaction captured here\n")
	default:
		fmt.Fprintf(a.stdout, "lag        %s: %d transactions captured here are not on the replica yet\n", r.Lag.Round(time.Millisecond), r.Behind)
	}
	fmt.Fprintf(a.stdout, "size       %s in %d files\n", sizeOf(r.Bytes), r.Files)
	return nil
}

// sizeOf writes a byte count for people.
func sizeOf(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
