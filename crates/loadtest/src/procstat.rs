//! CPU time and memory of processes and threads, read from `/proc`: what the
//! server, the load generator and the floor benchmark's two processes spend.
//!
//! The workspace forbids `unsafe`, so `getrusage` through `libc` is out of
//! reach; the same figures come from `/proc/…/stat` and the thread CPU clock.

use std::ops::Sub;

/// CPU time split into user and kernel time, seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    /// Time spent running the program's own code.
    pub user: f64,
    /// Time the kernel spent on the program's behalf (system calls, the network stack).
    pub sys: f64,
}

impl CpuTimes {
    /// User and kernel time together.
    pub fn total(&self) -> f64 {
        self.user + self.sys
    }
}

impl Sub for CpuTimes {
    type Output = Self;

    fn sub(self, before: Self) -> Self {
        Self { user: self.user - before.user, sys: self.sys - before.sys }
    }
}

/// The clock ticks per second `/proc/…/stat` counts in (`_SC_CLK_TCK`, which
/// the kernel hands every process in its auxiliary vector).
pub fn ticks_per_sec() -> u64 {
    rustix::param::clock_ticks_per_second().max(1)
}

/// The `utime` and `stime` fields (14 and 15, counting the pid as 1) of a
/// `/proc/…/stat` line, in clock ticks. The command name before them is in
/// parentheses and may hold spaces and parentheses itself, so the fields are
/// counted from the last `)`.
pub fn parse_stat_ticks(stat: &str) -> Option<(u64, u64)> {
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the name come the state (field 3) onwards: utime is the 12th of them.
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

fn stat_times(path: &str) -> Option<CpuTimes> {
    let (user, sys) = parse_stat_ticks(&std::fs::read_to_string(path).ok()?)?;
    let hz = ticks_per_sec() as f64;
    Some(CpuTimes { user: user as f64 / hz, sys: sys as f64 / hz })
}

/// CPU time a process has used so far, user and kernel apart.
pub fn process_cpu(pid: u32) -> Option<CpuTimes> {
    stat_times(&format!("/proc/{pid}/stat"))
}

/// CPU time this process has used so far, over all its threads.
pub fn own_cpu() -> Option<CpuTimes> {
    stat_times("/proc/self/stat")
}

/// CPU time a process has used so far, seconds (user + system).
pub fn cpu_secs(pid: u32) -> Option<f64> {
    process_cpu(pid).map(|t| t.total())
}

/// Resident memory of a process, KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A reading of a thread's or a process's CPU use: the time it has been on a
/// CPU (exact, to the nanosecond) and its `stat` ticks (which say how that time
/// divides between user and kernel, sampled at each timer tick).
#[derive(Debug, Clone, Copy)]
pub struct CpuReading {
    on_cpu_ns: u128,
    ticks: (u64, u64),
}

impl CpuReading {
    /// Reads the calling thread's figures now, from its CPU clock.
    pub fn thread() -> Option<Self> {
        let ticks = parse_stat_ticks(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)?;
        let clock = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        let on_cpu_ns = clock.tv_sec as u128 * 1_000_000_000 + clock.tv_nsec as u128;
        Some(Self { on_cpu_ns, ticks })
    }

    /// Reads a process's figures now: the time on a CPU is the sum over its
    /// live threads of the first field of their `schedstat`.
    pub fn process(pid: u32) -> Option<Self> {
        let ticks = parse_stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
        let mut on_cpu_ns = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
            let Ok(schedstat) = std::fs::read_to_string(task.ok()?.path().join("schedstat")) else {
                // The thread ended meanwhile.
                continue;
            };
            on_cpu_ns += schedstat.split_whitespace().next()?.parse::<u128>().ok()?;
        }
        Some(Self { on_cpu_ns, ticks })
    }

    /// The CPU time used since `before`, user and kernel apart.
    pub fn since(&self, before: &Self) -> CpuTimes {
        let total = self.on_cpu_ns.saturating_sub(before.on_cpu_ns) as f64 / 1e9;
        let user = self.ticks.0.saturating_sub(before.ticks.0);
        let sys = self.ticks.1.saturating_sub(before.ticks.1);
        split(total, user, sys)
    }
}

/// Divides an exact CPU time between user and kernel in the proportion of the
/// sampled ticks, as the kernel itself does for `getrusage`; with no tick
/// sampled at all, the kernel counts it all as user time, and so does this.
fn split(total: f64, user_ticks: u64, sys_ticks: u64) -> CpuTimes {
    let ticks = user_ticks + sys_ticks;
    if ticks == 0 {
        return CpuTimes { user: total, sys: 0.0 };
    }
    let sys = total * sys_ticks as f64 / ticks as f64;
    CpuTimes { user: total - sys, sys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 1234 0 5 0 \
                    731 59 0 0 20 0 3 0 123456 1048576 2048 18446744073709551615";
        assert_eq!(parse_stat_ticks(stat), Some((731, 59)));
    }

    #[test]
    fn a_truncated_stat_line_reads_as_nothing() {
        assert_eq!(parse_stat_ticks("4242 (server) S 1 4242 4242 0 -1 4194560"), None);
        assert_eq!(parse_stat_ticks("no parentheses at all"), None);
    }

    #[test]
    fn this_process_and_thread_report_cpu_time() {
        let before = CpuReading::thread().unwrap();
        let process_before = CpuReading::process(std::process::id()).unwrap();
        // Some work for the clocks to see.
        let mut x = 0u64;
        for i in 0..30_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let used = CpuReading::thread().unwrap().since(&before);
        assert!(used.total() > 0.0 && used.user >= 0.0 && used.sys >= 0.0);
        let process_used = CpuReading::process(std::process::id()).unwrap().since(&process_before);
        assert!(process_used.total() >= used.total() * 0.5);
        assert!(process_cpu(std::process::id()).is_some() && own_cpu().is_some());
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn exact_time_divides_in_the_proportion_of_the_ticks() {
        assert_eq!(split(2.0, 3, 1), CpuTimes { user: 1.5, sys: 0.5 });
        assert_eq!(split(0.25, 0, 0), CpuTimes { user: 0.25, sys: 0.0 });
    }
}
