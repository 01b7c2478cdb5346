-- notpanel schema. This file is the truth: a new database is created from it,
-- and PRAGMA user_version records which version of it a file holds.
-- Money is always INTEGER micro-units (1e-6 of the panel currency).
--
-- On the tables written for every order or event (orders, ledger,
-- cancel_requests, refills, deliveries) a check or index condition against
-- more than two values is spelt with OR, not IN: SQLite builds a temporary
-- table for such an IN list on every row it writes, which made an order's
-- insert a quarter slower.

-- settings holds panel-wide values: the currency and the config version that
-- admin writes bump so that a running server notices CLI changes.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO settings (name, value) VALUES ('currency', 'USD'), ('config_version', '1');

CREATE TABLE tiers (
    name            TEXT PRIMARY KEY,
    key_per_min     INTEGER NOT NULL CHECK (key_per_min > 0),
    account_per_min INTEGER NOT NULL CHECK (account_per_min > 0)
) WITHOUT ROWID;

INSERT INTO tiers (name, key_per_min, account_per_min) VALUES
    ('standard', 100, 300),
    ('reseller', 300, 1000),
    ('agency', 1000, 3000);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    tier        TEXT NOT NULL REFERENCES tiers (name),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    balance     INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    low_balance INTEGER NOT NULL DEFAULT 0 CHECK (low_balance >= 0),
    created_at  INTEGER NOT NULL
);

-- api_keys stores only the SHA-256 of a key; the raw key is shown once.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    hash       BLOB NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    label      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE providers (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL,
    api_key    TEXT NOT NULL,
    dialect    TEXT NOT NULL CHECK (dialect IN ('classic', 'notpanel')),
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    -- why the worker paused the provider (e.g. the provider refused our key)
    paused_reason TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- services.rate is the price of 1000 units in micro-units.
CREATE TABLE services (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    category         TEXT NOT NULL,
    type             TEXT NOT NULL CHECK (type IN ('Default', 'Package', 'Custom Comments',
                         'Mentions Custom List', 'Comment Likes', 'Poll')),
    rate             INTEGER NOT NULL CHECK (rate >= 0),
    min              INTEGER NOT NULL CHECK (min >= 1),
    max              INTEGER NOT NULL CHECK (max >= min),
    refill           INTEGER NOT NULL DEFAULT 0 CHECK (refill IN (0, 1)),
    cancel           INTEGER NOT NULL DEFAULT 0 CHECK (cancel IN (0, 1)),
    dripfeed         INTEGER NOT NULL DEFAULT 0 CHECK (dripfeed IN (0, 1)),
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    provider_id      INTEGER NOT NULL REFERENCES providers (id),
    provider_service TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    -- imported holds, as JSON, the values the last service import set, so a
    -- re-import can tell the operator's own edits (kept) from stale values
    imported         TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE INDEX services_provider ON services (provider_id, provider_service);

-- orders: number is the stable integer a classic client sees, id the ord_ ULID.
-- units is what was billed (quantity, quantity x runs, or the package min);
-- extra holds the type-specific fields (comments, usernames, ...) as JSON.
-- claimed_at is set by the worker before it calls the upstream and stays set
-- once the order is with the upstream; provider_id is the provider it was
-- claimed for. next_at is when the worker next looks at the order (a dispatch
-- retry or a status sync); attempts counts failed tries at the current step.
-- review, when set, parks the order for the operator with the reason, e.g.
-- a dispatch whose outcome is unknown. upstream_status is the provider's last
-- status text, kept verbatim so that unknown statuses stay visible.
CREATE TABLE orders (
    number      INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    service_id  INTEGER NOT NULL REFERENCES services (id),
    link        TEXT NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity >= 0),
    runs        INTEGER,
    interval    INTEGER,
    units       INTEGER NOT NULL CHECK (units > 0),
    extra       TEXT,
    charge      INTEGER NOT NULL CHECK (charge >= 0),
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'processing'
                    OR status = 'in_progress' OR status = 'completed' OR status = 'partial'
                    OR status = 'cancelled' OR status = 'refunded' OR status = 'failed'),
    claimed_at  INTEGER,
    provider_id INTEGER REFERENCES providers (id),
    upstream_id TEXT,
    upstream_status TEXT NOT NULL DEFAULT '',
    start_count INTEGER,
    remains     INTEGER,
    reason      TEXT,
    review      TEXT,
    -- maybe_sent: an add may have reached a notpanel provider (its answer was
    -- lost); such an order is never cancelled or failed locally, only resent
    -- with the same request_id, which finds it if it is there
    maybe_sent  INTEGER NOT NULL DEFAULT 0 CHECK (maybe_sent IN (0, 1)),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,
    -- the customer's request_id of the add, and a digest of its parameters:
    -- a retry gets the first answer, a reuse with other parameters is
    -- refused
    request_id  TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- one add per request_id and account
CREATE UNIQUE INDEX orders_request ON orders (account_id, request_id);
-- an account's orders newest first, for the storefront's pages and the
-- operator's listings (an add appends to its account's end of it)
CREATE INDEX orders_account ON orders (account_id, number);
-- the worker's queue: open orders by when they are due. A query uses it
-- only when one of its terms is one of these equalities, or the whole
-- condition word for word: SQLite does not see that an IN implies it.
CREATE INDEX orders_work ON orders (status, next_at)
    WHERE status = 'pending' OR status = 'processing' OR status = 'in_progress';
