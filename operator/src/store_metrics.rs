//! Per-Storefront gauges for alerting, read from the statuses in the controller's cache:
//! `storefront_ready`, `storefront_backup_healthy` and
//! `storefront_backup_last_success_timestamp_seconds`, labelled `namespace` and `storefront`.
//!
//! The exporter cannot drop a series, so a Storefront that is gone reads `NaN` (which no alert
//! comparison matches) until the operator restarts.

use std::collections::BTreeSet;
use std::sync::Arc;

use kube::ResourceExt;

use crate::backup_health::BACKUP_HEALTHY;
use crate::crd::Storefront;
use crate::status::READY;

pub const READY_GAUGE: &str = "storefront_ready";
pub const BACKUP_HEALTHY_GAUGE: &str = "storefront_backup_healthy";
pub const LAST_BACKUP_GAUGE: &str = "storefront_backup_last_success_timestamp_seconds";

/// What the gauges of one Storefront read; `NaN` where the status does not say.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    pub ready: f64,
    pub backup_healthy: f64,
    pub last_backup: f64,
}

impl Reading {
    const GONE: Reading = Reading {
        ready: f64::NAN,
        backup_healthy: f64::NAN,
        last_backup: f64::NAN,
    };
}

fn condition_value(sf: &Storefront, type_: &str) -> f64 {
    match sf.condition(type_).map(|c| c.status.as_str()) {
        Some("True") => 1.0,
        Some("False") => 0.0,
        _ => f64::NAN,
    }
}

/// The gauges' values for `sf`. A Storefront that has no `Ready` condition yet is not ready.
pub fn reading(sf: &Storefront) -> Reading {
    let ready = if condition_value(sf, READY) == 1.0 {
        1.0
    } else {
        0.0
    };
    let last_backup = sf
        .status
        .as_ref()
        .and_then(|s| s.last_successful_backup.as_deref())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(f64::NAN, |t| t.timestamp() as f64);
    Reading {
        ready,
        backup_healthy: condition_value(sf, BACKUP_HEALTHY),
        last_backup,
    }
}

/// Remembers which Storefronts it has reported, so the gauges of deleted ones turn `NaN`.
#[derive(Debug, Default)]
pub struct StoreGauges {
    reported: BTreeSet<(String, String)>,
}

impl StoreGauges {
    /// Sets the gauges of every Storefront in `storefronts`.
    pub fn record(&mut self, storefronts: &[Arc<Storefront>]) {
        let mut now = BTreeSet::new();
        for sf in storefronts {
            let key = (sf.namespace().unwrap_or_default(), sf.name_any());
            set(&key, reading(sf));
            now.insert(key);
        }
        for gone in self.reported.difference(&now) {
            set(gone, Reading::GONE);
        }
        self.reported = now;
    }
}

fn set((namespace, name): &(String, String), reading: Reading) {
    let labels = [
        ("namespace", namespace.clone()),
        ("storefront", name.clone()),
    ];
    metrics::gauge!(READY_GAUGE, &labels).set(reading.ready);
    metrics::gauge!(BACKUP_HEALTHY_GAUGE, &labels).set(reading.backup_healthy);
    metrics::gauge!(LAST_BACKUP_GAUGE, &labels).set(reading.last_backup);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storefront(status: serde_json::Value) -> Storefront {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "storefront.dev/v1alpha1",
            "kind": "Storefront",
            "metadata": {"name": "shop", "namespace": "a"},
            "spec": {"version": "1.0.0", "host": "shop.example.com"},
            "status": status,
        }))
        .expect("a Storefront")
    }

    fn condition(type_: &str, status: &str) -> serde_json::Value {
        serde_json::json!({
            "type": type_, "status": status, "reason": "R", "message": "m",
            "lastTransitionTime": "2026-03-01T00:00:00Z"
        })
    }

    #[test]
    fn ready_and_backups_follow_the_conditions() {
        let sf = storefront(serde_json::json!({
            "conditions": [condition("Ready", "True"), condition("BackupHealthy", "False")],
            "lastSuccessfulBackup": "2026-03-01T03:00:00Z",
        }));
        let r = reading(&sf);
        assert_eq!(r.ready, 1.0);
        assert_eq!(r.backup_healthy, 0.0);
        assert_eq!(r.last_backup, 1_772_334_000.0);
    }

    #[test]
    fn a_storefront_without_status_is_not_ready_and_says_nothing_of_backups() {
        let r = reading(&storefront(serde_json::json!({})));
        assert_eq!(r.ready, 0.0);
        assert!(r.backup_healthy.is_nan() && r.last_backup.is_nan());
    }

    #[test]
    fn ready_unknown_counts_as_not_ready() {
        let sf = storefront(serde_json::json!({"conditions": [condition("Ready", "Unknown")]}));
        assert_eq!(reading(&sf).ready, 0.0);
    }
}
