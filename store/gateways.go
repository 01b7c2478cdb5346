package store

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"strconv"
)

// Gateway kinds: the payment gateways notpanel speaks to.
const (
	GatewayStripe    = "stripe"
	GatewayBTCPay    = "btcpay"
	GatewayCryptomus = "cryptomus"
)

// GatewayKinds lists every kind, for help texts and checks.
var GatewayKinds = []string{GatewayStripe, GatewayBTCPay, GatewayCryptomus}

// Gateway statuses. A disabled gateway takes no new deposits but its
// pending ones are still read back and credited; a removed one is kept only
// for the deposits that name it.
const (
	GatewayEnabled  = "enabled"
	GatewayDisabled = "disabled"
	GatewayRemoved  = "removed"
)

// Gateway is a payment gateway customers top up through. Its secrets never
// leave the process in JSON.
type Gateway struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// URL is the base of the gateway's API.
	URL string `json:"url"`
	// APIKey authenticates our calls (Stripe's secret key, a BTCPay
	// Greenfield API key, Cryptomus's payment API key).
	APIKey string `json:"-"`
	// WebhookSecret verifies the gateway's webhooks; without one, every
	// webhook to the gateway is refused (Cryptomus signs with APIKey).
	WebhookSecret string `json:"-"`
	StoreID       string `json:"store_id,omitempty"` // BTCPay's store
	Merchant      string `json:"merchant,omitempty"` // Cryptomus's merchant UUID
	// Min and Max bound one deposit, in micro-units.
	Min     int64  `json:"min"`
	Max     int64  `json:"max"`
	Status  string `json:"status"`
	Created int64  `json:"created"`
}

const gatewayCols = `id, name, kind, url, api_key, webhook_secret, store_id, merchant, min_amount, max_amount, status, created_at`

func scanGateway(row interface{ Scan(...any) error }) (Gateway, error) {
	var g Gateway
	err := row.Scan(&g.ID, &g.Name, &g.Kind, &g.URL, &g.APIKey, &g.WebhookSecret, &g.StoreID, &g.Merchant,
		&g.Min, &g.Max, &g.Status, &g.Created)
	return g, err
}

// AddGateway registers a gateway, enabled. What each kind needs beyond the
// fields every gateway has (a store, a merchant) is checked by the payment
// package before it calls this.
func (db *DB) AddGateway(ctx context.Context, g Gateway) (Gateway, error) {
	if err := validGateway(g); err != nil {
		return g, err
	}
	g.Status, g.Created = GatewayEnabled, db.unix()
	err := db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM gateways WHERE name = ? AND status != 'removed'`,
			g.Name).Scan(&n); err != nil {
			return internal("read gateway", err)
		}
		if n > 0 {
			return Errorf(Conflict, "Gateway %q already exists", g.Name)
		}
		err := tx.QueryRowContext(ctx,
			`INSERT INTO gateways (name, kind, url, api_key, webhook_secret, store_id, merchant, min_amount, max_amount, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			g.Name, g.Kind, g.URL, g.APIKey, g.WebhookSecret, g.StoreID, g.Merchant, g.Min, g.Max, g.Created).Scan(&g.ID)
		return internal("insert gateway", err)
	})
	return g, err
}

// validGateway checks what every gateway needs.
func validGateway(g Gateway) error {
	if err := validName("gateway", g.Name); err != nil {
		return err
	}
	if !slices.Contains(GatewayKinds, g.Kind) {
		return Errorf(Invalid, "Invalid gateway kind %q: want stripe, btcpay or cryptomus", g.Kind)
	}
	u, err := url.Parse(g.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return Errorf(Invalid, "Invalid gateway URL %q: want http(s)://host[/path]", g.URL)
	}
	if g.APIKey == "" {
		return Errorf(Invalid, "Missing gateway API key")
	}
	if g.Min <= 0 || g.Max < g.Min || g.Max > MaxAmount {
		return Errorf(Invalid, "Invalid deposit limits: want 0 < min ≤ max ≤ %s", FormatMoney(MaxAmount))
	}
	return nil
}

