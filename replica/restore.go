package replica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/superfly/ltx"
	_ "modernc.org/sqlite" // the driver Litestream itself uses
)

// Restored is what Restore brought back.
type Restored struct {
	// TXID is the replica's number of the last transaction restored.
	TXID uint64
	// LastWrite is when that transaction was captured for the replica,
	// within one interval of its commit.
	LastWrite time.Time
	// NewReplica says that the restored file must be served with a new
	// replica URL (see levelsAligned): the replica's snapshot is ahead of
	// its shipments.
	NewReplica bool
}

// Check inspects a restored copy at path before it takes its final name;
// an error stops the restore and nothing is kept.
type Check func(ctx context.Context, path string) error

// Restore writes the database held by the replica to path: as it was at
// the time at, or at its newest when at is zero. path must not exist (nor
// its -wal file, which SQLite would apply to the new file). The copy is
// written to a temporary file beside path, must pass PRAGMA
// integrity_check and then check, and only then is renamed to path; a
// failure leaves nothing behind. Litestream's local state of an earlier
// database at path, if any, is removed: it belongs to a file that is gone.
func Restore(ctx context.Context, path string, at time.Time, opt Options, check Check) (Restored, error) {
	for _, p := range []string{path, path + "-wal"} {
		if _, err := os.Lstat(p); err == nil {
			return Restored{}, fmt.Errorf("%s already exists: restore writes a new database and never replaces one; move it aside first (with its -wal and -shm files)", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return Restored{}, err
		}
	}
	client, err := opt.client()
	if err != nil {
		return Restored{}, err
	}
	from := Redacted(opt.URL)
	if err := client.ReplicaClient.Init(ctx); err != nil {
		return Restored{}, fmt.Errorf("replica %s: %w", from, err)
	}
	plan, err := litestream.CalcRestorePlan(ctx, client.ReplicaClient, 0, at, opt.slog())
	switch {
	case errors.Is(err, litestream.ErrTxNotAvailable) && at.IsZero():
		return Restored{}, fmt.Errorf("the replica %s holds no database", from)
	case errors.Is(err, litestream.ErrTxNotAvailable):
		return Restored{}, fmt.Errorf("the replica %s holds nothing as old as %s", from, at.Format(time.RFC3339))
	case err != nil:
		return Restored{}, fmt.Errorf("replica %s: %w", from, err)
	}
	last := plan[len(plan)-1]

	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".restoring")
	removeTemp(tmp)
	defer removeTemp(tmp)
	ropt := litestream.NewRestoreOptions()
	ropt.OutputPath, ropt.TXID = tmp, last.MaxTXID // exactly the plan read above
	logged := litestream.NewDB(tmp)                // never opened: it carries our logger to the restore
	logged.SetLogger(opt.slog())
	defer logged.Close(context.WithoutCancel(ctx))
	if err := litestream.NewReplicaWithClient(logged, client.ReplicaClient).Restore(ctx, ropt); err != nil {
		return Restored{}, fmt.Errorf("restore from %s: %w", from, err)
	}
	when, err := captured(ctx, client, last)
	if err != nil {
		return Restored{}, fmt.Errorf("restore from %s: %w", from, err)
	}
	if err := integrity(ctx, tmp); err != nil {
		return Restored{}, err
	}
	if check != nil {
		if err := check(ctx, tmp); err != nil {
			return Restored{}, err
		}
	}
	// The checks closed their connections, the last ones, which folded the
	// WAL into the file; a WAL still holding frames would be lost by the
	// rename of the file alone.
	if fi, err := os.Stat(tmp + "-wal"); err == nil && fi.Size() > 0 {
		return Restored{}, fmt.Errorf("the restored copy %s kept a WAL of %d bytes after its checks; nothing was restored", tmp, fi.Size())
	}
	aligned, err := levelsAligned(ctx, client)
	if err != nil {
		return Restored{}, fmt.Errorf("replica %s: %w", from, err)
	}
	if err := os.RemoveAll(litestream.NewDB(path).MetaPath()); err != nil {
		return Restored{}, fmt.Errorf("remove the replication state of the former database: %w", err)
	}
	os.Remove(path + "-shm") // an index of a -wal that is gone
	if err := renameNew(tmp, path); errors.Is(err, os.ErrExist) {
		return Restored{}, fmt.Errorf("%s appeared while restoring; it was left alone and nothing was restored", path)
	} else if err != nil {
		return Restored{}, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return Restored{}, err
	}
	return Restored{TXID: uint64(last.MaxTXID), LastWrite: when, NewReplica: !aligned}, nil
}

// removeTemp removes a temporary copy and the files beside it that SQLite,
// Litestream and store make for it.
func removeTemp(tmp string) {
	os.Remove(tmp)
	os.Remove(tmp + ".tmp")
	others, _ := filepath.Glob(tmp + "-*")
	for _, p := range others {
		os.Remove(p)
	}
}

// captured reads when the transactions of a replica file were captured,
// from the file's header.
func captured(ctx context.Context, c *watched, info *ltx.FileInfo) (time.Time, error) {
	rc, err := c.OpenLTXFile(ctx, info.Level, info.MinTXID, info.MaxTXID, 0, ltx.HeaderSize)
	if err != nil {
		return time.Time{}, err
	}
	defer rc.Close()
	hdr, _, err := ltx.PeekHeader(rc)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the header of %s: %w", ltx.FormatFilename(info.MinTXID, info.MaxTXID), err)
	}
	return time.UnixMilli(hdr.Timestamp).UTC(), nil
}

// integrity runs PRAGMA integrity_check on the file and returns its
// findings (the first ten) as an error.
func integrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err != nil {
		return fmt.Errorf("integrity_check of the restored copy: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			found = append(found, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity_check of the restored copy: %w", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("the restored copy fails integrity_check; nothing was restored: %s", strings.Join(found, "; "))
	}
	return nil
}

// renameChecked renames from to to unless to exists; the check and the
// rename are two steps.
func renameChecked(from, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	}
	return os.Rename(from, to)
}

// syncDir flushes a directory's entries (a rename) to stable storage.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// levelsAligned reports whether the newest file of the replica's level 0
// holds its newest transaction. A server that starts on a restored file
// takes that file as where the replica stands and numbers its shipments
// after it. The daily snapshot, though, is made from the database itself
// and can be ahead of level 0 when uploads lagged as the machine was lost:
// a server would then reuse numbers the snapshot holds, and a later restore,
// which prefers the snapshot, would miss what the server wrote.
func levelsAligned(ctx context.Context, c litestream.ReplicaClient) (bool, error) {
	var newest, level0 ltx.TXID
	err := eachFile(ctx, c, func(f *ltx.FileInfo) {
		if f.Level == 0 && f.MaxTXID > level0 {
			level0 = f.MaxTXID
		}
		newest = max(newest, f.MaxTXID)
	})
	return level0 >= newest, err
}

// eachFile calls fn with every file of the replica, level by level.
func eachFile(ctx context.Context, c litestream.ReplicaClient, fn func(*ltx.FileInfo)) error {
	for _, lvl := range append(levels(), &litestream.CompactionLevel{Level: litestream.SnapshotLevel}) {
		it, err := c.LTXFiles(ctx, lvl.Level, 0, false)
		if err != nil {
			return err
		}
		for it.Next() {
			f := *it.Item()
			fn(&f)
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	return nil
}
