//! The table a scenario prints: medians per row and subject, then the
//! ratios of consoled to the plain relay against the targets.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::throughput::Sample;

/// consoled's throughput must be at least this share of the plain relay's.
const THROUGHPUT_TARGET: f64 = 0.95;
/// consoled's CPU per GB must be at most this multiple of the plain relay's.
const CPU_TARGET: f64 = 1.1;

/// Samples by row, then subject, in the order rows were added.
pub struct Table {
    rows: Vec<String>,
    samples: BTreeMap<(String, &'static str), Vec<Sample>>,
    quick: bool,
}

impl Table {
    /// An empty table; a quick one says its figures mean nothing.
    pub fn new(quick: bool) -> Self {
        Table {
            rows: Vec::new(),
            samples: BTreeMap::new(),
            quick,
        }
    }

    /// Adds one run's sample.
    pub fn add(&mut self, row: &str, subject: &'static str, sample: Sample) {
        if !self.rows.iter().any(|r| r == row) {
            self.rows.push(row.to_owned());
        }
        self.samples
            .entry((row.to_owned(), subject))
            .or_default()
            .push(sample);
    }

    fn median(
        &self,
        row: &str,
        subject: &'static str,
        f: impl Fn(&Sample) -> Option<f64>,
    ) -> Option<f64> {
        let mut values: Vec<f64> = self
            .samples
            .get(&(row.to_owned(), subject))?
            .iter()
            .filter_map(f)
            .collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    }

    /// The table as text: GB/s and CPU s/GB per subject, then consoled's
    /// ratios to the plain relay, each with ok or MISS.
    pub fn render(&self, subjects: &[&'static str]) -> String {
        let mut out = String::new();
        if self.quick {
            out.push_str("quick mode: small sizes, every byte checked; the figures mean nothing\n");
        }
        let _ = write!(out, "| measure |");
        for s in subjects {
            let _ = write!(out, " {s} GB/s | {s} CPU s/GB |");
        }
        out.push_str(" consoled/relay GB/s | consoled/relay CPU |\n|---|");
        out.push_str(&"---|---|".repeat(subjects.len()));
        out.push_str("---|---|\n");
        for row in &self.rows {
            let _ = write!(out, "| {row} |");
            for &s in subjects {
                let rate = self.median(row, s, |x| Some(x.gb_per_s()));
                let cpu = self.median(row, s, Sample::cpu_per_gb);
                let _ = write!(out, " {} | {} |", shown(rate, 2), shown(cpu, 2));
            }
            let ratio = |f: &dyn Fn(&Sample) -> Option<f64>| {
                Some(self.median(row, "consoled", f)? / self.median(row, "plain relay", f)?)
            };
            let rate = ratio(&|x| Some(x.gb_per_s()));
            let cpu = ratio(&Sample::cpu_per_gb);
            let _ = writeln!(
                out,
                " {} | {} |",
                verdict(rate, |r| r >= THROUGHPUT_TARGET, THROUGHPUT_TARGET, ">="),
                verdict(cpu, |r| r <= CPU_TARGET, CPU_TARGET, "<=")
            );
        }
        out
    }
}

fn shown(value: Option<f64>, places: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.places$}"))
}

fn verdict(ratio: Option<f64>, ok: impl Fn(f64) -> bool, target: f64, op: &str) -> String {
    match ratio {
        Some(r) if r.is_finite() => {
            format!(
                "{r:.2}x {} (target {op} {target})",
                if ok(r) { "ok" } else { "MISS" }
            )
        }
        _ => "-".to_owned(),
    }
}