// SetGateway changes a gateway's settings (URL, keys, store, merchant,
// limits) to those of g, found by its ID; its name, kind and status stay.
// Its pending deposits are read back with the new keys from then on.
func (db *DB) SetGateway(ctx context.Context, g Gateway) error {
	if err := validGateway(g); err != nil {
		return err
	}
	return db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE gateways SET url = ?, api_key = ?, webhook_secret = ?, store_id = ?, merchant = ?, min_amount = ?, max_amount = ?
			 WHERE id = ? AND status != 'removed'`,
			g.URL, g.APIKey, g.WebhookSecret, g.StoreID, g.Merchant, g.Min, g.Max, g.ID)
		if err != nil {
			return internal("update gateway", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Errorf(NotFound, "Gateway %q not found", g.Name)
		}
		return nil
	})
}

// FindGateway returns the gateway named by ref: the name of one not
// removed, or any gateway's numeric id.
func (db *DB) FindGateway(ctx context.Context, ref string) (Gateway, error) {
	q, arg := `SELECT `+gatewayCols+` FROM gateways WHERE name = ? AND status != 'removed'`, any(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		q, arg = `SELECT `+gatewayCols+` FROM gateways WHERE id = ?`, id
	}
	g, err := scanGateway(db.read.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return g, Errorf(NotFound, "Gateway %q not found", ref)
	}
	return g, internal("read gateway", err)
}

// GatewayByID returns a gateway, removed ones included.
func (db *DB) GatewayByID(ctx context.Context, id int64) (Gateway, error) {
	return db.FindGateway(ctx, strconv.FormatInt(id, 10))
}

// ListGateways returns the gateways not removed, by id; only the enabled
// ones when enabled is set (what a customer may choose from).
func (db *DB) ListGateways(ctx context.Context, enabled bool) ([]Gateway, error) {
	q := `SELECT ` + gatewayCols + ` FROM gateways WHERE status != 'removed' ORDER BY id`
	if enabled {
		q = `SELECT ` + gatewayCols + ` FROM gateways WHERE status = 'enabled' ORDER BY id`
	}
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, internal("list gateways", err)
	}
	defer rows.Close()
	out := []Gateway{}
	for rows.Next() {
		g, err := scanGateway(rows)
		if err != nil {
			return nil, internal("list gateways", err)
		}
		out = append(out, g)
	}
	return out, internal("list gateways", rows.Err())
}

// SetGatewayStatus enables or disables a gateway. A disabled gateway takes
// no new deposits; its pending ones are still read back and credited, and
// its webhooks still heard.
func (db *DB) SetGatewayStatus(ctx context.Context, ref, status string) (Gateway, error) {
	if status != GatewayEnabled && status != GatewayDisabled {
		return Gateway{}, Errorf(Invalid, "Invalid gateway status %q", status)
	}
	g, err := db.FindGateway(ctx, ref)
	if err != nil {
		return g, err
	}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE gateways SET status = ? WHERE id = ? AND status != 'removed'`, status, g.ID)
		if err != nil {
			return internal("update gateway", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Errorf(NotFound, "Gateway %q not found", ref)
		}
		return nil
	})
	g.Status = status
	return g, err
}

// RemoveGateway removes a gateway and forgets its secrets; its name is free
// again. It refuses while deposits through it are pending, which only it
// can settle: disable it, and remove it once they are settled.
func (db *DB) RemoveGateway(ctx context.Context, ref string) (Gateway, error) {
	g, err := db.FindGateway(ctx, ref)
	if err != nil {
		return g, err
	}
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deposits WHERE gateway_id = ? AND status = 'pending'`,
			g.ID).Scan(&pending); err != nil {
			return internal("count pending deposits", err)
		}
		if pending > 0 {
			return Errorf(Conflict, "Gateway %s has %d pending deposits; disable it and remove it once they are settled (payment list --status pending)",
				g.Name, pending)
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE gateways SET status = 'removed', api_key = '', webhook_secret = '' WHERE id = ? AND status != 'removed'`, g.ID)
		if err != nil {
			return internal("remove gateway", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Errorf(NotFound, "Gateway %q not found", ref)
		}
		return nil
	})
	g.Status, g.APIKey, g.WebhookSecret = GatewayRemoved, "", ""
	return g, err
}
