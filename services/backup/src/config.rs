//! The tool's configuration: `BACKUP_*` variables read through one [`Env`].

use std::path::PathBuf;
use std::time::Duration;

use storefront_kit::{ConfigError, Env};

use crate::names::valid_segment;
use crate::storage::{PartSize, S3Settings};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `BACKUP_STORE`: the store's name, the first segment of every backup's name.
    pub store: String,
    /// `BACKUP_DATABASE`: the second segment (`users`, `orders`, `catalog-ledger`, …); defaults to
    /// the kind (`postgres`, `documents`, `redis`).
    pub database: Option<String>,
    /// `BACKUP_RETENTION`: how many backups of this database to keep (default 7, at least 1).
    pub retention: usize,
    pub target: Target,
    /// `BACKUP_PART_SIZE_MIB`: the part size of uploads to a bucket (default 8, from 5 to 5120);
    /// an upload holds about two parts in memory.
    pub part_size: PartSize,
    /// `BACKUP_POSTGRES_URL`, for `postgres`.
    pub postgres_url: Option<String>,
    /// `BACKUP_MONGODB_URL` and `BACKUP_MONGODB_DATABASE` (default `catalog`), for `documents`.
    pub mongodb_url: Option<String>,
    pub mongodb_database: String,
    /// `BACKUP_REDIS_URL`, for `redis`.
    pub redis_url: Option<String>,
}

/// Where backups go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `BACKUP_S3_BUCKET` with `BACKUP_S3_ENDPOINT`, `_REGION`, `_PREFIX`, `_ACCESS_KEY_ID`,
    /// `_SECRET_ACCESS_KEY`, `_PATH_STYLE`, `_TIMEOUT_SECONDS`.
    S3(S3Settings),
    /// `BACKUP_DIR`: a directory, such as a mounted PersistentVolumeClaim.
    Directory(PathBuf),
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let store: String = env.required("STORE")?;
        if !valid_segment(&store) {
            return Err(invalid(env, "STORE", "a lowercase name of [a-z0-9._-]"));
        }
        let database: Option<String> = env.maybe("DATABASE")?;
        if database.as_deref().is_some_and(|d| !valid_segment(d)) {
            return Err(invalid(env, "DATABASE", "a lowercase name of [a-z0-9._-]"));
        }
        let retention: usize = env.optional("RETENTION", 7)?;
        if retention == 0 {
            return Err(invalid(env, "RETENTION", "at least 1"));
        }
        let part_mib: usize = env.optional("PART_SIZE_MIB", PartSize::DEFAULT.mib())?;
        let part_size = PartSize::from_mib(part_mib).ok_or_else(|| {
            invalid(
                env,
                "PART_SIZE_MIB",
                &format!(
                    "{} to {} (the part sizes S3 takes)",
                    PartSize::MIN_MIB,
                    PartSize::MAX_MIB
                ),
            )
        })?;
        Ok(Self {
            store,
            database,
            retention,
            target: target(env)?,
            part_size,
            postgres_url: env.maybe("POSTGRES_URL")?,
            mongodb_url: env.maybe("MONGODB_URL")?,
            mongodb_database: env.optional("MONGODB_DATABASE", "catalog".to_owned())?,
            redis_url: env.maybe("REDIS_URL")?,
        })
    }
}

fn invalid(env: &Env, name: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        var: env.var_name(name),
        reason: format!("expected {reason}"),
    }
}

