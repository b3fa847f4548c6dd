//! The order's life, enforced here and nowhere else (the cart README draws it):
//!
//! | from      | to        | who                       | what happens                                    |
//! |-----------|-----------|---------------------------|-------------------------------------------------|
//! | PENDING   | CONFIRMED | the checkout saga         | stock committed, payment authorized             |
//! | PENDING   | FAILED    | the checkout saga         | authorization voided, stock released            |
//! | PENDING   | EXPIRED   | the expiry pass           | payment not authorized in time: void, release   |
//! | CONFIRMED | SHIPPED   | an admin                  | the authorized payment is captured              |
//! | CONFIRMED | CANCELLED | an admin, or the shopper  | authorization voided, stock returned            |
//! | SHIPPED   | REFUNDED  | an admin's refunds        | refunds reach the captured amount               |
//!
//! Partial refunds leave a SHIPPED order SHIPPED. FAILED, EXPIRED, CANCELLED and REFUNDED are
//! final.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Failed,
    Expired,
    Shipped,
    Cancelled,
    Refunded,
}

/// Who moves an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    Saga,
    Expiry,
    Admin,
    /// The shopper who placed the order.
    Owner,
    Refunds,
}

/// Every allowed move and who may make it.
const TRANSITIONS: &[(OrderStatus, OrderStatus, &[Actor])] = {
    use Actor::*;
    use OrderStatus::*;
    &[
        (Pending, Confirmed, &[Saga]),
        (Pending, Failed, &[Saga]),
        (Pending, Expired, &[Expiry]),
        (Confirmed, Shipped, &[Admin]),
        (Confirmed, Cancelled, &[Admin, Owner]),
        (Shipped, Refunded, &[Refunds]),
    ]
};

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        Self::Pending,
        Self::Confirmed,
        Self::Failed,
        Self::Expired,
        Self::Shipped,
        Self::Cancelled,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Failed => "FAILED",
            Self::Expired => "EXPIRED",
            Self::Shipped => "SHIPPED",
            Self::Cancelled => "CANCELLED",
            Self::Refunded => "REFUNDED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether an order may move from `self` to `next` at all.
    pub fn can_become(self, next: OrderStatus) -> bool {
        TRANSITIONS
            .iter()
            .any(|(from, to, _)| *from == self && *to == next)
    }

    /// Whether `actor` may move an order from `self` to `next`.
    pub fn allows(self, next: OrderStatus, actor: Actor) -> bool {
        TRANSITIONS
            .iter()
            .any(|(from, to, who)| *from == self && *to == next && who.contains(&actor))
    }

    /// Statuses an admin may set by hand (the saga, the expiry pass and refunds set the others).
    pub fn settable_by_admin(self) -> bool {
        Self::ALL.iter().any(|from| from.allows(self, Actor::Admin))
    }

    /// No move leads out of it.
    pub fn is_final(self) -> bool {
        !Self::ALL.iter().any(|next| self.can_become(*next))
    }
}

/// The saga's progress: the last step known to have completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SagaStep {
    /// The order row exists; stock may or may not be reserved yet.
    Created,
    /// Stock is reserved; payment may or may not be authorized yet.
    Reserved,
    /// Payment is authorized; the reservation may or may not be committed yet.
    Authorized,
    /// The order is failing: void the payment and release the stock, then FAILED.
    Compensating,
    /// The saga is over (CONFIRMED or FAILED).
    Done,
}

impl SagaStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Reserved => "reserved",
            Self::Authorized => "authorized",
            Self::Compensating => "compensating",
            Self::Done => "done",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "created" => Self::Created,
            "reserved" => Self::Reserved,
            "authorized" => Self::Authorized,
            "compensating" => Self::Compensating,
            "done" => Self::Done,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn only_the_documented_moves_are_allowed() {
        let allowed: Vec<(OrderStatus, OrderStatus)> = OrderStatus::ALL
            .iter()
            .flat_map(|a| OrderStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, Confirmed),
                (Pending, Failed),
                (Pending, Expired),
                (Confirmed, Shipped),
                (Confirmed, Cancelled),
                (Shipped, Refunded),
            ]
        );
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert!(Shipped.settable_by_admin() && Cancelled.settable_by_admin());
        assert!(!Confirmed.settable_by_admin() && !Refunded.settable_by_admin());
        assert!(!Expired.settable_by_admin());
    }

    #[test]
    fn each_move_has_its_actors() {
        assert!(Confirmed.allows(Cancelled, Actor::Owner));
        assert!(Confirmed.allows(Cancelled, Actor::Admin));
        assert!(!Confirmed.allows(Shipped, Actor::Owner));
        assert!(!Shipped.allows(Cancelled, Actor::Admin));
        assert!(!Pending.allows(Expired, Actor::Admin));
        assert!(Pending.allows(Expired, Actor::Expiry));
        assert!(Shipped.allows(Refunded, Actor::Refunds));
        let finals: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, vec![Failed, Expired, Cancelled, Refunded]);
    }
}
