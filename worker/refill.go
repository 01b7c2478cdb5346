package worker

import (
	"context"
	"fmt"

	"notpanel/store"
	"notpanel/upstream"
)

// refillBatch is how many due refills one pass handles.
const refillBatch = 1000

// refills sends new refills to providers and asks about those under way.
func (w *Worker) refills(stop, work context.Context) (full bool) {
	listed := w.pauses.Load()
	jobs, err := w.cfg.DB.DueRefills(work, w.now().Unix(), refillBatch, w.skip(&w.refilling))
	if err != nil {
		w.log.Error().Err(err).Msg("list due refills")
		return false
	}
	tasks := map[int64][]task{}
	var asks []store.RefillJob
	for _, j := range jobs {
		if j.UpstreamRefillID != "" {
			asks = append(asks, j)
			continue
		}
		tasks[j.Provider.ID] = append(tasks[j.Provider.ID], func(pl *place) { w.sendRefill(work, pl, j) })
	}
	for pid, group := range groupBy(asks, func(j store.RefillJob) int64 { return j.Provider.ID }) {
		for _, chunk := range chunks(group, perCall) {
			tasks[pid] = append(tasks[pid], func(pl *place) { w.askRefills(work, pl, chunk[0].Provider, chunk) })
		}
	}
	w.spread(stop, &w.refilling, listed, tasks, nil)
	return len(jobs) == refillBatch
}

func (w *Worker) sendRefill(ctx context.Context, pl *place, j store.RefillJob) {
	log := w.log.With().Str("refill", j.RefillID).Str("provider", j.Provider.Name).Logger()
	id, err := w.client(j.Provider).Refill(ctx, j.OrderUpstreamID)
	w.called(ctx, pl, j.Provider, "refill", err)
	pl.release() // the answer is recorded outside the provider's budget
	var record error
	switch {
	case err == nil:
		record = w.cfg.DB.RefillUpdate(ctx, j.RefillID, id, "", "", w.at(w.cfg.SyncInterval))
		log.Info().Str("upstream_refill", id).Msg("refill sent")
	case upstream.ClassOf(err) == upstream.Busy: // the pace was lowered by called; the try does not count
		record = w.cfg.DB.RefillBusy(ctx, j.RefillID, w.busyRetry(err), err.Error())
	case upstream.ClassOf(err) == upstream.Permanent:
		log.Info().Err(err).Msg("provider refused the refill")
		record = w.cfg.DB.DeferRefill(ctx, j.RefillID, 0, err.Error(), true)
	case upstream.ClassOf(err) == upstream.Account: // paused by called
		record = w.cfg.DB.DeferRefill(ctx, j.RefillID, w.at(retryBase), err.Error(), false)
	case j.Attempts+1 >= w.cfg.MaxAttempts:
		log.Warn().Err(err).Msg("refill call failed again; given up and rejected")
		record = w.cfg.DB.DeferRefill(ctx, j.RefillID, 0, fmt.Sprintf("gave up after %d attempts: %v", j.Attempts+1, err), true)
	default:
		log.Warn().Err(err).Msg("refill call failed; will retry")
		record = w.cfg.DB.DeferRefill(ctx, j.RefillID, w.at(w.backoff(int64(j.Attempts), retryBase, retryLimit)), err.Error(), false)
	}
	if record != nil {
		log.Error().Err(record).Msg("record refill")
	}
}

func (w *Worker) askRefills(ctx context.Context, pl *place, p store.Provider, jobs []store.RefillJob) {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.UpstreamRefillID
	}
	answers, err := w.client(p).RefillStatuses(ctx, ids)
	w.called(ctx, pl, p, "refill_status", err)
	pl.release() // the answers are recorded outside the provider's budget
	for _, j := range jobs {
		a, ok := answers[j.UpstreamRefillID]
		var record error
		switch {
		case upstream.ClassOf(err) == upstream.Busy: // the pace was lowered by called; the try does not count
			record = w.cfg.DB.RefillBusy(ctx, j.RefillID, w.busyRetry(err), err.Error())
		case err != nil || !ok || a.Err != "":
			note := "provider did not report this refill"
			if err != nil {
				note = err.Error()
			} else if a.Err != "" {
				note = a.Err
			}
			record = w.cfg.DB.DeferRefill(ctx, j.RefillID, w.at(w.backoff(1, w.cfg.SyncInterval, retryLimit)), note, false)
		default:
			if a.Status == "" {
				w.log.Warn().Str("refill", j.RefillID).Str("upstream_status", a.Raw).Msg("provider sent a refill status notpanel does not know")
			}
			record = w.cfg.DB.RefillUpdate(ctx, j.RefillID, "", a.Status, a.Raw, w.at(w.cfg.SyncInterval))
		}
		if record != nil {
			w.log.Error().Err(record).Str("refill", j.RefillID).Msg("record refill status")
		}
	}
}
