//! What a recording's header says about its session, and the file's name.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A session's audit fields, as the `"consoled"` object of a recording's
/// header carries them: what the session-open log event says, never the
/// token (only its fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAudit {
    /// The session's id.
    pub session: String,
    /// The proxy node that relayed it.
    pub node: String,
    /// The server (instance UUID).
    pub server: String,
    /// The console type (`serial`, `novnc`, ...).
    #[serde(rename = "type")]
    pub console_type: String,
    /// The console protocol (`serial`, `vnc`).
    pub protocol: String,
    /// The client's address (the X-Forwarded-For hop from a trusted proxy).
    pub client: String,
    /// When the session started, in seconds since the Unix epoch.
    pub started_at: u64,
    /// The same moment in UTC, `2024-05-01T12:00:00Z`.
    pub started: String,
    /// The user that minted the token, when known.
    pub minted_by_user: Option<String>,
    /// The project that user acted in, when known.
    pub minted_by_project: Option<String>,
    /// A short fingerprint of the token's hash (as the log shows it).
    pub token_fingerprint: String,
}

/// Seconds since the epoch and the civil UTC date and time of `at`.
pub(crate) struct Utc {
    pub(crate) unix: u64,
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Utc {
    pub(crate) fn of(at: SystemTime) -> Utc {
        let unix = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let (year, month, day) = civil_from_days((unix / 86_400) as i64);
        let of_day = unix % 86_400;
        Utc {
            unix,
            year,
            month,
            day,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }

    /// `2024-05-01T12:00:00Z`.
    pub(crate) fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `20240501T120000Z`, for file names.
    pub(crate) fn basic(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `<server>-<type>-<yyyymmddThhmmssZ>-<first 8 of the session id>.<ext>`,
/// with anything but letters, digits, `.`, `_` and `-` in the server id
/// and type made `_` (they come from a backend, not from us).
pub(crate) fn file_name(audit: &SessionAudit, started: &Utc, ext: &str) -> String {
    let safe = |s: &str| -> String {
        let s: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        s.trim_start_matches('.').to_owned()
    };
    let session: String = audit.session.chars().take(8).collect();
    format!(
        "{}-{}-{}-{}.{ext}",
        safe(&audit.server),
        safe(&audit.console_type),
        started.basic(),
        safe(&session)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_dates_are_civil() {
        let at = |s: u64| Utc::of(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_714_564_799).rfc3339(), "2024-05-01T11:59:59Z");
        assert_eq!(at(1_714_564_799).basic(), "20240501T115959Z");
        assert_eq!(at(4_102_444_800).rfc3339(), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn file_names_carry_server_type_start_and_session_and_nothing_unsafe() {
        let audit = SessionAudit {
            session: "0123456789abcdef".into(),
            node: "n".into(),
            server: "../etc/pass wd".into(),
            console_type: "serial".into(),
            protocol: "serial".into(),
            client: "127.0.0.1:1".into(),
            started_at: 0,
            started: String::new(),
            minted_by_user: None,
            minted_by_project: None,
            token_fingerprint: "f".into(),
        };
        let name = file_name(&audit, &Utc::of(UNIX_EPOCH), "cast");
        assert_eq!(name, "_etc_pass_wd-serial-19700101T000000Z-01234567.cast");
        assert!(!name.contains('/'));
    }
}
