//! A small SMTP receiver: it speaks enough SMTP for the service's mail client (EHLO/HELO, MAIL,
//! RCPT, DATA, RSET, NOOP, QUIT) and hands every message it accepts to the test, which reads the
//! links out of the mail actually sent. It can refuse its first messages with a temporary error,
//! as a mail server that is struggling does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a test waits for a mail it expects.
const MAIL_WAIT: Duration = Duration::from_secs(10);

pub struct MailSink {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    received: mpsc::UnboundedReceiver<ReceivedMail>,
}

/// One message as the SMTP client delivered it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope's recipients (`RCPT TO`), without angle brackets.
    pub recipients: Vec<String>,
    /// The message (headers and body) after dot-unstuffing.
    pub data: String,
}

impl MailSink {
    pub async fn start() -> Self {
        Self::refusing_first(0).await
    }

    /// A receiver that answers the first `refusals` messages with `451` (try again later) and
    /// accepts the rest.
    pub async fn refusing_first(refusals: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let (sender, received) = mpsc::unbounded_channel();
        let refusals = Arc::new(AtomicUsize::new(refusals));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, sender.clone(), refusals.clone()));
            }
        });
        Self { url, received }
    }

    /// The next mail delivered; fails the test if none arrives in time.
    pub async fn next(&mut self) -> ReceivedMail {
        tokio::time::timeout(MAIL_WAIT, self.received.recv())
            .await
            .expect("a mail arrives at the SMTP receiver")
            .expect("the SMTP receiver is running")
    }

    /// A mail already delivered and not yet taken, if any.
    pub fn try_next(&mut self) -> Option<ReceivedMail> {
        self.received.try_recv().ok()
    }
}

impl ReceivedMail {
    /// The message with quoted-printable soft line breaks and `=XX` escapes undone.
    pub fn decoded(&self) -> String {
        let bytes = self.data.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' {
                if bytes[i + 1..].starts_with(b"\r\n") {
                    i += 3;
                    continue;
                }
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The value of the first header called `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|line| !line.is_empty())
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }

    /// Every link in the mail to `<base><path>?token=…`, in order (text part first).
    pub fn links(&self, base_and_path: &str) -> Vec<String> {
        let decoded = self.decoded();
        let start = format!("{base_and_path}?token=");
        decoded
            .match_indices(&start)
            .map(|(at, _)| {
                let token: String = decoded[at + start.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                format!("{start}{token}")
            })
            .collect()
    }

    /// The token of the link to `<base><path>`; the text and HTML parts must carry the same one.
    pub fn token(&self, base_and_path: &str) -> String {
        let links = self.links(base_and_path);
        assert!(
            !links.is_empty(),
            "no {base_and_path} link in\n{}",
            self.decoded()
        );
        assert!(links.iter().all(|l| *l == links[0]), "{links:?}");
        let token = links[0].rsplit("token=").next().unwrap().to_owned();
        assert_eq!(token.len(), 43, "{token}");
        token
    }
}

async fn session(
    socket: TcpStream,
    delivered: mpsc::UnboundedSender<ReceivedMail>,
    refusals: Arc<AtomicUsize>,
) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let mut recipients = Vec::new();
    if write.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if command.starts_with("MAIL FROM:") || command.starts_with("RSET") {
            recipients.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO:") {
            let address = line.trim_end()["RCPT TO:".len()..].trim();
            let address = address.split_whitespace().next().unwrap_or_default();
            recipients.push(address.trim_matches(['<', '>']).to_owned());
            b"250 OK\r\n"
        } else if command == "DATA" {
            if write
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = String::new();
            loop {
                let mut line = String::new();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let refused = refusals
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refused {
                recipients.clear();
                b"451 4.3.0 temporarily unable to accept mail, try again later\r\n"
            } else {
                let _ = delivered.send(ReceivedMail {
                    recipients: std::mem::take(&mut recipients),
                    data,
                });
                b"250 OK queued\r\n"
            }
        } else if command.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
