//! The JQL subset the simulator understands: syntax in [`parse`], semantics in [`eval`], and the
//! query structure `/jql/parse` returns.

mod dates;
pub mod eval;
mod field;
mod order;
pub mod parse;

use serde_json::{Value, json};

pub use eval::{Compiled, compile};
pub use field::SearchContext;
pub use parse::{Clause, Operand, Query};

/// The `structure` object of a `ParsedJqlQuery`.
pub fn structure(query: &Query) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(c) = &query.clause {
        out.insert("where".into(), clause_json(c));
    }
    if !query.order_by.is_empty() {
        let fields: Vec<Value> = query
            .order_by
            .iter()
            .map(|o| {
                let mut e = json!({"field": {"name": o.field, "encodedName": encode(&o.field)}});
                if let Some(d) = o.descending {
                    e["direction"] = json!(if d { "desc" } else { "asc" });
                }
                e
            })
            .collect();
        out.insert("orderBy".into(), json!({ "fields": fields }));
    }
    Value::Object(out)
}

fn clause_json(c: &Clause) -> Value {
    match c {
        Clause::And(parts) => {
            json!({"operator": "and", "clauses": parts.iter().map(clause_json).collect::<Vec<_>>()})
        }
        Clause::Or(parts) => {
            json!({"operator": "or", "clauses": parts.iter().map(clause_json).collect::<Vec<_>>()})
        }
        Clause::Not(inner) => json!({"operator": "not", "clauses": [clause_json(inner)]}),
        Clause::Term {
            field,
            operator,
            operand,
        } => json!({
            "field": {"name": field, "encodedName": encode(field)},
            "operator": operator.to_string(),
            "operand": operand_json(operand),
        }),
    }
}

fn operand_json(o: &Operand) -> Value {
    match o {
        Operand::Value { text, .. } => json!({"value": text, "encodedValue": encode(text)}),
        Operand::Empty => json!({"keyword": "empty"}),
        Operand::Function { name, args } => {
            json!({"function": name, "arguments": args, "encodedOperand": format!("{name}({})", args.join(", "))})
        }
        Operand::List(items) => json!({
            "values": items.iter().map(operand_json).collect::<Vec<_>>(),
            "encodedOperand": format!("({})", items.iter().map(|i| match i { Operand::Value { text, .. } => encode(text), _ => "EMPTY".into() }).collect::<Vec<_>>().join(", ")),
        }),
    }
}

/// Quotes a value when JQL needs it.
fn encode(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("\"{}\"", text.replace('"', "\\\""))
    }
}
