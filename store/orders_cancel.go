package store

import (
	"context"
	"database/sql"
	"errors"

	"notpanel/fault"
)

// RowResult is the outcome for one id of a batch call: Result is the id of
// what was done (the order, or a new refill), or Err says why not.
type RowResult struct {
	ID     string
	Result string
	Err    error
}

// Scope is whose orders a call may act on: one customer's (Customer), or,
// for the operator's commands and the worker only, every account's
// (Operator). The zero Scope is neither, and a call made with it fails: a
// page that forgot to name the signed-in account can touch nobody's
// orders, and no field left at zero means "everyone".
type Scope struct {
	account int64
	all     bool
}

// Customer is the scope of one account's own orders.
func Customer(accountID int64) Scope { return Scope{account: accountID} }

// Operator is the scope of every account's orders.
var Operator = Scope{all: true}

// errNoAccount is a customer's call made without an account: a bug in the
// caller, answered as an internal error rather than with anyone's data.
var errNoAccount = &Error{Code: Internal, Message: "no account", Err: errors.New("a customer's call was made without an account")}

func (s Scope) check() error {
	if !s.all && s.account <= 0 {
		return errNoAccount
	}
	return nil
}

func (s Scope) owns(accountID int64) bool { return s.all || s.account == accountID }

// customer checks a customer's call names its account.
func customer(accountID int64) error {
	if accountID <= 0 {
		return errNoAccount
	}
	return nil
}

// CancelOrders cancels each of ids within scope, all in one
// transaction. A pending order that the worker has not claimed is cancelled
// and fully refunded at once; an order handed (or being handed) to the
// upstream gets a cancel request for the worker to forward. Per-id problems
// are reported in the results; only a database failure fails the call.
func (db *DB) CancelOrders(ctx context.Context, scope Scope, ids []string) ([]RowResult, error) {
	if err := scope.check(); err != nil {
		return nil, err
	}
	if fault.Broken(fault.UnguardedCancel) {
		return db.cancelUnguarded(ctx, scope, ids)
	}
	return db.cancelOrders(ctx, scope, ids)
}

func (db *DB) cancelOrders(ctx context.Context, scope Scope, ids []string) ([]RowResult, error) {
	out := make([]RowResult, len(ids))
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		for i, raw := range ids {
			out[i] = RowResult{ID: raw}
		}
		orders, err := readOrderStates(ctx, tx, scope, ids)
		if err != nil {
			return err
		}
		// Each row is checked before anything is written for it, so a row
		// that fails leaves nothing behind; the refunds are paid together.
		now := db.unix()
		var pay refunds
		for i, raw := range ids {
			o, ok := orders[CanonicalID(PrefixOrder, raw)]
			if !ok {
				out[i].Err = ErrOrderNotFound
				continue
			}
			immediate, err := cancelable(o)
			if err != nil {
				out[i].Err = err
				continue
			}
			if immediate {
				if err := transition(ctx, tx, o, StatusCancelled, &o.units, "", now); err != nil {
					return err
				}
				pay.add(o.accountID, refund{amount: o.charge, orderID: o.id, note: "cancelled before dispatch"})
				o.status = StatusCancelled // the same id may come again in the batch
				orders[o.id] = o
			} else if err := queueCancel(ctx, tx, o.id, now); err != nil {
				return err
			}
			out[i].Result = raw
		}
		return pay.pay(ctx, tx, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inSavepoint runs fn inside a savepoint of tx. When fn fails with a
// customer-facing error its writes are rolled back and the error returned,
// and the transaction goes on; an internal error is returned as it is, for
// the caller to abort the transaction.
func inSavepoint(ctx context.Context, tx *Tx, fn func() error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT step`); err != nil {
		return internal("savepoint", err)
	}
	saved := tx.save()
	err := fn()
	if ErrorCode(err) == Internal {
		return err
	}
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO step`); rerr != nil {
			return internal("rollback to savepoint", rerr)
		}
		tx.restore(saved) // as the writer does for a write rolled back to its savepoint
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

// readOrderState reads an order within scope inside tx;
// a malformed id, an unknown one and another account's are all
// ErrOrderNotFound.
const orderStateCols = `o.id, o.account_id, o.status, o.claimed_at IS NOT NULL, coalesce(o.upstream_id, ''),
	o.maybe_sent, o.charge, o.units, s.cancel, s.refill`

func scanOrderState(row interface{ Scan(...any) error }) (orderState, error) {
	var o orderState
	err := row.Scan(&o.id, &o.accountID, &o.status, &o.claimed, &o.upstreamID, &o.maybeSent, &o.charge, &o.units,
		&o.canCancel, &o.canRefill)
	return o, err
}

// readOrderStates reads the orders among ids within scope in one query,
// keyed by canonical id; malformed, unknown and other accounts' ids are
// absent.
func readOrderStates(ctx context.Context, tx *Tx, scope Scope, ids []string) (map[string]orderState, error) {
	if err := scope.check(); err != nil {
		return nil, err
	}
	out := make(map[string]orderState, len(ids))
	var o orderState
	err := lookupOrders(ctx, tx, tx.legacyIDs, ids, `SELECT `+orderStateCols+` FROM orders o JOIN services s ON s.id = o.service_id
		WHERE %s`, nil,
		func(rows *sql.Rows) (string, error) {
			var err error
			o, err = scanOrderState(rows)
			return o.id, err
		},
		func() {
			if scope.owns(o.accountID) {
				out[o.id] = o
			}
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CanonicalID is the stored form of an id as a customer may have typed it
// (ULIDs are case-insensitive); anything else is returned as it is.
func CanonicalID(prefix, raw string) string {
	if id, ok := ParseID(prefix, raw); ok {
		return id
	}
	return raw
}

func readOrderState(ctx context.Context, tx *Tx, scope Scope, raw string) (orderState, error) {
	found, err := readOrderStates(ctx, tx, scope, []string{raw})
	if err != nil {
		return orderState{}, err
	}
	for _, o := range found {
		return o, nil
	}
	return orderState{}, ErrOrderNotFound
}

// cancelable says whether a customer's cancel of o applies at once (a
// pending order not handed to its provider) or is queued for the worker,
// or why it is refused.
func cancelable(o orderState) (now bool, err error) {
	switch {
	case Terminal(o.status):
		return false, Errorf(Invalid, "Order cannot be cancelled (already %s)", o.status)
	case o.status == StatusPending && !o.claimed && !o.maybeSent:
		return true, nil
	case o.status != StatusPending && !o.canCancel:
		return false, ErrNoCancel
	}
	return false, nil
}

// queueCancel records a cancel of an order handed to the upstream, being
// handed, or maybe handed already, for the worker. A repeat is a no-op; a
// request the upstream refused earlier is asked again.
func queueCancel(ctx context.Context, tx *Tx, orderID string, now int64) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO cancel_requests (order_id, created_at, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT (order_id) DO UPDATE SET status = 'pending', error = '', updated_at = excluded.updated_at
		 WHERE cancel_requests.status = 'refused'`, orderID, now, now)
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
		s, err := readOrderState(ctx, tx, Operator, o.ID)
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
