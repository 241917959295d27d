//! The functions' wiring from their environment (names as in `template.yaml`): the AWS clients,
//! built once per container, and the settings. Outside Lambda the SDK may only reach a loopback
//! emulator (see [`sei_jira_aws::sdk_config`]).

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

fn var_or(name: &str, default: &str) -> String {
    var(name).unwrap_or_else(|_| default.to_string())
}

pub struct Deployed {
    pub store: DynamoStore,
    pub secrets: SecretsManagerStore,
    pub events: EventBridgePublisher,
    /// Only the integration API manages schedules (it alone has `SYNC_FUNCTION_ARN`).
    pub scheduler: Option<EventBridgeScheduler>,
    pub settings: Settings,
    pub account_claim: String,
}

impl Deployed {
    pub async fn from_env() -> Result<Self, String> {
        let config = sei_jira_aws::sdk_config().await?;
        let scheduler = match (var("SYNC_FUNCTION_ARN"), var("SCHEDULER_ROLE_ARN")) {
            (Ok(target_arn), Ok(role_arn)) => Some(EventBridgeScheduler {
                client: aws_sdk_scheduler::Client::new(&config),
                group: var("SCHEDULE_GROUP")?,
                target_arn,
                role_arn,
            }),
            _ => None,
        };
        Ok(Deployed {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), var("TABLE_NAME")?),
            secrets: SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&config)),
            events: EventBridgePublisher {
                client: aws_sdk_eventbridge::Client::new(&config),
                bus: var("EVENT_BUS_NAME")?,
            },
            scheduler,
            settings: Settings {
                secret_prefix: var_or("SECRET_PREFIX", "sei-jira/"),
                default_schedule_rate: var_or("DEFAULT_SCHEDULE_RATE", "rate(1 hour)"),
                min_schedule_minutes: var_or("MIN_SCHEDULE_MINUTES", "15").parse().map_err(
                    |_| "MIN_SCHEDULE_MINUTES must be a whole number of minutes".to_string(),
                )?,
                validation: ValidationSettings {
                    allow_private_network: var_or("ALLOW_PRIVATE_NETWORK", "false") == "true",
                    ..ValidationSettings::default()
                },
            },
            account_claim: var_or("ACCOUNT_CLAIM", "custom:account_id"),
        })
    }
}
