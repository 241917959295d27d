//! The functions' wiring from their environment (names as in `template.yaml`): the AWS clients,
//! built once per container, and the settings. Outside Lambda the SDK may only reach a loopback
//! emulator (see [`sei_jira_aws::sdk_config`]).

use aws_config::SdkConfig;
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_aws::events::EventBridgePublisher;
use sei_jira_aws::scheduler::{EventBridgeRetries, EventBridgeScheduler};
use sei_jira_aws::secrets::SecretsManagerStore;
use sei_jira_core::integrations::ApiSettings;
use sei_jira_core::jira::PrivateNetworks;
use sei_jira_core::sync::stall::StallPolicy;
use sei_jira_core::validation::ValidationSettings;

fn var(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("environment variable {name} is not set"))
}

/// The private networks Jira sites may be on: CIDRs, comma-separated; empty (the template's
/// default) for none. The variable must be there even when empty.
fn private_networks(name: &str) -> Result<PrivateNetworks, String> {
    let list =
        std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))?;
    PrivateNetworks::parse(&list).map_err(|e| format!("environment variable {name}: {e}"))
}

/// Every variable `template.yaml` gives the functions is required, none has a default: a name
/// misspelled in the template stops the function at start, naming the variable, rather than
/// running it with a value nobody chose.
pub struct Deployed {
    pub store: DynamoStore,
    pub secrets: SecretsManagerStore,
    pub events: EventBridgePublisher,
    pub settings: ApiSettings,
    pub account_claim: String,
    sdk: SdkConfig,
}

impl Deployed {
    pub async fn from_env() -> Result<Self, String> {
        let sdk = sei_jira_aws::sdk_config().await?;
        Ok(Deployed {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), var("TABLE_NAME")?),
            secrets: SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk)),
            events: EventBridgePublisher {
                client: aws_sdk_eventbridge::Client::new(&sdk),
                bus: var("EVENT_BUS_NAME")?,
            },
            settings: ApiSettings {
                secret_prefix: var("SECRET_PREFIX")?,
                default_schedule_rate: var("DEFAULT_SCHEDULE_RATE")?,
                min_schedule_minutes: var("MIN_SCHEDULE_MINUTES")?.parse().map_err(|_| {
                    "environment variable MIN_SCHEDULE_MINUTES must be a whole number of minutes"
                        .to_string()
                })?,
                max_integrations: var("MAX_INTEGRATIONS_PER_ACCOUNT")?.parse().map_err(|_| {
                    "environment variable MAX_INTEGRATIONS_PER_ACCOUNT must be a whole number"
                        .to_string()
                })?,
                validations_per_minute: var("VALIDATIONS_PER_MINUTE")?.parse().map_err(|_| {
                    "environment variable VALIDATIONS_PER_MINUTE must be a whole number".to_string()
                })?,
                validation: ValidationSettings {
                    private_networks: private_networks("JIRA_PRIVATE_CIDRS")?,
                    ..ValidationSettings::default()
                },
            },
            account_claim: var("ACCOUNT_CLAIM")?,
            sdk,
        })
    }

    /// The sync schedules' adapter: only the integration API manages them, and only its
    /// environment names the sync function and the role Scheduler invokes it with.
    pub fn scheduler(&self) -> Result<EventBridgeScheduler, String> {
        Ok(EventBridgeScheduler {
            client: aws_sdk_scheduler::Client::new(&self.sdk),
            group: var("SCHEDULE_GROUP")?,
            target_arn: var("SYNC_FUNCTION_ARN")?,
            role_arn: var("SCHEDULER_ROLE_ARN")?,
        })
    }

    /// The sync's one-time retries: only the sync function schedules them, through the bus.
    pub fn retries(&self) -> Result<EventBridgeRetries, String> {
        Ok(EventBridgeRetries {
            client: aws_sdk_scheduler::Client::new(&self.sdk),
            group: var("SCHEDULE_GROUP")?,
            bus_arn: var("EVENT_BUS_ARN")?,
            role_arn: var("RETRY_ROLE_ARN")?,
        })
    }

    /// The bytes of Jira's answers a sync may hold at once: a quarter of the function's memory
    /// (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB, set by Lambda: `SyncMemorySize`); the rest holds
    /// what they are read into, the run's issue index and the runtime.
    pub fn answer_budget(&self) -> Result<usize, String> {
        let name = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
        let mb: usize = var(name)?
            .parse()
            .map_err(|_| format!("environment variable {name} must be a whole number of MB"))?;
        Ok(mb.saturating_mul(1024 * 1024) / 4)
    }

    /// How the sync backs off from runs without progress, and when it stops trying before the
    /// schedule (`STALLED_RUNS_BEFORE_STOP`).
    pub fn stall_policy(&self) -> Result<StallPolicy, String> {
        let name = "STALLED_RUNS_BEFORE_STOP";
        let stop_after =
            var(name)?.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                format!("environment variable {name} must be a whole number from 1")
            })?;
        Ok(StallPolicy {
            stop_after,
            ..StallPolicy::default()
        })
    }

    /// How long an integration may go without a successful sync before the daily snapshot
    /// counts it stale (`STALE_AFTER_HOURS`).
    pub fn stale_after(&self) -> Result<std::time::Duration, String> {
        let name = "STALE_AFTER_HOURS";
        let hours: u64 = var(name)?.parse().ok().filter(|h| *h >= 1).ok_or_else(|| {
            format!("environment variable {name} must be a whole number of hours from 1")
        })?;
        Ok(std::time::Duration::from_secs(hours * 3_600))
    }
}
