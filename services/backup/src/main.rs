//! `storefront-backup backup|restore|list <postgres|documents|redis>`: configured by `BACKUP_*`
//! variables (see the README); one line on success, one line and a non-zero exit on failure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use storefront_backup::{Config, Kind, RestoreOptions};
use storefront_kit::Env;

#[derive(Parser)]
#[command(
    name = "storefront-backup",
    about = "Backs up and restores a store's databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Dump the database, store it, prune beyond BACKUP_RETENTION.
    Backup { kind: Kind },
    /// Restore a backup: `latest`, or a name that `list` prints.
    Restore {
        kind: Kind,
        #[arg(default_value = "latest")]
        name: String,
        /// Documents: drop the target database's collections first instead of refusing.
        #[arg(long)]
        replace: bool,
        /// Redis: where to write the RDB file (the stopped server's dump.rdb).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print this database's backups, oldest first.
    List { kind: Kind },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    storefront_kit::install_crypto_provider();
    let cli = Cli::parse();
    let config = match Config::from_env(&Env::new("BACKUP")) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::Backup { kind } => storefront_backup::backup(&config, kind)
            .await
            .map(|report| {
                let mut line = format!("backed up {} ({} bytes)", report.key, report.bytes);
                if !report.pruned.is_empty() {
                    line.push_str(&format!("; pruned {}", report.pruned.join(", ")));
                }
                line
            }),
        Command::Restore {
            kind,
            name,
            replace,
            output,
        } => {
            let options = RestoreOptions { replace, output };
            storefront_backup::restore(&config, kind, &name, &options)
                .await
                .map(|report| format!("restored {} ({} bytes)", report.key, report.bytes))
        }
        Command::List { kind } => storefront_backup::list(&config, kind)
            .await
            .map(|keys| keys.join("\n")),
    };
    match outcome {
        Ok(line) => {
            if !line.is_empty() {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("storefront-backup: {error}");
            ExitCode::FAILURE
        }
    }
}
