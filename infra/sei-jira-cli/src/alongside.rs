//! The hygiene index kept current while a local sync writes, as the deployed service's refresh
//! follows the writes of its syncs: the issues written so far are evaluated while the sync waits
//! on Jira, so what is left once the sync has written its last is its last batches, not every
//! issue of the run.

use std::sync::Arc;
use std::time::Duration;

use sei_jira_core::hygiene::{HygieneError, indexer};
use sei_jira_core::store::IntegrationRecord;
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_lambda::process;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long the refresh waits for more writes once it has caught up.
const PAUSE: Duration = Duration::from_millis(250);

/// A refresh of the index running beside a sync.
pub struct IndexAlongside {
    synced: watch::Sender<bool>,
    task: JoinHandle<(Result<usize, HygieneError>, Duration)>,
}

/// What the refresh beside a sync did.
pub struct Indexed {
    /// Issues evaluated once the sync had ended: those it wrote after the refresh last caught up.
    pub after_sync: usize,
    /// CPU time in all, beside the sync and after it.
    pub cpu: Duration,
}

impl IndexAlongside {
    pub fn start(store: Arc<EmbeddedStore>, record: IntegrationRecord, owner: String) -> Self {
        let (synced, mut sync_ended) = watch::channel(false);
        let task = tokio::spawn(process::cpu_timed(async move {
            loop {
                // Read before the refresh: the refresh after the sync's end counts every write.
                let last = *sync_ended.borrow_and_update();
                let refreshed = indexer::refresh(&*store, &record, &owner, None).await?;
                if last {
                    return Ok(refreshed.evaluated);
                }
                tokio::select! {
                    changed = sync_ended.changed() => {
                        // The command went away without saying the sync ended: nothing to wait for.
                        if changed.is_err() {
                            return Ok(0);
                        }
                    }
                    () = tokio::time::sleep(PAUSE) => {}
                }
            }
        }));
        IndexAlongside { synced, task }
    }

    /// Says the sync has written its last, and waits until the index counts that too.
    pub async fn finish(self) -> anyhow::Result<Indexed> {
        // An error here means the task has already ended; its result says why.
        let _ = self.synced.send(true);
        let (result, cpu) = self.task.await?;
        Ok(Indexed {
            after_sync: result?,
            cpu,
        })
    }
}
