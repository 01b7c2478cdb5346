package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"notpanel/store"
)

// The reconciler's schedule: a deposit is first read back FirstReadBack
// after it starts (a webhook makes it due sooner), then after doubling
// delays up to MaxDelay, until GiveUpAfter, when it is parked for the
// operator. A lost webhook thus costs seconds to minutes, never money.
const (
	FirstReadBack = 30 * time.Second
	MaxDelay      = time.Hour
	GiveUpAfter   = 72 * time.Hour
)

// Config is what a Service needs.
type Config struct {
	DB  *store.DB
	Log zerolog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
	// Client makes the calls to the gateways; Timeout bounds each
	// (DefaultTimeout).
	Client  *http.Client
	Timeout time.Duration
	// Registry, when set, gets the payment metrics.
	Registry *prometheus.Registry
}

// Service starts deposits, reads them back and credits them, and serves
// the gateways' webhooks (ServeHTTP).
type Service struct {
	db      *store.DB
	log     zerolog.Logger
	now     func() time.Time
	client  *http.Client
	timeout time.Duration
	metrics *metrics

	mu       sync.Mutex
	inflight map[string]chan struct{} // deposits being read back, closed when done
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{db: cfg.DB, log: cfg.Log.With().Str("component", "payment").Logger(), now: cfg.Now,
		client: cfg.Client, timeout: cfg.Timeout, inflight: map[string]chan struct{}{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: s.timeout}
	}
	if cfg.Registry != nil {
		s.metrics = newMetrics(cfg.Registry, cfg.DB)
	}
	return s
}

// AddGateway checks what the gateway's kind needs, fills in its default
// URL, and registers it.
func (s *Service) AddGateway(ctx context.Context, g store.Gateway) (store.Gateway, error) {
	if err := Prepare(&g); err != nil {
		return g, err
	}
	return s.db.AddGateway(ctx, g)
}

// GatewayPatch changes the settings that are not nil.
type GatewayPatch struct {
	URL, APIKey, WebhookSecret, StoreID, Merchant *string
	Min, Max                                      *int64
}

// SetGateway changes a gateway's settings: a rotated key or webhook
// secret, new limits. What its kind needs is checked again.
func (s *Service) SetGateway(ctx context.Context, ref string, p GatewayPatch) (store.Gateway, error) {
	g, err := s.db.FindGateway(ctx, ref)
	if err != nil {
		return g, err
	}
	if g.Status == store.GatewayRemoved {
		return g, store.Errorf(store.NotFound, "Gateway %q not found", ref)
	}
	if g.Kind == store.GatewayCryptomus {
		g.WebhookSecret = "" // it follows the API key
	}
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&g.URL, p.URL}, {&g.APIKey, p.APIKey}, {&g.WebhookSecret, p.WebhookSecret}, {&g.StoreID, p.StoreID}, {&g.Merchant, p.Merchant}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if p.Min != nil {
		g.Min = *p.Min
	}
	if p.Max != nil {
		g.Max = *p.Max
	}
	if err := Prepare(&g); err != nil {
		return g, err
	}
	return g, s.db.SetGateway(ctx, g)
}

// Choice is a gateway as a customer chooses it: its name and limits.
type Choice struct {
	Name string
	Kind string
	Min  int64 // micro-units
	Max  int64
}

// Choices lists the enabled gateways, for the top-up form.
func (s *Service) Choices(ctx context.Context) ([]Choice, error) {
	gs, err := s.db.ListGateways(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]Choice, 0, len(gs))
	for _, g := range gs {
		out = append(out, Choice{Name: g.Name, Kind: g.Kind, Min: g.Min, Max: g.Max})
	}
	return out, nil
}

// ReturnURLs are where a gateway sends the customer back; "{DEPOSIT}" in
// either is replaced by the deposit's id. Both must be absolute http(s)
// URLs of the panel.
type ReturnURLs struct {
	Success string
	Cancel  string
}

// DepositPlaceholder in a return URL stands for the deposit's id.
const DepositPlaceholder = "{DEPOSIT}"

