package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"strings"
	"sync"
)

// Snapshot is the in-memory copy of the read-mostly data a running server
// needs on every request: the catalog, the currency and the keys seen so
// far. It is valid for one config version: every admin change (a key
// revoked, an account suspended, a service edited, even from the CLI in
// another process) bumps the version, and the next Refresh builds a new
// snapshot. A server calls Refresh once per request and then reads only
// from the snapshot.
type Snapshot struct {
	db       *DB
	version  int64
	currency string
	site     Site
	catalog  []Service         // enabled, by category then id
	services map[int64]Service // all, by id
	tiers    map[string]Tier
	keys     sync.Map // string(sha256 of key) → keyEntry
}

type keyEntry struct {
	p      Principal
	hash   []byte
	status string
}

// Refresh returns the snapshot for the current config version, building a
// new one when the version has moved. It costs one small read when nothing
// has changed.
func (db *DB) Refresh(ctx context.Context) (*Snapshot, error) {
	v, err := db.ConfigVersion(ctx)
	if err != nil {
		return nil, err
	}
	if s := db.hot.Load(); s != nil && s.version == v {
		return s, nil
	}
	db.rebuild.Lock() // one rebuild at a time; the others wait and share it
	defer db.rebuild.Unlock()
	if s := db.hot.Load(); s != nil && s.version >= v {
		return s, nil
	}
	s := &Snapshot{db: db, version: v, services: map[int64]Service{}}
	all, err := db.Services(ctx, true)
	if err != nil {
		return nil, err
	}
	for _, svc := range all {
		s.services[svc.ID] = svc
		if svc.Enabled {
			s.catalog = append(s.catalog, svc)
		}
	}
	if s.currency, err = db.Currency(ctx); err != nil {
		return nil, err
	}
	if s.site, err = db.Site(ctx); err != nil {
		return nil, err
	}
	tiers, err := db.Tiers(ctx)
	if err != nil {
		return nil, err
	}
	s.tiers = make(map[string]Tier, len(tiers))
	for _, t := range tiers {
		s.tiers[t.Name] = t
	}
	db.hot.Store(s)
	return s, nil
}

// Current is the latest snapshot without checking that it is still
// current (nil before the first Refresh). Writes made through it check its
// version inside their transaction and fail with ErrStale when it is old.
func (db *DB) Current() *Snapshot { return db.hot.Load() }

// ErrStale is a write refused because the snapshot it was decided on is
// no longer current: refresh and try again.
var ErrStale = Errorf(Internal, "snapshot is stale")

// Version is the config version the snapshot was built at.
func (s *Snapshot) Version() int64 { return s.version }

// Currency is the panel's currency code.
func (s *Snapshot) Currency() string { return s.currency }

// Site is the operator's shop window.
func (s *Snapshot) Site() Site { return s.site }

// Catalog lists the enabled services, by category then id. The slice is
// shared: do not change it.
func (s *Snapshot) Catalog() []Service { return s.catalog }

// Tier returns the rate limits of a tier. An account's tier always exists
// (a foreign key); the standard defaults answer for one that does not.
func (s *Snapshot) Tier(name string) Tier {
	if t, ok := s.tiers[name]; ok {
		return t
	}
	return Tier{Name: name, KeyPerMin: 100, AccountPerMin: 300}
}

// Service returns a service, enabled or not.
func (s *Snapshot) Service(id int64) (Service, error) {
	if svc, ok := s.services[id]; ok {
		return svc, nil
	}
	return Service{}, ErrServiceNotFound
}

// Authenticate is DB.Authenticate, answered from memory for keys already
// seen at this config version.
func (s *Snapshot) Authenticate(ctx context.Context, raw string) (Principal, error) {
	if len(raw) != keyLen || !strings.HasPrefix(raw, KeyPrefix) {
		return Principal{}, ErrInvalidKey
	}
	want := hashKey(raw)
	var e keyEntry
	if v, ok := s.keys.Load(string(want)); ok {
		e = v.(keyEntry)
	} else {
		var err error
		if e, err = s.db.lookupKey(ctx, want); err != nil {
			return Principal{}, err
		}
		s.keys.Store(string(want), e)
	}
	return e.check(want)
}

