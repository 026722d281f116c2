//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// What `serve`, `api` and `proxy --help` print after the options: every
/// key of `consoled.toml`, generated from the settings structs, then the
/// inventory's format and logging.
fn config_help() -> String {
    let keys = match crate::linked::registry() {
        Ok(registry) => crate::config::help::config_keys(&registry),
        Err(e) => format!("(the configuration keys cannot be listed: {e})\n"),
    };
    format!("{keys}\n{INVENTORY_AND_LOGGING}")
}

/// The server inventory's keys (`[backend] inventory`) and logging.
const INVENTORY_AND_LOGGING: &str = "\
SERVER INVENTORY (the file [backend] inventory names)

  [[servers]]
  id = \"c6d5a3a0-9f4e-4b8e-9a4e-0d1f6a1e2b3c\"   (required, unique)
  name = \"web-1\"                                (required)
  project_id = \"demo\"                           (required) owner; other projects get 404
  status = \"ACTIVE\"                             ACTIVE (default), BUILD, SHUTOFF, PAUSED, ERROR, ...
  task_state = \"\"                               \"deleting\" or \"migrating\": 409
  host = \"compute-1\"                            absent: not scheduled yet, 409
  [servers.consoles.<protocol>]                 <protocol>: vnc, spice, serial, rdp, mks
  host = \"127.0.0.1\"                            (required) where the console listens
  port = 5901                                   (required, unless unix_socket)
  unix_socket = \"/run/vm-1/vnc.sock\"            a UNIX socket on the proxy's host, instead of port
  tls_port = 5931                               SPICE TLS port (spice-direct)
  internal_access_path = \"/path\"                sent as CONNECT <path> before relaying; for mks,
                                                the JSON {\"ticket\", \"cfgFile\", \"thumbprint\"}

LOGGING

  RUST_LOG sets the log filter (default info); logs go to standard error.";

/// consoled: remote consoles for virtual machines, speaking OpenStack
/// Compute's console API.
#[derive(Debug, Parser)]
#[command(name = "consoled", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the compute console API and the console proxies until
    /// SIGTERM or SIGINT (which drain in-flight requests and sessions, then
    /// exit 0).
    #[command(after_help = config_help())]
    Serve {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", env = "CONSOLED_CONFIG")]
        config: PathBuf,
    },
    /// Serve only the compute console API (scale it apart from the
    /// proxies; they must then share a token store).
    #[command(after_help = config_help())]
    Api {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", env = "CONSOLED_CONFIG")]
        config: PathBuf,
    },
    /// Serve only the console proxies of [[proxy.listeners]] (scale them
    /// apart from the API; they must then share a token store).
    #[command(after_help = config_help())]
    Proxy {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", env = "CONSOLED_CONFIG")]
        config: PathBuf,
    },
    /// Run the API and the proxies with two demo servers whose consoles are
    /// live test endpoints (a VNC screen with a clock, a serial login), and
    /// print a console URL per type.
    Demo(crate::demo::DemoOptions),
    /// List the linked console drivers: protocol, type, crate, first
    /// microversion, front.
    Drivers,
    /// List the live console sessions of every proxy node, cut one, or
    /// revoke a server's consoles, through the admin API.
    Sessions(crate::sessions_cmd::SessionsOptions),
    /// Write a PNG of a VNC console's screen, opening its console URL
    /// (novnc or xvpvnc) through the proxy as a browser would; the shared
    /// flag is set, so nobody's session is closed.
    Screenshot(crate::screenshot_cmd::ScreenshotArgs),
    /// Work with session recordings ([recording] dir).
    #[command(subcommand)]
    Recording(crate::recording_cmd::RecordingCommand),
}
