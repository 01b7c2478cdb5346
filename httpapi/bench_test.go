package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"notpanel/store"
	"notpanel/store/storetest"
)

// benchAPI is the API over loopback HTTP on a real database with one
// service and a customer with ample funds.
func benchAPI(b *testing.B) (srv *httptest.Server, key string, orders []string) {
	b.Helper()
	db := storetest.Open(b)
	svc := storetest.Service(b, db, store.Service{Name: "F", Rate: 900_000, Min: 10, Max: 1_000_000, Cancel: true})
	for i := range 50 {
		storetest.Service(b, db, store.Service{Name: fmt.Sprint("S", i), Rate: 100, Min: 1, Max: 10})
	}
	a, key := storetest.Account(b, db, "bench", store.MaxAmount)
	for i := range 200 {
		id, err := db.PlaceOrder(b.Context(), a.ID, store.OrderInput{ServiceID: svc.ID, RequestID: fmt.Sprint("seed", i),
			Link: "https://x.example/p", Quantity: "100"})
		if err != nil {
			b.Fatal(err)
		}
		orders = append(orders, id)
	}
	// A benchmark measures the API, not the rate limits that would stop it.
	if err := db.SetTier(b.Context(), store.Tier{Name: "unlimited", KeyPerMin: 1e9, AccountPerMin: 1e9}); err != nil {
		b.Fatal(err)
	}
	if _, err := db.SetAccountTier(b.Context(), "bench", "unlimited"); err != nil {
		b.Fatal(err)
	}
	srv = httptest.NewServer(handler(Config{DB: db, Log: zerolog.Nop(), IPPerMin: 1e9}))
	b.Cleanup(srv.Close)
	return srv, key, orders
}

func benchPost(b *testing.B, c *http.Client, u string, form url.Values) {
	resp, err := c.PostForm(u, form)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
}

func BenchmarkAPI(b *testing.B) {
	srv, key, orders := benchAPI(b)
	u := srv.URL + "/api/v2"
	var seq atomic.Int64
	cases := map[string]func() url.Values{
		"add": func() url.Values {
			return url.Values{"key": {key}, "action": {"add"}, "service": {"1"}, "request_id": {fmt.Sprint(seq.Add(1))},
				"link": {"https://x.example/p"}, "quantity": {"100"}}
		},
		"status": func() url.Values {
			return url.Values{"key": {key}, "action": {"status"}, "order": {orders[seq.Add(1)%200]}}
		},
		"status100": func() url.Values {
			return url.Values{"key": {key}, "action": {"status"}, "orders": {strings.Join(orders[:100], ",")}}
		},
		"services": func() url.Values { return url.Values{"key": {key}, "action": {"services"}} },
	}
	for _, name := range []string{"add", "status", "status100", "services"} {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				for pb.Next() {
					benchPost(b, c, u, cases[name]())
				}
			})
		})
	}
}
