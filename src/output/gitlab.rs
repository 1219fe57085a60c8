//! GitLab code quality: the subset of the Code Climate report format that
//! GitLab reads from a job's `artifacts: reports: codequality` file and
//! shows in merge requests (GitLab's documentation, "Code Quality": an
//! array of objects with `description`, `check_name`, `fingerprint`,
//! `severity` and `location.path` with `location.lines.begin`).
//!
//! ```json
//! [{"description": "GL002 pattern-mismatch: expected …",
//!   "check_name": "GL002",
//!   "fingerprint": "5d0c…",
//!   "severity": "critical",
//!   "location": {"path": "site/site.conf", "lines": {"begin": 5, "end": 5}}}]
//! ```
//!
//! GitLab compares the fingerprints of a merge request's report with the
//! target branch's to say which findings are new or fixed, so a fingerprint
//! must not change when unrelated lines move a finding: it is the MD5 of the
//! code, the file, the text the finding points at and its message, and
//! which occurrence of that combination it is — never its line number.
//!
//! Severities: error → `critical` (a Gluon build would fail, or nodes
//! break), warning → `major`, note → `info`.

use super::Run;
use crate::diagnostics::{Diagnostic, Severity};
use md5::{Digest, Md5};
use serde::Serialize;
use std::collections::BTreeMap;
use termcolor::WriteColor;

#[derive(Serialize)]
struct Issue {
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

/// The text a span covers, at most 500 bytes, whitespace trimmed: part of
/// the fingerprint.
fn pointed_text(run: &Run<'_>, d: &Diagnostic) -> String {
    let Some(span) = d.span else {
        return String::new();
    };
    let text = &run.sources.get(span.file).text;
    let (start, end) = (span.start as usize, span.end as usize);
    let covered = text.get(start..end.min(text.len())).unwrap_or("");
    let mut cut = covered.len().min(500);
    while !covered.is_char_boundary(cut) {
        cut -= 1;
    }
    covered[..cut].trim().to_string()
}

fn issues(run: &Run<'_>) -> Vec<Issue> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let site = if run.site_path.is_empty() {
        ".".to_string()
    } else {
        run.site_path.clone()
    };
    run.report
        .diagnostics
        .iter()
        .map(|d| {
            let (path, begin, end) = match d.span {
                Some(span) => {
                    let source = run.sources.get(span.file);
                    let (begin, _) = source.line_col(span.start as usize);
                    let (end, _) = source.line_col(span.end as usize);
                    (
                        super::github::join(&run.site_path, &source.name),
                        begin,
                        end,
                    )
                }
                // Findings about the site as a whole: at its directory.
                None => (site.clone(), 1, 1),
            };
            let key = format!(
                "{}\0{path}\0{}\0{}",
                d.info.code,
                pointed_text(run, d),
                d.message
            );
            let occurrence = seen.entry(key.clone()).or_insert(0);
            *occurrence += 1;
            let digest = Md5::digest(format!("{key}\0{occurrence}").as_bytes());
            let fingerprint = digest.iter().map(|b| format!("{b:02x}")).collect();
            Issue {
                description: super::shown(&format!(
                    "{} {}: {}",
                    d.info.code,
                    d.info.name,
                    d.text_with_notes()
                )),
                check_name: d.info.code.to_string(),
                fingerprint,
                severity: severity(d.severity),
                location: Location {
                    path: super::shown(&path),
                    lines: Lines { begin, end },
                },
            }
        })
        .collect()
}

/// Writes the report: one JSON array, `[]` for a clean site.
pub fn write(run: &Run<'_>, out: &mut dyn WriteColor) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(&issues(run)).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")
}
