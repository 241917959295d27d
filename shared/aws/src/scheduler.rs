//! [`SyncScheduler`] on EventBridge Scheduler: one schedule per integration, `sync-{integration}`
//! in the service's schedule group, invoking the sync function with
//! [`ports::scheduled_input`](sei_jira_core::ports::scheduled_input) through the scheduler role.

use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::error::ProvideErrorMetadata;
use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target};

use crate::sdk::sdk_error;
use sei_jira_core::ports::{PortError, PortResult, SyncScheduler, scheduled_input};
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

    /// Syncs start at their scheduled time: spreading them is left to the schedules' own rates.
    fn window() -> PortResult<FlexibleTimeWindow> {
        FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| sdk_error(SERVICE, "flexible time window", e))
    }

    /// Creates the schedule; `Ok(false)` when one of that name already exists.
    async fn create(&self, name: &str, rate: &str, target: Target) -> PortResult<bool> {
        let result = self
            .client
            .create_schedule()
            .name(name)
            .group_name(&self.group)
            .schedule_expression(rate)
            .flexible_time_window(Self::window()?)
            .target(target)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some(CONFLICT) => Ok(false),
            Err(e) => Err(sdk_error(SERVICE, &format!("CreateSchedule {name}"), e)),
        }
    }

    /// UpdateSchedule replaces the whole definition, so it is given all of it again.
    async fn update(&self, name: &str, rate: &str, target: Target) -> PortResult<()> {
        self.client
            .update_schedule()
            .name(name)
            .group_name(&self.group)
            .schedule_expression(rate)
            .flexible_time_window(Self::window()?)
            .target(target)
            .send()
            .await
            .map_err(|e| sdk_error(SERVICE, &format!("UpdateSchedule {name}"), e))?;
        Ok(())
    }
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
        let target = self.target(account, integration)?;
        if !self.create(&name, rate, target.clone()).await? {
            self.update(&name, rate, target).await?;
        }
        Ok(())
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
        }
    }
}
