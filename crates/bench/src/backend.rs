//! The console backend every subject relays to: a source that sends the
//! pattern (the backend-to-browser leg) or a sink that counts and checks it
//! (browser-to-backend), in the bench's own process so that its CPU is not
//! charged to the proxy.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::pattern::{self, Checker};

/// Which way the bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Backend to client (a screen update).
    Down,
    /// Client to backend (keystrokes, a paste, an upload).
    Up,
}

/// What a sink connection received.
#[derive(Debug)]
pub struct Received {
    /// Bytes, in all.
    pub bytes: u64,
    /// The first offset that broke the pattern, when checked.
    pub first_bad: Option<u64>,
}

/// What the backend's connections do once the gate opens.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Send or take.
    pub direction: Direction,
    /// Bytes per connection.
    pub per_stream: u64,
    /// Check received bytes against the pattern.
    pub verify: bool,
}

/// A running backend.
pub struct Backend {
    addr: SocketAddr,
    gate: watch::Sender<Option<Job>>,
    received: mpsc::UnboundedReceiver<Received>,
}

impl Backend {
    /// Listens on loopback. Each connection waits for the gate to open
    /// ([`Backend::go`]), then does that job and closes.
    ///
    /// # Errors
    /// When loopback cannot be bound.
    pub async fn start() -> Result<Backend, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("backend: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (gate, watching) = watch::channel(None::<Job>);
        let (report, received) = mpsc::unbounded_channel();
        let chunk: Arc<[u8]> = pattern::chunk().into();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (mut watching, report, chunk) =
                    (watching.clone(), report.clone(), chunk.clone());
                tokio::spawn(async move {
                    let Ok(job) = watching.wait_for(Option::is_some).await.map(|j| *j) else {
                        return;
                    };
                    let Some(job) = job else { return };
                    match job.direction {
                        Direction::Down => source(stream, job.per_stream, &chunk).await,
                        Direction::Up => {
                            let _ = report.send(sink(stream, job.per_stream, job.verify).await);
                        }
                    }
                });
            }
        });
        Ok(Backend {
            addr,
            gate,
            received,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the gate: connections from now on wait for the next job.
    pub fn hold(&self) {
        self.gate.send_replace(None);
    }

    /// Opens the gate: every waiting connection, and every later one until
    /// [`Backend::hold`], does `job`.
    pub fn go(&self, job: Job) {
        self.gate.send_replace(Some(job));
    }

    /// Waits for `n` sink connections to finish.
    ///
    /// # Errors
    /// When the backend stopped before `n` reported.
    pub async fn sunk(&mut self, n: usize) -> Result<Vec<Received>, String> {
        let mut all = Vec::with_capacity(n);
        while all.len() < n {
            all.push(self.received.recv().await.ok_or("backend stopped")?);
        }
        Ok(all)
    }
}

async fn source(mut stream: TcpStream, bytes: u64, chunk: &[u8]) {
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        if stream.write_all(&chunk[..n]).await.is_err() {
            return;
        }
        left -= n as u64;
    }
    let _ = stream.shutdown().await;
}

async fn sink(mut stream: TcpStream, bytes: u64, verify: bool) -> Received {
    let mut buf = vec![0u8; 256 * 1024];
    let mut checker = Checker::default();
    let mut got = 0u64;
    while got < bytes {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if verify {
                    checker.feed(&buf[..n]);
                }
                got += n as u64;
            }
        }
    }
    Received {
        bytes: got,
        first_bad: checker.first_bad(),
    }
}
