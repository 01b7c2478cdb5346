package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"notpanel/fault"
)

// DispatchJob is a pending order ready to be sent to its provider.
type DispatchJob struct {
	OrderID  string
	Number   int64
	Type     string
	Link     string
	Quantity int64
	Runs     int64
	Interval int64
	Extra    map[string]string
	Attempts int
	// Provider is where the order goes: its service's provider; the
	// service's backup when the provider is paused (Failover says so); or,
	// when the order may be at a provider already (Pinned), that provider
	// and no other. ProviderService is the service's id there; "" when
	// that provider no longer serves the service.
	Provider        Provider
	ProviderService string
	Pinned          bool
	Failover        string
	// Backup is the service's backup provider (ID 0 when it has none) and
	// BackupService the service's id there: where the order goes if
	// Provider definitely refuses it.
	Backup        Provider
	BackupService string
}

// DueDispatches lists up to limit pending orders that are due, not claimed,
// not parked, and whose provider (see DispatchJob) is active and not among
// skip, oldest first.
func (db *DB) DueDispatches(ctx context.Context, now int64, limit int, skip []int64) ([]DispatchJob, error) {
	return db.dueDispatches(ctx, `p.id NOT IN (SELECT value FROM json_each(?))`, jsonList(skip), now, limit)
}

// DueDispatchesFor is DueDispatches of the orders that go to provider
// providerID only.
func (db *DB) DueDispatchesFor(ctx context.Context, now int64, limit int, providerID int64) ([]DispatchJob, error) {
	return db.dueDispatches(ctx, `p.id = ?`, providerID, now, limit)
}

// dueDispatches lists due orders whose provider, p, meets cond with arg.
func (db *DB) dueDispatches(ctx context.Context, cond string, arg any, now int64, limit int) ([]DispatchJob, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT o.id, o.number, s.type, o.link, o.quantity, coalesce(o.runs, 0), coalesce(o.interval, 0),
		   coalesce(o.extra, ''), o.attempts, o.maybe_sent,
		   CASE p.id WHEN s.provider_id THEN s.provider_service WHEN s.backup_provider_id THEN s.backup_provider_service END,
		   pp.name, pp.paused_reason, coalesce(s.backup_provider_service, ''), `+providerCols+`,
		   coalesce(b.id, 0), coalesce(b.name, ''), coalesce(b.url, ''), coalesce(b.api_key, ''),
		   coalesce(b.dialect, ''), coalesce(b.status, ''), coalesce(b.paused_reason, ''), coalesce(b.created_at, 0)
		 FROM orders o JOIN services s ON s.id = o.service_id JOIN providers pp ON pp.id = s.provider_id
		   LEFT JOIN providers b ON b.id = s.backup_provider_id
		   JOIN providers p ON p.id = CASE
		     WHEN o.maybe_sent = 1 THEN coalesce(o.provider_id, s.provider_id)
		     WHEN pp.status = 'active' OR b.id IS NULL THEN s.provider_id
		     ELSE b.id END
		 WHERE o.status = 'pending' AND o.next_at <= ? AND o.claimed_at IS NULL AND o.review IS NULL
		   AND p.status = 'active' AND `+cond+`
		 ORDER BY o.next_at, o.number LIMIT ?`, now, arg, limit)
	if err != nil {
		return nil, internal("list due dispatches", err)
	}
	defer rows.Close()
	var out []DispatchJob
	for rows.Next() {
		var j DispatchJob
		var extra, primary, pausedReason string
		var service sql.NullString
		p, b := &j.Provider, &j.Backup
		if err := rows.Scan(&j.OrderID, &j.Number, &j.Type, &j.Link, &j.Quantity, &j.Runs, &j.Interval, &extra,
			&j.Attempts, &j.Pinned, &service, &primary, &pausedReason, &j.BackupService,
			&p.ID, &p.Name, &p.URL, &p.APIKey, &p.Dialect, &p.Status, &p.PausedReason, &p.Created,
			&b.ID, &b.Name, &b.URL, &b.APIKey, &b.Dialect, &b.Status, &b.PausedReason, &b.Created); err != nil {
			return nil, internal("list due dispatches", err)
		}
		j.ProviderService = service.String
		if !j.Pinned && p.ID == b.ID {
			j.Failover = "provider " + primary + " is paused (" + pausedReason + "); sent to the backup " + b.Name
		}
		if extra != "" {
			if err := json.Unmarshal([]byte(extra), &j.Extra); err != nil {
				return nil, internal("order "+j.OrderID+" extra fields", err)
			}
		}
		out = append(out, j)
	}
	return out, internal("list due dispatches", rows.Err())
}

// ClaimOrder marks a pending order as being sent to its service's provider
// (or to the provider that may hold it already), just before the call: see
// ClaimFor.
func (db *DB) ClaimOrder(ctx context.Context, id string) (bool, error) {
	return db.ClaimFor(ctx, id, 0, "")
}

// ClaimFor marks a pending order as being sent to provider providerID (0:
// its service's provider), just before the call; failover, when set, says
// why that is the service's backup. From then on a customer's cancel is
// queued instead of applied at once. It returns false when the order is no
// longer there to be sent: cancelled meanwhile, claimed already, or bound to
// another provider that may hold it already. An unclaimed order has an open
// cancel request only if it is maybe_sent (every path that releases a claim
// settles its request first), and such an order is sent again: the resend
// finds it at the provider, and the cancel then goes there.
func (db *DB) ClaimFor(ctx context.Context, id string, providerID int64, failover string) (bool, error) {
	claimed := false
	var note any
	if failover != "" {
		note = truncateText(failover, 500)
	}
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET claimed_at = ?1, updated_at = ?1,
			   provider_id = coalesce(nullif(?2, 0), CASE WHEN maybe_sent = 1 THEN provider_id END,
			     (SELECT provider_id FROM services WHERE id = orders.service_id)),
			   failover = CASE WHEN maybe_sent = 1 THEN failover ELSE ?3 END
			 WHERE id = ?4 AND status = 'pending' AND claimed_at IS NULL
			   AND (maybe_sent = 0 OR ?2 = 0
			     OR ?2 = coalesce(provider_id, (SELECT provider_id FROM services WHERE id = orders.service_id)))`,
			now, providerID, note, id)
		if err != nil {
			return internal("claim order", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claimed = true
			return nil
		}
		// Not claimable: say whether the order exists at all.
		_, err = readOrderState(ctx, tx, Operator, id)
		return err
	})
	return claimed, err
}

