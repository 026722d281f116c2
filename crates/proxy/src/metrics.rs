//! The proxies' Prometheus metrics: sessions open and ended, refusals,
//! bytes relayed, session durations.
//!
//! Nothing here is touched per frame: a relay counts its bytes in its own
//! fields and hands the counts to its session's [`SessionTally`] every
//! [`PUBLISH_INTERVAL`] and at its end, which adds the difference to the
//! shared counters.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use consoled_core::prometheus_client::metrics::counter::Counter;
use consoled_core::prometheus_client::metrics::family::Family;
use consoled_core::prometheus_client::metrics::gauge::Gauge;
use consoled_core::prometheus_client::metrics::histogram::Histogram;
use consoled_core::prometheus_client::registry::Registry;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::relay::RelayReport;
use crate::session::Refusal;

/// How often a live session publishes the bytes it has relayed.
pub const PUBLISH_INTERVAL: Duration = Duration::from_secs(5);

/// Session durations, in seconds: from a refused handshake's worth to a
/// day-long serial console.
const DURATION_BUCKETS: [f64; 13] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0,
];

/// A label set: names fixed, values mostly fixed too.
type Labels<const N: usize> = [(&'static str, Cow<'static, str>); N];

fn of_type(console_type: &str) -> Labels<1> {
    [("type", Cow::Owned(console_type.to_owned()))]
}

fn with_type(console_type: &str, name: &'static str, value: &'static str) -> Labels<2> {
    [
        ("type", Cow::Owned(console_type.to_owned())),
        (name, Cow::Borrowed(value)),
    ]
}

type Durations = Family<Labels<1>, Histogram, fn() -> Histogram>;

/// The proxies' metric families; give them to
/// [`ProxyServer::with_metrics`](crate::ProxyServer::with_metrics).
///
/// - `consoled_proxy_sessions_active{type}`: sessions relaying now.
/// - `consoled_proxy_sessions_total{type,end}`: sessions ended, `end` one
///   of `client_closed`, `backend_closed`, `idle`, `expired` (the token's
///   expiry with `enforce_session_timeout`), `revoked`, `shutdown`,
///   `dead_peer`, `error` (a client frame over the limit, a broken
///   protocol, a failed read or write on either side).
/// - `consoled_proxy_refusals_total{type,reason}`: console requests turned
///   away, `reason` one of `no_token`, `bad_token` (unknown or expired: the
///   store cannot tell them apart), `wrong_type`, `origin`,
///   `backend_unreachable`, `store_unavailable`, `session_limit`,
///   `handshake`. `type` is the token's when it was read, else the
///   listener's when it serves one type, else `unknown`.
/// - `consoled_proxy_bytes_total{type,direction}`: bytes relayed
///   (payload), `direction` `to_client` or `to_backend`, published every
///   [`PUBLISH_INTERVAL`] by each session and at its end.
/// - `consoled_proxy_session_duration_seconds{type}`: a histogram of
///   ended sessions.
#[derive(Debug, Clone)]
pub struct ProxyMetrics {
    active: Family<Labels<1>, Gauge>,
    sessions: Family<Labels<2>, Counter>,
    refusals: Family<Labels<2>, Counter>,
    bytes: Family<Labels<2>, Counter>,
    durations: Durations,
}

impl ProxyMetrics {
    /// Registers the proxies' families in `registry` (once per registry).
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = ProxyMetrics {
            active: Family::default(),
            sessions: Family::default(),
            refusals: Family::default(),
            bytes: Family::default(),
            durations: Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
        };
        registry.register(
            "consoled_proxy_sessions_active",
            "Console sessions relaying now, by console type",
            metrics.active.clone(),
        );
        registry.register(
            "consoled_proxy_sessions",
            "Console sessions ended, by console type and how they ended",
            metrics.sessions.clone(),
        );
        registry.register(
            "consoled_proxy_refusals",
            "Console requests refused, by console type and reason",
            metrics.refusals.clone(),
        );
        registry.register(
            "consoled_proxy_bytes",
            "Console bytes relayed, by console type and direction",
            metrics.bytes.clone(),
        );
        registry.register(
            "consoled_proxy_session_duration_seconds",
            "How long ended console sessions lasted, by console type",
            metrics.durations.clone(),
        );
        metrics
    }

    /// Counts a refused console request.
    pub(crate) fn refused(&self, console_type: &str, reason: &'static str) {
        self.refusals
            .get_or_create(&with_type(console_type, "reason", reason))
            .inc();
    }

    /// Counts a session as open; the tally counts it closed when it is
    /// finished or dropped.
    pub(crate) fn session_started(self: &Arc<Self>, console_type: &str) -> SessionTally {
        self.active.get_or_create(&of_type(console_type)).inc();
        let bytes = |direction| {
            self.bytes
                .get_or_create(&with_type(console_type, "direction", direction))
                .clone()
        };
        SessionTally {
            to_backend: bytes("to_backend"),
            to_client: bytes("to_client"),
            metrics: Arc::clone(self),
            console_type: console_type.to_owned(),
            published_to_backend: 0,
            published_to_client: 0,
            started: Instant::now(),
            end: None,
        }
    }
}

