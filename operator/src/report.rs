//! The human summary of one Storefront that `storefront status` prints: conditions with their
//! reasons, the rollout, each component's replicas and version, the URL and the last backup.
//! Pure: renders what the status says, so it is tested without a cluster.

use std::fmt::Write;

use kube::ResourceExt;

use crate::backup_health::BACKUP_HEALTHY;
use crate::crd::Storefront;
use crate::rollout::ORDER;
use crate::status::{DEGRADED, PROGRESSING, READY};

/// Conditions in the order they are printed.
const CONDITIONS: [&str; 4] = [READY, PROGRESSING, DEGRADED, BACKUP_HEALTHY];

/// Renders the summary; `\n`-terminated lines.
pub fn render(sf: &Storefront) -> String {
    let mut out = String::new();
    let status = sf.status.clone().unwrap_or_default();
    let _ = writeln!(
        out,
        "Storefront {}/{}",
        sf.namespace().unwrap_or_default(),
        sf.name_any()
    );
    let _ = writeln!(out, "  Version:      {}", sf.spec.version);
    let _ = writeln!(
        out,
        "  URL:          {}",
        status.url.as_deref().unwrap_or("-")
    );
    let observed = match (status.observed_generation, sf.metadata.generation) {
        (Some(o), Some(g)) if o == g => format!("{g} (up to date)"),
        (Some(o), Some(g)) => format!("{o} of {g} (catching up)"),
        _ => "not yet reconciled".to_string(),
    };
    let _ = writeln!(out, "  Generation:   {observed}");
    if sf.spec.paused {
        let _ = writeln!(out, "  Paused:       yes (spec.paused)");
    }
    let backup = match (&sf.spec.backups, &status.last_successful_backup) {
        (None, _) => "not configured".to_string(),
        (Some(_), None) => "none yet".to_string(),
        (Some(_), Some(t)) => t.clone(),
    };
    let _ = writeln!(out, "  Last backup:  {backup}");

    out.push_str("\nConditions:\n");
    let rows: Vec<[String; 4]> = CONDITIONS
        .iter()
        .filter_map(|t| status.conditions.iter().find(|c| c.type_ == *t))
        .map(|c| {
            [
                c.type_.clone(),
                c.status.clone(),
                c.reason.clone(),
                c.message.clone(),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.push_str("  none reported yet\n");
    } else {
        table(&mut out, ["TYPE", "STATUS", "REASON", "MESSAGE"], &rows);
    }

    out.push_str("\nRollout:\n");
    match &status.rollout {
        None => out.push_str("  none reported yet\n"),
        Some(r) => {
            let _ = writeln!(
                out,
                "  {} to {}{}: {} of {} components updated{}",
                r.phase.as_str(),
                r.target_version,
                r.previous_version
                    .as_deref()
                    .map(|v| format!(" (from {v})"))
                    .unwrap_or_default(),
                r.updated_components,
                r.total_components,
                r.component
                    .as_deref()
                    .map(|c| format!(", at {c}"))
                    .unwrap_or_default()
            );
            if !r.message.is_empty() {
                let _ = writeln!(out, "  {}", r.message);
            }
        }
    }

    out.push_str("\nComponents:\n");
    let mut names: Vec<&String> = status.components.keys().collect();
    // Application components in upgrade order, then the data stores by name.
    names.sort_by_key(|n| {
        (
            ORDER
                .iter()
                .position(|c| c.name() == n.as_str())
                .unwrap_or(ORDER.len()),
            n.as_str(),
        )
    });
    let rows: Vec<[String; 4]> = names
        .iter()
        .map(|n| {
            let c = &status.components[*n];
            let kind = if ORDER.iter().any(|o| o.name() == n.as_str()) {
                "service"
            } else {
                "database"
            };
            [
                (*n).clone(),
                kind.to_string(),
                format!("{}/{}", c.ready_replicas, c.desired_replicas),
                c.version.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.push_str("  none reported yet\n");
    } else {
        table(&mut out, ["NAME", "KIND", "READY", "VERSION"], &rows);
    }
    out
}

/// Left-aligned columns two spaces apart, indented by two; the last column is not padded.
fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let mut text = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ", width = widths[i]);
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{ComponentStatus, Condition, RolloutPhase, RolloutStatus, StorefrontStatus};
    use crate::meta::testing::minimal;

    fn condition(type_: &str, status: &str, reason: &str, message: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: message.into(),
            last_transition_time: "2026-01-01T00:00:00Z".into(),
            observed_generation: Some(3),
        }
    }

    #[test]
    fn failed_rollout_shows_reasons_step_and_versions() {
        let mut sf = minimal();
        let component = |ready, version: Option<&str>| ComponentStatus {
            ready_replicas: ready,
            desired_replicas: 1,
            version: version.map(Into::into),
        };
        sf.status = Some(StorefrontStatus {
            observed_generation: Some(3),
            conditions: vec![
                condition(
                    DEGRADED,
                    "True",
                    "RolloutFailed",
                    "users did not become available",
                ),
                condition(READY, "False", "ComponentsNotReady", "not ready: users 0/1"),
                condition(
                    PROGRESSING,
                    "False",
                    "RolloutFailed",
                    "users did not become available",
                ),
            ],
            components: [
                ("cart".to_string(), component(1, Some("1.3.0"))),
                ("postgres".to_string(), component(1, None)),
                ("users".to_string(), component(0, Some("1.4.0"))),
            ]
            .into(),
            url: Some("http://shop.example.com".into()),
            rollout: Some(RolloutStatus {
                target_version: "1.4.0".into(),
                previous_version: Some("1.3.0".into()),
                component: Some("users".into()),
                phase: RolloutPhase::Failed,
                updated_components: 0,
                total_components: 5,
                message: "users did not become available".into(),
            }),
            last_successful_backup: None,
        });
        let text = render(&sf);
        assert!(text.starts_with("Storefront team-a/shop\n"), "{text}");
        assert!(
            text.contains("  URL:          http://shop.example.com\n"),
            "{text}"
        );
        assert!(text.contains("  Generation:   3 (up to date)\n"), "{text}");
        assert!(text.contains("  Last backup:  not configured\n"), "{text}");
        // Ready first, whatever order the status holds them in.
        let ready = text.find("  Ready ").expect("Ready row");
        let degraded = text.find("  Degraded ").expect("Degraded row");
        assert!(ready < degraded, "{text}");
        assert!(
            text.contains(
                "Degraded     True    RolloutFailed       users did not become available"
            ),
            "{text}"
        );
        assert!(
            text.contains("  Failed to 1.4.0 (from 1.3.0): 0 of 5 components updated, at users\n"),
            "{text}"
        );
        let users = text
            .find("  users     service   0/1    1.4.0")
            .expect("users row");
        let cart = text
            .find("  cart      service   1/1    1.3.0")
            .expect("cart row");
        let postgres = text
            .find("  postgres  database  1/1    -")
            .expect("postgres row");
        assert!(users < cart && cart < postgres, "{text}");
    }

    #[test]
    fn a_new_storefront_says_nothing_is_reported_yet() {
        let text = render(&minimal());
        assert!(text.contains("Generation:   not yet reconciled"), "{text}");
        assert_eq!(text.matches("none reported yet").count(), 3, "{text}");
    }
}
