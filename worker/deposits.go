package worker

import (
	"context"
	"sync"

	"notpanel/store"
)

// Deposits reads pending deposits back from their gateways and applies the
// answers (payment.Service); the worker only schedules it.
type Deposits interface {
	Refresh(ctx context.Context, id string) (store.Deposit, error)
}

// depositBatch is how many due deposits one pass takes.
const depositBatch = 200

// gatewayCalls is how many read-backs from one gateway may be in flight.
const gatewayCalls = 4

// deposits reads back the deposits that are due, each gateway in a lane of
// its own: a gateway that hangs holds up only its own deposits. A read-back
// that fails leaves its deposit pending for a later pass (Refresh records
// when), and is logged here.
func (w *Worker) deposits(stop, work context.Context) bool {
	if w.cfg.Deposits == nil {
		return false
	}
	due, err := w.cfg.DB.DueDeposits(work, w.now().Unix(), w.depositing.running(), depositBatch)
	if err != nil {
		w.log.Error().Err(err).Msg("list due deposits")
		return false
	}
	for gid, list := range groupBy(due, func(d store.Deposit) int64 { return d.GatewayID }) {
		w.depositing.start(&w.inflight, gid, func() {
			var wg sync.WaitGroup
			defer wg.Wait()
			calls := make(chan struct{}, gatewayCalls)
			for _, d := range list {
				if !take(stop, calls) {
					return
				}
				wg.Go(func() {
					defer func() { <-calls }()
					if _, err := w.cfg.Deposits.Refresh(work, d.ID); err != nil {
						w.log.Warn().Err(err).Str("deposit", d.ID).Str("gateway", d.Gateway).
							Msg("deposit read-back failed; it stays pending and is asked again later")
					}
				})
			}
		}, w.wakeUp)
	}
	return len(due) == depositBatch
}
