//! The bounded channel between what produces a backup (a tool's output, the documents writer) and
//! the storage that keeps it, and the copy loop that streams a backup into a tool or a file.
//!
//! The reading end ends cleanly only after the producer has said it finished: a producer that
//! fails or stops early makes the reader fail, so a partial dump is never stored as a backup.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::mpsc;

use crate::error::Error;

/// Chunks the producer sends: a tool's output is read this much at a time, and the documents
/// writer hands over its compressed output once it reaches this size.
pub const CHUNK: usize = 64 * 1024;

/// Chunks in flight between producer and storage.
const CAPACITY: usize = 8;

enum Message {
    Data(Vec<u8>),
    End,
}

/// The producing end.
pub struct Sink {
    sender: mpsc::Sender<Message>,
}

/// The reading end, for the storage.
pub struct Source {
    receiver: mpsc::Receiver<Message>,
    chunk: Vec<u8>,
    offset: usize,
    ended: bool,
}

/// A bounded pipe: at most a few chunks wait between the two ends.
pub fn pipe() -> (Sink, Source) {
    let (sender, receiver) = mpsc::channel(CAPACITY);
    (
        Sink { sender },
        Source {
            receiver,
            chunk: Vec::new(),
            offset: 0,
            ended: false,
        },
    )
}

impl Sink {
    /// Hands `bytes` to the reader, waiting while the pipe is full. Fails when the reader has
    /// gone (the storage failed), so the producer stops.
    pub async fn send(&mut self, bytes: Vec<u8>) -> Result<(), Error> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.sender
            .send(Message::Data(bytes))
            .await
            .map_err(|_| Error::UploadStopped)
    }

    /// Marks the backup complete: only now does the reader see its end.
    pub async fn finish(self) -> Result<(), Error> {
        self.sender
            .send(Message::End)
            .await
            .map_err(|_| Error::UploadStopped)
    }
}

impl AsyncRead for Source {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.offset < self.chunk.len() {
                let n = buf.remaining().min(self.chunk.len() - self.offset);
                let start = self.offset;
                buf.put_slice(&self.chunk[start..start + n]);
                self.offset += n;
                return Poll::Ready(Ok(()));
            }
            if self.ended {
                return Poll::Ready(Ok(()));
            }
            match ready!(self.receiver.poll_recv(cx)) {
                Some(Message::Data(bytes)) => {
                    self.chunk = bytes;
                    self.offset = 0;
                }
                Some(Message::End) => self.ended = true,
                None => {
                    return Poll::Ready(Err(io::Error::other("the dump stopped before its end")));
                }
            }
        }
    }
}

/// Where a copy failed.
#[derive(Debug)]
pub enum CopyError {
    /// Reading the backup failed (the download broke).
    Read(io::Error),
    /// Writing failed (the tool stopped reading, or the disk).
    Write(io::Error),
}

/// Copies `reader` into `writer` until the reader ends; returns the bytes copied.
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> Result<u64, CopyError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0; CHUNK];
    let mut total = 0_u64;
    loop {
        let n = reader.read(&mut buf).await.map_err(CopyError::Read)?;
        if n == 0 {
            break;
        }
        writer
            .write_all(&buf[..n])
            .await
            .map_err(CopyError::Write)?;
        total += n as u64;
    }
    writer.flush().await.map_err(CopyError::Write)?;
    Ok(total)
}

/// Writes everything `reader` yields to a new file at `path` and flushes it to disk; returns the
/// bytes written. On failure the file is removed, so no partial file remains.
pub async fn write_file<R>(path: &Path, reader: &mut R) -> Result<u64, CopyError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let written = async {
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(CopyError::Write)?;
        let bytes = copy(reader, &mut file).await?;
        file.sync_all().await.map_err(CopyError::Write)?;
        Ok(bytes)
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(path).await;
    }
    written
}

/// A reader that counts what is read through it.
pub struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R> Counted<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, count: 0 }
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Counted<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        self.count += (buf.filled().len() - before) as u64;
        Poll::Ready(Ok(()))
    }
}

/// Reads up to `n` bytes (fewer only at the end): the start of a backup, to check its kind
/// before anything is written.
pub async fn read_head<R>(reader: &mut R, n: usize) -> io::Result<Vec<u8>>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut head = Vec::with_capacity(n);
    (&mut *reader).take(n as u64).read_to_end(&mut head).await?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_reader_ends_only_after_the_producer_finishes() {
        let (mut sink, mut source) = pipe();
        let producer = async move {
            sink.send(b"hello ".to_vec()).await.unwrap();
            sink.send(b"world".to_vec()).await.unwrap();
            sink.finish().await.unwrap();
        };
        let mut read = Vec::new();
        let (_, result) = tokio::join!(producer, source.read_to_end(&mut read));
        result.unwrap();
        assert_eq!(read, b"hello world");
    }

    #[tokio::test]
    async fn a_producer_that_stops_early_makes_the_reader_fail() {
        let (mut sink, mut source) = pipe();
        let producer = async move {
            sink.send(b"partial".to_vec()).await.unwrap();
            // Dropped without `finish`: the dump failed.
        };
        let mut read = Vec::new();
        let (_, result) = tokio::join!(producer, source.read_to_end(&mut read));
        assert!(result.is_err());
        assert_eq!(read, b"partial");
    }

    #[tokio::test]
    async fn a_producer_learns_that_the_reader_has_gone() {
        let (mut sink, source) = pipe();
        drop(source);
        assert!(matches!(
            sink.send(b"x".to_vec()).await,
            Err(Error::UploadStopped)
        ));
    }

    #[tokio::test]
    async fn a_copy_names_the_side_that_failed() {
        let mut data = &b"abc"[..];
        let mut out = Vec::new();
        assert_eq!(copy(&mut data, &mut out).await.unwrap(), 3);
        assert_eq!(out, b"abc");
        let (_, mut source) = pipe();
        assert!(matches!(
            copy(&mut source, &mut Vec::new()).await,
            Err(CopyError::Read(_))
        ));
        let mut head = &b"REDIS0011rest"[..];
        assert_eq!(read_head(&mut head, 9).await.unwrap(), b"REDIS0011");
        assert_eq!(head, b"rest");
    }

    #[tokio::test]
    async fn a_file_is_written_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("pipe-{}", uuid::Uuid::new_v4()));
        tokio::fs::create_dir_all(&dir).await.unwrap();
        let whole = dir.join("whole");
        let mut counted = Counted::new(&b"all of it"[..]);
        assert_eq!(write_file(&whole, &mut counted).await.unwrap(), 9);
        assert_eq!(counted.count(), 9);
        assert_eq!(tokio::fs::read(&whole).await.unwrap(), b"all of it");

        let broken = dir.join("broken");
        let (mut sink, mut source) = pipe();
        let producer = async move {
            sink.send(b"half".to_vec()).await.unwrap();
        };
        let (_, written) = tokio::join!(producer, write_file(&broken, &mut source));
        assert!(matches!(written, Err(CopyError::Read(_))));
        assert!(!broken.exists());
        tokio::fs::remove_dir_all(&dir).await.unwrap();
    }
}
