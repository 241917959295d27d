//! From misses to a score: the established product's step table per category, weights that add up
//! to at most 100, and the report of one evaluation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rules::{Category, Settings};
use crate::sync::Excluded;

/// The step table of the established product: the share of tickets that miss a category, to
/// the category's score. 0 % → 100; up to 11 % → 75; up to 21 % → 55; up to 31 % → 30; up to
/// 41 % → 10; above → 5; no tickets → 0. Compared in whole numbers, so the edges are exact.
pub fn step_score(misses: u64, total: u64) -> u32 {
    if total == 0 {
        return 0;
    }
    let share = u128::from(misses) * 100;
    let at_most = |percent: u128| share <= percent * u128::from(total);
    if misses == 0 {
        100
    } else if at_most(11) {
        75
    } else if at_most(21) {
        55
    } else if at_most(31) {
        30
    } else if at_most(41) {
        10
    } else {
        5
    }
}

/// Weights per category. Those given are kept; the built-in categories not named share what
/// the given ones leave of 100, in proportion to their defaults (so `Idle=20,No Assignee=10`
/// leaves 70 to the other six of the eight, 11.67 each); custom misses not named weigh 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Weights {
    builtin: HashMap<Category, f64>,
    /// By the custom miss's name, lowercase.
    custom: HashMap<String, f64>,
}

impl Weights {
    /// Parses `Idle=20,No Assignee=10,Large stories=5`: built-in category titles or snake names,
    /// or the names of the integration's custom misses (`custom`), any case. The weights given
    /// must add up to at most 100; the rest share what they leave.
    pub fn parse(text: &str, custom: &[String]) -> Result<Weights, String> {
        let mut weights = Weights::default();
        let mut given: Vec<(String, f64)> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not NAME=WEIGHT"))?;
            let name = name.trim();
            let weight: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|w: &f64| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| format!("the weight of {name} must be a number ≥ 0"))?;
            if let Some(category) = Category::named(name) {
                weights.builtin.insert(category, weight);
            } else if custom.iter().any(|c| c.trim().eq_ignore_ascii_case(name)) {
                weights.custom.insert(name.to_lowercase(), weight);
            } else {
                return Err(format!(
                    "'{name}' is neither a hygiene category nor a custom hygiene miss"
                ));
            }
            given.push((name.to_string(), weight));
        }
        let sum: f64 = weights
            .builtin
            .values()
            .chain(weights.custom.values())
            .sum();
        if sum > 100.0 + 1e-9 {
            let terms: Vec<String> = given.iter().map(|(n, w)| format!("{n} {w}")).collect();
            return Err(format!(
                "the weights given add up to {sum} ({}), more than 100",
                terms.join(" + ")
            ));
        }
        if !given.is_empty() {
            weights.share_the_rest(100.0 - sum);
        }
        Ok(weights)
    }

    /// Gives `left` to the built-in categories not named, in proportion to their defaults.
    fn share_the_rest(&mut self, left: f64) {
        let unnamed: Vec<Category> = Category::ALL
            .iter()
            .copied()
            .filter(|c| !self.builtin.contains_key(c))
            .collect();
        let defaults: f64 = unnamed.iter().map(|c| c.default_weight()).sum();
        if defaults <= 0.0 {
            return;
        }
        for category in unnamed {
            let share = left.max(0.0) * category.default_weight() / defaults;
            self.builtin.insert(category, share);
        }
    }

    pub fn of(&self, category: Category) -> f64 {
        self.builtin
            .get(&category)
            .copied()
            .unwrap_or(category.default_weight())
    }

    pub fn of_custom(&self, name: &str) -> f64 {
        self.custom
            .get(&name.trim().to_lowercase())
            .copied()
            .unwrap_or(Category::Custom.default_weight())
    }
}

/// One category of a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoryReport {
    pub category: Category,
    pub name: String,
    /// None when the category is skipped.
    pub misses: Option<u64>,
    pub total: u64,
    pub miss_percent: Option<f64>,
    pub step_score: Option<u32>,
    pub weight: f64,
    pub weighted_score: f64,
    pub skipped: bool,
    pub skipped_reason: Option<String>,
}

