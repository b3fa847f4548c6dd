//! Login throttling, stored in PostgreSQL so that every replica sees the same counts.
//!
//! Failed logins are counted over a window in three scopes:
//! - one client guessing one account (`account-client`): a low limit;
//! - one client guessing many accounts (`client`): credential stuffing from one address;
//! - many clients guessing one account (`account`): a distributed attack. Clients that signed in
//!   to the account before are exempt, so an attacker cannot lock the owner out.
//!
//! Crossing a limit blocks for `lockout`, doubling with each further failure (capped at the
//! window); a blocked attempt answers 429 with `Retry-After`. Accounts are keyed by the
//! normalised email, whether or not it exists, so throttling reveals nothing about accounts.
//!
//! Requests that send recovery mail (password reset, verification) are counted the same way, per
//! address (`mail-account`) and per client (`mail-client`); past the limit they answer 429 until
//! the window ends.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;
use sqlx::{PgConnection, PgPool};
use storefront_kit::Problem;
use uuid::Uuid;

use crate::AppState;
use crate::config::ThrottleSettings;
use crate::error::{Error, Result};

const SCOPE_ACCOUNT_CLIENT: &str = "account-client";
const SCOPE_CLIENT: &str = "client";
const SCOPE_ACCOUNT: &str = "account";
const SCOPE_MAIL_ACCOUNT: &str = "mail-account";
const SCOPE_MAIL_CLIENT: &str = "mail-client";
/// A client that signed in to an account within this many days is not blocked by the
/// account-wide limit.
const KNOWN_CLIENT_DAYS: f64 = 90.0;

/// Where a request comes from: the client address as seen by the trusted proxy in front
/// (`X-Forwarded-For`), IPv6 addresses reduced to their /64 (one customer's allocation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl ClientAddress {
    fn from_parts(parts: &Parts, trusted_hops: usize) -> Self {
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        let from_proxy = (trusted_hops > 0 && !forwarded.is_empty())
            .then(|| forwarded[forwarded.len().saturating_sub(trusted_hops)]);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        match from_proxy.map(str::to_owned).or(peer) {
            Some(address) => Self(normalise(&address)),
            None => Self("unknown".to_owned()),
        }
    }
}

fn normalise(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        // Not an address (a misconfigured proxy): still a key, bounded in size.
        Err(_) => address.chars().take(64).collect(),
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, state.trusted_proxy_hops))
    }
}

#[derive(Debug)]
pub struct Throttle {
    settings: ThrottleSettings,
}

