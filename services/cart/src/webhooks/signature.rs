//! Signing deliveries: `Storefront-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the
//! MAC is keyed with the endpoint's secret over `"<t>.<raw body>"`. The timestamp is signed so a
//! captured delivery cannot be replayed later: a receiver recomputes the MAC over the body bytes
//! it received (before any JSON parsing), compares in constant time, and refuses a `t` older than
//! its tolerance (we suggest 5 minutes, [`TOLERANCE_SECONDS`]).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "storefront-signature";
pub const EVENT_ID_HEADER: &str = "storefront-event-id";
pub const EVENT_TYPE_HEADER: &str = "storefront-event-type";
pub const DELIVERY_ID_HEADER: &str = "storefront-delivery-id";
/// How old a signed timestamp a receiver should still accept.
pub const TOLERANCE_SECONDS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Result<HmacSha256, VerifyError> {
    // HMAC takes keys of any length; the error exists only for fixed-key MACs.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| VerifyError::Key)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> Result<String, VerifyError> {
    let digest = mac(secret, timestamp, body)?.finalize().into_bytes();
    Ok(format!("t={timestamp},v1={}", hex(&digest)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("the secret cannot key an HMAC")]
    Key,
}

/// What a receiver does, as a reference implementation (and for the tests): accepts the header
/// when one `v1` matches and `t` is within `tolerance` seconds of `now`.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.push(unhex(value).ok_or(VerifyError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if candidates.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now - timestamp).abs() > tolerance {
        return Err(VerifyError::Stale);
    }
    let expected = mac(secret, timestamp, body)?;
    let matched = candidates
        .iter()
        .any(|candidate| expected.clone().verify_slice(candidate).is_ok());
    if matched {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let body = br#"{"id":"e1","type":"order.placed"}"#;
        let header = sign("whsec_test", 1_700_000_000, body).unwrap();
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert_eq!(
            verify("whsec_test", &header, body, 1_700_000_100, 300),
            Ok(())
        );
        assert_eq!(
            verify("whsec_other", &header, body, 1_700_000_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_test", &header, b"{}", 1_700_000_100, 300),
            Err(VerifyError::Mismatch)
        );
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert_eq!(
            verify("whsec_test", &moved, body, 1_700_000_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_test", &header, body, 1_700_000_301, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify("whsec_test", "v1=zz", body, 0, 300),
            Err(VerifyError::Malformed)
        );
    }

    #[test]
    fn the_mac_is_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut rfc = HmacSha256::new_from_slice(b"Jefe").unwrap();
        rfc.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&rfc.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
