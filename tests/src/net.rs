//! Loopback ports and waiting for listeners.

use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Ports this test process has handed out. A port is free only until its
/// process binds it, so two tests running side by side could otherwise be
/// given the same one (and one QEMU would fail to bind its VNC port while
/// the other's answers in its place).
static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// Records `port` as handed out; false if it already was.
fn claim(port: u16) -> bool {
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if handed_out.contains(&port) {
        return false;
    }
    handed_out.push(port);
    true
}

/// A TCP port on 127.0.0.1 that was free a moment ago and that this
/// process has not handed out before.
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("no free loopback port");
        if claim(port) {
            return port;
        }
    }
}

/// A free port of at least `min` (QEMU's VNC display numbers count from 5900)
/// that this process has not handed out before.
pub fn free_port_from(min: u16) -> u16 {
    let start = min + (std::process::id() % 2000) as u16;
    (start..u16::MAX)
        .chain(min..start)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok() && claim(*p))
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
