//! Typed configuration from environment variables. Each service declares one struct and reads it
//! through an [`Env`] with the service's prefix; a missing or bad variable is one clear line.

use std::collections::HashMap;
use std::fmt::Display;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// A variable that is missing or does not parse. Never carries the variable's value (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(String),
    #[error("{var} is not valid: {reason}")]
    Invalid { var: String, reason: String },
}

/// Reads `<PREFIX>_<NAME>` variables, from the process environment or (in tests) from a map.
#[derive(Debug, Clone)]
pub struct Env {
    prefix: String,
    overrides: Option<HashMap<String, String>>,
}

impl Env {
    /// Variables of this process, named `<prefix>_<NAME>`.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            overrides: None,
        }
    }

    /// Variables from `vars` only (full names), for tests.
    pub fn from_map<K: Into<String>, V: Into<String>>(
        prefix: &str,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            prefix: prefix.to_owned(),
            overrides: Some(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The full name of a variable: `name` with the prefix.
    pub fn var_name(&self, name: &str) -> String {
        format!("{}_{}", self.prefix, name)
    }

    fn raw(&self, var: &str) -> Option<String> {
        let value = match &self.overrides {
            Some(map) => map.get(var).cloned(),
            None => std::env::var(var).ok(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// A variable that must be set.
    pub fn required<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let var = self.var_name(name);
        match self.raw(&var) {
            Some(value) => parse(&var, &value),
            None => Err(ConfigError::Missing(var)),
        }
    }

    /// A variable with a default when unset.
    pub fn optional<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.maybe(name)?.unwrap_or(default))
    }

    /// A variable that may be absent.
    pub fn maybe<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let var = self.var_name(name);
        self.raw(&var).map(|value| parse(&var, &value)).transpose()
    }

    /// A duration given in whole seconds.
    pub fn seconds(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        Ok(self
            .maybe::<u64>(name)?
            .map(Duration::from_secs)
            .unwrap_or(default))
    }
}

fn parse<T>(var: &str, value: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            var: var.to_owned(),
            reason: e.to_string(),
        })
}

/// What every service's HTTP server needs: `<PREFIX>_LISTEN_ADDR`, `<PREFIX>_BODY_LIMIT_BYTES`,
/// `<PREFIX>_REQUEST_TIMEOUT_SECONDS`, `<PREFIX>_SHUTDOWN_GRACE_SECONDS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub listen_addr: SocketAddr,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl ServerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            listen_addr: env.optional("LISTEN_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            body_limit_bytes: env.optional("BODY_LIMIT_BYTES", 1024 * 1024)?,
            request_timeout: env.seconds("REQUEST_TIMEOUT_SECONDS", Duration::from_secs(30))?,
            shutdown_grace: env.seconds("SHUTDOWN_GRACE_SECONDS", Duration::from_secs(20))?,
        })
    }
}

/// Loads a service's config or stops the process with one line naming the bad variable.
pub fn load_or_exit<T>(load: impl FnOnce() -> Result<T, ConfigError>) -> T {
    match load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_variable_is_read_with_the_prefix() {
        let env = Env::from_map("CATALOG", [("CATALOG_MONGODB_URL", "mongodb://x")]);
        let url: String = env.required("MONGODB_URL").unwrap();
        assert_eq!(url, "mongodb://x");
    }

    #[test]
    fn missing_variable_names_the_full_variable() {
        let env = Env::from_map("CATALOG", Vec::<(String, String)>::new());
        let error = env.required::<String>("MONGODB_URL").unwrap_err();
        assert_eq!(error.to_string(), "CATALOG_MONGODB_URL is not set");
    }

    #[test]
    fn blank_variable_counts_as_missing() {
        let env = Env::from_map("CART", [("CART_REDIS_URL", "  ")]);
        assert_eq!(
            env.required::<String>("REDIS_URL").unwrap_err(),
            ConfigError::Missing("CART_REDIS_URL".into())
        );
    }

    #[test]
    fn bad_value_is_reported_without_echoing_it() {
        let env = Env::from_map("USERS", [("USERS_LISTEN_ADDR", "s3cret-not-an-addr")]);
        let error = ServerConfig::from_env(&env).unwrap_err().to_string();
        assert!(
            error.starts_with("USERS_LISTEN_ADDR is not valid: "),
            "{error}"
        );
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn server_config_has_safe_defaults() {
        let config =
            ServerConfig::from_env(&Env::from_map("X", [("X_BODY_LIMIT_BYTES", "2048")])).unwrap();
        assert_eq!(config.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.body_limit_bytes, 2048);
        assert_eq!(config.request_timeout, Duration::from_secs(30));
    }
}
