package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"notpanel/fault"
	"notpanel/payment"
	"notpanel/payment/paymenttest"
	"notpanel/simulator"
	"notpanel/store"
	"notpanel/store/storetest"
)

var (
	kills  = flag.Int("kills", 24, "how often TestKillHarness kills the server")
	lose   = flag.Float64("lose-answers", 0.02, "the share of the adds the simulated provider takes whose answer TestKillHarness's server never sees")
	killAt = flag.String("kill-at", "", "where TestKillHarness kills the server, in turn: crash points of package fault, "+
		"comma-separated, and \"timer\" for a random moment (default: every point and the timer)")
)

// envFault arms a crash point in a server started by the harness: with
// "point:n" it kills itself the nth time it passes point.
const envFault = "NOTPANEL_FAULT"

// TestMain lets the harness run this test binary as `notpanel`.
func TestMain(m *testing.M) {
	if os.Getenv("NOTPANEL_RUN_MAIN") == "1" {
		armFault(os.Getenv(envFault))
		main()
		return
	}
	os.Exit(m.Run())
}

func armFault(spec string) {
	point, nth, ok := strings.Cut(spec, ":")
	if !ok {
		return
	}
	n, _ := strconv.ParseInt(nth, 10, 64)
	var hits atomic.Int64
	fault.Set(point, func(string) {
		if hits.Add(1) == n {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
}

// TestKillHarness runs `notpanel serve` (this test binary standing in for
// it) against a simulated provider, slow to take adds and out of funds now
// and then (its orders then go to the backup provider of the service), and
// a webhook receiver, while clients place orders, retrying each with its
// request_id until it is answered, and cancel some of them twice at once,
// some at once and some once they are with a provider. The server is killed
// with SIGKILL, in turn at each crash point of package fault and at a
// random moment. After every kill the database must pass integrity_check
// and the audit, hold every order a client was told about and an event for
// every order that ended, and the provider and its backup together must
// hold at most one order per order placed. At the end every event must
// have reached the receiver.
func TestKillHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server process many times")
	}
	// The points reached least often come first, to be tried most often.
	modes := []string{fault.AfterCancel, fault.AfterApply, fault.AfterFailover, fault.BeforeDelivery, "timer"}
	for _, p := range fault.Points {
		if !slices.Contains(modes, p) {
			modes = append(modes, p)
		}
	}
	if *killAt != "" {
		modes = strings.Split(*killAt, ",")
	}
	for _, m := range modes {
		if m != "timer" && !slices.Contains(fault.Points, m) {
			t.Fatalf("-kill-at: %q is neither a crash point (%s) nor timer", m, strings.Join(fault.Points, ", "))
		}
	}
	h := newHarness(t)
	srv := h.start("")
	h.addWebhook()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	late := make(chan lateCancel, 100_000)
	for c := range 4 {
		wg.Go(func() { h.place(c, stop, late) })
	}
	wg.Go(func() { h.cancelLate(stop, late) })
	// A customer tops up too while the server may be killed where a
	// credit is decided; runs aimed at other points leave payments out.
	topUps := slices.Contains(modes, fault.AfterPaid)
	if topUps {
		wg.Go(func() { h.topUp(stop) })
	}

	// A point the server did not reach in its round is armed again in the
	// next, up to three times in a row, before the harness moves on.
	reached := map[string]int{}
	next, tries := 0, 0
	for round := 1; round <= *kills; round++ {
		mode := modes[next%len(modes)]
		if round > 1 || mode != "timer" {
			srv.kill() // the first server runs unarmed
			srv = h.start(mode)
		}
		began := time.Now()
		hit := h.stopped(srv, mode)
		t.Logf("kill %d at %s: reached %v after %v", round, mode, hit, time.Since(began).Round(time.Millisecond))
		if hit {
			reached[mode]++
		}
		if tries++; hit || mode == "timer" || tries == 3 {
			next, tries = next+1, 0
		}
		h.check(round)
	}
	close(stop)
	wg.Wait()

	// An unarmed server finishes what is due; then every event that was
	// due must have reached the receiver.
	srv = h.start("")
	h.drain()
	if topUps {
		h.drainDeposits()
	}
	srv.kill()
	h.check(*kills + 1)
	h.checkDelivered()
	if topUps {
		h.checkDeposits()
	}

	t.Logf("%d orders acknowledged, %d at the provider, %d at its backup, %d deposits paid, %d kills; crash points reached: %v",
		len(h.acked), len(h.sim.Links()), len(h.backup.Links()), len(h.deposits), *kills, reached)
	if len(h.backup.Links()) == 0 || len(h.sim.Links()) == 0 {
		t.Error("the provider or its backup took no order: the failover was not exercised")
	}
	if len(h.acked) < *kills {
		t.Errorf("only %d orders acknowledged over %d kills", len(h.acked), *kills)
	}
	if *killAt == "" && *kills >= 2*len(modes) {
		for _, m := range modes {
			if m != "timer" && reached[m] == 0 {
				t.Errorf("crash point %s was never reached in %d kills", m, *kills)
			}
		}
	}
}

// harness is the world of TestKillHarness: the database file, the address
// the server listens on, the simulated provider and the backup provider of
// its service, the webhook receiver and what the clients were told.
type harness struct {
	t          *testing.T
	path, addr string
	key        string
	sim        *simulator.Provider
	backup     *simulator.Provider
	hook       *httptest.Server
	client     *http.Client
	env        []string // more of the server's environment, "K=V"

	mu       sync.Mutex
	acked    map[string]string // order id → link
	received map[string]int    // webhook-id → deliveries

	gateway  *paymenttest.BTCPay // the payment gateway, paying every deposit at once
	payments *store.DB           // the harness's own handle, to start deposits as the storefront does
	deposits map[string]store.Deposit
}

type lateCancel struct {
	order string
	at    time.Time // when to send it
}

// simLatency is how long the simulated providers take to answer an add, so
// that many adds are in flight, at the default of 16 calls at once, when
// the server is killed.
const simLatency = 20 * time.Millisecond

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, path: dbPath(t), sim: simulator.New("sim-key", time.Now, 3), backup: simulator.New("backup-key", time.Now, 4),
		client: &http.Client{Timeout: 5 * time.Second}, acked: map[string]string{}, received: map[string]int{},
		gateway: paymenttest.NewBTCPay("btc-key", "store", "btc-secret"), deposits: map[string]store.Deposit{}}
	h.sim.AddLatency, h.backup.AddLatency = simLatency, simLatency
	h.sim.LoseAnswers = *lose // parked for review, never sent elsewhere
	gwSrv := httptest.NewServer(h.gateway)
	t.Cleanup(gwSrv.Close)
	simSrv := httptest.NewServer(h.sim)
	t.Cleanup(simSrv.Close)
	backupSrv := httptest.NewServer(h.backup)
	t.Cleanup(backupSrv.Close)
	// The provider runs out of funds for a while every second and a half,
	// and its orders go to the backup meanwhile.
	stopFunds := make(chan struct{})
	fundsDone := make(chan struct{})
	go func() {
		defer close(fundsDone)
		for {
			h.sim.AddFunds(-h.sim.Balance())
			select {
			case <-stopFunds:
				return
			case <-time.After(300 * time.Millisecond):
			}
			h.sim.AddFunds(1_000_000_000_000)
			select {
			case <-stopFunds:
				return
			case <-time.After(1200 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stopFunds); <-fundsDone })
	h.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.received[r.Header.Get("webhook-id")]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.hook.Close)

	db := openStore(t, h.path)
	defer db.Close()
	ctx := context.Background()
	if _, err := db.AddProvider(ctx, store.Provider{Name: "sim", URL: simSrv.URL, APIKey: "sim-key"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddProvider(ctx, store.Provider{Name: "backup", URL: backupSrv.URL, APIKey: "backup-key"}); err != nil {
		t.Fatal(err)
	}
	svc, err := db.AddService(ctx, store.Service{Name: "F", Category: "I", Type: store.TypeDefault, Rate: 1_000_000,
		Min: 50, Max: 10_000, Cancel: true, ProviderService: "1"}, "sim")
	if err != nil {
		t.Fatal(err)
	}
	backup, backupService := "backup", "1"
	if _, err := db.UpdateService(ctx, svc.ID, store.ServicePatch{BackupProvider: &backup, BackupProviderService: &backupService}); err != nil {
		t.Fatal(err)
	}
	_, h.key = storetest.Account(t, db, "alice", 1_000_000_000_000)
	if err := db.SetTier(ctx, store.Tier{Name: "wide", KeyPerMin: 1e6, AccountPerMin: 1e6}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetAccountTier(ctx, "alice", "wide"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddGateway(ctx, store.Gateway{Name: "btc", Kind: store.GatewayBTCPay, URL: gwSrv.URL, APIKey: "btc-key",
		StoreID: "store", WebhookSecret: "btc-secret", Min: 1, Max: store.MaxAmount}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	ln.Close()
	h.payments = openStore(t, h.path)
	return h
}

// proc is one run of the server process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has ended
	err  error         // then: the outcome of cmd.Wait
}

// kill stops the server with SIGKILL, if it is still running.
func (s *proc) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// start runs the server, armed to kill itself at point when it names one,
// and waits until it listens, or has already killed itself. extra are more
// flags of serve.
func (h *harness) start(point string, extra ...string) *proc {
	h.t.Helper()
	args := []string{"--db", h.path, "--log-level", "error", "serve", "--listen", h.addr, "--ops-listen", "127.0.0.1:0",
		"--ip-per-min", "1000000000", "--worker-interval", "50ms", "--sync-interval", "1s", "--webhook-allow-insecure"}
	cmd := exec.Command(os.Args[0], append(args, extra...)...)
	cmd.Env = append(append(os.Environ(), h.env...), "NOTPANEL_RUN_MAIN=1")
	if point != "" && point != "timer" {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%s:%d", envFault, point, 1+rand.IntN(3)))
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	s := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", h.addr); err == nil {
			c.Close()
			return s
		}
		select {
		case <-s.done:
			return s
		default:
		}
	}
	h.t.Fatal("server did not start")
	return nil
}

// stopped waits for the server to kill itself at its crash point, or kills
// it: at once for the timer, after 15 s for a point it does not reach. It
// reports whether the server stopped itself.
func (h *harness) stopped(s *proc, mode string) bool {
	if mode == "timer" {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		s.kill()
		return false
	}
	select {
	case <-s.done:
		var exit *exec.ExitError
		if errors.As(s.err, &exit) {
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true
			}
		}
		h.t.Fatalf("the server armed at %s ended by itself: %v", mode, s.err)
	case <-time.After(15 * time.Second):
		s.kill()
	}
	return false
}

func (h *harness) post(v url.Values) (int, map[string]any, error) {
	v.Set("key", h.key)
	resp, err := h.client.PostForm("http://"+h.addr+"/api/v2", v)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

// answered sends v until the server answers it (it may be down), and
// returns the answer; it gives up when stop closes.
func (h *harness) answered(v url.Values, stop <-chan struct{}) (int, map[string]any, bool) {
	for {
		code, out, err := h.post(v)
		if err == nil && code != 500 {
			return code, out, true
		}
		select {
		case <-stop:
			return 0, nil, false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (h *harness) addWebhook() {
	code, out, _ := h.answered(url.Values{"action": {"webhook.add"}, "url": {h.hook.URL + "/hook"}}, nil)
	if code != 200 {
		h.t.Fatalf("webhook.add: %d %v", code, out)
	}
}

// place is one client: it places orders one after another, each with its
// request_id until it is answered, and cancels every third at once, twice
// in parallel (a retry racing the first try), and every fifth later, when
// the provider has it.
func (h *harness) place(c int, stop <-chan struct{}, late chan<- lateCancel) {
	for seq := 0; ; seq++ {
		link := fmt.Sprintf("https://instagram.com/p/c%d-%d", c, seq)
		code, out, ok := h.answered(url.Values{"action": {"add"}, "service": {"1"}, "request_id": {link},
			"link": {link}, "quantity": {"100"}}, stop)
		if !ok {
			return
		}
		id, _ := out["order"].(string)
		if code != 200 || id == "" {
			h.t.Errorf("add answered %d %v", code, out)
			return
		}
		h.mu.Lock()
		h.acked[id] = link
		h.mu.Unlock()
		switch {
		case seq%3 == 0:
			var both sync.WaitGroup
			for range 2 {
				both.Go(func() { h.post(url.Values{"action": {"cancel"}, "order": {id}}) })
			}
			both.Wait()
		case seq%5 == 1:
			late <- lateCancel{id, time.Now().Add(time.Duration(300+rand.IntN(700)) * time.Millisecond)}
		}
	}
}

// cancelLate sends the later cancels when they are due and the provider
// has the order: one still waiting to be sent is asked about again later,
// one that ended is left alone.
func (h *harness) cancelLate(stop <-chan struct{}, late chan lateCancel) {
	for {
		var lc lateCancel
		select {
		case <-stop:
			return
		case lc = <-late:
		}
		select {
		case <-stop:
			return
		case <-time.After(time.Until(lc.at)):
		}
		_, out, ok := h.answered(url.Values{"action": {"status"}, "order": {lc.order}}, stop)
		if !ok {
			return
		}
		switch out["status"] {
		case store.StatusPending:
			lc.at = time.Now().Add(300 * time.Millisecond)
			select {
			case late <- lc:
			default: // the queue is full: this one is given up
			}
			continue
		case store.StatusProcessing, store.StatusInProgress:
		default:
			continue
		}
		if _, _, ok := h.answered(url.Values{"action": {"cancel"}, "order": {lc.order}}, stop); !ok {
			return
		}
	}
}

// check reopens the database of the killed server and checks it.
func (h *harness) check(round int) {
	t := h.t
	t.Helper()
	db := openStore(t, h.path)
	defer db.Close()
	raw := storetest.Raw(t, db)
	var ok string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("after kill %d: integrity_check %q %v", round, ok, err)
	}
	vs, err := db.Audit(context.Background())
	if err != nil || len(vs) > 0 {
		t.Fatalf("after kill %d: audit %v: %v", round, err, vs)
	}
	h.mu.Lock()
	ids := make([]string, 0, len(h.acked))
	for id := range h.acked {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	for _, id := range ids {
		if _, err := db.FindOrder(context.Background(), id); err != nil {
			t.Fatalf("after kill %d: acknowledged order %s is gone: %v", round, id, err)
		}
	}
	// The outbox: an order that ended has the event of its end.
	ended := map[string]bool{} // order id + " " + event type
	rows, err := raw.Query(`SELECT data ->> '$.order', type FROM events WHERE type LIKE 'order.%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			t.Fatal(err)
		}
		ended[id+" "+typ] = true
	}
	rows.Close()
	rows, err = raw.Query(`SELECT id, status FROM orders WHERE status IN ('completed', 'partial', 'cancelled', 'failed')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		if !ended[id+" order."+status] {
			t.Errorf("after kill %d: order %s is %s without an order.%s event", round, id, status, status)
		}
	}
	rows.Close()
	held := h.sim.Links()
	for link, n := range held {
		if n > 1 {
			t.Fatalf("after kill %d: the provider holds %d orders for %s", round, n, link)
		}
	}
	for link, n := range h.backup.Links() {
		if n > 1 {
			t.Fatalf("after kill %d: the backup holds %d orders for %s", round, n, link)
		}
		if held[link] > 0 {
			t.Fatalf("after kill %d: the provider and its backup both hold an order for %s", round, link)
		}
	}
}

// drain waits until the running server has delivered every webhook event
// that is due.
func (h *harness) drain() {
	h.t.Helper()
	db := openStore(h.t, h.path)
	defer db.Close()
	raw := storetest.Raw(h.t, db)
	var due int
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := raw.QueryRow(`SELECT count(*) FROM deliveries WHERE status != 'delivered'`).Scan(&due); err != nil {
			h.t.Fatal(err)
		}
		if due == 0 {
			return
		}
	}
	h.t.Fatalf("%d webhook deliveries still not done after a minute", due)
}

// checkDelivered checks that every delivery the database records as done
// reached the receiver, and that every event older than a few seconds was
// delivered.
func (h *harness) checkDelivered() {
	t := h.t
	db := openStore(t, h.path)
	defer db.Close()
	rows, err := storetest.Raw(t, db).Query(`SELECT d.event_id, d.status, e.created_at FROM deliveries d
		JOIN events e ON e.id = d.event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	var n, again int
	recent := time.Now().Add(-5 * time.Second).Unix()
	for rows.Next() {
		var id, status string
		var created int64
		if err := rows.Scan(&id, &status, &created); err != nil {
			t.Fatal(err)
		}
		n++
		switch {
		case status == "delivered" && h.received[id] == 0:
			t.Errorf("event %s is marked delivered but the receiver never got it", id)
		case status != "delivered" && created < recent:
			t.Errorf("event %s of %d is %s", id, created, status)
		case h.received[id] > 1:
			again++
		}
	}
	if n == 0 {
		t.Error("no webhook deliveries at all")
	}
	t.Logf("%d webhook deliveries, %d of them received more than once", n, again)
}

// TestHarnessCatchesBrokenVariants builds this test binary with the
// notpanel_broken tag and runs TestKillHarness against each deliberately
// wrong variant of package fault: the harness must fail on each, for the
// reason that variant breaks.
func TestHarnessCatchesBrokenVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the test binary again and runs the kill harness once per broken variant")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "notpanel-broken.test")
	args := []string{"test", "-c", "-tags", "notpanel_broken", "-o", bin}
	if bi, ok := debug.ReadBuildInfo(); ok && slices.Contains(bi.Settings, debug.BuildSetting{Key: "-race", Value: "true"}) {
		args = append(args, "-race") // the packages are built that way already
	}
	if out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, tt := range []struct {
		variant, killAt string
		want            string   // in the harness's complaint
		flags           []string // more flags for the harness
	}{
		// The order is committed, the process dies before the debit is.
		{fault.SplitDebit, fault.AfterDebit, "one-charge-per-order", nil},
		// Two cancels of one order race, and both refund it.
		{fault.UnguardedCancel, "timer", "cancelled-failed-fully-refunded-once", nil},
		// The provider took the add, the process died before recording it,
		// and the restarted one sends it again.
		{fault.ResendUnknown, fault.AfterAdd, "holds 2 orders for", nil}, // the provider or its backup
		// The provider took an order but its answer was lost, and the
		// order is sent to the backup as if it had been refused.
		// One add in five loses its answer, so that some do in six short
		// runs of a slowed (race-built) server.
		{fault.FailoverUnknown, "timer", "the provider and its backup both hold an order", []string{"-lose-answers", "0.2"}},
		// A deposit's credit is committed, the process dies before the
		// deposit is marked credited, and the webhook sent again credits
		// it again.
		{fault.SplitCredit, fault.AfterPaid, "deposit-rows-name-a-credited-deposit", nil},
	} {
		t.Run(tt.variant, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"-test.run", "^TestKillHarness$", "-test.v", "-kills", "6", "-kill-at", tt.killAt}, tt.flags...)...)
			cmd.Env = append(os.Environ(), fault.EnvBroken+"="+tt.variant)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the harness passed against %s:\n%s", tt.variant, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("the harness failed against %s, but not with %q:\n%s", tt.variant, tt.want, out)
			}
		})
	}
}

// topUp is a customer topping up, one deposit after another, as the
// storefront starts them, each paid at once at the gateway, whose webhook
// is posted until the server answers it (as a gateway retries).
func (h *harness) topUp(stop <-chan struct{}) {
	svc := payment.New(payment.Config{DB: h.payments})
	for seq := int64(1); ; seq++ {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond): // a few top-ups a second: the orders stay the main load
		}
		d, err := svc.StartDeposit(context.Background(), 1, "btc", seq*10_000,
			payment.ReturnURLs{Success: "https://panel.test/r", Cancel: "https://panel.test/c"})
		if err != nil {
			h.t.Errorf("start deposit: %v", err)
			return
		}
		h.gateway.Set(d.Reference, paymenttest.Paid)
		h.mu.Lock()
		h.deposits[d.ID] = d
		h.mu.Unlock()
		h.notify(d, stop)
	}
}

// notify posts the gateway's webhook about d until the server answers it
// with a 2xx, or stop closes.
func (h *harness) notify(d store.Deposit, stop <-chan struct{}) {
	body, hdr := h.gateway.Webhook(d.Reference, "InvoiceSettled")
	for {
		req, _ := http.NewRequest(http.MethodPost, "http://"+h.addr+"/payments/btc/webhook", strings.NewReader(string(body)))
		req.Header = hdr.Clone()
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// drainDeposits posts the webhook of every deposit not credited yet to the
// running server, as the gateway would go on retrying it.
func (h *harness) drainDeposits() {
	h.mu.Lock()
	deps := make([]store.Deposit, 0, len(h.deposits))
	for _, d := range h.deposits {
		deps = append(deps, d)
	}
	h.mu.Unlock()
	never := make(chan struct{})
	for _, d := range deps {
		got, err := h.payments.FindDeposit(context.Background(), d.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		if got.Status == store.DepositPending {
			h.notify(d, never)
		}
	}
}

// checkDeposits checks that every deposit the customer paid was credited,
// once, for its amount (the audit checks the ledger rows).
func (h *harness) checkDeposits() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.deposits) == 0 {
		h.t.Error("no deposits at all")
	}
	for id, d := range h.deposits {
		got, err := h.payments.FindDeposit(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		if got.Status != store.DepositCredited || got.Credited != d.Amount {
			h.t.Errorf("paid deposit %s: %s with %d credited, want credited %d", id, got.Status, got.Credited, d.Amount)
		}
	}
}
