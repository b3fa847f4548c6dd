//! The sandbox provider: no money moves, outcomes are chosen by documented test cards, and its
//! ledger of authorizations lives in the `sandbox_payments` table so that it survives restarts
//! like a real provider's would (tests check that no authorization outlives a failed order).
//!
//! | card number         | outcome                                               |
//! |---------------------|-------------------------------------------------------|
//! | 4242 4242 4242 4242 | approved                                              |
//! | 4000 0000 0000 0002 | declined (`card_declined`)                            |
//! | 4000 0000 0000 0119 | provider error (processing error)                     |
//! | 4000 0000 0000 3055 | approved after a delay (`CART_SANDBOX_SLOW_MS`)       |
//! | 4000 0027 6000 3184 | requires the shopper's action, never completed: the order stays PENDING and expires |
//!
//! Spaces are ignored; any other number is declined as `unknown_test_card`.

use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::PgPool;

use super::{Authorization, AuthorizeRequest, PaymentError, PaymentProvider, RefundRequest};
use crate::ids::OrderId;
use crate::money::Money;

pub const CARD_APPROVE: &str = "4242424242424242";
pub const CARD_DECLINE: &str = "4000000000000002";
pub const CARD_ERROR: &str = "4000000000000119";
pub const CARD_SLOW: &str = "4000000000003055";
pub const CARD_ACTION_REQUIRED: &str = "4000002760003184";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Approve,
    Decline(&'static str),
    Error,
    Slow,
    ActionRequired,
}

fn behaviour(token: &str) -> Behaviour {
    let digits: String = token.chars().filter(|c| !c.is_whitespace()).collect();
    match digits.as_str() {
        CARD_APPROVE => Behaviour::Approve,
        CARD_DECLINE => Behaviour::Decline("card_declined"),
        CARD_ERROR => Behaviour::Error,
        CARD_SLOW => Behaviour::Slow,
        CARD_ACTION_REQUIRED => Behaviour::ActionRequired,
        _ => Behaviour::Decline("unknown_test_card"),
    }
}

#[derive(Debug, Clone)]
pub struct SandboxProvider {
    db: PgPool,
    slow: Duration,
}

impl SandboxProvider {
    pub fn new(db: PgPool, slow: Duration) -> Self {
        Self { db, slow }
    }

    async fn authorize_now(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<Authorization, PaymentError> {
        let outcome = behaviour(&request.payment_token);
        match outcome {
            Behaviour::Error => {
                return Err(PaymentError::Failed("sandbox processing error".into()));
            }
            Behaviour::Slow => tokio::time::sleep(self.slow).await,
            Behaviour::Approve | Behaviour::Decline(_) | Behaviour::ActionRequired => {}
        }
        let (status, decline) = match outcome {
            Behaviour::Decline(code) => ("declined", Some(code)),
            Behaviour::ActionRequired => ("requires_action", None),
            _ => ("authorized", None),
        };
        let authorization = format!("sandbox_auth_{}", request.order.as_uuid().simple());
        let last4: String = request
            .payment_token
            .chars()
            .filter(char::is_ascii_digit)
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        // The first outcome for an order stands: a repeat (or a void that came first) wins.
        sqlx::query(
            "INSERT INTO sandbox_payments (order_id, authorization_id, status, decline_code, amount, currency, card_last4)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(request.order.as_uuid())
        .bind(&authorization)
        .bind(status)
        .bind(decline)
        .bind(request.amount.amount)
        .bind(request.amount.currency.as_str())
        .bind(last4)
        .execute(&self.db)
        .await
        .map_err(|e| PaymentError::Failed(e.to_string()))?;
        let (status, decline, authorization): (String, Option<String>, String) = sqlx::query_as(
            "SELECT status, decline_code, authorization_id FROM sandbox_payments WHERE order_id = $1",
        )
        .bind(request.order.as_uuid())
        .fetch_one(&self.db)
        .await
        .map_err(|e| PaymentError::Failed(e.to_string()))?;
        match status.as_str() {
            "authorized" => Ok(Authorization { id: authorization }),
            "declined" => Err(PaymentError::Declined(
                decline.unwrap_or_else(|| "card_declined".into()),
            )),
            "requires_action" => Err(PaymentError::ActionRequired(
                "authentication_required".into(),
            )),
            _ => Err(PaymentError::Failed(format!(
                "the order's payment was {status}"
            ))),
        }
    }
}

impl PaymentProvider for SandboxProvider {
    fn authorize<'a>(
        &'a self,
        request: &'a AuthorizeRequest,
    ) -> BoxFuture<'a, Result<Authorization, PaymentError>> {
        Box::pin(self.authorize_now(request))
    }

