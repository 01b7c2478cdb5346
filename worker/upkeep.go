package worker

import (
	"context"
	"time"

	"notpanel/store"
	"notpanel/upstream"
)

// upkeepRetry bounds the wait before a failed upkeep is tried again.
const upkeepRetry = 5 * time.Minute

// upkeep looks after each active provider on its schedule (its catalog
// sync, else hourly): it imports the provider's catalog when the operator
// asked for a sync, and reads our balance there. Each provider's upkeep
// runs in a lane of its own, within the provider's budget of calls.
func (w *Worker) upkeep(stop, work context.Context) bool {
	listed := w.pauses.Load()
	skip := map[int64]bool{}
	for _, id := range w.skip(&w.upkeeping) {
		skip[id] = true
	}
	now := w.now().Unix()
	tasks := map[int64][]task{}
	w.mu.Lock()
	for id, p := range w.providers {
		if p.Status == "active" && p.State.UpkeepNext <= now && !skip[id] {
			tasks[id] = []task{func(pl *place) { w.look(work, pl, p) }}
		}
	}
	w.mu.Unlock()
	w.spread(stop, &w.upkeeping, listed, tasks, nil)
	return false
}

// look imports p's catalog when it is synced, reads the balance, and
// records both with when to look again.
func (w *Worker) look(ctx context.Context, pl *place, p store.Provider) {
	log := w.log.With().Str("provider", p.Name).Logger()
	c := w.client(p)
	u := store.Upkeep{Next: w.at(p.Settings.Upkeep())}
	failed := func(err error) {
		if upstream.ClassOf(err) == upstream.Busy {
			u.Next = min(u.Next, w.busyRetry(err))
		} else {
			u.Next = min(u.Next, w.at(upkeepRetry))
		}
	}
	if p.Settings.CatalogSync > 0 && p.Settings.MarkupBP != nil {
		u.Catalog = true
		if err := w.syncCatalog(ctx, pl, p); err != nil {
			u.CatalogError = err.Error()
			failed(err)
			log.Warn().Err(err).Msg("catalog sync failed; will retry")
		}
	}
	if w.isPaused(p.ID) {
		u.BalanceError = "not read: the provider refused our account"
	} else {
		balance, currency, err := c.Balance(ctx)
		w.called(ctx, pl, p, "balance", err)
		switch {
		case err != nil:
			u.BalanceError = err.Error()
			failed(err)
			log.Warn().Err(err).Msg("could not read our balance at the provider")
		case p.Settings.LowBalance != nil && balance < *p.Settings.LowBalance:
			log.Warn().Str("balance", store.FormatMoney(balance)).Str("currency", currency).
				Str("low_balance", store.FormatMoney(*p.Settings.LowBalance)).
				Msg("our balance at the provider is below its low-balance mark: top it up before orders are refused")
		}
		u.Balance, u.Currency = balance, currency
	}
	if err := w.cfg.DB.RecordUpkeep(ctx, p.ID, u); err != nil {
		log.Error().Err(err).Msg("record provider upkeep")
		return
	}
	w.mu.Lock()
	if q, ok := w.providers[p.ID]; ok {
		q.State.UpkeepNext = u.Next
		w.providers[p.ID] = q
	}
	w.mu.Unlock()
}

// syncCatalog imports p's catalog at its markup, as service import does,
// and tells the log what changed.
func (w *Worker) syncCatalog(ctx context.Context, pl *place, p store.Provider) error {
	log := w.log.With().Str("provider", p.Name).Logger()
	list, broken, err := w.client(p).Services(ctx)
	w.called(ctx, pl, p, "services", err)
	if err != nil {
		return err
	}
	items := make([]store.ImportedService, len(list))
	for i, s := range list {
		items[i] = s.Imported()
	}
	res, err := w.cfg.DB.ImportServices(ctx, p.Name, items, *p.Settings.MarkupBP)
	if err != nil {
		return err
	}
	for _, l := range res.Losses {
		log.Warn().Int64("service", l.ServiceID).Str("name", l.Name).Str("rate", store.FormatMoney(l.Rate)).
			Str("provider_rate", store.FormatMoney(l.Cost)).Msg("service disabled: its rate, set by hand, is below the provider's")
	}
	ev := log.Info()
	if res.Disabled > 0 {
		ev = log.Warn()
	}
	ev.Int("added", res.Added).Int("updated", res.Updated).Int("unchanged", res.Unchanged).
		Int("disabled_unlisted", res.Disabled).Int("disabled_at_a_loss", len(res.Losses)).Int("skipped", res.Skipped+broken).
		Msg("catalog synced")
	return nil
}
