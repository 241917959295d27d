//! The narrow interfaces (ports) to the services around the domain besides the store: where
//! tokens are kept, what starts syncs on a schedule, and where sync events are published. Their AWS
//! adapters (Secrets Manager, EventBridge Scheduler, EventBridge) live in `sei-jira-aws`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::jira::Secret;
use crate::store::Counts;

#[derive(Debug, thiserror::Error)]
#[error("{service}: {message}")]
pub struct PortError {
    pub service: &'static str,
    pub message: String,
}

pub type PortResult<T> = Result<T, PortError>;

/// Integration tokens, one secret per integration, never stored anywhere else.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Creates the secret or replaces its value.
    async fn put_secret(&self, name: &str, value: &Secret) -> PortResult<()>;
    async fn get_secret(&self, name: &str) -> PortResult<Option<Secret>>;
    /// Deletes at once, without a recovery window; deleting a missing secret is not an error.
    async fn delete_secret(&self, name: &str) -> PortResult<()>;
}

/// The recurring trigger of an integration's sync.
#[async_trait]
pub trait SyncScheduler: Send + Sync {
    /// Creates or updates the integration's schedule (`rate` as EventBridge writes it, e.g.
    /// `rate(1 hour)`); its target receives [`SyncTrigger`] with `trigger: schedule`.
    async fn upsert_schedule(&self, account: &str, integration: &str, rate: &str)
    -> PortResult<()>;
    /// Deleting a missing schedule is not an error.
    async fn delete_schedule(&self, integration: &str) -> PortResult<()>;
}

/// One-time retries of a sync whose run got nowhere (see `sync::stall`).
#[async_trait]
pub trait RetryScheduler: Send + Sync {
    /// Has `trigger` delivered to the sync function once, at `at_ms` (epoch ms), as a
    /// continuation event; replaces the integration's retry not yet delivered.
    async fn retry_at(&self, trigger: &SyncTrigger, at_ms: i64) -> PortResult<()>;
}

/// Events about syncs, on the service's event bus.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: &SyncEvent) -> PortResult<()>;

    /// Publishes every event (as few calls as the bus allows, where the adapter can batch).
    async fn publish_all(&self, events: &[SyncEvent]) -> PortResult<()> {
        for event in events {
            self.publish(event).await?;
        }
        Ok(())
    }
}

/// The event source on the bus.
pub const EVENT_SOURCE: &str = "sei-jira";
pub const DETAIL_SCHEDULED: &str = "jira.sync.scheduled";
pub const DETAIL_CONTINUATION: &str = "jira.sync.continuation";
pub const DETAIL_COMPLETED: &str = "jira.sync.completed";
/// Asks `hygiene-events` to bring an integration's hygiene index up to date (after its criteria
/// changed, or to go on with a build the previous run had no time to finish).
pub const DETAIL_HYGIENE_INDEX: &str = "hygiene.index.requested";
/// Asks `hygiene-events` to classify an integration's issues again under its DORA profiles
/// (after a profile changed); the hygiene indexer keeps both.
pub const DETAIL_DORA_INDEX: &str = "dora.index.requested";
/// Asks `hygiene-events` for the daily snapshot of every integration that has one (from its
/// daily schedule, or from itself, to go on from where it stopped: [`DailyCursor`]).
pub const DETAIL_SNAPSHOT_DAILY: &str = "hygiene.snapshot.daily";
/// The daily snapshot's turn of one integration, asked for by its fan-out: its index brought up
/// to date and the day's snapshot taken, as for [`DETAIL_HYGIENE_INDEX`], and whether it has
/// synced lately counted for operators.
pub const DETAIL_SNAPSHOT_REQUESTED: &str = "hygiene.snapshot.requested";

/// Every kind of event the functions put on the bus, with the function that consumes it (its
/// folder under `functions/`): the bus rules of `template.yaml` must route each kind to its
/// consumer and to no other function, which the deployment rehearsal checks. (Scheduled syncs,
/// `jira.sync.scheduled`, come from EventBridge Scheduler straight to the sync function; the
/// one-time retry of a stalled chain puts a continuation on the bus.)
pub const EVENT_CONSUMERS: &[(&str, &str)] = &[
    (DETAIL_CONTINUATION, "sync-project"),
    (DETAIL_COMPLETED, "hygiene-events"),
    (DETAIL_HYGIENE_INDEX, "hygiene-events"),
    (DETAIL_DORA_INDEX, "hygiene-events"),
    (DETAIL_SNAPSHOT_DAILY, "hygiene-events"),
    (DETAIL_SNAPSHOT_REQUESTED, "hygiene-events"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Schedule,
    Continuation,
    Manual,
    /// The one-time retry after a run that got nowhere.
    Retry,
}

/// What starts a sync: the `detail` of a scheduled, continuation or manual event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncTrigger {
    pub account_id: String,
    pub integration_id: String,
    pub trigger: Trigger,
    /// When the first run of a chain of continuations started, carried by each continuation:
    /// a unit brought up to date since then is not synced again within the chain, so a chain
    /// whose runs each get little time still ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_started_ms: Option<i64>,
}

