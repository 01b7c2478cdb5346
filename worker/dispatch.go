package worker

import (
	"context"
	"fmt"
	"sync"
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
// own goroutine within the provider's budget of calls. When the listing
// was full (a backlog), each provider's lane lists its next batch itself
// once it has started the last of its orders.
func (w *Worker) dispatch(stop, work context.Context) (full bool) {
	listed := w.pauses.Load()
	jobs, err := w.cfg.DB.DueDispatches(work, w.now().Unix(), dispatchBatch, w.skip(&w.dispatching))
	if err != nil {
		w.log.Error().Err(err).Msg("list due dispatches")
		return false
	}
	q := &dispatchQueue{w: w, stop: stop, work: work, started: map[string]bool{}, drained: map[int64]bool{}}
	tasks := map[int64][]task{}
	for _, j := range jobs {
		q.add(tasks, j)
	}
	var more func(int64) []task
	if len(jobs) == dispatchBatch {
		more = q.more
	}
	w.spread(stop, &w.dispatching, listed, tasks, more)
	return len(jobs) == dispatchBatch
}

// dispatchQueue hands a pass's orders to the providers' lanes and lists a
// lane's next batch while the last of its orders are still being sent.
type dispatchQueue struct {
	w          *Worker
	stop, work context.Context

	mu      sync.Mutex
	started map[string]bool // orders whose task has begun and not ended
	drained map[int64]bool  // providers whose last listing was not full
}

// add makes order j a task of its provider in tasks, unless its task of an
// earlier batch is still under way.
func (q *dispatchQueue) add(tasks map[int64][]task, j store.DispatchJob) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started[j.OrderID] {
		return
	}
	q.started[j.OrderID] = true
	tasks[j.Provider.ID] = append(tasks[j.Provider.ID], func(pl *place) {
		defer func() {
			q.mu.Lock()
			delete(q.started, j.OrderID)
			q.mu.Unlock()
		}()
		q.w.send(q.stop, q.work, pl, j)
	})
}

// more lists provider pid's next batch of due orders, as long as its last
// one was full.
func (q *dispatchQueue) more(pid int64) []task {
	q.mu.Lock()
	drained := q.drained[pid]
	q.mu.Unlock()
	if drained || q.stop.Err() != nil {
		return nil
	}
	jobs, err := q.w.cfg.DB.DueDispatchesFor(q.work, q.w.now().Unix(), dispatchBatch, pid)
	if err != nil {
		q.w.log.Error().Err(err).Msg("list due dispatches")
		return nil
	}
	q.mu.Lock()
	q.drained[pid] = len(jobs) < dispatchBatch
	q.mu.Unlock()
	tasks := map[int64][]task{}
	for _, j := range jobs {
		q.add(tasks, j)
	}
	return tasks[pid]
}

