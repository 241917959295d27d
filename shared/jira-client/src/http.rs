//! The HTTP core of the Jira client: one rate limiter and one concurrency limit per site, shared
//! by every request of a run; retries for throttling and transient failures; errors classified
//! into [`JiraError`].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::budget::{Budget, Held};

use super::address::{Guarded, RefusedAddress};
use super::config::{Credentials, Deployment, RetryPolicy, SiteConfig};
use super::error::JiraError;

/// Request counters of one client (all clones share them).
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    /// Time spent waiting before retries, in all (ms).
    waited_ms: AtomicU64,
    /// A wait under way: until when (epoch ms; 0 for none), and how long it is (ms).
    waiting_until_ms: AtomicI64,
    waiting_for_ms: AtomicU64,
    /// A wait was refused for going past [`SiteConfig::max_wait`].
    gave_up_waiting: AtomicBool,
    /// The latest wait refused (past the deadline or the most this client may wait), in ms;
    /// 0 for none.
    refused_wait_ms: AtomicU64,
}

/// A wait for Jira under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Until when, epoch milliseconds.
    pub until_ms: i64,
    /// How long the wait is: what Jira asked for, or the backoff when it asked for less.
    pub wait: Duration,
}

impl Stats {
    /// Sleeps `wait`, shown as the wait under way meanwhile and counted as waited.
    async fn wait(&self, wait: Duration) {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let until = std::time::SystemTime::now() + wait;
        let until_ms = until
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.waiting_for_ms.store(wait_ms, Ordering::Relaxed);
        self.waiting_until_ms.store(until_ms, Ordering::Relaxed);
        tokio::time::sleep(wait).await;
        // Another request's wait that began meanwhile stays shown.
        let _ = self.waiting_until_ms.compare_exchange(
            until_ms,
            0,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        self.waited_ms.fetch_add(wait_ms, Ordering::Relaxed);
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    /// Answers 429 (Too Many Requests) received.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
    pub fn waited(&self) -> Duration {
        Duration::from_millis(self.waited_ms.load(Ordering::Relaxed))
    }
    /// The wait under way, if any (the latest to start, when requests wait side by side).
    pub fn waiting(&self) -> Option<Waiting> {
        let until_ms = self.waiting_until_ms.load(Ordering::Relaxed);
        (until_ms > 0).then(|| Waiting {
            until_ms,
            wait: Duration::from_millis(self.waiting_for_ms.load(Ordering::Relaxed)),
        })
    }
    /// Whether a wait was refused for going past the most this client may wait.
    pub fn gave_up_waiting(&self) -> bool {
        self.gave_up_waiting.load(Ordering::Relaxed)
    }
    /// The latest wait this client refused rather than outlast its deadline or its most wait:
    /// what Jira asked for (`Retry-After`), or the backoff when it asked for less.
    pub fn refused_wait(&self) -> Option<Duration> {
        match self.refused_wait_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }
    fn refuse(&self, wait: Duration) {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        self.refused_wait_ms.store(ms, Ordering::Relaxed);
    }
}

/// A Jira site client. Cheap to clone; clones share the limiter, the slots and the counters.
#[derive(Clone)]
pub struct JiraClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: SiteConfig,
    http: reqwest::Client,
    base: String,
    host: String,
    deployment: Deployment,
    auth: HeaderValue,
    limiter: DefaultDirectRateLimiter,
    slots: Semaphore,
    budget: Budget,
    retry: RetryPolicy,
    stats: Stats,
}

/// Why one attempt failed.
enum Failure {
    Fatal(JiraError),
    Retry {
        advised: Option<Duration>,
        cause: Transient,
    },
}

/// A failure worth another attempt.
enum Transient {
    /// HTTP 429.
    Throttled,
    /// No connection could be made (DNS, refused, TLS).
    Connect(String),
    TimedOut,
    /// The connection failed after it was made (reset, dropped while reading).
    Transport(String),
    /// HTTP 5xx.
    Server {
        status: u16,
        message: String,
    },
    /// The answers in flight hold the client's whole answer budget.
    Crowded,
}

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transient::Throttled => f.write_str("HTTP 429"),
            Transient::Connect(reason) => write!(f, "connect: {reason}"),
            Transient::TimedOut => f.write_str("timed out"),
            Transient::Transport(reason) => f.write_str(reason),
            Transient::Server { status, message } => write!(f, "HTTP {status}: {message}"),
            Transient::Crowded => {
                f.write_str("the answers in flight held this client's whole memory budget")
            }
        }
    }
}

