package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"notpanel/store"
)

// DispatchProvider is the provider's name in the dispatch measurement.
const DispatchProvider = "bench-slow"

// PrepareDispatch seeds db for the dispatch measurement: a provider at url
// (a simulated one) allowed concurrency calls at once, a service on it (the
// simulator's service 1), a funded account, and n pending orders placed as
// customers place them.
func PrepareDispatch(ctx context.Context, db *store.DB, url, key string, concurrency, n int) error {
	if _, err := db.AddProvider(ctx, store.Provider{Name: DispatchProvider, URL: url, APIKey: key}); err != nil {
		return err
	}
	if _, err := db.UpdateProvider(ctx, DispatchProvider, store.ProviderPatch{Concurrency: &concurrency}); err != nil {
		return err
	}
	svc, err := db.AddService(ctx, store.Service{Name: "Followers", Category: "Instagram", Type: store.TypeDefault,
		Rate: 900_000, Min: 50, Max: 10_000, ProviderService: "1"}, DispatchProvider)
	if err != nil {
		return err
	}
	acct, err := db.CreateAccount(ctx, "bench", "")
	if err != nil {
		return err
	}
	if _, err := db.AddFunds(ctx, acct.Name, int64(n)*store.MicrosPerUnit, "bench funds"); err != nil {
		return err
	}
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for g := range errs {
		wg.Go(func() {
			for i := g; i < n && errs[g] == nil; i += len(errs) {
				_, errs[g] = db.PlaceOrder(ctx, acct.ID, store.OrderInput{ServiceID: svc.ID, RequestID: fmt.Sprint("d", i),
					Link: fmt.Sprintf("https://instagram.com/p/bench%d", i), Quantity: "100"})
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WaitDispatched polls the database at path until none of its orders is
// pending any more, or ctx ends, and returns when that was seen.
func WaitDispatched(ctx context.Context, path string) (time.Time, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return time.Time{}, err
	}
	defer db.Close()
	for {
		var pending, parked int
		err := db.QueryRowContext(ctx, `SELECT count(*), count(review) FROM orders WHERE status = 'pending'`).Scan(&pending, &parked)
		if err != nil {
			return time.Time{}, err
		}
		if parked > 0 {
			return time.Time{}, fmt.Errorf("%d orders were parked for review: see the server's log", parked)
		}
		if pending == 0 {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
