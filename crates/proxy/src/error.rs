//! What can stop a proxy from starting or running.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the proxy cannot start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// A setting cannot be honoured (a zero interval, no sessions, half a
    /// TLS pair), named by its key.
    #[error("invalid proxy settings: {0}")]
    Settings(consoled_core::SettingError),
    /// No listener was configured.
    #[error("no proxy listener is configured")]
    NoListeners,
    /// A listener serves no console type.
    #[error("proxy listener {listen} serves no console type")]
    NoTypes {
        /// The listener's address.
        listen: SocketAddr,
    },
    /// A listener names a console type no linked driver provides.
    #[error("proxy listener {listen}: no driver for console type {console_type} is linked; available: {available}")]
    NoDriver {
        /// The listener's address.
        listen: SocketAddr,
        /// The type asked for.
        console_type: String,
        /// The types that are linked, comma-separated.
        available: String,
    },
    /// A listener names a console type that an external gateway serves.
    #[error(
        "proxy listener {listen}: console type {console_type} has no proxy of ours \
         (an external gateway serves it through the console auth token API)"
    )]
    ExternalFront {
        /// The listener's address.
        listen: SocketAddr,
        /// The type asked for.
        console_type: String,
    },
    /// A TLS certificate or key cannot be used.
    #[error("TLS file {path}: {reason}")]
    Tls {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A configured web root is not a readable directory.
    #[error("web root {path} is not a directory")]
    WebRoot {
        /// The configured path.
        path: PathBuf,
    },
    /// The recordings' folder cannot be made.
    #[error("recording.dir {path}: {source}")]
    RecordingDir {
        /// The configured folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A listening socket could not be bound.
    #[error("cannot listen on {listen}: {source}")]
    Bind {
        /// The address asked for.
        listen: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A listener's task failed.
    #[error("proxy listener {listen} failed: {reason}")]
    Listener {
        /// The listener's address.
        listen: SocketAddr,
        /// What happened.
        reason: String,
    },
}
