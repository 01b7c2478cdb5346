package storefront_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"notpanel/store"
	"notpanel/storefront"
	"notpanel/webhook"
)

func TestAccountPage(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	code, body := b.get("/account")
	page := text(body)
	if code != http.StatusOK || !strings.Contains(page, "Balance 100.00 USD") || !strings.Contains(page, "Signed in as alice") ||
		!strings.Contains(page, "member since") || !strings.Contains(page, "Set up two-factor sign-in") {
		t.Errorf("/account: %d %q", code, page)
	}
	if !strings.Contains(htmlText(body), "Balance: 100.00 USD") {
		t.Error("the balance is not in the header")
	}
}

func TestEmailChange(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	code, _ := b.post("/account/email", "email", " alice@example.com ")
	b.wantRedirect(code, "/account?notice=email")
	if got, _ := s.db.Email(ctx, s.alice.ID); got != "alice@example.com" {
		t.Errorf("e-mail %q", got)
	}
	_, body := b.get(b.location())
	if field(body, "email") != "alice@example.com" || !strings.Contains(text(body), "Your e-mail address is saved.") {
		t.Errorf("the account page after saving: %q", field(body, "email"))
	}
	for _, bad := range []string{"alice", "alice@", "@example.com", "alice@example", "a b@example.com", "<alice@example.com>",
		strings.Repeat("a", 250) + "@example.com", "alice@example.com\r\nBcc: all@example.com"} {
		code, body := b.post("/account/email", "email", bad)
		wantPage(t, code, body, http.StatusBadRequest, "does not look right")
		if !regexp.MustCompile(`(?s)id="email".*role="alert"`).MatchString(body) {
			t.Errorf("%q: the error is not beside the e-mail form", bad)
		}
	}
	if got, _ := s.db.Email(ctx, s.alice.ID); got != "alice@example.com" {
		t.Errorf("a refused address changed the e-mail to %q", got)
	}
	code, _ = b.post("/account/email", "email", "")
	b.wantRedirect(code, "/account?notice=email")
	if got, _ := s.db.Email(ctx, s.alice.ID); got != "" {
		t.Errorf("an empty address left %q", got)
	}
}

