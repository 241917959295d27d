//! Fault and load controls applied in front of every Jira endpoint: latency, a per-second
//! rate limit answering 429 the way Jira Cloud does, injected 5xx and dropped connections, and
//! the request log that tests read back.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Settings that can be changed at start (CLI flags) or mid-run (`PUT /_sim/control`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The least time every request takes, the simulator's own work on it included.
    pub latency_ms: u64,
    /// Extra uniformly random delay in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Steady requests per second for the whole site (0 = unlimited); the bucket holds one second.
    pub rate_limit_rps: u32,
    /// Probability that a request fails with an injected fault.
    pub fault_rate: f64,
    /// Share of injected faults that drop the connection instead of answering 5xx.
    pub drop_share: f64,
    /// Issues updated within this many ms are missing from search unless `reconcileIssues` names them.
    pub consistency_lag_ms: u64,
    /// The next N requests answer 429 whatever the bucket holds (a burst of throttling).
    pub force_429: u32,
    /// The `Retry-After` (seconds) those 429 answers give.
    pub force_429_wait_secs: u64,
    /// Only requests whose path holds this are answered 429 by `force_429` (empty: all).
    pub force_429_path: String,
    /// The most issues a `/search/jql` page holds, below Jira's own caps (0: those caps alone).
    /// Jira documents that it may answer fewer than asked; clients follow the page token.
    pub search_page_cap: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            jitter_ms: 0,
            rate_limit_rps: 0,
            fault_rate: 0.0,
            drop_share: 0.25,
            consistency_lag_ms: 0,
            force_429: 0,
            force_429_wait_secs: 1,
            force_429_path: String::new(),
            search_page_cap: 0,
        }
    }
}

/// A partial update of [`Settings`]: fields left out keep their current value.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsPatch {
    pub latency_ms: Option<u64>,
    pub jitter_ms: Option<u64>,
    pub rate_limit_rps: Option<u32>,
    pub fault_rate: Option<f64>,
    pub drop_share: Option<f64>,
    pub consistency_lag_ms: Option<u64>,
    pub force_429: Option<u32>,
    pub force_429_wait_secs: Option<u64>,
    pub force_429_path: Option<String>,
    pub search_page_cap: Option<u32>,
}

impl SettingsPatch {
    fn apply(self, s: &mut Settings) -> Result<(), String> {
        for (name, v) in [
            ("fault_rate", self.fault_rate),
            ("drop_share", self.drop_share),
        ] {
            if v.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        s.latency_ms = self.latency_ms.unwrap_or(s.latency_ms);
        s.jitter_ms = self.jitter_ms.unwrap_or(s.jitter_ms);
        s.rate_limit_rps = self.rate_limit_rps.unwrap_or(s.rate_limit_rps);
        s.fault_rate = self.fault_rate.unwrap_or(s.fault_rate);
        s.drop_share = self.drop_share.unwrap_or(s.drop_share);
        s.consistency_lag_ms = self.consistency_lag_ms.unwrap_or(s.consistency_lag_ms);
        s.force_429 = self.force_429.unwrap_or(s.force_429);
        s.force_429_wait_secs = self.force_429_wait_secs.unwrap_or(s.force_429_wait_secs);
        s.force_429_path = self
            .force_429_path
            .unwrap_or(std::mem::take(&mut s.force_429_path));
        s.search_page_cap = self.search_page_cap.unwrap_or(s.search_page_cap);
        Ok(())
    }
}

/// Marks a response whose connection the control layer drops, for the request log.
#[derive(Clone, Copy)]
pub struct Dropped;

#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Request body (JSON endpoints only), truncated to 4 KiB.
    pub body: String,
    pub status: u16,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Control {
    settings: Mutex<Settings>,
    bucket: Mutex<Bucket>,
    rng: Mutex<ChaCha8Rng>,
    counts: Mutex<BTreeMap<String, u64>>,
    log: Mutex<Vec<LogEntry>>,
    /// Jira requests being answered now, and the most at once since the log was reset.
    in_flight: Mutex<(usize, usize)>,
}

/// A request being answered: counted in flight until dropped.
pub struct InFlight<'a>(&'a Control);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.lock().unwrap().0 -= 1;
    }
}

const LOG_CAPACITY: usize = 1_000_000;

pub enum Verdict {
    Pass,
    Reject(Response),
}