// send claims one order, calls the provider and records the outcome. When
// the provider definitely refuses the order and cannot take it now, the
// order goes to its service's backup provider within the same claim.
func (w *Worker) send(stop, ctx context.Context, pl *place, j store.DispatchJob) {
	log := w.log.With().Str("order", j.OrderID).Str("provider", j.Provider.Name).Logger()
	claimed, err := w.cfg.DB.ClaimFor(ctx, j.OrderID, j.Provider.ID, j.Failover)
	if err != nil || !claimed {
		if err != nil {
			log.Error().Err(err).Msg("claim order")
		}
		return
	}
	if j.ProviderService == "" {
		// Bound to a provider that may hold it, which no longer serves
		// the service: only the operator can tell where it is.
		reason := fmt.Sprintf("may be at provider %s, which no longer serves its service; check there", j.Provider.Name)
		log.Warn().Msg("order " + reason + ": parked for review")
		if err := w.cfg.DB.ParkOrder(ctx, j.OrderID, reason); err != nil {
			log.Error().Err(err).Msg("park order")
		}
		return
	}
	if j.Failover != "" {
		log.Warn().Str("reason", j.Failover).Msg("order sent to its service's backup provider")
	}
	fault.Hit(fault.AfterClaim, j.OrderID)
	p := j.Provider
	upstreamID, err := w.add(ctx, pl, p, j.ProviderService, j)
	if err != nil && w.mayFailOver(j, p, err) {
		switch bpl, ok, ferr := w.failOver(stop, ctx, log, pl, j, err); {
		case ferr != nil: // the provider's refusal is recorded below
			log.Error().Err(ferr).Msg("send order to the backup provider")
		case !ok:
			return
		default:
			p, log = j.Backup, log.With().Str("provider", j.Backup.Name).Logger()
			upstreamID, err = w.add(ctx, bpl, p, j.BackupService, j)
			bpl.release()
		}
	}
	pl.release() // recording the answer is no call: the next order need not wait for it
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
	case upstream.Busy: // the pace was lowered by called; the try does not count
		record = w.cfg.DB.DispatchBusy(ctx, j.OrderID, err.Error(), w.busyRetry(err))
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

// add sends order j to provider p as its service service there, with place
// pl in p's budget; the caller gives the place back.
func (w *Worker) add(ctx context.Context, pl *place, p store.Provider, service string, j store.DispatchJob) (string, error) {
	o := upstream.Order{RequestID: j.OrderID, Service: service, Link: j.Link, Runs: j.Runs, Interval: j.Interval, Extra: j.Extra}
	switch j.Type {
	case store.TypeDefault, store.TypeCommentLikes, store.TypePoll:
		o.Quantity = j.Quantity
	}
	id, err := w.client(p).Add(ctx, o)
	w.called(ctx, pl, p, "add", err)
	return id, err
}

// mayFailOver reports whether order j, refused by p with err, goes to its
// service's backup: only when p is the service's own provider, the order
// cannot be at any provider already, the backup is there to take it, and
// err says for certain that p did not take the order and cannot take the
// service's orders now. An unknown outcome never fails over: the order may
// be at p, and at most one provider may hold it.
func (w *Worker) mayFailOver(j store.DispatchJob, p store.Provider, err error) bool {
	refused := upstream.Unavailable(err) || fault.Broken(fault.FailoverUnknown) && upstream.ClassOf(err) == upstream.Unknown
	return j.Backup.ID != 0 && j.Backup.ID != p.ID && j.BackupService != "" && !j.Pinned &&
		j.Backup.Status == "active" && !w.isPaused(j.Backup.ID) && refused
}

// failOver switches claimed order j from its provider, which refused it
// with refusal, to its service's backup, and takes a place in the backup's
// budget for the call, giving back pl first. When no place comes (the
// worker stops, or the backup is held) the order is released for a later
// pass, without counting a failed try (ok false). An error means the
// switch could not be recorded: the order is still its provider's, and the
// refusal is to be recorded as if there were no backup.
func (w *Worker) failOver(stop, ctx context.Context, log zerolog.Logger, pl *place, j store.DispatchJob, refusal error) (bpl *place, ok bool, err error) {
	reason := fmt.Sprintf("provider %s refused the order (%v); sent to the backup %s", j.Provider.Name, refusal, j.Backup.Name)
	if err := w.cfg.DB.DispatchFailover(ctx, j.OrderID, j.Provider.ID, j.Backup.ID, reason); err != nil {
		return nil, true, err
	}
	fault.Hit(fault.AfterFailover, j.OrderID)
	log.Warn().Err(refusal).Str("backup", j.Backup.Name).Msg("provider refused the order and cannot take it now; sending it to the backup provider")
	pl.release()
	if bpl, ok = w.pacer(j.Backup.ID).acquire(stop); !ok {
		return nil, false, w.cfg.DB.DispatchBusy(ctx, j.OrderID, reason+"; the backup had no room, will retry", w.at(busyDelay))
	}
	return bpl, true, nil
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
