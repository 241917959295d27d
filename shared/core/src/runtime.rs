//! The runtime a local sync runs on.

/// A multi-threaded runtime with one worker more than the machine has cores. The embedded store
/// writes synchronously (redb) on the worker that runs the sync's drive loop, a tenth of a
/// second for every thousand issues; the extra worker keeps Jira's answers being read and parsed
/// meanwhile. On the 2-core benchmark machine the 10,000-issue sync went from 1.24–1.33 × its
/// request bound to 1.20–1.29 × (README, Benchmarks).
pub fn for_sync() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores + 1)
        .enable_all()
        .build()
}
