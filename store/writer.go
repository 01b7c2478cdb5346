package store

import (
	"context"
	"fmt"
)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// errClosed answers writes after Close.
var errClosed = Errorf(Internal, "database is closed")

// write is one Update waiting for the writer goroutine.
type write struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *Tx) error
	done chan error
}

// writeLoop is the writer goroutine: it takes the writes that are waiting
// (at least one, at most maxBatch) and commits them as one transaction.
func (db *DB) writeLoop() {
	defer close(db.written)
	defer db.wtx.conn.Close() // back to the pool, so that Close can close it
	// Statements still prepared keep SQLite from closing the connection
	// at once, and with it from folding the WAL into the database file.
	defer func() {
		for _, s := range db.wtx.stmts {
			s.Close()
		}
	}()
	batch := make([]*write, 0, maxBatch)
	for {
		select {
		case w := <-db.writes:
			batch = append(batch[:0], w)
		drain:
			for len(batch) < maxBatch {
				select {
				case w := <-db.writes:
					batch = append(batch, w)
				default:
					break drain
				}
			}
			db.commit(batch)
		case <-db.closing:
			for {
				select {
				case w := <-db.writes:
					w.done <- errClosed
				default:
					return
				}
			}
		}
	}
}

// commit runs a batch of writes in one transaction. A lone write runs
// bare; in a group each runs in a savepoint, rolled back if it fails. If
// the transaction itself fails, every write that had succeeded in it gets
// that error: none of them was committed.
func (db *DB) commit(batch []*write) {
	results := make([]error, len(batch))
	defer func() {
		for i, w := range batch {
			w.done <- results[i]
		}
	}()
	fail := func(err error) {
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	tx, bg := db.wtx, context.Background()
	tx.reset()
	if _, err := tx.ExecContext(bg, `BEGIN IMMEDIATE`); err != nil {
		fail(internal("begin", err))
		return
	}
	open := true
	defer func() {
		if open {
			// After a failed statement or COMMIT the transaction may still be
			// open; it must not leak into the next batch.
			tx.ExecContext(bg, `ROLLBACK`)
		}
	}()
	alone := len(batch) == 1
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			results[i] = internal("queued write", err) // its caller has gone: skip it
			continue
		}
		ctx := context.WithoutCancel(w.ctx)
		if alone {
			if results[i] = run(ctx, tx, w.fn); results[i] != nil {
				return // rolled back by the deferred ROLLBACK
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT write`); err != nil {
			fail(internal("savepoint", err))
			return
		}
		saved := tx.save() // what a rolled-back write must not leave behind
		if results[i] = run(ctx, tx, w.fn); results[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO write`); err != nil {
				fail(internal("rollback to savepoint", err))
				return
			}
			tx.restore(saved)
		}
		if _, err := tx.ExecContext(ctx, `RELEASE write`); err != nil {
			fail(internal("release savepoint", err))
			return
		}
	}
	if _, err := tx.ExecContext(bg, `COMMIT`); err != nil {
		fail(internal("commit", err))
		return
	}
	open = false
	if tx.bumped {
		db.signal.touch() // before any writer of the group is answered
	}
	db.commits.Add(1)
	db.committed.Add(int64(len(batch)))
}

// WriteStats says how many transactions the writer has committed and how
// many writes they carried: the ratio is the average group size.
func (db *DB) WriteStats() (commits, writes int64) {
	return db.commits.Load(), db.committed.Load()
}

// run calls fn, turning a panic into an error so that one bad write cannot
// take the writer goroutine (and every later write) down with it.
func run(ctx context.Context, tx *Tx, fn func(context.Context, *Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = internal("write", fmt.Errorf("panic: %v", r))
		}
	}()
	return fn(ctx, tx)
}
