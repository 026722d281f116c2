//! A telnet server that stands in for a router's console: it offers the
//! options a real one does, prompts, and then echoes like a telnet server
//! with `ECHO` on. The test kit has no such endpoint; this crate brings
//! its own by implementing the kit's `ConformanceEndpoint`.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use consoled_core::{async_trait, BackendStream, Endpoint};
use consoled_testkit::conformance::{local_endpoint, ConformanceEndpoint};
use consoled_testkit::expect_connect_path;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// `IAC WILL ECHO IAC WILL SUPPRESS-GO-AHEAD` (RFC 854, 857, 858): what a
/// telnet server sends first so that the client leaves echo to it.
pub const NEGOTIATION: [u8; 6] = [255, 251, 1, 255, 251, 3];
/// The prompt after the negotiation.
pub const PROMPT: &[u8] = b"router login: ";

/// The fake telnet server: one listener on 127.0.0.1, a task per session,
/// stopped when dropped.
pub struct FakeTelnet {
    addr: SocketAddr,
    connect_path: Option<String>,
    sessions: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FakeTelnet {
    /// Starts it, behind `CONNECT <connect_path>` when given.
    pub async fn serve(connect_path: Option<&str>) -> io::Result<FakeTelnet> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let sessions = Arc::new(AtomicUsize::new(0));
        let path = connect_path.map(str::to_owned);
        let (counter, serving_path) = (sessions.clone(), path.clone());
        let task = tokio::spawn(async move {
            let mut running = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                running.spawn(session(stream, serving_path.clone()));
            }
        });
        Ok(FakeTelnet {
            addr,
            connect_path: path,
            sessions,
            task,
        })
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::SeqCst)
    }
}

impl Drop for FakeTelnet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session<S>(mut stream: S, connect_path: Option<String>) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Some(path) = connect_path.as_deref() {
        expect_connect_path(&mut stream, path).await?;
    }
    stream.write_all(&NEGOTIATION).await?;
    stream.write_all(PROMPT).await?;
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// The client half of a login through `stream`: the negotiation and the
/// prompt arrive, a user name typed comes back echoed.
pub async fn log_in(stream: &mut BackendStream) -> Result<(), String> {
    let mut greeting = vec![0u8; NEGOTIATION.len() + PROMPT.len()];
    stream
        .read_exact(&mut greeting)
        .await
        .map_err(|e| format!("no telnet greeting through the driver: {e}"))?;
    let (options, prompt) = greeting.split_at(NEGOTIATION.len());
    if options != NEGOTIATION || prompt != PROMPT {
        return Err(format!("the greeting arrived garbled: {greeting:?}"));
    }
    let typed: &[u8] = b"admin\r\n";
    stream
        .write_all(typed)
        .await
        .map_err(|e| format!("typing through the driver failed: {e}"))?;
    let mut echoed = vec![0u8; typed.len()];
    stream
        .read_exact(&mut echoed)
        .await
        .map_err(|e| format!("no echo through the driver: {e}"))?;
    if echoed != typed {
        return Err(format!("typed {typed:?}, the echo was {echoed:?}"));
    }
    Ok(())
}

#[async_trait]
impl ConformanceEndpoint for FakeTelnet {
    // Terminal servers behind a console gateway are reached with Nova's
    // CONNECT handshake like any other TCP console.
    const CONNECT_PATH: bool = true;

    async fn start(connect_path: Option<&str>) -> io::Result<Self> {
        FakeTelnet::serve(connect_path).await
    }

    fn endpoint(&self) -> Endpoint {
        local_endpoint(self.port(), self.connect_path.as_deref())
    }

    async fn exchange(&self, stream: &mut BackendStream) -> Result<(), String> {
        log_in(stream).await
    }

    fn verify(&self, exchanges: usize) -> Result<(), String> {
        match self.sessions() {
            n if n == exchanges => Ok(()),
            n => Err(format!("{n} telnet sessions, expected {exchanges}")),
        }
    }
}
