//! [`SyncScheduler`] on EventBridge Scheduler: one schedule per integration, `sync-{integration}`
//! in the service's schedule group, invoking the sync function with
//! [`ports::scheduled_input`](sei_jira_core::ports::scheduled_input) through the scheduler role.

use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::error::ProvideErrorMetadata;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, EventBridgeParameters, FlexibleTimeWindow, FlexibleTimeWindowMode,
    Target,
};

use crate::sdk::sdk_error;
use sei_jira_core::ports::{
    DETAIL_CONTINUATION, EVENT_SOURCE, PortError, PortResult, RetryScheduler, SyncScheduler,
    SyncTrigger, scheduled_input,
};
use sei_jira_core::schedule_expression::validate_rate;

/// The IAM actions of the calls this adapter makes (see [`crate::dynamo::READ_ACTIONS`]): a
/// schedule that names a role needs PassRole on it.
pub const ACTIONS: &[&str] = &[
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "iam:PassRole",
];

const SERVICE: &str = "EventBridge Scheduler";
const NAME_PREFIX: &str = "sync-";
/// EventBridge Scheduler's limit on a schedule's name.
const MAX_NAME_LEN: usize = 64;
const CONFLICT: &str = "ConflictException";
const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";

pub struct EventBridgeScheduler {
    pub client: Client,
    /// The schedule group (template: `ScheduleGroup`, env `SCHEDULE_GROUP`).
    pub group: String,
    /// The sync function (env `SYNC_FUNCTION_ARN`).
    pub target_arn: String,
    /// The role Scheduler assumes to invoke it (env `SCHEDULER_ROLE_ARN`).
    pub role_arn: String,
}

/// The integration's schedule: `sync-{integration}`. Scheduler allows `[0-9A-Za-z_.-]`, at
/// most 64 characters; anything else is refused here with a clear message rather than by the
/// service.
pub fn schedule_name(integration: &str) -> PortResult<String> {
    let name = format!("{NAME_PREFIX}{integration}");
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if integration.is_empty() || !integration.chars().all(allowed) || name.len() > MAX_NAME_LEN {
        return Err(PortError {
            service: SERVICE,
            message: format!(
                "integration id {integration:?} cannot name a schedule: it must be non-empty, \
                 at most {} characters of letters, digits, '_', '-' and '.'",
                MAX_NAME_LEN - NAME_PREFIX.len()
            ),
        });
    }
    Ok(name)
}

impl EventBridgeScheduler {
    /// The schedule's target: the sync function, invoked by the scheduler role with the
    /// integration's trigger.
    fn target(&self, account: &str, integration: &str) -> PortResult<Target> {
        Target::builder()
            .arn(&self.target_arn)
            .role_arn(&self.role_arn)
            .input(scheduled_input(account, integration))
            .build()
            .map_err(|e| sdk_error(SERVICE, "schedule target", e))
    }
}

/// A schedule as both adapters write it.
struct Definition<'a> {
    name: &'a str,
    expression: &'a str,
    target: Target,
    /// One-time schedules delete themselves once delivered.
    one_time: bool,
}

/// Syncs start at their scheduled time: spreading them is left to the schedules' own rates.
fn window() -> PortResult<FlexibleTimeWindow> {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| sdk_error(SERVICE, "flexible time window", e))
}

/// Creates the schedule, or replaces the whole definition of the one of that name (as
/// UpdateSchedule requires).
async fn put_schedule(client: &Client, group: &str, d: Definition<'_>) -> PortResult<()> {
    let after = d.one_time.then_some(ActionAfterCompletion::Delete);
    let created = client
        .create_schedule()
        .name(d.name)
        .group_name(group)
        .schedule_expression(d.expression)
        .flexible_time_window(window()?)
        .target(d.target.clone())
        .set_action_after_completion(after.clone())
        .send()
        .await;
    match created {
        Ok(_) => return Ok(()),
        Err(e) if e.code() == Some(CONFLICT) => {}
        Err(e) => return Err(sdk_error(SERVICE, &format!("CreateSchedule {}", d.name), e)),
    }
    client
        .update_schedule()
        .name(d.name)
        .group_name(group)
        .schedule_expression(d.expression)
        .flexible_time_window(window()?)
        .target(d.target)
        .set_action_after_completion(after)
        .send()
        .await
        .map_err(|e| sdk_error(SERVICE, &format!("UpdateSchedule {}", d.name), e))?;
    Ok(())
}

