//! docs/architecture.md's crate graph against the manifests: every workspace crate, the
//! workspace crates it depends on, and those its tests alone use, as `cargo metadata` reads
//! them. A dependency added without the document (or a crate) fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use e2e::repo_root;
use serde_json::Value;

/// Per crate: (its dependencies, its dev-only dependencies), workspace crates only.
type Graph = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

fn names(list: &str) -> BTreeSet<String> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect()
}

fn documented() -> Graph {
    let doc = std::fs::read_to_string(repo_root().join("docs/architecture.md")).unwrap();
    let block = doc
        .split("```crates\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/architecture.md has a ```crates block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (name, deps) = line.split_once(':').expect("`crate: deps; dev: deps`");
            let (normal, dev) = match deps.split_once("; dev:") {
                Some((normal, dev)) => (normal, dev),
                None => (deps.trim_end_matches(';'), ""),
            };
            (
                name.trim().to_string(),
                (names(normal.trim_end_matches(';')), names(dev)),
            )
        })
        .collect()
}

fn manifests() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(repo_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let ours: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"].as_array().unwrap();
            let of_kind = |kind: Value| -> BTreeSet<String> {
                deps.iter()
                    .filter(|d| d["kind"] == kind && ours.contains(d["name"].as_str().unwrap()))
                    .map(|d| d["name"].as_str().unwrap().to_string())
                    .collect()
            };
            let normal = of_kind(Value::Null);
            let dev = &of_kind(Value::from("dev")) - &normal;
            (p["name"].as_str().unwrap().to_string(), (normal, dev))
        })
        .collect()
}

#[test]
fn the_documented_crate_graph_is_the_manifests_graph() {
    let (doc, real) = (documented(), manifests());
    for (name, deps) in &real {
        assert_eq!(
            doc.get(name),
            Some(deps),
            "docs/architecture.md's crate graph for {name} (dependencies; dev-only)"
        );
    }
    let extra: Vec<&String> = doc.keys().filter(|n| !real.contains_key(*n)).collect();
    assert!(
        extra.is_empty(),
        "documented crates that do not exist: {extra:?}"
    );
}
