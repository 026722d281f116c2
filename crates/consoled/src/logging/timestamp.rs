//! The time at the head of each text line.

use std::fmt;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// UTC in RFC 3339 with microseconds (`2026-12-01T13:19:27.032120Z`):
/// what `tracing_subscriber`'s default timer writes, digit for digit, put
/// together by `humantime` in one buffer rather than through a formatting
/// call per field, which cost a busy API a few percent of its CPU.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Rfc3339Micros;

impl FormatTime for Rfc3339Micros {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let now = humantime::format_rfc3339_micros(std::time::SystemTime::now());
        fmt::Write::write_fmt(w, format_args!("{now}"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn reads_as_the_default_timer_writes() {
        let at = UNIX_EPOCH + Duration::from_micros(1_796_131_767_032_120);
        assert_eq!(
            humantime::format_rfc3339_micros(at).to_string(),
            "2026-12-01T13:29:27.032120Z"
        );
        let epoch = humantime::format_rfc3339_micros(UNIX_EPOCH).to_string();
        assert_eq!(epoch, "1970-01-01T00:00:00.000000Z");
    }
}
