package worker_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/webhook"
	"notpanel/worker"
)

// receiver is a webhook endpoint that records what it gets and answers as
// told.
type receiver struct {
	mu     sync.Mutex
	srv    *httptest.Server
	got    []http.Header
	bodies []string
	paths  []string
	status int
	hold   chan struct{} // when set, each request waits for it
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, req.Header.Clone())
		r.bodies = append(r.bodies, string(b))
		r.paths = append(r.paths, req.URL.Path)
		status, hold := r.status, r.hold
		r.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if status == http.StatusFound {
			http.Redirect(w, req, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) calls() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.got) }

// hook registers a webhook of alice's for every event at url.
func (e *env) hook(url string) (store.Webhook, string) {
	e.t.Helper()
	keys, _ := e.db.ListKeys(ctx, "alice")
	all, _ := store.ParseEvents("")
	w, secret, err := e.db.AddWebhook(ctx, store.Principal{AccountID: e.acct.ID, KeyID: keys[0].ID}, url, all)
	if err != nil {
		e.t.Fatal(err)
	}
	return w, secret
}

func insecure(c *worker.Config) { c.WebhookInsecure = true }

func TestDeliverySignedAndOnce(t *testing.T) {
	e := newEnv(t, classic, insecure)
	r := newReceiver(t, 204)
	_, secret := e.hook(r.srv.URL)
	id := e.place("", 100)
	e.cancel(id) // pending: cancelled at once, and the event recorded with it
	e.tick()
	e.tick()
	if r.calls() != 1 {
		t.Fatalf("%d deliveries, want 1", r.calls())
	}
	h, body := r.got[0], r.bodies[0]
	ts, _ := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	want, _ := webhook.Sign(secret, h.Get("webhook-id"), ts, []byte(body))
	if !strings.HasPrefix(h.Get("webhook-id"), "evt_") || h.Get("webhook-signature") != want {
		t.Errorf("headers %v: signature does not verify (want %s)", h, want)
	}
	if !strings.Contains(body, `"type":"order.cancelled"`) || !strings.Contains(body, id) {
		t.Errorf("body %s", body)
	}
}

func TestDeliveryRetriesKeepTheID(t *testing.T) {
	e := newEnv(t, classic, insecure)
	r := newReceiver(t, 500)
	e.hook(r.srv.URL)
	e.cancel(e.place("", 100))
	e.tick() // fails
	e.tick() // not due yet: the first retry comes about 5 s later
	if r.calls() != 1 {
		t.Fatalf("%d attempts before the retry was due", r.calls())
	}
	if g, err := e.db.Gauges(ctx); err != nil || g.Deliveries != 1 {
		t.Errorf("deliveries pending = %d, %v; want the one waiting for its retry", g.Deliveries, err)
	}
	r.mu.Lock()
	r.status = 200
	r.mu.Unlock()
	e.clock.Advance(10 * time.Second)
	e.tick()
	if r.calls() != 2 || r.got[0].Get("webhook-id") != r.got[1].Get("webhook-id") {
		t.Errorf("%d attempts; ids %q and %q must be the same", r.calls(), r.got[0].Get("webhook-id"), r.got[len(r.got)-1].Get("webhook-id"))
	}
	e.clock.Advance(time.Hour)
	e.tick()
	if r.calls() != 2 {
		t.Errorf("delivered again after a 200: %d attempts", r.calls())
	}
	if g, err := e.db.Gauges(ctx); err != nil || g.Deliveries != 0 {
		t.Errorf("deliveries pending = %d, %v after delivery; want 0", g.Deliveries, err)
	}
}

func TestDelivery410DisablesAndRedirectsAreFailures(t *testing.T) {
	e := newEnv(t, classic, insecure)
	gone := newReceiver(t, http.StatusGone)
	moved := newReceiver(t, http.StatusFound)
	w, _ := e.hook(gone.srv.URL)
	e.hook(moved.srv.URL)
	e.cancel(e.place("", 100))
	e.tick()
	hooks, _ := e.db.Webhooks(ctx, store.Customer(e.acct.ID), "")
	for _, h := range hooks {
		if h.ID == w.ID && h.Status != "disabled" {
			t.Errorf("webhook answered 410 is %s, want disabled", h.Status)
		}
	}
	e.cancel(e.place("", 100))
	e.clock.Advance(time.Minute)
	e.tick()
	if gone.calls() != 1 {
		t.Errorf("a disabled webhook got %d calls", gone.calls())
	}
	// The first event twice (a 3xx is a failure, retried), the second once;
	// the redirect's target never.
	if moved.calls() != 3 {
		t.Errorf("redirecting receiver: %d calls, want 3", moved.calls())
	}
	for _, p := range moved.paths {
		if p == "/elsewhere" {
			t.Error("a redirect was followed")
		}
	}
}

func TestSlowReceiverDoesNotDelayAnother(t *testing.T) {
	e := newEnv(t, classic, insecure)
	slow, fast := newReceiver(t, 200), newReceiver(t, 200)
	slow.hold = make(chan struct{})
	e.hook(slow.srv.URL)
	e.hook(fast.srv.URL)
	e.cancel(e.place("", 100))
	done := make(chan struct{})
	go func() { e.tick(); close(done) }()
	waitFor(func() bool { return fast.calls() > 0 })
	if fast.calls() != 1 {
		t.Error("the fast receiver waited for the slow one")
	}
	close(slow.hold)
	<-done
}

// The event is written with the change it tells of: a worker started after
// a crash that came between the change and the delivery still delivers it.
func TestDeliveryAfterRestart(t *testing.T) {
	e := newEnv(t, classic, insecure)
	r := newReceiver(t, 200)
	e.hook(r.srv.URL)
	e.cancel(e.place("", 100)) // the change, committed; no worker ran since
	worker.New(e.cfg).Tick(ctx)
	if r.calls() != 1 {
		t.Errorf("%d deliveries after the restart, want 1", r.calls())
	}
}

// A secret that cannot sign (a damaged row) fails the attempt like any
// other: nothing is sent, the reason is kept, and the retry waits for its
// backoff instead of coming round on every pass.
func TestDeliveryWithADamagedSecretBacksOff(t *testing.T) {
	e := newEnv(t, classic, insecure)
	r := newReceiver(t, 200)
	h, _ := e.hook(r.srv.URL)
	if _, err := storetest.Raw(t, e.db).Exec(`UPDATE webhooks SET secret = 'whsec_not base64!' WHERE id = ?`, h.ID); err != nil {
		t.Fatal(err)
	}
	e.cancel(e.place("", 100))
	e.tick()
	e.tick()
	if r.calls() != 0 {
		t.Errorf("%d unsigned deliveries reached the receiver", r.calls())
	}
	list, err := e.db.Deliveries(ctx, false, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries = %+v, %v", list, err)
	}
	if d := list[0]; d.Attempts != 1 || d.Status != "pending" || !strings.Contains(d.LastError, "cannot sign") {
		t.Errorf("delivery = %+v; want one failed attempt, pending, that says it cannot sign", d)
	}
}
