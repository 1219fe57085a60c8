//! gluonvpn's lints on the real sites of ../shared/corpus: every finding is
//! reviewed (the snapshot below), and every lint's `seen_in` list names
//! sites that really show it.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;

use gluonvpn::check::{check, CheckOptions};
use gluonvpn::gluon_version::GluonVersion;
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
