//! Where image bytes live: an object-store trait with a local-directory implementation (the
//! default). An S3-compatible backend implements the same two calls.

use std::io;
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

/// A stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// Keys are relative paths of `[a-z0-9._-]` segments, e.g. `3f2a…/thumbnail.jpg`.
pub trait ObjectStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, replacing any object there (readers never see a partial one).
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, io::Result<()>>;
    /// The object under `key`, if any.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Object>>>;
}

/// Whether `key` is safe as a relative path: no empty, hidden or parent segments.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 256
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
        })
}

fn content_type_of(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    }
}

/// Objects as files under one directory; the content type follows the key's extension.
#[derive(Debug, Clone)]
pub struct LocalDirectory {
    root: PathBuf,
}

impl LocalDirectory {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if valid_key(key) {
            Ok(self.root.join(key))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid object key",
            ))
        }
    }
}

impl ObjectStore for LocalDirectory {
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        _content_type: &'a str,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path(key)?;
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            // Write aside, then rename: a reader sees the old object or the whole new one.
            let temporary = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&temporary, bytes).await?;
            if let Err(error) = tokio::fs::rename(&temporary, &path).await {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(error);
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Object>>> {
        Box::pin(async move {
            let path = self.path(key)?;
            match tokio::fs::read(&path).await {
                Ok(bytes) => Ok(Some(Object {
                    bytes,
                    content_type: content_type_of(key).to_owned(),
                })),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        assert!(valid_key("0af3/thumbnail.jpg"));
        for bad in [
            "",
            "../etc/passwd",
            "a//b",
            "/abs",
            "a/.hidden",
            "A/b",
            "a/b c",
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn objects_round_trip_through_a_directory() {
        let root =
            std::env::temp_dir().join(format!("catalog-store-{}", uuid::Uuid::new_v4().simple()));
        let store = LocalDirectory::new(&root);
        store
            .put("ab/thumbnail.jpg", vec![1, 2, 3], "image/jpeg")
            .await
            .unwrap();
        let object = store.get("ab/thumbnail.jpg").await.unwrap().unwrap();
        assert_eq!(object.bytes, vec![1, 2, 3]);
        assert_eq!(object.content_type, "image/jpeg");
        assert_eq!(store.get("ab/medium.jpg").await.unwrap(), None);
        assert!(store.get("../x").await.is_err());
        let _ = std::fs::remove_dir_all(root);
    }
}
