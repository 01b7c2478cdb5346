package store_test

import (
	"slices"
	"strconv"
	"testing"

	"notpanel/store"
)

// placeLink places a Default order of 100 on link for acct.
func (f *fixture) placeLink(t *testing.T, acct int64, link string) store.Order {
	t.Helper()
	id, err := f.db.PlaceOrder(ctx, acct, store.OrderInput{
		ServiceID: f.svc[store.TypeDefault].ID, RequestID: "req-" + strconv.FormatInt(requestSeq.Add(1), 10),
		Link: link, Quantity: "100",
	})
	if err != nil {
		t.Fatalf("PlaceOrder(%s): %v", link, err)
	}
	return f.order(t, id)
}

func TestListOrdersPaging(t *testing.T) {
	f := newFixture(t, 100_000_000)
	bob := fundedAccount(t, f, "bob", 100_000_000)
	var mine []store.Order // oldest first
	for i, link := range []string{
		"https://instagram.com/p/alpha", "https://instagram.com/p/beta_1", "https://tiktok.com/@alice/video/123",
		"https://instagram.com/p/gamma", "https://instagram.com/p/beta%20two", "https://youtube.com/watch?v=delta",
		"https://instagram.com/p/epsilon",
	} {
		mine = append(mine, f.placeLink(t, f.acct.ID, link))
		if i%2 == 0 {
			f.placeLink(t, bob, "https://instagram.com/p/bob") // interleaved orders of another account
		}
	}
	f.setStatus(t, mine[1].ID, store.StatusCompleted)
	f.setStatus(t, mine[4].ID, store.StatusCompleted)
	f.setStatus(t, mine[5].ID, store.StatusCompleted)
	ids := func(os ...store.Order) []string {
		out := []string{}
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	newestFirst := func(os ...store.Order) []string {
		out := ids(os...)
		slices.Reverse(out)
		return out
	}

	tests := []struct {
		name   string
		filter store.OrderFilter
		want   []string // every page's ids, newest first
	}{
		{"All", store.OrderFilter{}, newestFirst(mine...)},
		{"Status", store.OrderFilter{Status: store.StatusCompleted}, newestFirst(mine[1], mine[4], mine[5])},
		{"StatusOtherwise", store.OrderFilter{Status: store.StatusPending}, newestFirst(mine[0], mine[2], mine[3], mine[6])},
		{"SearchLink", store.OrderFilter{Search: "instagram.com/p/"}, newestFirst(mine[0], mine[1], mine[3], mine[4], mine[6])},
		{"SearchLinkTrimmed", store.OrderFilter{Search: "  tiktok.com  "}, newestFirst(mine[2])},
		{"SearchUnderscoreIsLiteral", store.OrderFilter{Search: "beta_"}, newestFirst(mine[1])},
		{"SearchPercentIsLiteral", store.OrderFilter{Search: "beta%"}, newestFirst(mine[4])},
		{"SearchLinkAndStatus", store.OrderFilter{Search: "instagram", Status: store.StatusPending}, newestFirst(mine[0], mine[3], mine[6])},
		{"SearchNumber", store.OrderFilter{Search: strconv.FormatInt(mine[3].Number, 10)}, ids(mine[3])},
		{"SearchID", store.OrderFilter{Search: mine[5].ID}, ids(mine[5])},
		{"SearchIDWithSpaces", store.OrderFilter{Search: " " + mine[5].ID + " "}, ids(mine[5])},
		{"SearchNothing", store.OrderFilter{Search: "facebook"}, []string{}},
		{"UnknownStatus", store.OrderFilter{Status: "lost"}, []string{}},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 2, 3, 100} {
			t.Run(tt.name+"/PagesOf"+strconv.Itoa(size), func(t *testing.T) {
				var got []string
				filter := tt.filter
				filter.Scope, filter.Limit = store.Customer(f.acct.ID), size
				for range 20 {
					page, err := f.db.ListOrders(ctx, filter)
					if err != nil {
						t.Fatal(err)
					}
					if len(page) > size {
						t.Fatalf("page of %d orders, limit %d", len(page), size)
					}
					for _, o := range page {
						if o.AccountID != f.acct.ID {
							t.Fatalf("order %s of account %d listed", o.ID, o.AccountID)
						}
					}
					got = append(got, ids(page...)...)
					if len(page) < size {
						break
					}
					filter.Before = page[len(page)-1].Number
				}
				if got == nil {
					got = []string{}
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("pages = %v, want %v", got, tt.want)
				}
			})
		}
	}

	t.Run("DefaultLimit", func(t *testing.T) {
		list, err := f.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator})
		if err != nil || len(list) != 11 {
			t.Errorf("ListOrders(Operator) = %d orders, %v; want all 11", len(list), err)
		}
	})
	t.Run("ZeroScopeListsNothing", func(t *testing.T) {
		list, err := f.db.ListOrders(ctx, store.OrderFilter{Search: "instagram"})
		if store.ErrorCode(err) != store.Internal || list != nil {
			t.Errorf("ListOrders without a scope = %d orders, %v; want an internal error and no orders", len(list), err)
		}
	})
}

func TestOrderInScope(t *testing.T) {
	f := newFixture(t, 10_000_000)
	bob := fundedAccount(t, f, "bob", 10_000_000)
	mine := f.order(t, f.add(t, f.acct.ID, store.TypeDefault, 100))
	theirs := f.order(t, f.add(t, bob, store.TypeDefault, 100))
	number := func(o store.Order) string { return strconv.FormatInt(o.Number, 10) }
	tests := []struct {
		name  string
		scope store.Scope
		ref   string
		want  string // order id; "" for not found
	}{
		{"OwnByID", store.Customer(f.acct.ID), mine.ID, mine.ID},
		{"OwnByNumber", store.Customer(f.acct.ID), number(mine), mine.ID},
		{"OthersByID", store.Customer(f.acct.ID), theirs.ID, ""},
		{"OthersByNumber", store.Customer(f.acct.ID), number(theirs), ""},
		{"Unknown", store.Customer(f.acct.ID), store.NewID(store.PrefixOrder), ""},
		{"Garbage", store.Customer(f.acct.ID), "'; DROP TABLE orders; --", ""},
		{"OperatorSeesAll", store.Operator, theirs.ID, theirs.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := f.db.Order(ctx, tt.scope, tt.ref)
			if tt.want == "" {
				wantErr(t, err, store.NotFound, "Order not found")
				return
			}
			if err != nil || o.ID != tt.want {
				t.Errorf("Order = %s, %v; want %s", o.ID, err, tt.want)
			}
		})
	}
	if _, err := f.db.Order(ctx, store.Scope{}, mine.ID); store.ErrorCode(err) != store.Internal {
		t.Errorf("Order without a scope = %v, want an internal error", err)
	}
}