#[async_trait]
impl SyncScheduler for EventBridgeScheduler {
    async fn upsert_schedule(
        &self,
        account: &str,
        integration: &str,
        rate: &str,
    ) -> PortResult<()> {
        let name = schedule_name(integration)?;
        validate_rate(rate).map_err(|message| PortError {
            service: SERVICE,
            message,
        })?;
        let definition = Definition {
            name: &name,
            expression: rate,
            target: self.target(account, integration)?,
            one_time: false,
        };
        put_schedule(&self.client, &self.group, definition).await
    }

    async fn delete_schedule(&self, integration: &str) -> PortResult<()> {
        let name = schedule_name(integration)?;
        let result = self
            .client
            .delete_schedule()
            .name(&name)
            .group_name(&self.group)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(RESOURCE_NOT_FOUND) => Ok(()),
            Err(e) => Err(sdk_error(SERVICE, &format!("DeleteSchedule {name}"), e)),
        }
    }
}

/// The IAM actions of [`EventBridgeRetries`]' calls: a schedule that names a role needs PassRole
/// on it.
pub const RETRY_ACTIONS: &[&str] = &[
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "iam:PassRole",
];

const RETRY_PREFIX: &str = "once-";

/// [`RetryScheduler`] on EventBridge Scheduler: one one-time schedule per integration,
/// `once-{integration}`, that puts the retry's continuation event on the service's bus (whose
/// continuation rule runs the sync function) and deletes itself once delivered. Through the
/// bus rather than invoking the function, the sync function never names itself.
pub struct EventBridgeRetries {
    pub client: Client,
    /// The schedule group (template: `ScheduleGroup`, env `SCHEDULE_GROUP`).
    pub group: String,
    /// The service's event bus (env `EVENT_BUS_ARN`).
    pub bus_arn: String,
    /// The role Scheduler puts the event with (env `RETRY_ROLE_ARN`).
    pub role_arn: String,
}

/// The integration's one-time retry: `once-{integration}`, within Scheduler's limits as
/// [`schedule_name`] checks them.
pub fn retry_name(integration: &str) -> PortResult<String> {
    schedule_name(integration)?;
    Ok(format!("{RETRY_PREFIX}{integration}"))
}

/// Scheduler's one-time expression, `at(yyyy-mm-ddThh:mm:ss)` in UTC, for the first whole second
/// at or after `at_ms`.
pub fn at_expression(at_ms: i64) -> PortResult<String> {
    let second = at_ms.div_euclid(1000) + i64::from(at_ms.rem_euclid(1000) > 0);
    let at = chrono::DateTime::from_timestamp(second, 0).ok_or_else(|| PortError {
        service: SERVICE,
        message: format!("{at_ms} ms is not a time a schedule can name"),
    })?;
    Ok(format!("at({})", at.format("%Y-%m-%dT%H:%M:%S")))
}

#[async_trait]
impl RetryScheduler for EventBridgeRetries {
    async fn retry_at(&self, trigger: &SyncTrigger, at_ms: i64) -> PortResult<()> {
        let name = retry_name(&trigger.integration_id)?;
        let detail = serde_json::to_string(trigger).map_err(|e| PortError {
            service: SERVICE,
            message: format!("retry event: {e}"),
        })?;
        let event = EventBridgeParameters::builder()
            .source(EVENT_SOURCE)
            .detail_type(DETAIL_CONTINUATION)
            .build()
            .map_err(|e| sdk_error(SERVICE, "retry event", e))?;
        let target = Target::builder()
            .arn(&self.bus_arn)
            .role_arn(&self.role_arn)
            .input(detail)
            .event_bridge_parameters(event)
            .build()
            .map_err(|e| sdk_error(SERVICE, "retry target", e))?;
        let definition = Definition {
            name: &name,
            expression: &at_expression(at_ms)?,
            target,
            one_time: true,
        };
        put_schedule(&self.client, &self.group, definition).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_names_fit_scheduler_limits() {
        assert_eq!(schedule_name("jira-1").unwrap(), "sync-jira-1");
        let longest = "a".repeat(MAX_NAME_LEN - NAME_PREFIX.len());
        assert_eq!(schedule_name(&longest).unwrap().len(), MAX_NAME_LEN);
        for bad in ["", "a/b", "a b", "é", &format!("{longest}a")] {
            assert!(schedule_name(bad).is_err(), "{bad:?}");
            assert!(retry_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(retry_name(&longest).unwrap().len(), MAX_NAME_LEN);
    }

    #[test]
    fn one_time_expressions_round_up_to_the_second() {
        assert_eq!(at_expression(0).unwrap(), "at(1970-01-01T00:00:00)");
        assert_eq!(
            at_expression(1_796_000_000_001).unwrap(),
            "at(2026-11-30T00:53:21)"
        );
    }
}
