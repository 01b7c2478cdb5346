package store

import (
	"context"
	"database/sql"
	"fmt"
)

// upgrades[i] takes a database from schema version i+1 to i+2. The schema
// given to Open is always the newest version, len(upgrades)+1; append here
// when schema.sql changes, and never edit a step that has shipped.
var upgrades = []string{
	// 1 -> 2: orders_work's condition is an OR of equalities, which the
	// dispatch and sync listings imply (with the IN they scanned the whole
	// table). Version 2 also spells the per-order tables' checks with OR
	// instead of IN; an upgraded file keeps its IN checks, which allow the
	// same values and cost only speed, as rebuilding the tables would cost
	// the operator a long lock. Order ids made before version 2 carry no
	// number: when there are orders, legacy_order_ids tells lookups to
	// fall back to the id for ids not found by their number.
	`DROP INDEX orders_work;
	 CREATE INDEX orders_work ON orders (status, next_at)
	     WHERE status = 'pending' OR status = 'processing' OR status = 'in_progress';
	 INSERT INTO settings (name, value) SELECT 'legacy_order_ids', '1' WHERE EXISTS (SELECT 1 FROM orders);`,
	// The storefront: an account's orders and ledger rows by account,
	// labelled API keys, services' descriptions, sign-in credentials,
	// sessions, and one-time tokens (password resets, invitations).
	`CREATE INDEX orders_account ON orders (account_id, number);
	 DROP INDEX ledger_account;
	 CREATE INDEX ledger_account ON ledger (account_id, id) WHERE kind != 'charge';
	 ALTER TABLE api_keys ADD COLUMN label TEXT NOT NULL DEFAULT '';
	 ALTER TABLE services ADD COLUMN description TEXT NOT NULL DEFAULT '';
	 CREATE TABLE credentials (
	     account_id  INTEGER PRIMARY KEY REFERENCES accounts (id),
	     password    TEXT NOT NULL DEFAULT '',
	     email       TEXT NOT NULL DEFAULT '',
	     totp_secret TEXT NOT NULL DEFAULT '',
	     totp_used   INTEGER NOT NULL DEFAULT 0,
	     changed_at  INTEGER NOT NULL
	 );
	 CREATE TABLE recovery_codes (
	     account_id INTEGER NOT NULL REFERENCES accounts (id),
	     hash       BLOB NOT NULL,
	     used_at    INTEGER,
	     PRIMARY KEY (account_id, hash)
	 ) WITHOUT ROWID;
	 CREATE TABLE sessions (
	     hash          BLOB PRIMARY KEY,
	     account_id    INTEGER NOT NULL REFERENCES accounts (id),
	     created_at    INTEGER NOT NULL,
	     seen_at       INTEGER NOT NULL,
	     expires_at    INTEGER NOT NULL,
	     second_factor INTEGER NOT NULL DEFAULT 0 CHECK (second_factor IN (0, 1)),
	     ip            TEXT NOT NULL DEFAULT '',
	     user_agent    TEXT NOT NULL DEFAULT ''
	 ) WITHOUT ROWID;
	 CREATE INDEX credentials_email ON credentials (email COLLATE NOCASE) WHERE email != '';
	 CREATE INDEX sessions_account ON sessions (account_id);
	 CREATE INDEX sessions_expiry ON sessions (expires_at);
	 CREATE TABLE tokens (
	     hash       BLOB PRIMARY KEY,
	     kind       TEXT NOT NULL CHECK (kind IN ('reset', 'invite')),
	     account_id INTEGER REFERENCES accounts (id),
	     created_at INTEGER NOT NULL,
	     expires_at INTEGER NOT NULL,
	     used_at    INTEGER
	 ) WITHOUT ROWID;`,
	// Payments: the gateways customers top up through, their deposits, and
	// the deposit a ledger row credits (NULL on every earlier row).
	`CREATE TABLE gateways (
	     id             INTEGER PRIMARY KEY,
	     name           TEXT NOT NULL,
	     kind           TEXT NOT NULL CHECK (kind IN ('stripe', 'btcpay', 'cryptomus')),
	     url            TEXT NOT NULL,
	     api_key        TEXT NOT NULL,
	     webhook_secret TEXT NOT NULL DEFAULT '',
	     store_id       TEXT NOT NULL DEFAULT '',
	     merchant       TEXT NOT NULL DEFAULT '',
	     min_amount     INTEGER NOT NULL CHECK (min_amount > 0),
	     max_amount     INTEGER NOT NULL CHECK (max_amount >= min_amount),
	     status         TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled', 'removed')),
	     created_at     INTEGER NOT NULL
	 );
	 CREATE UNIQUE INDEX gateways_name ON gateways (name) WHERE status != 'removed';
	 CREATE TABLE deposits (
	     id             TEXT PRIMARY KEY,
	     account_id     INTEGER NOT NULL REFERENCES accounts (id),
	     gateway_id     INTEGER NOT NULL REFERENCES gateways (id),
	     amount         INTEGER NOT NULL CHECK (amount > 0),
	     currency       TEXT NOT NULL,
	     reference      TEXT NOT NULL,
	     checkout_url   TEXT NOT NULL,
	     status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'credited', 'expired', 'failed')),
	     credited       INTEGER NOT NULL DEFAULT 0 CHECK (credited >= 0),
	     gateway_status TEXT NOT NULL DEFAULT '',
	     review         TEXT,
	     note           TEXT NOT NULL DEFAULT '',
	     attempts       INTEGER NOT NULL DEFAULT 0,
	     next_at        INTEGER NOT NULL DEFAULT 0,
	     last_error     TEXT NOT NULL DEFAULT '',
	     created_at     INTEGER NOT NULL,
	     updated_at     INTEGER NOT NULL
	 ) WITHOUT ROWID;
	 CREATE UNIQUE INDEX deposits_reference ON deposits (gateway_id, reference);
	 CREATE INDEX deposits_account ON deposits (account_id, id);
	 CREATE INDEX deposits_due ON deposits (next_at) WHERE status = 'pending' AND review IS NULL;
	 ALTER TABLE ledger ADD COLUMN deposit_id TEXT REFERENCES deposits (id);
	 CREATE INDEX ledger_deposit ON ledger (deposit_id) WHERE deposit_id IS NOT NULL;`,

	// Provider pace, catalog sync, balance and failover: each provider's
	// calls at once and a minute, the pace the worker keeps after a 429, the
	// scheduled catalog sync and the balance read with it; a service's
	// backup provider and the warning of a sync that disabled it; the note
	// of an order sent to the backup.
	`ALTER TABLE providers ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 16 CHECK (concurrency BETWEEN 1 AND 1000);
	 ALTER TABLE providers ADD COLUMN per_minute INTEGER NOT NULL DEFAULT 0 CHECK (per_minute >= 0);
	 ALTER TABLE providers ADD COLUMN pace INTEGER;
	 ALTER TABLE providers ADD COLUMN pace_hold INTEGER NOT NULL DEFAULT 0;
	 ALTER TABLE providers ADD COLUMN pace_reason TEXT NOT NULL DEFAULT '';
	 ALTER TABLE providers ADD COLUMN pace_at INTEGER;
	 ALTER TABLE providers ADD COLUMN markup_bp INTEGER;
	 ALTER TABLE providers ADD COLUMN catalog_sync INTEGER NOT NULL DEFAULT 0 CHECK (catalog_sync >= 0);
	 ALTER TABLE providers ADD COLUMN catalog_at INTEGER;
	 ALTER TABLE providers ADD COLUMN catalog_error TEXT NOT NULL DEFAULT '';
	 ALTER TABLE providers ADD COLUMN balance INTEGER;
	 ALTER TABLE providers ADD COLUMN balance_currency TEXT NOT NULL DEFAULT '';
	 ALTER TABLE providers ADD COLUMN balance_at INTEGER;
	 ALTER TABLE providers ADD COLUMN balance_error TEXT NOT NULL DEFAULT '';
	 ALTER TABLE providers ADD COLUMN low_balance INTEGER;
	 ALTER TABLE providers ADD COLUMN upkeep_next INTEGER NOT NULL DEFAULT 0;
	 ALTER TABLE services ADD COLUMN backup_provider_id INTEGER REFERENCES providers (id);
	 ALTER TABLE services ADD COLUMN backup_provider_service TEXT;
	 ALTER TABLE services ADD COLUMN warning TEXT NOT NULL DEFAULT '';
	 ALTER TABLE orders ADD COLUMN failover TEXT;`,
}

