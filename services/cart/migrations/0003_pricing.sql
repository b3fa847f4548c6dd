-- Pricing rules (ARCHITECTURE: the cart service owns pricing) and the priced snapshot of orders.

-- The store's tax settings: one row. Rates are per shipping country, in basis points.
CREATE TABLE tax_settings (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    prices_include_tax boolean NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tax_settings (prices_include_tax) VALUES (true);

CREATE TABLE tax_rates (
    country           text PRIMARY KEY CHECK (country ~ '^[A-Z]{2}$'),
    rate_basis_points integer NOT NULL CHECK (rate_basis_points BETWEEN 0 AND 10000)
);

-- Shipping zones: a set of countries (each in at most one zone) and the methods offered there
-- (a JSON array of method definitions, ids unique within the zone).
CREATE TABLE shipping_zones (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    methods    jsonb NOT NULL,
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE shipping_zone_countries (
    country text PRIMARY KEY CHECK (country ~ '^[A-Z]{2}$'),
    zone_id text NOT NULL REFERENCES shipping_zones (id) ON DELETE CASCADE
);
CREATE INDEX shipping_zone_countries_by_zone ON shipping_zone_countries (zone_id);

-- Automatic catalogue promotions: applied to matching lines while active and inside the window.
CREATE TABLE promotions (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    value      jsonb NOT NULL,
    target     jsonb NOT NULL,
    starts_at  timestamptz,
    ends_at    timestamptz,
    active     boolean NOT NULL DEFAULT true,
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Discount codes (stored upper-case). `times_used` counts live redemptions; the guarded
-- increment in the order's transaction keeps it within `usage_limit` under concurrency.
CREATE TABLE discount_codes (
    code               text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_-]{1,32}$'),
    description        text NOT NULL DEFAULT '',
    value              jsonb NOT NULL,
    target             jsonb NOT NULL,
    minimum_subtotal   jsonb,
    starts_at          timestamptz,
    ends_at            timestamptz,
    usage_limit        integer CHECK (usage_limit > 0),
    per_customer_limit integer CHECK (per_customer_limit > 0),
    times_used         integer NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    active             boolean NOT NULL DEFAULT true,
    version            bigint NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- One row per order that used a code, written in the transaction that creates the order.
-- A FAILED order releases its redemption (`released_at`, and `times_used` goes down);
-- a cancelled order keeps it.
CREATE TABLE code_redemptions (
    order_id    uuid PRIMARY KEY,
    code        text NOT NULL,
    user_id     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz
);
CREATE INDEX code_redemptions_live ON code_redemptions (code, user_id) WHERE released_at IS NULL;

-- What the order was charged: lines with promotions, discounts and tax, shipping, totals.
ALTER TABLE orders ADD COLUMN pricing jsonb;