/// What a finished sync reports on the event bus. Never carries a token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncCompleted {
    pub account_id: String,
    pub integration_id: String,
    pub run_id: String,
    pub outcome: crate::store::RunOutcome,
    pub counts: Counts,
    pub started_ms: i64,
    pub ended_ms: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SyncEvent {
    /// Detail type `jira.sync.scheduled`: a schedule fired (its target's input,
    /// [`scheduled_input`]; never published on the bus).
    Scheduled(SyncTrigger),
    /// Detail type `jira.sync.continuation`: the sync re-queues itself (or a person asked for a
    /// sync now, `trigger: manual`).
    Continue(SyncTrigger),
    /// Detail type `jira.sync.completed`.
    Completed(SyncCompleted),
    /// Detail type `hygiene.index.requested`.
    HygieneIndex(IntegrationRef),
    /// Detail type `dora.index.requested`.
    DoraIndex(IntegrationRef),
    /// Detail type `hygiene.snapshot.daily`.
    SnapshotDaily(DailyCursor),
    /// Detail type `hygiene.snapshot.requested`.
    SnapshotRequested(IntegrationRef),
}

/// Where the daily snapshot's fan-out goes on: after this integration id (None: from the first).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One integration of one account, as an event names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationRef {
    pub account_id: String,
    pub integration_id: String,
}

impl SyncEvent {
    pub fn detail_type(&self) -> &'static str {
        match self {
            SyncEvent::Scheduled(_) => DETAIL_SCHEDULED,
            SyncEvent::Continue(_) => DETAIL_CONTINUATION,
            SyncEvent::Completed(_) => DETAIL_COMPLETED,
            SyncEvent::HygieneIndex(_) => DETAIL_HYGIENE_INDEX,
            SyncEvent::DoraIndex(_) => DETAIL_DORA_INDEX,
            SyncEvent::SnapshotDaily(_) => DETAIL_SNAPSHOT_DAILY,
            SyncEvent::SnapshotRequested(_) => DETAIL_SNAPSHOT_REQUESTED,
        }
    }
    pub fn detail_json(&self) -> String {
        match self {
            SyncEvent::Scheduled(t) | SyncEvent::Continue(t) => serde_json::to_string(t),
            SyncEvent::Completed(c) => serde_json::to_string(c),
            SyncEvent::HygieneIndex(r)
            | SyncEvent::DoraIndex(r)
            | SyncEvent::SnapshotRequested(r) => serde_json::to_string(r),
            SyncEvent::SnapshotDaily(c) => serde_json::to_string(c),
        }
        .unwrap_or_else(|_| "{}".into())
    }
}

/// Why an event a function received is not one it can act on.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum EventError {
    /// Not sent by us, or of a detail type we never send: the user-controlled parts echoed.
    #[error("not an event of ours (source {sender}, detail-type {detail_type})")]
    Foreign { sender: String, detail_type: String },
    #[error("event detail of {detail_type}: {error}")]
    Detail {
        detail_type: &'static str,
        error: String,
    },
}

impl SyncEvent {
    /// The event an EventBridge envelope (or a schedule's input, shaped alike) carries, read
    /// once at the edge: its source must be ours and its detail must be what its detail type
    /// says.
    pub fn from_envelope(event: &serde_json::Value) -> Result<SyncEvent, EventError> {
        let source = event["source"].as_str().unwrap_or_default();
        let detail_type = event["detail-type"].as_str().unwrap_or_default();
        let foreign = || EventError::Foreign {
            sender: crate::user_text::echoed(source),
            detail_type: crate::user_text::echoed(detail_type),
        };
        if source != EVENT_SOURCE {
            return Err(foreign());
        }
        fn detail<T: serde::de::DeserializeOwned>(
            event: &serde_json::Value,
            detail_type: &'static str,
        ) -> Result<T, EventError> {
            serde_json::from_value(event["detail"].clone()).map_err(|e| EventError::Detail {
                detail_type,
                error: e.to_string(),
            })
        }
        Ok(match detail_type {
            DETAIL_SCHEDULED => SyncEvent::Scheduled(detail(event, DETAIL_SCHEDULED)?),
            DETAIL_CONTINUATION => SyncEvent::Continue(detail(event, DETAIL_CONTINUATION)?),
            DETAIL_COMPLETED => SyncEvent::Completed(detail(event, DETAIL_COMPLETED)?),
            DETAIL_HYGIENE_INDEX => SyncEvent::HygieneIndex(detail(event, DETAIL_HYGIENE_INDEX)?),
            DETAIL_DORA_INDEX => SyncEvent::DoraIndex(detail(event, DETAIL_DORA_INDEX)?),
            DETAIL_SNAPSHOT_DAILY => {
                SyncEvent::SnapshotDaily(detail(event, DETAIL_SNAPSHOT_DAILY)?)
            }
            DETAIL_SNAPSHOT_REQUESTED => {
                SyncEvent::SnapshotRequested(detail(event, DETAIL_SNAPSHOT_REQUESTED)?)
            }
            _ => return Err(foreign()),
        })
    }
}

