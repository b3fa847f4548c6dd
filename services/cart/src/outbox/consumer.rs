//! Reading the events stream as a consumer group (at-least-once), handling each event id once
//! per group: an id already marked handled is acknowledged and skipped.

use std::future::Future;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use redis::streams::{StreamReadOptions, StreamReadReply};
use uuid::Uuid;

use super::Event;
use crate::error::Error;

pub struct EventConsumer {
    redis: ConnectionManager,
    stream: String,
    group: String,
    consumer: String,
    /// Key prefix of the "already handled" markers.
    seen_prefix: String,
    /// How long a handled id is remembered; longer than any redelivery can take.
    remember: Duration,
}

impl EventConsumer {
    pub fn new(
        redis: ConnectionManager,
        stream: &str,
        group: &str,
        consumer: &str,
        key_prefix: &str,
    ) -> Self {
        Self {
            redis,
            stream: stream.to_owned(),
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            seen_prefix: format!("{key_prefix}seen:{group}:"),
            remember: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// Creates the group (from the stream's start) unless it exists.
    pub async fn ensure_group(&mut self) -> Result<(), Error> {
        let created: Result<(), redis::RedisError> = self
            .redis
            .xgroup_create_mkstream(&self.stream, &self.group, "0")
            .await;
        match created {
            Ok(()) => Ok(()),
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Reads up to `count` new entries (waiting at most `block`), hands each unseen event to
    /// `handle`, and acknowledges them. Returns how many events were handled (not skipped).
    /// An event whose handler fails stays pending and unmarked, to be delivered again.
    pub async fn poll<F, Fut>(
        &mut self,
        count: usize,
        block: Duration,
        mut handle: F,
    ) -> Result<usize, Error>
    where
        F: FnMut(Event) -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        let options = StreamReadOptions::default()
            .group(&self.group, &self.consumer)
            .count(count)
            .block(usize::try_from(block.as_millis()).unwrap_or(usize::MAX));
        let reply: Option<StreamReadReply> = self
            .redis
            .xread_options(&[&self.stream], &[">"], &options)
            .await?;
        let mut handled = 0;
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            for entry in key.ids {
                let event = parse(&entry);
                let Some(event) = event else {
                    tracing::warn!(entry = %entry.id, "malformed event dropped");
                    self.ack(&entry.id).await?;
                    continue;
                };
                let marker = format!("{}{}", self.seen_prefix, event.id);
                let seen: bool = self.redis.exists(&marker).await?;
                if !seen {
                    handle(event).await?;
                    let _: () = self
                        .redis
                        .set_ex(&marker, 1, self.remember.as_secs())
                        .await?;
                    handled += 1;
                }
                self.ack(&entry.id).await?;
            }
        }
        Ok(handled)
    }

    async fn ack(&mut self, entry: &str) -> Result<(), Error> {
        let _: i64 = self.redis.xack(&self.stream, &self.group, &[entry]).await?;
        Ok(())
    }
}

fn parse(entry: &redis::streams::StreamId) -> Option<Event> {
    let id: String = entry.get("id")?;
    let payload: String = entry.get("payload")?;
    Some(Event {
        id: Uuid::parse_str(&id).ok()?,
        event_type: entry.get("type")?,
        aggregate_id: entry.get("aggregateId")?,
        payload: serde_json::from_str(&payload).ok()?,
    })
}