/// The `reason` label of a refusal; `validated` says whether the token had
/// been found good, which tells a backend that failed from a store that
/// did (both are [`Refusal::Unavailable`]).
pub(crate) fn refusal_reason(refusal: &Refusal, validated: bool) -> &'static str {
    match refusal {
        Refusal::WrongFront | Refusal::BadUpgrade(_) => "handshake",
        Refusal::Busy | Refusal::Exclusive => "session_limit",
        Refusal::NoToken => "no_token",
        Refusal::UnknownToken => "bad_token",
        Refusal::OtherListener(_) | Refusal::NoDriver(_) => "wrong_type",
        Refusal::Origin(_) => "origin",
        Refusal::Unavailable(_) if validated => "backend_unreachable",
        Refusal::Unavailable(_) => "store_unavailable",
    }
}

/// One session's share of the metrics: its byte counters (looked up once),
/// what it has published of its relay's counts, and when it began.
///
/// Dropped without [`finish`](Self::finish) (its task aborted at the end
/// of a shutdown), it still counts the session closed, as `shutdown`.
pub(crate) struct SessionTally {
    metrics: Arc<ProxyMetrics>,
    console_type: String,
    to_backend: Counter,
    to_client: Counter,
    published_to_backend: u64,
    published_to_client: u64,
    started: Instant,
    end: Option<&'static str>,
}

impl SessionTally {
    /// Adds what the relay counted since the last call (its counts are
    /// running totals) to the shared counters.
    pub(crate) fn publish(&mut self, to_backend: u64, to_client: u64) {
        let up = to_backend.saturating_sub(self.published_to_backend);
        let down = to_client.saturating_sub(self.published_to_client);
        if up > 0 {
            self.to_backend.inc_by(up);
            self.published_to_backend = to_backend;
        }
        if down > 0 {
            self.to_client.inc_by(down);
            self.published_to_client = to_client;
        }
    }

    /// Publishes the last bytes and counts the session ended as `report`
    /// says.
    pub(crate) fn finish(mut self, report: &RelayReport) {
        self.publish(report.to_backend, report.to_client);
        self.end = Some(report.end.label());
    }
}

impl Drop for SessionTally {
    fn drop(&mut self) {
        let end = self.end.unwrap_or("shutdown");
        let metrics = &self.metrics;
        metrics
            .active
            .get_or_create(&of_type(&self.console_type))
            .dec();
        metrics
            .sessions
            .get_or_create(&with_type(&self.console_type, "end", end))
            .inc();
        metrics
            .durations
            .get_or_create(&of_type(&self.console_type))
            .observe(self.started.elapsed().as_secs_f64());
    }
}

/// The ticks at which a session publishes, when anything wants its counts.
pub(crate) fn publish_ticks(wanted: bool) -> Option<Interval> {
    wanted.then(|| {
        let mut ticks =
            tokio::time::interval_at(Instant::now() + PUBLISH_INTERVAL, PUBLISH_INTERVAL);
        // A session that was busy past a tick publishes once, not in a burst.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticks
    })
}

