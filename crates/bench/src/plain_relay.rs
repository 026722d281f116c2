//! The one-hop limit: a TCP relay that does nothing but copy, with tokio's
//! `copy_bidirectional` and 64 KiB buffers. The bench runs it as its own
//! process (`consoled-bench plain-relay`), so that its CPU is measured the
//! way consoled's is.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

/// The relay's buffer per direction.
const BUFFER: usize = 64 * 1024;

/// Relays every connection on `listen` to `to` until killed.
///
/// # Errors
/// When `listen` cannot be bound.
pub async fn run(listen: SocketAddr, to: SocketAddr) -> Result<(), String> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("plain relay: {listen}: {e}"))?;
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let Ok(mut backend) = TcpStream::connect(to).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = backend.set_nodelay(true);
            let _ =
                tokio::io::copy_bidirectional_with_sizes(&mut client, &mut backend, BUFFER, BUFFER)
                    .await;
        });
    }
}
