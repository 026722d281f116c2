//! CPU time of a process tree, from `/proc/<pid>/stat`: user and system
//! time of the process and of its waited-for children.

use std::time::Duration;

/// The clock ticks per second `/proc` counts in (`getconf CLK_TCK`); 100
/// on every Linux this runs on.
const TICKS_PER_SECOND: u64 = 100;

/// utime + stime + cutime + cstime of `pid`.
///
/// # Errors
/// When the process is gone or its stat line does not parse.
pub fn cpu_time(pid: u32) -> Result<Duration, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name (field 2) may hold spaces: fields count from after it.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("no command field")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, utime 14 ... cstime 17.
    let tick = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("field {n} of /proc/{pid}/stat"))
    };
    let ticks = tick(14)? + tick(15)? + tick(16)? + tick(17)?;
    Ok(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own() {
        assert!(cpu_time(std::process::id()).is_ok());
        assert!(cpu_time(u32::MAX).is_err());
    }
}
