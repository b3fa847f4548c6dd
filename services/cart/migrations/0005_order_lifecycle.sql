-- The rest of an order's life: EXPIRED (payment never completed in time), REFUNDED (every
-- captured unit of money given back). Payment is captured when the order ships; refunds never
-- exceed what was captured.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'EXPIRED', 'SHIPPED', 'CANCELLED', 'REFUNDED'));
ALTER TABLE orders ADD COLUMN captured_amount bigint NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN refunded_amount bigint NOT NULL DEFAULT 0;
ALTER TABLE orders ADD CONSTRAINT orders_refunds_within_capture
    CHECK (refunded_amount >= 0 AND refunded_amount <= captured_amount AND captured_amount <= total_amount);
-- The expiry pass looks for old PENDING orders.
CREATE INDEX orders_pending_by_created ON orders (created_at) WHERE status = 'PENDING';

-- A refund is `pending` from the moment its amount is set aside on the order until the payment
-- provider has answered; the recovery loop repeats the provider call (idempotent by refund id)
-- for a refund left pending by a crash or a provider outage.
CREATE TABLE refunds (
    id              uuid PRIMARY KEY,
    order_id        uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL,
    reason          text,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    failure         text,
    requested_by    text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, idempotency_key)
);
CREATE INDEX refunds_pending ON refunds (updated_at) WHERE status = 'pending';

-- The sandbox provider learns to wait for the shopper (3-D Secure style), capture and refund.
ALTER TABLE sandbox_payments DROP CONSTRAINT sandbox_payments_status_check;
ALTER TABLE sandbox_payments ADD CONSTRAINT sandbox_payments_status_check
    CHECK (status IN ('authorized', 'declined', 'voided', 'requires_action', 'captured'));
ALTER TABLE sandbox_payments ADD COLUMN captured_amount bigint NOT NULL DEFAULT 0;
ALTER TABLE sandbox_payments ADD COLUMN refunded_amount bigint NOT NULL DEFAULT 0;
ALTER TABLE sandbox_payments ADD CONSTRAINT sandbox_payments_refunds_within_capture
    CHECK (refunded_amount <= captured_amount);
CREATE TABLE sandbox_refunds (
    refund_id  uuid PRIMARY KEY,
    order_id   uuid NOT NULL,
    amount     bigint NOT NULL CHECK (amount > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