// StartDeposit starts a top-up of amount (micro-units, in the panel
// currency) for the account through the named gateway: it asks the gateway
// for a checkout and only then records the deposit, so that a gateway that
// is down, slow or answers garbage leaves nothing behind and the customer
// is told the payment provider is unavailable (ErrUnavailable). The
// returned deposit's CheckoutURL is where to send the customer (303).
func (s *Service) StartDeposit(ctx context.Context, accountID int64, gateway string, amount int64, urls ReturnURLs) (store.Deposit, error) {
	if accountID <= 0 {
		return store.Deposit{}, store.Errorf(store.Invalid, "No account given")
	}
	acc, err := s.db.AccountByID(ctx, accountID)
	if err != nil {
		return store.Deposit{}, err
	}
	if acc.Status != store.AccountActive {
		return store.Deposit{}, store.ErrAccountSuspended
	}
	g, err := s.db.FindGateway(ctx, gateway)
	if err != nil || g.Status != store.GatewayEnabled {
		return store.Deposit{}, store.Errorf(store.Invalid, "This payment method is not available")
	}
	if amount < g.Min || amount > g.Max {
		return store.Deposit{}, store.Errorf(store.Invalid, "Amount must be between %s and %s", store.FormatMoney(g.Min), store.FormatMoney(g.Max))
	}
	currency, err := s.db.Currency(ctx)
	if err != nil {
		return store.Deposit{}, err
	}
	id := store.NewID(store.PrefixDeposit)
	req := CheckoutRequest{Deposit: id, Amount: amount, Currency: currency,
		Description: fmt.Sprintf("Balance top-up for %s (%s)", acc.Name, id),
		SuccessURL:  strings.ReplaceAll(urls.Success, DepositPlaceholder, id),
		CancelURL:   strings.ReplaceAll(urls.Cancel, DepositPlaceholder, id)}
	origin, err := originOf(req.SuccessURL)
	if err != nil || !validCheckoutURL(req.CancelURL) {
		return store.Deposit{}, store.Errorf(store.Invalid, "Return URLs must be absolute http(s) URLs")
	}
	site, err := s.db.Site(ctx)
	if err != nil {
		return store.Deposit{}, err
	}
	if site.URL != "" {
		origin = strings.TrimRight(site.URL, "/") // the operator's word for the panel's address
	}
	req.WebhookURL = origin + "/payments/" + url.PathEscape(g.Name) + "/webhook"
	gw, err := open(g, s.client)
	if err != nil {
		return store.Deposit{}, err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	c, err := gw.Checkout(callCtx, req)
	s.metrics.called(g.Name, "checkout", err)
	if err != nil {
		if store.ErrorCode(err) == store.Invalid {
			return store.Deposit{}, err // ours to say: an amount the currency cannot hold
		}
		s.log.Warn().Err(err).Str("gateway", g.Name).Str("deposit", id).Int64("account", accountID).
			Msg("gateway could not start a checkout; no deposit recorded")
		return store.Deposit{}, fmt.Errorf("%w (%w)", ErrUnavailable, err)
	}
	d, err := s.db.CreateDeposit(ctx, store.Deposit{ID: id, AccountID: accountID, GatewayID: g.ID, Amount: amount,
		Currency: currency, Reference: c.Reference, CheckoutURL: c.URL, NextAt: s.now().Add(FirstReadBack).Unix()})
	if err != nil {
		return d, err
	}
	s.log.Info().Str("deposit", id).Str("gateway", g.Name).Str("reference", c.Reference).Int64("account", accountID).
		Str("amount", store.FormatMoney(amount)).Msg("deposit started")
	return d, nil
}

// originOf is scheme://host of an absolute http(s) URL.
func originOf(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !validCheckoutURL(s) {
		return "", errors.New("not an absolute http(s) URL")
	}
	return u.Scheme + "://" + u.Host, nil
}

// Deposits lists an account's deposits, newest first.
func (s *Service) Deposits(ctx context.Context, accountID int64, limit int) ([]store.Deposit, error) {
	return s.db.AccountDeposits(ctx, accountID, limit)
}

// Refresh reads a pending deposit back from its gateway now and applies
// the answer: paid credits it (once, however many refreshes race), expired
// or failed closes it, something odd parks it for the operator, and open
// schedules the next read-back. A read-back that fails leaves the deposit
// pending for the next try, records why, and returns the error. An expired
// or failed deposit is asked again too, for money paid late, which parks it
// for the operator; a credited one, or one already parked, is returned as
// it is.
func (s *Service) Refresh(ctx context.Context, id string) (store.Deposit, error) {
	d, err := s.db.FindDeposit(ctx, id)
	if err != nil || !askable(d) {
		return d, err
	}
	// One read-back of a deposit at a time in this process: fifty webhooks
	// of one payment make one call to the gateway, not fifty.
	s.mu.Lock()
	if wait, busy := s.inflight[d.ID]; busy {
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return d, ctx.Err()
		}
		return s.db.FindDeposit(ctx, d.ID)
	}
	done := make(chan struct{})
	s.inflight[d.ID] = done
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, d.ID)
		s.mu.Unlock()
		close(done)
	}()
	if err := s.readBack(ctx, d); err != nil {
		return d, err
	}
	return s.db.FindDeposit(ctx, d.ID)
}

// askable reports whether a deposit's gateway has anything left to tell of
// it: a pending deposit, or a closed one not yet parked for money paid late.
func askable(d store.Deposit) bool {
	return d.Status == store.DepositPending ||
		(d.Status == store.DepositExpired || d.Status == store.DepositFailed) && d.Review == ""
}

