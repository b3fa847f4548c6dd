//! The store dashboard's figures: orders taken, orders cancelled and revenue since a moment.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use crate::error::Error;
use crate::money::{Currency, Money};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// Count orders created at or after this RFC 3339 instant (required).
    #[param(required = true, example = "2026-11-01T00:00:00Z")]
    pub since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The `since` asked for, in UTC.
    pub since: String,
    /// CONFIRMED and SHIPPED orders created since then.
    pub orders: i64,
    /// CANCELLED orders created since then.
    pub cancelled: i64,
    /// Totals of the CONFIRMED and SHIPPED orders, one entry per currency.
    pub revenue: Vec<Money>,
}

/// The required `since` parameter as a UTC instant; missing or malformed is a 400 naming it.
pub fn since(params: &SummaryParams) -> Result<DateTime<Utc>, Error> {
    let raw = params
        .since
        .as_deref()
        .ok_or_else(|| Error::bad_parameter("since", "is required (an RFC 3339 date-time)"))?;
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::bad_parameter(
                "since",
                "must be an RFC 3339 date-time such as 2026-11-01T00:00:00Z",
            )
        })
}

pub async fn summarize(db: &PgPool, since: DateTime<Utc>) -> Result<Summary, Error> {
    let (orders, cancelled): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status IN ('CONFIRMED', 'SHIPPED')),
                count(*) FILTER (WHERE status = 'CANCELLED')
           FROM orders WHERE created_at >= $1",
    )
    .bind(since)
    .fetch_one(db)
    .await?;
    let totals: Vec<(String, i64)> = sqlx::query_as(
        "SELECT currency, sum(total_amount)::bigint FROM orders
          WHERE created_at >= $1 AND status IN ('CONFIRMED', 'SHIPPED')
          GROUP BY currency ORDER BY currency",
    )
    .bind(since)
    .fetch_all(db)
    .await?;
    let revenue = totals
        .into_iter()
        .map(|(code, amount)| {
            Currency::parse(&code)
                .map(|currency| Money::new(amount, currency))
                .ok_or_else(|| Error::Internal(format!("stored currency {code:?}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Summary {
        since: since.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        orders,
        cancelled,
        revenue,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(since: Option<&str>) -> SummaryParams {
        SummaryParams {
            since: since.map(str::to_owned),
        }
    }

    #[test]
    fn since_must_be_rfc3339() {
        let at = since(&params(Some("2026-11-01T02:00:00+02:00"))).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-01T00:00:00+00:00");
        for bad in [None, Some(""), Some("yesterday"), Some("2026-11-01")] {
            assert!(matches!(
                since(&params(bad)),
                Err(Error::BadParameter { .. })
            ));
        }
    }
}
