//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Every key of `consoled.toml`, shown by `consoled serve --help`.
const CONFIG_KEYS: &str = "\
CONFIGURATION (TOML; every key is optional unless marked; unknown keys are refused)

  [api]
  listen = \"127.0.0.1:8774\"   address of the compute API (port 0: any free port)
  auth = \"noauth\"             identity mode; noauth: X-Auth-Token: <user>:<project>[:<role>,...]
                              (default role member; the user admin is an admin)

  [tokens]
  ttl_seconds = 600           how long a console token stays valid
  store = \"memory\"            where token records live: memory (this process only) or
                              redis (shared by every API and proxy node)
  redis_url = \"redis://127.0.0.1:6379/\"   with store = redis (Redis 7 or later)
  redis_key_prefix = \"consoled:\"  prefix of every key, so deployments can share a Redis

  [consoles.<type>]           <type>: novnc, xvpvnc, spice-html5, spice-direct, serial,
                              rdp-html5, webmks (a type whose driver is not linked is refused)
  enabled = true              false: requests for this type get 400 Unavailable console type
  base_url = \"<url>\"          base of the access URLs; defaults (Nova's):
                                novnc        http://127.0.0.1:6080/vnc_auto.html
                                xvpvnc       http://127.0.0.1:6081/console
                                spice-html5  http://127.0.0.1:6082/spice_auto.html
                                serial       ws://127.0.0.1:6083/
                                webmks       http://127.0.0.1:6090/
                                spice-direct http://127.0.0.1:13002/nova
                                rdp-html5    http://127.0.0.1:6083/ (Nova has none; set yours)

  [backend]
  inventory = \"servers.toml\"  (required) server inventory, relative to this file

  [proxy]                     the console proxies (consoled serve, consoled proxy)
  allowed_origins = []        Origin hosts accepted besides the request's Host
  enforce_session_timeout = false   true: close a session when its token expires
  keepalive_seconds = 30      WebSocket ping and TCP keepalive interval (0: none);
                              a dead peer's session is closed
  idle_timeout_seconds = 0    close a session after this long without data (0: never)
  max_frame_bytes = 1048576   largest frame a client may send (larger: close 1009)
  max_sessions = 1024         sessions per listener (beyond: 503)
  handshake_timeout_seconds = 10    time for TLS and the request head
  shutdown_grace_seconds = 30 time sessions get to finish after SIGTERM/SIGINT

  [[proxy.listeners]]         one per listening socket
  listen = \"127.0.0.1:6080\"   (required) address
  types = [\"novnc\"]           (required) console types served here; a token of another
                              type is refused. WebSocket: novnc, spice-html5, serial,
                              rdp-html5, webmks; raw TCP: xvpvnc (give it its own listener)
  web_root = \"/usr/share/novnc\"   static pages; default /usr/share/novnc for novnc and
                              /usr/share/spice-html5 for spice-html5 when installed
  tls_cert = \"cert.pem\"       PEM chain for https/wss (with tls_key); paths are
  tls_key = \"key.pem\"         relative to this file

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
  port = 5901                                   (required)
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
    #[command(after_help = CONFIG_KEYS)]
    Serve {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", env = "CONSOLED_CONFIG")]
        config: PathBuf,
    },
    /// Serve only the compute console API (scale it apart from the
    /// proxies; they must then share a token store).
    #[command(after_help = CONFIG_KEYS)]
    Api {
        /// The configuration file.
        #[arg(long, short, value_name = "FILE", env = "CONSOLED_CONFIG")]
        config: PathBuf,
    },
    /// Serve only the console proxies of [[proxy.listeners]] (scale them
    /// apart from the API; they must then share a token store).
    #[command(after_help = CONFIG_KEYS)]
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
}
