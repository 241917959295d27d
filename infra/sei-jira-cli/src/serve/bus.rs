//! The bus and the schedules of a local server, in-process: what the functions put on the bus
//! is delivered to the function `EVENT_CONSUMERS` names, as the deployment's rules deliver it;
//! each integration's schedule starts its syncs, and a stalled chain's one-time retry goes when
//! it is due, as EventBridge Scheduler does in a deployment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sei_jira_core::ports::{
    DETAIL_SCHEDULED, EVENT_CONSUMERS, EVENT_SOURCE, EventPublisher, PortResult, RetryScheduler,
    SyncEvent, SyncScheduler, SyncTrigger, scheduled_input,
};
use sei_jira_core::schedule_expression::next_run;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// An event as EventBridge delivers it: the functions read this shape.
fn envelope(event: &SyncEvent) -> Value {
    json!({
        "source": EVENT_SOURCE,
        "detail-type": event.detail_type(),
        "detail": serde_json::from_str::<Value>(&event.detail_json()).unwrap_or_default(),
    })
}

/// Where events go; cloned by each function's app that publishes.
#[derive(Clone)]
pub struct Bus {
    events: mpsc::UnboundedSender<Value>,
    /// Timers by key: each integration's schedule, and its pending retry.
    timers: Arc<Mutex<HashMap<String, JoinHandle<()>>>>,
}

impl Bus {
    pub fn new() -> (Bus, mpsc::UnboundedReceiver<Value>) {
        let (events, received) = mpsc::unbounded_channel();
        let timers = Arc::default();
        (Bus { events, timers }, received)
    }

    fn send(&self, event: Value) {
        // The receiver lives as long as the server: a send can only fail while it stops.
        let _ = self.events.send(event);
    }

    /// Runs `timer` under `key`, ending the one it replaces.
    fn keep_timer(&self, key: String, timer: JoinHandle<()>) {
        if let Ok(mut timers) = self.timers.lock()
            && let Some(replaced) = timers.insert(key, timer)
        {
            replaced.abort();
        }
    }

    fn end_timer(&self, key: &str) {
        if let Ok(mut timers) = self.timers.lock()
            && let Some(ended) = timers.remove(key)
        {
            ended.abort();
        }
    }
}

#[async_trait]
impl EventPublisher for Bus {
    async fn publish(&self, event: &SyncEvent) -> PortResult<()> {
        self.send(envelope(event));
        Ok(())
    }
}

#[async_trait]
impl RetryScheduler for Bus {
    async fn retry_at(&self, trigger: &SyncTrigger, at_ms: i64) -> PortResult<()> {
        let wait = at_ms - chrono::Utc::now().timestamp_millis();
        let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
        let event = envelope(&SyncEvent::Continue(trigger.clone()));
        let bus = self.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            bus.send(event);
        });
        self.keep_timer(format!("retry-{}", trigger.integration_id), timer);
        Ok(())
    }
}

#[async_trait]
impl SyncScheduler for Bus {
    /// Each run at the expression's next time, as Scheduler runs it: a rate every its period
    /// from now, a cron at its own times (UTC). An expression that never fires again starts
    /// nothing.
    async fn upsert_schedule(
        &self,
        account: &str,
        integration: &str,
        rate: &str,
    ) -> PortResult<()> {
        let event: Value =
            serde_json::from_str(&scheduled_input(account, integration)).unwrap_or_default();
        let (bus, rate) = (self.clone(), rate.to_string());
        let timer = tokio::spawn(async move {
            // Each time follows the last one, not the clock, so a timer that wakes a little
            // early cannot run the same time twice.
            let mut from = chrono::Utc::now();
            while let Some(next) = next_run(&rate, from) {
                let wait = (next - chrono::Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                bus.send(event.clone());
                from = next;
            }
        });
        self.keep_timer(format!("schedule-{integration}"), timer);
        Ok(())
    }

    async fn delete_schedule(&self, integration: &str) -> PortResult<()> {
        self.end_timer(&format!("schedule-{integration}"));
        self.end_timer(&format!("retry-{integration}"));
        Ok(())
    }
}

/// The functions events are delivered to.
pub struct Consumers {
    pub sync: Arc<sync_project::App>,
    pub hygiene: Arc<score_hygiene::App>,
}

/// Delivers every event received, each in a task of its own (as Lambda runs invocations side
/// by side), to its consumer; a scheduled event goes to the sync, as Scheduler's target does.
pub async fn deliver(mut received: mpsc::UnboundedReceiver<Value>, consumers: Consumers) {
    let consumers = Arc::new(consumers);
    let mut delivered = 0u64;
    while let Some(event) = received.recv().await {
        delivered += 1;
        let kind = event["detail-type"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let consumer = match kind.as_str() {
            DETAIL_SCHEDULED => Some("sync-project"),
            _ => EVENT_CONSUMERS
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, c)| *c),
        };
        let consumers = consumers.clone();
        tokio::spawn(async move {
            let answer = match consumer {
                Some("sync-project") => {
                    let run = format!("local-{delivered}");
                    sync_project::handle(&consumers.sync, event, None, &run).await
                }
                Some("hygiene-events") => {
                    let now = chrono::Utc::now();
                    score_hygiene::handle_event(&consumers.hygiene, &event, now, None).await
                }
                _ => Err(format!("no function consumes {kind}")),
            };
            if let Err(e) = answer {
                eprintln!("sei-jira serve: {kind} not handled: {e}");
            }
        });
    }
}
