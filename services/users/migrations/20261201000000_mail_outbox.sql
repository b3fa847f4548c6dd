-- The mail outbox: every mail the service sends is a row written in the transaction that made it
-- necessary (the link it carries commits or rolls back with it), then delivered by a dispatcher.
-- A mail is pending (neither sent_at nor failed_at), sent, or failed (attempts ran out; kept for
-- inspection until the retention purges it).

CREATE TABLE mail_outbox (
    -- UUIDv7: time-ordered, so ties in next_attempt_at go out in the order they were queued.
    id              uuid PRIMARY KEY,
    -- What the mail is for (a metric label): password_reset, email_verification.
    kind            text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    recipient       text NOT NULL,
    subject         text NOT NULL,
    -- The two bodies carry a working link, so they are cleared once the mail is sent.
    text_body       text,
    html_body       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Attempts started (counted when claimed, so one that never finished counts too).
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The claim that is sending it (a fresh id per claim) and until when; past leased_until the
    -- sender is presumed dead and the mail is claimed again.
    leased_by       uuid,
    leased_until    timestamptz,
    last_error      text,
    sent_at         timestamptz,
    failed_at       timestamptz,
    CHECK (sent_at IS NULL OR failed_at IS NULL),
    CHECK ((leased_by IS NULL) = (leased_until IS NULL)),
    CHECK (sent_at IS NOT NULL OR (text_body IS NOT NULL AND html_body IS NOT NULL))
);

-- What the dispatcher claims: pending mail in due order.
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
-- What the retention purges, and what the failure gauge counts.
CREATE INDEX mail_outbox_sent ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX mail_outbox_failed ON mail_outbox (failed_at) WHERE failed_at IS NOT NULL;
