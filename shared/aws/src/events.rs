//! [`EventPublisher`] on EventBridge: each [`SyncEvent`] is one PutEvents entry on the service's
//! bus, with source [`EVENT_SOURCE`] and the event's detail type and JSON detail.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::sdk::sdk_error;
use sei_jira_core::ports::{EVENT_SOURCE, EventPublisher, PortError, PortResult, SyncEvent};

/// The IAM actions of the calls this adapter makes (see [`crate::dynamo::READ_ACTIONS`]).
pub const ACTIONS: &[&str] = &["events:PutEvents"];

const SERVICE: &str = "EventBridge";

pub struct EventBridgePublisher {
    pub client: Client,
    /// The bus's name or ARN (env `EVENT_BUS_NAME`).
    pub bus: String,
}

impl EventBridgePublisher {
    fn entry(&self, event: &SyncEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(event.detail_type())
            .detail(event.detail_json())
            .build()
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, event: &SyncEvent) -> PortResult<()> {
        let output = self
            .client
            .put_events()
            .entries(self.entry(event))
            .send()
            .await
            .map_err(|e| sdk_error(SERVICE, "PutEvents", e))?;
        check_entries(&output, event.detail_type())
    }

    async fn publish_all(&self, events: &[SyncEvent]) -> PortResult<()> {
        for batch in events.chunks(MAX_ENTRIES) {
            let output = self
                .client
                .put_events()
                .set_entries(Some(batch.iter().map(|e| self.entry(e)).collect()))
                .send()
                .await
                .map_err(|e| sdk_error(SERVICE, "PutEvents", e))?;
            check_entries(&output, batch[0].detail_type())?;
        }
        Ok(())
    }
}

/// The most entries one PutEvents call takes.
const MAX_ENTRIES: usize = 10;

/// PutEvents answers 200 even when it rejects entries: a rejected one is only reported in the
/// output, and a lost continuation event would stall the sync, so it is an error here.
fn check_entries(output: &PutEventsOutput, detail_type: &str) -> PortResult<()> {
    if output.failed_entry_count() == 0 {
        return Ok(());
    }
    let reasons: Vec<String> = output
        .entries()
        .iter()
        .filter(|entry| entry.error_code().is_some())
        .map(|entry| {
            format!(
                "{}: {}",
                entry.error_code().unwrap_or_default(),
                entry.error_message().unwrap_or_default()
            )
        })
        .collect();
    Err(PortError {
        service: SERVICE,
        message: format!(
            "PutEvents rejected the {detail_type} event: {}",
            reasons.join("; ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_eventbridge::types::PutEventsResultEntry;

    use super::*;

    #[test]
    fn a_rejected_entry_is_an_error_with_its_reason() {
        let output = PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("InternalFailure")
                    .error_message("try again")
                    .build(),
            )
            .build();
        let err = check_entries(&output, "jira.sync.completed").unwrap_err();
        assert_eq!(
            err.message,
            "PutEvents rejected the jira.sync.completed event: InternalFailure: try again"
        );
    }

    #[test]
    fn accepted_entries_are_fine() {
        let output = PutEventsOutput::builder()
            .failed_entry_count(0)
            .entries(PutEventsResultEntry::builder().event_id("1").build())
            .build();
        assert!(check_entries(&output, "jira.sync.completed").is_ok());
    }
}