impl Transient {
    /// The error once retries are spent.
    fn exhausted(self, attempts: usize, advised: Option<Duration>, host: &str) -> JiraError {
        match self {
            Transient::Throttled => JiraError::RateLimited {
                attempts,
                last_wait: advised.unwrap_or_default(),
            },
            Transient::Connect(reason) => JiraError::Unreachable {
                host: host.to_string(),
                reason,
            },
            other => JiraError::Unavailable {
                attempts,
                last: other.to_string(),
            },
        }
    }
}

impl JiraClient {
    /// Jira's words with the credentials cut out: a site (or a proxy before it) may echo the
    /// request's Authorization header or the token, and the message goes on to run records,
    /// logs, check messages and API answers.
    fn scrub(&self, message: String) -> String {
        let token = match &self.inner.config.credentials {
            Credentials::ApiToken { token, .. } | Credentials::PersonalAccessToken { token } => {
                token.expose()
            }
        };
        let header = self.inner.auth.to_str().unwrap_or_default();
        // The header value, its credential part (the Basic form's base64), then the token.
        let credential = header.split_once(' ').map_or(header, |(_, c)| c);
        [header, credential, token]
            .into_iter()
            .filter(|secret| secret.len() >= 8)
            .fold(message, |m, secret| m.replace(secret, "[redacted]"))
    }

