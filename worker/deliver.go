package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"notpanel/fault"
	"notpanel/store"
	"notpanel/webhook"
)

// deliveryBatch is how many due deliveries one pass takes.
const deliveryBatch = 1000

// hookCalls is how many posts to one webhook may be in flight at once.
const hookCalls = 4

// deliveryTimeout bounds one attempt at a receiver.
const deliveryTimeout = 10 * time.Second

// retrySchedule is how long after each failed attempt the next one comes,
// spread by jitter: about a day in all, then the delivery is given up.
var retrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// deliveries sends due webhook events. Each webhook gets a lane of its own,
// with up to hookCalls posts at a time, so a slow receiver holds up only
// itself. Events may arrive out of order, as retries make them anyway.
func (w *Worker) deliveries(stop, work context.Context) bool {
	jobs, err := w.cfg.DB.DueDeliveries(work, w.now().Unix(), deliveryBatch, w.delivering.running())
	if err != nil {
		w.log.Error().Err(err).Msg("list due deliveries")
		return false
	}
	for id, list := range groupBy(jobs, func(j store.DeliveryJob) string { return j.WebhookID }) {
		w.delivering.start(&w.inflight, id, func() {
			var wg sync.WaitGroup
			defer wg.Wait()
			var gone atomic.Bool // disabled: the rest are given up with it
			calls := make(chan struct{}, hookCalls)
			for _, j := range list {
				if !take(stop, calls) {
					return
				}
				if gone.Load() {
					return
				}
				wg.Go(func() {
					defer func() { <-calls }()
					if w.deliver(work, j) {
						gone.Store(true)
					}
				})
			}
		}, w.wakeUp)
	}
	return len(jobs) == deliveryBatch
}

// body is the Standard Webhooks payload of an event: the same bytes on
// every attempt.
func body(j store.DeliveryJob) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"id":%q,"type":%q,"created":%d,"data":%s}`, j.EventID, j.Type, j.Created, j.Data)
	return b.Bytes()
}

// deliver makes one attempt; gone reports that the receiver disabled the
// webhook (410).
func (w *Worker) deliver(ctx context.Context, j store.DeliveryJob) (gone bool) {
	log := w.log.With().Str("event", j.EventID).Str("webhook", j.WebhookID).Logger()
	payload := body(j)
	ts := w.now().Unix()
	var status int
	sig, err := webhook.Sign(j.Secret, j.EventID, ts, payload)
	if err != nil {
		// A secret that cannot sign (a damaged row) fails the attempt like
		// any other, with its backoff, rather than leaving it due at once.
		log.Error().Err(err).Msg("sign webhook")
		err = fmt.Errorf("cannot sign the delivery: %w", err)
	} else {
		fault.Hit(fault.BeforeDelivery, j.EventID)
		status, err = w.post(ctx, j.URL, payload, map[string]string{
			"webhook-id": j.EventID, "webhook-timestamp": strconv.FormatInt(ts, 10), "webhook-signature": sig,
		})
	}
	var record error
	switch {
	case err == nil && status >= 200 && status < 300:
		record = w.cfg.DB.DeliveryDone(ctx, j.EventID, j.WebhookID)
	case err == nil && status == http.StatusGone:
		log.Info().Msg("receiver answered 410 Gone: webhook disabled")
		record = w.cfg.DB.DisableWebhook(ctx, j.WebhookID, "receiver answered 410 Gone")
		gone = true
	default:
		reason := fmt.Sprintf("HTTP %d", status)
		if err != nil {
			reason = err.Error()
		} else if status >= 300 && status < 400 {
			reason += " (redirects are not followed)"
		}
		last := j.Attempts >= len(retrySchedule)
		var next int64
		if !last {
			d := retrySchedule[j.Attempts]
			next = w.at(w.jitter(d))
		}
		log.Info().Str("reason", reason).Bool("given_up", last).Msg("webhook delivery failed")
		record = w.cfg.DB.DeliveryRetry(ctx, j.EventID, j.WebhookID, next, reason, last)
	}
	switch {
	case errors.Is(record, store.ErrDeliveryNotPending):
		// Settled while the attempt was out: its webhook was disabled (a 410
		// to another attempt) or removed by the customer; the outcome is moot.
		log.Info().Msg("delivery settled meanwhile (webhook disabled or removed): attempt not recorded")
	case record != nil:
		log.Error().Err(record).Msg("record delivery")
	}
	return gone
}

// post sends one attempt; the body of the answer is read (bounded) and
// dropped.
func (w *Worker) post(ctx context.Context, url string, payload []byte, headers map[string]string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "notpanel-webhooks")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := w.hooks.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
