// Package store owns notpanel's SQLite database: the schema and its upgrades,
// the one writer connection and the reader pool, and every operation on
// accounts, keys, the catalog, orders, refills and the ledger. Each operation
// is one transaction; every balance change writes a ledger row in it.
//
// # Replication
//
// serve may stream this file off the machine with Litestream (package
// replica), which works beside store as one more connection to the file.
// Its rules for an application sharing the database are kept here:
//
//   - Every connection waits for locks (busy_timeout in dsn, 10 s):
//     Litestream takes the write lock for a moment at each capture of the
//     WAL and at its checkpoints.
//   - store runs no checkpoint of its own in RESTART or TRUNCATE mode, which
//     would reset the WAL under Litestream; only SQLite's automatic PASSIVE
//     checkpoints run. Litestream checkpoints the WAL itself.
//   - Open creates or upgrades the schema before Litestream starts on the
//     file: Litestream adds two tables of its own (_litestream_seq,
//     _litestream_lock), and a file with tables but no schema version is
//     refused as not a notpanel database.
//   - Close closes the application's connections; a caller that replicates
//     stops the replica only after that, and waits for its last sync, so
//     that no write is left behind on a clean stop.
//   - Pragmas are set in the DSN of each pool, never with an Exec on a pool
//     (which would reach one connection only), and only modernc.org/sqlite
//     opens the file in this process: SQLite's POSIX locks belong to the
//     process, and a second driver closing its handle would drop them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// DB is an open notpanel database: one writer connection through which all
// writes are serialized, and a pool of read-only connections over the same
// WAL file.
type DB struct {
	path   string
	writer *sql.DB
	reader *sql.DB
	read   *readStmts // prepared reads on the reader pool

	hot     atomic.Pointer[Snapshot] // the latest Refresh
	rebuild sync.Mutex
	signal  *configSignal // tells of config changes committed since
	now     func() time.Time

	writes    chan *write   // to the writer goroutine
	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	written   chan struct{} // closed when the writer goroutine is gone
	wtx       *Tx           // the writer connection, held by the writer goroutine
	legacyIDs bool          // orders made before ids carried numbers may exist (see lookupOrders)
	commits   atomic.Int64  // transactions the writer committed
	committed atomic.Int64  // writes in them
}

// Options configure Open.
type Options struct {
	// Schema is the full SQL of the current schema (schema.sql).
	Schema string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Readers is the size of the read-only pool; 2×GOMAXPROCS (min 4) when 0.
	Readers int
}

// dsn builds a modernc.org/sqlite DSN with every pragma in it, so that each
// connection of a pool is set up the same way.
func dsn(path string, readOnly bool) string {
	v := url.Values{}
	// Waits for a lock another connection holds (Litestream's, the CLI's)
	// instead of failing with SQLITE_BUSY; first, so that it applies to
	// the pragmas after it too.
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(FULL)")
	v.Add("_pragma", "foreign_keys(ON)")
	// Savepoints (one per write in a group commit) keep their undo pages in
	// a statement journal: in memory, not in a temporary file.
	v.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		v.Set("_txlock", "immediate")
	}
	return "file:" + url.PathEscape(path) + "?" + v.Encode()
}

