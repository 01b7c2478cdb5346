package store

import "context"

// Gauges are counts of the work in the database, for monitoring.
type Gauges struct {
	OpenOrders     map[string]int64 // pending, processing, in_progress
	Parked         int64            // orders waiting for the operator's review
	CancelRequests int64            // open
	Refills        int64            // unfinished
	Deliveries     int64            // webhook deliveries not made yet, retries included
}

// Gauges counts open work; each count is read through an index of open
// rows only, so a scrape costs the same on a database of any size.
func (db *DB) Gauges(ctx context.Context) (Gauges, error) {
	g := Gauges{OpenOrders: map[string]int64{StatusPending: 0, StatusProcessing: 0, StatusInProgress: 0}}
	rows, err := db.read.QueryContext(ctx,
		`SELECT status, count(*) FROM orders WHERE status = 'pending' OR status = 'processing' OR status = 'in_progress'
		 GROUP BY status`) // the condition of the index orders_work, word for word
	if err != nil {
		return g, internal("count orders", err)
	}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return g, internal("count orders", err)
		}
		g.OpenOrders[s] = n
	}
	rows.Close()
	for _, c := range []struct {
		dst *int64
		q   string
	}{
		{&g.Parked, `SELECT count(*) FROM orders WHERE review IS NOT NULL`},
		{&g.CancelRequests, `SELECT count(*) FROM cancel_requests WHERE status IN ('pending', 'sent')`},
		{&g.Refills, `SELECT count(*) FROM refills WHERE status IN ('pending', 'processing')`},
		{&g.Deliveries, `SELECT count(*) FROM deliveries WHERE status = 'pending'`},
	} {
		if err := db.read.QueryRowContext(ctx, c.q).Scan(c.dst); err != nil {
			return g, internal("count open work", err)
		}
	}
	return g, nil
}