// PlaceOrder is DB.PlaceOrder with the service taken from the snapshot.
// The write checks, in its transaction, that the snapshot is still
// current, and fails with ErrStale otherwise: nothing decided on stale data
// (a revoked key, an old price) is ever written.
func (s *Snapshot) PlaceOrder(ctx context.Context, accountID int64, in OrderInput) (Placed, error) {
	return s.db.placeOrder(ctx, accountID, in, func(context.Context, int64) (Service, error) { return s.Service(in.ServiceID) },
		func(ctx context.Context, tx *Tx) error {
			v, err := tx.configVersion(ctx)
			if err != nil {
				return err
			}
			if v != s.version {
				return ErrStale
			}
			return nil
		})
}

// PlaceOrderAs places an order for the account authorize names. It runs
// on the latest snapshot without first reading the config version (the hot
// path of an add): the write checks the version inside its transaction, so
// nothing decided on a stale snapshot is written. When anything fails while
// the snapshot may have been stale (ErrStale, or an answer decided on old
// data: an unknown key, an old price, a service since enabled), it runs
// once more on a fresh snapshot, authorize included, so that a customer
// never gets an answer from stale data. An error that is not the store's
// (a rate limit in authorize) is returned as it is. The API and the
// storefront both place orders through it.
func (db *DB) PlaceOrderAs(ctx context.Context, authorize func(context.Context, *Snapshot) (int64, error), in OrderInput) (Placed, error) {
	s := db.Current()
	fresh := false
	if s == nil {
		var err error
		if s, err = db.Refresh(ctx); err != nil {
			return Placed{}, err
		}
		fresh = true
	}
	for {
		account, err := authorize(ctx, s)
		var placed Placed
		if err == nil {
			placed, err = s.PlaceOrder(ctx, account, in)
		}
		var own *Error
		if err == nil || fresh || !errors.Is(err, ErrStale) && (!errors.As(err, &own) || own.Code == Internal) {
			return placed, err
		}
		next, rerr := db.Refresh(ctx)
		if rerr != nil {
			return Placed{}, rerr
		}
		if next == s && !errors.Is(err, ErrStale) {
			return placed, err // the snapshot was current: the answer stands
		}
		s, fresh = next, true
	}
}

// lookupKey reads an active key and its account; a missing or revoked key
// is ErrInvalidKey.
func (db *DB) lookupKey(ctx context.Context, hash []byte) (keyEntry, error) {
	var e keyEntry
	err := db.read.QueryRowContext(ctx,
		`SELECT k.id, k.hash, a.id, a.tier, a.status FROM api_keys k JOIN accounts a ON a.id = k.account_id
		 WHERE k.hash = ? AND k.revoked_at IS NULL`, hash).Scan(&e.p.KeyID, &e.hash, &e.p.AccountID, &e.p.Tier, &e.status)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrInvalidKey
	}
	return e, internal("authenticate", err)
}

// check compares the stored hash in constant time and refuses suspended
// accounts.
func (e keyEntry) check(want []byte) (Principal, error) {
	if subtle.ConstantTimeCompare(e.hash, want) != 1 {
		return Principal{}, ErrInvalidKey
	}
	if e.status != AccountActive {
		return Principal{}, ErrAccountSuspended
	}
	return e.p, nil
}

// Quote is what an add would place: its units and its charge.
type Quote struct {
	Service  Service
	Quantity int64
	Units    int64
	Charge   int64
}

// Quote checks an add as PlaceOrder would and prices it, placing nothing:
// for a form that shows the charge before the customer commits.
func (s *Snapshot) Quote(in OrderInput) (Quote, error) {
	svc, err := s.Service(in.ServiceID)
	if err == nil && !svc.Enabled {
		err = ErrServiceNotFound
	}
	if err != nil {
		return Quote{}, err
	}
	p, err := plan(svc, in)
	if err != nil {
		return Quote{}, err
	}
	return Quote{Service: svc, Quantity: p.quantity, Units: p.units, Charge: p.charge}, nil
}