/// The next publishing tick; never, without ticks.
pub(crate) async fn next_tick(ticks: &mut Option<Interval>) {
    match ticks {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use consoled_core::prometheus_client::encoding::prometheus_text::encode;

    use super::*;
    use crate::relay::SessionEnd;
    use crate::websocket::UpgradeError;

    fn scrape(registry: &Registry) -> String {
        let mut text = String::new();
        encode(&mut text, registry).unwrap();
        text
    }

    fn has(text: &str, line: &str) -> bool {
        text.lines().any(|l| l == line)
    }

    #[test]
    fn every_end_has_its_label() {
        let cases = [
            (SessionEnd::ClientClosed, "client_closed"),
            (SessionEnd::BackendClosed, "backend_closed"),
            (SessionEnd::Idle, "idle"),
            (SessionEnd::Expired, "expired"),
            (SessionEnd::Revoked, "revoked"),
            (SessionEnd::TakenOver, "taken_over"),
            (SessionEnd::Shutdown, "shutdown"),
            (SessionEnd::DeadPeer, "dead_peer"),
            (SessionEnd::FrameTooLarge, "error"),
            (SessionEnd::ProtocolError("x".into()), "error"),
            (SessionEnd::ClientError("x".into()), "error"),
            (SessionEnd::BackendError("x".into()), "error"),
        ];
        for (end, label) in cases {
            assert_eq!(end.label(), label, "{end:?}");
        }
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let down = || consoled_core::ConsoleError::ServiceUnavailable("down".into());
        let cases = [
            (Refusal::WrongFront, false, "handshake"),
            (Refusal::BadUpgrade(UpgradeError::Key), false, "handshake"),
            (Refusal::Busy, false, "session_limit"),
            (Refusal::NoToken, false, "no_token"),
            (Refusal::UnknownToken, false, "bad_token"),
            (
                Refusal::OtherListener("spice-html5".into()),
                true,
                "wrong_type",
            ),
            (Refusal::NoDriver("none".into()), true, "wrong_type"),
            (
                Refusal::Origin(crate::origin::OriginError::HostMismatch),
                true,
                "origin",
            ),
            (Refusal::Unavailable(down()), false, "store_unavailable"),
            (Refusal::Unavailable(down()), true, "backend_unreachable"),
        ];
        for (refusal, validated, reason) in cases {
            assert_eq!(refusal_reason(&refusal, validated), reason, "{refusal:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_tally_publishes_differences_and_counts_the_end() {
        let mut registry = Registry::default();
        let metrics = Arc::new(ProxyMetrics::register(&mut registry));
        let mut tally = metrics.session_started("novnc");
        let text = scrape(&registry);
        assert!(
            has(&text, r#"consoled_proxy_sessions_active{type="novnc"} 1"#),
            "{text}"
        );
        tally.publish(10, 0);
        tally.publish(25, 7);
        tally.publish(25, 7);
        let text = scrape(&registry);
        assert!(
            has(
                &text,
                r#"consoled_proxy_bytes_total{type="novnc",direction="to_backend"} 25"#
            ),
            "{text}"
        );
        assert!(
            has(
                &text,
                r#"consoled_proxy_bytes_total{type="novnc",direction="to_client"} 7"#
            ),
            "{text}"
        );
        tokio::time::advance(Duration::from_secs(20)).await;
        tally.finish(&RelayReport {
            end: SessionEnd::BackendClosed,
            to_backend: 30,
            to_client: 7,
        });
        let text = scrape(&registry);
        for line in [
            r#"consoled_proxy_sessions_active{type="novnc"} 0"#,
            r#"consoled_proxy_bytes_total{type="novnc",direction="to_backend"} 30"#,
            r#"consoled_proxy_sessions_total{type="novnc",end="backend_closed"} 1"#,
            r#"consoled_proxy_session_duration_seconds_bucket{type="novnc",le="15"} 0"#,
            r#"consoled_proxy_session_duration_seconds_bucket{type="novnc",le="30"} 1"#,
            r#"consoled_proxy_session_duration_seconds_count{type="novnc"} 1"#,
        ] {
            assert!(has(&text, line), "no {line} in\n{text}");
        }
    }

    #[test]
    fn a_tally_dropped_unfinished_counts_a_shutdown() {
        let mut registry = Registry::default();
        let metrics = Arc::new(ProxyMetrics::register(&mut registry));
        let mut tally = metrics.session_started("serial");
        tally.publish(3, 4);
        drop(tally);
        metrics.refused("serial", "no_token");
        let text = scrape(&registry);
        for line in [
            r#"consoled_proxy_sessions_active{type="serial"} 0"#,
            r#"consoled_proxy_sessions_total{type="serial",end="shutdown"} 1"#,
            r#"consoled_proxy_bytes_total{type="serial",direction="to_client"} 4"#,
            r#"consoled_proxy_refusals_total{type="serial",reason="no_token"} 1"#,
        ] {
            assert!(has(&text, line), "no {line} in\n{text}");
        }
    }
}
