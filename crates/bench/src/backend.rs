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
pub enum Job {
    /// Send this many bytes of the pattern, then close.
    Send(u64),
    /// Take this many bytes (checking them against the pattern when
    /// `verify`), report, then close.
    Take {
        /// Bytes per connection.
        bytes: u64,
        /// Check received bytes against the pattern.
        verify: bool,
    },
    /// Send [`GREETING`] at once (as a VNC server does), then hold the
    /// connection until the client closes.
    Greet,
    /// Echo every byte until the client closes.
    Echo,
}

/// What [`Job::Greet`] sends: an RFB server's first message.
pub const GREETING: &[u8] = b"RFB 003.008\n";

impl Job {
    /// The job that moves `bytes` per stream in `direction`.
    pub fn bulk(direction: Direction, bytes: u64, verify: bool) -> Job {
        match direction {
            Direction::Down => Job::Send(bytes),
            Direction::Up => Job::Take { bytes, verify },
        }
    }
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
                    match job {
                        Job::Send(bytes) => source(stream, bytes, &chunk).await,
                        Job::Take { bytes, verify } => {
                            let _ = report.send(sink(stream, bytes, verify).await);
                        }
                        Job::Greet => greet(stream).await,
                        Job::Echo => echo(stream).await,
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

async fn greet(mut stream: TcpStream) {
    if stream.write_all(GREETING).await.is_err() {
        return;
    }
    let mut buf = [0u8; 64];
    while let Ok(1..) = stream.read(&mut buf).await {}
}

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
