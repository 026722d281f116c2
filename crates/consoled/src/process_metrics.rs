//! The `process_*` figures every Prometheus client exports, read from
//! `/proc/self` at each scrape, as the Go and Python clients read them.

use std::fmt;

use consoled_core::prometheus_client::collector::Collector;
use consoled_core::prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use consoled_core::prometheus_client::metrics::counter::ConstCounter;
use consoled_core::prometheus_client::metrics::gauge::ConstGauge;

/// The kernel reports process times in USER_HZ, which Linux fixes at 100
/// for user space (Prometheus' Go client assumes the same).
const USER_HZ: f64 = 100.0;

/// What `/proc` says about this process; a figure it would not give is
/// left out.
#[derive(Debug, Default, Clone, PartialEq)]
struct Figures {
    cpu_seconds: Option<f64>,
    start_time_seconds: Option<f64>,
    resident_bytes: Option<i64>,
    virtual_bytes: Option<i64>,
    open_fds: Option<i64>,
    max_fds: Option<i64>,
}

/// `utime`, `stime` and `starttime` (in ticks) from `/proc/<pid>/stat`.
fn parse_stat(stat: &str) -> Option<(u64, u64, u64)> {
    // The command name, in parentheses, may hold spaces and parentheses:
    // the fields that follow start after its last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime 15,
    // starttime 22.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some((field(14)?, field(15)?, field(22)?))
}

/// A `Vm...:   123 kB` line of `/proc/<pid>/status`, in bytes.
fn status_bytes(status: &str, key: &str) -> Option<i64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: i64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// The soft limit of `Max open files` in `/proc/<pid>/limits`.
fn max_open_files(limits: &str) -> Option<i64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    match soft {
        "unlimited" => Some(i64::MAX),
        n => n.parse().ok(),
    }
}

/// The boot time (`btime`) of `/proc/stat`, in seconds since the epoch.
fn boot_time(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

fn read() -> Figures {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let mut figures = Figures::default();
    if let Some((utime, stime, start)) = read("/proc/self/stat").as_deref().and_then(parse_stat) {
        figures.cpu_seconds = Some((utime + stime) as f64 / USER_HZ);
        figures.start_time_seconds = read("/proc/stat")
            .as_deref()
            .and_then(boot_time)
            .map(|boot| boot as f64 + start as f64 / USER_HZ);
    }
    if let Some(status) = read("/proc/self/status") {
        figures.resident_bytes = status_bytes(&status, "VmRSS:");
        figures.virtual_bytes = status_bytes(&status, "VmSize:");
    }
    figures.open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|entries| i64::try_from(entries.count()).unwrap_or(i64::MAX));
    figures.max_fds = read("/proc/self/limits")
        .as_deref()
        .and_then(max_open_files);
    figures
}

/// Registers as a collector: reads `/proc/self` at each scrape.
#[derive(Debug, Default)]
pub struct ProcessCollector;

fn gauge<N>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: Option<N>,
) -> Result<(), fmt::Error>
where
    ConstGauge<N>: EncodeMetric,
{
    let Some(value) = value else {
        return Ok(());
    };
    let gauge = ConstGauge::new(value);
    gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let figures = read();
        if let Some(seconds) = figures.cpu_seconds {
            let counter = ConstCounter::new(seconds);
            counter.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                counter.metric_type(),
            )?)?;
        }
        let e = &mut encoder;
        gauge(
            e,
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            figures.resident_bytes,
        )?;
        gauge(
            e,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            figures.virtual_bytes,
        )?;
        gauge(
            e,
            "process_open_fds",
            "Number of open file descriptors",
            figures.open_fds,
        )?;
        gauge(
            e,
            "process_max_fds",
            "Maximum number of open file descriptors",
            figures.max_fds,
        )?;
        gauge(
            e,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds",
            figures.start_time_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use consoled_core::prometheus_client::encoding::prometheus_text::encode;
    use consoled_core::prometheus_client::registry::Registry;

    use super::*;

    #[test]
    fn proc_files_are_read_as_the_kernel_writes_them() {
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 8 0 123456 104857600 2560 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((250, 50, 123456)));
        assert_eq!(parse_stat("garbage"), None);
        let status = "Name:\tconsoled\nVmSize:\t  102400 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_bytes(status, "VmRSS:"), Some(10240 * 1024));
        assert_eq!(status_bytes(status, "VmSize:"), Some(102400 * 1024));
        assert_eq!(status_bytes(status, "VmSwap:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some(1024));
        assert_eq!(
            boot_time("cpu 1 2 3\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }

    #[test]
    fn this_process_is_described() {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ProcessCollector));
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_virtual_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
            "process_start_time_seconds ",
        ] {
            assert!(
                text.lines().any(|l| l.starts_with(name)),
                "no {name}in\n{text}"
            );
        }
        let figures = read();
        assert!(figures.open_fds.unwrap() >= 3, "{figures:?}");
        assert!(figures.resident_bytes.unwrap() > 0, "{figures:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = figures.start_time_seconds.unwrap();
        assert!(start <= now + 1.0 && start > now - 3600.0, "{start}");
    }
}
