//! How backups are named: `<store>/<database>/<UTC timestamp>.<ext>`. Timestamps sort as text in
//! time order, so the newest backup is the greatest name.

use chrono::{DateTime, Utc};

use crate::error::Error;

/// `20261129T010203.456Z`: basic ISO 8601 with milliseconds, safe in object keys and file names.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// The folder of one database's backups: `<store>/<database>/`.
pub fn folder(store: &str, database: &str) -> String {
    format!("{store}/{database}/")
}

/// The key of a new backup.
pub fn key(store: &str, database: &str, at: DateTime<Utc>, ext: &str) -> String {
    format!("{}{}.{ext}", folder(store, database), timestamp(at))
}

/// A store or database name: what Kubernetes allows in a name (`[a-z0-9]` with `-` `_` `.` inside).
pub fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 253
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && segment
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

/// The backups among `keys` (any order) that belong to `folder` and end in `.ext`, oldest first.
pub fn backups_in(keys: &[String], folder: &str, ext: &str) -> Vec<String> {
    let suffix = format!(".{ext}");
    let mut found: Vec<String> = keys
        .iter()
        .filter(|k| {
            k.strip_prefix(folder)
                .is_some_and(|rest| !rest.contains('/') && rest.ends_with(&suffix))
        })
        .cloned()
        .collect();
    found.sort();
    found
}

/// The backups to delete so that only the `keep` newest remain.
pub fn to_prune(backups: &[String], keep: usize) -> &[String] {
    let excess = backups.len().saturating_sub(keep);
    &backups[..excess]
}

/// Resolves what the user asked for — `latest`, a file name (`<timestamp>.<ext>`), or a full key —
/// among the existing `backups` (oldest first) of `folder`.
pub fn resolve(backups: &[String], folder: &str, wanted: &str) -> Result<String, Error> {
    if wanted == "latest" {
        return backups
            .last()
            .cloned()
            .ok_or_else(|| Error::NoBackups(folder.to_owned()));
    }
    let file = wanted.strip_prefix(folder).unwrap_or(wanted);
    let file_ok = !file.is_empty()
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !file_ok {
        return Err(Error::BadName(wanted.to_owned()));
    }
    let key = format!("{folder}{file}");
    if backups.contains(&key) {
        Ok(key)
    } else {
        Err(Error::NotFound(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keys_sort_in_time_order() {
        let early = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let late = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let a = key("shop", "users", early, "dump");
        let b = key("shop", "users", late, "dump");
        assert_eq!(a, "shop/users/20260102T030405.000Z.dump");
        assert!(a < b);
    }

    #[test]
    fn only_this_folders_backups_of_this_kind_are_listed() {
        let all = keys(&[
            "shop/users/2.dump",
            "shop/users/1.dump",
            "shop/users/1.rdb",
            "shop/users-old/0.dump",
            "shop/users/nested/3.dump",
            "other/users/4.dump",
        ]);
        assert_eq!(
            backups_in(&all, "shop/users/", "dump"),
            keys(&["shop/users/1.dump", "shop/users/2.dump"])
        );
    }

    #[test]
    fn pruning_keeps_the_newest() {
        let all = keys(&["a/b/1.dump", "a/b/2.dump", "a/b/3.dump"]);
        assert_eq!(to_prune(&all, 2), &all[..1]);
        assert!(to_prune(&all, 5).is_empty());
    }

    #[test]
    fn names_resolve_to_existing_backups_only() {
        let all = keys(&["a/b/1.dump", "a/b/2.dump"]);
        assert_eq!(resolve(&all, "a/b/", "latest").unwrap(), "a/b/2.dump");
        assert_eq!(resolve(&all, "a/b/", "1.dump").unwrap(), "a/b/1.dump");
        assert_eq!(resolve(&all, "a/b/", "a/b/1.dump").unwrap(), "a/b/1.dump");
        assert!(matches!(
            resolve(&all, "a/b/", "3.dump"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            resolve(&all, "a/b/", "../x"),
            Err(Error::BadName(_))
        ));
        assert!(matches!(
            resolve(&[], "a/b/", "latest"),
            Err(Error::NoBackups(_))
        ));
    }

    #[test]
    fn segments_are_kubernetes_like_names() {
        assert!(valid_segment("shop"));
        assert!(valid_segment("catalog-ledger"));
        assert!(!valid_segment(""));
        assert!(!valid_segment("-x"));
        assert!(!valid_segment("a/b"));
        assert!(!valid_segment("Shop"));
    }
}
