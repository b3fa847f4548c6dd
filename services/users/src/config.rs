//! The service's configuration: every `USERS_*` variable, read once at start into [`Config`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lettre::message::Mailbox;
use storefront_kit::{ConfigError, Env, ServerConfig};

/// Access tokens live at most this long (the bound: 15 minutes).
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(900);

/// Everything the users service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    /// `USERS_DATABASE_URL` (required).
    pub database_url: String,
    /// `USERS_DATABASE_MAX_CONNECTIONS` (default 10).
    pub database_max_connections: u32,
    pub tokens: TokenSettings,
    pub throttle: ThrottleSettings,
    /// `USERS_TRUSTED_PROXY_HOPS` (default 1): how many proxies in front of the service append to
    /// `X-Forwarded-For`; the client address is the entry that many places from the right.
    pub trusted_proxy_hops: usize,
    /// `USERS_PASSWORD_HASH_CONCURRENCY` (default 4): argon2 hashes computed at once; more wait.
    pub password_hash_concurrency: usize,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    pub recovery: RecoverySettings,
    pub mail: MailSettings,
}

/// Email verification and password reset links.
#[derive(Debug, Clone)]
pub struct RecoverySettings {
    /// `USERS_PASSWORD_RESET_TTL_SECONDS` (default 1800): how long a reset link works.
    pub password_reset_ttl: Duration,
    /// `USERS_EMAIL_VERIFICATION_TTL_SECONDS` (default 48 h): how long a verification link works.
    pub email_verification_ttl: Duration,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            password_reset_ttl: Duration::from_secs(1800),
            email_verification_ttl: Duration::from_secs(48 * 3600),
        }
    }
}

/// How mail leaves the service.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// `USERS_MAIL_FROM` (default `Storefront <no-reply@storefront.local>`).
    pub from: Mailbox,
    /// `USERS_PUBLIC_URL` (default `http://127.0.0.1:8080`): the store's base URL, without a
    /// trailing slash; links in mails point there.
    pub public_url: String,
    /// `USERS_MAIL_SEND_TIMEOUT_SECONDS` (default 10): the longest one delivery may take.
    pub send_timeout: Duration,
    /// `USERS_MAIL_INTERVAL_MS` (default 1000): how often the dispatcher looks for due mail when
    /// nothing woke it (mail queued by this process wakes it at once).
    pub interval: Duration,
    /// `USERS_MAIL_MAX_ATTEMPTS` (default 8): attempts before a mail is given up as failed.
    pub max_attempts: i32,
    /// `USERS_MAIL_BACKOFF_SECONDS` (default 30): the first retry comes after about this long,
    /// each further one after twice as long as the one before.
    pub backoff: Duration,
    /// `USERS_MAIL_BACKOFF_MAX_SECONDS` (default 3600): the longest wait between two attempts.
    pub backoff_max: Duration,
    /// `USERS_MAIL_RETENTION_SECONDS` (default 7 days): how long sent and failed mails are kept.
    pub retention: Duration,
}

/// Where mails go.
#[derive(Clone)]
pub enum MailTransport {
    /// `USERS_SMTP_URL`: `smtp://host:port` (plain), `smtp://host?tls=required` (STARTTLS),
    /// `smtps://user:password@host` (TLS from the start).
    Smtp(String),
    /// `USERS_MAIL_DIR` (default `./data/mail`) when `USERS_SMTP_URL` is unset: one `.eml` file
    /// per mail, for the one-machine stack.
    Directory(PathBuf),
}

impl fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The URL may carry the SMTP password.
            Self::Smtp(_) => f.write_str("Smtp(<redacted>)"),
            Self::Directory(dir) => f.debug_tuple("Directory").field(dir).finish(),
        }
    }
}

/// How tokens are issued.
#[derive(Clone)]
pub struct TokenSettings {
    /// `USERS_JWT_ISSUER` (default `storefront-users`).
    pub issuer: String,
    /// `USERS_JWT_AUDIENCE` (default `storefront`).
    pub audience: String,
    /// `USERS_ACCESS_TOKEN_TTL_SECONDS` (default 900, at most 900).
    pub access_ttl: Duration,
    /// `USERS_REFRESH_TOKEN_TTL_SECONDS` (default 14 days): absolute lifetime of a login session.
    pub refresh_ttl: Duration,
    /// `USERS_SIGNING_KEY_ROTATION_SECONDS` (default 7 days): how long one key signs.
    pub key_rotation: Duration,
    /// `USERS_SIGNING_KEY_ENCRYPTION_KEY`: base64 of 32 bytes; private signing keys are stored
    /// encrypted with it (AES-256-GCM). Unset: stored unencrypted, with a warning at start.
    pub key_encryption_key: Option<KeyEncryptionKey>,
}

