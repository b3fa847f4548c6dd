//! Outgoing mail: a bounded queue drained by one background task that delivers through SMTP
//! (lettre) or, without an SMTP server, writes one `.eml` file per mail into a directory.
//! Requests only enqueue, after their transaction has committed, so a slow or broken mail server
//! never delays or fails an answer; delivery failures are logged and counted.

pub mod outbox;

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::mpsc;

use crate::config::{MailSettings, MailTransport};
use crate::error::{Error, Result};

/// Mails beyond this many waiting are dropped (and logged): a flood must not grow memory.
const QUEUE_CAPACITY: usize = 1024;

/// One mail: the same content as plain text and as HTML.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What the mail is for, a metric label: `password_reset`, `email_verification`.
    pub kind: &'static str,
}

/// A handle on the delivery queue; cheap to clone.
#[derive(Debug, Clone)]
pub struct Mailer {
    queue: mpsc::Sender<(Message, &'static str)>,
    from: Mailbox,
    public_url: String,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Self::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Self::Files(files) => files
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }
}

impl Mailer {
    /// Builds the transport and spawns the delivery task on the current runtime; the task ends
    /// once every clone of the returned handle is dropped.
    pub fn start(settings: &MailSettings) -> Result<Self> {
        let transport = match &settings.transport {
            MailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| Error::Mail(format!("USERS_SMTP_URL is not usable: {e}")))?
                    .timeout(Some(settings.send_timeout))
                    .build(),
            ),
            MailTransport::Directory(dir) => {
                // Signing in must not depend on mail: a directory that cannot be created (say, a
                // read-only container without USERS_SMTP_URL) is reported here, and each
                // delivery into it then fails and is logged.
                if let Err(error) = std::fs::create_dir_all(dir) {
                    tracing::error!(%error, dir = %dir.display(),
                        "the mail directory cannot be created; mails will not be delivered \
                         (set USERS_SMTP_URL, or USERS_MAIL_DIR to a writable directory)");
                }
                Transport::Files(AsyncFileTransport::new(dir))
            }
        };
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(deliver(transport, receiver, settings.send_timeout));
        Ok(Self {
            queue,
            from: settings.from.clone(),
            public_url: settings.public_url.clone(),
        })
    }

    /// `<public URL><path>?token=<token>`: a link into the store.
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.public_url)
    }

    /// Queues `mail` for delivery; never waits and never fails the caller.
    pub fn send(&self, mail: Mail) {
        let kind = mail.kind;
        let message = match self.message(mail) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, kind, "a mail could not be composed");
                count(kind, "failed");
                return;
            }
        };
        if self.queue.try_send((message, kind)).is_err() {
            tracing::warn!(kind, "the mail queue is full; mail dropped");
            count(kind, "dropped");
        }
    }

    fn message(&self, mail: Mail) -> Result<Message, String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?;
        // Quoted-printable keeps long links intact through any relay (lines stay ≤ 76 characters).
        let part = |content_type: ContentType, body: String| {
            SinglePart::builder()
                .header(content_type)
                .header(ContentTransferEncoding::QuotedPrintable)
                .body(body)
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, mail.text))
                    .singlepart(part(ContentType::TEXT_HTML, mail.html)),
            )
            .map_err(|e| e.to_string())
    }
}

/// Delivers queued mails one after another, each within `timeout`.
async fn deliver(
    transport: Transport,
    mut queue: mpsc::Receiver<(Message, &'static str)>,
    timeout: Duration,
) {
    while let Some((message, kind)) = queue.recv().await {
        let outcome = match tokio::time::timeout(timeout, transport.send(message)).await {
            Ok(Ok(())) => "sent",
            Ok(Err(error)) => {
                tracing::warn!(%error, kind, "sending a mail failed");
                "failed"
            }
            Err(_) => {
                tracing::warn!(
                    kind,
                    timeout_seconds = timeout.as_secs(),
                    "sending a mail timed out"
                );
                "failed"
            }
        };
        count(kind, outcome);
    }
}

fn count(kind: &'static str, outcome: &'static str) {
    metrics::counter!("users_mails_total", "kind" => kind, "outcome" => outcome).increment(1);
}
