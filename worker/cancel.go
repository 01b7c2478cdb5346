package worker

import (
	"context"
	"time"

	"notpanel/fault"
	"notpanel/store"
	"notpanel/upstream"
)

// cancelBatch is how many open cancel requests one pass forwards.
const cancelBatch = 1000

// forwardedRecheck is when a cancel a notpanel provider queued is sent
// again (a repeat is harmless there) if its status has not settled it.
const forwardedRecheck = 6 * time.Hour

// cancels forwards customers' cancels of orders already with a provider,
// up to 100 per call.
func (w *Worker) cancels(stop, work context.Context) (full bool) {
	listed := w.pauses.Load()
	jobs, err := w.cfg.DB.DueCancels(work, w.now().Unix(), cancelBatch, w.skip(&w.cancelling))
	if err != nil {
		w.log.Error().Err(err).Msg("list due cancels")
		return false
	}
	tasks := map[int64][]task{}
	for pid, group := range groupBy(jobs, func(j store.CancelJob) int64 { return j.Provider.ID }) {
		for _, chunk := range chunks(group, perCall) {
			tasks[pid] = append(tasks[pid], func(pl *place) { w.cancelChunk(work, pl, chunk[0].Provider, chunk) })
		}
	}
	w.spread(stop, &w.cancelling, listed, tasks, nil)
	return len(jobs) == cancelBatch
}

func (w *Worker) cancelChunk(ctx context.Context, pl *place, p store.Provider, jobs []store.CancelJob) {
	log := w.log.With().Str("provider", p.Name).Logger()
	ids := make([]string, len(jobs))
	orderIDs := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i], orderIDs[i] = j.UpstreamID, j.OrderID
	}
	if err := w.cfg.DB.CancelsSent(ctx, orderIDs); err != nil {
		log.Error().Err(err).Msg("mark cancels sent")
		return
	}
	answers, err := w.client(p).Cancels(ctx, ids)
	w.called(ctx, pl, p, "cancel", err)
	pl.release() // the answers are recorded outside the provider's budget
	if err != nil {
		switch upstream.ClassOf(err) {
		case upstream.Busy: // the pace was lowered by called; the try does not count
			if err := w.cfg.DB.DeferCancels(ctx, w.busyDeferrals(orderIDs, err), w.cfg.MaxAttempts); err != nil {
				log.Error().Err(err).Msg("defer cancels")
			}
			return
		case upstream.Account:
		default:
			log.Warn().Err(err).Int("orders", len(ids)).Msg("cancel call failed; will retry")
		}
		w.deferCancels(ctx, jobs, err.Error())
		return
	}
	var unanswered []store.CancelJob
	var forwarded []store.Deferral
	for _, j := range jobs {
		refusal, ok := answers[j.UpstreamID]
		switch {
		case !ok:
			unanswered = append(unanswered, j)
		case refusal == "" && p.Dialect == store.DialectNotpanel:
			// Another notpanel takes a cancel as a request and answers at once;
			// whether it happens shows in the order's status, which the sync
			// applies (refund included). Ask again only much later.
			forwarded = append(forwarded, store.Deferral{ID: j.OrderID, Next: w.at(forwardedRecheck),
				Note: "forwarded; waiting for the provider's status"})
		case refusal == "":
			fault.Hit(fault.AfterCancel, j.OrderID)
			if err := w.cfg.DB.CancelAccepted(ctx, j.OrderID); err != nil {
				log.Error().Err(err).Str("order", j.OrderID).Msg("record accepted cancel")
			} else {
				log.Info().Str("order", j.OrderID).Msg("cancelled at the provider; refunded")
			}
		default:
			if err := w.cfg.DB.CancelRefused(ctx, j.OrderID, refusal); err != nil {
				log.Error().Err(err).Str("order", j.OrderID).Msg("record refused cancel")
			} else {
				log.Info().Str("order", j.OrderID).Str("reason", refusal).Msg("provider refused the cancel")
			}
		}
	}
	if err := w.cfg.DB.DeferCancels(ctx, forwarded, w.cfg.MaxAttempts); err != nil {
		log.Error().Err(err).Int("orders", len(forwarded)).Msg("record forwarded cancels")
	}
	w.deferCancels(ctx, unanswered, "provider did not answer for this order")
}

// deferCancels tries jobs again later, each backing off with its own count
// of failed tries, and gives up after MaxAttempts.
func (w *Worker) deferCancels(ctx context.Context, jobs []store.CancelJob, note string) {
	if len(jobs) == 0 {
		return
	}
	ds := make([]store.Deferral, len(jobs))
	for i, j := range jobs {
		ds[i] = store.Deferral{ID: j.OrderID, Next: w.at(w.backoff(j.Attempts, retryBase, retryLimit)), Note: note}
	}
	if err := w.cfg.DB.DeferCancels(ctx, ds, w.cfg.MaxAttempts); err != nil {
		w.log.Error().Err(err).Msg("defer cancels")
	}
}