// Open opens (creating if needed) the database at path, creates or upgrades
// its schema, and checks that it runs in WAL mode.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if opt.Schema == "" {
		return nil, errors.New("store: no schema given")
	}
	db := &DB{path: path, now: opt.Now}
	if db.now == nil {
		db.now = time.Now
	}
	var err error
	if db.writer, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	db.writer.SetConnMaxIdleTime(0)

	var mode string
	if err := db.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if mode != "wal" {
		db.writer.Close()
		return nil, fmt.Errorf("open %s: journal_mode is %q, want wal", path, mode)
	}
	if err := migrate(ctx, db.writer, opt.Schema, upgrades); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}

	readers := opt.Readers
	if readers <= 0 {
		readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if db.reader, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.reader.SetMaxOpenConns(readers)
	db.reader.SetMaxIdleConns(readers)
	db.read = &readStmts{pool: db.reader, m: map[string]*sql.Stmt{}}
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		db.reader.Close()
		db.writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) > 0 FROM settings WHERE name = 'legacy_order_ids'`).Scan(&db.legacyIDs); err != nil {
		conn.Close()
		db.reader.Close()
		db.writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.wtx = &Tx{conn: conn, stmts: map[string]*sql.Stmt{}, legacyIDs: db.legacyIDs}
	db.signal = openSignal(path)
	db.writes, db.closing, db.written = make(chan *write), make(chan struct{}), make(chan struct{})
	go db.writeLoop()
	return db, nil
}

// Close stops the writer (writes already queued are refused) and closes
// both pools. With a replica, Close comes first and the replica's close
// after it (see Replication above).
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closing) })
	<-db.written
	db.read.close()
	return errors.Join(db.reader.Close(), db.writer.Close(), db.signal.close())
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Update runs fn in a write transaction and commits it. Writes from many
// goroutines are grouped: the one writer goroutine runs the fns waiting
// for it one after another in a single transaction, each in its own
// savepoint, and commits them together, so that concurrent requests share
// the cost of a synchronous commit. A fn that fails rolls back alone; Update
// returns only after the commit that made fn durable (or with fn's error).
//
// fn receives a context that is never cancelled: once a write has started,
// a client that hangs up cannot interrupt it (an interrupted statement
// would abort the whole group). fn must not call Update itself.
func (db *DB) Update(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- w:
	case <-ctx.Done():
		return internal("queue write", ctx.Err())
	case <-db.closing:
		return errClosed
	}
	return <-w.done
}

// View runs fn in a read transaction on the reader pool; all its reads see
// one snapshot.
func (db *DB) View(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return internal("begin", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func (db *DB) unix() int64 { return db.now().Unix() }

// bumpConfig marks a change that in-memory caches of a running server must
// notice (keys, accounts, tiers, services, settings).
func bumpConfig(ctx context.Context, tx *Tx) error {
	tx.version = -1 // read it again when next asked
	tx.bumped = true
	_, err := tx.ExecContext(ctx,
		`UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE name = 'config_version'`)
	return internal("bump config version", err)
}

// configVersion is the config version as this transaction sees it, read
// once per group of writes: while the transaction is open no other process
// can change it, and this one changes it only through bumpConfig.
func (tx *Tx) configVersion(ctx context.Context) (int64, error) {
	if tx.version < 0 {
		if err := tx.QueryRowContext(ctx,
			configVersionQuery).Scan(&tx.version); err != nil {
			tx.version = -1
			return 0, internal("read config version", err)
		}
	}
	return tx.version, nil
}

// ConfigVersion returns the counter that every admin change bumps. A cache
// built at version v is valid while ConfigVersion still returns v. The
// answer reflects every change committed before the call, by this process
// or another (the CLI): the database is read again whenever the config
// signal file has changed, and at least every second.
func (db *DB) ConfigVersion(ctx context.Context) (int64, error) {
	stamp, ok := db.signal.read()
	now := time.Now()
	if ok {
		if v, hit := db.signal.cached(stamp, now); hit {
			return v, nil
		}
	}
	v, err := db.readConfigVersion(ctx)
	if err == nil && ok {
		db.signal.remember(stamp, v, now)
	}
	return v, err
}

const configVersionQuery = `SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'config_version'`

// Ping reads from the database, bypassing every cache: for health checks.
func (db *DB) Ping(ctx context.Context) error {
	_, err := db.readConfigVersion(ctx)
	return err
}

// readConfigVersion reads the config version from the database.
func (db *DB) readConfigVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.read.QueryRowContext(ctx, configVersionQuery).Scan(&v)
	return v, internal("read config version", err)
}

// Currency is the panel's currency code.
func (db *DB) Currency(ctx context.Context) (string, error) {
	var c string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'currency'`).Scan(&c)
	return c, internal("read currency", err)
}

// SetCurrency changes the panel's currency code (three upper-case letters).
func (db *DB) SetCurrency(ctx context.Context, code string) error {
	if len(code) != 3 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' || code[2] < 'A' || code[2] > 'Z' {
		return Errorf(Invalid, "Invalid currency %q: want three upper-case letters such as USD", code)
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE settings SET value = ? WHERE name = 'currency'`, code); err != nil {
			return internal("set currency", err)
		}
		return bumpConfig(ctx, tx)
	})
}
