//! Scenario 4: what an open, idle console costs the subject: the slope of
//! its proportional set size over the number of open sessions.

use std::time::Duration;

use crate::backend::{Backend, Job};
use crate::client::Client;
use crate::cpu::pss;
use crate::subject::Subject;

/// How long the subject gets to settle before its memory is read.
const SETTLE: Duration = Duration::from_millis(500);

/// Opens sessions up to each of `counts` (ascending), holding them, and
/// reads the subject's memory at each; returns (sessions, bytes) points
/// and the sessions still open at the end (so the caller can check them).
///
/// # Errors
/// When a session cannot be opened or the subject's memory cannot be read.
pub async fn measure(
    subject: &Subject,
    backend: &Backend,
    counts: &[usize],
) -> Result<(Vec<(usize, u64)>, Vec<Client>), String> {
    let pid = subject.pid().ok_or("idle memory needs a subject process")?;
    backend.go(Job::Echo);
    let wire = subject.wire().await?;
    let mut open = Vec::new();
    let mut points = Vec::new();
    for &count in counts {
        while open.len() < count {
            let client = Client::connect(subject.addr(), &wire)
                .await
                .map_err(|e| format!("session {}: {e}", open.len() + 1))?;
            open.push(client);
        }
        tokio::time::sleep(SETTLE).await;
        points.push((count, pss(pid)?));
    }
    Ok((points, open))
}

/// The least-squares slope of `points`: bytes per session.
pub fn slope(points: &[(usize, u64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|(x, _)| *x as f64).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| *y as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for &(x, y) in points {
        num += (x as f64 - mean_x) * (y as f64 - mean_y);
        den += (x as f64 - mean_x).powi(2);
    }
    (den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line() {
        let points = [(0, 1000), (1000, 9000), (4000, 33000), (8000, 65000)];
        assert_eq!(slope(&points), Some(8.0));
        assert_eq!(slope(&[(5, 5)]), None);
    }
}
