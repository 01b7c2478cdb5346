package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database to path with VACUUM INTO.
// It reads one snapshot, so it can run while the server keeps writing. The
// copy is written beside path first and renamed into place, so a failed
// backup never leaves a half-written file under the final name.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return Errorf(Conflict, "%s already exists; choose a new file name", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return Errorf(Invalid, "cannot use %s: %v", path, err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
	os.Remove(tmp)
	// VACUUM INTO needs only a read snapshot of the source, but a query_only
	// connection refuses it, and the writer connection belongs to the
	// writer goroutine: so it gets a connection of its own, which writes
	// nothing to the source and so never holds up the writer.
	conn, err := sql.Open("sqlite", dsn(db.path, false))
	if err != nil {
		return internal("backup", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return internal(fmt.Sprintf("backup to %s", path), err)
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return internal("backup", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return internal("backup", err)
	}
	return internal("backup", syncFile(filepath.Dir(path)))
}

// syncFile flushes a file (or a directory's entries) to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
