package storefront_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// orderForm is the new-order form as a customer fills it in: the service
// and link, then the fields given as name, value pairs.
func orderForm(svc store.Service, link string, fields ...string) []string {
	return append([]string{"service", fmt.Sprint(svc.ID), "link", link}, fields...)
}

// placeForm posts the new-order form and returns the placed order, failing
// the test unless the answer is the redirect to it.
func (b *browser) placeForm(t *testing.T, form ...string) store.Order {
	t.Helper()
	code, body := b.post("/order", form...)
	if code != http.StatusSeeOther || !strings.HasPrefix(b.location(), "/orders/ord_") {
		t.Fatalf("place: %d to %q: %s", code, b.location(), errorOf(body))
	}
	id := strings.TrimPrefix(strings.SplitN(b.location(), "?", 2)[0], "/orders/")
	return b.s.order(id)
}

// TestOrderFormChargesAsTheAPI places the same order of every type through
// the form (alice) and the API (bob): the store keeps the same order and
// takes the same charge.
func TestOrderFormChargesAsTheAPI(t *testing.T) {
	s := newShop(t)
	alice := s.signedIn()
	bob, _ := storetestAccount(t, s, "bob", 100_000_000)
	tests := []struct {
		svc    string
		fields []string
		units  int64
	}{
		{store.TypeDefault, []string{"quantity", "1234"}, 1234},
		{store.TypePackage, []string{"quantity", "5"}, 100},
		{store.TypeComments, []string{"comments", "Great!\r\nLove it\n\n  So good  \n" + strings.Repeat("Nice\n", 9)}, 12},
		{store.TypeMentionsList, []string{"usernames", "@one\n@two\n@three\n@four\n@five\n@six\n@seven\n@eight\n@nine\n@ten\n@eleven"}, 11},
		{store.TypeCommentLikes, []string{"quantity", "50", "username", "someone"}, 50},
		{store.TypePoll, []string{"quantity", "77", "answer_number", "2"}, 77},
		{"Drip", []string{"quantity", "150", "runs", "4", "interval", "30"}, 600},
	}
	for i, tt := range tests {
		t.Run(tt.svc, func(t *testing.T) {
			svc := s.svc[tt.svc]
			link := fmt.Sprintf("https://instagram.com/p/%d", i)
			before := s.balance(s.alice.ID)
			web := alice.placeForm(t, append(orderForm(svc, link, "request_id", fmt.Sprint("web-", i)), tt.fields...)...)
			code, got := s.api(bob.key, append([]string{"action", "add", "service", fmt.Sprint(svc.ID), "link", link,
				"request_id", fmt.Sprint("api-", i)}, tt.fields...)...)
			if code != http.StatusOK {
				t.Fatalf("API add: %d %v", code, got)
			}
			api := s.order(got["order"].(string))
			if web.Charge != api.Charge || web.Units != api.Units || web.Quantity != api.Quantity || web.Extra != api.Extra ||
				web.Runs != api.Runs || web.Interval != api.Interval || web.Units != tt.units {
				t.Errorf("form placed %+v\nAPI placed %+v", web, api)
			}
			if web.AccountID != s.alice.ID || web.Link != link || web.ServiceID != svc.ID || web.Status != store.StatusPending {
				t.Errorf("order %+v", web)
			}
			if want, _ := store.Charge(svc.Rate, tt.units); web.Charge != want || s.balance(s.alice.ID) != before-want {
				t.Errorf("charge %d, balance %d → %d; want %d charged", web.Charge, before, s.balance(s.alice.ID), want)
			}
		})
	}
	// The order page says it is placed, and shows what was ordered.
	o := alice.placeForm(t, orderForm(s.svc[store.TypeComments], "https://instagram.com/p/shown", "comments", "First\nSecond"+strings.Repeat("\nMore", 8), "request_id", "web-shown")...)
	_, body := alice.get(fmt.Sprintf("/orders/%s?notice=placed", o.ID))
	page := text(body)
	for _, want := range []string{"Your order is placed.", fmt.Sprintf("Order #%d", o.Number), "Custom Comments service",
		"https://instagram.com/p/shown", "Pending", store.FormatMoney(o.Charge) + " USD", "Comments First Second More", o.ID} {
		if !strings.Contains(page, want) {
			t.Errorf("order page lacks %q: %s", want, between(page, "Order #", "Order id"))
		}
	}
	storetestAudit(t, s)
}

