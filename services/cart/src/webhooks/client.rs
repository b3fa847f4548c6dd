//! The HTTP client deliveries go out on, and the target checks. A host name is resolved by
//! [`GuardedResolver`], which refuses the whole name when any of its addresses is internal and
//! hands the checked addresses to the connector itself: there is no second lookup between the
//! check and the connection, so a rebinding DNS answer cannot slip an internal address in.
//! Redirects are not followed (a redirect would be a way around the check), environment proxies
//! are ignored, every attempt has a timeout, and at most [`BODY_EXCERPT`] bytes of an answer are
//! read.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;

use super::address::{self, Refusal};

/// How much of a receiver's answer is kept for the delivery log.
pub const BODY_EXCERPT: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("must be an absolute http(s) URL")]
    NotAUrl,
    #[error("must use https (plain http only where private targets are allowed)")]
    NotHttps,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("{host} resolves to {}, which webhooks may not reach", .why.describe())]
    Internal { host: String, why: Refusal },
    #[error("{0} does not resolve")]
    Unresolvable(String),
}

/// Checks a URL's form (and, for an IP literal, its address). Host names are checked by
/// [`resolve_checked`] at registration and by the resolver at every delivery.
pub fn check_form(url: &str, allow_private: bool) -> Result<reqwest::Url, TargetError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| TargetError::NotAUrl)?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(TargetError::NotHttps),
        _ => return Err(TargetError::NotAUrl),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetError::Credentials);
    }
    let host = parsed.host_str().ok_or(TargetError::NotAUrl)?;
    if let Some(ip) = literal_ip(host) {
        check_ip(host, ip, allow_private)?;
    }
    Ok(parsed)
}

fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn check_ip(host: &str, ip: IpAddr, allow_private: bool) -> Result<(), TargetError> {
    match address::classify(ip) {
        Some(why) if !allow_private => Err(TargetError::Internal {
            host: host.to_owned(),
            why,
        }),
        _ => Ok(()),
    }
}

/// Resolves a host name and checks every address it has.
pub async fn resolve_checked(
    host: &str,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, TargetError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|_| TargetError::Unresolvable(host.to_owned()))?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable(host.to_owned()));
    }
    for addr in &addrs {
        check_ip(host, addr.ip(), allow_private)?;
    }
    Ok(addrs)
}

/// The full registration check: the form, then every address the host resolves to now.
pub async fn check_target(url: &str, allow_private: bool) -> Result<(), TargetError> {
    let parsed = check_form(url, allow_private)?;
    let host = parsed.host_str().ok_or(TargetError::NotAUrl)?;
    if literal_ip(host).is_none() {
        resolve_checked(host, allow_private).await?;
    }
    Ok(())
}

/// Resolves for reqwest, refusing internal addresses.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_checked(&host, allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The client every delivery uses.
pub fn http_client(timeout: Duration, allow_private: bool) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(Policy::none())
        .no_proxy()
        .user_agent("Storefront-Webhooks/1")
        .dns_resolver(GuardedResolver { allow_private })
        .build()
        .map_err(|e| e.to_string())
}

/// Reads at most `limit` bytes of an answer's body.
pub async fn read_excerpt(mut response: reqwest::Response, limit: usize) -> String {
    let mut kept = Vec::new();
    while kept.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// An error and its causes on one line (reqwest hides the resolver's reason in a source).
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_lookup() {
        assert_eq!(
            check_form("ftp://example.com/x", true),
            Err(TargetError::NotAUrl)
        );
        assert_eq!(check_form("not a url", true), Err(TargetError::NotAUrl));
        assert_eq!(
            check_form("http://example.com/hook", false),
            Err(TargetError::NotHttps)
        );
        assert!(check_form("http://example.com/hook", true).is_ok());
        assert_eq!(
            check_form("https://user:pw@example.com/", false),
            Err(TargetError::Credentials)
        );
        assert!(matches!(
            check_form("https://127.0.0.1:8443/", false),
            Err(TargetError::Internal {
                why: Refusal::Loopback,
                ..
            })
        ));
        assert!(matches!(
            check_form("https://[::ffff:169.254.169.254]/", false),
            Err(TargetError::Internal {
                why: Refusal::LinkLocal,
                ..
            })
        ));
        assert!(check_form("https://127.0.0.1:8443/", true).is_ok());
        assert!(check_form("https://93.184.216.34/hook", false).is_ok());
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        assert!(matches!(
            check_target("https://localhost:9/hook", false).await,
            Err(TargetError::Internal {
                why: Refusal::Loopback,
                ..
            })
        ));
        assert!(check_target("https://localhost:9/hook", true).await.is_ok());
    }

    #[tokio::test]
    async fn the_client_refuses_to_connect_to_a_name_that_resolves_internally() {
        storefront_kit::install_crypto_provider();
        let client = http_client(Duration::from_secs(2), false).unwrap();
        let error = client
            .get("https://localhost:9/hook")
            .send()
            .await
            .unwrap_err();
        assert!(
            describe(&error).contains("loopback"),
            "{}",
            describe(&error)
        );
    }
}
