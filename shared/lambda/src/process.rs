//! Process tuning the binaries share (the sync function, the CLI and its benchmark): the
//! allocator for long syncs in small memory, the runtime a local sync runs on, and what a command
//! reports of its own CPU time and memory. Not the
//! domain's business, so not in the domain crate.
//!
//! **The allocator.** A sync allocates many large, short-lived buffers (bulk responses of about a
//! megabyte each, parsed issues) among small long-lived ones, and builds and drops a JSON tree
//! per issue. The binaries that sync allocate through [`SyncAllocator`]: mimalloc by default,
//! glibc's allocator (tuned by [`tune_allocator`]) with `SEI_JIRA_ALLOCATOR=glibc`, so the two
//! are measured side by side on one binary (`infra/scripts/scale_bench.py`, docs/benchmarks.md).
//! With glibc's defaults the heap fragments: each worker thread gets its own arena, and the mmap
//! threshold rises after the first large frees, so later large buffers land in the arenas and
//! are never returned; the tuning below caps both.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable that picks glibc's allocator over mimalloc.
const ALLOCATOR_VAR: &std::ffi::CStr = c"SEI_JIRA_ALLOCATOR";

/// The global allocator of the binaries that sync: mimalloc, or glibc's when
/// `SEI_JIRA_ALLOCATOR=glibc`. Chosen at the process's first allocation from the environment,
/// read without allocating, and kept: every block is freed by the allocator that gave it.
pub struct SyncAllocator;

/// 0: not chosen yet; 1: mimalloc; 2: glibc's.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

impl SyncAllocator {
    fn chosen() -> &'static dyn GlobalAlloc {
        let glibc = match CHOSEN.load(Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                // SAFETY: getenv and strcmp read the environment without allocating; the
                // pointer is compared with null before it is read.
                let glibc = unsafe {
                    let value = libc::getenv(ALLOCATOR_VAR.as_ptr());
                    !value.is_null() && libc::strcmp(value, c"glibc".as_ptr()) == 0
                };
                CHOSEN.store(if glibc { 2 } else { 1 }, Ordering::Relaxed);
                glibc
            }
        };
        if glibc { &System } else { &mimalloc::MiMalloc }
    }

    /// Whether the process allocates through glibc's allocator.
    pub fn is_glibc() -> bool {
        let _ = Self::chosen();
        CHOSEN.load(Ordering::Relaxed) == 2
    }
}

// SAFETY: every call goes to the one allocator the process chose, which upholds the contract.
unsafe impl GlobalAlloc for SyncAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { Self::chosen().alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { Self::chosen().dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { Self::chosen().alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { Self::chosen().realloc(ptr, layout, new_size) }
    }
}

/// With glibc's allocator: caps its arenas at two and keeps buffers over 128 KiB in their own
/// mappings, returned to the system when freed. Call first thing in `main`; a no-op with
/// mimalloc and on other C libraries.
pub fn tune_allocator() {
    if !SyncAllocator::is_glibc() {
        return;
    }
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

/// The CPU time the calling thread has used so far.
fn thread_cpu_time() -> std::time::Duration {
    // SAFETY: clock_gettime only writes the struct it is given.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts
    };
    std::time::Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// `inner`, answering with the CPU time its polls took (on whichever threads they ran): the
/// share of a process's CPU time that one task of several spent.
pub struct CpuTimed<F> {
    inner: std::pin::Pin<Box<F>>,
    spent: std::time::Duration,
}

pub fn cpu_timed<F: Future>(inner: F) -> CpuTimed<F> {
    CpuTimed {
        inner: Box::pin(inner),
        spent: std::time::Duration::ZERO,
    }
}

impl<F: Future> Future for CpuTimed<F> {
    type Output = (F::Output, std::time::Duration);

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let before = thread_cpu_time();
        let polled = self.inner.as_mut().poll(cx);
        let spent = thread_cpu_time().saturating_sub(before);
        self.spent += spent;
        polled.map(|out| (out, self.spent))
    }
}
