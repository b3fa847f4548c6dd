//! The recovery loop: orders left PENDING by a crash (or suspended while a dependency was down)
//! are claimed once their lease has run out and driven on by the saga, which resumes them or
//! compensates them. Cancelled orders whose compensation (void, return stock) did not finish are
//! settled the same way, and so are refunds the payment provider has not confirmed yet. Before
//! that, PENDING orders whose payment is still not authorized `CART_ORDER_EXPIRES_AFTER_SECONDS`
//! after they were placed expire: the saga compensates them (void, release) and ends them
//! EXPIRED. Several replicas may run it: claims skip rows another replica holds.

use std::time::Duration;

use storefront_kit::Shutdown;
use uuid::Uuid;

use crate::AppState;
use crate::checkout::idempotency;
use crate::checkout::saga::{self, Claim, Outcome};
use crate::error::Error;
use crate::ids::OrderId;
use crate::orders::{cancellation, refunds};

/// How long finished idempotency answers are kept.
const KEEP_ANSWERS: Duration = Duration::from_secs(24 * 3600);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub settled: usize,
    pub suspended: usize,
    /// Cancelled orders compensated.
    pub cancellations: usize,
    /// Orders that expired waiting for their payment.
    pub expired: usize,
    /// Pending refunds the provider confirmed or refused.
    pub refunds: usize,
}

/// Takes over one PENDING order whose payment is overdue and whose lease has run out (no saga
/// run holds it), and marks it failing as `payment_expired`. Orders already authorized are left
/// to confirm; orders already compensating keep their own reason.
pub async fn claim_overdue(state: &AppState) -> Result<Option<Claim>, Error> {
    let token = Uuid::new_v4();
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE orders SET lease_token = $1, lease_until = now() + make_interval(secs => $2),
                saga_step = 'compensating', failure_reason = $4,
                failure_detail = 'The payment was not completed in time; the items were released.',
                updated_at = now()
          WHERE id = (SELECT id FROM orders
                       WHERE status = 'PENDING' AND saga_step IN ('created', 'reserved')
                         AND created_at < now() - make_interval(secs => $3)
                         AND lease_until < now()
                       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(token)
    .bind(state.checkout.saga_lease.as_secs_f64())
    .bind(state.checkout.order_expires_after.as_secs_f64())
    .bind(saga::reason::PAYMENT_EXPIRED)
    .fetch_optional(&state.db)
    .await?;
    Ok(claimed.map(|id| Claim {
        order: OrderId::from(id),
        token,
    }))
}

/// Takes over one PENDING order whose lease has expired, if any.
pub async fn claim_stale(state: &AppState) -> Result<Option<Claim>, Error> {
    let token = Uuid::new_v4();
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE orders SET lease_token = $1, lease_until = now() + make_interval(secs => $2)
          WHERE id = (SELECT id FROM orders
                       WHERE status = 'PENDING' AND lease_until < now()
                       ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(token)
    .bind(state.checkout.saga_lease.as_secs_f64())
    .fetch_optional(&state.db)
    .await?;
    Ok(claimed.map(|id| Claim {
        order: OrderId::from(id),
        token,
    }))
}

/// Drives up to `batch` stale orders to an end (or to another suspension).
pub async fn recover_once(state: &AppState, batch: usize) -> Result<Report, Error> {
    let mut report = Report::default();
    for _ in 0..batch {
        let Some(claim) = claim_overdue(state).await? else {
            break;
        };
        match saga::drive(state, claim).await {
            Ok(Outcome::Settled(_)) => report.expired += 1,
            Ok(Outcome::Suspended { .. }) => report.suspended += 1,
            Err(error) => {
                tracing::warn!(order = %claim.order, %error, "expiring an order failed");
                report.suspended += 1;
            }
        }
    }
    for _ in 0..batch {
        let Some(claim) = claim_stale(state).await? else {
            break;
        };
        match saga::drive(state, claim).await {
            Ok(Outcome::Settled(_)) => report.settled += 1,
            Ok(Outcome::Suspended { .. }) => report.suspended += 1,
            Err(error) => {
                tracing::warn!(order = %claim.order, %error, "recovering an order failed");
                report.suspended += 1;
            }
        }
    }
    for _ in 0..batch {
        let Some(order) = cancellation::claim_pending(state).await? else {
            break;
        };
        match cancellation::settle(state, &order).await {
            Ok(()) => report.cancellations += 1,
            Err(error) => {
                tracing::warn!(%order, %error, "compensating a cancelled order failed");
                cancellation::retry_later(state, &order).await?;
            }
        }
    }
    report.refunds = refunds::settle_stale(state, batch).await?;
    Ok(report)
}

/// Runs [`recover_once`] every `every` until shutdown, and forgets old idempotency answers.
pub async fn run(state: AppState, every: Duration, shutdown: Shutdown) {
    loop {
        tokio::select! {
            () = shutdown.wait() => return,
            () = tokio::time::sleep(every) => {}
        }
        match recover_once(&state, 100).await {
            Ok(report) if report == Report::default() => {}
            Ok(report) => tracing::info!(
                settled = report.settled,
                suspended = report.suspended,
                cancellations = report.cancellations,
                expired = report.expired,
                refunds = report.refunds,
                "orders recovered"
            ),
            Err(error) => tracing::warn!(%error, "recovery pass failed"),
        }
        if let Err(error) = idempotency::purge(&state.db, KEEP_ANSWERS).await {
            tracing::warn!(%error, "purging idempotency keys failed");
        }
    }
}
