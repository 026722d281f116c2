//! The chart of BENCHMARKS.md: throughput and CPU per GB per measure and
//! subject, and memory per idle session, as grouped bars in one PNG.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::FontStyle;

/// Where Debian's fonts-dejavu-core puts the face the chart writes with.
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// One colour per subject, the same in every panel.
const COLOURS: [(&str, RGBColor); 4] = [
    ("direct TCP", RGBColor(120, 120, 120)),
    ("plain relay", RGBColor(70, 130, 180)),
    ("websockify", RGBColor(220, 120, 40)),
    ("consoled", RGBColor(40, 160, 90)),
];

fn colour(subject: &str) -> RGBColor {
    COLOURS
        .iter()
        .find(|(name, _)| *name == subject)
        .map_or(BLACK, |(_, c)| *c)
}

/// How a panel's values are scaled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scale {
    Linear,
    /// For figures that span orders of magnitude (idle memory).
    Log,
}

/// The figures a run collected for the chart.
#[derive(Debug, Default)]
pub struct Figures {
    /// (measure, subject, GB/s).
    pub throughput: Vec<(String, String, Option<f64>)>,
    /// (measure, subject, CPU s/GB).
    pub cpu: Vec<(String, String, Option<f64>)>,
    /// (subject, KiB per idle session).
    pub idle: Vec<(String, Option<f64>)>,
}

impl Figures {
    /// Takes in another section's figures.
    pub fn merge(&mut self, other: Figures) {
        self.throughput.extend(other.throughput);
        self.cpu.extend(other.cpu);
        self.idle.extend(other.idle);
    }
}

/// Draws `figures` into `file` (PNG, 1800x600).
///
/// # Errors
/// When the font is missing or the file cannot be written.
pub fn draw(figures: &Figures, file: &Path) -> Result<(), String> {
    let font = std::fs::read(FONT)
        .map_err(|e| format!("{FONT}: {e} (apt-get install fonts-dejavu-core)"))?;
    // plotters keeps registered fonts for the life of the process.
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| format!("{FONT} is not a usable font"))?;
    let root = BitMapBackend::new(file, (1800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let panels = root.split_evenly((1, 3));
    grouped(
        &panels[0],
        "throughput, GB/s (higher is better)",
        &figures.throughput,
        Scale::Linear,
    )?;
    grouped(
        &panels[1],
        "proxy CPU s per GB (lower is better)",
        &figures.cpu,
        Scale::Linear,
    )?;
    let idle: Vec<(String, String, Option<f64>)> = figures
        .idle
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(s, v)| ("idle session".to_owned(), s.clone(), *v))
        .collect();
    grouped(
        &panels[2],
        "KiB per idle session, log scale (lower is better)",
        &idle,
        Scale::Log,
    )?;
    root.present().map_err(|e| e.to_string())
}

/// Bars of `values` grouped by measure, one colour per subject.
fn grouped<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    values: &[(String, String, Option<f64>)],
    scale: Scale,
) -> Result<(), String> {
    let mut measures: Vec<&str> = Vec::new();
    let mut subjects: Vec<&str> = Vec::new();
    for (m, s, _) in values {
        if !measures.contains(&m.as_str()) {
            measures.push(m);
        }
        if !subjects.contains(&s.as_str()) {
            subjects.push(s);
        }
    }
    let largest = values
        .iter()
        .filter_map(|(_, _, v)| *v)
        .fold(0.0f64, f64::max);
    // Headroom above the bars for the legend.
    let (floor, top) = match scale {
        Scale::Linear => (0.0, largest.max(1e-9) * 1.5),
        Scale::Log => (1.0, largest.max(10.0) * 8.0),
    };
    let groups = measures.len().max(1);
    // Groups are centred on whole numbers, so that the labels fall there.
    let x_range = -0.5..(groups as f64 - 0.5);
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60);
    let label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() > 1e-6 || i < 0.0 {
            return String::new();
        }
        measures
            .get(i as usize)
            .map_or(String::new(), |m| (*m).to_owned())
    };
    let width = 0.8 / subjects.len().max(1) as f64;
    let bars = |si: usize, subject: &str| -> Vec<Rectangle<(f64, f64)>> {
        values
            .iter()
            .filter(|(_, s, _)| s == subject)
            .filter_map(|(m, _, v)| {
                let gi = measures.iter().position(|x| x == m)? as f64;
                let x0 = gi - 0.4 + si as f64 * width;
                let v = (*v)?.max(floor);
                Some(Rectangle::new(
                    [(x0, floor), (x0 + width * 0.9, v)],
                    colour(subject).filled(),
                ))
            })
            .collect()
    };
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(groups * 2 + 1)
                .x_label_formatter(&label)
                .label_style(("sans-serif", 14))
                .draw()
                .map_err(|e| e.to_string())?;
            for (si, subject) in subjects.iter().enumerate() {
                let c = colour(subject);
                chart
                    .draw_series(bars(si, subject))
                    .map_err(|e| e.to_string())?
                    .label(*subject)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 12, y + 6)], c.filled())
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(|e| e.to_string())
        }};
    }
    match scale {
        Scale::Linear => draw!(builder
            .build_cartesian_2d(x_range, floor..top)
            .map_err(|e| e.to_string())?),
        Scale::Log => draw!(builder
            .build_cartesian_2d(x_range, (floor..top).log_scale())
            .map_err(|e| e.to_string())?),
    }
}
