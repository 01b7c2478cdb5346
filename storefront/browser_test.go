package storefront_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"notpanel/store"
)

// chromium finds Debian's chromium. CI installs it (.ci/run), so there a
// missing browser fails the test instead of skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium")
	}
	t.Skip("chromium is not installed")
	return ""
}

// shots is where the screenshots go: the test's temp dir, or
// $NOTPANEL_SCREENSHOTS to keep them.
func shots(t *testing.T) string {
	if d := os.Getenv("NOTPANEL_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	return t.TempDir()
}

// axeScript is axe-core, for the accessibility audit: $AXE_CORE_JS, which
// .ci/run sets after installing axe-core from npm.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("AXE_CORE_JS is not set; .ci/run installs axe-core")
		}
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("AXE_CORE_JS: %v", err)
	}
	return string(b)
}

type tab struct {
	t    *testing.T
	ctx  context.Context // the browser's: lives as long as the test
	base string
	dir  string
	axe  string
}

func (s *shop) tab(t *testing.T, jsOn bool, width, height int64) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.WindowSize(int(width), int(height)), chromedp.Flag("disable-gpu", true), chromedp.Flag("lang", "en-US"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	b := &tab{t: t, ctx: bctx, base: s.srv.URL, dir: shots(t), axe: axeScript(t)}
	b.run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: height, DeviceScaleFactor: 1, Mobile: width < 600}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !jsOn}); err != nil {
			return err
		}
		// Lets the audit inject axe-core; the pages' own policy is
		// checked over HTTP.
		_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
		return err
	}))
	return b
}

