//! Reading measurements, for benches: percentiles of samples (and a table
//! row of them), and a process's memory and CPU time from `/proc`. Each bench uses a part.
#![allow(dead_code)]

use std::time::Duration;

/// The `p` quantile (0–1) of `sorted` samples (nearest rank below).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

/// Sorts the samples and prints one table row (name, p50, p99); returns
/// (p50, p99).
pub fn report(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!(
        "| {name} | {:.1} µs | {:.1} µs |",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    (p50, p99)
}

/// Resident and peak resident memory of process `pid`, KiB (zeros once it
/// has gone).
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system) process `pid` (or `self`) has used so far.
pub fn cpu_time(pid: &str) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // After the parenthesised name, utime and stime are the 12th
            // and 13th fields.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // The kernel counts in clock ticks of 10 ms (USER_HZ = 100).
    Duration::from_millis(ticks * 10)
}

/// One thread's use of the machine so far: its name, CPU time (user +
/// system) and context switches (voluntary + involuntary).
pub struct ThreadUse {
    /// The thread's name (`/proc/…/comm`), digits dropped so that a pool's
    /// threads share one name.
    pub name: String,
    /// CPU time used.
    pub cpu: Duration,
    /// Times the thread left a core.
    pub switches: u64,
}

/// Every thread of process `pid` so far, summed by name (digits dropped:
/// a pool's workers count as one).
pub fn thread_use(pid: u32) -> Vec<ThreadUse> {
    let mut by_name: Vec<ThreadUse> = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        let name: String = read("comm")
            .trim()
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let cpu = cpu_time(&format!(
            "{pid}/task/{}",
            task.file_name().to_string_lossy()
        ));
        let status = read("status");
        let switches: u64 = status
            .lines()
            .filter(|line| line.contains("ctxt_switches:"))
            .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        match by_name.iter_mut().find(|used| used.name == name) {
            Some(used) => {
                used.cpu += cpu;
                used.switches += switches;
            }
            None => by_name.push(ThreadUse {
                name,
                cpu,
                switches,
            }),
        }
    }
    by_name
}

/// What each thread group of `pid` used between `before` and now.
pub fn thread_use_since(pid: u32, before: &[ThreadUse]) -> Vec<ThreadUse> {
    let mut now = thread_use(pid);
    for used in &mut now {
        if let Some(earlier) = before.iter().find(|earlier| earlier.name == used.name) {
            used.cpu = used.cpu.saturating_sub(earlier.cpu);
            used.switches = used.switches.saturating_sub(earlier.switches);
        }
    }
    now.sort_by_key(|used| std::cmp::Reverse(used.cpu));
    now
}

/// The calling thread's CPU time and context switches so far.
fn this_thread_use() -> (Duration, u64) {
    // SAFETY: both calls only write into the structs handed to them.
    unsafe {
        let mut time: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time);
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        (
            Duration::new(time.tv_sec as u64, time.tv_nsec as u32),
            (usage.ru_nvcsw + usage.ru_nivcsw) as u64,
        )
    }
}

/// The bare cost of waking a sleeping thread on this machine, the floor
/// under any hand-over between threads: a thread that sleeps on a channel
/// is sent a message every `spacing` (`rounds` times) and answers it at
/// once. Returns the woken thread's CPU time per wake-up and its context
/// switches per wake-up.
pub fn bare_wake_up(rounds: u32, spacing: Duration) -> (Duration, f64) {
    let (to_sleeper, inbox) = std::sync::mpsc::channel::<()>();
    let (answer, answers) = std::sync::mpsc::channel::<()>();
    let sleeper = std::thread::spawn(move || {
        let before = this_thread_use();
        while inbox.recv().is_ok() {
            if answer.send(()).is_err() {
                break;
            }
        }
        let after = this_thread_use();
        (after.0.saturating_sub(before.0), after.1 - before.1)
    });
    for _ in 0..rounds {
        std::thread::sleep(spacing);
        if to_sleeper.send(()).is_err() || answers.recv().is_err() {
            break;
        }
    }
    drop(to_sleeper);
    let (cpu, switches) = sleeper.join().unwrap_or_default();
    (
        cpu / rounds.max(1),
        switches as f64 / f64::from(rounds.max(1)),
    )
}