/// The hygiene of a set of tickets at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The evaluation time (RFC 3339 in JSON).
    pub evaluated_at: DateTime<Utc>,
    pub total_tickets: u64,
    /// The sum of the categories' weighted scores.
    pub score: f64,
    pub categories: Vec<CategoryReport>,
}

/// Tickets and their misses per category: what a report is computed from, and what snapshots
/// keep per cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub tickets: u64,
    /// In the order of [`Category::ALL`].
    pub builtin: [u64; Category::ALL.len()],
    /// In the order of the custom misses' names, which travel beside the counts.
    pub custom: Vec<u64>,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.tickets += other.tickets;
        for (n, m) in self.builtin.iter_mut().zip(other.builtin) {
            *n += m;
        }
        if self.custom.len() < other.custom.len() {
            self.custom.resize(other.custom.len(), 0);
        }
        for (n, m) in self.custom.iter_mut().zip(&other.custom) {
            *n += m;
        }
    }
}

/// A built-in category that could not be judged, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub category: Category,
    pub reason: String,
}

/// The categories `settings` cannot judge when `excluded` fields are not ingested.
pub fn skips(settings: &Settings, excluded: &Excluded) -> Vec<Skip> {
    Category::ALL
        .into_iter()
        .filter_map(|category| {
            settings.skipped(category, excluded).map(|reason| Skip {
                category,
                reason: reason.to_string(),
            })
        })
        .collect()
}

