//! Process tuning the binaries share (the sync function, the CLI and its benchmark): glibc's
//! allocator for long syncs in small memory, and the runtime a local sync runs on. Not the
//! domain's business, so not in the domain crate.
//!
//! **The allocator.** A sync allocates many large, short-lived buffers (bulk responses of about a
//! megabyte each, parsed issues) among small long-lived ones. With glibc's defaults the heap
//! fragments: each worker thread gets its own arena, and the mmap threshold rises after the first
//! large frees, so later large buffers land in the arenas and are never returned. Measured on the
//! 100,000-issue benchmark this is the difference between ~150 and ~110 MiB peak
//! (docs/benchmarks.md, Sync).

/// Caps glibc's arenas at two and keeps buffers over 128 KiB in their own mappings, returned to
/// the system when freed. Call first thing in `main`; a no-op on other C libraries.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; it is called before other threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// A multi-threaded runtime with one worker more than the machine has cores. The embedded store
/// writes synchronously (redb) on the worker that runs the sync's drive loop, a tenth of a
/// second for every thousand issues; the extra worker keeps Jira's answers being read and parsed
/// meanwhile. On the 2-core benchmark machine the 10,000-issue sync went from 1.24–1.33 × its
/// request bound to 1.20–1.29 × (docs/benchmarks.md).
pub fn runtime_for_sync() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores + 1)
        .enable_all()
        .build()
}

fn usage() -> libc::rusage {
    // SAFETY: getrusage only writes the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

/// The most memory the process has held resident so far, in bytes.
pub fn peak_rss_bytes() -> u64 {
    // Linux reports it in KiB.
    usage().ru_maxrss.max(0) as u64 * 1024
}

/// The CPU time the process has used so far (user and system), for the phases a command reports.
pub fn cpu_time() -> std::time::Duration {
    let usage = usage();
    let of = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec as u64)
            + std::time::Duration::from_micros(t.tv_usec as u64)
    };
    of(usage.ru_utime) + of(usage.ru_stime)
}
