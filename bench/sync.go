package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// FastProvider is a provider that answers status calls at once, every order
// "In progress": the upstream of the worker's sync measurement, so that the
// time measured is notpanel's.
func FastProvider() http.Handler {
	row := json.RawMessage(`{"charge":"0.9","start_count":"100","status":"In progress","remains":"500","currency":"USD"}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("action") != "status" {
			w.Write([]byte(`{"error":"Incorrect request"}`))
			return
		}
		out := map[string]json.RawMessage{}
		for _, id := range strings.Split(r.PostFormValue("orders"), ",") {
			out[id] = row
		}
		json.NewEncoder(w).Encode(out)
	})
}

// PrepareSync points the scratch database's provider at url and makes the
// first n preloaded orders due for a status check there.
func PrepareSync(ctx context.Context, path, url string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE providers SET url = ? WHERE name = 'bench-upstream'`, url); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx,
		`UPDATE orders SET provider_id = (SELECT id FROM providers WHERE name = 'bench-upstream'), next_at = 0,
		   upstream_status = '' WHERE number <= ?`, n)
	return err
}

// Synced counts the orders whose status has been asked since PrepareSync.
func Synced(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE upstream_status != ''`).Scan(&n)
	return n, err
}

// WaitSynced polls until n orders are synced or ctx ends, and returns how
// long it took from start.
func WaitSynced(ctx context.Context, path string, n int, start time.Time) (time.Duration, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	for {
		got, err := Synced(ctx, db)
		if err != nil {
			return 0, err
		}
		if got >= n {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
