package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"notpanel/fault"
	"notpanel/store"
	"notpanel/upstream"
)

// dispatchBatch is how many due orders one pass picks up.
const dispatchBatch = 500

// Dispatch retries back off from retryBase up to retryLimit.
const (
	retryBase  = 30 * time.Second
	retryLimit = time.Hour
)

// dispatch sends due pending orders to their providers, each call in its
// own goroutine within the provider's call slots.
func (w *Worker) dispatch(stop, work context.Context) (full bool) {
	listed := w.pauses.Load()
	jobs, err := w.cfg.DB.DueDispatches(work, w.now().Unix(), dispatchBatch, w.dispatching.running())
	if err != nil {
		w.log.Error().Err(err).Msg("list due dispatches")
		return false
	}
	tasks := map[int64][]func(){}
	for _, j := range jobs {
		tasks[j.Provider.ID] = append(tasks[j.Provider.ID], func() { w.send(work, j) })
	}
	w.spread(stop, &w.dispatching, listed, tasks)
	return len(jobs) == dispatchBatch
}

// send claims one order, calls the provider and records the outcome.
func (w *Worker) send(ctx context.Context, j store.DispatchJob) {
	log := w.log.With().Str("order", j.OrderID).Str("provider", j.Provider.Name).Logger()
	claimed, err := w.cfg.DB.ClaimOrder(ctx, j.OrderID)
	if err != nil || !claimed {
		if err != nil {
			log.Error().Err(err).Msg("claim order")
		}
		return
	}
	fault.Hit(fault.AfterClaim, j.OrderID)
	o := upstream.Order{RequestID: j.OrderID, Service: j.ProviderService, Link: j.Link, Runs: j.Runs,
		Interval: j.Interval, Extra: j.Extra}
	switch j.Type {
	case store.TypeDefault, store.TypeCommentLikes, store.TypePoll:
		o.Quantity = j.Quantity
	}
	upstreamID, err := w.client(j.Provider).Add(ctx, o)
	w.called(ctx, j.Provider, "add", err)
	if err == nil {
		fault.Hit(fault.AfterAdd, j.OrderID)
		if err := w.cfg.DB.DispatchAccepted(ctx, j.OrderID, upstreamID, w.at(w.cfg.SyncInterval)); err != nil {
			// The order stays claimed without an id: the next start parks it.
			log.Error().Err(err).Str("upstream_id", upstreamID).Msg("record dispatch")
			return
		}
		fault.Hit(fault.AfterRecord, j.OrderID)
		log.Info().Str("upstream_id", upstreamID).Msg("order sent")
		return
	}
	var record error
	switch upstream.ClassOf(err) {
	case upstream.Permanent:
		record = w.fail(ctx, log, j.OrderID, err.Error(), false, "provider refused the order")
	case upstream.Unknown:
		log.Warn().Err(err).Msg("order may or may not have reached the provider; parked for review")
		record = w.cfg.DB.ParkOrder(ctx, j.OrderID, err.Error())
	case upstream.Account: // paused by called
		record = w.cfg.DB.DispatchRetry(ctx, j.OrderID, err.Error(), w.at(retryBase))
	default:
		// After an unknown outcome a notpanel provider may hold the order:
		// it is resent (request_id), but never failed or cancelled here.
		maybe := upstream.MaybeDone(err)
		if int(j.Attempts)+1 >= w.cfg.MaxAttempts {
			reason := fmt.Sprintf("gave up after %d attempts: %v", j.Attempts+1, err)
			record = w.fail(ctx, log, j.OrderID, reason, maybe, "order gave up after repeated temporary errors")
			break
		}
		delay := w.backoff(int64(j.Attempts), retryBase, retryLimit)
		log.Info().Err(err).Dur("retry_in", delay).Msg("dispatch failed; will retry")
		if maybe {
			record = w.cfg.DB.DispatchResend(ctx, j.OrderID, err.Error(), w.at(delay))
		} else {
			record = w.cfg.DB.DispatchRetry(ctx, j.OrderID, err.Error(), w.at(delay))
		}
	}
	if record != nil {
		log.Error().Err(record).Msg("record dispatch failure")
	}
}

// fail ends a dispatch that will not succeed: failed and refunded, or
// parked for review when this try (maybe) or an earlier one may have
// reached the provider.
func (w *Worker) fail(ctx context.Context, log zerolog.Logger, orderID, reason string, maybe bool, what string) error {
	parked, err := w.cfg.DB.DispatchFailed(ctx, orderID, reason, maybe)
	if err == nil {
		if parked {
			log.Warn().Str("reason", reason).Msg(what + "; the provider may have the order: parked for review")
		} else {
			log.Warn().Str("reason", reason).Msg(what + "; failed and refunded")
		}
	}
	return err
}
