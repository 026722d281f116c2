//! `consoled-bench`: what consoled adds to the path between a browser and
//! a VM, measured beside direct TCP and a plain relay in the same run.
//!
//! `cargo run --release -p consoled-bench -- throughput` prints a table of
//! medians and the ratios to the targets; `--quick` runs the same code on
//! small sizes, which the test suite does so that the harness cannot rot.

mod backend;
mod client;
mod cpu;
mod pattern;
mod plain_relay;
mod report;
mod subject;
mod throughput;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::backend::{Backend, Direction};
use crate::report::Table;
use crate::subject::{Consoled, Direct, PlainRelay, Subject};

/// consoled's benchmark harness.
#[derive(Debug, Parser)]
#[command(name = "consoled-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bulk throughput down (backend to client) and up, over 1 and many
    /// streams: GB/s and the subject's CPU seconds per GB.
    Throughput(ThroughputArgs),
    /// The plain relay the bench measures against (run by the bench).
    #[command(hide = true)]
    PlainRelay {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        to: SocketAddr,
    },
}

#[derive(Debug, Args)]
struct ThroughputArgs {
    /// Megabytes (10^6 bytes) per measurement, split over its streams.
    #[arg(long, default_value_t = 1000)]
    size_mb: u64,
    /// Stream counts to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 20])]
    streams: Vec<usize>,
    /// Runs per measurement; the table shows medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds-long run on small sizes that checks every byte (the test
    /// suite's mode): no figure it prints means anything.
    #[arg(long)]
    quick: bool,
    /// The consoled binary (default: the one beside this bench, built if
    /// missing).
    #[arg(long)]
    consoled: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let outcome = match cli.command {
        Command::Throughput(args) => runtime.block_on(throughput(args)),
        Command::PlainRelay { listen, to } => runtime.block_on(plain_relay::run(listen, to)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("consoled-bench: error: {message}");
    ExitCode::FAILURE
}

async fn throughput(mut args: ThroughputArgs) -> Result<(), String> {
    if args.quick {
        args.size_mb = 8;
        args.runs = 1;
        args.streams = vec![1, 3];
    }
    let verify = args.quick;
    let mut backend = Backend::start().await?;
    let binary = subject::consoled_binary(args.consoled.take())?;
    let direct = Direct(backend.addr());
    let relay = PlainRelay::start(backend.addr())?;
    let consoled = Consoled::start(&binary, backend.addr(), "")?;
    let mut table = Table::new(args.quick);
    for &streams in &args.streams {
        for direction in [Direction::Down, Direction::Up] {
            let per_stream = args.size_mb * 1_000_000 / streams as u64;
            let row = format!(
                "{streams} stream{} {}",
                if streams == 1 { "" } else { "s" },
                match direction {
                    Direction::Down => "down",
                    Direction::Up => "up",
                }
            );
            for run in 0..args.runs {
                // Interleave the subjects so that drift in the machine's
                // load touches each alike.
                let _ = run;
                table.add(
                    &row,
                    direct.name(),
                    measure(
                        &direct,
                        &mut backend,
                        direction,
                        streams,
                        per_stream,
                        verify,
                    )
                    .await?,
                );
                table.add(
                    &row,
                    relay.name(),
                    measure(&relay, &mut backend, direction, streams, per_stream, verify).await?,
                );
                table.add(
                    &row,
                    consoled.name(),
                    measure(
                        &consoled,
                        &mut backend,
                        direction,
                        streams,
                        per_stream,
                        verify,
                    )
                    .await?,
                );
            }
        }
    }
    print!(
        "{}",
        table.render(&[direct.name(), relay.name(), consoled.name()])
    );
    Ok(())
}

async fn measure<S: Subject>(
    subject: &S,
    backend: &mut Backend,
    direction: Direction,
    streams: usize,
    per_stream: u64,
    verify: bool,
) -> Result<throughput::Sample, String> {
    throughput::measure(subject, backend, direction, streams, per_stream, verify)
        .await
        .map_err(|e| format!("{}: {e}", subject.name()))
}
