//! What ends a session from outside its streams: idle timeout, token
//! expiry, shutdown, its server's revocation.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use consoled_core::{Ended, RevocationWatch};
use tokio::time::{sleep_until, Instant, Sleep};

use crate::shutdown::ShutdownSignal;

/// When a session was last busy. Written by both relay directions, read
/// by the watchdog, so that a data byte costs one clock read and one
/// relaxed store rather than a timer reset.
#[derive(Debug)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    /// Records data flowing now.
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// When data last flowed (the session's start if it never has).
    pub(crate) fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// The limits of one session.
#[derive(Debug, Clone)]
pub(crate) struct SessionLimits {
    /// WebSocket ping interval.
    pub(crate) keepalive: Option<Duration>,
    /// Close after this long without data.
    pub(crate) idle_timeout: Option<Duration>,
    /// Close at this instant (the token's expiry).
    pub(crate) expires: Option<Instant>,
    /// How long to wait for the closing handshake once one side is done.
    pub(crate) close_wait: Duration,
}

impl SessionLimits {
    /// How long one frame may take to reach a client before the client
    /// counts as dead: it has stopped reading, so its pongs would not tell.
    pub(crate) fn write_stall(&self) -> Option<Duration> {
        self.keepalive.map(|k| k * 2).or(self.idle_timeout)
    }
}

/// Why the watchdog stopped a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// No data for the idle timeout.
    Idle,
    /// The token expired (`enforce_session_timeout`).
    Expired,
    /// The proxy is shutting down and the grace period is over.
    Shutdown,
    /// The session's server was revoked, or an operator cut it.
    Revoked,
    /// A newer session of the same console took over.
    TakenOver,
}

/// Watches one session's clocks. Its state lives in the struct, so that
/// [`Watchdog::stopped`] can sit in a `select!` loop and be dropped and
/// called again without losing time.
pub(crate) struct Watchdog {
    idle: Option<Duration>,
    idle_timer: Pin<Box<Sleep>>,
    expiry: Pin<Box<Sleep>>,
    expires: bool,
    shutdown: ShutdownSignal,
    /// Resolves when the session's server is revoked or the session cut:
    /// made once, boxed, so that the session's own future stays small.
    revoked: Option<Pin<Box<dyn Future<Output = Stop> + Send>>>,
}

impl Watchdog {
    pub(crate) fn new(
        limits: &SessionLimits,
        activity: &Activity,
        shutdown: ShutdownSignal,
        revocation: Option<RevocationWatch>,
    ) -> Self {
        let idle_due = limits
            .idle_timeout
            .map_or_else(Instant::now, |idle| activity.last() + idle);
        Watchdog {
            idle: limits.idle_timeout,
            idle_timer: Box::pin(sleep_until(idle_due)),
            // Without an expiry the timer is never polled; any instant will do.
            expiry: Box::pin(sleep_until(limits.expires.unwrap_or(idle_due))),
            expires: limits.expires.is_some(),
            shutdown,
            revoked: revocation.map(|mut watch| {
                Box::pin(async move {
                    match watch.revoked().await {
                        Ended::Revoked => Stop::Revoked,
                        Ended::TakenOver => Stop::TakenOver,
                    }
                }) as Pin<Box<dyn Future<Output = Stop> + Send>>
            }),
        }
    }

    /// Resolves when the session must stop, and says why. Cancel safe.
    pub(crate) async fn stopped(&mut self, activity: &Activity) -> Stop {
        loop {
            tokio::select! {
                () = self.shutdown.wait() => return Stop::Shutdown,
                stop = async { self.revoked.as_mut().expect("checked").as_mut().await },
                    if self.revoked.is_some() => return stop,
                () = self.expiry.as_mut(), if self.expires => return Stop::Expired,
                () = self.idle_timer.as_mut(), if self.idle.is_some() => {
                    let Some(idle) = self.idle else { continue };
                    let due = activity.last() + idle;
                    if Instant::now() >= due {
                        return Stop::Idle;
                    }
                    // Data flowed since the timer was set: sleep the rest.
                    self.idle_timer.as_mut().reset(due);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shutdown::ShutdownTrigger;

    fn limits(idle: Option<u64>, expires_in: Option<u64>) -> SessionLimits {
        SessionLimits {
            keepalive: None,
            idle_timeout: idle.map(Duration::from_secs),
            expires: expires_in.map(|s| Instant::now() + Duration::from_secs(s)),
            close_wait: Duration::from_secs(1),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn idle_counts_from_the_last_data() {
        let trigger = ShutdownTrigger::new();
        let activity = Activity::new();
        let mut dog = Watchdog::new(&limits(Some(10), None), &activity, trigger.signal(), None);
        let begun = Instant::now();
        tokio::time::sleep(Duration::from_secs(6)).await;
        activity.touch();
        assert_eq!(dog.stopped(&activity).await, Stop::Idle);
        assert!(begun.elapsed() >= Duration::from_secs(16));
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_wins_over_a_busy_session() {
        let trigger = ShutdownTrigger::new();
        let activity = Activity::new();
        let mut dog = Watchdog::new(
            &limits(Some(10), Some(5)),
            &activity,
            trigger.signal(),
            None,
        );
        assert_eq!(dog.stopped(&activity).await, Stop::Expired);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_stops_a_session_without_limits() {
        let trigger = ShutdownTrigger::new();
        let activity = Activity::new();
        let mut dog = Watchdog::new(&limits(None, None), &activity, trigger.signal(), None);
        let fire = async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            trigger.fire();
            std::future::pending::<()>().await;
        };
        tokio::select! {
            stop = dog.stopped(&activity) => assert_eq!(stop, Stop::Shutdown),
            () = fire => unreachable!(),
        }
    }
}
