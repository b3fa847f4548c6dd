//! Starting, watching and stopping local processes: pid files, bounded waits that notice a dead process,
//! log tails, and progress lines for long steps.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How often long steps report that they are still running.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Prints "<label>: still running (20s)" lines at most every ten seconds.
pub struct Progress {
    label: String,
    started: Instant,
    last: Instant,
}

impl Progress {
    pub fn new(label: impl Into<String>) -> Self {
        let now = Instant::now();
        Self {
            label: label.into(),
            started: now,
            last: now,
        }
    }

    pub fn tick(&mut self) {
        if self.last.elapsed() >= PROGRESS_EVERY {
            self.last = Instant::now();
            println!("  … {} ({}s)", self.label, self.started.elapsed().as_secs());
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Appends to `log` (creating its directory), for a child's stdout and stderr.
pub fn open_log(log: &Path) -> Result<File> {
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("open {}", log.display()))
}

/// Starts a long-running server: stdin from /dev/null, output appended to `log`, in its own process
/// group so that a Ctrl-C in the terminal that ran `cargo xtask up` does not reach it.
pub fn spawn_server(command: &mut Command, log: &Path) -> Result<Child> {
    spawn_logged(command.process_group(0), log)
}

fn spawn_logged(command: &mut Command, log: &Path) -> Result<Child> {
    let out = open_log(log)?;
    let err = out.try_clone()?;
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("start {:?}", command.get_program()))
}

/// Runs a build or install step to completion, output into `log`, with progress lines meanwhile.
/// It stays in our process group, so a Ctrl-C stops it too.
pub fn run_step(label: &str, command: &mut Command, log: &Path) -> Result<()> {
    println!("→ {label} (log: {})", log.display());
    let mut child = spawn_logged(command, log)?;
    let mut progress = Progress::new(format!("{label}: still running"));
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                println!("  {label}: done in {}s", progress.elapsed().as_secs());
                return Ok(());
            }
            bail!(
                "{label} failed ({status}); last lines of {}:\n{}",
                log.display(),
                tail(log, 30)
            );
        }
        progress.tick();
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs a short command and fails with its output when it fails.
pub fn run_quiet(command: &mut Command) -> Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {:?}", command.get_program()))?;
    if !output.status.success() {
        bail!(
            "{:?} failed ({}): {}{}",
            command,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

pub fn write_pid(path: &Path, pid: u32) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, format!("{pid}\n")).with_context(|| format!("write {}", path.display()))
}

pub fn read_pid(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether the process exists and has not exited (a zombie counts as exited).
pub fn is_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The process's command line, arguments joined by spaces.
pub fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .map(String::from_utf8_lossy)
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Sends `signal`, waits up to `grace` for the process to exit, then kills it.
pub fn stop(name: &str, pid: u32, signal: Signal, grace: Duration) -> Result<()> {
    let target = Pid::from_raw(i32::try_from(pid)?);
    if !is_alive(pid) {
        return Ok(());
    }
    kill(target, signal).with_context(|| format!("signal {name} (pid {pid})"))?;
    let started = Instant::now();
    while started.elapsed() < grace {
        if !is_alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "  {name} (pid {pid}) did not stop within {}s: killing it",
        grace.as_secs()
    );
    let _ = kill(target, Signal::SIGKILL);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if !is_alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{name} (pid {pid}) is still alive after SIGKILL")
}

/// Waits until `ready()` holds, at most `timeout`. Fails early when `alive()` turns false, and in both
/// failure cases shows the end of the part's logs.
pub fn wait_until(
    name: &str,
    timeout: Duration,
    logs: &[PathBuf],
    mut alive: impl FnMut() -> bool,
    mut ready: impl FnMut() -> bool,
) -> Result<Duration> {
    let mut progress = Progress::new(format!("waiting for {name} to be ready"));
    loop {
        if ready() {
            return Ok(progress.elapsed());
        }
        if !alive() {
            bail!(
                "{name} exited while starting; last log lines:\n{}",
                tails(logs)
            );
        }
        if progress.elapsed() > timeout {
            bail!(
                "{name} was not ready within {}s; last log lines:\n{}",
                timeout.as_secs(),
                tails(logs)
            );
        }
        progress.tick();
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn tails(logs: &[PathBuf]) -> String {
    logs.iter()
        .filter(|log| log.exists())
        .map(|log| format!("==> {} <==\n{}", log.display(), tail(log, 25)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last `lines` lines of a file (reads at most its last 256 KiB).
pub fn tail(path: &Path, lines: usize) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(256 * 1024)))?;
        let mut raw = Vec::new();
        file.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let all: Vec<&str> = text.lines().collect();
        Ok(all[all.len().saturating_sub(lines)..].join("\n"))
    };
    read().unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()))
}

/// A process found by `processes_using`.
#[derive(Debug)]
pub struct Found {
    pub pid: u32,
    /// The kernel's short name for it (at most 15 bytes).
    pub comm: String,
    pub cmdline: String,
}

/// Live processes that name `dir` on their command line or run inside it: what would be left of the
/// stack after stopping it (servers that rewrite their process title still keep their working directory).
pub fn processes_using(dir: &Path) -> Vec<Found> {
    let needle = dir.to_string_lossy().into_owned();
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me && is_alive(*pid))
        .filter_map(|pid| {
            let cmdline = cmdline(pid);
            let inside =
                fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir));
            (inside || cmdline.contains(&needle)).then(|| Found {
                pid,
                comm: fs::read_to_string(format!("/proc/{pid}/comm"))
                    .map(|c| c.trim().to_string())
                    .unwrap_or_default(),
                cmdline,
            })
        })
        .collect()
}
