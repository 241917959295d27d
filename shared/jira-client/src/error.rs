//! What can go wrong talking to Jira, in terms a person can act on. No variant ever holds a
//! credential: messages come from Jira's error bodies or from us.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Jira rejected the credentials (401, or `X-Seraph-LoginReason: AUTHENTICATED_FAILED` on
    /// any response: Jira then serves anonymous results, which must never be mistaken for data).
    #[error("Jira rejected the credentials (HTTP {status}): check the email and API token")]
    Unauthenticated { status: u16 },
    #[error("Jira refused access (HTTP 403): {message}")]
    Forbidden { message: String },
    #[error("not found or not visible to this user (HTTP 404): {message}")]
    NotFound { message: String },
    #[error("Jira rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// The endpoint no longer exists (e.g. the removed `/rest/api/3/search`).
    #[error("Jira removed this API (HTTP 410): {message}")]
    Gone { message: String },
    #[error(
        "still throttled by Jira after {attempts} attempts (HTTP 429); last advised wait {last_wait:?}"
    )]
    RateLimited {
        attempts: usize,
        last_wait: Duration,
    },
    #[error("Jira kept failing after {attempts} attempts: {last}")]
    Unavailable { attempts: usize, last: String },
    /// The wait before the next attempt (Jira's advice, or the backoff) would end after the
    /// client's deadline: the caller stops there and resumes later, rather than being stopped
    /// mid-wait.
    #[error(
        "Jira asked for a wait of {wait:?} before the next attempt, past the time this work may \
         take: {last}"
    )]
    PastDeadline { wait: Duration, last: String },
    /// The next wait Jira asks for would take the waits of this client past the most it may
    /// spend waiting ([`crate::SiteConfig::max_wait`]); nothing is waited.
    #[error(
        "Jira asked for a wait of {wait:?}, past the {limit:?} this run may spend waiting on it \
         ({waited:?} so far): {last}"
    )]
    WaitedTooLong {
        wait: Duration,
        waited: Duration,
        limit: Duration,
        last: String,
    },
    /// A listing that contradicts what was asked: believed, it would end with issues missing.
    #[error("Jira's listing contradicts the question ({0}); the unit keeps its checkpoint")]
    Inconsistent(Inconsistency),
    /// A listing whose pages would never end: a cursor came back, or too many pages.
    #[error("Jira's paging did not advance after {pages} pages; the listing was stopped")]
    PagingStalled { pages: usize },
    /// An answer larger than the client reads.
    #[error("Jira's answer is larger than {limit} bytes, the most this client reads")]
    TooLarge { limit: usize },
    /// The site answered with a redirect, which is never followed.
    #[error(
        "the site redirected (HTTP {status}) to {to}; redirects are not followed: enter the URL Jira is served at"
    )]
    Redirected { status: u16, to: String },
    /// The site leads to an address that must not be contacted (checked on every connection).
    #[error("'{host}' leads to {ip}, {reason}; only public Jira sites can be connected")]
    AddressRefused {
        host: String,
        ip: std::net::IpAddr,
        reason: &'static str,
    },
    #[error("could not reach {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("unexpected response from Jira: {0}")]
    Protocol(String),
}

impl JiraError {
    pub fn is_auth(&self) -> bool {
        matches!(self, JiraError::Unauthenticated { .. })
    }
}

/// How a listing contradicted the question it answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    /// The id scan asked for ids after `after`, and Jira said more follow but answered none.
    #[error(
        "the id scan did not advance past id {after}: Jira said more issues follow but answered none after it"
    )]
    Stalled { after: u64 },
    /// The id scan asked for ids after `after` and got `id`: the restart was ignored, or the page
    /// repeated.
    #[error(
        "the id scan asked for ids after {after} and Jira answered id {id}: the restart was not honoured"
    )]
    NotAfterRestart { after: u64, id: u64 },
    /// Asked for one project's issues, Jira answered one of another project.
    #[error("asked for the issues of project {asked}, Jira answered {key} of project {project}")]
    OtherProject {
        asked: String,
        key: String,
        project: String,
    },
}
