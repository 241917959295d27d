//! Atlassian Document Format (ADF): Jira Cloud's rich-text JSON (descriptions, comments).

use serde_json::Value;

/// The plain text of an ADF tree: text nodes concatenated, block nodes separated by newlines.
/// Non-ADF input (a Data Center wiki-markup string) is returned as it is.
pub fn plain_text(node: &Value) -> String {
    let mut out = String::new();
    collect(node, &mut out);
    out.trim_end().to_string()
}

fn collect(node: &Value, out: &mut String) {
    match node {
        Value::String(s) => out.push_str(s),
        Value::Object(map) => {
            if let Some(Value::String(text)) = map.get("text") {
                out.push_str(text);
            }
            if let Some(Value::Array(children)) = map.get("content") {
                for child in children {
                    collect(child, out);
                }
            }
            let block = matches!(
                map.get("type").and_then(Value::as_str),
                Some("paragraph" | "heading" | "codeBlock" | "listItem" | "blockquote")
            );
            if block && !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_nested_nodes() {
        let doc = json!({"type":"doc","version":1,"content":[
            {"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Title"}]},
            {"type":"bulletList","content":[{"type":"listItem","content":[
                {"type":"paragraph","content":[{"type":"text","text":"one "},{"type":"text","text":"two","marks":[{"type":"strong"}]}]}]}]}
        ]});
        assert_eq!(plain_text(&doc), "Title\none two");
    }

    #[test]
    fn passes_wiki_markup_through() {
        assert_eq!(plain_text(&json!("h1. Title")), "h1. Title");
    }
}
