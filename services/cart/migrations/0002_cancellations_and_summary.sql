-- A cancelled order is compensated after its status change commits: the payment is voided and
-- the committed stock returned to the catalog. Until both calls succeeded `cancellation_pending`
-- stays set and the recovery loop retries them (each is idempotent by order id); `lease_until`
-- keeps the handler and the loop from working on one order at the same time.
ALTER TABLE orders ADD COLUMN cancellation_pending boolean NOT NULL DEFAULT false;
CREATE INDEX orders_cancellation_pending ON orders (lease_until) WHERE cancellation_pending;

-- The admin summary counts orders created since a point in time.
CREATE INDEX orders_by_created ON orders (created_at);