func (s *Service) readBack(ctx context.Context, d store.Deposit) error {
	g, err := s.db.GatewayByID(ctx, d.GatewayID)
	if err != nil {
		return err
	}
	gw, err := open(g, s.client)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	p, err := gw.Lookup(callCtx, d.Reference)
	cancel()
	s.metrics.called(g.Name, "read-back", err)
	log := s.log.With().Str("deposit", d.ID).Str("gateway", g.Name).Str("gateway_status", p.Status).Logger()
	if err != nil {
		var rerr error
		if d.Status == store.DepositPending && s.givenUp(d) {
			// As long without an answer as without a verdict.
			rerr = s.giveUp(ctx, log, d, fmt.Sprintf("no answer from the gateway after %s (%s)", GiveUpAfter, truncate(err.Error(), 200)), "")
		} else {
			_, rerr = s.db.DepositChecked(ctx, d.ID, "", truncate(err.Error(), 500), s.nextAt(d))
		}
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		return fmt.Errorf("deposit %s: %w", d.ID, err)
	}
	if p.Deposit != "" && p.Deposit != d.ID {
		p.Verdict, p.Reason = Review, fmt.Sprintf("the gateway's checkout names deposit %q", truncate(p.Deposit, 64))
	}
	if p.Verdict == Paid && !strings.EqualFold(p.Currency, d.Currency) {
		p.Verdict, p.Reason = Review, fmt.Sprintf("paid %s %s for a deposit in %s", store.FormatMoney(p.Amount), truncate(p.Currency, 8), d.Currency)
	}
	if d.Status != store.DepositPending {
		// Closed on the gateway's word, which has changed: a late payment
		// is the operator's to credit (payment credit), never undone here.
		if p.Verdict != Paid && p.Verdict != Review {
			return nil
		}
		reason := fmt.Sprintf("the gateway says %s for a deposit %s before", truncate(p.Status, 40), d.Status)
		if p.Reason != "" {
			reason += ": " + p.Reason
		}
		if parked, err := s.db.ParkClosedDeposit(ctx, d.ID, reason, p.Status); err != nil {
			return err
		} else if parked {
			log.Warn().Str("reason", reason).Msg("money paid late for a closed deposit: see notpanel payment list --review")
		}
		return nil
	}
	switch p.Verdict {
	case Paid:
		credited, err := s.db.CreditDeposit(ctx, d.ID, p.Amount, p.Status)
		if err != nil {
			return err
		}
		if credited {
			log.Info().Int64("account", d.AccountID).Str("amount", store.FormatMoney(p.Amount)).Msg("deposit credited")
		}
	case Expired, Failed:
		status := store.DepositExpired
		if p.Verdict == Failed {
			status = store.DepositFailed
		}
		if _, err := s.db.CloseDeposit(ctx, d.ID, status, p.Status); err != nil {
			return err
		}
		log.Info().Msg("deposit " + status)
	case Review:
		if parked, err := s.db.ParkDeposit(ctx, d.ID, p.Reason, p.Status); err != nil {
			return err
		} else if parked {
			log.Warn().Str("reason", p.Reason).Msg("deposit parked for the operator: see notpanel payment list --review")
		}
	default:
		if s.givenUp(d) {
			return s.giveUp(ctx, log, d, fmt.Sprintf("still unpaid at the gateway after %s (%s)", GiveUpAfter, p.Status), p.Status)
		}
		if _, err := s.db.DepositChecked(ctx, d.ID, p.Status, "", s.nextAt(d)); err != nil {
			return err
		}
	}
	return nil
}

// givenUp reports whether a pending deposit is past its read-backs:
// GiveUpAfter after it started.
func (s *Service) givenUp(d store.Deposit) bool {
	return s.now().Sub(time.Unix(d.Created, 0)) > GiveUpAfter
}

// giveUp parks a pending deposit that has had no verdict for GiveUpAfter:
// the reconciler asks no more, and the operator settles it.
func (s *Service) giveUp(ctx context.Context, log zerolog.Logger, d store.Deposit, reason, gatewayStatus string) error {
	if parked, err := s.db.ParkDeposit(ctx, d.ID, reason, gatewayStatus); err != nil {
		return err
	} else if parked {
		log.Warn().Msg("deposit parked: " + reason)
	}
	return nil
}

// nextAt is when to read d back again after this try: the first
// read-back came FirstReadBack after the start, and each delay after it is
// twice the one before, up to MaxDelay.
func (s *Service) nextAt(d store.Deposit) int64 {
	delay := 2 * FirstReadBack
	for i := int64(0); i < d.Attempts && delay < MaxDelay; i++ {
		delay *= 2
	}
	return s.now().Add(min(delay, MaxDelay)).Unix()
}