type apiAccount struct {
	store.Account
	key string
}

func storetestAccount(t *testing.T, s *shop, name string, balance int64) (apiAccount, *browser) {
	t.Helper()
	b, a := s.customer(name, balance)
	_, key := storeKey(t, s, a.ID)
	return apiAccount{a, key}, b
}

func TestCheckThePrice(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	svc := s.svc["Drip"]
	form := append(orderForm(svc, "https://youtube.com/watch?v=abc", "quantity", "1000", "runs", "3", "interval", "60",
		"request_id", "web-price"), "preview", "1")
	code, body := b.post("/order", form...)
	if code != http.StatusOK {
		t.Fatalf("check the price: %d %s", code, errorOf(body))
	}
	if got := text(between(body, `id="charge"`, "</div>")); !strings.Contains(got, "Charge 4.50 for 3,000 units of Views") {
		t.Errorf("the price shown: %q", got)
	}
	if len(s.orders(s.alice.ID)) != 0 || s.balance(s.alice.ID) != 100_000_000 {
		t.Fatal("checking the price placed an order")
	}
	for name, want := range map[string]string{"link": "https://youtube.com/watch?v=abc", "quantity": "1000", "runs": "3",
		"interval": "60", "request_id": "web-price"} {
		if got := field(body, name); got != want {
			t.Errorf("field %s = %q, want %q kept", name, got, want)
		}
	}
	// Placing it then places one order at that price, under the same
	// request_id.
	o := b.placeForm(t, form[:len(form)-2]...)
	if o.Charge != 4_500_000 {
		t.Errorf("placed at %d, shown 4.50", o.Charge)
	}
	// A price check of a bad order says why, and places nothing.
	code, body = b.post("/order", "service", fmt.Sprint(svc.ID), "link", "https://youtube.com/watch?v=abc", "quantity", "5", "preview", "1")
	wantPage(t, code, body, http.StatusBadRequest, "Quantity less than minimal 100")
	if len(s.orders(s.alice.ID)) != 1 {
		t.Error("a price check placed an order")
	}
}

