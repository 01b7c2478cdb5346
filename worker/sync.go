package worker

import (
	"context"

	"notpanel/fault"
	"notpanel/store"
	"notpanel/upstream"
)

// syncBatch is how many due orders one pass asks about; providers are
// asked about up to 100 at a time.
const (
	syncBatch = 5000
	perCall   = 100
)

// syncs asks providers about orders whose status is due and applies the
// answers.
func (w *Worker) syncs(stop, work context.Context) (full bool) {
	listed := w.pauses.Load()
	jobs, err := w.cfg.DB.DueSyncs(work, w.now().Unix(), syncBatch, w.skip(&w.syncing))
	if err != nil {
		w.log.Error().Err(err).Msg("list due syncs")
		return false
	}
	tasks := map[int64][]task{}
	for pid, group := range groupBy(jobs, func(j store.SyncJob) int64 { return j.Provider.ID }) {
		for _, chunk := range chunks(group, perCall) {
			tasks[pid] = append(tasks[pid], func(pl *place) { w.syncChunk(work, pl, chunk[0].Provider, chunk) })
		}
	}
	w.spread(stop, &w.syncing, listed, tasks, nil)
	return len(jobs) == syncBatch
}

func (w *Worker) syncChunk(ctx context.Context, pl *place, p store.Provider, jobs []store.SyncJob) {
	log := w.log.With().Str("provider", p.Name).Logger()
	ids := make([]string, len(jobs))
	orderIDs := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i], orderIDs[i] = j.UpstreamID, j.OrderID
	}
	answers, err := w.client(p).Statuses(ctx, ids)
	w.called(ctx, pl, p, "status", err)
	pl.release() // the answer is applied outside the provider's budget
	if err != nil {
		switch upstream.ClassOf(err) {
		case upstream.Busy: // the pace was lowered by called; the try does not count
			if err := w.cfg.DB.DeferSyncs(ctx, w.busyDeferrals(orderIDs, err), w.cfg.MaxAttempts); err != nil {
				log.Error().Err(err).Msg("defer status sync")
			}
			return
		case upstream.Account:
		default:
			log.Warn().Err(err).Int("orders", len(ids)).Msg("status call failed; will retry")
		}
		w.deferSyncs(ctx, jobs, func(store.SyncJob) string { return err.Error() })
		return
	}
	var updates []store.StatusUpdate
	var missing []store.SyncJob
	for _, j := range jobs {
		a, ok := answers[j.UpstreamID]
		if !ok || a.Err != "" {
			if ok {
				log.Warn().Str("order", j.OrderID).Str("upstream_id", j.UpstreamID).Str("error", a.Err).Msg("provider answered an error for this order")
			}
			missing = append(missing, j)
			continue
		}
		if a.Status == "" {
			log.Warn().Str("order", j.OrderID).Str("upstream_status", a.Raw).
				Msg("provider sent a status notpanel does not know; the order keeps its status, the text is shown in order show")
		}
		updates = append(updates, store.StatusUpdate{OrderID: j.OrderID, UpstreamStatus: store.UpstreamStatus{
			Status: a.Status, Raw: a.Raw, StartCount: a.StartCount, Remains: a.Remains, HasRemains: a.HasRemains}})
	}
	if len(updates) > 0 {
		after, err := w.cfg.DB.ApplyStatuses(ctx, updates, w.at(w.cfg.SyncInterval))
		if err != nil {
			log.Error().Err(err).Msg("apply statuses")
		} else {
			fault.Hit(fault.AfterApply, "")
		}
		for i, st := range after {
			if store.Terminal(st) && st != "" {
				log.Info().Str("order", updates[i].OrderID).Str("status", st).Msg("order ended")
			}
		}
	}
	w.deferSyncs(ctx, missing, func(j store.SyncJob) string {
		if a, ok := answers[j.UpstreamID]; ok && a.Err != "" {
			return "provider answered: " + a.Err
		}
		return "provider did not report this order"
	})
}

// deferSyncs asks about jobs again later, each backing off with its own
// count of failed checks; note gives each one's reason.
func (w *Worker) deferSyncs(ctx context.Context, jobs []store.SyncJob, note func(store.SyncJob) string) {
	if len(jobs) == 0 {
		return
	}
	ds := make([]store.Deferral, len(jobs))
	for i, j := range jobs {
		ds[i] = store.Deferral{ID: j.OrderID, Next: w.at(w.backoff(j.Attempts+1, w.cfg.SyncInterval, retryLimit)), Note: note(j)}
	}
	if err := w.cfg.DB.DeferSyncs(ctx, ds, w.cfg.MaxAttempts); err != nil {
		w.log.Error().Err(err).Msg("defer status sync")
	}
}