// DispatchFailover switches a claimed order from provider from, which
// definitely did not take it and cannot now, to provider to (its service's
// backup), with the reason, just before the call to it. An order that may
// be at a provider already (maybe_sent) is never switched (a Conflict).
func (db *DB) DispatchFailover(ctx context.Context, id string, from, to int64, reason string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET provider_id = ?, failover = ?, updated_at = ?
			 WHERE `+claimedWhere+` AND provider_id = ? AND maybe_sent = 0 AND review IS NULL`,
			to, truncateText(reason, 500), db.unix(), id, from)
		if err != nil {
			return internal("switch order to the backup provider", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		return nil
	})
}

// claimedWhere guards updates of an order whose dispatch is unresolved.
const claimedWhere = `id = ? AND status = 'pending' AND claimed_at IS NOT NULL AND upstream_id IS NULL`

// DispatchAccepted records the provider's id for a claimed order: it is now
// processing, and its status is first asked about at nextSync.
func (db *DB) DispatchAccepted(ctx context.Context, id, upstreamID string, nextSync int64) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		return accept(ctx, tx, id, upstreamID, nextSync, db.unix())
	})
}

func accept(ctx context.Context, tx *Tx, id, upstreamID string, nextSync, now int64) error {
	if upstreamID == "" {
		return Errorf(Invalid, "empty upstream id")
	}
	var accountID int64
	err := tx.QueryRowContext(ctx,
		`UPDATE orders SET status = 'processing', upstream_id = ?, upstream_status = '', attempts = 0, next_at = ?,
		   review = NULL, reason = NULL, updated_at = ?
		 WHERE `+claimedWhere+` RETURNING account_id`, upstreamID, nextSync, now, id).Scan(&accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return errChanged
	}
	if err != nil {
		return internal("record dispatch", err)
	}
	return emit(ctx, tx, accountID, "order.processing", map[string]string{"order": id, "status": StatusProcessing}, now)
}

// DispatchRetry releases a claimed order after a failure that the provider
// certainly did not act on, to be tried again at next, counting a failed
// try: with its service's provider first, unless an earlier try may have
// reached the provider it was claimed for (maybe_sent), which then keeps
// it. When the customer asked to cancel it meanwhile, it is cancelled and
// refunded instead.
func (db *DB) DispatchRetry(ctx context.Context, id, reason string, next int64) error {
	return db.release(ctx, id, reason, next, 1)
}

// DispatchBusy is DispatchRetry for a provider that was too busy to take
// the order: that says nothing about the order, so the try does not count
// towards giving up.
func (db *DB) DispatchBusy(ctx context.Context, id, reason string, next int64) error {
	return db.release(ctx, id, reason, next, 0)
}

func (db *DB) release(ctx context.Context, id, reason string, next int64, tries int) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		o, err := readOrderState(ctx, tx, Operator, id)
		if err != nil {
			return err
		}
		now := db.unix()
		if cancel, err := hasOpenCancel(ctx, tx, id); err != nil || cancel && !o.maybeSent {
			if err != nil {
				return err
			}
			if o.status != StatusPending || !o.claimed || o.upstreamID != "" {
				return errChanged
			}
			return settle(ctx, tx, o, StatusCancelled, o.charge, nil, "", "cancelled before dispatch", now)
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET claimed_at = NULL, provider_id = CASE WHEN maybe_sent = 1 THEN provider_id END,
			   failover = CASE WHEN maybe_sent = 1 THEN failover END, attempts = attempts + ?, next_at = ?,
			   reason = ?, updated_at = ?
			 WHERE `+claimedWhere, tries, next, reason, now, id)
		if err != nil {
			return internal("release order", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		return nil
	})
}