impl fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSettings")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("key_rotation", &self.key_rotation)
            .field("key_encryption_key", &self.key_encryption_key.is_some())
            .finish()
    }
}

impl TokenSettings {
    /// Defaults suitable for tests and development (no key encryption).
    pub fn new(issuer: &str, audience: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl: MAX_ACCESS_TOKEN_TTL,
            refresh_ttl: Duration::from_secs(14 * 24 * 3600),
            key_rotation: Duration::from_secs(7 * 24 * 3600),
            key_encryption_key: None,
        }
    }
}

/// Limits on failed logins, each counted over `window`.
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    /// `USERS_LOGIN_WINDOW_SECONDS` (default 900).
    pub window: Duration,
    /// `USERS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT` (default 5): one client guessing one account.
    pub per_account_and_client: u32,
    /// `USERS_LOGIN_MAX_FAILURES_PER_CLIENT` (default 50): one client guessing many accounts.
    pub per_client: u32,
    /// `USERS_LOGIN_MAX_FAILURES_PER_ACCOUNT` (default 20): many clients guessing one account.
    /// Clients that signed in to the account before are exempt, so this cannot lock its owner out.
    pub per_account: u32,
    /// `USERS_LOGIN_LOCKOUT_SECONDS` (default 60): first block; doubles with each further
    /// failure, up to `window`.
    pub lockout: Duration,
    /// `USERS_MAIL_LIMIT_WINDOW_SECONDS` (default 3600): the window recovery mails are counted in.
    pub mail_window: Duration,
    /// `USERS_MAIL_LIMIT_PER_EMAIL` (default 5): reset and verification requests for one address.
    pub mails_per_email: u32,
    /// `USERS_MAIL_LIMIT_PER_CLIENT` (default 20): reset and verification requests from one client.
    pub mails_per_client: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(900),
            per_account_and_client: 5,
            per_client: 50,
            per_account: 20,
            lockout: Duration::from_secs(60),
            mail_window: Duration::from_secs(3600),
            mails_per_email: 5,
            mails_per_client: 20,
        }
    }
}

/// The first administrator, created (or promoted) at start.
#[derive(Clone)]
pub struct BootstrapAdmin {
    /// `USERS_BOOTSTRAP_ADMIN_EMAIL`.
    pub email: String,
    /// `USERS_BOOTSTRAP_ADMIN_PASSWORD`: used only when the account does not exist yet.
    pub password: String,
}

impl fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapAdmin")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A 256-bit key that encrypts private signing keys at rest.
#[derive(Clone)]
pub struct KeyEncryptionKey(pub [u8; 32]);

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey(<redacted>)")
    }
}

impl FromStr for KeyEncryptionKey {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bytes = STANDARD
            .decode(value.trim())
            .map_err(|_| "must be base64 (e.g. `openssl rand -base64 32`)".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must decode to exactly 32 bytes".to_owned())?;
        Ok(Self(key))
    }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let invalid = |name: &str, reason: &str| ConfigError::Invalid {
            var: env.var_name(name),
            reason: reason.to_owned(),
        };

