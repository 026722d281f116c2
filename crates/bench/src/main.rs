//! `consoled-bench`: what consoled adds to the path between a browser and
//! a VM, measured beside direct TCP, a plain relay and websockify in the
//! same run, on the same payloads.
//!
//! `cargo run --release -p consoled-bench -- <scenario>` prints tables of
//! medians and each target with ok or MISS; `all` runs every scenario and
//! can draw the chart of BENCHMARKS.md. `--quick` runs the same code on
//! small sizes and checks every byte: the test suite runs it so that the
//! harness cannot rot, and its figures mean nothing.

mod api;
mod backend;
mod chart;
mod client;
mod cpu;
mod idle;
mod lab;
mod open;
mod pattern;
mod plain_relay;
mod report;
mod roundtrip;
mod subject;
mod throughput;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::backend::Direction;
use crate::cpu::Usage;
use crate::lab::{Lab, LabOptions};
use crate::report::{percentile, Bound, Samples, Table, Targets};
use crate::subject::{AxumLimit, Subject};

/// consoled's benchmark harness.
#[derive(Debug, Parser)]
#[command(name = "consoled-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// (1) Bulk throughput down (backend to client) and up, over 1 and 20
    /// streams: GB/s and the subject's CPU seconds per GB.
    Throughput(Common),
    /// (2) Open latency: TCP, upgrade, token check, backend connect, first
    /// backend byte; p50 and p99 over 1000 sequential opens.
    Open(Common),
    /// (3) Round trips of 64 B and 1 KiB to an echoing backend: p50 and
    /// p99, and what each subject adds to direct TCP and the plain relay.
    Roundtrip(Common),
    /// (4) Memory per idle session: the slope of the subject's PSS at 0,
    /// 1000, 4000 and 8000 open sessions; and 9000 held on one listener.
    Idle(Common),
    /// (5) API: console creations per second and p99 at concurrency 1 and
    /// 64, beside a minimal axum handler.
    Api(Common),
    /// Every scenario, one after another.
    All {
        #[command(flatten)]
        common: Common,
        /// Draw the chart of throughput, CPU per GB and idle memory here
        /// (PNG).
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
    },
    /// The plain relay the bench measures against (run by the bench).
    #[command(hide = true)]
    PlainRelay {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        to: SocketAddr,
    },
    /// The minimal axum handler the API is measured against (run by the
    /// bench).
    #[command(hide = true)]
    AxumLimit {
        #[arg(long)]
        listen: SocketAddr,
    },
}

#[derive(Debug, Clone, Args)]
struct Common {
    /// Runs per measurement; tables show medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds-long runs on small sizes that check every byte (the test
    /// suite's mode): no figure it prints means anything.
    #[arg(long)]
    quick: bool,
    /// The consoled binary (default: the one beside this bench, built if
    /// missing).
    #[arg(long, value_name = "FILE")]
    consoled: Option<PathBuf>,
    /// Leave websockify out (it is installed from PyPI into a virtualenv
    /// under the target folder on first use).
    #[arg(long)]
    without_websockify: bool,
}

impl Common {
    fn runs(&self) -> usize {
        if self.quick {
            1
        } else {
            self.runs.max(1)
        }
    }

    fn lab(&self, consoled_proxy: &str) -> LabOptions {
        LabOptions {
            consoled: self.consoled.clone(),
            consoled_proxy: consoled_proxy.to_owned(),
            consoled_tokens: String::new(),
            without_websockify: self.without_websockify,
        }
    }
}