func TestLowBalance(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	low := func() int64 {
		a, err := s.db.AccountByID(ctx, s.alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a.LowBalance
	}
	code, _ := b.post("/account/low-balance", "amount", " 12.50 ")
	b.wantRedirect(code, "/account?notice=lowbalance")
	if low() != 12_500_000 {
		t.Errorf("threshold %d, want 12.50", low())
	}
	if _, body := b.get("/account"); field(body, "amount") != "12.50" {
		t.Errorf("the form shows %q", field(body, "amount"))
	}
	for _, bad := range []string{"abc", "-1", "1,5", "12.5.0", "1e3", "0.0000001"} {
		code, body := b.post("/account/low-balance", "amount", bad)
		wantPage(t, code, body, http.StatusBadRequest, "Write the amount as a number such as 5 or 12.50.")
	}
	if low() != 12_500_000 {
		t.Error("a refused amount changed the threshold")
	}
	b.post("/account/low-balance", "amount", "")
	if low() != 0 {
		t.Error("an empty amount does not turn the alert off")
	}
	if _, body := b.get("/account"); field(body, "amount") != "" {
		t.Errorf("with no alert the form shows %q", field(body, "amount"))
	}
}

func TestTransactions(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	_, bob := s.customer("bob", 1_000_000)
	def := s.svc[store.TypeDefault]
	for i := range 60 {
		if _, err := s.db.AddFunds(ctx, "alice", int64(i+1)*10_000, fmt.Sprint("top-up ", i)); err != nil {
			t.Fatal(err)
		}
	}
	cancelled := s.place(s.alice.ID, def, "https://instagram.com/p/refunded", 1000)
	s.db.CancelOrders(ctx, store.Customer(s.alice.ID), []string{cancelled})
	s.db.AddFunds(ctx, "alice", -250_000, "correction")
	s.place(bob.ID, def, "https://instagram.com/p/bob", 100)
	rows, _ := s.db.Ledger(ctx, s.alice.ID, "")

	rowRE := regexp.MustCompile(`(?s)<tr>\s*<td data-label="Date">.*?</tr>`)
	var seen []string
	next := "/transactions"
	for pages := 0; next != ""; pages++ {
		code, body := b.get(next)
		if code != http.StatusOK || pages > 3 {
			t.Fatalf("GET %s: %d", next, code)
		}
		for _, r := range rowRE.FindAllString(body, -1) {
			seen = append(seen, text(r))
		}
		next = ""
		if m := regexp.MustCompile(`<a href="(/transactions\?before=\d+&amp;order=\d+)">Older`).FindStringSubmatch(body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != len(rows) {
		t.Fatalf("%d rows over the pages, want alice's %d", len(seen), len(rows))
	}
	// Newest first: the correction, the refund, the charge, the top-ups.
	want := []string{"Adjustment correction -0.25", "Refund of order " + cancelled[:13] + "… cancelled before dispatch +0.90", "Order " + cancelled[:13] + "… -0.90",
		"Top-up top-up 59 +0.60"}
	for i, w := range want {
		if !strings.Contains(seen[i], w) {
			t.Errorf("row %d is %q, want %q", i, seen[i], w)
		}
	}
	if last := seen[len(seen)-1]; !strings.Contains(last, "Top-up test funds +100.00 100.00") {
		t.Errorf("the oldest row is %q", last)
	}
	if balance := fmt.Sprint(store.FormatMoney(s.balance(s.alice.ID))); !strings.HasSuffix(seen[0], " "+balance) {
		t.Errorf("the newest row %q does not end at the balance %s", seen[0], balance)
	}
	for _, r := range seen {
		if strings.Contains(r, "bob") {
			t.Error("bob's rows are shown to alice")
		}
	}
	if _, body := b.get("/transactions?before=1&order=1"); !strings.Contains(text(body), "No transactions yet.") {
		t.Error("a page before the first row is not empty")
	}
}

func TestAPIKeys(t *testing.T) {
	s := newShop(t)
	b := s.signedIn()
	code, body := b.post("/keys", "label", "  My reseller panel  ")
	raw := field(body, "new-key")
	if raw == "" {
		raw = regexp.MustCompile(`id="new-key" value="([^"]+)"`).FindStringSubmatch(body)[1]
	}
	if code != http.StatusOK || !strings.HasPrefix(raw, store.KeyPrefix) || !strings.Contains(text(body), "Your new API key “My reseller panel”.") {
		t.Fatalf("create a key: %d %q %s", code, raw, errorOf(body))
	}
	if code, got := s.api(raw, "action", "balance"); code != http.StatusOK || got["balance"] != "100.00" {
		t.Errorf("the new key at the API: %d %v", code, got)
	}
	code, body = b.get("/keys")
	if code != http.StatusOK || strings.Contains(body, raw) || !strings.Contains(body, raw[:9]+"…") || !strings.Contains(text(body), "My reseller panel") ||
		!strings.Contains(text(body), "2 of 10 active keys used") {
		t.Errorf("the key list: %d %q", code, between(text(body), "Create a key", "About keys"))
	}
	keys, _ := s.db.AccountKeys(ctx, s.alice.ID)
	newest := keys[len(keys)-1]
	if newest.Label != "My reseller panel" {
		t.Errorf("label %q", newest.Label)
	}

	code, _ = b.post("/keys/" + newest.ID + "/revoke")
	b.wantRedirect(code, "/keys?notice=revoked")
	if code, got := s.api(raw, "action", "balance"); code != http.StatusUnauthorized || got["error"] != "Invalid API key" {
		t.Errorf("the revoked key at the API: %d %v", code, got)
	}
	_, body = b.get(b.location())
	if !strings.Contains(text(body), "The key is revoked") || !strings.Contains(text(body), "Revoked") ||
		strings.Contains(body, `action="/keys/`+newest.ID+`/revoke"`) {
		t.Error("the list does not show the key revoked")
	}
	code, body = b.post("/keys/" + newest.ID + "/revoke")
	wantPage(t, code, body, http.StatusBadRequest, fmt.Sprintf("Key %q is already revoked", newest.ID))

	code, body = b.post("/keys", "label", strings.Repeat("x", 61))
	wantPage(t, code, body, http.StatusBadRequest, "Key label: one line of at most 60 characters")
	if field(body, "label") != strings.Repeat("x", 61) {
		t.Error("the refused label is not kept")
	}

	// At most ten active keys.
	for i := range 9 {
		if code, body := b.post("/keys", "label", fmt.Sprint("key ", i)); code != http.StatusOK {
			t.Fatalf("key %d: %d %s", i+2, code, errorOf(body))
		}
	}
	code, body = b.post("/keys", "label", "one too many")
	wantPage(t, code, body, http.StatusBadRequest, "At most 10 active API keys per account; revoke one first")
	if !regexp.MustCompile(`<button class="btn primary" disabled>Create key</button>`).MatchString(body) {
		t.Error("the create button is not disabled at the limit")
	}
	if n := s.count(`SELECT count(*) FROM api_keys WHERE account_id = ? AND revoked_at IS NULL`, s.alice.ID); n != 10 {
		t.Errorf("%d active keys", n)
	}

	// Another account's key is one that does not exist.
	_, bob := s.customer("bob", 0)
	bobKey, bobRaw := storeKey(t, s, bob.ID)
	absent := "key_" + strings.Repeat("0", len(bobKey)-4)
	code, body = b.post("/keys/" + bobKey + "/revoke")
	_, absentBody := b.post("/keys/" + absent + "/revoke")
	if code != http.StatusBadRequest || strings.ReplaceAll(errorOf(body), bobKey, "ID") != strings.ReplaceAll(errorOf(absentBody), absent, "ID") ||
		!strings.Contains(errorOf(body), "not found") {
		t.Errorf("revoking bob's key: %d %q; an absent one: %q", code, errorOf(body), errorOf(absentBody))
	}
	if code, _ := s.api(bobRaw, "action", "balance"); code != http.StatusOK {
		t.Error("alice revoked bob's key")
	}
}

// fakeResolver answers names from a table; other names do not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestWebhooks(t *testing.T) {
	s := newShop(t, func(c *storefront.Config) {
		c.WebhookInsecure = false
		c.Resolver = fakeResolver{"hooks.example.com": {"93.184.216.34"}, "internal.example.com": {"10.0.0.5"},
			"mixed.example.com": {"93.184.216.34", "127.0.0.1"}, "metadata.example.com": {"169.254.169.254"},
			"v6.example.com": {"2606:2800:220:1:248:1893:25c8:1946"}}
	})
	b := s.signedIn()
	keyID, raw := storeKey(t, s, s.alice.ID)

	// The page and the API's webhook.add answer every address alike.
	urls := []string{"https://hooks.example.com/notpanel", "https://v6.example.com/x", "https://internal.example.com/x",
		"https://mixed.example.com/x", "https://metadata.example.com/latest", "https://nowhere.example.com/x",
		"https://localhost/x", "https://127.0.0.1/x", "https://[::1]/x", "https://169.254.169.254/x", "https://10.1.2.3/x",
		"http://hooks.example.com/x", "https://user:pass@hooks.example.com/x", "ftp://hooks.example.com/x", "not a url", ""}
	for _, u := range urls {
		code, body := b.post("/webhooks", "url", u, "key", keyID)
		web := "ok"
		if code != http.StatusOK || errorOf(body) != "" {
			web = errorOf(body)
			if field(body, "url") != u {
				t.Errorf("%q: the refused address is not kept", u)
			}
		} else if !regexp.MustCompile(`id="new-secret" value="whsec_`).MatchString(body) {
			t.Errorf("%q added without its secret shown", u)
		}
		acode, got := s.api(raw, "action", "webhook.add", "url", u)
		api := "ok"
		if acode != http.StatusOK {
			api = fmt.Sprint(got["error"])
		}
		if web != api {
			t.Errorf("%q: the page answered %q, the API %q", u, web, api)
		}
	}
	if n := s.count(`SELECT count(*) FROM webhooks WHERE account_id = ? AND url LIKE 'https://hooks.example.com/%'`, s.alice.ID); n != 2 {
		t.Fatalf("%d webhooks to hooks.example.com, want the page's and the API's", n)
	}
	// The secret is shown once.
	_, body := b.get("/webhooks")
	if strings.Contains(body, "whsec_") || !strings.Contains(body, "https://hooks.example.com/notpanel") {
		t.Error("the list shows a secret, or not the webhook")
	}

	// Events: the ones ticked, and the API's answer to an unknown one.
	code, body := b.post("/webhooks", "url", "https://hooks.example.com/some", "key", keyID, "events", "order.completed", "events", "order.partial")
	if code != http.StatusOK {
		t.Fatalf("add with events: %d %s", code, errorOf(body))
	}
	hooks, _ := s.db.Webhooks(ctx, store.Customer(s.alice.ID), "")
	if ev := hooks[len(hooks)-1].Events; strings.Join(ev, ",") != "order.completed,order.partial" {
		t.Errorf("events %v", ev)
	}
	code, body = b.post("/webhooks", "url", "https://hooks.example.com/bad", "key", keyID, "events", "order.exploded")
	_, got := s.api(raw, "action", "webhook.add", "url", "https://hooks.example.com/bad", "events", "order.exploded")
	if code != http.StatusBadRequest || errorOf(body) != got["error"] {
		t.Errorf("an unknown event: the page %d %q, the API %v", code, errorOf(body), got["error"])
	}
	// A key to add it to: one of the account's active keys.
	_, bob := s.customer("bob", 0)
	bobKey, bobRaw := storeKey(t, s, bob.ID)
	for _, k := range []string{"", bobKey, "key_nothing"} {
		code, body := b.post("/webhooks", "url", "https://hooks.example.com/k", "key", k)
		wantPage(t, code, body, http.StatusBadRequest, "Choose which of your API keys the webhook belongs to")
	}
	// Five a key, as on the API.
	for range 2 {
		b.post("/webhooks", "url", "https://hooks.example.com/more", "key", keyID)
	}
	code, body = b.post("/webhooks", "url", "https://hooks.example.com/sixth", "key", keyID)
	wantPage(t, code, body, http.StatusBadRequest, "At most 5 webhooks per API key")

	// Test and remove; another account's webhook is not found.
	hooks, _ = s.db.Webhooks(ctx, store.Customer(s.alice.ID), keyID)
	hook := hooks[0]
	code, _ = b.post("/webhooks/" + hook.ID + "/test")
	b.wantRedirect(code, "/webhooks?notice=hooktest")
	if n := s.count(`SELECT count(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.webhook_id = ? AND e.type = 'ping'`, hook.ID); n != 1 {
		t.Errorf("%d pings queued", n)
	}
	_, got = s.api(bobRaw, "action", "webhook.add", "url", "https://hooks.example.com/bob")
	bobHook := fmt.Sprint(got["webhook"])
	for _, action := range []string{"test", "remove"} {
		for _, id := range []string{bobHook, "wh_nothing", "x"} {
			if code, _ := b.post("/webhooks/" + id + "/" + action); code != http.StatusNotFound {
				t.Errorf("%s of %s: %d", action, id, code)
			}
		}
	}
	if n := s.count(`SELECT count(*) FROM deliveries WHERE webhook_id = ?`, bobHook); n != 0 {
		t.Error("alice sent a test to bob's webhook")
	}
	if hs, _ := s.db.Webhooks(ctx, store.Customer(bob.ID), ""); len(hs) != 1 {
		t.Error("alice removed bob's webhook")
	}
	code, _ = b.post("/webhooks/" + hook.ID + "/remove")
	b.wantRedirect(code, "/webhooks?notice=hookremoved")
	if _, body := b.get("/webhooks"); strings.Contains(body, hook.ID) {
		t.Error("a removed webhook is listed")
	}
	code, body = b.post("/webhooks/" + hook.ID + "/test")
	if code != http.StatusNotFound {
		t.Errorf("a test of a removed webhook: %d %s", code, errorOf(body))
	}
	// A revoked key's webhooks are sent nothing: the list says so, and a
	// test is refused rather than queued for ever.
	k2, _ := storeKey(t, s, s.alice.ID)
	if code, body := b.post("/webhooks", "url", "https://hooks.example.com/k2", "key", k2); code != http.StatusOK {
		t.Fatalf("add under a second key: %d %s", code, errorOf(body))
	}
	hooks, _ = s.db.Webhooks(ctx, store.Customer(s.alice.ID), k2)
	if err := s.db.RevokeAccountKey(ctx, s.alice.ID, k2); err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/webhooks")
	if !strings.Contains(text(body), "https://hooks.example.com/k2 "+hooks[0].ID+" All Off Its API key is revoked") ||
		strings.Contains(body, `action="/webhooks/`+hooks[0].ID+`/test"`) {
		t.Errorf("a revoked key's webhook is listed as %q", between(text(body), "https://hooks.example.com/k2", "revoked"))
	}
	code, body = b.post("/webhooks/" + hooks[0].ID + "/test")
	wantPage(t, code, body, http.StatusBadRequest, "The API key of this webhook is revoked, so nothing is sent to it.")
	if n := s.count(`SELECT count(*) FROM deliveries WHERE webhook_id = ?`, hooks[0].ID); n != 0 {
		t.Errorf("%d deliveries queued to a revoked key's webhook", n)
	}
	// Without a key, the page says to create one.
	c, carol := s.customer("carol", 0)
	carolKeys, _ := s.db.AccountKeys(ctx, carol.ID)
	s.db.RevokeAccountKey(ctx, carol.ID, carolKeys[0].ID)
	if _, body := c.get("/webhooks"); !strings.Contains(text(body), "Create a key first") || strings.Contains(body, `name="url"`) {
		t.Error("a customer without keys is offered the webhook form")
	}
}

var _ webhook.Resolver = fakeResolver{}