// run runs actions with a deadline, so that a page that never shows what a
// test waits for fails the test instead of hanging it.
func (b *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Steps()); err != nil { // the browser lives as long as b.ctx
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

func value[T any](b *tab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// open loads a page and waits for its main content.
func (b *tab) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// text is the text of the first element matching sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(value(b, chromedp.Text(chromedp.CSS(sel))))
}

func (b *tab) url() string { return strings.TrimPrefix(value(b, chromedp.Location()), b.base) }

// shot saves a full-page screenshot as name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	buf := value(b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// audit runs axe-core on the page and fails on every serious or critical
// violation.
func (b *tab) audit(name string) {
	b.t.Helper()
	if b.axe == "" {
		return
	}
	value(b, chromedp.Evaluate[bool](b.axe+";true"))
	raw := value(b, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))))`,
		chromedp.EvalAwaitPromise))
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		b.t.Fatalf("axe on %s: %v (%s)", name, err, raw)
	}
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe on %s: %s %s: %s at %v", name, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
}

// look saves a screenshot of the page and audits it.
func (b *tab) look(name string) {
	b.t.Helper()
	b.shot(name)
	b.audit(name)
}

// TestInABrowser drives Debian's chromium: sign up, place an order with
// JavaScript on and with it off, see the orders, cancel one, create and
// revoke an API key; every page is saved as a screenshot at desktop and
// phone width and audited for accessibility.
func TestInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	_, _, withGateway := withBTCPay(t)
	s := newShop(t, withGateway)
	svc := s.svc[store.TypeDefault]

	for _, size := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			b := s.tab(t, true, size.width, size.height)
			name := "bob" + size.name
			shot := func(page string) { b.look(size.name + "-" + page) }

			b.open("/")
			shot("home")
			b.open("/services")
			shot("services")
			b.open("/api")
			shot("api")
			for _, p := range []string{"terms", "login", "forgot"} {
				b.open("/" + p)
				shot(p)
			}
			b.open("/signup")
			shot("signup")
			b.run(chromedp.SendKeys(chromedp.CSS("#name"), name),
				chromedp.SendKeys(chromedp.CSS("#password"), "violet tractor moon"),
				chromedp.SendKeys(chromedp.CSS("#password2"), "violet tractor moon"),
				chromedp.Click(chromedp.CSS("form.form button")),
				chromedp.WaitVisible(chromedp.CSS("#order-form")))
			if got := b.text(".notice"); !strings.Contains(got, "Welcome") {
				t.Errorf("after sign-up the notice is %q", got)
			}
			// New accounts start at zero: the operator funds this one.
			if _, err := s.db.AddFunds(ctx, name, 50*store.MicrosPerUnit, "test funds"); err != nil {
				t.Fatal(err)
			}
			b.open("/")
			shot("order-form")

			// JavaScript on: choosing the service shows its fields only,
			// and the charge follows the quantity.
			b.run(chromedp.SetValue(chromedp.CSS("#service"), fmt.Sprint(svc.ID)),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := chromedp.Evaluate[bool](`document.querySelector("#service").dispatchEvent(new Event("change"))`)(ctx, tg)
					return err
				}),
				chromedp.SendKeys(chromedp.CSS("#link"), "https://instagram.com/p/browser"),
				chromedp.SendKeys(chromedp.CSS("#quantity"), "1000"))
			if got := b.text("#charge strong"); got != "0.90" {
				t.Errorf("live charge %q, want 0.90 (1000 at 0.90 per 1000)", got)
			}
			if !value(b, chromedp.Evaluate[bool](`document.querySelector("[data-field=comments]").hidden`)) {
				t.Error("the comments field is shown for a Default service")
			}
			shot("order-form-filled")
			b.run(chromedp.Click(chromedp.CSS(`#order-form button.primary`)), chromedp.WaitVisible(chromedp.CSS(".facts")))
			if !strings.HasPrefix(b.url(), "/orders/ord_") || !strings.Contains(b.text(".notice"), "placed") {
				t.Fatalf("after placing: %s, notice %q", b.url(), b.text(".notice"))
			}
			shot("order")

			b.open("/orders")
			shot("orders")
			b.run(chromedp.Click(chromedp.CSS(`td.actions form button`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
			if got := b.text("td[data-label=Status]"); got != "Cancelled" {
				t.Errorf("after cancelling, the order is %q", got)
			}
			shot("orders-cancelled")

			b.open("/keys")
			b.run(chromedp.SendKeys(chromedp.CSS("#label"), "reseller bot"), chromedp.Click(chromedp.CSS(`form[action="/keys"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#new-key")))
			key := value(b, chromedp.Value(chromedp.CSS("#new-key")))
			if !strings.HasPrefix(key, store.KeyPrefix) {
				t.Errorf("new key %q", key)
			}
			shot("keys-created")
			b.run(chromedp.Click(chromedp.CSS(`form[action$="/revoke"] button`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
			if got := b.text("td[data-label=Status]"); !strings.HasPrefix(got, "Revoked") {
				t.Errorf("after revoking, the key is %q", got)
			}
			shot("keys-revoked")
			// Two-factor setup shows a QR code the browser can draw.
			b.open("/account")
			b.run(chromedp.Click(chromedp.CSS(`form[action="/account/2fa"] button`)), chromedp.WaitVisible(chromedp.CSS(".enrol img")))
			if w := value(b, chromedp.Evaluate[int](`document.querySelector(".enrol img").naturalWidth`)); w < 100 {
				t.Errorf("the two-factor QR code is %d pixels wide: not drawn", w)
			}
			shot("account-2fa")
			for _, p := range []string{"account", "transactions", "webhooks", "massorder", "addfunds"} {
				b.open("/" + p)
				shot(p)
			}
			b.open("/nowhere")
			shot("not-found")
		})
	}

	// JavaScript off: the same order form places an order.
	t.Run("NoJavaScript", func(t *testing.T) {
		b := s.tab(t, false, 1280, 900)
		b.open("/login")
		b.run(chromedp.SendKeys(chromedp.CSS("#name"), "alice"), chromedp.SendKeys(chromedp.CSS("#password"), alicePassword),
			chromedp.Click(chromedp.CSS("form.form button")), chromedp.WaitVisible(chromedp.CSS("#order-form")))
		// Scripts are off for the page, not for the test's own evaluation.
		shown := value(b, chromedp.Evaluate[int](`[...document.querySelectorAll("[data-field]")].filter(e => !e.hidden).length`))
		if shown < 5 {
			t.Errorf("without JavaScript %d type fields are shown, want all of them", shown)
		}
		b.run(chromedp.SetValue(chromedp.CSS("#service"), fmt.Sprint(svc.ID)),
			chromedp.SendKeys(chromedp.CSS("#link"), "https://instagram.com/p/nojs"),
			chromedp.SendKeys(chromedp.CSS("#quantity"), "500"),
			// #charge is on the page before the click too: wait for the
			// quote's own hint, which only the checked page has.
			chromedp.Click(chromedp.CSS(`#order-form button[name=preview]`)), chromedp.WaitVisible(chromedp.CSS("#charge .hint")))
		if got := b.text("#charge strong"); got != "0.45" {
			t.Errorf("checked price %q, want 0.45", got)
		}
		b.shot("nojs-price")
		b.run(chromedp.Click(chromedp.CSS(`#order-form button.primary`)), chromedp.WaitVisible(chromedp.CSS(".facts")))
		if !strings.Contains(b.text(".notice"), "placed") {
			t.Fatalf("no order placed without JavaScript: %s", b.url())
		}
		b.shot("nojs-order")
		b.open("/orders")
		if got := b.text("td[data-label=Link]"); !strings.Contains(got, "nojs") {
			t.Errorf("the order is not on /orders: %q", got)
		}
	})
	storetestAudit(t, s)
}
