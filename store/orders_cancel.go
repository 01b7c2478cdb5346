package store

import (
	"context"
	"database/sql"
	"errors"
)

// RowResult is the outcome for one id of a batch call: Result is the id of
// what was done (the order, or a new refill), or Err says why not.
type RowResult struct {
	ID     string
	Result string
	Err    error
}

// Everyone, passed as the account, lets the operator act on any order.
const Everyone int64 = 0

// CancelOrders cancels each of ids for the account (or Everyone), all in one
// transaction. A pending order that the worker has not claimed is cancelled
// and fully refunded at once; an order handed (or being handed) to the
// upstream gets a cancel request for the worker to forward. Per-id problems
// are reported in the results; only a database failure fails the call.
func (db *DB) CancelOrders(ctx context.Context, accountID int64, ids []string) ([]RowResult, error) {
	return db.eachRow(ctx, ids, func(tx *Tx, raw string, now int64) (string, error) {
		return raw, cancelOne(ctx, tx, accountID, raw, now)
	})
}

// inSavepoint runs fn inside a savepoint of tx. When fn fails with a
// customer-facing error its writes are rolled back and the error returned,
// and the transaction goes on; an internal error is returned as it is, for
// the caller to abort the transaction.
func inSavepoint(ctx context.Context, tx *Tx, fn func() error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT step`); err != nil {
		return internal("savepoint", err)
	}
	err := fn()
	if ErrorCode(err) == Internal {
		return err
	}
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO step`); rerr != nil {
			return internal("rollback to savepoint", rerr)
		}
	}
	if _, rerr := tx.ExecContext(ctx, `RELEASE step`); rerr != nil {
		return internal("release savepoint", rerr)
	}
	return err
}

// eachRow runs fn for each id of a batch call, all in one transaction and
// each in its own savepoint, so that a row that fails leaves nothing behind
// while the others go through. A row's customer-facing error becomes its
// result; a database failure fails the whole call.
func (db *DB) eachRow(ctx context.Context, ids []string, fn func(tx *Tx, raw string, now int64) (string, error)) ([]RowResult, error) {
	out := make([]RowResult, len(ids))
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		for i, raw := range ids {
			out[i] = RowResult{ID: raw}
			var result string
			err := inSavepoint(ctx, tx, func() (err error) {
				result, err = fn(tx, raw, now)
				return err
			})
			switch {
			case ErrorCode(err) == Internal:
				return err
			case err != nil:
				out[i].Err = err
			default:
				out[i].Result = result
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// orderState is what a state change needs to know about an order.
type orderState struct {
	id         string
	accountID  int64
	status     string
	claimed    bool
	upstreamID string
	maybeSent  bool
	charge     int64
	units      int64
	canCancel  bool
	canRefill  bool
}

// readOrderState reads an order of the account (or of Everyone) inside tx;
// a malformed id, an unknown one and another account's are all
// ErrOrderNotFound.
func readOrderState(ctx context.Context, tx *Tx, accountID int64, raw string) (orderState, error) {
	var o orderState
	id, ok := ParseID(PrefixOrder, raw)
	if !ok {
		return o, ErrOrderNotFound
	}
	err := tx.QueryRowContext(ctx,
		`SELECT o.id, o.account_id, o.status, o.claimed_at IS NOT NULL, coalesce(o.upstream_id, ''), o.maybe_sent,
		   o.charge, o.units, s.cancel, s.refill
		 FROM orders o JOIN services s ON s.id = o.service_id WHERE o.id = ?`, id).
		Scan(&o.id, &o.accountID, &o.status, &o.claimed, &o.upstreamID, &o.maybeSent, &o.charge, &o.units,
			&o.canCancel, &o.canRefill)
	if errors.Is(err, sql.ErrNoRows) || err == nil && accountID != Everyone && o.accountID != accountID {
		return o, ErrOrderNotFound
	}
	return o, internal("read order", err)
}

func cancelOne(ctx context.Context, tx *Tx, accountID int64, raw string, now int64) error {
	o, err := readOrderState(ctx, tx, accountID, raw)
	if err != nil {
		return err
	}
	switch {
	case Terminal(o.status):
		return Errorf(Invalid, "Order cannot be cancelled (already %s)", o.status)
	case o.status == StatusPending && !o.claimed && !o.maybeSent:
		return settle(ctx, tx, o, StatusCancelled, o.charge, &o.units, "", "cancelled before dispatch", now)
	case o.status != StatusPending && !o.canCancel:
		return ErrNoCancel
	}
	// Handed to the upstream, being handed, or maybe handed already: queue it
	// for the worker. A repeat is a no-op; a request the upstream refused
	// earlier is asked again.
	_, err = tx.ExecContext(ctx,
		`INSERT INTO cancel_requests (order_id, created_at, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT (order_id) DO UPDATE SET status = 'pending', error = '', updated_at = excluded.updated_at
		 WHERE cancel_requests.status = 'refused'`, o.id, now, now)
	return internal("queue cancel request", err)
}

// CancelRequest is a queued cancel of an order already with the upstream.
type CancelRequest struct {
	OrderID string `json:"order"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	Created int64  `json:"created"`
	Updated int64  `json:"updated"`
}

// CancelRequestFor returns the cancel request of an order, if any.
func (db *DB) CancelRequestFor(ctx context.Context, orderID string) (CancelRequest, bool, error) {
	var c CancelRequest
	err := db.read.QueryRowContext(ctx,
		`SELECT order_id, status, error, created_at, updated_at FROM cancel_requests WHERE order_id = ?`, orderID).
		Scan(&c.OrderID, &c.Status, &c.Error, &c.Created, &c.Updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, internal("read cancel request", err)
}

// RefundOrder is the operator's full refund: the order becomes refunded and
// whatever of its charge has not been refunded yet goes back to the account.
// An order the worker is dispatching right now cannot be refunded until the
// dispatch is resolved.
func (db *DB) RefundOrder(ctx context.Context, ref, note string) (int64, error) {
	o, err := db.FindOrder(ctx, ref)
	if err != nil {
		return 0, err
	}
	var amount int64
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		s, err := readOrderState(ctx, tx, Everyone, o.ID)
		if err != nil {
			return err
		}
		switch {
		case s.status == StatusCancelled || s.status == StatusRefunded || s.status == StatusFailed:
			return Errorf(Invalid, "Order %s is already %s and fully refunded", o.ID, s.status)
		case s.status == StatusPending && s.claimed:
			return Errorf(Conflict, "Order %s is being sent to its provider; try again when it has been", o.ID)
		}
		var refunded int64
		if err := tx.QueryRowContext(ctx,
			`SELECT coalesce(sum(amount), 0) FROM ledger WHERE order_id = ? AND kind = 'refund'`, o.ID).Scan(&refunded); err != nil {
			return internal("sum refunds", err)
		}
		amount = s.charge - refunded
		if note == "" {
			note = "operator refund"
		}
		return settle(ctx, tx, s, StatusRefunded, amount, nil, "", note, db.unix())
	})
	return amount, err
}
