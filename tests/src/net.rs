//! Loopback ports and waiting for listeners.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// A free port of at least `min` (QEMU's VNC display numbers count from 5900).
pub fn free_port_from(min: u16) -> u16 {
    let start = min + (std::process::id() % 2000) as u16;
    (start..u16::MAX)
        .chain(min..start)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("no free loopback port")
}

/// Waits until something accepts TCP at `addr`.
///
/// # Panics
/// When nothing does within `limit`.
pub async fn wait_for_listener(addr: SocketAddr, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