impl Control {
    pub fn new(settings: Settings, seed: u64) -> Self {
        let tokens = settings.rate_limit_rps as f64;
        Self {
            settings: Mutex::new(settings),
            bucket: Mutex::new(Bucket {
                tokens,
                at: Instant::now(),
            }),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x5eed)),
            counts: Mutex::new(BTreeMap::new()),
            log: Mutex::new(Vec::new()),
            in_flight: Mutex::new((0, 0)),
        }
    }

    /// Counts a request in flight until the guard drops.
    pub fn begin(&self) -> InFlight<'_> {
        let mut g = self.in_flight.lock().unwrap();
        g.0 += 1;
        g.1 = g.1.max(g.0);
        InFlight(self)
    }

    /// The most requests answered at once since the log was last reset.
    pub fn peak_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap().clone()
    }

    /// Applies a partial update. Locks settings before the bucket, as `admit` does.
    pub fn update(&self, patch: SettingsPatch) -> Result<Settings, String> {
        let mut settings = self.settings.lock().unwrap();
        let before = settings.rate_limit_rps;
        patch.apply(&mut settings)?;
        if settings.rate_limit_rps != before {
            let mut bucket = self.bucket.lock().unwrap();
            bucket.tokens = settings.rate_limit_rps as f64;
            bucket.at = Instant::now();
        }
        Ok(settings.clone())
    }

    pub fn record(&self, endpoint: String, entry: LogEntry) {
        *self.counts.lock().unwrap().entry(endpoint).or_default() += 1;
        let mut log = self.log.lock().unwrap();
        if log.len() < LOG_CAPACITY {
            log.push(entry);
        }
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().unwrap().clone()
    }

    pub fn log(&self) -> Vec<LogEntry> {
        self.log.lock().unwrap().clone()
    }

    pub fn reset_log(&self) {
        self.counts.lock().unwrap().clear();
        self.log.lock().unwrap().clear();
        let mut g = self.in_flight.lock().unwrap();
        g.1 = g.0;
    }

    /// The delay to apply before answering.
    pub fn delay(&self) -> Duration {
        let s = self.settings.lock().unwrap();
        let jitter = if s.jitter_ms > 0 {
            self.rng.lock().unwrap().random_range(0..=s.jitter_ms)
        } else {
            0
        };
        Duration::from_millis(s.latency_ms.saturating_add(jitter))
    }

    /// Rate limit and fault injection, in that order. Headers for passing requests come from
    /// [`Control::rate_headers`].
    pub fn admit(&self, path: &str) -> Verdict {
        let mut s = self.settings.lock().unwrap();
        if s.force_429 > 0 && path.contains(s.force_429_path.as_str()) {
            s.force_429 -= 1;
            let wait = s.force_429_wait_secs.max(1);
            return Verdict::Reject(too_many_requests(s.rate_limit_rps.max(1), wait));
        }
        if s.rate_limit_rps > 0 {
            let rps = s.rate_limit_rps as f64;
            let mut b = self.bucket.lock().unwrap();
            let now = Instant::now();
            b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rps).min(rps);
            b.at = now;
            if b.tokens < 1.0 {
                let wait = ((1.0 - b.tokens) / rps).ceil().max(1.0) as u64;
                return Verdict::Reject(too_many_requests(s.rate_limit_rps, wait));
            }
            b.tokens -= 1.0;
        }
        if s.fault_rate > 0.0 {
            let mut rng = self.rng.lock().unwrap();
            if rng.random_bool(s.fault_rate.clamp(0.0, 1.0)) {
                if rng.random_bool(s.drop_share.clamp(0.0, 1.0)) {
                    return Verdict::Reject(dropped_connection());
                }
                let status = [500u16, 502, 503, 504][rng.random_range(0..4)];
                return Verdict::Reject(server_error(status));
            }
        }
        Verdict::Pass
    }

    /// `X-RateLimit-*` headers on successful responses when a limit is configured.
    pub fn rate_headers(&self, response: &mut Response) {
        let rps = self.settings.lock().unwrap().rate_limit_rps;
        if rps == 0 {
            return;
        }
        let remaining = self.bucket.lock().unwrap().tokens.floor().max(0.0) as u64;
        let h = response.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(rps));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        if (remaining as f64) < rps as f64 * 0.2 {
            h.insert("x-ratelimit-nearlimit", HeaderValue::from_static("true"));
        }
    }
}

/// Jira Cloud's burst-limit answer: `Retry-After` in seconds, `X-RateLimit-Reset` as ISO 8601.
fn too_many_requests(limit: u32, wait_secs: u64) -> Response {
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(wait_secs as i64))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({"errorMessages": ["Rate limit exceeded."], "errors": {}})),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert("retry-after", HeaderValue::from(wait_secs));
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
    h.insert(
        "x-ratelimit-reset",
        HeaderValue::from_str(&reset).expect("ascii"),
    );
    h.insert(
        "ratelimit-reason",
        HeaderValue::from_static("jira-burst-based"),
    );
    r
}

fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).expect("valid status");
    let mut r = (status, axum::Json(json!({"errorMessages": [format!("Internal server error ({})", status.as_u16())], "errors": {}}))).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
    }
    r
}

/// Sends the status line and headers, then fails the body: the client sees the connection reset
/// mid-response, like a load balancer dropping it.
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated drop",
        ))
    });
    let mut r = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(failing))
        .expect("valid response");
    r.extensions_mut().insert(Dropped);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_admits_a_second_of_requests_then_refuses() {
        let c = Control::new(
            Settings {
                rate_limit_rps: 5,
                ..Settings::default()
            },
            1,
        );
        let passed = (0..8)
            .filter(|_| matches!(c.admit("/"), Verdict::Pass))
            .count();
        assert_eq!(passed, 5);
    }

    #[test]
    fn forced_429s_are_counted_down() {
        let c = Control::new(
            Settings {
                force_429: 2,
                ..Settings::default()
            },
            1,
        );
        assert!(matches!(c.admit("/"), Verdict::Reject(r) if r.status() == 429));
        assert!(matches!(c.admit("/"), Verdict::Reject(_)));
        assert!(matches!(c.admit("/"), Verdict::Pass));
    }

    #[test]
    fn fault_rate_is_honoured_roughly() {
        let c = Control::new(
            Settings {
                fault_rate: 0.3,
                ..Settings::default()
            },
            9,
        );
        let failed = (0..2_000)
            .filter(|_| matches!(c.admit("/"), Verdict::Reject(_)))
            .count();
        assert!((450..750).contains(&failed), "{failed}");
    }
}
