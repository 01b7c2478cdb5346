package worker_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"notpanel/store"
	"notpanel/worker"
)

const (
	classic  = store.DialectClassic
	notpanel = store.DialectNotpanel
)

func shortCalls(c *worker.Config) { c.CallTimeout = 300 * time.Millisecond }

// acceptThenHang takes the order, then never answers.
func acceptThenHang(p *fakeProvider) handler {
	return func(f url.Values) (int, string) {
		p.defaults(f)
		return 0, ""
	}
}

func TestDispatchSendsOnceWithTheRightParams(t *testing.T) {
	e := newEnv(t, classic)
	ids := map[string]string{
		"Default": e.place("", 500),
		"Drip":    e.place("", 100, func(in *store.OrderInput) { in.Runs, in.Interval = "5", "30" }),
		"Package": e.place(store.TypePackage, 999),
		"Comments": e.place(store.TypeComments, 0, func(in *store.OrderInput) {
			in.Quantity, in.Comments = "", "nice\n\ngreat\n"
		}),
		"Mentions": e.place(store.TypeMentionsList, 0, func(in *store.OrderInput) {
			in.Quantity, in.Usernames = "", "ann\nbob\ncid"
		}),
		"CommentLikes": e.place(store.TypeCommentLikes, 50, func(in *store.OrderInput) { in.Username = "bob" }),
		"Poll":         e.place(store.TypePoll, 20, func(in *store.OrderInput) { in.AnswerNumber = "2" }),
	}
	want := map[string]map[string]string{ // "" means absent
		"Default":      {"service": "101", "quantity": "500", "runs": "", "interval": ""},
		"Drip":         {"service": "101", "quantity": "100", "runs": "5", "interval": "30"},
		"Package":      {"service": "102", "quantity": ""},
		"Comments":     {"service": "103", "quantity": "", "comments": "nice\ngreat"},
		"Mentions":     {"service": "104", "quantity": "", "usernames": "ann\nbob\ncid"},
		"CommentLikes": {"service": "105", "quantity": "50", "username": "bob"},
		"Poll":         {"service": "106", "quantity": "20", "answer_number": "2"},
	}
	e.tick()
	for i := 0; i < 3; i++ { // later passes sync statuses but never send again
		e.clock.Advance(10 * time.Minute)
		e.tick()
	}
	for name, id := range ids {
		var forms []url.Values
		for _, f := range e.up.callsOf("add") {
			if f.Get("link") == e.links[id] {
				forms = append(forms, f)
			}
		}
		if len(forms) != 1 {
			t.Errorf("%s: %d adds, want 1", name, len(forms))
			continue
		}
		f := forms[0]
		if f.Get("key") != "up-key" || f.Has("request_id") {
			t.Errorf("%s: key %q, request_id %q: want the provider key and no request_id", name, f.Get("key"), f.Get("request_id"))
		}
		for k, v := range want[name] {
			if got := f.Get(k); got != v || v == "" && f.Has(k) {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
		if o := e.want(id, store.StatusProcessing); o.UpstreamID == "" {
			t.Errorf("%s: processing without an upstream id", name)
		}
	}
	if n := e.up.count("add"); n != len(ids) {
		t.Errorf("%d adds in all, want %d", n, len(ids))
	}
	e.check()
}

func TestDispatchTemporaryErrorRetriesAfterBackoff(t *testing.T) {
	for _, tt := range []struct {
		name, reason string
		h            handler
	}{
		{"HTTP500", "HTTP 500", reply(500, `{"error":"Internal error"}`)},
		{"HTML502", "HTTP 502", reply(502, "<html>Bad gateway</html>")},
		{"NotEnoughFunds", "Not enough funds on balance", reply(200, `{"error":"Not enough funds on balance"}`)},
		{"ActiveOrder", "active order with this link", reply(200, `{"error":"You have active order with this link. Please wait until order being completed."}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, classic)
			e.up.next("add", tt.h)
			id := e.place("", 100)
			e.tick()
			o := e.want(id, store.StatusPending)
			if o.Claimed || o.Review != "" || o.Attempts != 1 || !strings.Contains(o.Reason, tt.reason) {
				t.Errorf("after the failure: claimed %v, review %q, attempts %d, reason %q", o.Claimed, o.Review, o.Attempts, o.Reason)
			}
			if want := e.clock.Now().Add(30 * time.Second).Unix(); o.NextAt != want {
				t.Errorf("next try at %d, want %d (30 s later)", o.NextAt, want)
			}
			e.tick()
			e.clock.Advance(29 * time.Second)
			e.tick()
			if n := e.up.count("add"); n != 1 {
				t.Fatalf("%d adds before the backoff ended, want 1", n)
			}
			e.clock.Advance(time.Second)
			e.tick()
			if n := e.up.count("add"); n != 2 {
				t.Fatalf("%d adds after the backoff, want 2", n)
			}
			e.want(id, store.StatusProcessing)
			e.check()
		})
	}
}

func TestDispatchPermanentErrorFailsWithFullRefund(t *testing.T) {
	for _, msg := range []string{"Incorrect service ID", "Quantity less than minimal 50", "Incorrect link"} {
		t.Run(msg, func(t *testing.T) {
			e := newEnv(t, classic)
			e.up.next("add", reply(200, `{"error":"`+msg+`"}`))
			id := e.place("", 777)
			e.tick()
			o := e.want(id, store.StatusFailed)
			if !strings.Contains(o.Reason, msg) {
				t.Errorf("reason %q, want it to carry %q", o.Reason, msg)
			}
			if total, rows := e.refunds(id); total != o.Charge || rows != 1 {
				t.Errorf("refunded %d in %d rows, want %d in 1", total, rows, o.Charge)
			}
			if b, _ := e.db.Balance(ctx, e.acct.ID); b != funds {
				t.Errorf("balance %d, want %d back", b, funds)
			}
			e.clock.Advance(2 * time.Hour)
			e.tick()
			if n := e.up.count("add"); n != 1 {
				t.Errorf("%d adds, want 1", n)
			}
			e.check()
		})
	}
}

func TestDispatchUnknownOutcomeIsParked(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    func(*fakeProvider) handler
	}{
		{"TimeoutAfterAccepting", acceptThenHang},
		{"NoAnswer", func(*fakeProvider) handler { return hang }},
		{"HTMLWith200", func(*fakeProvider) handler { return reply(200, "<html>Order placed!</html>") }},
		{"GatewayTimeout", func(*fakeProvider) handler { return reply(504, "") }},
		{"NoOrderID", func(*fakeProvider) handler { return reply(200, `{"status":"success"}`) }},
		{"ZeroOrderID", func(*fakeProvider) handler { return reply(200, `{"order":0}`) }},
		{"HugeBody", func(*fakeProvider) handler { return reply(200, `{"order":1,"x":"`+strings.Repeat("x", 2<<20)+`"}`) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, classic, shortCalls)
			e.up.next("add", tt.h(e.up))
			id := e.place("", 100)
			e.tick()
			o := e.want(id, store.StatusPending)
			if o.Review == "" || !o.Claimed {
				t.Fatalf("review %q, claimed %v: want parked", o.Review, o.Claimed)
			}
			parked, err := e.db.ListOrders(ctx, store.OrderFilter{Scope: store.Operator, Review: true})
			if err != nil || len(parked) != 1 || parked[0].ID != id {
				t.Fatalf("order list --review = %v, %v; want %s", parked, err, id)
			}
			for i := 0; i < 3; i++ {
				e.clock.Advance(2 * time.Hour)
				e.tick()
			}
			if n := e.up.count("add"); n != 1 {
				t.Errorf("%d adds, want 1: a parked order is never resent", n)
			}
			e.check()
		})
	}
}

func TestResolveParkedOrder(t *testing.T) {
	parkedEnv := func(t *testing.T) (*env, string) {
		e := newEnv(t, classic, shortCalls)
		e.up.next("add", acceptThenHang(e.up))
		id := e.place("", 100)
		e.tick()
		if o := e.get(id); o.Review == "" {
			t.Fatalf("order not parked: %+v", o)
		}
		return e, id
	}
	t.Run("UpstreamID", func(t *testing.T) {
		e, id := parkedEnv(t)
		if err := e.db.ResolveUpstreamID(ctx, id, "1001", 0); err != nil {
			t.Fatal(err)
		}
		e.want(id, store.StatusProcessing)
		e.up.set("1001", "Completed", "40", "0")
		e.tick()
		e.want(id, store.StatusCompleted)
		if n := e.up.count("add"); n != 1 {
			t.Errorf("%d adds, want 1", n)
		}
		e.check()
	})
	t.Run("Resend", func(t *testing.T) {
		e, id := parkedEnv(t)
		if err := e.db.ResolveResend(ctx, id); err != nil {
			t.Fatal(err)
		}
		e.tick()
		if o := e.want(id, store.StatusProcessing); o.UpstreamID != "1002" {
			t.Errorf("upstream id %q, want the resent order's 1002", o.UpstreamID)
		}
		if n := e.up.count("add"); n != 2 {
			t.Errorf("%d adds, want 2 (the operator asked for the resend)", n)
		}
		e.check()
	})
	t.Run("Fail", func(t *testing.T) {
		e, id := parkedEnv(t)
		if err := e.db.ResolveFail(ctx, id, "not at the provider"); err != nil {
			t.Fatal(err)
		}
		o := e.want(id, store.StatusFailed)
		if total, rows := e.refunds(id); total != o.Charge || rows != 1 || o.Reason != "not at the provider" {
			t.Errorf("refunded %d in %d rows, reason %q", total, rows, o.Reason)
		}
		if err := e.db.ResolveFail(ctx, id, ""); err == nil {
			t.Error("a second resolve of a settled order succeeded")
		}
		e.tick()
		e.check()
	})
}

func TestDispatchNotpanelRetriesWithTheSameRequestID(t *testing.T) {
	e := newEnv(t, notpanel, shortCalls)
	e.up.next("add", acceptThenHang(e.up), reply(200, "<html>oops</html>"))
	id := e.place("", 100)
	e.tick()
	if o := e.want(id, store.StatusPending); o.Review != "" || o.Claimed {
		t.Fatalf("review %q, claimed %v: a notpanel dispatch is retried, not parked", o.Review, o.Claimed)
	}
	e.clock.Advance(30 * time.Second)
	e.tick() // the HTML page: temporary too
	e.clock.Advance(time.Minute)
	e.tick()
	o := e.want(id, store.StatusProcessing)
	adds := e.up.callsOf("add")
	if len(adds) != 3 {
		t.Fatalf("%d adds, want 3", len(adds))
	}
	for _, f := range adds {
		if f.Get("request_id") != id {
			t.Errorf("request_id %q, want %q every time", f.Get("request_id"), id)
		}
	}
	if e.up.orderCount() != 1 || o.UpstreamID != "1001" {
		t.Errorf("%d orders at the provider, ours is %q: want the one order 1001", e.up.orderCount(), o.UpstreamID)
	}
	e.check()
}

func TestDispatchAccountErrorPausesTheProvider(t *testing.T) {
	e := newEnv(t, classic)
	pace(t, e.db, "upstream", 1, 0)
	e.up.setAlways("add", reply(200, `{"error":"Invalid API key"}`))
	ids := []string{e.place("", 100), e.place("", 200), e.place("", 300)}
	e.tick()
	p, err := e.db.FindProvider(ctx, "upstream")
	if err != nil || p.Status != "paused" || !strings.Contains(p.PausedReason, "Invalid API key") {
		t.Fatalf("provider %+v, %v: want paused with the reason", p, err)
	}
	if n := e.up.count("add"); n != 1 {
		t.Errorf("%d adds, want 1: no call after the provider refused our key", n)
	}
	ids = append(ids, e.place("", 400))
	for i := 0; i < 3; i++ {
		e.clock.Advance(time.Hour)
		e.tick()
	}
	if n := e.up.total(); n != 1 {
		t.Errorf("%d calls to a paused provider, want none after the first", n-1)
	}
	for _, id := range ids {
		if o := e.want(id, store.StatusPending); o.Claimed {
			t.Errorf("order %s still claimed", id)
		}
	}
	e.up.setAlways("add", nil)
	if _, err := e.db.ResumeProvider(ctx, "upstream"); err != nil {
		t.Fatal(err)
	}
	e.tick()
	for _, id := range ids {
		e.want(id, store.StatusProcessing)
	}
	e.check()
}

func TestDispatchGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t, classic, func(c *worker.Config) { c.MaxAttempts = 3 })
	e.up.setAlways("add", reply(503, "<html>Service Unavailable</html>"))
	id := e.place("", 100)
	e.tick()
	e.clock.Advance(30 * time.Second)
	e.tick()
	e.clock.Advance(59 * time.Second) // the second retry waits twice as long
	e.tick()
	if n := e.up.count("add"); n != 2 {
		t.Fatalf("%d adds, want 2 before the doubled backoff ended", n)
	}
	e.clock.Advance(time.Second)
	e.tick()
	o := e.want(id, store.StatusFailed)
	if !strings.Contains(o.Reason, "gave up after 3 attempts") {
		t.Errorf("reason %q", o.Reason)
	}
	if total, rows := e.refunds(id); total != o.Charge || rows != 1 {
		t.Errorf("refunded %d in %d rows, want %d in 1", total, rows, o.Charge)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	if n := e.up.count("add"); n != 3 {
		t.Errorf("%d adds, want 3", n)
	}
	e.check()
}