        let access_ttl = env.seconds("ACCESS_TOKEN_TTL_SECONDS", MAX_ACCESS_TOKEN_TTL)?;
        if access_ttl > MAX_ACCESS_TOKEN_TTL || access_ttl < Duration::from_secs(30) {
            return Err(invalid(
                "ACCESS_TOKEN_TTL_SECONDS",
                "must be between 30 and 900 seconds",
            ));
        }
        let refresh_ttl = env.seconds(
            "REFRESH_TOKEN_TTL_SECONDS",
            Duration::from_secs(14 * 24 * 3600),
        )?;
        if refresh_ttl <= access_ttl {
            return Err(invalid(
                "REFRESH_TOKEN_TTL_SECONDS",
                "must be longer than the access-token lifetime",
            ));
        }
        let key_rotation = env.seconds(
            "SIGNING_KEY_ROTATION_SECONDS",
            Duration::from_secs(7 * 24 * 3600),
        )?;
        if key_rotation < Duration::from_secs(3600) {
            return Err(invalid(
                "SIGNING_KEY_ROTATION_SECONDS",
                "must be at least 3600 seconds",
            ));
        }
        let tokens = TokenSettings {
            issuer: env.optional("JWT_ISSUER", "storefront-users".to_owned())?,
            audience: env.optional("JWT_AUDIENCE", "storefront".to_owned())?,
            access_ttl,
            refresh_ttl,
            key_rotation,
            key_encryption_key: env.maybe("SIGNING_KEY_ENCRYPTION_KEY")?,
        };

        let defaults = ThrottleSettings::default();
        let window = env.seconds("LOGIN_WINDOW_SECONDS", defaults.window)?;
        let throttle = ThrottleSettings {
            window,
            per_account_and_client: env.optional(
                "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT",
                defaults.per_account_and_client,
            )?,
            per_client: env.optional("LOGIN_MAX_FAILURES_PER_CLIENT", defaults.per_client)?,
            per_account: env.optional("LOGIN_MAX_FAILURES_PER_ACCOUNT", defaults.per_account)?,
            lockout: env.seconds("LOGIN_LOCKOUT_SECONDS", defaults.lockout)?,
            mail_window: env.seconds("MAIL_LIMIT_WINDOW_SECONDS", defaults.mail_window)?,
            mails_per_email: env.optional("MAIL_LIMIT_PER_EMAIL", defaults.mails_per_email)?,
            mails_per_client: env.optional("MAIL_LIMIT_PER_CLIENT", defaults.mails_per_client)?,
        };
        if throttle.per_account_and_client == 0
            || throttle.per_client == 0
            || throttle.per_account == 0
        {
            return Err(invalid("LOGIN_MAX_FAILURES_*", "must be at least 1"));
        }
        if throttle.mails_per_email == 0 || throttle.mails_per_client == 0 {
            return Err(invalid("MAIL_LIMIT_PER_*", "must be at least 1"));
        }
        if throttle.mail_window.is_zero() {
            return Err(invalid("MAIL_LIMIT_WINDOW_SECONDS", "must be at least 1"));
        }

        let recovery_defaults = RecoverySettings::default();
        let recovery = RecoverySettings {
            password_reset_ttl: env.seconds(
                "PASSWORD_RESET_TTL_SECONDS",
                recovery_defaults.password_reset_ttl,
            )?,
            email_verification_ttl: env.seconds(
                "EMAIL_VERIFICATION_TTL_SECONDS",
                recovery_defaults.email_verification_ttl,
            )?,
        };
        if recovery.password_reset_ttl.is_zero() {
            return Err(invalid("PASSWORD_RESET_TTL_SECONDS", "must be at least 1"));
        }
        if recovery.email_verification_ttl.is_zero() {
            return Err(invalid(
                "EMAIL_VERIFICATION_TTL_SECONDS",
                "must be at least 1",
            ));
        }
        let mail = mail_settings(env)?;

        let email: Option<String> = env.maybe("BOOTSTRAP_ADMIN_EMAIL")?;
        let password: Option<String> = env.maybe("BOOTSTRAP_ADMIN_PASSWORD")?;
        let bootstrap_admin = match (email, password) {
            (Some(email), Some(password)) => Some(BootstrapAdmin { email, password }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Missing(
                    env.var_name("BOOTSTRAP_ADMIN_PASSWORD"),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing(env.var_name("BOOTSTRAP_ADMIN_EMAIL")));
            }
        };

        let password_hash_concurrency: usize = env.optional("PASSWORD_HASH_CONCURRENCY", 4)?;
        if password_hash_concurrency == 0 {
            return Err(invalid("PASSWORD_HASH_CONCURRENCY", "must be at least 1"));
        }

        Ok(Self {
            server: ServerConfig::from_env(env)?,
            database_url: env.required("DATABASE_URL")?,
            database_max_connections: env.optional("DATABASE_MAX_CONNECTIONS", 10)?,
            tokens,
            throttle,
            trusted_proxy_hops: env.optional("TRUSTED_PROXY_HOPS", 1)?,
            password_hash_concurrency,
            bootstrap_admin,
            recovery,
            mail,
        })
    }
}

