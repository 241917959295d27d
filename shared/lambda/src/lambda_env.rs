//! The functions' wiring from their environment (names as in `template.yaml`): the AWS clients,
//! built once per container, and the settings. Outside Lambda the SDK may only reach a loopback
//! emulator (see [`sei_jira_aws::sdk_config`]).

use aws_config::SdkConfig;
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_aws::events::EventBridgePublisher;
use sei_jira_aws::scheduler::EventBridgeScheduler;
use sei_jira_aws::secrets::SecretsManagerStore;
use sei_jira_core::integrations::Settings;
use sei_jira_core::validation::ValidationSettings;

fn var(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("environment variable {name} is not set"))
}

/// A yes/no setting, spelled as the template spells it.
fn flag(name: &str) -> Result<bool, String> {
    match var(name)?.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!(
            "environment variable {name} must be \"true\" or \"false\", not {other:?}"
        )),
    }
}

/// Every variable `template.yaml` gives the functions is required, none has a default: a name
/// misspelled in the template stops the function at start, naming the variable, rather than
/// running it with a value nobody chose.
pub struct Deployed {
    pub store: DynamoStore,
    pub secrets: SecretsManagerStore,
    pub events: EventBridgePublisher,
    pub settings: Settings,
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
            settings: Settings {
                secret_prefix: var("SECRET_PREFIX")?,
                default_schedule_rate: var("DEFAULT_SCHEDULE_RATE")?,
                min_schedule_minutes: var("MIN_SCHEDULE_MINUTES")?.parse().map_err(|_| {
                    "environment variable MIN_SCHEDULE_MINUTES must be a whole number of minutes"
                        .to_string()
                })?,
                validation: ValidationSettings {
                    allow_private_network: flag("ALLOW_PRIVATE_NETWORK")?,
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
}
