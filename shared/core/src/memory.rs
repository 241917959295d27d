//! Process-wide memory settings for long syncs in small Lambdas.
//!
//! A sync allocates many large, short-lived buffers (bulk responses of about a megabyte each,
//! parsed issues) among small long-lived ones. With glibc's defaults the heap fragments: each
//! worker thread gets its own arena, and the mmap threshold rises after the first large frees, so
//! later large buffers land in the arenas and are never returned. Measured on the 100,000-issue
//! benchmark this is the difference between ~150 and ~110 MiB peak (docs: README, Benchmarks).

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
