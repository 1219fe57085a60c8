//! gluonvpn's lints on the real sites of ../shared/corpus: every finding on
//! a site Gluon accepts is reviewed with a rationale
//! (tests/corpus_lints.reviewed), the others are in a snapshot, and every
//! lint's `seen_in` list names sites that really show it.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;

use gluonvpn::check::{check, CheckOptions};
use gluonvpn::gluon_version::GluonVersion;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// `(code, severity, file:line, domains)` of the lint findings for a site.
fn lint_findings(site: &Path, version: GluonVersion) -> Vec<String> {
    let outcome = check(site, &CheckOptions::new(version)).expect("check runs");
    outcome
        .report
        .diagnostics
        .iter()
        .filter(|d| d.code().starts_with("GV") && !d.code().starts_with("GV5"))
        .map(|d| {
            let place = d.span.map_or("-".to_string(), |s| {
                let file = outcome.site.sources.get(s.file);
                format!("{}:{}", file.name, file.line_col(s.start as usize).0)
            });
            format!(
                "{} {} {place} ({} domains)",
                d.code(),
                d.severity.as_str(),
                d.domains.len()
            )
        })
        .collect()
}

/// The reviewed findings: `site: finding [releases] | rationale` per line.
const REVIEWED: &str = "tests/corpus_lints.reviewed";

/// The releases at which Gluon accepts each corpus site (MANIFEST.json).
fn accepted_releases(corpus: &Path) -> BTreeMap<String, Vec<GluonVersion>> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.json")).expect("MANIFEST.json");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("MANIFEST.json is JSON");
    let mut accepted = BTreeMap::new();
    for site in manifest.as_array().expect("a list of sites") {
        let name = site["name"].as_str().expect("a name").to_string();
        let mut releases = Vec::new();
        for (release, verdict) in site["gluon_verdicts"].as_object().expect("verdicts") {
            if verdict["ok"].as_bool() == Some(true) {
                releases.push(release.parse().expect("a supported release"));
            }
        }
        releases.sort();
        accepted.insert(name, releases);
    }
    accepted
}

/// Every GV finding on every corpus site, at every release whose Gluon
/// accepts the site, was read and judged; the list in
/// tests/corpus_lints.reviewed holds each with a one-line rationale. A
/// finding that appears, goes or changes fails this test until the list is
/// reviewed again. An error is allowed only where the rationale starts with
/// `DEFECT:` (a real defect of the site, which Gluon's build misses).
#[test]
fn lint_findings_on_sites_gluon_accepts_are_reviewed() {
    let Some(corpus) = corpus::corpus("THE REVIEW OF LINT FINDINGS ON THE CORPUS") else {
        return;
    };
    // finding → releases, per site
    let mut found: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (site, releases) in accepted_releases(&corpus) {
        for version in releases {
            for finding in lint_findings(&corpus.join(&site), version) {
                found
                    .entry(format!("{site}: {finding}"))
                    .or_default()
                    .push(version.label());
            }
        }
    }
    let found: Vec<String> = found
        .into_iter()
        .map(|(finding, releases)| format!("{finding} [{}]", releases.join(" ")))
        .collect();

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(REVIEWED);
    let text = std::fs::read_to_string(&path).expect("the reviewed list");
    let mut reviewed: BTreeMap<String, String> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (finding, rationale) = line
            .split_once(" | ")
            .unwrap_or_else(|| panic!("{REVIEWED}:{}: no ` | rationale`", n + 1));
        let rationale = rationale.trim();
        assert!(
            rationale.len() >= 20,
            "{REVIEWED}:{}: the rationale is missing or too short",
            n + 1
        );
        let is_error = finding.split_whitespace().nth(2) == Some("error");
        assert!(
            !is_error || rationale.starts_with("DEFECT:"),
            "{REVIEWED}:{}: an error on a site Gluon accepts must be a real defect (`DEFECT: …`)",
            n + 1
        );
        assert!(
            reviewed
                .insert(finding.trim().to_string(), rationale.into())
                .is_none(),
            "{REVIEWED}:{}: listed twice",
            n + 1
        );
    }
    let new: Vec<&String> = found
        .iter()
        .filter(|f| !reviewed.contains_key(*f))
        .collect();
    let gone: Vec<&String> = reviewed.keys().filter(|r| !found.contains(r)).collect();
    if !new.is_empty() || !gone.is_empty() {
        let mut message = String::new();
        let _ = writeln!(message, "{REVIEWED} is out of date: review these findings");
        for f in &new {
            let _ = writeln!(message, "  new:  {f}");
        }
        for f in &gone {
            let _ = writeln!(message, "  gone: {f}");
        }
        panic!("{message}");
    }
}

/// Every site at the oldest and the newest supported release, whether
/// Gluon accepts it there or not, as a snapshot: a lint that changes on the
/// sites Gluon rejects shows in review too.
#[test]
fn lint_findings_on_the_corpus_are_reviewed() {
    let Some(corpus) = corpus::corpus("THE REVIEW OF LINT FINDINGS ON THE CORPUS") else {
        return;
    };
    for version in [GluonVersion::V2025_1, GluonVersion::V2022_1] {
        let mut all = String::new();
        for site in corpus::site_names(&corpus) {
            for finding in lint_findings(&corpus.join(&site), version) {
                let _ = writeln!(all, "{site}: {finding}");
            }
        }
        insta::assert_snapshot!(
            format!("corpus_lints_{}", version.label().replace('.', "_")),
            all
        );
    }
}

#[test]
fn seen_in_names_sites_that_show_the_lint() {
    let Some(corpus) = corpus::corpus("THE CHECK OF THE LINTS' SEEN_IN SITES") else {
        return;
    };
    for lint in gluonvpn::lints::all() {
        for entry in lint.seen_in {
            let (site, version) = match entry.split_once('@') {
                Some((site, version)) => (site, version.parse().expect("a known version")),
                None => (*entry, GluonVersion::NEWEST),
            };
            let found = lint_findings(&corpus.join(site), version);
            assert!(
                found.iter().any(|f| f.starts_with(lint.info.code)),
                "{} lists {entry}, but that site does not show it: {found:?}",
                lint.info.code
            );
        }
    }
}