func TestOrderFormErrors(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	def, drip := s.svc[store.TypeDefault], s.svc["Drip"]
	off := storetest.Service(t, s.db, store.Service{Name: "Off", Rate: 1000, Min: 1, Max: 10})
	disabled := false
	s.db.UpdateService(ctx, off.ID, store.ServicePatch{Enabled: &disabled})
	long := "https://instagram.com/p/" + strings.Repeat("a", store.MaxLink)
	tests := []struct {
		name string
		form []string
		msg  string
	}{
		{"below min", orderForm(def, "https://x.example/p", "quantity", "9"), "Quantity less than minimal 10"},
		{"above max", orderForm(def, "https://x.example/p", "quantity", "10001"), "Quantity more than maximal 10000"},
		{"no quantity", orderForm(def, "https://x.example/p"), "Missing required parameter: quantity"},
		{"quantity not a number", orderForm(def, "https://x.example/p", "quantity", "1e3"), "Invalid parameter: quantity (must be a whole number)"},
		{"negative quantity", orderForm(def, "https://x.example/p", "quantity", "-100"), "Invalid parameter: quantity (must be a whole number)"},
		{"huge quantity", orderForm(def, "https://x.example/p", "quantity", "99999999999999999999"), "Invalid parameter: quantity"},
		{"no link", orderForm(def, "", "quantity", "100"), "Missing required parameter: link"},
		{"bad link", orderForm(def, "instagram.com/p/x", "quantity", "100"), "Invalid link"},
		{"javascript link", orderForm(def, "javascript:alert(1)", "quantity", "100"), "Invalid link"},
		{"oversized link", orderForm(def, long, "quantity", "100"), "Invalid link"},
		{"unknown service", []string{"service", "999", "link", "https://x.example/p", "quantity", "100"}, "Service not found"},
		{"no service", []string{"link", "https://x.example/p", "quantity", "100"}, "Service not found"},
		{"service not a number", []string{"service", "1; DROP TABLE orders", "link", "https://x.example/p", "quantity", "100"}, "Service not found"},
		{"disabled service", orderForm(off, "https://x.example/p", "quantity", "5"), "Service not found"},
		{"no comments", orderForm(s.svc[store.TypeComments], "https://x.example/p", "comments", " \n \n"), "Missing required parameter: comments"},
		{"too few comments", orderForm(s.svc[store.TypeComments], "https://x.example/p", "comments", "one\ntwo"), "Quantity less than minimal 10"},
		{"oversized comment", orderForm(s.svc[store.TypeComments], "https://x.example/p", "comments", strings.Repeat("c", 1001)+strings.Repeat("\nok", 10)),
			"Invalid parameter: comments (a line is longer than 1000 characters)"},
		{"comment with control characters", orderForm(s.svc[store.TypeComments], "https://x.example/p", "comments", strings.Repeat("ok\x01\n", 10)),
			"Invalid parameter: comments (control characters)"},
		{"no usernames", orderForm(s.svc[store.TypeMentionsList], "https://x.example/p"), "Missing required parameter: usernames"},
		{"no username", orderForm(s.svc[store.TypeCommentLikes], "https://x.example/p", "quantity", "100"), "Missing required parameter: username"},
		{"oversized username", orderForm(s.svc[store.TypeCommentLikes], "https://x.example/p", "quantity", "100", "username", strings.Repeat("u", 1001)),
			"Invalid parameter: username"},
		{"no answer", orderForm(s.svc[store.TypePoll], "https://x.example/p", "quantity", "100"), "Missing required parameter: answer_number"},
		{"answer zero", orderForm(s.svc[store.TypePoll], "https://x.example/p", "quantity", "100", "answer_number", "0"),
			"Invalid parameter: answer_number (must be a whole number from 1)"},
		{"drip-feed on a service without", orderForm(def, "https://x.example/p", "quantity", "100", "runs", "2", "interval", "10"),
			"Service does not support drip-feed"},
		{"runs without interval", orderForm(drip, "https://x.example/p", "quantity", "100", "runs", "2"), "Missing required parameter: interval"},
		{"interval without runs", orderForm(drip, "https://x.example/p", "quantity", "100", "interval", "2"), "Missing required parameter: runs"},
		{"zero runs", orderForm(drip, "https://x.example/p", "quantity", "100", "runs", "0", "interval", "10"),
			"Invalid parameter: runs (must be a whole number from 1 to 1000)"},
		{"too many runs", orderForm(drip, "https://x.example/p", "quantity", "100", "runs", "1001", "interval", "10"),
			"Invalid parameter: runs (must be a whole number from 1 to 1000)"},
		{"interval too long", orderForm(drip, "https://x.example/p", "quantity", "100", "runs", "2", "interval", "43201"),
			"Invalid parameter: interval (minutes, a whole number from 1 to 43200)"},
		{"balance", orderForm(drip, "https://x.example/p", "quantity", "100000", "runs", "1000", "interval", "10"), "Insufficient balance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := append(tt.form, "request_id", "web-"+strings.ReplaceAll(tt.name, " ", "-"))
			code, body := b.post("/order", form...)
			wantPage(t, code, body, http.StatusBadRequest, tt.msg)
			// What was typed is kept, and the chosen service chosen.
			for i := 0; i+1 < len(form); i += 2 {
				name, want := form[i], form[i+1]
				switch name {
				case "service":
					if regexp.MustCompile(`^\d+$`).MatchString(want) && want != "999" && want != fmt.Sprint(off.ID) &&
						!regexp.MustCompile(`<option value="`+want+`"[^>]* selected>`).MatchString(body) {
						t.Errorf("service %s is not selected any more", want)
					}
				case "comments", "usernames":
					if field(body, name) != want {
						t.Errorf("%s = %q, want %q kept", name, field(body, name), want)
					}
				case "runs", "interval":
					if !strings.Contains(body, `name="`+name+`"`) {
						break // not a field of the chosen service
					}
					fallthrough
				default:
					if got := field(body, name); got != strings.TrimSpace(want) && !(name == "link" && len(want) > store.MaxLink) {
						t.Errorf("%s = %q, want %q kept", name, got, want)
					}
				}
			}
		})
	}
	if n := len(s.orders(s.alice.ID)); n != 0 || s.balance(s.alice.ID) != 100_000_000 {
		t.Errorf("refused orders placed %d orders, balance %d", n, s.balance(s.alice.ID))
	}
	// A form bigger than any order (256 KB) is refused whole.
	code, body := b.post("/order", orderForm(s.svc[store.TypeComments], "https://x.example/p", "comments", strings.Repeat("a comment\n", 30_000),
		"request_id", "web-huge")...)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(text(body), "That form is too large to accept. Nothing was done.") ||
		len(s.orders(s.alice.ID)) != 0 {
		t.Errorf("a 300 KB form: %d %s", code, text(body))
	}
	code, body = b.post("/massorder", "orders", strings.Repeat(fmt.Sprintf("%d|https://x.example/p|100\n", def.ID), 12_000))
	if code != http.StatusRequestEntityTooLarge || len(s.orders(s.alice.ID)) != 0 {
		t.Errorf("a 300 KB mass order: %d %s", code, text(body))
	}
	// A body that is not a form.
	req, _ := http.NewRequest("POST", s.srv.URL+"/order", strings.NewReader("service=%zz&link=https://x.example/p&quantity=100"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body = b.do(req)
	if code != http.StatusBadRequest || !strings.Contains(text(body), "That form could not be read. Nothing was done.") || len(s.orders(s.alice.ID)) != 0 {
		t.Errorf("a malformed form: %d %s", code, text(body))
	}
}

func TestOrderFormPlacesOnce(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	_, page := b.get("/")
	rid := field(page, "request_id")
	form := orderForm(s.svc[store.TypeDefault], "https://instagram.com/p/once", "quantity", "1000", "request_id", rid)
	first := b.placeForm(t, form...)
	// A refresh of the answer, a double click, back-and-submit: the same
	// form again.
	for range 3 {
		if again := b.placeForm(t, form...); again.ID != first.ID {
			t.Fatalf("the same form placed %s after %s", again.ID, first.ID)
		}
	}
	// Two at once, as a double click races.
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		c := s.browser()
		c.c.Jar = b.c.Jar
		wg.Go(func() {
			code, _ := c.post("/order", form...)
			if code == http.StatusSeeOther {
				ids[i] = c.location()
			}
		})
	}
	wg.Wait()
	for _, loc := range ids {
		if !strings.HasPrefix(loc, "/orders/"+first.ID) {
			t.Errorf("a racing submit went to %q, want the first order", loc)
		}
	}
	if n := len(s.orders(s.alice.ID)); n != 1 {
		t.Errorf("%d orders from one form", n)
	}
	if n := s.count(`SELECT count(*) FROM ledger WHERE account_id = ? AND kind = 'charge'`, s.alice.ID); n != 1 ||
		s.balance(s.alice.ID) != 100_000_000-first.Charge {
		t.Errorf("%d charges, balance %d", n, s.balance(s.alice.ID))
	}
	// The same form changed after it placed an order (back, edit, submit)
	// is answered on the form, and a new form places a new order.
	changed := orderForm(s.svc[store.TypeDefault], "https://instagram.com/p/once", "quantity", "2000", "request_id", rid)
	code, body := b.post("/order", changed...)
	wantPage(t, code, body, http.StatusBadRequest, "This form already placed an order, with other details.")
	if field(body, "quantity") != "2000" || field(body, "request_id") == rid {
		t.Errorf("the refused form holds quantity %q and request_id %q", field(body, "quantity"), field(body, "request_id"))
	}
	if n := len(s.orders(s.alice.ID)); n != 1 {
		t.Fatalf("%d orders", n)
	}
	next := b.placeForm(t, orderForm(s.svc[store.TypeDefault], "https://instagram.com/p/once", "quantity", "2000", "request_id", field(body, "request_id"))...)
	if next.ID == first.ID || next.Quantity != 2000 {
		t.Errorf("the form sent again after the refusal: %+v", next)
	}
	storetestAudit(t, s)
}

