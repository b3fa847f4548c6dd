//! Runs the database's own client tools (`pg_dump`, `pg_restore`, `redis-cli`) as child processes:
//! their output streams into a backup, a backup streams into their input, and a non-zero exit
//! becomes [`Error::Tool`] with the first lines of their messages.

use std::process::{ExitStatus, Stdio};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStderr, Command};
use tokio::task::JoinHandle;

use crate::error::Error;
use crate::pipe::{CHUNK, CopyError, Sink, copy};

/// How much of a tool's messages is kept; the rest is read and dropped.
const MESSAGES: usize = 16 * 1024;

fn spawn(tool: &'static str, args: &[&str], stdin: Stdio, stdout: Stdio) -> Result<Child, Error> {
    Command::new(tool)
        .args(args)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::Spawn { tool, source })
}

/// Reads the tool's standard error to its end (so the tool never blocks on it), keeping the start.
fn messages(stderr: Option<ChildStderr>) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut kept = Vec::new();
        let Some(mut stderr) = stderr else {
            return kept;
        };
        let mut buf = [0; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let room = MESSAGES.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        kept
    })
}

/// The tool's exit: success, or [`Error::Tool`] with its messages.
async fn outcome(
    tool: &'static str,
    mut child: Child,
    messages: JoinHandle<Vec<u8>>,
) -> Result<(), Error> {
    let status: ExitStatus = child
        .wait()
        .await
        .map_err(|source| Error::Spawn { tool, source })?;
    let stderr = messages.await.unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(Error::Tool {
            tool,
            status: status.to_string(),
            message: first_lines(&stderr),
        })
    }
}

/// Runs `tool` with `args` to its end; its standard output is not kept.
pub async fn run(tool: &'static str, args: &[&str]) -> Result<(), Error> {
    let mut child = spawn(tool, args, Stdio::null(), Stdio::null())?;
    let messages = messages(child.stderr.take());
    outcome(tool, child, messages).await
}

/// Runs `tool`, sending its standard output into `sink` as it comes. The sink is finished only
/// when the tool exits successfully; otherwise it is dropped unfinished, so the partial output is
/// never stored. Should the storage stop taking the output, the tool is killed.
pub async fn stream_output(tool: &'static str, args: &[&str], mut sink: Sink) -> Result<(), Error> {
    let mut child = spawn(tool, args, Stdio::null(), Stdio::piped())?;
    let messages = messages(child.stderr.take());
    if let Some(mut stdout) = child.stdout.take() {
        loop {
            let mut chunk = vec![0; CHUNK];
            let n = stdout
                .read(&mut chunk)
                .await
                .map_err(Error::io(format!("read the output of {tool}")))?;
            if n == 0 {
                break;
            }
            chunk.truncate(n);
            sink.send(chunk).await?;
        }
    }
    outcome(tool, child, messages).await?;
    sink.finish().await
}

/// Runs `tool` with `input` streamed into its standard input, which is closed at the input's end.
/// A failed read of the input (`what`: the backup being read) kills the tool, so a restore fed
/// only part of a backup never completes.
pub async fn feed_input<R>(
    tool: &'static str,
    args: &[&str],
    input: &mut R,
    what: &str,
) -> Result<(), Error>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut child = spawn(tool, args, Stdio::piped(), Stdio::null())?;
    let messages = messages(child.stderr.take());
    if let Some(mut stdin) = child.stdin.take() {
        match copy(input, &mut stdin).await {
            // A tool that stops reading (a damaged archive) closes the pipe; its exit status and
            // messages say why.
            Ok(_) | Err(CopyError::Write(_)) => {}
            Err(CopyError::Read(source)) => {
                let _ = child.kill().await;
                return Err(Error::io(format!("read {what}"))(source));
            }
        }
    }
    outcome(tool, child, messages).await
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
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;
    use crate::pipe::pipe;

    #[test]
    fn messages_are_kept_to_one_line() {
        assert_eq!(first_lines(b"a\n\n b \nc\nd\n"), "a | b | c");
        assert_eq!(first_lines(b""), "no message");
    }

    #[tokio::test]
    async fn a_failing_tool_is_reported_with_its_message() {
        let error = run("sh", &["-c", "echo boom >&2; exit 3"])
            .await
            .unwrap_err();
        assert!(error.to_string().contains("boom"), "{error}");
    }

    #[tokio::test]
    async fn output_streams_through_and_ends_when_the_tool_succeeds() {
        let (sink, mut source) = pipe();
        let mut read = Vec::new();
        let (streamed, received) = tokio::join!(
            stream_output("sh", &["-c", "head -c 300000 /dev/zero; printf end"], sink),
            source.read_to_end(&mut read)
        );
        streamed.unwrap();
        received.unwrap();
        assert_eq!(read.len(), 300_003);
        assert!(read.ends_with(b"end"));
    }

    #[tokio::test]
    async fn output_of_a_tool_that_fails_half_way_never_ends_cleanly() {
        let (sink, mut source) = pipe();
        let mut read = Vec::new();
        let (streamed, received) = tokio::join!(
            stream_output(
                "sh",
                &["-c", "head -c 300000 /dev/zero; echo boom >&2; exit 3"],
                sink
            ),
            source.read_to_end(&mut read)
        );
        let error = streamed.unwrap_err();
        assert!(matches!(error, Error::Tool { .. }), "{error}");
        assert!(error.to_string().contains("boom"), "{error}");
        assert!(received.is_err(), "the reader saw a clean end");
    }

    #[tokio::test]
    async fn input_is_fed_to_its_end() {
        let mut input = &b"hello"[..];
        feed_input("sh", &["-c", "test \"$(cat)\" = hello"], &mut input, "x")
            .await
            .unwrap();
        let mut other = &b"other"[..];
        assert!(
            feed_input("sh", &["-c", "test \"$(cat)\" = hello"], &mut other, "x")
                .await
                .is_err()
        );
    }

    struct Failing;

    impl AsyncRead for Failing {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Err(io::Error::other("the download broke")))
        }
    }

    #[tokio::test]
    async fn a_broken_input_stops_the_tool_and_is_named() {
        // `cat` alone would succeed at the end of what it was given.
        let mut input = (&b"partial"[..]).chain(Failing);
        let error = feed_input("cat", &[], &mut input, "the backup b")
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("read the backup b: the download broke"),
            "{error}"
        );
    }
}
