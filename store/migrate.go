package store

import (
	"context"
	"database/sql"
	"fmt"
)

// upgrades[i] takes a database from schema version i+1 to i+2. The schema
// given to Open is always the newest version, len(upgrades)+1; append here
// when schema.sql changes, and never edit a step that has shipped.
var upgrades = []string{}

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
