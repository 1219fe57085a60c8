//! Gluon's own verdicts on real community sites (../shared/corpus), read as
//! they are: gluonvpn must reach the same verdict for every recorded Gluon
//! release, and report every error a Gluon user would see there.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;

use gluonvpn::check::{check, CheckOptions, Outcome};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::site::codes;
use serde_json::Value;
use std::path::Path;

/// The configuration path a Gluon check message names.
fn gluon_message_path(message: &str) -> Option<String> {
    let body = message.split_once(" error: ").map_or(message, |(_, b)| b);
    if let Some(rest) = body.strip_prefix("expected ") {
        return rest.split_once(" to ").map(|(p, _)| p.to_string());
    }
    for marker in [" is obsolete.", " is allowed in "] {
        if let Some((path, _)) = body.split_once(marker) {
            return Some(path.to_string());
        }
    }
    None
}

struct Finding {
    site: String,
    tag: String,
    problem: String,
}

fn check_tag(corpus: &Path, site: &str, tag: &str, verdict: &Value, findings: &mut Vec<Finding>) {
    let version: GluonVersion = tag.parse().expect("known tag");
    let dir = corpus.join(site);
    let mut fail = |problem: String| {
        findings.push(Finding {
            site: site.to_string(),
            tag: tag.to_string(),
            problem,
        })
    };
    let outcome: Outcome = match check(&dir, &CheckOptions::new(version)) {
        Ok(o) => o,
        Err(e) => return fail(format!("gluonvpn could not check it: {e}")),
    };
    let diagnostics = &outcome.report.diagnostics;
    let gluon_says: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d.from_gluon())
        .filter_map(|d| d.gluon_message.as_deref())
        .collect();

    let expected_ok = verdict["ok"].as_bool().expect("ok");
    if outcome.gluon_ok() != expected_ok {
        let listed: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code(), d.message))
            .collect();
        fail(format!(
            "verdict {} but Gluon says {}; found: {listed:#?}",
            outcome.gluon_ok(),
            expected_ok
        ));
    }

    for error in verdict["build_errors"].as_array().expect("build_errors") {
        let error = error.as_str().expect("string");
        let matched = gluon_says
            .iter()
            .any(|said| !said.is_empty() && (error.contains(said) || said.contains(error)));
        if !matched {
            fail(format!("build error not reported: {error}"));
        }
    }

    // Package check errors are what a user sees unless the build stops first.
    if verdict.get("stopped_at").is_none() {
        for result in verdict["results"].as_array().expect("results") {
            let Some(error) = result["error"].as_str() else {
                continue;
            };
            let package = result["package"].as_str().expect("package");
            let path = gluon_message_path(error);
            let matched = diagnostics.iter().any(|d| {
                d.packages.iter().any(|p| p == package)
                    && match &path {
                        Some(p) => d.config_path.as_deref() == Some(p.as_str()),
                        None => d.gluon_message.as_deref() == Some(error),
                    }
            });
            if !matched {
                fail(format!("{package} check error not reported: {error}"));
            }
        }
    }

    // Packages from site feeds that could not be checked: gluonvpn says so.
    if let Some(note) = verdict.get("note").and_then(Value::as_str) {
        if let Some((_, list)) = note.split_once("cannot be checked here: ") {
            let list = list.split(';').next().unwrap_or(list);
            for package in list.split_whitespace() {
                let said = diagnostics.iter().any(|d| {
                    d.info == codes::UNCHECKED_FEED_PACKAGE
                        && d.message.contains(&format!("'{package}'"))
                });
                if !said && verdict.get("stopped_at").is_none() {
                    fail(format!(
                        "does not say that site-feed package {package} was not checked"
                    ));
                }
            }
        }
    }
}

#[test]
fn gluonvpn_agrees_with_gluon_on_every_corpus_site() {
    let Some(corpus) = corpus::corpus("THE COMPARISON WITH GLUON'S VERDICTS ON THE CORPUS") else {
        return;
    };
    let manifest_path = corpus.join("MANIFEST.json");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display())),
    )
    .expect("MANIFEST.json parses");
    let mut findings = Vec::new();
    let mut checked = 0;
    for entry in manifest.as_array().expect("a list") {
        let site = entry["name"].as_str().expect("name");
        for (tag, verdict) in entry["gluon_verdicts"].as_object().expect("verdicts") {
            check_tag(&corpus, site, tag, verdict, &mut findings);
            checked += 1;
        }
    }
    assert!(checked >= 150, "only {checked} verdicts in the manifest");
    if !findings.is_empty() {
        let report: Vec<String> = findings
            .iter()
            .map(|f| format!("{} {}: {}", f.site, f.tag, f.problem))
            .collect();
        panic!(
            "{} disagreements with Gluon:\n{}",
            findings.len(),
            report.join("\n")
        );
    }
}