    /// The whole body, up to the site's limit, held in the client's answer budget until the
    /// hold is dropped: past the limit, a named error; past the budget, a retry. Never a
    /// process that runs out of memory on hostile or broken answers.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
    ) -> Result<(bytes::Bytes, Held<'_>), Failure> {
        let budget = &self.inner.budget;
        let limit = self.inner.config.max_body_bytes.min(budget.limit());
        let too_large = || Failure::Fatal(JiraError::TooLarge { limit });
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut held = budget.hold();
        let mut body = bytes::BytesMut::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| Failure::Retry {
                advised: None,
                cause: Transient::Transport(format!(
                    "connection dropped while reading the response: {e}"
                )),
            })?;
            let Some(chunk) = chunk else {
                return Ok((body.freeze(), held));
            };
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            if !held.take(chunk.len()) {
                return Err(Failure::Retry {
                    advised: None,
                    cause: Transient::Crowded,
                });
            }
            body.extend_from_slice(&chunk);
        }
    }

    pub fn new(config: &SiteConfig) -> Result<Self, JiraError> {
        let url = url::Url::parse(&config.base_url)
            .map_err(|e| JiraError::Protocol(format!("invalid site URL: {e}")))?;
        let host = url.host_str().unwrap_or_default().to_string();
        let mut auth = match &config.credentials {
            Credentials::ApiToken { email, token } => {
                use base64::Engine;
                let raw = format!("{email}:{}", token.expose());
                HeaderValue::from_str(&format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
            }
            Credentials::PersonalAccessToken { token } => {
                HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            }
        }
        .map_err(|_| {
            JiraError::Protocol(
                "the credentials contain characters that cannot be sent in a header".into(),
            )
        })?;
        // Keeps the value out of reqwest's and hyper's debug output.
        auth.set_sensitive(true);
        let allowed = &config.private_networks;
        if let Some(refused) = url
            .host_str()
            .and_then(|h| h.trim_matches(['[', ']']).parse().ok())
            .and_then(|ip| RefusedAddress::of(&host, ip, allowed))
        {
            // An address in the URL itself is never looked up, so the resolver below never
            // sees it.
            return Err(refused.into());
        }
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(Guarded(allowed.clone())))
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("sei-jira/", env!("CARGO_PKG_VERSION")))
            // A redirect could lead past the URL guard (to a private or metadata address) and
            // bring that answer back in an error message: none is followed.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy the environment names would be the only name the resolver checks, and
            // would see every request: the client connects to the site itself.
            .no_proxy()
            .build()
            .map_err(|e| JiraError::Protocol(format!("cannot build HTTP client: {e}")))?;
        let rps = NonZeroU32::new(config.requests_per_second.max(1)).expect("max(1) is non-zero");
        Ok(Self {
            inner: Arc::new(Inner {
                config: config.clone(),
                http,
                base: config.base_url.trim_end_matches('/').to_string(),
                host,
                deployment: config.deployment,
                auth,
                limiter: RateLimiter::direct(Quota::per_second(rps)),
                slots: Semaphore::new(config.max_in_flight.max(1)),
                budget: Budget::new(config.answer_budget_bytes.max(1)),
                retry: config.retry.clone(),
                stats: Stats::default(),
            }),
        })
    }

    /// The same credentials and settings against another base URL (its own limiter and counters).
    pub fn with_base_url(&self, base_url: &str) -> Self {
        let config = SiteConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            ..self.inner.config.clone()
        };
        Self::new(&config).expect("a client that was valid stays valid with another base URL")
    }

    pub fn deployment(&self) -> Deployment {
        self.inner.deployment
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The most bytes of answers this client has held at once (see [`SiteConfig::answer_budget_bytes`]).
    pub fn answer_bytes_peak(&self) -> usize {
        self.inner.budget.peak()
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// `GET {base}{path}` (path includes the API prefix, e.g. `/rest/api/3/myself`).
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, JiraError> {
        self.call(Method::GET, path, query, None::<&()>, true).await
    }

    /// `GET` without credentials (reachability probes: `serverInfo`, `_edge/tenant_info`).
    pub async fn get_anonymous<T: DeserializeOwned>(&self, path: &str) -> Result<T, JiraError> {
        self.call(Method::GET, path, &[], None::<&()>, false).await
    }

    /// `POST` with a JSON body. Only for Jira's read-only POSTs (search, bulk fetch, parse), which
    /// are safe to retry.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &B,
    ) -> Result<T, JiraError> {
        self.call(Method::POST, path, query, Some(body), true).await
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        authenticated: bool,
    ) -> Result<T, JiraError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| JiraError::Protocol(format!("cannot encode request: {e}")))?;
        let url = format!("{}{path}", self.inner.base);
        let policy = &self.inner.retry;
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(policy.base_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.max_retries)
            .with_jitter()
            .build();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .attempt(&method, &url, query, body.as_deref(), authenticated)
                .await
            {
                // The answer's bytes stay held in the budget until it is read into its model.
                Ok((bytes, _held)) => {
                    // The parser quotes what it could not read, which may be echoed credentials.
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        JiraError::Protocol(self.scrub(format!("{method} {path}: {e}")))
                    });
                }
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry { advised, cause }) => {
                    let Some(backoff) = delays.next() else {
                        return Err(cause.exhausted(attempts, advised, &self.inner.host));
                    };
                    // Jira's advice (Retry-After, X-RateLimit-Reset) is a minimum, never shortened.
                    let wait = advised.map_or(backoff, |a| a.max(backoff));
                    let config = &self.inner.config;
                    let stats = &self.inner.stats;
                    if config.deadline.is_some_and(|d| Instant::now() + wait > d) {
                        stats.refuse(wait);
                        return Err(JiraError::PastDeadline {
                            wait,
                            last: cause.to_string(),
                        });
                    }
                    if let Some(limit) = config.max_wait
                        && stats.waited() + wait > limit
                    {
                        stats.refuse(wait);
                        stats.gave_up_waiting.store(true, Ordering::Relaxed);
                        return Err(JiraError::WaitedTooLong {
                            wait,
                            waited: stats.waited(),
                            limit,
                            last: cause.to_string(),
                        });
                    }
                    tracing::debug!(%method, path, attempts, wait_ms = wait.as_millis() as u64, reason = %cause, "retrying a Jira request");
                    stats.retries.fetch_add(1, Ordering::Relaxed);
                    stats.wait(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        query: &[(&str, String)],
        body: Option<&[u8]>,
        authenticated: bool,
    ) -> Result<(bytes::Bytes, Held<'_>), Failure> {
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .expect("semaphore never closed");
        self.inner.limiter.until_ready().await;
        self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let mut target = reqwest::Url::parse(url)
            .map_err(|e| Failure::Fatal(JiraError::Protocol(format!("invalid URL {url}: {e}"))))?;
        if !query.is_empty() {
            target
                .query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut request = self
            .inner
            .http
            .request(method.clone(), target)
            .header("accept", "application/json");
        if authenticated {
            request = request.header(AUTHORIZATION, self.inner.auth.clone());
        }
        if let Some(b) = body {
            request = request
                .header("content-type", "application/json")
                .body(b.to_vec());
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        // The URL without its query (JQL can be long); never the request's headers.
        tracing::trace!(%method, url, status = status.as_u16(), "jira response");
        let headers = response.headers().clone();
        if status.is_redirection() {
            return Err(Failure::Fatal(JiraError::Redirected {
                status: status.as_u16(),
                to: redirect_origin(&headers),
            }));
        }
        if headers
            .get("x-seraph-loginreason")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"AUTHENTICATED_FAILED"))
        {
            return Err(Failure::Fatal(JiraError::Unauthenticated {
                status: status.as_u16(),
            }));
        }
        let (bytes, held) = self.read_body(response).await?;
        if status.is_success() {
            return Ok((bytes, held));
        }
        let message = self.scrub(error_message(&bytes));
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => {
                self.inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                Failure::Retry {
                    advised: advised_wait(&headers),
                    cause: Transient::Throttled,
                }
            }
            s if s.is_server_error() => Failure::Retry {
                advised: advised_wait(&headers),
                cause: Transient::Server {
                    status: s.as_u16(),
                    message,
                },
            },
            StatusCode::UNAUTHORIZED => Failure::Fatal(JiraError::Unauthenticated { status: 401 }),
            StatusCode::FORBIDDEN => Failure::Fatal(JiraError::Forbidden { message }),
            StatusCode::NOT_FOUND => Failure::Fatal(JiraError::NotFound { message }),
            StatusCode::GONE => Failure::Fatal(JiraError::Gone { message }),
            s => Failure::Fatal(JiraError::Rejected {
                status: s.as_u16(),
                message,
            }),
        })
    }
}