    fn void<'a>(&'a self, order: &'a OrderId) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO sandbox_payments (order_id, authorization_id, status, amount, currency)
                 VALUES ($1, NULL, 'voided', 0, 'XXX')
                 ON CONFLICT (order_id) DO UPDATE SET status = 'voided', updated_at = now()
                  WHERE sandbox_payments.status IN ('authorized', 'requires_action')",
            )
            .bind(order.as_uuid())
            .execute(&self.db)
            .await
            .map(|_| ())
            .map_err(|e| PaymentError::Failed(e.to_string()))
        })
    }

    fn capture<'a>(
        &'a self,
        order: &'a OrderId,
        amount: Money,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(self.capture_now(order, amount))
    }

    fn refund<'a>(&'a self, request: &'a RefundRequest) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(self.refund_now(request))
    }
}

fn failed(error: sqlx::Error) -> PaymentError {
    PaymentError::Failed(error.to_string())
}

impl SandboxProvider {
    async fn capture_now(&self, order: &OrderId, amount: Money) -> Result<(), PaymentError> {
        let captured = sqlx::query(
            "UPDATE sandbox_payments SET status = 'captured', captured_amount = $2, updated_at = now()
              WHERE order_id = $1 AND status = 'authorized' AND $2 <= amount AND currency = $3",
        )
        .bind(order.as_uuid())
        .bind(amount.amount)
        .bind(amount.currency.as_str())
        .execute(&self.db)
        .await
        .map_err(failed)?
        .rows_affected();
        if captured == 1 {
            return Ok(());
        }
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM sandbox_payments WHERE order_id = $1")
                .bind(order.as_uuid())
                .fetch_optional(&self.db)
                .await
                .map_err(failed)?;
        match status.as_deref() {
            Some("captured") => Ok(()),
            Some("authorized") => Err(PaymentError::Declined(
                "amount_exceeds_authorization".into(),
            )),
            Some(other) => Err(PaymentError::Declined(format!("payment_{other}"))),
            None => Err(PaymentError::Declined("no_authorization".into())),
        }
    }

    async fn refund_now(&self, request: &RefundRequest) -> Result<(), PaymentError> {
        let mut tx = self.db.begin().await.map_err(failed)?;
        let payment: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT status, captured_amount, refunded_amount FROM sandbox_payments
              WHERE order_id = $1 FOR UPDATE",
        )
        .bind(request.order.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(failed)?;
        let done: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sandbox_refunds WHERE refund_id = $1)",
        )
        .bind(request.refund)
        .fetch_one(&mut *tx)
        .await
        .map_err(failed)?;
        if done {
            return Ok(());
        }
        let Some((status, captured, refunded)) = payment else {
            return Err(PaymentError::Declined("no_payment".into()));
        };
        if status != "captured" {
            return Err(PaymentError::Declined("not_captured".into()));
        }
        let after = refunded.checked_add(request.amount.amount);
        if request.amount.amount <= 0 || after.is_none_or(|after| after > captured) {
            return Err(PaymentError::Declined("amount_exceeds_capture".into()));
        }
        sqlx::query(
            "INSERT INTO sandbox_refunds (refund_id, order_id, amount) VALUES ($1, $2, $3)",
        )
        .bind(request.refund)
        .bind(request.order.as_uuid())
        .bind(request.amount.amount)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        sqlx::query(
            "UPDATE sandbox_payments SET refunded_amount = refunded_amount + $2, updated_at = now()
              WHERE order_id = $1",
        )
        .bind(request.order.as_uuid())
        .bind(request.amount.amount)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_choose_the_outcome() {
        assert_eq!(behaviour("4242 4242 4242 4242"), Behaviour::Approve);
        assert_eq!(behaviour(CARD_DECLINE), Behaviour::Decline("card_declined"));
        assert_eq!(behaviour(CARD_ERROR), Behaviour::Error);
        assert_eq!(behaviour(CARD_SLOW), Behaviour::Slow);
        assert_eq!(behaviour("4000 0027 6000 3184"), Behaviour::ActionRequired);
        assert_eq!(behaviour("1234"), Behaviour::Decline("unknown_test_card"));
    }
}
