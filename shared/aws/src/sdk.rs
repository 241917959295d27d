//! AWS SDK configuration, for the Lambdas and for everything that runs elsewhere (tests, local
//! tools against an emulator such as moto).
//!
//! In Lambda the standard provider chain applies: the execution role's credentials and the
//! function's region. Anywhere else the SDK may only talk to an emulator on this machine: a
//! loopback endpoint is required and the credentials are static dummies, so no credential chain,
//! profile-sourced remote credentials or instance metadata lookup runs, and a misconfigured run
//! cannot reach real AWS by accident.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::DisplayErrorContext;

use sei_jira_core::ports::PortError;

/// Where the AWS APIs are served outside Lambda (e.g. `http://127.0.0.1:5000` for moto).
pub const ENDPOINT_VAR: &str = "SEI_AWS_ENDPOINT_URL";
/// Set by the Lambda runtime in every function's environment.
const LAMBDA_VAR: &str = "AWS_LAMBDA_FUNCTION_NAME";
const REGION_VAR: &str = "AWS_REGION";
const METADATA_DISABLED_VAR: &str = "AWS_EC2_METADATA_DISABLED";
const DEFAULT_REGION: &str = "us-east-1";

/// Which AWS the process talks to.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// The real one, through the standard provider chain (only inside Lambda).
    Aws,
    /// An emulator on this machine.
    Local { endpoint: String },
}

/// The SDK configuration for this process, from its environment: see the module docs.
pub async fn sdk_config() -> Result<SdkConfig, String> {
    let endpoint = non_empty_var(ENDPOINT_VAR);
    let in_lambda = std::env::var_os(LAMBDA_VAR).is_some();
    match choose_target(in_lambda, endpoint.as_deref())? {
        Target::Aws => Ok(aws_config::defaults(BehaviorVersion::latest()).load().await),
        Target::Local { endpoint } => {
            let region = non_empty_var(REGION_VAR).unwrap_or_else(|| DEFAULT_REGION.into());
            local_sdk_config(&endpoint, &region).await
        }
    }
}

/// Configuration for an emulator at `endpoint` (which must be on loopback), with dummy
/// credentials. Tests call this directly with the address of the emulator they started.
pub async fn local_sdk_config(endpoint: &str, region: &str) -> Result<SdkConfig, String> {
    require_loopback(endpoint)?;
    require_metadata_disabled(std::env::var(METADATA_DISABLED_VAR).ok().as_deref())?;
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "sei-jira-local",
        ))
        .load()
        .await)
}

/// A failed SDK call as a port error, with the whole error chain (the SDK's own `Display` says
/// little more than "service error").
pub(crate) fn sdk_error(
    service: &'static str,
    operation: &str,
    err: impl std::error::Error,
) -> PortError {
    PortError {
        service,
        message: format!("{operation}: {}", DisplayErrorContext(err)),
    }
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn choose_target(in_lambda: bool, endpoint: Option<&str>) -> Result<Target, String> {
    match endpoint {
        None if in_lambda => Ok(Target::Aws),
        None => Err(format!(
            "{ENDPOINT_VAR} is not set: outside AWS Lambda the AWS APIs must be served on this \
             machine (e.g. {ENDPOINT_VAR}=http://127.0.0.1:5000 for moto_server)"
        )),
        Some(endpoint) => {
            require_loopback(endpoint)?;
            Ok(Target::Local {
                endpoint: endpoint.to_string(),
            })
        }
    }
}

/// Outside AWS the SDK must never probe the instance metadata service (169.254.169.254): the
/// credentials and region given here leave it nothing to ask, and this variable makes sure that
/// nothing else in the SDK asks either.
fn require_metadata_disabled(value: Option<&str>) -> Result<(), String> {
    if value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Ok(());
    }
    Err(format!(
        "{METADATA_DISABLED_VAR} must be \"true\" outside AWS Lambda, so the AWS SDK never probes \
         the instance metadata service (cargo sets it from .cargo/config.toml)"
    ))
}

fn require_loopback(endpoint: &str) -> Result<(), String> {
    let url = url::Url::parse(endpoint)
        .map_err(|e| format!("{ENDPOINT_VAR} {endpoint:?} is not a URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !loopback || !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{ENDPOINT_VAR} {endpoint:?} must be an http(s) URL on a loopback host \
             (127.0.0.1, localhost or ::1): outside Lambda only a local emulator is allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_lambda_instance_metadata_must_be_switched_off() {
        for value in [None, Some(""), Some("false"), Some("0")] {
            let err = require_metadata_disabled(value).unwrap_err();
            assert!(err.contains(METADATA_DISABLED_VAR), "{value:?}: {err}");
        }
        for value in ["true", "TRUE", " true "] {
            assert_eq!(require_metadata_disabled(Some(value)), Ok(()), "{value}");
        }
    }

    #[test]
    fn outside_lambda_an_endpoint_is_required() {
        let err = choose_target(false, None).unwrap_err();
        assert!(err.contains(ENDPOINT_VAR), "{err}");
    }

    #[test]
    fn only_loopback_endpoints_are_accepted() {
        for endpoint in [
            "https://dynamodb.us-east-1.amazonaws.com",
            "http://169.254.169.254",
            "http://10.0.0.5:8000",
            "http://localhost.example.com:5000",
            "file:///tmp/x",
            "127.0.0.1:5000",
        ] {
            for in_lambda in [false, true] {
                let err = choose_target(in_lambda, Some(endpoint)).unwrap_err();
                assert!(err.contains(ENDPOINT_VAR), "{endpoint}: {err}");
            }
        }
        for endpoint in [
            "http://127.0.0.1:5000",
            "http://localhost:4566",
            "http://[::1]:5000",
        ] {
            assert_eq!(
                choose_target(false, Some(endpoint)),
                Ok(Target::Local {
                    endpoint: endpoint.into()
                })
            );
        }
    }

    #[test]
    fn inside_lambda_without_an_endpoint_the_standard_chain_applies() {
        assert_eq!(choose_target(true, None), Ok(Target::Aws));
    }

    #[tokio::test]
    async fn local_config_refuses_a_remote_endpoint() {
        assert!(
            local_sdk_config("https://dynamodb.us-east-1.amazonaws.com", "us-east-1")
                .await
                .is_err()
        );
    }
}
