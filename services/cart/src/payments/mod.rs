//! Payments behind one trait, so the saga never knows which provider it talks to. Authorizing,
//! voiding and capturing are idempotent by order id, refunding by refund id: the recovery loop
//! may repeat any of them after a crash without charging, or giving back, twice.

pub mod sandbox;

use futures::future::BoxFuture;

use crate::ids::OrderId;
use crate::money::Money;
pub use sandbox::SandboxProvider;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub order: OrderId,
    pub amount: Money,
    /// What the shopper's browser got from the provider's client SDK (a token, never a card
    /// number in production; the sandbox accepts its test card numbers here).
    pub payment_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// A definite no from the issuer: compensate, and tell the shopper why.
    #[error("payment declined: {0}")]
    Declined(String),
    /// The provider failed or did not answer: the outcome may be unknown, so compensate by voiding.
    #[error("payment provider failed: {0}")]
    Failed(String),
    /// The shopper still has to act (e.g. 3-D Secure); asking again later gives the news. An
    /// order waiting too long expires.
    #[error("payment requires the shopper's action: {0}")]
    ActionRequired(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// Our refund's id: the provider refunds once per id.
    pub refund: uuid::Uuid,
    pub order: OrderId,
    pub amount: Money,
}

pub trait PaymentProvider: Send + Sync {
    /// Places a hold of `amount` for the order; repeating it for the same order returns the
    /// first outcome.
    fn authorize<'a>(
        &'a self,
        request: &'a AuthorizeRequest,
    ) -> BoxFuture<'a, Result<Authorization, PaymentError>>;

    /// Releases any hold for the order; fine for an order never authorized, and it stops a
    /// late authorization of that order from succeeding.
    fn void<'a>(&'a self, order: &'a OrderId) -> BoxFuture<'a, Result<(), PaymentError>>;

    /// Takes `amount` (at most what was authorized) of the order's authorization; repeating it
    /// is a no-op. `Declined` when there is no authorization to capture.
    fn capture<'a>(
        &'a self,
        order: &'a OrderId,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;

    /// Gives back part or all of what was captured; repeating a refund id is a no-op.
    /// `Declined` when the refunds would exceed the capture.
    fn refund<'a>(&'a self, request: &'a RefundRequest) -> BoxFuture<'a, Result<(), PaymentError>>;
}