fn target(env: &Env) -> Result<Target, ConfigError> {
    let bucket: Option<String> = env.maybe("S3_BUCKET")?;
    let dir: Option<PathBuf> = env.maybe("DIR")?;
    match (bucket, dir) {
        (Some(_), Some(_)) => Err(invalid(
            env,
            "DIR",
            "either BACKUP_DIR or BACKUP_S3_BUCKET, not both",
        )),
        (None, Some(dir)) => Ok(Target::Directory(dir)),
        (None, None) => Err(ConfigError::Missing(format!(
            "{} (or {})",
            env.var_name("S3_BUCKET"),
            env.var_name("DIR")
        ))),
        (Some(bucket), None) => {
            // Checked first, so a bad prefix is named even when other settings are missing too.
            let prefix: String = env.optional("S3_PREFIX", String::new())?;
            let prefix_ok = prefix.is_empty()
                || (prefix.ends_with('/')
                    && prefix
                        .trim_end_matches('/')
                        .split('/')
                        .all(|segment| !segment.is_empty() && segment != ".." && segment != "."));
            if !prefix_ok {
                return Err(invalid(env, "S3_PREFIX", "segments ending in '/'"));
            }
            Ok(Target::S3(S3Settings::from_env(
                env,
                "S3",
                bucket,
                Duration::from_secs(300),
            )?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::from_map("BACKUP", vars.iter().copied())
    }

    #[test]
    fn a_directory_target_needs_only_the_store_and_the_directory() {
        let config = Config::from_env(&env(&[
            ("BACKUP_STORE", "shop"),
            ("BACKUP_DIR", "/backups"),
        ]))
        .unwrap();
        assert_eq!(config.target, Target::Directory("/backups".into()));
        assert_eq!(config.retention, 7);
        assert_eq!(config.mongodb_database, "catalog");
        assert_eq!(config.part_size, PartSize::DEFAULT);
    }

    #[test]
    fn an_s3_target_reads_every_setting() {
        let config = Config::from_env(&env(&[
            ("BACKUP_STORE", "shop"),
            ("BACKUP_DATABASE", "users"),
            ("BACKUP_RETENTION", "3"),
            ("BACKUP_S3_BUCKET", "backups"),
            ("BACKUP_S3_ENDPOINT", "http://127.0.0.1:19000"),
            ("BACKUP_S3_PREFIX", "prod/"),
            ("BACKUP_S3_ACCESS_KEY_ID", "k"),
            ("BACKUP_S3_SECRET_ACCESS_KEY", "s"),
            ("BACKUP_S3_PATH_STYLE", "true"),
            ("BACKUP_PART_SIZE_MIB", "16"),
        ]))
        .unwrap();
        let Target::S3(s3) = config.target else {
            panic!("an S3 target");
        };
        assert_eq!(s3.bucket, "backups");
        assert_eq!(s3.prefix, "prod/");
        assert!(s3.path_style);
        assert_eq!(config.part_size.mib(), 16);
        assert_eq!(config.retention, 3);
        assert_eq!(config.database.as_deref(), Some("users"));
    }

    #[test]
    fn bad_settings_name_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("BACKUP_DIR", "/b")], "BACKUP_STORE is not set"),
            (
                &[("BACKUP_STORE", "shop")],
                "BACKUP_S3_BUCKET (or BACKUP_DIR)",
            ),
            (
                &[("BACKUP_STORE", "Shop/1"), ("BACKUP_DIR", "/b")],
                "BACKUP_STORE",
            ),
            (
                &[
                    ("BACKUP_STORE", "shop"),
                    ("BACKUP_DIR", "/b"),
                    ("BACKUP_RETENTION", "0"),
                ],
                "BACKUP_RETENTION",
            ),
            (
                &[
                    ("BACKUP_STORE", "shop"),
                    ("BACKUP_DIR", "/b"),
                    ("BACKUP_PART_SIZE_MIB", "4"),
                ],
                "BACKUP_PART_SIZE_MIB",
            ),
            (
                &[("BACKUP_STORE", "shop"), ("BACKUP_S3_BUCKET", "b")],
                "BACKUP_S3_ACCESS_KEY_ID is not set",
            ),
            (
                &[
                    ("BACKUP_STORE", "shop"),
                    ("BACKUP_S3_BUCKET", "b"),
                    ("BACKUP_S3_PREFIX", "no-slash"),
                ],
                "BACKUP_S3_PREFIX",
            ),
        ];
        for (vars, expected) in cases {
            let error = Config::from_env(&env(vars)).unwrap_err().to_string();
            assert!(error.contains(expected), "{error} should name {expected}");
        }
    }
}