// DispatchResend releases a claimed order whose add may have reached its
// notpanel provider, to be sent again at next, to that provider and no
// other: the request_id makes the resend safe. The order is marked
// maybe_sent, so that from now on a cancel is never applied locally (the
// provider may hold it and go on delivering): the resend finds the order,
// and the cancel then goes to the provider.
func (db *DB) DispatchResend(ctx context.Context, id, reason string, next int64) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET claimed_at = NULL, maybe_sent = 1, attempts = attempts + 1,
			   next_at = ?, reason = ?, updated_at = ?
			 WHERE `+claimedWhere, next, reason, db.unix(), id)
		if err != nil {
			return internal("release order", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		return nil
	})
}

// DispatchFailed ends a claimed order the provider refused for good: failed
// with the reason, and fully refunded (cancelled if the customer had asked
// to cancel it). An order this try (maybe) or an earlier one (maybe_sent)
// may have left at its provider is parked for review instead (parked is
// true): the provider would hold it and deliver it whatever we were told.
func (db *DB) DispatchFailed(ctx context.Context, id, reason string, maybe bool) (parked bool, err error) {
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		o, err := readOrderState(ctx, tx, Operator, id)
		if err != nil {
			return err
		}
		if maybe || o.maybeSent {
			if !maybe {
				reason = "an earlier try may have reached the provider; the last one: " + reason
			}
			parked = true
			return park(ctx, tx, id, reason, db.unix())
		}
		return failUnsent(ctx, tx, o, reason, db.unix())
	})
	return parked, err
}

// failUnsent ends o, read in tx, which its provider does not have: failed
// (cancelled if the customer asked) with a full refund.
func failUnsent(ctx context.Context, tx *Tx, o orderState, reason string, now int64) error {
	if o.status != StatusPending || o.upstreamID != "" {
		return errChanged
	}
	to := StatusFailed
	if cancel, err := hasOpenCancel(ctx, tx, o.id); err != nil {
		return err
	} else if cancel {
		to = StatusCancelled
	}
	return settle(ctx, tx, o, to, o.charge, nil, reason, "not accepted by the provider", now)
}

// ParkOrder leaves a claimed order for the operator, with the reason: its
// dispatch has an unknown outcome, so sending it again could order twice.
func (db *DB) ParkOrder(ctx context.Context, id, reason string) error {
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		return park(ctx, tx, id, reason, db.unix())
	})
}

func park(ctx context.Context, tx *Tx, id, reason string, now int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE orders SET review = ?, updated_at = ? WHERE `+claimedWhere,
		truncateText(reason, 500), now, id)
	if err != nil {
		return internal("park order", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChanged
	}
	return nil
}

// RecoverDispatches handles orders whose dispatch was cut short (the
// process stopped between the claim and recording the outcome). Towards a
// classic provider the outcome is unknown, so they are parked for review;
// towards a notpanel provider a resend is safe (request_id), so they are
// released for it, marked maybe_sent and bound to it (see DispatchResend).
// Run it once when
// the worker starts, before any dispatch.
func (db *DB) RecoverDispatches(ctx context.Context) (parked, released int, err error) {
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := db.unix()
		if !fault.Broken(fault.ResendUnknown) {
			res, err := tx.ExecContext(ctx,
				`UPDATE orders SET review = 'dispatch interrupted: the provider may or may not have this order', updated_at = ?
				 WHERE status = 'pending' AND claimed_at IS NOT NULL AND upstream_id IS NULL AND review IS NULL
				   AND coalesce((SELECT dialect FROM providers WHERE id = orders.provider_id), 'classic') != 'notpanel'`, now)
			if err != nil {
				return internal("park interrupted dispatches", err)
			}
			n, _ := res.RowsAffected()
			parked = int(n)
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET claimed_at = NULL, maybe_sent = 1, updated_at = ?
			 WHERE status = 'pending' AND claimed_at IS NOT NULL AND upstream_id IS NULL AND review IS NULL`, now)
		if err != nil {
			return internal("release interrupted dispatches", err)
		}
		n, _ := res.RowsAffected()
		released = int(n)
		return nil
	})
	return parked, released, err
}
