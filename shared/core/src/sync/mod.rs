//! Syncing Jira into the store: planning (scope units, fields), normalising (exclusions), and
//! the resumable engine.

pub mod chain;
pub mod engine;
mod fetch;
mod index;
pub mod normalize;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod service;
pub mod stall;
#[cfg(test)]
#[path = "tests/support.rs"]
pub(crate) mod test_support;

pub use engine::{
    Event, ExclusionProgress, Observer, Scrubbing, SyncError, SyncOptions, exclusion_progress,
    exclusion_progress_in, run,
};
pub use plan::{Excluded, Scope};