/// What a scenario found: its text, and the figures the chart draws.
#[derive(Debug, Default)]
struct Section {
    text: String,
    chart: chart::Figures,
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
    let outcome = runtime.block_on(async {
        let section = match cli.command {
            Command::Throughput(c) => throughput(&c).await?,
            Command::Open(c) => open(&c).await?,
            Command::Roundtrip(c) => roundtrip(&c).await?,
            Command::Idle(c) => idle(&c).await?,
            Command::Api(c) => api(&c).await?,
            Command::All { common, chart } => return all(&common, chart).await,
            Command::PlainRelay { listen, to } => return plain_relay::run(listen, to).await,
            Command::AxumLimit { listen } => return api::axum_limit(listen).await,
        };
        print!("{}", section.text);
        Ok(())
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("consoled-bench: error: {message}");
    ExitCode::FAILURE
}

async fn all(common: &Common, chart_file: Option<PathBuf>) -> Result<(), String> {
    let mut figures = chart::Figures::default();
    for section in [
        throughput(common).await?,
        open(common).await?,
        roundtrip(common).await?,
        idle(common).await?,
        api(common).await?,
    ] {
        println!("{}", section.text);
        figures.merge(section.chart);
    }
    if let Some(file) = chart_file {
        chart::draw(&figures, &file)?;
        println!("chart: {}", file.display());
    }
    Ok(())
}

fn quick_note(common: &Common) -> &'static str {
    if common.quick {
        "(quick mode: small sizes, every byte checked; the figures mean nothing)\n\n"
    } else {
        ""
    }
}

async fn throughput(common: &Common) -> Result<Section, String> {
    let (total, streams) = if common.quick {
        (8_000_000u64, [1usize, 3])
    } else {
        (1_000_000_000, [1, 20])
    };
    let verify = common.quick;
    let mut lab = Lab::start(&common.lab("")).await?;
    let (mut rates, mut cpus) = (Samples::default(), Samples::default());
    for n in streams {
        for direction in [Direction::Down, Direction::Up] {
            let measure = format!(
                "{n} stream{} {}",
                if n == 1 { "" } else { "s" },
                if direction == Direction::Down {
                    "down"
                } else {
                    "up"
                }
            );
            for _ in 0..common.runs() {
                // Subjects take turns within a run, so that drift in the
                // machine's load touches each alike.
                for subject in &lab.subjects {
                    let sample = throughput::measure(
                        subject,
                        &mut lab.backend,
                        direction,
                        n,
                        total / n as u64,
                        verify,
                    )
                    .await
                    .map_err(|e| format!("{} {measure}: {e}", subject.name()))?;
                    rates.add(&measure, subject.name(), sample.gb_per_s());
                    if let Some(cpu) = sample.cpu_per_gb() {
                        cpus.add(&measure, subject.name(), cpu);
                    }
                }
            }
        }
    }
    let names = lab.names();
    let mut targets = Targets::default();
    for measure in rates.measures() {
        let ratio =
            |s: &Samples| Some(s.median(measure, "consoled")? / s.median(measure, "plain relay")?);
        targets.check(
            &format!("{measure}: consoled / plain relay throughput"),
            ratio(&rates),
            Bound::AtLeast(0.95),
            "x",
        );
        targets.check(
            &format!("{measure}: consoled / plain relay CPU per GB"),
            ratio(&cpus),
            Bound::AtMost(1.1),
            "x",
        );
    }
    let mut chart = chart::Figures::default();
    for measure in rates.measures() {
        for name in &names {
            chart.throughput.push((
                measure.clone(),
                (*name).to_owned(),
                rates.median(measure, name),
            ));
            chart.cpu.push((
                measure.clone(),
                (*name).to_owned(),
                cpus.median(measure, name),
            ));
        }
    }
    Ok(Section {
        text: format!(
            "## Throughput ({} MB per measurement, medians of {} runs)\n\n{}{}\n{}\n{}",
            total / 1_000_000,
            common.runs(),
            quick_note(common),
            Table::from_samples("GB/s", &rates, &names, 2),
            Table::from_samples(
                "subject's CPU seconds per GB (utime + stime, children included)",
                &cpus,
                &names,
                2
            ),
            targets
        ),
        chart,
    })
}

async fn open(common: &Common) -> Result<Section, String> {
    let count = if common.quick { 20 } else { 1000 };
    let lab = Lab::start(&common.lab("")).await?;
    let names = lab.names();
    let mut samples = Samples::default();
    for _ in 0..common.runs() {
        for subject in &lab.subjects {
            let times = open::measure(subject, &lab.backend, count)
                .await
                .map_err(|e| format!("{} open: {e}", subject.name()))?;
            samples.add(
                "p50 ms",
                subject.name(),
                percentile(&times, 50.0).unwrap_or(f64::NAN),
            );
            samples.add(
                "p99 ms",
                subject.name(),
                percentile(&times, 99.0).unwrap_or(f64::NAN),
            );
        }
    }
    let mut targets = Targets::default();
    targets.check(
        "consoled open p50",
        samples.median("p50 ms", "consoled"),
        Bound::AtMost(0.25),
        " ms",
    );
    targets.check(
        "consoled open p99",
        samples.median("p99 ms", "consoled"),
        Bound::AtMost(0.6),
        " ms",
    );
    Ok(Section {
        text: format!(
            "## Open latency ({count} sequential opens to the first backend byte, medians of {} runs)\n\n{}{}\n{}",
            common.runs(),
            quick_note(common),
            Table::from_samples("milliseconds", &samples, &names, 3),
            targets
        ),
        chart: chart::Figures::default(),
    })
}

async fn roundtrip(common: &Common) -> Result<Section, String> {
    let count = if common.quick { 50 } else { 10_000 };
    let lab = Lab::start(&common.lab("")).await?;
    let names = lab.names();
    let mut samples = Samples::default();
    for size in [64usize, 1024] {
        let label = if size == 64 { "64 B" } else { "1 KiB" };
        for _ in 0..common.runs() {
            for subject in &lab.subjects {
                let times = roundtrip::measure(subject, &lab.backend, size, count)
                    .await
                    .map_err(|e| format!("{} round trip: {e}", subject.name()))?;
                samples.add(
                    &format!("{label} p50 us"),
                    subject.name(),
                    percentile(&times, 50.0).unwrap_or(f64::NAN),
                );
                samples.add(
                    &format!("{label} p99 us"),
                    subject.name(),
                    percentile(&times, 99.0).unwrap_or(f64::NAN),
                );
            }
        }
    }
    let mut added = Table::new(
        "microseconds added at p50 (64 B), over direct TCP and over the plain relay",
        &["over direct", "over plain relay"],
    );
    let mut targets = Targets::default();
    for name in &names {
        let over = |base: &str| {
            Some(samples.median("64 B p50 us", name)? - samples.median("64 B p50 us", base)?)
        };
        added.row(
            name,
            vec![
                report::shown(over("direct TCP"), 1),
                report::shown(over("plain relay"), 1),
            ],
        );
        if *name == "consoled" {
            targets.check(
                "consoled 64 B round trip p50 over the plain relay",
                over("plain relay"),
                Bound::AtMost(10.0),
                " us",
            );
        }
    }
    Ok(Section {
        text: format!(
            "## Round trips ({count} per size over one session, medians of {} runs)\n\n{}{}\n{}\n{}",
            common.runs(),
            quick_note(common),
            Table::from_samples("microseconds", &samples, &names, 1),
            added,
            targets
        ),
        chart: chart::Figures::default(),
    })
}

async fn idle(common: &Common) -> Result<Section, String> {
    let (counts, websockify_counts, held) = if common.quick {
        (vec![0, 20, 50], vec![0, 5, 10], 60)
    } else {
        // websockify forks a Python process per session: a few hundred
        // give its slope without exhausting the machine.
        (vec![0, 1000, 4000, 8000], vec![0, 50, 200, 400], 9000)
    };
    // Sessions the default limit (1024 per listener) would refuse.
    let lab = Lab::start(&common.lab("max_sessions = 10000")).await?;
    let names = lab.names();
    let mut per_session = Samples::default();
    for _ in 0..common.runs() {
        for subject in &lab.subjects {
            if subject.pid().is_none() {
                continue;
            }
            let steps = if matches!(subject, Subject::Websockify(_)) {
                &websockify_counts
            } else {
                &counts
            };
            let (points, open) = idle::measure(subject, &lab.backend, steps)
                .await
                .map_err(|e| format!("{} idle: {e}", subject.name()))?;
            drop(open);
            // Let the subject see every close before the next one starts.
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Some(slope) = idle::slope(&points) {
                per_session.add("KiB per idle session", subject.name(), slope / 1024.0);
            }
        }
    }
    // The most sessions one listener must hold at once, without an error.
    let consoled = lab
        .subjects
        .iter()
        .find(|s| matches!(s, Subject::Consoled(_)))
        .ok_or("no consoled")?;
    let held_ok = idle::measure(consoled, &lab.backend, &[held]).await;
    let held_text = match &held_ok {
        Ok(_) => format!("{held} sessions held at once on one listener: ok"),
        Err(e) => format!("{held} sessions held at once on one listener: MISS ({e})"),
    };
    drop(held_ok);
    lab.backend.hold();
    let mut targets = Targets::default();
    targets.check(
        "consoled memory per idle session",
        per_session.median("KiB per idle session", "consoled"),
        Bound::AtMost(16.0),
        " KiB",
    );
    let chart = chart::Figures {
        idle: names
            .iter()
            .map(|n| {
                (
                    (*n).to_owned(),
                    per_session.median("KiB per idle session", n),
                )
            })
            .collect(),
        ..chart::Figures::default()
    };
    Ok(Section {
        text: format!(
            "## Idle sessions (PSS slope over {counts:?} open sessions; websockify over {websockify_counts:?}; medians of {} runs)\n\n{}{}\n{}- {held_text}\n",
            common.runs(),
            quick_note(common),
            Table::from_samples("KiB per session", &per_session, &names, 1),
            targets
        ),
        chart,
    })
}

async fn api(common: &Common) -> Result<Section, String> {
    let length = if common.quick {
        Duration::from_millis(300)
    } else {
        Duration::from_secs(5)
    };
    let mut options = common.lab("");
    options.without_websockify = true;
    // Every request mints a console that lives 600 s: no store limit may
    // be what a run measures.
    options.consoled_tokens =
        "max_live_records = 100000000\nmax_live_records_per_project = 0".into();
    let lab = Lab::start(&options).await?;
    let consoled = match lab
        .subjects
        .iter()
        .find(|s| matches!(s, Subject::Consoled(_)))
    {
        Some(Subject::Consoled(c)) => c,
        _ => return Err("no consoled".into()),
    };
    let limit = AxumLimit::start()?;
    let subjects = [
        ("consoled", consoled.api(), consoled.pid()),
        ("axum limit", limit.addr(), limit.pid()),
    ];
    let mut samples = Samples::default();
    for concurrency in [1usize, 64] {
        for _ in 0..common.runs() {
            for (name, addr, pid) in subjects {
                let request = api::create_request(addr, subject::SERVER);
                let before = Usage::of(pid)?;
                let load = api::measure(addr, request, concurrency, length)
                    .await
                    .map_err(|e| format!("{name} API c={concurrency}: {e}"))?;
                // What the subject spent per answer: steadier from run to
                // run than the rate, which the load clients share the
                // host's cores with. What the clients spent, and how often
                // the subject lost a core it could still use, say how.
                let spent = Usage::of(pid)?.since(&before);
                let answered = load.latencies.len().max(1) as f64;
                let per_request = |cpu: Duration| cpu.as_secs_f64() * 1e6 / answered;
                samples.add(
                    &format!("c={concurrency} CPU us per request"),
                    name,
                    per_request(spent.subject),
                );
                samples.add(
                    &format!("c={concurrency} load clients' CPU us per request"),
                    name,
                    per_request(spent.clients),
                );
                samples.add(
                    &format!("c={concurrency} preemptions per 1000 requests"),
                    name,
                    spent.preemptions as f64 * 1000.0 / answered,
                );
                samples.add(
                    &format!("c={concurrency} requests/s"),
                    name,
                    load.per_second,
                );
                samples.add(
                    &format!("c={concurrency} p99 ms"),
                    name,
                    percentile(&load.latencies, 99.0).unwrap_or(f64::NAN),
                );
                samples.add(
                    &format!("c={concurrency} p99.99 ms"),
                    name,
                    percentile(&load.latencies, 99.99).unwrap_or(f64::NAN),
                );
                samples.add(
                    &format!("c={concurrency} max ms"),
                    name,
                    load.latencies.iter().copied().fold(f64::NAN, f64::max),
                );
            }
        }
    }
    let mut targets = Targets::default();
    let ratio = samples
        .median("c=64 requests/s", "consoled")
        .zip(samples.median("c=64 requests/s", "axum limit"))
        .map(|(ours, limit)| ours / limit);
    targets.check(
        "consoled / axum limit requests per second at c=64",
        ratio,
        Bound::AtLeast(API_TARGET),
        "x",
    );
    let subject = samples.median("c=64 CPU us per request", "consoled");
    let clients = samples.median("c=64 load clients' CPU us per request", "consoled");
    let needed = match (subject, clients, ratio) {
        (Some(subject), Some(clients), Some(ratio)) => {
            let spent = format!("it spent {subject:.2} us per request, its clients {clients:.2}");
            match cpu_for_ratio(subject, clients, ratio, API_TARGET) {
                cpu if cpu > 0.0 => format!(
                    "- the load clients share the cores: {API_TARGET}x would take consoled at \
                     {cpu:.2} us of CPU per request or less ({spent})\n"
                ),
                _ => format!(
                    "- the load clients share the cores: no CPU per request of consoled's \
                     would reach {API_TARGET}x beside what they spend ({spent})\n"
                ),
            }
        }
        _ => String::new(),
    };
    Ok(Section {
        text: format!(
            "## API (POST remote-consoles, {} s per measurement, medians of {} runs)\n\n{}{}\n{}{}",
            length.as_secs_f64(),
            common.runs(),
            quick_note(common),
            Table::from_samples(
                "requests per second, latencies, the subject's CPU (utime + stime) and its \
                 load clients' per request, and how often the subject lost a core it could use",
                &samples,
                &["consoled", "axum limit"],
                2
            ),
            targets,
            needed
        ),
        chart: chart::Figures::default(),
    })
}

/// The API's target: this share of the axum limit's requests per second.
const API_TARGET: f64 = 0.8;

/// The CPU per request (µs) at which a subject that spent `subject` µs,
/// with its load clients spending `clients` µs, would answer at `target`
/// instead of `ratio` times the limit's rate.
///
/// At c=64 the subject and the clients keep the cores busy between them,
/// so the rate goes as one over what both spend per request: the
/// subject's part must shrink until both together spend `ratio / target`
/// of what they do now.
fn cpu_for_ratio(subject: f64, clients: f64, ratio: f64, target: f64) -> f64 {
    (subject + clients) * ratio / target - clients
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_a_ratio_takes() {
        // 20 + 10 µs per request at half the limit's rate: both together
        // must spend 30 * 0.5 / 0.8 = 18.75 µs, so the subject 8.75.
        let needed = cpu_for_ratio(20.0, 10.0, 0.5, 0.8);
        assert!((needed - 8.75).abs() < 1e-9, "{needed}");
        // A subject already at the target needs to spend no less.
        assert!((cpu_for_ratio(20.0, 10.0, 0.8, 0.8) - 20.0).abs() < 1e-9);
    }
}
