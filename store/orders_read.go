package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
)

// Order is one order as stored.
type Order struct {
	ID         string `json:"order"`
	Number     int64  `json:"number"`
	AccountID  int64  `json:"account_id"`
	ServiceID  int64  `json:"service"`
	Link       string `json:"link"`
	Quantity   int64  `json:"quantity"`
	Runs       int64  `json:"runs,omitempty"`
	Interval   int64  `json:"interval,omitempty"`
	Units      int64  `json:"units"`
	Extra      string `json:"extra,omitempty"`
	Charge     int64  `json:"charge"`
	Status     string `json:"status"`
	Claimed    bool   `json:"claimed"`
	UpstreamID string `json:"upstream_id,omitempty"`
	StartCount int64  `json:"start_count"`
	Remains    int64  `json:"remains"`
	Reason     string `json:"reason,omitempty"`
	// Review, when set, says why the order waits for the operator.
	Review         string `json:"review,omitempty"`
	UpstreamStatus string `json:"upstream_status,omitempty"`
	ProviderID     int64  `json:"provider_id,omitempty"`
	// Failover says why the order went to its service's backup provider.
	Failover string `json:"failover,omitempty"`
	Attempts int64  `json:"attempts"`
	NextAt   int64  `json:"next_at"`
	Created  int64  `json:"created"`
	Updated  int64  `json:"updated"`
}

const orderCols = `number, id, account_id, service_id, link, quantity, coalesce(runs, 0), coalesce(interval, 0),
	units, coalesce(extra, ''), charge, status, claimed_at IS NOT NULL, coalesce(upstream_id, ''),
	coalesce(start_count, 0), coalesce(remains, units), coalesce(reason, ''), coalesce(review, ''),
	upstream_status, coalesce(provider_id, 0), coalesce(failover, ''), attempts, next_at, created_at, updated_at`

func scanOrder(row interface{ Scan(...any) error }) (Order, error) {
	var o Order
	err := row.Scan(&o.Number, &o.ID, &o.AccountID, &o.ServiceID, &o.Link, &o.Quantity, &o.Runs, &o.Interval,
		&o.Units, &o.Extra, &o.Charge, &o.Status, &o.Claimed, &o.UpstreamID, &o.StartCount, &o.Remains,
		&o.Reason, &o.Review, &o.UpstreamStatus, &o.ProviderID, &o.Failover, &o.Attempts, &o.NextAt, &o.Created, &o.Updated)
	return o, err
}

// OrderStatus is what the status action shows of an order.
type OrderStatus struct {
	Status     string
	Charge     int64
	StartCount int64
	Remains    int64
}

// OrderStatuses returns what the status action shows of the account's
// orders among ids, keyed by canonical id: the hot read of the API. Ids
// that are malformed, unknown or another account's are simply absent.
func (db *DB) OrderStatuses(ctx context.Context, accountID int64, ids []string) (map[string]OrderStatus, error) {
	if err := customer(accountID); err != nil {
		return nil, err
	}
	out := make(map[string]OrderStatus, len(ids))
	var id string
	var o OrderStatus
	err := lookupOrders(ctx, db.read, db.legacyIDs, ids,
		`SELECT o.id, `+orderStatusCols+` FROM orders o WHERE %s AND +o.account_id = ?`, []any{accountID},
		func(rows *sql.Rows) (string, error) {
			err := rows.Scan(&id, &o.Status, &o.Charge, &o.StartCount, &o.Remains)
			return id, err
		},
		func() { out[id] = o })
	if err != nil {
		return nil, err
	}
	return out, nil
}

const orderStatusCols = `o.status, o.charge, coalesce(o.start_count, 0), coalesce(o.remains, o.units)`

