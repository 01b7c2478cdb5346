package storefront_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

var (
	orderRowRE = regexp.MustCompile(`<td data-label="Order"><a href="/orders/(ord_[0-9A-Z]+)">#(\d+)</a>`)
	olderRE    = regexp.MustCompile(`<a href="(/orders\?[^"]+)">Older`)
)

// listed is the orders of an /orders page by id, in the order shown, and
// the link to the next (older) page.
func listed(body string) (ids []string, numbers []int64, next string) {
	for _, m := range orderRowRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		ids, numbers = append(ids, m[1]), append(numbers, n)
	}
	if m := olderRE.FindStringSubmatch(body); m != nil {
		next = htmlText(m[1])
	}
	return ids, numbers, next
}

func TestOrdersPagedByKey(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	_, bob := s.customer("bob", 10_000_000)
	def := s.svc[store.TypeDefault]
	var mine []string // newest first
	for i := range 120 {
		mine = append([]string{s.place(s.alice.ID, def, fmt.Sprintf("https://instagram.com/p/alice%03d", i), 100)}, mine...)
		if i%40 == 0 {
			s.place(bob.ID, def, "https://instagram.com/p/bob", 100)
		}
	}
	code, body := b.get("/orders")
	ids, numbers, next := listed(body)
	if code != http.StatusOK || len(ids) != 50 || strings.Join(ids, " ") != strings.Join(mine[:50], " ") {
		t.Fatalf("first page: %d, %d orders, want the 50 newest in order", code, len(ids))
	}
	if next != fmt.Sprint("/orders?before=", numbers[49]) {
		t.Errorf("next page link %q", next)
	}
	if strings.Contains(body, "← Newest") {
		t.Error("the first page links to the first page")
	}
	// Orders placed while the customer reads do not shift the next page.
	for i := range 7 {
		s.place(s.alice.ID, def, fmt.Sprintf("https://instagram.com/p/late%d", i), 100)
	}
	seen := append([]string(nil), ids...)
	for next != "" {
		_, body = b.get(next)
		ids, _, next = listed(body)
		seen = append(seen, ids...)
		if !strings.Contains(body, "← Newest") {
			t.Error("an older page does not link back to the newest")
		}
	}
	if strings.Join(seen, " ") != strings.Join(mine, " ") {
		t.Errorf("paging from the first page saw %d orders, want the 120 from then, each once, newest first", len(seen))
	}
	// A key that is not a number is the first page.
	if _, body := b.get("/orders?before=abc"); len(orderRowRE.FindAllString(body, -1)) != 50 {
		t.Error("?before=abc is not the first page")
	}
	// Another account sees none of them.
	bobPage := s.browser()
	bobPage.signIn("bob", "bob "+alicePassword)
	if _, body := bobPage.get("/orders"); len(orderRowRE.FindAllString(body, -1)) != 3 || strings.Contains(body, "alice0") {
		t.Error("bob's /orders is not his three orders")
	}
}

