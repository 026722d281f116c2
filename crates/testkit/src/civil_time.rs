//! UTC wall-clock text without a date library: the demo consoles show the
//! time and answer `date`.

use std::time::{SystemTime, UNIX_EPOCH};

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC date and time broken into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub weekday: usize,
    pub hour: u64,
    pub minute: u64,
    pub second: u64,
}

impl Civil {
    /// `at` in UTC; times before the epoch count as the epoch.
    pub fn at(at: SystemTime) -> Civil {
        let seconds = at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let days = (seconds / 86_400) as i64;
        let of_day = seconds % 86_400;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            weekday: ((days + 4) % 7) as usize,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }

    /// `HH:MM:SS`.
    pub fn hms(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }

    /// As `date` prints it: `Thu Jan  1 00:00:00 UTC 1970`.
    pub fn date_line(&self) -> String {
        format!(
            "{} {} {:>2} {} UTC {}",
            WEEKDAYS[self.weekday],
            MONTHS[(self.month - 1) as usize],
            self.day,
            self.hms(),
            self.year
        )
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_dates() {
        let at = |s| Civil::at(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0).date_line(), "Thu Jan  1 00:00:00 UTC 1970");
        assert_eq!(at(951_782_400).date_line(), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(
            at(1_700_000_000).date_line(),
            "Tue Nov 14 22:13:20 UTC 2023"
        );
        assert_eq!(at(1_700_000_000).hms(), "22:13:20");
    }
}
