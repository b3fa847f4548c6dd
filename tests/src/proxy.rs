//! A TCP proxy between a service and one of its backing services, so a test can cut the link
//! (every open connection closed, new ones refused) and restore it on the same address, without
//! touching the backing service that other tests share.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Forwards every connection made to [`TcpProxy::addr`] to the upstream address.
pub struct TcpProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    link: Mutex<Option<Link>>,
    cut_connections: Arc<AtomicUsize>,
}

/// The listener's task and the connections it forwards, while the link is up.
struct Link {
    accepting: JoinHandle<()>,
    connections: Arc<Mutex<JoinSet<()>>>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Self {
            addr: listener.local_addr()?,
            upstream,
            link: Mutex::new(None),
            cut_connections: Arc::new(AtomicUsize::new(0)),
        };
        *proxy.lock() = Some(Link::open(listener, upstream));
        Ok(proxy)
    }

    /// Where clients connect, e.g. `http://{addr}` for an HTTP upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every forwarded connection and stops listening, so new connections are refused.
    /// Returns how many open connections were closed.
    pub async fn cut(&self) -> usize {
        let Some(link) = self.lock().take() else {
            return 0;
        };
        link.accepting.abort();
        // Once the accepting task is gone its listener is closed: connecting is refused.
        let _ = link.accepting.await;
        let mut connections = std::mem::take(
            &mut *link
                .connections
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let open = connections.len();
        connections.abort_all();
        while connections.join_next().await.is_some() {}
        self.cut_connections.fetch_add(open, Ordering::SeqCst);
        open
    }

    /// Listens again on the same address.
    pub async fn restore(&self) -> io::Result<()> {
        if self.lock().is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(self.addr).await?;
        *self.lock() = Some(Link::open(listener, self.upstream));
        Ok(())
    }

    /// Connections closed by every [`TcpProxy::cut`] so far.
    pub fn cut_connections(&self) -> usize {
        self.cut_connections.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Link>> {
        self.link
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(link) = self.lock().take() {
            link.accepting.abort();
            link.connections
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .abort_all();
        }
    }
}

impl Link {
    fn open(listener: TcpListener, upstream: SocketAddr) -> Self {
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accepting = tokio::spawn({
            let connections = connections.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let mut set = connections
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    // Reap finished connections so the set only holds open ones.
                    while set.try_join_next().is_some() {}
                    set.spawn(forward(client, upstream));
                }
            }
        });
        Self {
            accepting,
            connections,
        }
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 64];
                    while let Ok(n) = socket.read(&mut buffer).await {
                        if n == 0 || socket.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
        stream.write_all(b"ping").await?;
        let mut answer = vec![0u8; 4];
        stream.read_exact(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn a_cut_closes_open_connections_and_refuses_new_ones_until_restored() {
        let proxy = TcpProxy::start(echo_server().await).await.unwrap();
        let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut open).await.unwrap(), b"ping");

        assert_eq!(proxy.cut().await, 1);
        assert!(
            round_trip(&mut open).await.is_err(),
            "the open connection was closed"
        );
        assert!(TcpStream::connect(proxy.addr()).await.is_err(), "refused");

        proxy.restore().await.unwrap();
        let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut again).await.unwrap(), b"ping");
        assert_eq!(proxy.cut_connections(), 1);
    }
}
