//! `BackupHealthy` from the backup Jobs: True when every database's latest finished Job succeeded
//! and its last success is within twice the schedule's period; False naming the databases whose
//! latest backup failed or is overdue; Unknown before the first backups have run.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;

use crate::children::backup::LABEL_DATABASE;

pub const BACKUP_HEALTHY: &str = "BackupHealthy";

/// One finished backup Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub database: String,
    pub finished: DateTime<Utc>,
    pub succeeded: bool,
}

/// The finished runs among `jobs` (running Jobs and Jobs without the database label are skipped).
pub fn runs(jobs: &[Job]) -> Vec<Run> {
    jobs.iter()
        .filter_map(|job| {
            let database = job.metadata.labels.as_ref()?.get(LABEL_DATABASE)?.clone();
            let status = job.status.as_ref()?;
            let finished =
                status.conditions.iter().flatten().find(|c| {
                    c.status == "True" && (c.type_ == "Complete" || c.type_ == "Failed")
                })?;
            let when = finished
                .last_transition_time
                .as_ref()
                .map(|t| t.0)
                .or_else(|| status.completion_time.as_ref().map(|t| t.0))?;
            Some(Run {
                database,
                finished: DateTime::<Utc>::from_timestamp(when.as_second(), 0)?,
                succeeded: finished.type_ == "Complete",
            })
        })
        .collect()
}

/// What the condition says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    pub reason: &'static str,
    pub message: String,
    /// The oldest of the databases' latest successes, once every database has one.
    pub last_successful: Option<DateTime<Utc>>,
}

/// Judges `databases` from their `runs`, the schedule's longest gap between runs, when the
/// backups were first declared (`since`) and `now`.
pub fn health(
    databases: &[&str],
    runs: &[Run],
    period: Duration,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Health {
    let allowed = chrono::Duration::from_std(period * 2).unwrap_or(chrono::Duration::MAX);
    let mut latest: BTreeMap<&str, &Run> = BTreeMap::new();
    let mut last_success: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for run in runs {
        let db = run.database.as_str();
        if latest.get(db).is_none_or(|r| r.finished < run.finished) {
            latest.insert(db, run);
        }
        if run.succeeded && last_success.get(db).is_none_or(|t| *t < run.finished) {
            last_success.insert(db, run.finished);
        }
    }
    let past_grace = since.is_none_or(|s| now - s > allowed);
    let mut failed = Vec::new();
    let mut overdue = Vec::new();
    let mut pending = Vec::new();
    for &db in databases {
        match (latest.get(db), last_success.get(db)) {
            (Some(run), _) if !run.succeeded => failed.push(db),
            (_, Some(at)) if now - *at > allowed => overdue.push(db),
            (_, Some(_)) => {}
            (_, None) if past_grace && !latest.is_empty() => overdue.push(db),
            (_, None) => pending.push(db),
        }
    }
    let last_successful = if databases.iter().all(|db| last_success.contains_key(db)) {
        databases
            .iter()
            .filter_map(|db| last_success.get(db).copied())
            .min()
    } else {
        None
    };
    let hours = period.as_secs() * 2 / 3600;
    let window = if hours > 0 {
        format!("{hours}h")
    } else {
        format!("{}m", period.as_secs() * 2 / 60)
    };
    let (status, reason, message) = if !failed.is_empty() {
        let mut message = format!("the latest backup failed: {}", failed.join(", "));
        if !overdue.is_empty() {
            message.push_str(&format!(
                "; none succeeded within {window}: {}",
                overdue.join(", ")
            ));
        }
        ("False", "BackupFailed", message)
    } else if !overdue.is_empty() {
        (
            "False",
            "BackupOverdue",
            format!(
                "no successful backup within {window} (twice the schedule's period): {}",
                overdue.join(", ")
            ),
        )
    } else if latest.is_empty() {
        (
            "Unknown",
            "NoBackupYet",
            "no backup has run yet".to_string(),
        )
    } else if !pending.is_empty() {
        (
            "Unknown",
            "BackupPending",
            format!("waiting for the first backup of: {}", pending.join(", ")),
        )
    } else {
        (
            "True",
            "BackupsSucceeded",
            format!("every database was backed up within {window}"),
        )
    };
    Health {
        status,
        reason,
        message,
        last_successful,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const DBS: [&str; 2] = ["users", "redis"];
    const DAY: Duration = Duration::from_secs(86_400);

    fn at(hour: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(hour)
    }

    fn run(db: &str, hour: i64, succeeded: bool) -> Run {
        Run {
            database: db.into(),
            finished: at(hour),
            succeeded,
        }
    }

    #[test]
    fn unknown_before_the_first_run() {
        let h = health(&DBS, &[], DAY, Some(at(0)), at(1));
        assert_eq!((h.status, h.reason), ("Unknown", "NoBackupYet"));
        assert_eq!(h.last_successful, None);
    }

    #[test]
    fn true_when_every_latest_run_succeeded_recently() {
        let runs = [
            run("users", 3, true),
            run("redis", 4, true),
            run("users", 27, true),
        ];
        let h = health(&DBS, &runs, DAY, Some(at(0)), at(30));
        assert_eq!((h.status, h.reason), ("True", "BackupsSucceeded"));
        assert_eq!(h.last_successful, Some(at(4)));
    }

    #[test]
    fn a_failed_latest_run_names_its_database() {
        let runs = [
            run("users", 3, true),
            run("redis", 4, true),
            run("redis", 28, false),
        ];
        let h = health(&DBS, &runs, DAY, Some(at(0)), at(30));
        assert_eq!((h.status, h.reason), ("False", "BackupFailed"));
        assert!(
            h.message.contains("redis") && !h.message.contains("users"),
            "{}",
            h.message
        );
    }

    #[test]
    fn a_success_after_a_failure_heals() {
        let runs = [
            run("users", 3, true),
            run("redis", 4, false),
            run("redis", 5, true),
        ];
        assert_eq!(health(&DBS, &runs, DAY, Some(at(0)), at(6)).status, "True");
    }

    #[test]
    fn a_success_older_than_twice_the_period_is_overdue() {
        let runs = [run("users", 3, true), run("redis", 40, true)];
        let h = health(&DBS, &runs, DAY, Some(at(0)), at(52));
        assert_eq!((h.status, h.reason), ("False", "BackupOverdue"));
        assert!(
            h.message.contains("48h") && h.message.contains("users"),
            "{}",
            h.message
        );
    }

    #[test]
    fn a_database_without_runs_is_pending_then_overdue() {
        let runs = [run("users", 3, true)];
        let h = health(&DBS, &runs, DAY, Some(at(0)), at(4));
        assert_eq!((h.status, h.reason), ("Unknown", "BackupPending"));
        assert!(h.message.contains("redis"));
        let later = [run("users", 3, true), run("users", 49, true)];
        let h = health(&DBS, &later, DAY, Some(at(0)), at(50));
        assert_eq!((h.status, h.reason), ("False", "BackupOverdue"));
    }
}
