//! The accept loop every endpoint shares.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A TCP listener on 127.0.0.1 with an OS-chosen port, serving each
/// connection in its own task. Dropping it stops the accept loop and, since
/// the sessions live in the loop's `JoinSet`, every open session too.
pub(crate) struct Listener {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Binds and starts serving; `session` runs once per accepted connection.
    pub(crate) async fn spawn<H, F>(endpoint: &'static str, session: H) -> io::Result<Listener>
    where
        H: Fn(TcpStream) -> F + Send + Sync + 'static,
        F: Future<Output = io::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            let mut sessions = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, peer)) => {
                            counter.fetch_add(1, Ordering::SeqCst);
                            // Consoles are interactive: never hold back a keystroke.
                            let _ = stream.set_nodelay(true);
                            let running = session(stream);
                            sessions.spawn(async move {
                                if let Err(e) = running.await {
                                    tracing::debug!(endpoint, %peer, error = %e, "test endpoint session ended");
                                }
                            });
                        }
                        Err(e) => {
                            // Out of descriptors and the like: back off instead of spinning.
                            tracing::warn!(endpoint, error = %e, "test endpoint accept failed");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    },
                    Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                }
            }
        });
        Ok(Listener {
            addr,
            connections,
            task,
        })
    }

    /// Where the endpoint listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// TCP connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}