/// Where a redirect points, as scheme, host and port only: its path and query are the other
/// side's to choose, and are not repeated.
fn redirect_origin(headers: &HeaderMap) -> String {
    headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok())
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .map(|o| o.chars().take(200).collect())
        .unwrap_or_else(|| "another location".into())
}

fn transport(e: reqwest::Error) -> Failure {
    // Refused by our own resolver: final, never retried.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<RefusedAddress>() {
            return Failure::Fatal(refused.clone().into());
        }
        source = s.source();
    }
    // reqwest's message names the URL (which never carries credentials) and the cause.
    let cause = if e.is_connect() {
        Transient::Connect(tls_failure(&e).map_or_else(|| root_cause(&e), tls_words))
    } else if e.is_timeout() {
        Transient::TimedOut
    } else {
        Transient::Transport(root_cause(&e))
    };
    Failure::Retry {
        advised: None,
        cause,
    }
}

/// The TLS error that ended the connection, if its handshake failed. An `io::Error` hides the
/// error it wraps from `source()`, so each one is opened.
fn tls_failure<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        cause = match c.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    None
}

/// A failed TLS handshake as a person can act on it.
fn tls_words(e: &rustls::Error) -> String {
    match e {
        // What a plain-http server sends back to a TLS hello.
        rustls::Error::InvalidMessage(_) => "the site did not answer in TLS (is it plain http? \
             http:// is allowed only for a site on this machine or a private network)"
            .into(),
        rustls::Error::InvalidCertificate(_) => {
            format!("the site's TLS certificate was refused ({e})")
        }
        _ => format!("the TLS handshake failed ({e})"),
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `Retry-After` (seconds), else `X-RateLimit-Reset` (ISO 8601 instant).
/// The longest wait a site's `Retry-After` or `X-RateLimit-Reset` is taken at: a run has at most
/// a Lambda's 15 minutes, and a broken or hostile site may name any number.
pub const MAX_ADVISED_WAIT: Duration = Duration::from_secs(15 * 60);

/// The wait the site asks for, if it says: `Retry-After` in seconds, else `X-RateLimit-Reset` as
/// a time. Negative, `NaN` and unreadable values are ignored, and every wait is capped.
fn advised_wait(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let wait = if let Some(secs) = header("retry-after").and_then(|v| v.trim().parse::<f64>().ok())
    {
        (secs >= 0.0).then(|| Duration::try_from_secs_f64(secs).unwrap_or(MAX_ADVISED_WAIT))?
    } else {
        let reset = header("x-ratelimit-reset")?;
        let at = chrono::DateTime::parse_from_rfc3339(reset)
            .ok()
            .or_else(|| {
                chrono::DateTime::parse_from_str(&reset.replace('Z', "+0000"), "%Y-%m-%dT%H:%M%z")
                    .ok()
            })?;
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .ok()?
    };
    Some(wait.min(MAX_ADVISED_WAIT))
}

/// The human part of a Jira error body: `errorMessages`, `errors`, or `message`.
fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let mut parts: Vec<String> = v["errorMessages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(String::from))
            .collect();
        if let Some(errors) = v["errors"].as_object() {
            parts.extend(
                errors
                    .iter()
                    .map(|(k, m)| format!("{k}: {}", m.as_str().unwrap_or_default())),
            );
        }
        if let Some(m) = v["message"].as_str() {
            parts.push(m.to_string());
        }
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_after_then_reset() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(advised_wait(&h), Some(Duration::from_secs(3)));
        let mut h = HeaderMap::new();
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(20))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&soon).unwrap());
        let wait = advised_wait(&h).unwrap();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
    }

    #[test]
    fn hostile_waits_neither_panic_nor_exceed_the_cap() {
        let wait = |name: &'static str, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_str(value).unwrap());
            advised_wait(&h)
        };
        for huge in ["inf", "1e30", "18446744073709551616", "99999999999"] {
            assert_eq!(wait("retry-after", huge), Some(MAX_ADVISED_WAIT), "{huge}");
        }
        for ignored in ["NaN", "-5", "-inf", "soon"] {
            assert_eq!(wait("retry-after", ignored), None, "{ignored}");
        }
        assert_eq!(
            wait("x-ratelimit-reset", "9999-12-31T23:59:59Z"),
            Some(MAX_ADVISED_WAIT)
        );
        assert_eq!(wait("x-ratelimit-reset", "1970-01-01T00:00:00Z"), None);
    }

    #[test]
    fn error_messages_come_from_jira_bodies() {
        assert_eq!(
            error_message(br#"{"errorMessages":["bad jql"],"errors":{"jql":"nope"}}"#),
            "bad jql; jql: nope"
        );
        assert_eq!(error_message(b"plain text"), "plain text");
    }
}
