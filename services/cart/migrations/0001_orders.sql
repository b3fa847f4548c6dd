-- Orders and the checkout saga's state. An order is PENDING while its saga runs; `saga_step`
-- records the last step that is known to have completed, so a crash can be resumed or
-- compensated from there. `lease_token`/`lease_until` say which saga run owns the order.
CREATE TABLE orders (
    id               uuid PRIMARY KEY,
    user_id          text NOT NULL,
    status           text NOT NULL
                     CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'SHIPPED', 'CANCELLED')),
    saga_step        text NOT NULL
                     CHECK (saga_step IN ('created', 'reserved', 'authorized', 'compensating', 'done')),
    currency         text NOT NULL,
    total_amount     bigint NOT NULL CHECK (total_amount >= 0),
    payment_token    text NOT NULL,
    authorization_id text,
    failure_reason   text,
    failure_detail   text,
    failure_errors   jsonb,
    idempotency_key  text,
    lease_token      uuid,
    lease_until      timestamptz NOT NULL DEFAULT now(),
    version          bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_user ON orders (user_id, id DESC);
CREATE INDEX orders_by_status ON orders (status, id DESC);
CREATE INDEX orders_in_flight ON orders (lease_until) WHERE status = 'PENDING';

-- Prices as repriced from the catalog at checkout; never the client's.
CREATE TABLE order_lines (
    order_id      uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    sku           text NOT NULL,
    title         text NOT NULL,
    variant_title text,
    quantity      bigint NOT NULL CHECK (quantity > 0),
    unit_amount   bigint NOT NULL,
    line_amount   bigint NOT NULL,
    PRIMARY KEY (order_id, sku)
);

-- One row per (caller, Idempotency-Key): the request's fingerprint and, once finished, the
-- exact answer replays get. `locked_at` lets a key abandoned by a crash be taken over.
CREATE TABLE idempotency_keys (
    user_id         text NOT NULL,
    key             text NOT NULL,
    fingerprint     text NOT NULL,
    order_id        uuid,
    response_status integer,
    response_body   text,
    locked_at       timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (user_id, key)
);

-- Events written in the same transaction as the state change they announce; the relay
-- publishes them to the Redis stream and stamps `published_at`.
CREATE TABLE outbox (
    id           uuid PRIMARY KEY,
    event_type   text NOT NULL,
    aggregate_id text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- The sandbox payment provider's own ledger (a real provider keeps this on its side).
CREATE TABLE sandbox_payments (
    order_id         uuid PRIMARY KEY,
    authorization_id text,
    status           text NOT NULL CHECK (status IN ('authorized', 'declined', 'voided')),
    decline_code     text,
    amount           bigint NOT NULL,
    currency         text NOT NULL,
    card_last4       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
