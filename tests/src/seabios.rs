//! SeaBIOS's text on a serial console: what a guest without a disk prints,
//! again and again (it reboots a second after finding no disk).

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::stack::LIMIT;

/// Whether `seen` holds SeaBIOS's banner followed by its boot failure.
pub fn whole_boot_seen(seen: &[u8]) -> bool {
    let text = String::from_utf8_lossy(seen);
    text.find("SeaBIOS")
        .is_some_and(|banner| text[banner..].contains("No bootable device"))
}

/// Reads the serial console `socket` until a whole boot came through (we
/// may join in the middle of one).
///
/// # Panics
/// When the session ends first or nothing comes within [`LIMIT`]; the
/// message carries `log()` (the consoled log, say).
pub async fn read_whole_boot(socket: &mut WebSocketStream<TcpStream>, log: impl Fn() -> String) {
    let mut seen = Vec::new();
    while !whole_boot_seen(&seen) {
        match timeout(LIMIT, socket.next())
            .await
            .expect("SeaBIOS text in time")
        {
            Some(Ok(Message::Binary(bytes))) => seen.extend_from_slice(&bytes),
            Some(Ok(_)) => {}
            other => panic!("serial session ended: {other:?}\n{}", log()),
        }
    }
}