impl Throttle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Self { settings }
    }

    fn scopes<'a>(
        &self,
        email: &'a str,
        client: &'a ClientAddress,
    ) -> [(&'static str, String, u32); 3] {
        [
            (
                SCOPE_ACCOUNT_CLIENT,
                format!("{email}|{}", client.0),
                self.settings.per_account_and_client,
            ),
            (SCOPE_CLIENT, client.0.clone(), self.settings.per_client),
            (SCOPE_ACCOUNT, email.to_owned(), self.settings.per_account),
        ]
    }

    /// `Err(Throttled)` if `client` may not try to sign in to `email` right now.
    pub async fn check(&self, db: &PgPool, email: &str, client: &ClientAddress) -> Result<()> {
        let [account_client, by_client, by_account] = self.scopes(email, client);
        let blocks: Vec<(String, f64)> = sqlx::query_as(
            "SELECT scope, EXTRACT(EPOCH FROM blocked_until - now())::float8
             FROM login_throttle
             WHERE blocked_until > now()
               AND ((scope = $1 AND key = $2) OR (scope = $3 AND key = $4) OR (scope = $5 AND key = $6))",
        )
        .bind(account_client.0)
        .bind(&account_client.1)
        .bind(by_client.0)
        .bind(&by_client.1)
        .bind(by_account.0)
        .bind(&by_account.1)
        .fetch_all(db)
        .await?;
        let mut wait: f64 = 0.0;
        for (scope, remaining) in blocks {
            if scope == SCOPE_ACCOUNT && self.is_known_client(db, email, client).await? {
                continue;
            }
            wait = wait.max(remaining);
        }
        if wait > 0.0 {
            metrics::counter!("users_logins_total", "outcome" => "throttled").increment(1);
            return Err(Error::Throttled {
                retry_after: wait.ceil().clamp(1.0, f64::from(u32::MAX)) as u32,
            });
        }
        Ok(())
    }

    async fn is_known_client(
        &self,
        db: &PgPool,
        email: &str,
        client: &ClientAddress,
    ) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (
               SELECT 1 FROM login_known_clients k JOIN users u ON u.id = k.user_id
               WHERE lower(u.email) = $1 AND k.client = $2
                 AND k.last_success_at > now() - make_interval(days => $3::float8::int))",
        )
        .bind(email)
        .bind(&client.0)
        .bind(KNOWN_CLIENT_DAYS)
        .fetch_one(db)
        .await?)
    }

    /// Counts a failed attempt in every scope and blocks the scopes that crossed their limit.
    pub async fn record_failure(
        &self,
        db: &PgPool,
        email: &str,
        client: &ClientAddress,
    ) -> Result<()> {
        let window = self.settings.window.as_secs_f64();
        for (scope, key, limit) in self.scopes(email, client) {
            let failures: i32 = sqlx::query_scalar(
                "INSERT INTO login_throttle (scope, key, failures, window_started_at)
                 VALUES ($1, $2, 1, now())
                 ON CONFLICT (scope, key) DO UPDATE SET
                   failures = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => $3)
                                   THEN 1 ELSE login_throttle.failures + 1 END,
                   window_started_at = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => $3)
                                   THEN now() ELSE login_throttle.window_started_at END
                 RETURNING failures",
            )
            .bind(scope)
            .bind(&key)
            .bind(window)
            .fetch_one(db)
            .await?;
            let failures = u32::try_from(failures).unwrap_or(u32::MAX);
            if failures >= limit {
                let block = self.block_for(failures - limit);
                sqlx::query(
                    "UPDATE login_throttle SET blocked_until = now() + make_interval(secs => $3)
                     WHERE scope = $1 AND key = $2",
                )
                .bind(scope)
                .bind(&key)
                .bind(block.as_secs_f64())
                .execute(db)
                .await?;
                tracing::warn!(
                    scope,
                    block_seconds = block.as_secs(),
                    "login attempts blocked"
                );
            }
        }
        Ok(())
    }

    /// Counts a request that sends mail to `email`; `Err(Throttled)` once the address or the
    /// client has asked for more than its limit within the mail window.
    pub async fn limit_mail(&self, db: &PgPool, email: &str, client: &ClientAddress) -> Result<()> {
        let mut conn = db.acquire().await?;
        match self.count_mail(&mut conn, email, client).await? {
            Some(retry_after) => Err(Error::Throttled { retry_after }),
            None => Ok(()),
        }
    }

    /// [`Self::limit_mail`] inside the caller's transaction: `Some(retry_after)` when over a
    /// limit. The counts are written either way, so the caller commits either way.
    pub async fn count_mail(
        &self,
        db: &mut PgConnection,
        email: &str,
        client: &ClientAddress,
    ) -> Result<Option<u32>> {
        let window = self.settings.mail_window.as_secs_f64();
        let mut retry_after = 0u32;
        for (scope, key, limit) in [
            (SCOPE_MAIL_ACCOUNT, email, self.settings.mails_per_email),
            (
                SCOPE_MAIL_CLIENT,
                client.0.as_str(),
                self.settings.mails_per_client,
            ),
        ] {
            let (count, remaining): (i32, f64) = sqlx::query_as(
                "INSERT INTO login_throttle (scope, key, failures, window_started_at)
                 VALUES ($1, $2, 1, now())
                 ON CONFLICT (scope, key) DO UPDATE SET
                   failures = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => $3)
                                   THEN 1 ELSE login_throttle.failures + 1 END,
                   window_started_at = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => $3)
                                   THEN now() ELSE login_throttle.window_started_at END
                 RETURNING failures,
                   EXTRACT(EPOCH FROM window_started_at + make_interval(secs => $3) - now())::float8",
            )
            .bind(scope)
            .bind(key)
            .bind(window)
            .fetch_one(&mut *db)
            .await?;
            if u32::try_from(count).unwrap_or(u32::MAX) > limit {
                // Whole seconds, at least one.
                let seconds = remaining.ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
                retry_after = retry_after.max(seconds);
            }
        }
        if retry_after > 0 {
            tracing::warn!(retry_after, "recovery mail requests throttled");
            return Ok(Some(retry_after));
        }
        Ok(None)
    }

    /// `lockout × 2^excess`, at most the window.
    fn block_for(&self, excess: u32) -> Duration {
        let factor = 2u32.saturating_pow(excess.min(16));
        self.settings
            .lockout
            .saturating_mul(factor)
            .min(self.settings.window.max(self.settings.lockout))
    }

    /// Clears the client's failures on this account and remembers it as a known client.
    pub async fn record_success(
        &self,
        db: &PgPool,
        user_id: Uuid,
        email: &str,
        client: &ClientAddress,
    ) -> Result<()> {
        let [account_client, ..] = self.scopes(email, client);
        sqlx::query("DELETE FROM login_throttle WHERE scope = $1 AND key = $2")
            .bind(account_client.0)
            .bind(&account_client.1)
            .execute(db)
            .await?;
        sqlx::query(
            "INSERT INTO login_known_clients (user_id, client, last_success_at) VALUES ($1, $2, now())
             ON CONFLICT (user_id, client) DO UPDATE SET last_success_at = now()",
        )
        .bind(user_id)
        .bind(&client.0)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Drops counters whose window and block are over.
    pub async fn purge(&self, db: &PgPool) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM login_throttle
             WHERE window_started_at < now() - make_interval(secs => $1)
               AND (blocked_until IS NULL OR blocked_until < now())",
        )
        .bind(
            self.settings
                .window
                .max(self.settings.mail_window)
                .as_secs_f64(),
        )
        .execute(db)
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(forwarded: &[&str]) -> Parts {
        let mut request = http::Request::get("/");
        for value in forwarded {
            request = request.header("x-forwarded-for", *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn client_address_is_the_one_the_trusted_proxy_saw() {
        // The client claims 1.1.1.1; the gateway appended the address it really saw.
        let parts = parts(&["1.1.1.1, 203.0.113.7"]);
        assert_eq!(ClientAddress::from_parts(&parts, 1).0, "203.0.113.7");
        assert_eq!(ClientAddress::from_parts(&parts, 2).0, "1.1.1.1");
        assert_eq!(ClientAddress::from_parts(&parts, 0).0, "unknown");
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64_prefix() {
        let parts = parts(&["2001:db8:1:2:aaaa::1"]);
        assert_eq!(ClientAddress::from_parts(&parts, 1).0, "2001:db8:1:2::/64");
        let mapped = parts_v4_mapped();
        assert_eq!(ClientAddress::from_parts(&mapped, 1).0, "192.0.2.1");
    }

    fn parts_v4_mapped() -> Parts {
        parts(&["::ffff:192.0.2.1"])
    }

    #[test]
    fn blocks_double_up_to_the_window() {
        let throttle = Throttle::new(ThrottleSettings::default());
        assert_eq!(throttle.block_for(0), Duration::from_secs(60));
        assert_eq!(throttle.block_for(1), Duration::from_secs(120));
        assert_eq!(throttle.block_for(10), Duration::from_secs(900));
        assert_eq!(throttle.block_for(40), Duration::from_secs(900));
    }
}
