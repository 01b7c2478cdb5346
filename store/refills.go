package store

import (
	"context"
	"strings"
)

// Refill statuses.
const (
	RefillPending    = "pending"
	RefillProcessing = "processing"
	RefillCompleted  = "completed"
	RefillRejected   = "rejected"
)

// MaxRefills is how many refills one order may have, rejected ones not
// counted.
const MaxRefills = 3

// Refill is a customer's request to top up a completed order.
type Refill struct {
	ID        string `json:"refill"`
	Number    int64  `json:"number"`
	OrderID   string `json:"order"`
	AccountID int64  `json:"account_id"`
	Status    string `json:"status"`
	Created   int64  `json:"created"`
	Updated   int64  `json:"updated"`
}

// RequestRefills asks for a refill of each of ids, in one transaction. Only
// completed or partial orders of services with refill qualify, at most
// MaxRefills per order and one unfinished at a time. Each successful row's
// Result is the new refill id.
func (db *DB) RequestRefills(ctx context.Context, scope Scope, ids []string) ([]RowResult, error) {
	if err := scope.check(); err != nil {
		return nil, err
	}
	return db.eachRow(ctx, ids, func(tx *Tx, raw string, now int64) (string, error) {
		return refillOne(ctx, tx, scope, raw, now)
	})
}

func refillOne(ctx context.Context, tx *Tx, scope Scope, raw string, now int64) (string, error) {
	o, err := readOrderState(ctx, tx, scope, raw)
	if err != nil {
		return "", err
	}
	if !o.canRefill {
		return "", ErrNoRefill
	}
	if o.status != StatusCompleted && o.status != StatusPartial {
		return "", Errorf(Invalid, "Order cannot be refilled (%s)", o.status)
	}
	var counted, open int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FILTER (WHERE status != 'rejected'), count(*) FILTER (WHERE status IN ('pending', 'processing'))
		 FROM refills WHERE order_id = ?`, o.id).Scan(&counted, &open); err != nil {
		return "", internal("count refills", err)
	}
	if err := refillRoom(counted, open); err != nil {
		return "", err
	}
	id := NewID(PrefixRefill)
	_, err = tx.ExecContext(ctx,
		`INSERT INTO refills (id, order_id, account_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		id, o.id, o.accountID, now, now)
	return id, internal("insert refill", err)
}

// refillRoom says why an order with counted refills that were not rejected,
// open of them still pending or processing, may not be refilled again, or
// nil when it may.
func refillRoom(counted, open int) error {
	if open > 0 {
		return Errorf(Invalid, "Order already has a refill in progress")
	}
	if counted >= MaxRefills {
		return Errorf(Invalid, "Refill limit reached (%d per order)", MaxRefills)
	}
	return nil
}

// RefillRoom is refillRoom for an order's refills as OrderRefills lists
// them: the pages use it to offer a refill only when the store would take
// one (the store decides again when it is asked).
func RefillRoom(refills []Refill) error {
	var counted, open int
	for _, rf := range refills {
		if rf.Status == RefillPending || rf.Status == RefillProcessing {
			open++
		}
		if rf.Status != RefillRejected {
			counted++
		}
	}
	return refillRoom(counted, open)
}

// Refills returns the account's refills among ids, keyed by id; ids that are
// malformed, unknown or another account's are absent.
func (db *DB) Refills(ctx context.Context, accountID int64, ids []string) (map[string]Refill, error) {
	if err := customer(accountID); err != nil {
		return nil, err
	}
	out := make(map[string]Refill, len(ids))
	in, args, ok := ownIDs(accountID, PrefixRefill, ids)
	if !ok {
		return out, nil
	}
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, number, order_id, account_id, status, created_at, updated_at FROM refills WHERE `+in, args...)
	if err != nil {
		return nil, internal("read refills", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Refill
		if err := rows.Scan(&r.ID, &r.Number, &r.OrderID, &r.AccountID, &r.Status, &r.Created, &r.Updated); err != nil {
			return nil, internal("read refills", err)
		}
		out[r.ID] = r
	}
	return out, internal("read refills", rows.Err())
}

// ownIDs builds the condition "this account's rows among these ids" (of
// refills: orders are found by the number their id carries) for the
// well-formed ids among ids, with its arguments; ok is false when there
// is none. "+account_id" keeps the planner off the account index: an
// account may have millions of rows, and the ids are unique.
func ownIDs(accountID int64, prefix string, ids []string) (where string, args []any, ok bool) {
	args = make([]any, 0, len(ids)+1)
	args = append(args, accountID)
	for _, raw := range ids {
		if id, valid := ParseID(prefix, raw); valid {
			args = append(args, id)
		}
	}
	if len(args) == 1 {
		return "", nil, false
	}
	return `+account_id = ? AND id IN (?` + strings.Repeat(",?", len(args)-2) + `)`, args, true
}

// OrderRefills lists the refills of one order within scope, oldest first.
func (db *DB) OrderRefills(ctx context.Context, scope Scope, orderID string) ([]Refill, error) {
	o, err := db.Order(ctx, scope, orderID)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, number, order_id, account_id, status, created_at, updated_at
		FROM refills WHERE order_id = ? ORDER BY created_at, id`, o.ID)
	if err != nil {
		return nil, internal("list refills", err)
	}
	defer rows.Close()
	out := []Refill{}
	for rows.Next() {
		var r Refill
		if err := rows.Scan(&r.ID, &r.Number, &r.OrderID, &r.AccountID, &r.Status, &r.Created, &r.Updated); err != nil {
			return nil, internal("list refills", err)
		}
		out = append(out, r)
	}
	return out, internal("list refills", rows.Err())
}
