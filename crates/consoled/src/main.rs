#![doc = include_str!("../README.md")]

mod cli;
mod config;
mod inventory;
mod linked;
mod serve;
mod shutdown;
mod toml_error;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

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
        Command::Serve { config } => {
            init_logging();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the runtime: {e}")),
            };
            match runtime.block_on(serve::run(&config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

/// One line on standard error, exit status 1.
fn fail(message: &str) -> ExitCode {
    eprintln!("consoled: error: {message}");
    ExitCode::FAILURE
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
