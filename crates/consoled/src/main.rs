#![doc = include_str!("../README.md")]
// The configuration structs' doc comments are the key reference users read
// in `serve --help` (schemars carries them there), written as keys are
// written (`[keystone_authtoken]`, `<user>:<project>`), not as rustdoc
// links and HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

mod cli;
mod config;
mod demo;
mod http_listener;
mod inventory;
mod linked;
mod logging;
mod metrics_listener;
mod process_metrics;
mod recording_cmd;
mod screenshot_cmd;
mod serve;
mod sessions_cmd;
mod shutdown;
mod toml_error;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::LogFormat;
use crate::serve::Roles;

/// Every request allocates on one worker thread and often frees on the
/// other; glibc's malloc then contends on its arena locks (futex calls on
/// most requests under load), where mimalloc frees to per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Drivers => match linked::registry() {
            Ok(registry) => {
                print!("{}", linked::listing(&registry));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Command::Serve { config } => serve_roles(
            &config,
            Roles {
                api: true,
                proxy: true,
            },
        ),
        Command::Api { config } => serve_roles(
            &config,
            Roles {
                api: true,
                proxy: false,
            },
        ),
        Command::Proxy { config } => serve_roles(
            &config,
            Roles {
                api: false,
                proxy: true,
            },
        ),
        Command::Demo(options) => block_on(LogFormat::Text, demo::run(options)),
        Command::Sessions(options) => block_on(LogFormat::Text, sessions_cmd::run(options)),
        Command::Screenshot(args) => block_on(LogFormat::Text, screenshot_cmd::run(args)),
        Command::Recording(command) => block_on(LogFormat::Text, recording_cmd::run(command)),
    }
}

fn serve_roles(config: &std::path::Path, roles: Roles) -> ExitCode {
    let log = config::log_settings(config);
    block_on(log.format, serve::run(config, roles))
}

/// Runs `work` on a fresh multi-threaded runtime, with logging in `format`.
fn block_on(
    format: LogFormat,
    work: impl std::future::Future<Output = Result<(), String>>,
) -> ExitCode {
    let logging = match logging::init(format) {
        Ok(logging) => logging,
        Err(e) => return fail(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            drop(logging);
            return fail(&format!("cannot start the runtime: {e}"));
        }
    };
    let outcome = runtime.block_on(async {
        logging.spawn_drop_report();
        work.await
    });
    drop(runtime);
    // Every queued line goes out before the last word.
    drop(logging);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// One line on standard error, exit status 1.
fn fail(message: &str) -> ExitCode {
    eprintln!("consoled: error: {message}");
    ExitCode::FAILURE
}
