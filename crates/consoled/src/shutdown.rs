//! One shutdown signal shared by every task the process runs.

use std::sync::Arc;

use tokio::sync::watch;

/// Fires once, on SIGTERM or SIGINT (or when told to); every clone sees it.
#[derive(Debug, Clone)]
pub struct Shutdown {
    fired: watch::Receiver<bool>,
}

/// The sending half of [`Shutdown`]; clones fire the same signal.
#[derive(Debug, Clone)]
pub struct Trigger(Arc<watch::Sender<bool>>);

impl Trigger {
    /// Fires the signal.
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// A signal and the trigger that fires it.
    pub fn new() -> (Trigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (Trigger(Arc::new(tx)), Shutdown { fired: rx })
    }

    /// Resolves once the signal has fired (at once if it already has).
    pub async fn wait(mut self) {
        // An error means the trigger is gone: nobody can fire any more,
        // which is a shutdown too.
        let _ = self.fired.wait_for(|fired| *fired).await;
    }
}

/// Fires `trigger` on the first SIGTERM or SIGINT.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn on_signals(trigger: Trigger) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down: draining in-flight requests");
        trigger.fire();
    });
    Ok(())
}
