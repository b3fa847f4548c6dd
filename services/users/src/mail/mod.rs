//! Outgoing mail, through a transactional outbox: a request writes its mail into `mail_outbox` in
//! the same transaction as the link the mail carries ([`outbox`]), so both commit or neither does,
//! and the answer never waits on a mail server. A dispatcher started with the service claims
//! due mails (`FOR UPDATE SKIP LOCKED` and a lease, so replicas share the work and a sender that
//! died mid-send is taken over), delivers them through SMTP (lettre) or, without an SMTP server,
//! as one `.eml` file per mail in a directory, and retries failures with backoff.

mod dispatcher;
pub mod outbox;

use std::sync::Arc;
use std::time::SystemTime;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use tokio::sync::{Notify, watch};

use crate::config::{MailSettings, MailTransport};
use crate::error::{Error, Result};

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

/// A handle on the outbox and its dispatcher; cheap to clone. The dispatcher stops once every
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct Mailer {
    wake: Arc<Notify>,
    public_url: String,
    /// Never sent on: dropping the last clone closes it, which stops the dispatcher.
    _running: Arc<watch::Sender<()>>,
}

impl Mailer {
    /// Builds the transport and spawns the dispatcher on the current runtime.
    pub fn start(db: PgPool, settings: &MailSettings) -> Result<Self> {
        let transport = Transport::new(settings)?;
        let wake = Arc::new(Notify::new());
        let (running, stopped) = watch::channel(());
        let dispatcher = dispatcher::Dispatcher::new(db, transport, settings);
        tokio::spawn(dispatcher.run(wake.clone(), stopped));
        Ok(Self {
            wake,
            public_url: settings.public_url.clone(),
            _running: Arc::new(running),
        })
    }

    /// `<public URL><path>?token=<token>`: a link into the store.
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.public_url)
    }

    /// Tells this process's dispatcher that mail was just committed, so it goes out now rather
    /// than at the next poll. Harmless when nothing was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Where mails go.
pub(crate) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    fn new(settings: &MailSettings) -> Result<Self> {
        Ok(match &settings.transport {
            MailTransport::Smtp(url) => Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| Error::Mail(format!("USERS_SMTP_URL is not usable: {e}")))?
                    .timeout(Some(settings.send_timeout))
                    .build(),
            ),
            MailTransport::Directory(dir) => {
                // Signing in must not depend on mail: a directory that cannot be created (say, a
                // read-only container without USERS_SMTP_URL) is reported here, and each
                // delivery into it then fails, is retried and finally kept as failed.
                if let Err(error) = std::fs::create_dir_all(dir) {
                    tracing::error!(%error, dir = %dir.display(),
                        "the mail directory cannot be created; mails will not be delivered \
                         (set USERS_SMTP_URL, or USERS_MAIL_DIR to a writable directory)");
                }
                Self::Files(AsyncFileTransport::new(dir))
            }
        })
    }

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

/// The message of a stored mail. Its `Message-ID` derives from the outbox id, so a mail sent
/// twice (a sender that died after the server accepted it) is recognisable as one.
fn compose(from: &Mailbox, mail: &outbox::QueuedMail) -> Result<Message, String> {
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|e| format!("recipient address: {e}"))?;
    // Quoted-printable keeps long links intact through any relay (lines stay ≤ 76 characters).
    let part = |content_type: ContentType, body: &str| {
        SinglePart::builder()
            .header(content_type)
            .header(ContentTransferEncoding::QuotedPrintable)
            .body(body.to_owned())
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .date(SystemTime::from(mail.created_at))
        .message_id(Some(format!("<{}@{}>", mail.id, from.email.domain())))
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, &mail.text))
                .singlepart(part(ContentType::TEXT_HTML, &mail.html)),
        )
        .map_err(|e| e.to_string())
}

fn count(kind: &str, outcome: &'static str) {
    metrics::counter!("users_mails_total", "kind" => kind.to_owned(), "outcome" => outcome)
        .increment(1);
}
