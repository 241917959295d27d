//! An integration's hygiene as it is kept: what its syncs leave out, its mapped custom fields,
//! its hygiene settings and custom misses, and the fields of its site the criteria may name.

use super::config::HygieneConfig;
use super::criteria::{Catalog, Criterion};
use super::request::Request;
use super::rules::Settings;
use crate::jira::models::FieldDetails;
use crate::store::{HygieneStore, IntegrationRecord, RecordKind, RecordStore, StoreError};
use crate::sync::Excluded;
use crate::sync::plan::{FieldMap, resolve_fields};

/// What the integration's syncs leave out.
pub fn excluded_of(record: &IntegrationRecord) -> Excluded {
    Excluded::parse(&record.excluded_fields.join(",")).unwrap_or_default()
}

/// An integration's stored settings, with what a request over its tickets needs from them.
pub struct IntegrationHygiene {
    pub excluded: Excluded,
    pub custom_fields: Vec<String>,
    pub config: HygieneConfig,
    pub criteria: Vec<Criterion>,
}

impl IntegrationHygiene {
    pub async fn load<S: HygieneStore + ?Sized>(
        store: &S,
        record: &IntegrationRecord,
    ) -> Result<IntegrationHygiene, StoreError> {
        let config = store
            .get_hygiene_config(&record.id)
            .await?
            .unwrap_or_default();
        Ok(IntegrationHygiene {
            excluded: excluded_of(record),
            custom_fields: record.custom_fields.clone(),
            criteria: config.criteria(),
            config,
        })
    }

    /// A request over every ticket at `at_ms`, with `base` thresholds and the kept SLA rows; the
    /// caller narrows the filter and sets the weights.
    pub fn request(&self, base: Settings, at_ms: i64) -> Request<'_> {
        Request {
            settings: self.config.settings(base),
            excluded: self.excluded,
            custom_fields: &self.custom_fields,
            criteria: &self.criteria,
            at_ms,
            ..Request::default()
        }
    }

    pub fn custom_names(&self) -> Vec<String> {
        self.criteria
            .iter()
            .map(|c| c.name.trim().to_string())
            .collect()
    }
}

/// The fields criteria may name on the integration's site, as its last sync stored them.
pub async fn catalog_of<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    custom_fields: &[String],
) -> Result<Catalog, StoreError> {
    let (site_fields, map) = site_fields(store, integration, custom_fields).await?;
    Ok(Catalog::new(&site_fields, &map))
}

/// The site's fields as the sync stored them, and what they resolve to: the sprint, story
/// points and epic link fields and the mapped custom fields (those the site no longer has are
/// left out).
pub(super) async fn site_fields<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    custom_fields: &[String],
) -> Result<(Vec<FieldDetails>, FieldMap), StoreError> {
    let fields: Vec<FieldDetails> = store
        .list_records(integration, RecordKind::Field)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.data).ok())
        .collect();
    let map = resolve_fields(&fields, custom_fields)
        .or_else(|_| resolve_fields(&fields, &[]))
        .unwrap_or_default();
    Ok((fields, map))
}
