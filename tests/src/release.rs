//! A service's release binary run as its own process, for benchmarks that measure it from the
//! outside (resident memory). The binary is the one built next to the running example
//! (`cargo xtask bench …` builds it first).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The release binary `name`, built next to this example's directory.
pub fn release_binary(name: &str) -> Result<PathBuf, Box<dyn Error>> {
    let exe = std::env::current_exe()?;
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join(name))
        .ok_or("no target directory above the example")?;
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: `cargo build --release -p {name}` first",
            path.display()
        )
        .into())
    }
}

/// A running release binary; killed when dropped.
pub struct ReleaseService {
    pub url: String,
    pid: u32,
    child: tokio::process::Child,
}

impl ReleaseService {
    /// Starts `binary` on a free loopback port (`<prefix>_LISTEN_ADDR`) with `env`, its output
    /// discarded, and waits up to 30 s for `/readyz`.
    pub async fn start(
        binary: &str,
        prefix: &str,
        env: &[(&str, String)],
    ) -> Result<Self, Box<dyn Error>> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = tokio::process::Command::new(release_binary(binary)?)
            .env(format!("{prefix}_LISTEN_ADDR"), format!("127.0.0.1:{port}"))
            .envs(env.iter().map(|(name, value)| (*name, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| format!("{binary} exited at once"))?;
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http
                .get(format!("{url}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("the release {binary} did not become ready in 30 s").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self { url, pid, child })
    }

    /// Resident memory in bytes, from `/proc/<pid>/status`.
    pub fn rss(&self) -> Result<u64, Box<dyn Error>> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmRSS in /proc/<pid>/status")?;
        Ok(kib * 1024)
    }

    /// Kills the process and waits for it.
    pub async fn kill(mut self) -> Result<(), Box<dyn Error>> {
        self.child.kill().await?;
        Ok(())
    }
}
