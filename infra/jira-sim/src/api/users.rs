//! Users: bulk by account id and the user search.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{Params, Query, page_bean, renderer};
use crate::http::{Auth, Shared, error, unauthorized};

pub async fn user_bulk(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    if auth.user.is_none() {
        return unauthorized(&auth);
    }
    let p = Params::parse(&q);
    let ids = p.all("accountId");
    if ids.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "You must specify at least one accountId.",
        );
    }
    let (start, max) = match p.paging(10, 1, 200) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let site = st.site.read().unwrap();
    let r = renderer(&site, st.base(), &uri, &auth);
    let found: Vec<usize> = ids
        .iter()
        .filter_map(|id| site.users.iter().position(|u| &u.account_id == id))
        .collect();
    let values = found
        .iter()
        .skip(start)
        .take(max)
        .map(|u| r.user_full(*u, false))
        .collect();
    Json(page_bean(
        st.base(),
        uri.path(),
        start,
        max,
        found.len(),
        values,
    ))
    .into_response()
}

pub async fn users_search(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    let Some(me) = auth.user else {
        return unauthorized(&auth);
    };
    let site = st.site.read().unwrap();
    if site.users[me].denied.contains("USER_PICKER") {
        return error(
            StatusCode::FORBIDDEN,
            "You do not have permission to browse users and groups.",
        );
    }
    let p = Params::parse(&q);
    let (start, max) = match p.paging(50, 1, 1000) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    // Data Center's /user/search filters by username; "." matches everyone.
    let filter = p.one("username").unwrap_or(".").to_lowercase();
    let r = renderer(&site, st.base(), &uri, &auth);
    let list: Vec<Value> = (0..site.users.len())
        .filter(|u| {
            filter == "."
                || site.users[*u].name.to_lowercase().contains(&filter)
                || site.users[*u].display_name.to_lowercase().contains(&filter)
        })
        .skip(start)
        .take(max)
        .map(|u| r.user_full(u, false))
        .collect();
    Json(list).into_response()
}

// ---------------------------------------------------------------- agile