// OrderStatusesByNumber is OrderStatuses for the classic dialect, which
// names orders by number: one read of the account's orders among nums.
func (db *DB) OrderStatusesByNumber(ctx context.Context, accountID int64, nums []int64) (map[int64]OrderStatus, error) {
	if err := customer(accountID); err != nil {
		return nil, err
	}
	out := make(map[int64]OrderStatus, len(nums))
	if len(nums) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(nums)+1)
	for _, n := range nums {
		args = append(args, n)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT o.number, `+orderStatusCols+` FROM orders o
		WHERE o.number IN (?`+strings.Repeat(",?", len(nums)-1)+`) AND +o.account_id = ?`, append(args, accountID)...)
	if err != nil {
		return nil, internal("read orders", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		var o OrderStatus
		if err := rows.Scan(&n, &o.Status, &o.Charge, &o.StartCount, &o.Remains); err != nil {
			return nil, internal("read orders", err)
		}
		out[n] = o
	}
	return out, internal("read orders", rows.Err())
}

// FindOrder returns any account's order by its ord_ id or its number; for
// the operator.
func (db *DB) FindOrder(ctx context.Context, ref string) (Order, error) {
	if number, err := strconv.ParseInt(ref, 10, 64); err == nil {
		o, err := scanOrder(db.read.QueryRowContext(ctx, `SELECT `+orderCols+` FROM orders WHERE number = ?`, number))
		if errors.Is(err, sql.ErrNoRows) {
			return Order{}, ErrOrderNotFound
		}
		return o, internal("read order", err)
	}
	var o, found Order
	err := lookupOrders(ctx, db.read, db.legacyIDs, []string{ref}, `SELECT `+orderCols+` FROM orders o WHERE %s`, nil,
		func(rows *sql.Rows) (string, error) {
			var err error
			o, err = scanOrder(rows)
			return o.ID, err
		},
		func() { found = o })
	if err != nil {
		return Order{}, err
	}
	if found.ID == "" {
		return Order{}, ErrOrderNotFound
	}
	return found, nil
}

// OrderFilter narrows ListOrders; zero fields other than Scope do not
// filter.
type OrderFilter struct {
	// Scope is whose orders are listed; the zero Scope lists nothing.
	Scope  Scope
	Status string
	Review bool // only orders parked for the operator
	// Search finds an order by its id or number, or the orders whose link
	// contains it.
	Search string
	// Before pages the list: only orders numbered below it (0 for the
	// newest). The last order of a full page gives the next page's.
	Before int64
	Limit  int
}

// ListOrders lists orders newest first, at most Limit (default 100), read
// by the account's index (or the table's key) from Before down: a page is
// as quick however long the history behind it.
func (db *DB) ListOrders(ctx context.Context, f OrderFilter) ([]Order, error) {
	if err := f.Scope.check(); err != nil {
		return nil, err
	}
	q := `SELECT ` + orderCols + ` FROM orders WHERE 1 = 1`
	var args []any
	if !f.Scope.all {
		q += ` AND account_id = ?`
		args = append(args, f.Scope.account)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Review {
		q += ` AND review IS NOT NULL`
	}
	if f.Before > 0 {
		q += ` AND number < ?`
		args = append(args, f.Before)
	}
	if search := strings.TrimSpace(f.Search); search != "" {
		if number, err := strconv.ParseInt(search, 10, 64); err == nil {
			q += ` AND number = ?`
			args = append(args, number)
		} else if id, ok := ParseID(PrefixOrder, search); ok {
			q += ` AND id = ?`
			args = append(args, id)
		} else {
			q += ` AND link LIKE ? ESCAPE '\'`
			args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(search)+"%")
		}
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY number DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, internal("list orders", err)
	}
	defer rows.Close()
	out := []Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, internal("list orders", err)
		}
		out = append(out, o)
	}
	return out, internal("list orders", rows.Err())
}

// Order returns one order within scope: another account's order is
// ErrOrderNotFound, exactly like one that does not exist.
func (db *DB) Order(ctx context.Context, scope Scope, ref string) (Order, error) {
	if err := scope.check(); err != nil {
		return Order{}, err
	}
	o, err := db.FindOrder(ctx, ref)
	if err != nil {
		return Order{}, err
	}
	if !scope.owns(o.AccountID) {
		return Order{}, ErrOrderNotFound
	}
	return o, nil
}
