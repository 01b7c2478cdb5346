package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// benchShop is a database with one service and an account rich enough for
// any number of orders.
func benchShop(b *testing.B) (*store.DB, store.Account, store.Service) {
	b.Helper()
	db := storetest.Open(b)
	svc := storetest.Service(b, db, store.Service{Name: "F", Rate: 900_000, Min: 10, Max: 1_000_000, Cancel: true})
	a, _ := storetest.Account(b, db, "bench", store.MaxAmount)
	return db, a, svc
}

// BenchmarkPlaceOrder measures adds from many goroutines: the path of the
// API's add, group commit included.
func BenchmarkPlaceOrder(b *testing.B) {
	db, a, svc := benchShop(b)
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.PlaceOrder(context.Background(), a.ID, store.OrderInput{ServiceID: svc.ID,
				RequestID: fmt.Sprint(seq.Add(1)), Link: "https://x.example/p", Quantity: "100"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	commits, writes := db.WriteStats()
	b.ReportMetric(float64(writes)/float64(max(commits, 1)), "writes/commit")
}

// BenchmarkOrders measures the status lookup (OrderStatuses) of one order and of 100.
func BenchmarkOrders(b *testing.B) {
	db, a, svc := benchShop(b)
	ids := make([]string, 1000)
	for i := range ids {
		id, err := db.PlaceOrder(context.Background(), a.ID, store.OrderInput{ServiceID: svc.ID,
			RequestID: fmt.Sprint(i), Link: "https://x.example/p", Quantity: "100"})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i = (i + n) % (len(ids) - n)
					if got, err := db.OrderStatuses(context.Background(), a.ID, ids[i:i+n]); err != nil || len(got) != n {
						b.Fatal(len(got), err)
					}
				}
			})
		})
	}
}

// BenchmarkCancel100 measures a bulk cancel of 100 pending orders.
func BenchmarkCancel100(b *testing.B) {
	db, a, svc := benchShop(b)
	ctx := context.Background()
	seq := 0
	for b.Loop() {
		b.StopTimer()
		ids := make([]string, 100)
		for i := range ids {
			seq++
			id, err := db.PlaceOrder(ctx, a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: fmt.Sprint(seq),
				Link: "https://x.example/p", Quantity: "100"})
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = id
		}
		b.StartTimer()
		if _, err := db.CancelOrders(ctx, store.Customer(a.ID), ids); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate measures the key lookup every request makes.
func BenchmarkAuthenticate(b *testing.B) {
	db := storetest.Open(b)
	_, key := storetest.Account(b, db, "bench", 0)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Authenticate(context.Background(), key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