CREATE INDEX orders_review ON orders (number) WHERE review IS NOT NULL;

-- ledger is append-only: every balance change is one row written in the same
-- transaction; amount is signed, balance_after is the account balance after it.
CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    kind          TEXT NOT NULL CHECK (kind = 'deposit' OR kind = 'charge' OR kind = 'refund'
                      OR kind = 'adjustment'),
    amount        INTEGER NOT NULL,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    order_id      TEXT REFERENCES orders (id),
    note          TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    -- the deposit a 'deposit' row credits, when it came through a payment
    -- gateway (a credit by funds add names none)
    deposit_id    TEXT REFERENCES deposits (id)
);

-- An account's rows newest first (its transactions page), and an order's.
CREATE INDEX ledger_account ON ledger (account_id, id) WHERE kind != 'charge';
CREATE INDEX ledger_order ON ledger (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX ledger_deposit ON ledger (deposit_id) WHERE deposit_id IS NOT NULL;

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger rows are append-only');
END;

CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger rows are append-only');
END;

-- cancel_requests queues a customer's cancel of an order already handed to
-- (or being handed to) the upstream; one row per order.
CREATE TABLE cancel_requests (
    order_id   TEXT PRIMARY KEY REFERENCES orders (id),
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'sent'
                   OR status = 'accepted' OR status = 'refused'),
    error      TEXT NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX cancel_requests_open ON cancel_requests (status) WHERE status IN ('pending', 'sent');

CREATE TABLE refills (
    number      INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'processing'
                    OR status = 'completed' OR status = 'rejected'),
    upstream_id TEXT,
    upstream_status TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE INDEX refills_order ON refills (order_id);
CREATE INDEX refills_open ON refills (status, next_at) WHERE status IN ('pending', 'processing');

-- webhooks are a customer's endpoints, each owned by the API key that made
-- it: a revoked key's webhooks get nothing. events lists the event types it
-- wants, comma-separated. The secret signs deliveries (Standard Webhooks).
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    key_id     TEXT NOT NULL REFERENCES api_keys (id),
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'removed')),
    reason     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX webhooks_key ON webhooks (key_id) WHERE status != 'removed';
CREATE INDEX webhooks_account ON webhooks (account_id) WHERE status = 'active';

-- events is the outbox: an event is written in the same transaction as the
-- change it tells of, with one delivery per webhook that wants it, so that
-- a crash can neither lose one nor invent one.
CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE deliveries (
    event_id   TEXT NOT NULL REFERENCES events (id),
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'delivered'
                   OR status = 'failed'),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, webhook_id)
) WITHOUT ROWID;

CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';

-- The storefront. credentials holds a customer's sign-in: the password as
-- an argon2id PHC string ('' until one is set), the e-mail address reset
-- links go to ('' for none), the two-factor secret ('' when
-- off) and the last time step whose code was taken (a code works once);
-- changed_at is when the password last changed.
CREATE TABLE credentials (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id),
    password    TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    totp_secret TEXT NOT NULL DEFAULT '',
    totp_used   INTEGER NOT NULL DEFAULT 0,
    changed_at  INTEGER NOT NULL
);

-- one-time two-factor recovery codes, by their SHA-256
CREATE TABLE recovery_codes (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    hash       BLOB NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, hash)
) WITHOUT ROWID;

-- Signed-in browsers. The cookie holds a random token; only its SHA-256 is
-- kept. A session ends when idle too long (seen_at), at expires_at in any
-- case, at sign-out, and when its account's password changes. second_factor
-- is 1 while the password was right and the code is still awaited.
CREATE TABLE sessions (
    hash          BLOB PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    created_at    INTEGER NOT NULL,
    seen_at       INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    second_factor INTEGER NOT NULL DEFAULT 0 CHECK (second_factor IN (0, 1)),
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX credentials_email ON credentials (email COLLATE NOCASE) WHERE email != '';
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- One-time tokens by their SHA-256: password resets (an account's) and
-- sign-up invitations (for whoever holds the code).
CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('reset', 'invite')),
    account_id INTEGER REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;

-- gateways are the payment gateways customers top up their balance through.
-- api_key and webhook_secret are never printed. A removed gateway keeps its
-- row, without its secrets, for the deposits that name it; its name is free
-- for a new one.
CREATE TABLE gateways (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('stripe', 'btcpay', 'cryptomus')),
    url            TEXT NOT NULL,
    api_key        TEXT NOT NULL,
    webhook_secret TEXT NOT NULL DEFAULT '',
    store_id       TEXT NOT NULL DEFAULT '',
    merchant       TEXT NOT NULL DEFAULT '',
    min_amount     INTEGER NOT NULL CHECK (min_amount > 0),
    max_amount     INTEGER NOT NULL CHECK (max_amount >= min_amount),
    status         TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled', 'removed')),
    created_at     INTEGER NOT NULL
);

CREATE UNIQUE INDEX gateways_name ON gateways (name) WHERE status != 'removed';

-- deposits are customers' top-ups through a gateway. reference is the
-- gateway's id of the checkout (a Stripe Checkout Session, a BTCPay or
-- Cryptomus invoice): one deposit per checkout, however often the gateway
-- tells of it. A deposit is written only once the gateway made its
-- checkout, and moves from pending to credited, expired or failed by
-- guarded updates; credited is the amount credited, by the ledger row
-- (ledger.deposit_id) written in the same transaction. review parks a
-- pending deposit for the operator (a wrong amount paid, a gateway that
-- never settled). next_at and attempts are the reconciler's schedule of
-- read-backs.
CREATE TABLE deposits (
    id             TEXT PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    gateway_id     INTEGER NOT NULL REFERENCES gateways (id),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    currency       TEXT NOT NULL,
    reference      TEXT NOT NULL,
    checkout_url   TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'credited', 'expired', 'failed')),
    credited       INTEGER NOT NULL DEFAULT 0 CHECK (credited >= 0),
    gateway_status TEXT NOT NULL DEFAULT '',
    review         TEXT,
    note           TEXT NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE UNIQUE INDEX deposits_reference ON deposits (gateway_id, reference);
CREATE INDEX deposits_account ON deposits (account_id, id);
-- the reconciler's queue: pending deposits not parked, by when they are due
CREATE INDEX deposits_due ON deposits (next_at) WHERE status = 'pending' AND review IS NULL;
