//! The embedded store behind the benchmarks, counting the read calls and the items they
//! return, the best-of-runs timer the benchmarks print, and the sizes they measure.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sei_jira_core::store::embedded::EmbeddedStore;

use crate::tapped::{Tap, Tapped};

/// The embedded store, counting the read calls and the items they return.
pub type Counting<'a> = Tapped<&'a EmbeddedStore, Reads>;

pub fn counting(store: &EmbeddedStore) -> Counting<'_> {
    Tapped::new(store, Reads::default())
}

/// Read calls and the items they returned, since last taken.
#[derive(Default)]
pub struct Reads {
    calls: AtomicU64,
    items: AtomicU64,
}

impl Reads {
    pub fn take(&self) -> (u64, u64) {
        (
            self.calls.swap(0, Ordering::Relaxed),
            self.items.swap(0, Ordering::Relaxed),
        )
    }
}

impl Tap for Reads {
    fn read(&self, items: usize) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items as u64, Ordering::Relaxed);
    }
}

/// Seconds for the best of `runs` runs of `f`, and the reads of the last one.
pub async fn best_of<F, Fut>(runs: usize, store: &Counting<'_>, mut f: F) -> (f64, (u64, u64))
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut best = f64::MAX;
    let mut reads = (0, 0);
    for _ in 0..runs {
        store.tap.take();
        let t = Instant::now();
        f().await;
        best = best.min(t.elapsed().as_secs_f64());
        reads = store.tap.take();
    }
    (best, reads)
}

/// The numbers of stored issues to measure: the comma-separated list in `variable`, or 10,000
/// and 100,000.
pub fn sizes(variable: &str) -> Vec<u64> {
    std::env::var(variable)
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}
