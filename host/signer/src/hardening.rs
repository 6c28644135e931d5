//! Keeping the keys inside this process: no core dumps and no reading of
//! its memory by another process of the same user (`PR_SET_DUMPABLE` 0,
//! which also makes `/proc/<pid>/mem` and friends root's), and the pages
//! that hold key material locked in memory, so they are never written to
//! swap.

use std::io;

/// Makes this process non-dumpable and turns off its core files. Called
/// before any key is read.
pub fn protect_process() -> io::Result<()> {
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `setrlimit` reads the struct it is given and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `prctl(PR_SET_DUMPABLE, 0)` takes plain integers.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Locks the pages under `value` in memory (they are rounded out to whole
/// pages). They stay locked until the process ends.
pub fn lock_in_memory<T: ?Sized>(value: &T) -> io::Result<()> {
    let size = std::mem::size_of_val(value);
    if size == 0 {
        return Ok(());
    }
    // SAFETY: the range is `value`'s own memory, valid for reads; `mlock`
    // only changes how its pages are paged.
    if unsafe { libc::mlock(std::ptr::from_ref(value).cast::<libc::c_void>(), size) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `VmLck` of this process, in kB.
    fn locked_kb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix("VmLck:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    #[test]
    fn a_value_is_locked_in_memory() {
        let secret = vec![7u8; 3 * 4096];
        let before = locked_kb();
        lock_in_memory(secret.as_slice()).unwrap();
        assert!(locked_kb() >= before + 12, "{} kB locked", locked_kb());
        lock_in_memory(&[0u8; 0][..]).unwrap();
    }
}
