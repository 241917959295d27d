//! The functions' logs: Lambda's JSON lines with the request id (the runtime's span), at the level
//! Lambda's advanced logging controls set (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`), with the
//! HTTP and AWS SDK crates held at `info` whatever the level.
//!
//! Why the cap: at `debug` and `trace` the AWS SDK's orchestrator logs whole requests, and a
//! Secrets Manager `PutSecretValue` carries the token in its body; the HTTP client crates log
//! headers and bodies too. No level a deployer can choose may put a token in the logs.

use lambda_http::tracing::subscriber::filter::{Directive, EnvFilter, LevelFilter};
use lambda_http::tracing::subscriber::fmt::MakeWriter;

/// The crates whose `debug`/`trace` output can carry request bodies or credentials.
pub const CAPPED_AT_INFO: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_sdk_secretsmanager",
    "aws_sigv4",
    "aws_config",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    // The Lambda runtime traces each raw event ("raw JSON event received"): an API request
    // with its Authorization header and body (a Jira token being stored or validated).
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
];

/// The filter: `level` for everything, `RUST_LOG`'s own directives on top, and the crates of
/// [`CAPPED_AT_INFO`] at `info` at most — added last, so no `RUST_LOG` directive can lift them.
pub fn filter(level: LevelFilter) -> EnvFilter {
    let mut filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    for target in CAPPED_AT_INFO {
        let directive: Directive = format!("{target}=info")
            .parse()
            .expect("a crate name and a level make a directive");
        filter = filter.add_directive(directive);
    }
    filter
}

/// The level Lambda's logging controls ask for (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` when it
/// is a bare level), `info` otherwise.
pub fn level_from_env() -> LevelFilter {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the subscriber for a function: JSON lines when Lambda's log format is JSON (the
/// template sets it), plain text otherwise, to standard output.
pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    init_with(level_from_env(), json, std::io::stdout);
}

/// [`init`] with the level, format and writer given (tests capture what is logged).
pub fn init_with<W>(level: LevelFilter, json: bool, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = lambda_http::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter(level))
        .with_writer(writer);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capped_crates_stay_at_info_at_trace() {
        let shown = filter(LevelFilter::TRACE).to_string();
        for target in CAPPED_AT_INFO {
            assert!(shown.contains(&format!("{target}=info")), "{shown}");
        }
        assert!(shown.contains("trace"), "{shown}");
    }
}
