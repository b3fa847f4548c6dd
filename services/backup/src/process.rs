//! Runs the database's own client tools (`pg_dump`, `pg_restore`, `redis-cli`) as child processes.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::error::Error;

/// Runs `tool` with `args`, feeding `stdin` if given; returns its standard output. A non-zero
/// exit becomes [`Error::Tool`] carrying the first lines of its standard error.
pub async fn run(
    tool: &'static str,
    args: &[&str],
    stdin: Option<Vec<u8>>,
) -> Result<Vec<u8>, Error> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::Spawn { tool, source })?;
    let feeder = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => Some(tokio::spawn(async move {
            // A tool that stops reading early (a corrupt archive) closes the pipe; its exit
            // status and message are what matter, so a broken pipe here is not reported.
            let _ = pipe.write_all(&bytes).await;
            let _ = pipe.shutdown().await;
        })),
        _ => None,
    };
    let output = child
        .wait_with_output()
        .await
        .map_err(|source| Error::Spawn { tool, source })?;
    if let Some(feeder) = feeder {
        let _ = feeder.await;
    }
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(Error::Tool {
            tool,
            status: output.status.to_string(),
            message: first_lines(&output.stderr),
        })
    }
}

/// The first three non-empty lines of a tool's messages, on one line.
fn first_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    if lines.is_empty() {
        "no message".to_owned()
    } else {
        lines.join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_kept_to_one_line() {
        assert_eq!(first_lines(b"a\n\n b \nc\nd\n"), "a | b | c");
        assert_eq!(first_lines(b""), "no message");
    }

    #[tokio::test]
    async fn a_failing_tool_is_reported_with_its_message() {
        let error = run("sh", &["-c", "echo boom >&2; exit 3"], None)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("boom"), "{error}");
    }

    #[tokio::test]
    async fn stdin_is_fed_and_stdout_returned() {
        let out = run("cat", &[], Some(b"hello".to_vec())).await.unwrap();
        assert_eq!(out, b"hello");
    }
}
