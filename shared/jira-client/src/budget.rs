//! The bytes of Jira's answers in flight, all requests of a client together, against one budget:
//! ten requests each given the largest answer would otherwise hold ten times that at once, more
//! than a small function has. An answer takes its bytes as they arrive and gives them back once
//! it has been read into its model; one that finds the budget spent gives back what it took and
//! is tried again after a backoff, so the answers in flight never pass the budget and never wait
//! on each other.

use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Budget {
            limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The most bytes in flight at once so far.
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// An empty hold, to take bytes into as they arrive.
    pub(crate) fn hold(&self) -> Held<'_> {
        Held {
            budget: self,
            bytes: 0,
        }
    }
}

/// Bytes taken from the budget, given back when dropped.
pub(crate) struct Held<'a> {
    budget: &'a Budget,
    bytes: usize,
}

impl Held<'_> {
    /// Takes `n` more bytes; false, taking nothing, when the budget has not that many left.
    pub(crate) fn take(&mut self, n: usize) -> bool {
        let b = self.budget;
        let taken = b
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= b.limit)
            });
        match taken {
            Ok(before) => {
                self.bytes += n;
                b.peak.fetch_max(before + n, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_never_pass_the_budget_and_give_back_when_dropped() {
        let budget = Budget::new(100);
        let mut a = budget.hold();
        let mut b = budget.hold();
        assert!(a.take(60));
        assert!(!b.take(50), "past the budget");
        assert!(b.take(40));
        assert!(!a.take(1));
        drop(a);
        assert!(b.take(60));
        assert_eq!(budget.peak(), 100);
        drop(b);
        assert!(budget.hold().take(100));
    }
}