// migrate brings the file to the newest version in one transaction: a fresh
// file gets the whole schema, an older one the missing upgrade steps, and a
// newer one is refused.
func migrate(ctx context.Context, w *sql.DB, schema string, steps []string) error {
	latest := len(steps) + 1
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	switch {
	case version == latest:
		return nil
	case version > latest:
		return fmt.Errorf("database schema version %d is newer than this notpanel understands (%d); run a newer notpanel or restore a backup", version, latest)
	case version == 0:
		var tables int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables); err != nil {
			return err
		}
		if tables > 0 {
			return fmt.Errorf("file has tables but no notpanel schema version; is it a notpanel database?")
		}
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	default:
		if version == 1 {
			if err := foldIdempotency(ctx, tx); err != nil {
				return fmt.Errorf("upgrade schema version 1 of a development build: %w", err)
			}
		}
		for v := version; v < latest; v++ {
			if _, err := tx.ExecContext(ctx, steps[v-1]); err != nil {
				return fmt.Errorf("upgrade schema from version %d to %d: %w", v, v+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", latest)); err != nil {
		return err
	}
	return tx.Commit()
}

// foldIdempotency brings a version 1 file of a development build that kept
// request_ids in a table of their own (idempotency) to the version 1 the
// upgrade steps start from, where each order carries its request_id and fingerprint: a
// retry of an add made before the upgrade still gets its first answer. An
// order with no request_id recorded gets one no client can send (it starts
// with a control character, which ValidRequestID refuses). A file
// without the table is left alone.
func foldIdempotency(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'idempotency'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		ALTER TABLE orders ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
		ALTER TABLE orders ADD COLUMN fingerprint BLOB NOT NULL DEFAULT x'';
		UPDATE orders SET
		  request_id = coalesce((SELECT i.request_id FROM idempotency i WHERE i.order_id = orders.id), char(1) || orders.id),
		  fingerprint = coalesce((SELECT i.fingerprint FROM idempotency i WHERE i.order_id = orders.id), x'');
		CREATE UNIQUE INDEX orders_request ON orders (account_id, request_id);
		DROP INDEX orders_account;
		DROP TABLE idempotency;`)
	return err
}