/// The JSON a schedule sends to the sync function: shaped like an EventBridge event, so the
/// function reads scheduled and bus events alike.
pub fn scheduled_input(account: &str, integration: &str) -> String {
    serde_json::json!({
        "source": EVENT_SOURCE,
        "detail-type": DETAIL_SCHEDULED,
        "detail": SyncTrigger {
            account_id: account.to_string(),
            integration_id: integration.to_string(),
            trigger: Trigger::Schedule,
            chain_started_ms: None,
        },
    })
    .to_string()
}

/// Secrets Manager's limit on a secret's name.
pub const MAX_SECRET_NAME_LEN: usize = 512;

/// The secret holding an integration's token: `{prefix}{account}/{integration}`, e.g.
/// `sei-jira/acme/jira-1`. The IAM policies grant `secret:{prefix}*` only, and a `/` (or any
/// character beyond `[A-Za-z0-9_-]`) in an id could reach another account's secrets, so ids are
/// checked here, before any name is built.
pub fn secret_name(prefix: &str, account: &str, integration: &str) -> PortResult<String> {
    check_id("account", account)?;
    check_id("integration", integration)?;
    let name = format!("{prefix}{account}/{integration}");
    if name.len() > MAX_SECRET_NAME_LEN {
        return Err(invalid_name(format!(
            "secret name {name:?} is longer than {MAX_SECRET_NAME_LEN} characters"
        )));
    }
    Ok(name)
}

fn check_id(what: &str, id: &str) -> PortResult<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if id.is_empty() || !id.chars().all(allowed) {
        return Err(invalid_name(format!(
            "{what} id {id:?} must be non-empty and contain only letters, digits, '_' and '-'"
        )));
    }
    Ok(())
}

fn invalid_name(message: String) -> PortError {
    PortError {
        service: "Secrets Manager",
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(event: &SyncEvent) -> serde_json::Value {
        json!({
            "source": EVENT_SOURCE,
            "detail-type": event.detail_type(),
            "detail": serde_json::from_str::<serde_json::Value>(&event.detail_json()).unwrap(),
        })
    }

    #[test]
    fn each_event_reads_back_from_its_envelope_and_nothing_else_does() {
        let target = IntegrationRef {
            account_id: "acme".into(),
            integration_id: "i-1".into(),
        };
        let trigger = SyncTrigger {
            account_id: "acme".into(),
            integration_id: "i-1".into(),
            trigger: Trigger::Manual,
            chain_started_ms: Some(5),
        };
        for event in [
            SyncEvent::Scheduled(trigger.clone()),
            SyncEvent::Continue(trigger),
            SyncEvent::HygieneIndex(target.clone()),
            SyncEvent::DoraIndex(target.clone()),
            SyncEvent::SnapshotRequested(target),
            SyncEvent::SnapshotDaily(DailyCursor {
                after: Some("i-0".into()),
            }),
        ] {
            assert_eq!(SyncEvent::from_envelope(&envelope(&event)), Ok(event));
        }
        let scheduled: serde_json::Value =
            serde_json::from_str(&scheduled_input("acme", "i-1")).unwrap();
        assert!(matches!(
            SyncEvent::from_envelope(&scheduled),
            Ok(SyncEvent::Scheduled(t)) if t.trigger == Trigger::Schedule
        ));

        let foreign = json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}});
        assert_eq!(
            SyncEvent::from_envelope(&foreign).unwrap_err().to_string(),
            "not an event of ours (source 'aws.s3', detail-type 'Object Created')"
        );
        let unknown = json!({"source": EVENT_SOURCE, "detail-type": "jira.sync.exploded"});
        assert!(matches!(
            SyncEvent::from_envelope(&unknown),
            Err(EventError::Foreign { .. })
        ));
        let thin = json!({"source": EVENT_SOURCE, "detail-type": DETAIL_HYGIENE_INDEX,
            "detail": {"account_id": "acme"}});
        assert!(matches!(
            SyncEvent::from_envelope(&thin),
            Err(EventError::Detail {
                detail_type: DETAIL_HYGIENE_INDEX,
                ..
            })
        ));
    }
}