/// Without `--gluon-version`, every site is checked with a release it is
/// written for — among those Gluon accepts it at, where it accepts it at
/// all — and a site written for a release older than every supported one
/// is told so, with the keys that show it.
#[test]
fn every_corpus_site_is_checked_with_a_release_it_fits() {
    let Some(corpus) = corpus::corpus("THE RELEASE INFERENCE ON THE CORPUS") else {
        return;
    };
    let manifest = corpus::manifest(&corpus);
    let mut problems = Vec::new();
    for entry in manifest.as_array().expect("a list") {
        let site = entry["name"].as_str().expect("name");
        let mut options = CheckOptions::new(GluonVersion::NEWEST);
        options.infer_version = true;
        let outcome = gluonvpn::check::check_inferring(&corpus.join(site), &options)
            .unwrap_or_else(|e| panic!("{site}: {e}"));
        let release = &outcome.release;
        assert!(release.inferred, "{site}");
        let accepted: Vec<GluonVersion> = entry["gluon_verdicts"]
            .as_object()
            .expect("verdicts")
            .iter()
            .filter(|(_, v)| v["ok"] == true)
            .map(|(tag, _)| tag.parse().expect("known tag"))
            .collect();
        let misfit = outcome
            .report
            .diagnostics
            .iter()
            .find(|d| d.info == codes::RELEASE_MISFIT);
        if release.fits() {
            if misfit.is_some() {
                problems.push(format!("{site}: fits {} but has GS008", release.version));
            }
            if !accepted.is_empty() && !accepted.contains(&release.version) {
                problems.push(format!(
                    "{site}: checked with {}, Gluon accepts it at {accepted:?}",
                    release.version
                ));
            }
        } else {
            match misfit {
                Some(d)
                    if d.message.contains("older than v2022.1")
                        && d.message
                            .contains(" is obsolete in every supported release") => {}
                other => problems.push(format!("{site}: fits no release, but says {other:?}")),
            }
            if !accepted.is_empty() {
                problems.push(format!(
                    "{site}: fits no release, but Gluon accepts it at {accepted:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A finding as a line: code, severity, message, places (by file name),
/// key, domains, packages and, if asked for, Gluon's words.
fn finding_lines(
    report: &gluonvpn::diagnostics::Report,
    sources: &gluonvpn::source::SourceMap,
    gluon_words: bool,
) -> Vec<String> {
    let place =
        |s: gluonvpn::source::Span| format!("{}:{}-{}", sources.get(s.file).name, s.start, s.end);
    let mut lines: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| {
            let places: Vec<String> = d.places().map(place).collect();
            format!(
                "{} {:?} {} @{} {:?} {:?} {:?} {:?}",
                d.code(),
                d.severity,
                d.message,
                places.join(","),
                d.config_path,
                d.domains,
                d.packages,
                d.gluon_message.as_ref().filter(|_| gluon_words)
            )
        })
        .collect();
    lines.sort();
    lines
}

/// `check --gluon-version all` loads a site once for every release: each
/// release's outcome must be what checking with that release alone gives,
/// and the merged report must hold each release's findings, no more.
#[test]
fn checking_every_release_at_once_equals_checking_each_alone() {
    let Some(corpus) = corpus::corpus("THE SHARED LOAD OF EVERY RELEASE ON THE CORPUS") else {
        return;
    };
    let mut problems = Vec::new();
    for site in corpus::site_names(&corpus) {
        let dir = corpus.join(&site);
        let options = CheckOptions::new(GluonVersion::NEWEST);
        let together = gluonvpn::check::check_releases(&dir, &options, &GluonVersion::ALL)
            .unwrap_or_else(|e| panic!("{site}: {e}"));
        assert_eq!(together.len(), GluonVersion::ALL.len(), "{site}");
        for (outcome, version) in together.iter().zip(GluonVersion::ALL) {
            assert_eq!(outcome.release.version, version, "{site}");
            let alone = check(&dir, &CheckOptions::new(version))
                .unwrap_or_else(|e| panic!("{site} {version}: {e}"));
            let (a, b) = (
                finding_lines(&outcome.report, &outcome.site.sources, true),
                finding_lines(&alone.report, &alone.site.sources, true),
            );
            if a != b {
                problems.push(format!("{site} {version}: together {a:#?}\nalone {b:#?}"));
            }
            if outcome.checked_packages != alone.checked_packages {
                problems.push(format!("{site} {version}: other packages checked"));
            }
        }
        // The merge keeps every release's findings, each with its release.
        let merged = gluonvpn::check::ReleasesOutcome::merge(together);
        for outcome in &merged.outcomes {
            let version = outcome.release.version;
            // Gluon's wording is the newest release's in the merge.
            let expected = finding_lines(&outcome.report, &outcome.site.sources, false);
            let of_release = gluonvpn::diagnostics::Report {
                diagnostics: merged
                    .report
                    .diagnostics
                    .iter()
                    .filter(|d| d.gluon_versions.contains(&version))
                    .cloned()
                    .collect(),
                notes: Vec::new(),
            };
            let found = finding_lines(&of_release, &merged.sources, false);
            if found != expected {
                problems.push(format!(
                    "{site} {version}: merged {found:#?}\nexpected {expected:#?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// make evaluates site.mk once per group of targets it cannot tell apart
/// (gluonvpn::site::target_rounds); every target must still get what its own
/// round gives. `--untrusted` runs no command, so both evaluations are
/// deterministic; the trusted one runs site.mk's `date` and `git`, and is
/// compared again once when a clock tick came between the two.
#[test]
fn one_round_per_group_of_targets_gives_every_target_its_values() {
    use gluonvpn::site::site_mk::{self, MakeOptions, TargetEnv};
    let Some(corpus) = corpus::corpus("ONE MAKE ROUND PER GROUP OF TARGETS ON THE CORPUS") else {
        return;
    };
    let mut targets: Vec<TargetEnv> = Vec::new();
    for version in [GluonVersion::V2022_1, GluonVersion::V2023_1] {
        let data = gluonvpn::gluon_data::embedded(version.label()).expect("data");
        for t in data.targets.iter().filter(|t| !t.broken) {
            if !targets.iter().any(|e| e.name == t.name) {
                targets.push(TargetEnv {
                    name: t.name.clone(),
                    board: t.board.clone(),
                    subtarget: t.subtarget.clone(),
                });
            }
        }
    }
    let mut modes = vec![MakeOptions::default()];
    if gluonvpn::site::confine::landlock_abi().is_some() {
        modes.push(MakeOptions {
            untrusted: true,
            ..MakeOptions::default()
        });
    }
    let mut grouped = 0;
    for site in corpus::site_names(&corpus) {
        let dir = corpus.join(&site);
        let Ok(text) = std::fs::read_to_string(dir.join("site.mk")) else {
            continue;
        };
        if gluonvpn::site::target_rounds::TargetTests::read(&text, || true).is_some()
            && site_mk::mentions_target(&[&text])
        {
            grouped += 1;
        }
        for options in &modes {
            let run = || {
                let distinct = site_mk::evaluate_distinct(&dir, &text, &targets, options)
                    .unwrap_or_else(|e| panic!("{site}: {e}"));
                let every = site_mk::evaluate(&dir, &targets, options)
                    .unwrap_or_else(|e| panic!("{site}: {e}"));
                (distinct, every)
            };
            let same = |(a, b): &(site_mk::Outcome, site_mk::Outcome)| {
                a.evaluation == b.evaluation && a.error == b.error
            };
            let mut outcomes = run();
            if !same(&outcomes) && !options.untrusted {
                outcomes = run();
            }
            let (distinct, every) = outcomes;
            assert_eq!(
                distinct.evaluation, every.evaluation,
                "{site} (untrusted: {})",
                options.untrusted
            );
            assert_eq!(distinct.error, every.error, "{site}");
        }
    }
    // Most of the corpus's per-target site.mk files only compare the target
    // with names: the grouping is exercised, not skipped.
    assert!(grouped >= 8, "{grouped} sites grouped");
}
