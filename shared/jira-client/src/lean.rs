//! Issue fields parsed without Jira's presentation links. `self`, `avatarUrls` and `iconUrl`
//! (the bulk of [`PRESENTATION_ONLY`]) appear in every user, status, priority, type and project object, make up a large share of a
//! bulk response, and serve no metric; skipping them while parsing (not after) keeps the memory
//! of the batches in flight down, which is what bounds a sync's peak memory.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Keys that only serve display (links, avatars, icons, expansion hints), dropped at any depth
/// here while parsing and again from everything stored.
pub const PRESENTATION_ONLY: &[&str] = &["self", "avatarUrls", "iconUrl", "expand", "avatarId"];

/// `#[serde(deserialize_with = "lean::fields")]`: a field map without presentation links.
pub fn fields<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    match d.deserialize_any(LeanVisitor)? {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(de::Error::custom(format!(
            "issue fields must be an object, not {other}"
        ))),
    }
}

struct Lean(Value);

impl<'de> serde::Deserialize<'de> for Lean {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LeanVisitor).map(Lean)
    }
}

struct LeanVisitor;

impl<'de> Visitor<'de> for LeanVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(LeanVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // A hint from the input never sizes more than a modest start.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Lean(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if PRESENTATION_ONLY.contains(&key.as_str()) {
                map.next_value::<IgnoredAny>()?;
            } else {
                let Lean(v) = map.next_value()?;
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "super::fields")]
        fields: serde_json::Map<String, serde_json::Value>,
    }

    #[test]
    fn presentation_links_are_dropped_at_any_depth_and_everything_else_kept() {
        let raw = json!({"fields": {
            "assignee": {"self": "https://x/rest/api/3/user?accountId=1", "accountId": "1",
                         "avatarUrls": {"48x48": "https://a"}, "displayName": "Ann", "active": true},
            "status": {"self": "s", "iconUrl": "i", "id": "3", "statusCategory": {"self": "c", "key": "done"}},
            "labels": ["a", "b"], "customfield_1": 2.5, "customfield_2": null,
            "issuelinks": [{"outwardIssue": {"self": "l", "key": "P-2"}}]
        }});
        let h: Holder = serde_json::from_value(raw).unwrap();
        assert_eq!(
            serde_json::Value::Object(h.fields),
            json!({
                "assignee": {"accountId": "1", "displayName": "Ann", "active": true},
                "status": {"id": "3", "statusCategory": {"key": "done"}},
                "labels": ["a", "b"], "customfield_1": 2.5, "customfield_2": null,
                "issuelinks": [{"outwardIssue": {"key": "P-2"}}]
            })
        );
    }
}