/// The report of counts already made: `custom_names` name `counts.custom` in order.
pub fn report_of(
    counts: &Counts,
    custom_names: &[String],
    skipped: &[Skip],
    weights: &Weights,
    at_ms: i64,
) -> Report {
    let total = counts.tickets;
    let row = |category: Category, name: &str, missed: u64, weight: f64, skipped: Option<&str>| {
        let step = skipped.is_none().then(|| step_score(missed, total));
        CategoryReport {
            category,
            name: name.to_string(),
            misses: skipped.is_none().then_some(missed),
            total,
            miss_percent: (skipped.is_none() && total > 0)
                .then(|| missed as f64 * 100.0 / total as f64),
            step_score: step,
            weight,
            weighted_score: step.map_or(0.0, |s| f64::from(s) * weight / 100.0),
            skipped: skipped.is_some(),
            skipped_reason: skipped.map(str::to_string),
        }
    };
    let builtin = Category::ALL
        .into_iter()
        .zip(counts.builtin)
        .map(|(category, missed)| {
            let skip = skipped.iter().find(|s| s.category == category);
            row(
                category,
                category.title(),
                missed,
                weights.of(category),
                skip.map(|s| s.reason.as_str()),
            )
        });
    let custom = custom_names.iter().enumerate().map(|(i, name)| {
        let missed = counts.custom.get(i).copied().unwrap_or(0);
        row(
            Category::Custom,
            name,
            missed,
            weights.of_custom(name),
            None,
        )
    });
    let categories: Vec<CategoryReport> = builtin.chain(custom).collect();
    Report {
        evaluated_at: DateTime::from_timestamp_millis(at_ms).unwrap_or_default(),
        total_tickets: total,
        score: categories.iter().map(|c| c.weighted_score).sum(),
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::DAY_MS;
    use super::*;

    #[test]
    fn every_edge_of_the_step_table() {
        assert_eq!(step_score(0, 0), 0);
        assert_eq!(step_score(0, 10), 100);
        assert_eq!(step_score(1, 1000), 75);
        assert_eq!(step_score(11, 100), 75);
        assert_eq!(step_score(111, 1000), 55);
        assert_eq!(step_score(21, 100), 55);
        assert_eq!(step_score(211, 1000), 30);
        assert_eq!(step_score(31, 100), 30);
        assert_eq!(step_score(311, 1000), 10);
        assert_eq!(step_score(41, 100), 10);
        assert_eq!(step_score(411, 1000), 5);
        assert_eq!(step_score(100, 100), 5);
    }

    #[test]
    fn weights_default_to_twelve_and_a_half_and_may_not_exceed_100() {
        let defaults = Weights::default();
        let sum: f64 = Category::ALL.iter().map(|c| defaults.of(*c)).sum();
        assert_eq!(sum, 100.0);
        assert_eq!(defaults.of(Category::StalledInActiveSprint), 0.0);
        let w = Weights::parse("Idle=20, no_assignee=5,Stalled in Active Sprint=0", &[]).unwrap();
        assert_eq!(w.of(Category::Idle), 20.0);
        assert_eq!(w.of(Category::NoAssignee), 5.0);
        assert_eq!(w.of(Category::StalledInActiveSprint), 0.0);
        // The six others of the eight share the 75 left.
        assert_eq!(w.of(Category::NoDueDate), 12.5);
        let w = Weights::parse("Idle=20,No Assignee=10", &[]).unwrap();
        assert!((w.of(Category::NoComponents) - 70.0 / 6.0).abs() < 1e-12);
        let sum: f64 = Category::ALL.iter().map(|c| w.of(*c)).sum();
        assert!((sum - 100.0).abs() < 1e-9);
        // Given weights that leave nothing: the others weigh 0.
        let w = Weights::parse("Idle=60,No Assignee=40", &[]).unwrap();
        assert_eq!(w.of(Category::NoDueDate), 0.0);
        assert_eq!(
            Weights::parse("Idle=30,No Due Date=80", &[]).unwrap_err(),
            "the weights given add up to 110 (Idle 30 + No Due Date 80), more than 100"
        );
        assert!(
            Weights::parse("Sloppy=3", &[])
                .unwrap_err()
                .contains("Sloppy")
        );
        assert!(Weights::parse("Idle=-1", &[]).is_err());
        assert!(Weights::parse("Idle", &[]).is_err());
        let custom = ["Large stories".to_string()];
        let w = Weights::parse("large STORIES=5,No Due Date=7.5", &custom).unwrap();
        assert_eq!(w.of_custom("Large Stories"), 5.0);
        assert_eq!(w.of_custom("Other"), 0.0);
        assert!(
            Weights::parse("Large stories=60,No Due Date=47.5", &custom)
                .unwrap_err()
                .contains("more than 100")
        );
    }

    #[test]
    fn a_report_weighs_step_scores_and_skips_what_is_not_ingested() {
        // 9 tickets, 1 unassigned (11.1 %: step 55); all idle (100 %: step 5); 3 match the
        // custom miss (33 %: step 10).
        let mut builtin = [0; Category::ALL.len()];
        builtin[0] = 9;
        builtin[3] = 1;
        let counts = Counts {
            tickets: 9,
            builtin,
            custom: vec![3],
        };
        let excluded = Excluded {
            description: true,
            ..Excluded::default()
        };
        let r = report_of(
            &counts,
            &["Large stories".to_string()],
            &skips(&Settings::default(), &excluded),
            &Weights::default(),
            20 * DAY_MS,
        );
        assert_eq!(r.total_tickets, 9);
        let of = |c: Category| r.categories.iter().find(|x| x.category == c).unwrap();
        assert_eq!(of(Category::NoAssignee).misses, Some(1));
        assert_eq!(of(Category::NoAssignee).step_score, Some(55));
        assert_eq!(of(Category::NoAssignee).weighted_score, 55.0 * 12.5 / 100.0);
        assert_eq!(of(Category::Idle).step_score, Some(5));
        let poor = of(Category::PoorDescription);
        assert!(poor.skipped && poor.misses.is_none() && poor.weighted_score == 0.0);
        assert_eq!(
            poor.skipped_reason.as_deref(),
            Some("descriptions are excluded from ingestion")
        );
        let large = r.categories.last().unwrap();
        assert_eq!(large.category, Category::Custom);
        assert_eq!(large.name, "Large stories");
        assert_eq!(large.misses, Some(3));
        assert_eq!(large.step_score, Some(10));
        assert_eq!(large.weight, 0.0);
        // Five categories at 100, Idle 5, No Assignee 55, Poor Description skipped; the ninth
        // and the custom miss weigh 0.
        let expected = (5.0 * 100.0 + 5.0 + 55.0) * 12.5 / 100.0;
        assert_eq!(r.score, expected);
    }

    #[test]
    fn no_tickets_score_zero() {
        let r = report_of(&Counts::default(), &[], &[], &Weights::default(), 0);
        assert_eq!(r.total_tickets, 0);
        assert_eq!(r.score, 0.0);
        assert!(r.categories.iter().all(|c| c.step_score == Some(0)));
    }
}