func TestOrdersFilterAndSearch(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	_, bob := s.customer("bob", 10_000_000)
	def := s.svc[store.TypeDefault]
	var ids []string
	for i := range 70 {
		ids = append(ids, s.place(s.alice.ID, def, fmt.Sprintf("https://instagram.com/p/a%d_100%%25", i), 100))
	}
	s.place(s.alice.ID, def, "https://instagram.com/p/a1x100%25", 100) // what a1_100% would match as a pattern
	for _, id := range ids[:60] {
		s.exec(`UPDATE orders SET status = 'completed' WHERE id = ?`, id)
	}
	s.exec(`UPDATE orders SET status = 'in_progress' WHERE id = ?`, ids[65])
	bobs := s.place(bob.ID, def, "https://instagram.com/p/a1_100%25", 100)

	_, body := b.get("/orders?status=completed")
	got, _, next := listed(body)
	if len(got) != 50 || !strings.Contains(next, "status=completed") || !regexp.MustCompile(`<option value="completed" selected>`).MatchString(body) {
		t.Fatalf("?status=completed: %d orders, next %q", len(got), next)
	}
	_, body = b.get(next)
	older, _, last := listed(body)
	all := append(got, older...)
	if len(all) != 60 || last != "" {
		t.Errorf("completed orders over two pages: %d, then %q", len(all), last)
	}
	for _, id := range all {
		if s.order(id).Status != store.StatusCompleted {
			t.Errorf("%s is listed as completed", id)
		}
	}
	// A search over more than a page keeps to the search, there and back.
	_, body = b.get("/orders?q=_100")
	got, _, next = listed(body)
	if len(got) != 50 || !strings.Contains(next, "q=_100") {
		t.Fatalf("?q=_100: %d orders, next %q", len(got), next)
	}
	_, body = b.get(next)
	if older := mustListed(body); len(older) != 20 || !strings.Contains(body, `href="/orders?q=_100">← Newest`) {
		t.Errorf("the second page of a search: %d orders, newest link %q", len(older), regexp.MustCompile(`href="[^"]*">← Newest`).FindString(body))
	}
	if _, body := b.get("/orders?status=in_progress"); strings.Join(mustListed(body), " ") != ids[65] {
		t.Errorf("?status=in_progress: %v", mustListed(body))
	}
	if _, body := b.get("/orders?status=nonsense"); len(mustListed(body)) != 50 {
		t.Error("an unknown status is not ignored")
	}
	if _, body := b.get("/orders?status=failed"); !strings.Contains(text(body), "No order matches.") {
		t.Error("an empty filter does not say so")
	}

	o := s.order(ids[7])
	searches := []struct {
		q    string
		want []string
	}{
		{o.ID, []string{o.ID}},
		{strings.ToLower(o.ID), []string{o.ID}},
		{fmt.Sprint(o.Number), []string{o.ID}},
		{" " + fmt.Sprint(o.Number) + " ", []string{o.ID}},
		{"p/a7_", []string{o.ID}},
		{"a6", []string{ids[69], ids[68], ids[67], ids[66], ids[65], ids[64], ids[63], ids[62], ids[61], ids[60], ids[6]}},
		{"a1_100%", []string{ids[1]}}, // % and _ are text, not wildcards
		{bobs, nil},                   // another account's id
		{fmt.Sprint(s.order(bobs).Number), nil},
		{"ord_00000000000000000000000000", nil},
		{"nothing like it", nil},
	}
	for _, tt := range searches {
		_, body := b.get("/orders?q=" + urlEscape(tt.q))
		if got := mustListed(body); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("?q=%q: %v, want %v", tt.q, got, tt.want)
		}
		if tt.want == nil && !strings.Contains(text(body), "No order matches.") {
			t.Errorf("?q=%q: no word that nothing matched", tt.q)
		}
	}
	if code, body := b.get("/orders?q=" + strings.Repeat("x", 5000)); code != http.StatusOK || strings.Contains(body, strings.Repeat("x", 201)) {
		t.Errorf("a 5000-character search: %d", code)
	}
	if code, body := b.get("/orders?q=%3Cscript%3E"); code != http.StatusOK || strings.Contains(body, "<script>") {
		t.Error("the search is not escaped")
	}
}

func mustListed(body string) []string {
	ids, _, _ := listed(body)
	return ids
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", " ", "+", "&", "%26", "#", "%23", "?", "%3F").Replace(s)
}

// actions are the Cancel and Refill buttons a page shows for an order.
func actions(body, id string) (cancel, refill bool) {
	return strings.Contains(body, `action="/orders/`+id+`/cancel"`), strings.Contains(body, `action="/orders/`+id+`/refill"`)
}

// outcome is what became of a cancel or a refill: "ok" or the message.
func pageOutcome(b *browser, code int, body string) string {
	if code == http.StatusSeeOther {
		return "ok"
	}
	return fmt.Sprint(code, " ", errorOf(body))
}

func apiOutcome(code int, got map[string]any) string {
	if code == http.StatusOK && got["error"] == nil {
		return "ok"
	}
	return fmt.Sprint(http.StatusBadRequest, " ", got["error"])
}

