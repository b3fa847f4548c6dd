-- Webhooks: endpoints an admin registers, and one delivery per (endpoint, event). The unique
-- pair makes fan-out idempotent: an event seen twice (at-least-once streams) is delivered once.
CREATE TABLE webhook_endpoints (
    id          uuid PRIMARY KEY,
    url         text NOT NULL,
    description text NOT NULL DEFAULT '',
    events      text[] NOT NULL,
    secret      text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    -- The creating request's Idempotency-Key: a retried registration returns the same endpoint.
    idempotency_key text UNIQUE,
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- `next_attempt_at` orders the dispatcher's queue; `lease_until` keeps one replica's attempt its
-- own while it is on the wire (claimed with FOR UPDATE SKIP LOCKED).
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_token      uuid,
    lease_until      timestamptz,
    last_status_code integer,
    last_error       text,
    last_duration_ms bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id DESC);

-- Every attempt, for the admin's delivery log.
CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  bigint NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery_id, attempt)
);

-- Where the follower of the catalog's change feed stands (product.changed events).
CREATE TABLE webhook_checkpoints (
    source     text PRIMARY KEY,
    cursor     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