func TestPackageIgnoresQuantity(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	pkg := s.svc[store.TypePackage]
	for i, q := range []string{"", "1", "100000", "lots"} {
		o := b.placeForm(t, orderForm(pkg, "https://instagram.com/p/pkg", "quantity", q, "request_id", fmt.Sprint("web-pkg-", i))...)
		if o.Quantity != pkg.Min || o.Units != pkg.Min || o.Charge != 90_000 {
			t.Errorf("quantity %q: order %d units, %d charged; want the package's %d for 0.09", q, o.Units, o.Charge, pkg.Min)
		}
	}
	// The form of a package asks for no quantity.
	if _, body := b.get(fmt.Sprint("/?service=", pkg.ID)); strings.Contains(body, `name="quantity"`) {
		t.Error("the form of a package asks for a quantity")
	}
}

func TestMassOrder(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	def, pkg := s.svc[store.TypeDefault], s.svc[store.TypePackage]
	code, body := b.get("/massorder")
	rid := field(body, "request_id")
	if code != http.StatusOK || !strings.HasPrefix(rid, "web-") {
		t.Fatalf("GET /massorder: %d, request_id %q", code, rid)
	}
	lines := strings.Join([]string{
		fmt.Sprintf("%d|https://instagram.com/p/one|1000", def.ID),
		fmt.Sprintf("%d|https://instagram.com/p/two|5", def.ID),
		"999|https://instagram.com/p/three|100",
		"no pipes here",
		"",
		fmt.Sprintf(" %d | https://instagram.com/p/four | 2000 ", def.ID),
		fmt.Sprintf("%d|https://instagram.com/p/pkg|12345", pkg.ID),
		fmt.Sprintf("abc|https://instagram.com/p/five|100"),
		fmt.Sprintf("%d|not a link|100", def.ID),
	}, "\r\n")
	code, body = b.post("/massorder", "orders", lines, "request_id", rid)
	if code != http.StatusOK {
		t.Fatalf("mass order: %d %s", code, errorOf(body))
	}
	results := massResults(body)
	want := []string{"Placed · 0.90", "Not placed: Quantity less than minimal 10", "Not placed: Service not found",
		"Not placed: Write it as service id|link|quantity", "Placed · 1.80", "Placed · 0.09", `Not placed: Unknown service id "abc"`,
		"Not placed: Invalid link"}
	if strings.Join(results, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(results, "\n"), strings.Join(want, "\n"))
	}
	if page := text(body); !strings.Contains(page, "3 of 8 placed · 2.79 USD charged") {
		t.Errorf("summary: %q", between(page, "placed", "charged"))
	}
	orders := s.orders(s.alice.ID)
	if len(orders) != 3 || s.balance(s.alice.ID) != 100_000_000-2_790_000 ||
		s.count(`SELECT count(*) FROM ledger WHERE kind = 'charge'`) != 3 {
		t.Fatalf("%d orders, balance %d; want 3 and 2.79 charged", len(orders), s.balance(s.alice.ID))
	}
	if orders[0].Link != "https://instagram.com/p/pkg" || orders[1].Link != "https://instagram.com/p/four" || orders[1].Quantity != 2000 {
		t.Errorf("orders %+v", orders)
	}
	// The text is kept for fixing the refused lines, and sending the same
	// form again places none of them twice.
	if !strings.Contains(body, "https://instagram.com/p/two|5") || field(body, "request_id") != rid {
		t.Error("the form after a mass order lost its text or its request_id")
	}
	code, body = b.post("/massorder", "orders", lines, "request_id", rid)
	if code != http.StatusOK || len(s.orders(s.alice.ID)) != 3 || s.balance(s.alice.ID) != 100_000_000-2_790_000 {
		t.Errorf("the same mass order sent again: %d, %d orders, balance %d", code, len(s.orders(s.alice.ID)), s.balance(s.alice.ID))
	}
	// ...and says so: nothing is shown as charged twice.
	if page := text(body); !strings.Contains(page, "0 of 8 placed · 0.00 USD charged · 3 placed before, not charged again") {
		t.Errorf("summary of the form sent again: %q", between(page, "placed", "again"))
	}
	if got := massResults(body); got[0] != "Placed before · 0.90, not charged again" || got[1] != want[1] {
		t.Errorf("results of the form sent again: %v", got)
	}
	// Fixing a refused line places it alone.
	fixed := strings.Replace(lines, "p/two|5", "p/two|50", 1)
	b.post("/massorder", "orders", fixed, "request_id", rid)
	if n := len(s.orders(s.alice.ID)); n != 4 || s.orders(s.alice.ID)[0].Link != "https://instagram.com/p/two" {
		t.Errorf("after fixing one line: %d orders", n)
	}
	// So does sending only the fixed lines, the placed ones taken out.
	code, body = b.post("/massorder", "orders", fmt.Sprintf("%d|https://instagram.com/p/three|100", def.ID), "request_id", rid)
	if got := massResults(body); code != http.StatusOK || len(got) != 1 || got[0] != "Placed · 0.09" ||
		len(s.orders(s.alice.ID)) != 5 || s.orders(s.alice.ID)[0].Link != "https://instagram.com/p/three" {
		t.Errorf("only the fixed line sent again: %d %v, %d orders", code, got, len(s.orders(s.alice.ID)))
	}
	storetestAudit(t, s)
}

