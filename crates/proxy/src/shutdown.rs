//! Two-phase shutdown: stop accepting, then (after a grace period) close
//! the sessions that are still open.

use tokio::sync::watch;

/// The sending side: flips a flag every [`ShutdownSignal`] watches.
#[derive(Debug)]
pub(crate) struct ShutdownTrigger(watch::Sender<bool>);

impl ShutdownTrigger {
    /// A trigger that has not fired.
    pub(crate) fn new() -> Self {
        ShutdownTrigger(watch::Sender::new(false))
    }

    /// A signal that fires with this trigger.
    pub(crate) fn signal(&self) -> ShutdownSignal {
        ShutdownSignal(self.0.subscribe())
    }

    /// Fires every signal, now and later.
    pub(crate) fn fire(&self) {
        self.0.send_replace(true);
    }
}

/// The watching side, one clone per task.
#[derive(Debug, Clone)]
pub(crate) struct ShutdownSignal(watch::Receiver<bool>);

impl ShutdownSignal {
    /// Resolves once the trigger fires, or at once if it has. A dropped
    /// trigger counts as fired: its owner is gone.
    ///
    /// Cancel safe: dropping the future and calling again loses nothing.
    pub(crate) async fn wait(&mut self) {
        let _ = self.0.wait_for(|fired| *fired).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn fires_every_signal_including_late_ones() {
        let trigger = ShutdownTrigger::new();
        let mut early = trigger.signal();
        let waiting = tokio::spawn(async move { early.wait().await });
        trigger.fire();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
        let mut late = trigger.signal();
        tokio::time::timeout(Duration::from_secs(5), late.wait())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_dropped_trigger_counts_as_fired() {
        let trigger = ShutdownTrigger::new();
        let mut signal = trigger.signal();
        drop(trigger);
        tokio::time::timeout(Duration::from_secs(5), signal.wait())
            .await
            .unwrap();
    }
}
