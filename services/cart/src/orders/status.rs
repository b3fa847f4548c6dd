//! The order's life: the saga takes it from PENDING to CONFIRMED or FAILED; after that only an
//! admin moves it, CONFIRMED → SHIPPED or CANCELLED. Every other move is refused.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Failed,
    Shipped,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Failed => "FAILED",
            Self::Shipped => "SHIPPED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "PENDING" => Self::Pending,
            "CONFIRMED" => Self::Confirmed,
            "FAILED" => Self::Failed,
            "SHIPPED" => Self::Shipped,
            "CANCELLED" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Whether an order may move from `self` to `next`.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed)
                | (Pending, Failed)
                | (Confirmed, Shipped)
                | (Confirmed, Cancelled)
        )
    }

    /// Statuses an admin may set by hand (the saga sets the others).
    pub fn settable_by_admin(self) -> bool {
        matches!(self, Self::Shipped | Self::Cancelled)
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
        let all = [Pending, Confirmed, Failed, Shipped, Cancelled];
        let allowed: Vec<(OrderStatus, OrderStatus)> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, Confirmed),
                (Pending, Failed),
                (Confirmed, Shipped),
                (Confirmed, Cancelled)
            ]
        );
        for status in all {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert!(Shipped.settable_by_admin() && !Confirmed.settable_by_admin());
    }
}
