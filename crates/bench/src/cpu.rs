//! CPU time of a process tree, from `/proc`: user and system time of the
//! process, of its reaped children, and of every live descendant, so that
//! a forking peer (websockify forks per connection) is charged in full.

use std::collections::HashMap;
use std::time::Duration;

/// The clock ticks per second `/proc` counts in (`getconf CLK_TCK`); 100
/// on every Linux this runs on.
const TICKS_PER_SECOND: u64 = 100;

/// One process's line of `/proc/<pid>/stat`: its parent and its CPU ticks
/// (own, and of its reaped children).
struct Stat {
    ppid: u32,
    own_ticks: u64,
    ticks: u64,
}

fn stat(pid: u32) -> Result<Stat, String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name (field 2) may hold spaces: fields count from after it.
    let after = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("no command field")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, ppid 4, utime 14 ... cstime 17.
    let field = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("field {n} of /proc/{pid}/stat"))
    };
    let own_ticks = field(14)? + field(15)?;
    Ok(Stat {
        ppid: u32::try_from(field(4)?).map_err(|e| e.to_string())?,
        own_ticks,
        ticks: own_ticks + field(16)? + field(17)?,
    })
}

/// `pid`'s live descendants, each with its CPU ticks.
fn descendants(pid: u32) -> Vec<(u32, u64)> {
    let mut children: HashMap<u32, Vec<(u32, u64)>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(other) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // A process may end between the listing and the read.
            if let Ok(s) = stat(other) {
                children.entry(s.ppid).or_default().push((other, s.ticks));
            }
        }
    }
    let mut found = Vec::new();
    let mut stack = vec![pid];
    while let Some(parent) = stack.pop() {
        for &(child, ticks) in children.get(&parent).into_iter().flatten() {
            found.push((child, ticks));
            stack.push(child);
        }
    }
    found
}

/// CPU time of `pid` and all its descendants, reaped or alive.
///
/// # Errors
/// When `pid` is gone or its stat line does not parse.
pub fn cpu_time(pid: u32) -> Result<Duration, String> {
    let ticks = stat(pid)?.ticks + descendants(pid).iter().map(|(_, t)| t).sum::<u64>();
    Ok(from_ticks(ticks))
}

/// CPU time of this process's own threads, children left out: what the
/// harness's load clients spend.
///
/// # Errors
/// When `/proc/self/stat` does not parse.
pub fn own_cpu_time() -> Result<Duration, String> {
    Ok(from_ticks(stat(std::process::id())?.own_ticks))
}

fn from_ticks(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// What a subject and the harness's load clients have spent so far; the
/// difference of two readings is what a measurement cost.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// CPU time of the subject's process tree ([`cpu_time`]).
    pub subject: Duration,
    /// CPU time of the harness's own threads ([`own_cpu_time`]).
    pub clients: Duration,
    /// The subject's [`preemptions`].
    pub preemptions: u64,
}

impl Usage {
    /// The reading now for the subject `pid`.
    ///
    /// # Errors
    /// When `pid` is gone.
    pub fn of(pid: u32) -> Result<Usage, String> {
        Ok(Usage {
            subject: cpu_time(pid)?,
            clients: own_cpu_time()?,
            preemptions: preemptions(pid)?,
        })
    }

    /// What was spent between `earlier` and this reading.
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            subject: self.subject.saturating_sub(earlier.subject),
            clients: self.clients.saturating_sub(earlier.clients),
            preemptions: self.preemptions.saturating_sub(earlier.preemptions),
        }
    }
}

/// How many times the scheduler has taken a CPU from one of `pid`'s
/// threads while it could still run (the sum of their
/// `nonvoluntary_ctxt_switches`); threads that have ended are not counted.
///
/// # Errors
/// When `pid` is gone.
pub fn preemptions(pid: u32) -> Result<u64, String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map_err(|e| format!("/proc/{pid}/task: {e}"))?;
    let mut total = 0;
    for task in tasks.flatten() {
        // A thread may end between the listing and the read.
        let Ok(text) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += text
            .lines()
            .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(total)
}

/// The proportional set size of `pid` and its live descendants, in bytes
/// (`/proc/<pid>/smaps_rollup`): shared pages count by their share, so a
/// forking peer's children add only what they do not share.
///
/// # Errors
/// When `pid` is gone.
pub fn pss(pid: u32) -> Result<u64, String> {
    let mut total = one_pss(pid)?;
    for (child, _) in descendants(pid) {
        total += one_pss(child).unwrap_or(0);
    }
    Ok(total)
}

fn one_pss(pid: u32) -> Result<u64, String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .map_err(|e| format!("/proc/{pid}/smaps_rollup: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| format!("no Pss in /proc/{pid}/smaps_rollup"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_child_and_ourselves() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        // Ours alone first: the tree's, read after, holds it.
        let own = own_cpu_time().unwrap();
        let ours = cpu_time(std::process::id()).unwrap();
        assert!(own <= ours, "{own:?} {ours:?}");
        assert!(cpu_time(child.id()).is_ok());
        assert!(preemptions(child.id()).is_ok());
        assert!(pss(std::process::id()).unwrap() > 0);
        let _ = child.kill();
        let _ = child.wait();
        assert!(cpu_time(u32::MAX).is_err());
        assert!(preemptions(u32::MAX).is_err());
        assert!(ours < Duration::from_secs(3600));
    }
}
