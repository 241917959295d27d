//! Jira endpoints as typed calls. Paths come from the deployment (`/rest/api/3` on Cloud,
//! `/rest/api/2` on Data Center); each method is one request, paging is left to callers.

use serde_json::{Value, json};

use super::config::Deployment;
use super::error::JiraError;
use super::http::JiraClient;
use super::models::{
    BulkChangelog, BulkIssues, CommentsPage, FieldDetails, LegacySearchPage, Myself, PageBean,
    ParsedQueries, Permissions, Project, SearchPage, ServerInfo, Status, UserRef,
};
use super::paging;

/// Account ids asked for in one `/user/bulk` request.
pub const USERS_PER_REQUEST: usize = 100;

/// The permissions sei-jira needs, by key, with the names Jira shows people.
pub const REQUIRED_PERMISSIONS: &[(&str, &str)] = &[
    ("BROWSE_PROJECTS", "Browse Projects"),
    ("VIEW_AGGREGATED_DATA", "View Aggregated Data"),
    ("USER_PICKER", "Browse Users and User Picker"),
];

impl JiraClient {
    fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.deployment().api_prefix())
    }

    pub async fn myself(&self) -> Result<Myself, JiraError> {
        self.get(&self.path("/myself"), &[]).await
    }

    /// `serverInfo`, anonymously: it answers everyone, so it proves reachability and the product
    /// before any credential is tried.
    pub async fn server_info(&self) -> Result<ServerInfo, JiraError> {
        self.get_anonymous(&self.path("/serverInfo")).await
    }

    /// The caller's permissions; without a project, a project permission counts if held anywhere.
    pub async fn my_permissions(
        &self,
        keys: &[&str],
        project_key: Option<&str>,
    ) -> Result<Permissions, JiraError> {
        let mut query = vec![("permissions", keys.join(","))];
        if let Some(p) = project_key {
            query.push(("projectKey", p.to_string()));
        }
        self.get(&self.path("/mypermissions"), &query).await
    }

    /// Every project the caller can browse (all pages of `/project/search` on Cloud).
    pub async fn projects(&self) -> Result<Vec<Project>, JiraError> {
        if self.deployment() == Deployment::DataCenter {
            return self.get(&self.path("/project"), &[]).await;
        }
        let (projects, _) = self.page_beans("/project/search", &[], 100).await?;
        Ok(projects)
    }

    /// Every value of an offset-paged listing (Jira's `PageBean`), `page_size` a page, with
    /// `query` on each request; and how many requests that took.
    async fn page_beans<T: serde::de::DeserializeOwned>(
        &self,
        rest: &str,
        query: &[(&str, String)],
        page_size: usize,
    ) -> Result<(Vec<T>, u64), JiraError> {
        let path = self.path(rest);
        let requests = std::sync::atomic::AtomicU64::new(0);
        let (path, counter) = (&path, &requests);
        let all = paging::all(0, |start| async move {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut paged = vec![
                ("startAt", start.to_string()),
                ("maxResults", page_size.to_string()),
            ];
            paged.extend(query.iter().cloned());
            let page: PageBean<T> = self.get(path, &paged).await?;
            let next = paging::next_offset(start, page.values.len(), page.is_last.unwrap_or(true));
            Ok((page.values, next))
        })
        .await?;
        Ok((all, requests.into_inner()))
    }

    /// Every version of a project, as Jira renders them, and the requests that took: the pages
    /// of `/project/{key}/version` on Cloud, the whole list of `/project/{key}/versions` on Data
    /// Center.
    pub async fn project_versions(&self, key: &str) -> Result<(Vec<Value>, u64), JiraError> {
        if self.deployment() == Deployment::DataCenter {
            let all = self
                .get(&self.path(&format!("/project/{key}/versions")), &[])
                .await?;
            return Ok((all, 1));
        }
        self.page_beans(&format!("/project/{key}/version"), &[], 50)
            .await
    }

    /// One sprint of the Agile API (Cloud and Data Center alike).
    pub async fn sprint(&self, id: u64) -> Result<Value, JiraError> {
        self.get(&format!("/rest/agile/1.0/sprint/{id}"), &[]).await
    }

    /// Users by id: `/user/bulk` on Cloud, [`USERS_PER_REQUEST`] account ids a request; on Data
    /// Center, which has no bulk read, `/user?key=` for each. A user Jira no longer knows is
    /// left out.
    pub async fn users(&self, ids: &[String]) -> Result<Vec<UserRef>, JiraError> {
        let mut users = Vec::with_capacity(ids.len());
        if self.deployment() == Deployment::DataCenter {
            for key in ids {
                match self
                    .get::<UserRef>(&self.path("/user"), &[("key", key.clone())])
                    .await
                {
                    Ok(user) => users.push(user),
                    Err(JiraError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(users);
        }
        for chunk in ids.chunks(USERS_PER_REQUEST) {
            let query: Vec<(&str, String)> =
                chunk.iter().map(|id| ("accountId", id.clone())).collect();
            let (found, _) = self
                .page_beans("/user/bulk", &query, USERS_PER_REQUEST)
                .await?;
            users.extend(found);
        }
        Ok(users)
    }

    pub async fn fields(&self) -> Result<Vec<FieldDetails>, JiraError> {
        self.get(&self.path("/field"), &[]).await
    }

    pub async fn statuses(&self) -> Result<Vec<Status>, JiraError> {
        self.get(&self.path("/status"), &[]).await
    }

    /// One page of `/search/jql` (Cloud).
    pub async fn search_page(
        &self,
        jql: &str,
        fields: &[&str],
        expand_changelog: bool,
        max_results: u32,
        page_token: Option<&str>,
    ) -> Result<SearchPage, JiraError> {
        let mut body = json!({"jql": jql, "fields": fields, "maxResults": max_results});
        if expand_changelog {
            body["expand"] = json!("changelog");
        }
        if let Some(t) = page_token {
            body["nextPageToken"] = json!(t);
        }
        self.post(&self.path("/search/jql"), &[], &body).await
    }

    /// One page of the startAt/total `/search` (Data Center; Cloud removed it).
    pub async fn legacy_search_page(
        &self,
        jql: &str,
        fields: &[&str],
        expand_changelog: bool,
        start_at: u64,
        max_results: u32,
    ) -> Result<LegacySearchPage, JiraError> {
        let mut body =
            json!({"jql": jql, "fields": fields, "startAt": start_at, "maxResults": max_results});
        if expand_changelog {
            body["expand"] = json!(["changelog"]);
        }
        self.post(&self.path("/search"), &[], &body).await
    }

    /// How many issues match `jql`: Cloud's approximate count (exact once the index settles),
    /// or Data Center's `total` from an empty search page.
    pub async fn count(&self, jql: &str) -> Result<u64, JiraError> {
        match self.deployment() {
            Deployment::Cloud => {
                let body: Value = self
                    .post(
                        &self.path("/search/approximate-count"),
                        &[],
                        &json!({"jql": jql}),
                    )
                    .await?;
                body["count"].as_u64().ok_or_else(|| {
                    JiraError::Protocol("approximate-count answered without a count".into())
                })
            }
            Deployment::DataCenter => Ok(self
                .legacy_search_page(jql, &["id"], false, 0, 0)
                .await?
                .total),
        }
    }

    /// Issues by id or key (Cloud), at most 100 per call.
    pub async fn bulk_fetch(
        &self,
        ids: &[String],
        fields: &[&str],
        expand_changelog: bool,
    ) -> Result<BulkIssues, JiraError> {
        let expand: Vec<&str> = if expand_changelog {
            vec!["changelog"]
        } else {
            vec![]
        };
        self.post(
            &self.path("/issue/bulkfetch"),
            &[],
            &json!({"issueIdsOrKeys": ids, "fields": fields, "expand": expand}),
        )
        .await
    }

    /// One page of changelogs of up to 1000 issues, ordered by date (Cloud).
    pub async fn changelog_bulk(
        &self,
        ids: &[String],
        page_token: Option<&str>,
        max_results: u32,
    ) -> Result<BulkChangelog, JiraError> {
        let mut body = json!({"issueIdsOrKeys": ids, "maxResults": max_results});
        if let Some(t) = page_token {
            body["nextPageToken"] = json!(t);
        }
        self.post(&self.path("/changelog/bulkfetch"), &[], &body)
            .await
    }

    /// One page of an issue's comments, oldest first.
    pub async fn comments_page(
        &self,
        issue: &str,
        start_at: u64,
        max_results: u32,
    ) -> Result<CommentsPage, JiraError> {
        self.get(
            &self.path(&format!("/issue/{issue}/comment")),
            &[
                ("startAt", start_at.to_string()),
                ("maxResults", max_results.to_string()),
                ("orderBy", "created".into()),
            ],
        )
        .await
    }

    /// Lists one user: succeeds only with the "Browse users and groups" permission.
    pub async fn probe_user_search(&self) -> Result<(), JiraError> {
        let (path, query) = match self.deployment() {
            Deployment::Cloud => ("/users/search", vec![("maxResults", "1".to_string())]),
            Deployment::DataCenter => (
                "/user/search",
                vec![
                    ("username", ".".to_string()),
                    ("maxResults", "1".to_string()),
                ],
            ),
        };
        self.get::<Vec<serde_json::Value>>(&self.path(path), &query)
            .await
            .map(|_| ())
    }

    /// Validates JQL as the caller (`strict`: unknown values are errors).
    pub async fn parse_jql(&self, queries: &[&str]) -> Result<ParsedQueries, JiraError> {
        self.post(
            &self.path("/jql/parse"),
            &[("validation", "strict".into())],
            &json!({"queries": queries}),
        )
        .await
    }
}
