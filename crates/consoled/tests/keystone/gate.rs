//! A TCP gate between consoled and Keystone: it counts token validations
//! on their way through, and can make Keystone unreachable (connections
//! refused) or silent (connections that never answer) and then bring it
//! back, without touching the Keystone other tests share.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// What the gate does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Relays to Keystone.
    Open,
    /// Closes every connection at once: Keystone is down.
    Refuse,
    /// Accepts and never answers: Keystone hangs.
    Silent,
}

/// The request line of a token validation.
const VALIDATION: &[u8] = b"GET /v3/auth/tokens ";

struct State {
    mode: Mutex<Mode>,
    validations: AtomicUsize,
    /// The relays of open connections, cut when the mode changes.
    relays: Mutex<JoinSet<()>>,
}

/// A running gate.
pub struct Gate {
    /// `http://<gate>/v3`.
    pub url: String,
    state: Arc<State>,
}

impl Gate {
    /// A gate in front of the Keystone at `keystone_url` (`http://host:port/v3`).
    pub async fn start(keystone_url: &str) -> Gate {
        let upstream: SocketAddr = keystone_url
            .trim_start_matches("http://")
            .trim_end_matches("/v3")
            .parse()
            .expect("Keystone on an address");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v3", listener.local_addr().unwrap());
        let state = Arc::new(State {
            mode: Mutex::new(Mode::Open),
            validations: AtomicUsize::new(0),
            relays: Mutex::new(JoinSet::new()),
        });
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = *shared.mode.lock().unwrap();
                let state = shared.clone();
                shared.relays.lock().unwrap().spawn(async move {
                    match mode {
                        Mode::Refuse => drop(client),
                        Mode::Silent => {
                            let mut client = client;
                            let mut sink = [0u8; 4096];
                            while let Ok(1..) = client.read(&mut sink).await {}
                        }
                        Mode::Open => relay(client, upstream, &state).await,
                    }
                });
            }
        });
        Gate { url, state }
    }

    /// Changes what the gate does, cutting every connection open now.
    pub fn set(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
        self.state.relays.lock().unwrap().abort_all();
    }

    /// Token validations relayed so far.
    pub fn validations(&self) -> usize {
        self.state.validations.load(Ordering::SeqCst)
    }
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, state: &State) {
    let Ok(mut keystone) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_rx, mut client_tx) = client.split();
    let (mut keystone_rx, mut keystone_tx) = keystone.split();
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        // The end of the previous read, so that a request line split
        // between two reads is still seen.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            tail.extend_from_slice(&buf[..n]);
            let found = tail
                .windows(VALIDATION.len())
                .filter(|w| *w == VALIDATION)
                .count();
            state.validations.fetch_add(found, Ordering::SeqCst);
            let keep = tail.len().saturating_sub(VALIDATION.len() - 1);
            tail.drain(..keep);
            if keystone_tx.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = keystone_tx.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut keystone_rx, &mut client_tx).await;
        let _ = client_tx.shutdown().await;
    };
    tokio::join!(up, down);
}
