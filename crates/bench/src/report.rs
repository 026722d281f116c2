//! What a scenario prints: tables of medians by measure and subject, then
//! each target with its figure and ok or MISS.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// Samples by (measure, subject), in the order measures were first added.
#[derive(Debug, Default)]
pub struct Samples {
    measures: Vec<String>,
    values: BTreeMap<(String, String), Vec<f64>>,
}

impl Samples {
    /// Adds one run's figure.
    pub fn add(&mut self, measure: &str, subject: &str, value: f64) {
        if !self.measures.iter().any(|m| m == measure) {
            self.measures.push(measure.to_owned());
        }
        self.values
            .entry((measure.to_owned(), subject.to_owned()))
            .or_default()
            .push(value);
    }

    /// The measures, in order.
    pub fn measures(&self) -> &[String] {
        &self.measures
    }

    /// The median of the runs of `measure` for `subject`.
    pub fn median(&self, measure: &str, subject: &str) -> Option<f64> {
        let values = self.values.get(&(measure.to_owned(), subject.to_owned()))?;
        percentile(values, 50.0)
    }
}

/// The `p`th percentile (nearest rank) of `values`.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// A table: one row per measure, one column per subject.
pub struct Table {
    title: String,
    columns: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

impl Table {
    /// An empty table with `columns` after the measure column.
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Self {
        Table {
            title: title.into(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, measure: &str, cells: Vec<String>) {
        self.rows.push((measure.to_owned(), cells));
    }

    /// The medians of `samples` for every measure and `subjects`, shown
    /// with `places` decimals.
    pub fn from_samples(title: &str, samples: &Samples, subjects: &[&str], places: usize) -> Self {
        let mut table = Table::new(title, subjects);
        for measure in samples.measures() {
            let cells = subjects
                .iter()
                .map(|s| shown(samples.median(measure, s), places))
                .collect();
            table.row(measure, cells);
        }
        table
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}\n", self.title)?;
        write!(f, "| measure |")?;
        for c in &self.columns {
            write!(f, " {c} |")?;
        }
        write!(f, "\n|---|")?;
        for _ in &self.columns {
            write!(f, "---|")?;
        }
        writeln!(f)?;
        for (measure, cells) in &self.rows {
            write!(f, "| {measure} |")?;
            for c in cells {
                write!(f, " {c} |")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// A figure with `places` decimals, or `-` when there is none.
pub fn shown(value: Option<f64>, places: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.places$}"))
}

/// Which side of its bound a figure must be on.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// At least the bound.
    AtLeast(f64),
    /// At most the bound.
    AtMost(f64),
}

/// Targets and how the run did against them.
#[derive(Debug, Default)]
pub struct Targets {
    lines: Vec<String>,
}

impl Targets {
    /// Checks `value` (in `unit`) against `bound`; a missing figure is a
    /// MISS, never an ok.
    pub fn check(&mut self, what: &str, value: Option<f64>, bound: Bound, unit: &str) {
        let (ok, target) = match (bound, value) {
            (Bound::AtLeast(b), Some(v)) => (v >= b, format!(">= {b}{unit}")),
            (Bound::AtMost(b), Some(v)) => (v <= b, format!("<= {b}{unit}")),
            (Bound::AtLeast(b), None) => (false, format!(">= {b}{unit}")),
            (Bound::AtMost(b), None) => (false, format!("<= {b}{unit}")),
        };
        let mut line = String::new();
        let _ = write!(
            line,
            "- {what}: {}{unit} (target {target}) {}",
            shown(value, 2),
            if ok { "ok" } else { "MISS" }
        );
        self.lines.push(line);
    }
}

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn a_missing_figure_misses() {
        let mut t = Targets::default();
        t.check("x", None, Bound::AtLeast(1.0), "");
        t.check("y", Some(2.0), Bound::AtMost(3.0), " ms");
        let text = t.to_string();
        assert!(text.contains("- x: - (target >= 1) MISS"), "{text}");
        assert!(text.contains("- y: 2.00 ms (target <= 3 ms) ok"), "{text}");
    }
}
