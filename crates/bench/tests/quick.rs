//! The harness in quick mode, so that it cannot rot: every scenario runs
//! on small sizes against every subject (websockify included, installed
//! into a virtualenv on first use), and the harness itself fails on a lost,
//! extra or corrupted byte, a refused session or a non-200 answer. No
//! figure is asserted: speed belongs to the full runs.

use std::process::Command;

#[test]
fn every_scenario_runs_quick_against_every_subject() {
    let chart = std::env::temp_dir().join(format!("consoled-bench-{}.png", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_consoled-bench"))
        .args(["all", "--quick", "--chart"])
        .arg(&chart)
        .output()
        .expect("the bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name}:\n{stdout}"))
            .split('|')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
    };
    // Every subject measured every bulk row and every latency row.
    for name in [
        "1 stream down",
        "1 stream up",
        "3 streams down",
        "3 streams up",
        "p50 ms",
        "64 B p50 us",
        "1 KiB p99 us",
    ] {
        let cells = row(name);
        assert_eq!(cells.len(), 5, "{name}: {cells:?}");
        assert!(
            cells[1..].iter().all(|c| c.parse::<f64>().is_ok()),
            "{name}: {cells:?}"
        );
    }
    let idle = row("KiB per idle session");
    assert!(
        idle[2..].iter().all(|c| c.parse::<f64>().is_ok()),
        "{idle:?}"
    );
    assert!(
        stdout.contains("60 sessions held at once on one listener: ok"),
        "{stdout}"
    );
    let api = row("c=64 requests/s");
    assert!(
        api[1..]
            .iter()
            .all(|c| c.parse::<f64>().is_ok_and(|r| r > 0.0)),
        "{api:?}"
    );
    // The subjects' CPU per answer is charged from /proc in clock ticks:
    // a short run may round to nothing, never to a negative or a blank.
    for name in [
        "c=64 CPU us per request",
        "c=64 load clients' CPU us per request",
        "c=64 preemptions per 1000 requests",
    ] {
        let cells = row(name);
        assert!(
            cells[1..]
                .iter()
                .all(|c| c.parse::<f64>().is_ok_and(|v| v >= 0.0)),
            "{name}: {cells:?}"
        );
    }
    assert!(
        stdout.contains("- the load clients share the cores: "),
        "{stdout}"
    );
    let png = std::fs::read(&chart).expect("the chart was drawn");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let _ = std::fs::remove_file(&chart);
}
