//! A serial console with a getty and a tiny shell: the demo's serial line.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::getty::Getty;
use super::listener::Listener;

/// A serial console that behaves like a getty: prints
/// `\r\n<hostname> login: `, reads a user name, asks `Password: ` (any
/// password will do, unechoed), then offers a `$ ` prompt that echoes what
/// is typed and answers `uname`, `date`, `whoami`, `hostname` and `help`
/// (anything else: `<cmd>: command not found`; `exit` logs out). Used by
/// `consoled demo`.
pub struct SerialLogin {
    listener: Listener,
}

impl SerialLogin {
    /// Starts a console whose machine is called `hostname`.
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound.
    pub async fn start(hostname: &str) -> io::Result<SerialLogin> {
        let hostname: Arc<str> = Arc::from(hostname);
        let listener = Listener::spawn("serial-login", move |stream| {
            session(stream, hostname.clone())
        })
        .await?;
        Ok(SerialLogin { listener })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.listener.connections()
    }
}

async fn session(mut stream: TcpStream, hostname: Arc<str>) -> io::Result<()> {
    let mut getty = Getty::new(&hostname);
    let mut out = Vec::new();
    getty.greet(&mut out);
    stream.write_all(&out).await?;
    let mut input = [0u8; 1024];
    loop {
        let n = stream.read(&mut input).await?;
        if n == 0 {
            return Ok(());
        }
        out.clear();
        getty.feed(&input[..n], &mut out);
        stream.write_all(&out).await?;
    }
}
