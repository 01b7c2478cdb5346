package worker_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"notpanel/payment"
	"notpanel/payment/paymenttest"
	"notpanel/store"
	"notpanel/store/storetest"
	"notpanel/worker"
)

// shop is a panel with a BTCPay gateway (a fake), a customer, the payment
// service and a worker reconciling deposits, all on one clock.
type shop struct {
	t     *testing.T
	db    *store.DB
	fake  *paymenttest.BTCPay
	svc   *payment.Service
	w     *worker.Worker
	clock *storetest.Clock
	alice store.Account
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{t: t, db: storetest.Open(t), fake: paymenttest.NewBTCPay("k", "st", "sec"),
		clock: storetest.NewClock(time.Now()), logs: &syncBuffer{}}
	srv := httptest.NewServer(s.fake)
	t.Cleanup(srv.Close)
	log := zerolog.New(s.logs)
	s.svc = payment.New(payment.Config{DB: s.db, Log: log, Now: s.clock.Now, Timeout: 2 * time.Second})
	if _, err := s.svc.AddGateway(ctx, store.Gateway{Name: "btc", Kind: store.GatewayBTCPay, URL: srv.URL, APIKey: "k",
		StoreID: "st", WebhookSecret: "sec", Min: 1_000_000, Max: 100_000_000}); err != nil {
		t.Fatal(err)
	}
	s.alice, _ = storetest.Account(t, s.db, "alice", 0)
	s.w = worker.New(worker.Config{DB: s.db, Log: log, Now: s.clock.Now, Deposits: s.svc})
	return s
}

func (s *shop) start(amount int64) store.Deposit {
	s.t.Helper()
	d, err := s.svc.StartDeposit(ctx, s.alice.ID, "btc", amount, payment.ReturnURLs{Success: "https://p.test/r", Cancel: "https://p.test/c"})
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

func (s *shop) deposit(id string) store.Deposit {
	s.t.Helper()
	d, err := s.db.FindDeposit(ctx, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// A paid deposit whose webhook was lost is credited by the reconciler on
// its first read-back, 30 seconds after it started; not before.
func TestReconcilerCreditsWithoutWebhook(t *testing.T) {
	s := newShop(t)
	d := s.start(5_000_000)
	s.fake.Set(d.Reference, paymenttest.Paid)
	s.clock.Advance(10 * time.Second)
	s.w.Tick(ctx)
	if s.fake.Lookups() != 0 || s.deposit(d.ID).Status != store.DepositPending {
		t.Fatalf("read back before it was due: %d lookups", s.fake.Lookups())
	}
	s.clock.Advance(20 * time.Second)
	s.w.Tick(ctx)
	if got := s.deposit(d.ID); got.Status != store.DepositCredited || got.Credited != 5_000_000 {
		t.Errorf("after 30 s: %+v, want credited", got)
	}
	s.clock.Advance(time.Hour)
	s.w.Tick(ctx)
	if s.fake.Lookups() != 1 {
		t.Errorf("%d read-backs, want 1: a credited deposit is not read back again", s.fake.Lookups())
	}
	storetest.Audit(t, s.db)
}

// A gateway that is down: each read-back fails, is logged, and leaves the
// deposit pending, asked again after a doubling delay; once the gateway is
// back, the deposit is settled. An expired invoice is marked expired.
func TestReconcilerWithGatewayDown(t *testing.T) {
	s := newShop(t)
	paid := s.start(5_000_000)
	expired := s.start(2_000_000)
	s.fake.Set(paid.Reference, paymenttest.Paid)
	s.fake.Set(expired.Reference, paymenttest.Expired)
	s.fake.Fail(paymenttest.Down)
	s.clock.Advance(30 * time.Second)
	s.w.Tick(ctx)
	if got := s.deposit(paid.ID); got.Status != store.DepositPending || got.Attempts != 1 || !strings.Contains(got.LastError, "503") {
		t.Errorf("after a failed read-back: %+v", got)
	}
	if !strings.Contains(s.logs.String(), "deposit read-back failed") {
		t.Errorf("the failure was not logged: %s", s.logs)
	}
	lookups := s.fake.Lookups()
	s.clock.Advance(59 * time.Second)
	s.w.Tick(ctx)
	if s.fake.Lookups() != lookups {
		t.Errorf("asked again before its 60 s delay")
	}
	s.fake.Fail(paymenttest.Healthy)
	s.clock.Advance(time.Second)
	s.w.Tick(ctx)
	if got := s.deposit(paid.ID); got.Status != store.DepositCredited {
		t.Errorf("paid deposit once the gateway is back: %+v", got)
	}
	if got := s.deposit(expired.ID); got.Status != store.DepositExpired {
		t.Errorf("expired invoice: %+v", got)
	}
	storetest.Audit(t, s.db)
}

// Fifty webhooks about one paid deposit, the reconciler and a refresh from
// another process, all at once, credit it once.
func TestWebhooksAndReconcilerCreditOnce(t *testing.T) {
	s := newShop(t)
	d := s.start(9_000_000)
	s.fake.Set(d.Reference, paymenttest.Paid)
	s.clock.Advance(time.Minute) // due for the reconciler too
	srv := httptest.NewServer(s.svc)
	defer srv.Close()
	other := payment.New(payment.Config{DB: s.db})
	body, h := s.fake.Webhook(d.Reference, "InvoiceSettled")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/payments/btc/webhook", bytes.NewReader(body))
			req.Header = h.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("webhook %d: %d", i, resp.StatusCode)
			}
		})
	}
	wg.Go(func() { s.w.Tick(ctx) })
	wg.Go(func() { other.Refresh(ctx, d.ID) })
	wg.Wait()
	if got, _ := s.db.Balance(ctx, s.alice.ID); got != 9_000_000 {
		t.Errorf("balance %s, want 9.00", store.FormatMoney(got))
	}
	if entries, _ := s.db.Ledger(ctx, s.alice.ID, ""); len(entries) != 1 {
		t.Errorf("%d ledger rows, want 1", len(entries))
	}
	storetest.Audit(t, s.db)
}