// TestOrderActionsAsTheAPI: for an order of every status, with a service
// that allows cancel and refill and one that allows neither, the list and
// the order page show Cancel and Refill exactly where the API's cancel
// and refill succeed, and a refused one answers the API's message.
func TestOrderActionsAsTheAPI(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	_, key := storeKey(t, s, s.alice.ID)
	both := s.svc[store.TypeDefault]
	neither := storetest.Service(t, s.db, store.Service{Name: "Plain", Rate: 500_000, Min: 10, Max: 1000})
	statuses := []string{store.StatusPending, store.StatusProcessing, store.StatusInProgress, store.StatusCompleted,
		store.StatusPartial, store.StatusCancelled, store.StatusFailed, store.StatusRefunded}
	type state struct {
		name  string
		svc   store.Service
		setup func(id string)
	}
	var states []state
	for _, st := range statuses {
		for _, svc := range []store.Service{both, neither} {
			states = append(states, state{st + " " + svc.Name, svc, func(id string) {
				s.exec(`UPDATE orders SET status = ? WHERE id = ?`, st, id)
			}})
		}
	}
	states = append(states,
		state{"completed with a refill in progress", both, func(id string) {
			s.exec(`UPDATE orders SET status = 'completed' WHERE id = ?`, id)
			s.exec(`INSERT INTO refills (id, order_id, account_id, created_at, updated_at) VALUES (?, ?, ?, 0, 0)`,
				store.NewID(store.PrefixRefill), id, s.alice.ID)
		}},
		state{"completed with three refills done", both, func(id string) {
			s.exec(`UPDATE orders SET status = 'completed' WHERE id = ?`, id)
			for range store.MaxRefills {
				s.exec(`INSERT INTO refills (id, order_id, account_id, status, created_at, updated_at) VALUES (?, ?, ?, 'completed', 0, 0)`,
					store.NewID(store.PrefixRefill), id, s.alice.ID)
			}
		}},
		state{"completed with a refill rejected", both, func(id string) {
			s.exec(`UPDATE orders SET status = 'completed' WHERE id = ?`, id)
			s.exec(`INSERT INTO refills (id, order_id, account_id, status, created_at, updated_at) VALUES (?, ?, ?, 'rejected', 0, 0)`,
				store.NewID(store.PrefixRefill), id, s.alice.ID)
		}},
		state{"pending, with its provider", both, func(id string) {
			s.exec(`UPDATE orders SET upstream_id = '77', claimed_at = 1 WHERE id = ?`, id)
		}},
	)
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			// Four orders in the state: one the page cancels, one the API
			// cancels, one each refills.
			var ids [4]string
			for i := range ids {
				ids[i] = s.place(s.alice.ID, st.svc, "https://instagram.com/p/"+strings.ReplaceAll(st.name, " ", "-"), 100)
				st.setup(ids[i])
			}
			_, list := b.get("/orders?q=" + ids[0])
			_, page := b.get("/orders/" + ids[0])
			listCancel, listRefill := actions(list, ids[0])
			pageCancel, pageRefill := actions(page, ids[0])

			code, body := b.post("/orders/"+ids[0]+"/cancel", "from", "list")
			webCancel := pageOutcome(b, code, body)
			apiCancel := apiOutcome(s.api(key, "action", "cancel", "order", ids[1]))
			code, body = b.post("/orders/" + ids[2] + "/refill")
			webRefill := pageOutcome(b, code, body)
			apiRefill := apiOutcome(s.api(key, "action", "refill", "order", ids[3]))

			if webCancel != apiCancel || webRefill != apiRefill {
				t.Errorf("the page answered cancel %q, refill %q; the API %q, %q", webCancel, webRefill, apiCancel, apiRefill)
			}
			if listCancel != (apiCancel == "ok") || pageCancel != listCancel {
				t.Errorf("Cancel shown on the list %v, on the page %v; the API's cancel: %s", listCancel, pageCancel, apiCancel)
			}
			if pageRefill != (apiRefill == "ok") {
				t.Errorf("Refill shown on the order page %v; the API's refill: %s", pageRefill, apiRefill)
			}
			if listRefill != (apiRefill == "ok") && !strings.Contains(st.name, "refill") {
				t.Errorf("Refill shown on the list %v; the API's refill: %s", listRefill, apiRefill)
			}
		})
	}
}

