-- Accounts, sessions, signing keys and login throttling of the users service.

CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    -- Stored normalised (trimmed, lower case); unique case-insensitively regardless.
    email               text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name                text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    -- argon2id PHC string.
    password_hash       text NOT NULL,
    is_admin            boolean NOT NULL DEFAULT false,
    version             bigint NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_admins ON users (id) WHERE is_admin;

CREATE TABLE addresses (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       text,
    full_name   text NOT NULL,
    line1       text NOT NULL,
    line2       text,
    city        text NOT NULL,
    region      text,
    postal_code text NOT NULL,
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    phone       text,
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_by_user ON addresses (user_id, id);

-- A login session: refresh tokens rotate within it; revoking it ends them all.
CREATE TABLE refresh_families (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX refresh_families_by_user ON refresh_families (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token; the token itself is never stored.
    token_hash bytea PRIMARY KEY,
    family_id  uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    -- Set when exchanged for a new token; presenting it again revokes the family.
    rotated_at timestamptz
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

CREATE TABLE signing_keys (
    kid                    text PRIMARY KEY,
    public_key             bytea NOT NULL CHECK (length(public_key) = 32),
    -- The Ed25519 seed, or nonce ‖ AES-256-GCM ciphertext of it.
    private_key            bytea NOT NULL,
    private_key_encryption text NOT NULL CHECK (private_key_encryption IN ('none', 'aes-256-gcm')),
    signs_from             timestamptz NOT NULL,
    signs_until            timestamptz NOT NULL,
    published_until        timestamptz NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (signs_from < signs_until AND signs_until <= published_until)
);

CREATE TABLE login_throttle (
    scope             text NOT NULL,
    key               text NOT NULL,
    failures          integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    blocked_until     timestamptz,
    PRIMARY KEY (scope, key)
);

-- Clients that signed in to an account: exempt from the account-wide block.
CREATE TABLE login_known_clients (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client          text NOT NULL,
    last_success_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, client)
);
