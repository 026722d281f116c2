//! The harness in quick mode, so that it cannot rot: every scenario runs
//! on small sizes and checks that every byte arrived intact. No figure is
//! asserted: speed belongs to the full runs.

use std::process::Command;

#[test]
fn throughput_quick_moves_every_byte_intact() {
    let out = Command::new(env!("CARGO_BIN_EXE_consoled-bench"))
        .args(["throughput", "--quick"])
        .output()
        .expect("the bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for row in [
        "1 stream down",
        "1 stream up",
        "3 streams down",
        "3 streams up",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {row} |")))
            .unwrap_or_else(|| panic!("no row {row}:\n{stdout}"));
        // Every subject measured the row: no cell of a rate is empty.
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        for rate in [cells[2], cells[4], cells[6]] {
            assert!(rate.parse::<f64>().is_ok(), "{row}: {line}");
        }
    }
}
