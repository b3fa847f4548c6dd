-- Account recovery: email verification and password reset through single-use links sent by mail.

ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- An address that changes is no longer verified, whichever statement changes it.
CREATE FUNCTION users_email_change_unverifies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.email IS DISTINCT FROM OLD.email THEN
        NEW.email_verified_at := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_email_change_unverifies
    BEFORE UPDATE OF email ON users
    FOR EACH ROW EXECUTE FUNCTION users_email_change_unverifies();

CREATE TABLE account_tokens (
    -- SHA-256 of the token in the link; the token itself is never stored.
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the link was sent to: following it proves control of that address only.
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set once, by the request that used the link.
    used_at    timestamptz
);
CREATE INDEX account_tokens_unused ON account_tokens (user_id, purpose) WHERE used_at IS NULL;
CREATE INDEX account_tokens_by_expiry ON account_tokens (expires_at);
