//! [`SecretStore`] on AWS Secrets Manager: one secret per integration, named by
//! [`secret_name`].
//!
//! No error this module returns carries a secret's value: the SDK redacts it from its own
//! `Debug` output, and [`SecretsManagerStore::put_secret`] also scrubs it from every message in
//! case a service or transport error ever echoed the request.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

use crate::sdk::sdk_error;
use sei_jira_core::jira::Secret;
use sei_jira_core::ports::{PortError, PortResult, SecretStore};

/// The IAM actions of this adapter's reads and writes (see [`crate::dynamo::READ_ACTIONS`]).
pub const READ_ACTIONS: &[&str] = &["secretsmanager:GetSecretValue"];
pub const WRITE_ACTIONS: &[&str] = &[
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:DeleteSecret",
];

const SERVICE: &str = "Secrets Manager";
const RESOURCE_EXISTS: &str = "ResourceExistsException";
const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";

pub use sei_jira_core::ports::secret_name;

fn invalid(message: String) -> PortError {
    PortError {
        service: SERVICE,
        message,
    }
}

pub struct SecretsManagerStore {
    pub client: Client,
}

impl SecretsManagerStore {
    pub fn new(client: Client) -> Self {
        SecretsManagerStore { client }
    }

    /// Creates the secret; `Ok(false)` when it already exists.
    async fn create(&self, name: &str, value: &Secret) -> PortResult<bool> {
        let result = self
            .client
            .create_secret()
            .name(name)
            .secret_string(value.expose())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some(RESOURCE_EXISTS) => Ok(false),
            Err(e) => Err(sdk_error(SERVICE, &format!("CreateSecret {name}"), e)),
        }
    }

    async fn replace(&self, name: &str, value: &Secret) -> PortResult<()> {
        self.client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.expose())
            .send()
            .await
            .map_err(|e| sdk_error(SERVICE, &format!("PutSecretValue {name}"), e))?;
        Ok(())
    }
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    async fn put_secret(&self, name: &str, value: &Secret) -> PortResult<()> {
        let result = match self.create(name, value).await {
            Ok(true) => Ok(()),
            Ok(false) => self.replace(name, value).await,
            Err(e) => Err(e),
        };
        result.map_err(|e| scrub(e, value))
    }

    async fn get_secret(&self, name: &str) -> PortResult<Option<Secret>> {
        let result = self.client.get_secret_value().secret_id(name).send().await;
        let output = match result {
            Ok(output) => output,
            Err(e) if e.code() == Some(RESOURCE_NOT_FOUND) => return Ok(None),
            Err(e) => return Err(sdk_error(SERVICE, &format!("GetSecretValue {name}"), e)),
        };
        // Tokens are always written as strings; a binary-only secret is not one of ours.
        match output.secret_string() {
            Some(value) => Ok(Some(Secret::new(value))),
            None => Err(invalid(format!("secret {name} holds no string value"))),
        }
    }

    async fn delete_secret(&self, name: &str) -> PortResult<()> {
        let result = self
            .client
            .delete_secret()
            .secret_id(name)
            .force_delete_without_recovery(true)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(RESOURCE_NOT_FOUND) => Ok(()),
            Err(e) => Err(sdk_error(SERVICE, &format!("DeleteSecret {name}"), e)),
        }
    }
}

/// Removes the value from an error message, should anything on the way have echoed it.
fn scrub(mut err: PortError, value: &Secret) -> PortError {
    if !value.is_empty() {
        err.message = err.message.replace(value.expose(), "***");
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefix_account_and_integration() {
        assert_eq!(
            secret_name("sei-jira/", "acme_1", "jira-2").unwrap(),
            "sei-jira/acme_1/jira-2"
        );
    }

    #[test]
    fn ids_outside_the_allowed_characters_are_refused() {
        for (account, integration) in [
            ("", "jira"),
            ("acme", ""),
            ("acme/other", "jira"),
            ("acme", "../jira"),
            ("acme", "jira*"),
            ("acme", "jira 1"),
            ("acmé", "jira"),
        ] {
            let err = secret_name("sei-jira/", account, integration).unwrap_err();
            assert!(err.message.contains("must be non-empty"), "{err}");
        }
    }

    #[test]
    fn overlong_names_are_refused() {
        let long = "a".repeat(sei_jira_core::ports::MAX_SECRET_NAME_LEN);
        assert!(secret_name("sei-jira/", "acme", &long).is_err());
    }

    #[test]
    fn scrubbing_removes_the_value_from_a_message() {
        let err = PortError {
            service: SERVICE,
            message: "PutSecretValue: echoed tok-123 back".into(),
        };
        let scrubbed = scrub(err, &Secret::new("tok-123"));
        assert_eq!(scrubbed.message, "PutSecretValue: echoed *** back");
    }
}
