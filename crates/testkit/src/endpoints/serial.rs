//! A serial console that echoes.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::connect_path::expect_connect_path;
use super::listener::Listener;

/// A serial console endpoint that echoes every byte back, optionally
/// behind a `CONNECT <path>` handshake.
pub struct SerialEcho {
    listener: Listener,
    connect_path: Arc<Option<String>>,
}

impl SerialEcho {
    /// Starts an echo endpoint that speaks at once.
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound.
    pub async fn start() -> io::Result<SerialEcho> {
        Self::spawn(None).await
    }

    /// Starts an echo endpoint that first requires `CONNECT <path> HTTP/1.1`
    /// (a wrong path gets `404` and the connection closes).
    ///
    /// # Errors
    /// When 127.0.0.1 cannot be bound.
    pub async fn start_with_connect_path(path: &str) -> io::Result<SerialEcho> {
        Self::spawn(Some(path.to_owned())).await
    }

    async fn spawn(path: Option<String>) -> io::Result<SerialEcho> {
        let connect_path: Arc<Option<String>> = Arc::new(path);
        let path = connect_path.clone();
        let listener =
            Listener::spawn("serial-echo", move |stream| echo(stream, path.clone())).await?;
        Ok(SerialEcho {
            listener,
            connect_path,
        })
    }

    /// The `CONNECT` path it requires, if any.
    pub fn connect_path(&self) -> Option<&str> {
        self.connect_path.as_deref()
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

async fn echo(mut stream: TcpStream, path: Arc<Option<String>>) -> io::Result<()> {
    if let Some(path) = path.as_deref() {
        expect_connect_path(&mut stream, path).await?;
    }
    let (mut reader, mut writer) = stream.split();
    tokio::io::copy(&mut reader, &mut writer).await?;
    writer.shutdown().await
}