fn mail_settings(env: &Env) -> Result<MailSettings, ConfigError> {
    let invalid = |name: &str, reason: &str| ConfigError::Invalid {
        var: env.var_name(name),
        reason: reason.to_owned(),
    };
    let transport = match env.maybe::<String>("SMTP_URL")? {
        Some(url) => {
            let url = url.trim().to_owned();
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(invalid(
                    "SMTP_URL",
                    "must start with smtp:// or smtps:// (e.g. smtp://127.0.0.1:2525)",
                ));
            }
            MailTransport::Smtp(url)
        }
        None => MailTransport::Directory(env.optional("MAIL_DIR", PathBuf::from("./data/mail"))?),
    };
    let from = match env.maybe::<String>("MAIL_FROM")? {
        Some(from) => from.trim().parse::<Mailbox>().map_err(|_| {
            invalid(
                "MAIL_FROM",
                "must be an address, optionally with a name: `Storefront <no-reply@shop.example>`",
            )
        })?,
        None => Mailbox::new(
            Some("Storefront".to_owned()),
            "no-reply@storefront.local"
                .parse()
                .map_err(|_| invalid("MAIL_FROM", "the default address does not parse"))?,
        ),
    };
    let public_url: String = env.optional("PUBLIC_URL", "http://127.0.0.1:8080".to_owned())?;
    let public_url = public_url.trim().trim_end_matches('/').to_owned();
    let host = public_url
        .strip_prefix("https://")
        .or_else(|| public_url.strip_prefix("http://"));
    if host.is_none_or(|host| host.is_empty() || host.contains(['?', '#', ' '])) {
        return Err(invalid(
            "PUBLIC_URL",
            "must be the store's http(s) base URL, e.g. https://shop.example",
        ));
    }
    let send_timeout = env.seconds("MAIL_SEND_TIMEOUT_SECONDS", Duration::from_secs(10))?;
    if send_timeout.is_zero() {
        return Err(invalid("MAIL_SEND_TIMEOUT_SECONDS", "must be at least 1"));
    }
    let interval = env
        .maybe::<u64>("MAIL_INTERVAL_MS")?
        .map_or(Duration::from_secs(1), Duration::from_millis);
    if interval.is_zero() {
        return Err(invalid("MAIL_INTERVAL_MS", "must be at least 1"));
    }
    let max_attempts: i32 = env.optional("MAIL_MAX_ATTEMPTS", 8)?;
    if !(1..=100).contains(&max_attempts) {
        return Err(invalid("MAIL_MAX_ATTEMPTS", "must be between 1 and 100"));
    }
    let backoff = env.seconds("MAIL_BACKOFF_SECONDS", Duration::from_secs(30))?;
    if backoff.is_zero() {
        return Err(invalid("MAIL_BACKOFF_SECONDS", "must be at least 1"));
    }
    let backoff_max = env.seconds("MAIL_BACKOFF_MAX_SECONDS", Duration::from_secs(3600))?;
    if backoff_max < backoff {
        return Err(invalid(
            "MAIL_BACKOFF_MAX_SECONDS",
            "must be at least USERS_MAIL_BACKOFF_SECONDS",
        ));
    }
    let retention = env.seconds("MAIL_RETENTION_SECONDS", Duration::from_secs(7 * 24 * 3600))?;
    if retention.is_zero() {
        return Err(invalid("MAIL_RETENTION_SECONDS", "must be at least 1"));
    }
    Ok(MailSettings {
        transport,
        from,
        public_url,
        send_timeout,
        interval,
        max_attempts,
        backoff,
        backoff_max,
        retention,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        let mut all = vec![("USERS_DATABASE_URL", "postgres://x/users")];
        all.extend_from_slice(vars);
        Env::from_map("USERS", all)
    }

    #[test]
    fn defaults_are_safe() {
        let config = Config::from_env(&env(&[])).unwrap();
        assert_eq!(config.tokens.access_ttl, MAX_ACCESS_TOKEN_TTL);
        assert_eq!(config.tokens.issuer, "storefront-users");
        assert_eq!(config.tokens.audience, "storefront");
        assert!(config.bootstrap_admin.is_none());
        assert_eq!(config.trusted_proxy_hops, 1);
        assert_eq!(
            config.recovery.password_reset_ttl,
            Duration::from_secs(1800)
        );
        assert_eq!(
            config.recovery.email_verification_ttl,
            Duration::from_secs(48 * 3600)
        );
        assert!(
            matches!(&config.mail.transport, MailTransport::Directory(dir) if dir.ends_with("data/mail"))
        );
        assert_eq!(
            config.mail.from.to_string(),
            "Storefront <no-reply@storefront.local>"
        );
        assert_eq!(config.mail.public_url, "http://127.0.0.1:8080");
        assert_eq!(config.mail.interval, Duration::from_secs(1));
        assert_eq!(config.mail.max_attempts, 8);
        assert_eq!(config.mail.backoff, Duration::from_secs(30));
        assert_eq!(config.mail.backoff_max, Duration::from_secs(3600));
        assert_eq!(config.mail.retention, Duration::from_secs(7 * 24 * 3600));
    }

    #[test]
    fn mail_settings_are_checked_and_the_smtp_password_is_not_echoed() {
        let config = Config::from_env(&env(&[
            ("USERS_SMTP_URL", "smtps://mailer:s3cret-pw@mail.example"),
            ("USERS_MAIL_FROM", "Shop <shop@shop.example>"),
            ("USERS_PUBLIC_URL", "https://shop.example/"),
        ]))
        .unwrap();
        assert!(matches!(config.mail.transport, MailTransport::Smtp(_)));
        assert_eq!(config.mail.public_url, "https://shop.example");
        assert!(!format!("{config:?}").contains("s3cret-pw"));

        for (var, value) in [
            ("USERS_SMTP_URL", "http://mail.example"),
            ("USERS_MAIL_FROM", "not an address"),
            ("USERS_PUBLIC_URL", "shop.example"),
            ("USERS_PASSWORD_RESET_TTL_SECONDS", "0"),
            ("USERS_MAIL_INTERVAL_MS", "0"),
            ("USERS_MAIL_MAX_ATTEMPTS", "0"),
            ("USERS_MAIL_BACKOFF_SECONDS", "0"),
            ("USERS_MAIL_BACKOFF_MAX_SECONDS", "5"),
            ("USERS_MAIL_RETENTION_SECONDS", "0"),
        ] {
            let error = Config::from_env(&env(&[(var, value)])).unwrap_err();
            assert!(error.to_string().starts_with(var), "{var}: {error}");
        }
    }

    #[test]
    fn database_url_is_required() {
        let error =
            Config::from_env(&Env::from_map("USERS", Vec::<(String, String)>::new())).unwrap_err();
        assert_eq!(error.to_string(), "USERS_DATABASE_URL is not set");
    }

    #[test]
    fn access_tokens_cannot_outlive_fifteen_minutes() {
        let error =
            Config::from_env(&env(&[("USERS_ACCESS_TOKEN_TTL_SECONDS", "3600")])).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("USERS_ACCESS_TOKEN_TTL_SECONDS is not valid"),
            "{error}"
        );
    }

    #[test]
    fn bootstrap_admin_needs_both_variables_and_never_prints_the_password() {
        let error =
            Config::from_env(&env(&[("USERS_BOOTSTRAP_ADMIN_EMAIL", "a@b.example")])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "USERS_BOOTSTRAP_ADMIN_PASSWORD is not set"
        );
        let config = Config::from_env(&env(&[
            ("USERS_BOOTSTRAP_ADMIN_EMAIL", "a@b.example"),
            ("USERS_BOOTSTRAP_ADMIN_PASSWORD", "hunter2-hunter2"),
        ]))
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn key_encryption_key_must_be_32_bytes_of_base64_and_is_not_echoed() {
        let error = Config::from_env(&env(&[("USERS_SIGNING_KEY_ENCRYPTION_KEY", "c2hvcnQ=")]))
            .unwrap_err();
        assert!(error.to_string().contains("32 bytes"), "{error}");
        let key = STANDARD.encode([7u8; 32]);
        let config = Config::from_env(&env(&[("USERS_SIGNING_KEY_ENCRYPTION_KEY", &key)])).unwrap();
        assert!(config.tokens.key_encryption_key.is_some());
        assert!(!format!("{config:?}").contains(&key));
    }
}
