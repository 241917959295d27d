//! The words of generated summaries, descriptions and comments.

use rand::Rng;
use rand::seq::IndexedRandom;

use super::Generator;
use crate::model::{Block, RichText};

const VERBS: &[&str] = &[
    "Fix",
    "Add",
    "Refactor",
    "Investigate",
    "Remove",
    "Migrate",
    "Document",
    "Speed up",
    "Harden",
    "Redesign",
];
const OBJECTS: &[&str] = &[
    "login flow",
    "billing export",
    "search index",
    "rate limiter",
    "audit log",
    "settings page",
    "webhook retries",
    "CSV import",
    "session cache",
    "onboarding wizard",
    "payment gateway",
    "release pipeline",
];
const QUALIFIERS: &[&str] = &[
    "for EU tenants",
    "on Safari",
    "under load",
    "after upgrade",
    "in the admin console",
    "for large accounts",
    "behind the proxy",
    "on mobile",
    "for SSO users",
    "",
];
const WORDS: &[&str] = &[
    "the",
    "service",
    "returns",
    "stale",
    "data",
    "when",
    "cache",
    "expires",
    "customers",
    "reported",
    "timeout",
    "during",
    "peak",
    "hours",
    "we",
    "should",
    "retry",
    "with",
    "backoff",
    "and",
    "log",
    "context",
    "metrics",
    "show",
    "spike",
    "latency",
    "p99",
    "queue",
    "depth",
    "grows",
];

impl Generator {
    pub(super) fn summary(&mut self) -> String {
        let q = QUALIFIERS.choose(&mut self.rng).unwrap();
        let s = format!(
            "{} {} {}",
            VERBS.choose(&mut self.rng).unwrap(),
            OBJECTS.choose(&mut self.rng).unwrap(),
            q
        );
        s.trim_end().to_string()
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut s: Vec<&str> = (0..words)
            .map(|_| *WORDS.choose(&mut self.rng).unwrap())
            .collect();
        let first = s[0].to_string();
        let mut capital = first[..1].to_uppercase();
        capital.push_str(&first[1..]);
        s[0] = &capital;
        format!("{}.", s.join(" "))
    }

    /// Empty (None), very short, medium, or long with nested structure.
    pub(super) fn description(&mut self) -> Option<RichText> {
        match self.rng.random_range(0..10) {
            0..=1 => None,
            2..=4 => Some(vec![Block::Paragraph(self.sentence(3))]),
            5..=8 => Some(
                (0..self.rng.random_range(1..4))
                    .map(|_| Block::Paragraph(self.sentence(12)))
                    .collect(),
            ),
            _ => Some(vec![
                Block::Heading(2, "Context".into()),
                Block::Paragraph(self.sentence(20)),
                Block::Bullets((0..4).map(|_| self.sentence(6)).collect()),
                Block::Heading(3, "Steps".into()),
                Block::Code("curl -s https://example.invalid/health | jq .status".into()),
                Block::Paragraph(self.sentence(30)),
            ]),
        }
    }

    pub(super) fn comment_body(&mut self) -> RichText {
        (0..self.rng.random_range(1..3))
            .map(|_| Block::Paragraph(self.sentence(10)))
            .collect()
    }
}
