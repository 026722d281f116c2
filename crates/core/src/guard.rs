//! Running one call so that its panic or stall stays its own.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::task::Poll;
use std::time::Duration;

use futures_util::FutureExt;

use crate::error::ConsoleError;

/// Runs `call` under `limit`, turning a timeout into
/// [`ConsoleError::ServiceUnavailable`] and a panic into
/// [`ConsoleError::Internal`], both naming `what` for our log.
///
/// # Errors
/// As above, or whatever `call` returns.
pub async fn guarded<T, F>(what: &str, limit: Duration, call: F) -> Result<T, ConsoleError>
where
    F: Future<Output = Result<T, ConsoleError>>,
{
    guarded_as(|| what.to_owned(), limit, call).await
}

/// [`guarded`], with the name built only when a message needs it: for a
/// name that costs an allocation on every call otherwise.
///
/// # Errors
/// As [`guarded`].
pub(crate) async fn guarded_as<T, F>(
    what: impl FnOnce() -> String,
    limit: Duration,
    call: F,
) -> Result<T, ConsoleError>
where
    F: Future<Output = Result<T, ConsoleError>>,
{
    // Unwind safety: a panicking call's partial state is dropped with it;
    // nothing it borrowed is observed afterwards by this request.
    let mut call = std::pin::pin!(AssertUnwindSafe(call).catch_unwind());
    // Most calls (a store or inventory in memory, a driver's connect info)
    // are done at their first poll: they need no timer, whose set-up (the
    // runtime's handle, the clock) was a few hundred instructions each,
    // three times per console.
    let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
    let outcome = match first {
        Poll::Ready(done) => Ok(done),
        Poll::Pending => tokio::time::timeout(limit, call).await,
    };
    match outcome {
        Err(_) => Err(ConsoleError::ServiceUnavailable(format!(
            "{} did not answer within {} ms",
            what(),
            limit.as_millis()
        ))),
        Ok(Err(panic)) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Err(ConsoleError::Internal(format!(
                "{} panicked: {detail}",
                what()
            )))
        }
        Ok(Ok(result)) => result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panic_becomes_internal() {
        let r: Result<(), _> = guarded("driver x", Duration::from_secs(1), async {
            panic!("boom");
        })
        .await;
        assert_eq!(
            r.unwrap_err(),
            ConsoleError::Internal("driver x panicked: boom".into())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_waits_is_still_bounded() {
        let r: Result<(), _> = guarded("backend", Duration::from_millis(50), async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok(())
        })
        .await;
        assert_eq!(r, Ok(()));
        let r: Result<(), _> = guarded("backend", Duration::from_millis(50), async {
            tokio::task::yield_now().await;
            std::future::pending::<()>().await;
            Ok(())
        })
        .await;
        assert_eq!(r.unwrap_err().status(), 503);
    }

    #[tokio::test(start_paused = true)]
    async fn stall_becomes_unavailable() {
        let r: Result<(), _> = guarded("backend", Duration::from_millis(50), async {
            std::future::pending::<()>().await;
            Ok(())
        })
        .await;
        assert_eq!(r.unwrap_err().status(), 503);
    }
}