func TestCancelAndRefillFromThePages(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	def := s.svc[store.TypeDefault]
	before := s.balance(s.alice.ID)

	// Pending: cancelled and refunded at once.
	pending := s.place(s.alice.ID, def, "https://instagram.com/p/pending", 1000)
	code, _ := b.post("/orders/"+pending+"/cancel", "from", "list")
	b.wantRedirect(code, "/orders?notice=cancelled")
	if _, body := b.get(b.location()); !strings.Contains(text(body), "The order is cancelled and its charge refunded to your balance.") {
		t.Error("no notice after cancelling")
	}
	if o := s.order(pending); o.Status != store.StatusCancelled || s.balance(s.alice.ID) != before {
		t.Errorf("after cancelling: %s, balance %d, want %d", o.Status, s.balance(s.alice.ID), before)
	}
	if _, body := b.get("/orders/" + pending); !strings.Contains(text(body), "The whole charge was refunded to your balance.") {
		t.Error("the cancelled order's page does not say it was refunded")
	}
	// Cancelling it again: the API's refusal, the order untouched.
	code, body := b.post("/orders/" + pending + "/cancel")
	wantPage(t, code, body, http.StatusBadRequest, "Order cannot be cancelled (already cancelled)")
	if s.count(`SELECT count(*) FROM ledger WHERE order_id = ? AND kind = 'refund'`, pending) != 1 {
		t.Error("a second cancel refunded twice")
	}

	// In progress: the provider is asked; the page shows the request.
	running := s.place(s.alice.ID, def, "https://instagram.com/p/running", 1000)
	s.exec(`UPDATE orders SET status = 'in_progress', upstream_id = '9', claimed_at = 1 WHERE id = ?`, running)
	code, _ = b.post("/orders/" + running + "/cancel")
	b.wantRedirect(code, "/orders/"+running+"?notice=cancel")
	_, body = b.get(b.location())
	page := text(body)
	for _, want := range []string{"Cancel requested: the provider is asked to stop the order", "Cancel request Asked", "Pending",
		"The provider is asked to stop the order; if it does, the charge is refunded."} {
		if !strings.Contains(page, want) {
			t.Errorf("the order page after a cancel request lacks %q", want)
		}
	}
	if o := s.order(running); o.Status != store.StatusInProgress || s.count(`SELECT count(*) FROM cancel_requests WHERE order_id = ?`, running) != 1 {
		t.Errorf("after a cancel request: %s", o.Status)
	}

	// Completed: a refill, shown on the order's page.
	done := s.place(s.alice.ID, def, "https://instagram.com/p/done", 1000)
	s.exec(`UPDATE orders SET status = 'completed', start_count = 1500, remains = 0 WHERE id = ?`, done)
	code, _ = b.post("/orders/" + done + "/refill")
	b.wantRedirect(code, "/orders/"+done+"?notice=refill")
	_, body = b.get(b.location())
	refills, _ := s.db.OrderRefills(ctx, store.Customer(s.alice.ID), done)
	if len(refills) != 1 || !strings.Contains(text(body), "Refill requested.") ||
		!strings.Contains(text(body), fmt.Sprintf("Refills #%d Pending", refills[0].Number)) || !strings.Contains(text(body), "1,500") {
		t.Errorf("the order page after a refill: %q", between(text(body), "Order #", "Refills"))
	}
	code, body = b.post("/orders/" + done + "/refill")
	wantPage(t, code, body, http.StatusBadRequest, "Order already has a refill in progress")
	if n := s.count(`SELECT count(*) FROM refills`); n != 1 {
		t.Errorf("%d refills after a refused second one", n)
	}
	// An id that is no order.
	for _, id := range []string{"ord_00000000000000000000000000", "nothing", "99999"} {
		for _, action := range []string{"cancel", "refill"} {
			if code, _ := b.post("/orders/" + id + "/" + action); code != http.StatusNotFound {
				t.Errorf("%s of %s: %d", action, id, code)
			}
		}
	}
}

// TestAnotherAccountsOrder: bob's order, by id or number, is to alice
// exactly an order that does not exist, and nothing she does touches it.
func TestAnotherAccountsOrder(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	_, bob := s.customer("bob", 10_000_000)
	def := s.svc[store.TypeDefault]
	pending := s.place(bob.ID, def, "https://instagram.com/p/bob-pending", 1000)
	done := s.place(bob.ID, def, "https://instagram.com/p/bob-done", 1000)
	s.exec(`UPDATE orders SET status = 'completed' WHERE id = ?`, done)
	balance := s.balance(bob.ID)
	// An id of the same shape that no order has.
	absent := "ord_" + strings.Repeat("0", len(pending)-4)

	_, want := b.get("/orders/" + absent)
	wantStatus := b.last.StatusCode
	if wantStatus != http.StatusNotFound {
		t.Fatalf("an order that does not exist: %d", wantStatus)
	}
	for _, ref := range []string{pending, strings.ToLower(pending), fmt.Sprint(s.order(pending).Number), done} {
		code, body := b.get("/orders/" + ref)
		if code != wantStatus || text(body) != text(want) || strings.Contains(body, "bob-") {
			t.Errorf("GET /orders/%s: %d %q", ref, code, text(body))
		}
		for _, action := range []string{"cancel", "refill"} {
			code, body := b.post("/orders/" + ref + "/" + action)
			_, absentBody := b.post("/orders/" + absent + "/" + action)
			if code != http.StatusNotFound || text(body) != text(absentBody) {
				t.Errorf("POST %s of bob's %s: %d %q", action, ref, code, text(body))
			}
		}
	}
	if s.order(pending).Status != store.StatusPending || s.order(done).Status != store.StatusCompleted || s.balance(bob.ID) != balance ||
		s.count(`SELECT count(*) FROM refills`)+s.count(`SELECT count(*) FROM cancel_requests`) != 0 {
		t.Error("alice's requests changed bob's orders")
	}
	// Bob sees his own.
	c := s.browser()
	c.signIn("bob", "bob "+alicePassword)
	if code, _ := c.get("/orders/" + pending); code != http.StatusOK {
		t.Errorf("bob's own order: %d", code)
	}
}
