-- The catalog's ledger: everything about the catalog that must be exact. The documents themselves
-- live in MongoDB; every write to them happens while the matching row here is locked.

-- One row per product: its current version, serialising writers (SELECT ... FOR UPDATE).
CREATE TABLE products (
    id          text PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    version     bigint NOT NULL CHECK (version > 0),
    deleted     boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per category; tree writes are serialised by an advisory lock (the tree is small).
CREATE TABLE categories (
    id          text PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    parent_id   text REFERENCES categories (id),
    version     bigint NOT NULL CHECK (version > 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Stock per SKU. SKUs are unique across the store; `reserved` never exceeds `on_hand`.
CREATE TABLE inventory (
    sku         text PRIMARY KEY,
    product_id  text NOT NULL REFERENCES products (id),
    on_hand     bigint NOT NULL CHECK (on_hand >= 0),
    reserved    bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    -- A variant removed from its product: kept for the reservations that name it, never reserved again.
    retired     boolean NOT NULL DEFAULT false,
    CHECK (reserved <= on_hand)
);
CREATE INDEX inventory_product ON inventory (product_id);

-- A reservation per order id: the unique key makes reserving idempotent.
CREATE TABLE reservations (
    order_id    text PRIMARY KEY,
    status      text NOT NULL CHECK (status IN ('reserved', 'committed', 'released', 'expired')),
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_pending ON reservations (expires_at) WHERE status = 'reserved';

CREATE TABLE reservation_lines (
    order_id    text NOT NULL REFERENCES reservations (order_id),
    sku         text NOT NULL REFERENCES inventory (sku),
    quantity    bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, sku)
);

-- The change log the search service follows. `xid` is the writing transaction: rows are served
-- in (xid, seq) order and only once every transaction that could still add a row before them has
-- settled (xid < xmin of the current snapshot), so a late commit is never skipped.
CREATE TABLE changes (
    seq         bigserial PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    entity      text NOT NULL CHECK (entity IN ('product', 'category')),
    entity_id   text NOT NULL,
    version     bigint NOT NULL,
    deleted     boolean NOT NULL DEFAULT false,
    document    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_order ON changes (xid, seq);