// massResults is the result of each line of a mass order, as shown.
func massResults(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<span class="why">(.*?)</span></li>`).FindAllStringSubmatch(body, -1) {
		out = append(out, strings.Join(strings.Fields(htmlText(m[1])), " "))
	}
	return out
}

func TestMassOrderLimits(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	def := s.svc[store.TypeDefault]
	many := func(n int) string {
		var l []string
		for i := range n {
			l = append(l, fmt.Sprintf("%d|https://instagram.com/p/%d|100", def.ID, i))
		}
		return strings.Join(l, "\n")
	}
	code, body := b.post("/massorder", "orders", many(101), "request_id", "web-101")
	wantPage(t, code, body, http.StatusBadRequest, "At most 100 lines at once; this has 101. Nothing was placed.")
	if len(s.orders(s.alice.ID)) != 0 || s.balance(s.alice.ID) != 100_000_000 {
		t.Fatal("a mass order of 101 lines placed orders")
	}
	if !strings.Contains(body, "https://instagram.com/p/100|100") {
		t.Error("the 101 lines are not kept")
	}
	// The same line twice is two orders, and the form sent again still
	// two.
	twice := fmt.Sprintf("%d|https://instagram.com/p/twice|100\n%d|https://instagram.com/p/twice|100", def.ID, def.ID)
	for range 2 {
		b.post("/massorder", "orders", twice, "request_id", "web-twice")
	}
	if n := len(s.orders(s.alice.ID)); n != 2 {
		t.Errorf("the same line twice, sent twice: %d orders, want 2", n)
	}
	code, body = b.post("/massorder", "orders", " \n\n ", "request_id", "web-empty")
	wantPage(t, code, body, http.StatusBadRequest, "Write one order a line")

	code, body = b.post("/massorder", "orders", many(100), "request_id", "web-100")
	if code != http.StatusOK || len(s.orders(s.alice.ID)) != 102 || !strings.Contains(text(body), "100 of 100 placed · 9.00 USD charged") {
		t.Errorf("100 lines: %d, %d orders", code, len(s.orders(s.alice.ID)))
	}

	// The balance runs out part way: the lines after are refused, and
	// nothing is charged for them.
	poor, bob := s.customer("bob", 2_000_000)
	code, body = poor.post("/massorder", "orders", many(3)+"\n"+fmt.Sprintf("%d|https://instagram.com/p/big|2000", def.ID), "request_id", "web-poor")
	results := massResults(body)
	if code != http.StatusOK || len(results) != 4 || results[3] != "Not placed: Insufficient balance" || results[0] != "Placed · 0.09" {
		t.Errorf("a mass order past the balance: %d %v", code, results)
	}
	if got := s.balance(bob.ID); got != 2_000_000-3*90_000 {
		t.Errorf("balance %d, want 1.73 left", got)
	}
	if !strings.Contains(htmlText(body), "Balance: 1.73 USD") {
		t.Error("the page does not show the balance after the charges")
	}
	storetestAudit(t, s)
}
