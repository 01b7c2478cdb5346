package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds each statement cache; queries past it run
// unprepared (they are rare: the queries of this package are a fixed set,
// with at most 100 variants of an IN list each).
const maxCachedStatements = 2000

// Tx is a write transaction on the writer connection. It prepares each
// statement once for the life of the connection, so that a query is parsed
// once, not on every call.
type Tx struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt // owned by the writer goroutine
	seen  func(query string)   // tests: told of each query prepared
	// version caches the config version for the open transaction; -1 when
	// it must be read (see configVersion).
	version int64
	// bumped: a write of the open transaction changed the config (see
	// configSignal).
	bumped bool
	// legacyIDs: the database may hold order ids that carry no number (see
	// lookupOrders); fixed at Open.
	legacyIDs bool
	// lastOrder is the number of the newest order in the open transaction;
	// 0 when it must be read (see newOrderNumber).
	lastOrder int64
}

// savepoint is what a write may change of the Tx's own state, restored when
// the write is rolled back to its savepoint.
type savepoint struct {
	version   int64
	bumped    bool
	lastOrder int64
}

func (tx *Tx) save() savepoint { return savepoint{tx.version, tx.bumped, tx.lastOrder} }

func (tx *Tx) restore(s savepoint) {
	tx.version, tx.bumped, tx.lastOrder = s.version, s.bumped, s.lastOrder
}

// reset forgets what an earlier transaction cached, at the start of one.
func (tx *Tx) reset() { tx.restore(savepoint{version: -1}) }

// newOrderNumber returns the number of the next order: numbers are given
// here, not by SQLite, because an order's id carries its number. The
// newest number is read once per transaction.
func (tx *Tx) newOrderNumber(ctx context.Context) (int64, error) {
	if tx.lastOrder == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(number), 0) FROM orders`).Scan(&tx.lastOrder); err != nil {
			return 0, internal("read the newest order number", err)
		}
	}
	if tx.lastOrder >= MaxOrderNumber {
		return 0, Errorf(Internal, "order numbers are exhausted")
	}
	tx.lastOrder++
	return tx.lastOrder, nil
}

func (tx *Tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := tx.stmts[query]; ok {
		return s, nil
	}
	if tx.seen != nil {
		tx.seen(query)
	}
	s, err := tx.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(tx.stmts) < maxCachedStatements {
		tx.stmts[query] = s
	}
	return s, nil
}

// ExecContext runs a statement that returns no rows.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := tx.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryContext runs a query; close the rows before the next statement that
// uses the same query text.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := tx.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := tx.stmt(ctx, query)
	if err != nil {
		// Row carries no error of its own; let the connection report it.
		return tx.conn.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// readStmts caches statements prepared on the reader pool; database/sql
// prepares each on every pooled connection it runs on, once.
type readStmts struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	seen func(query string) // tests: told of each query prepared
}

func (r *readStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	r.mu.Lock()
	s, ok := r.m[query]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	if r.seen != nil {
		r.seen(query)
	}
	s, err := r.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.m[query]; ok {
		s.Close()
		return old, nil
	}
	if len(r.m) < maxCachedStatements {
		r.m[query] = s
	}
	return s, nil
}

// Reads run on a context that is not cancelled: they are short and
// bounded, and a cancellable context makes the driver watch every step of
// every row, which costs more than the read itself.

// QueryRowContext runs a read of at most one row on the reader pool.
func (r *readStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	s, err := r.stmt(ctx, query)
	if err != nil {
		return r.pool.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// QueryContext runs a read on the reader pool.
func (r *readStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	s, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (r *readStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.m {
		s.Close()
	}
	r.m = nil
}
