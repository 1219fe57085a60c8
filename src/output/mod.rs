//! The output formats of a check: human (codespan-reporting), JSON, SARIF,
//! GitHub Actions workflow commands and GitLab code quality.
//!
//! A check is described once, as a [`Run`], and [`write`] hands it to the
//! format: each format is a file here with a `write(run, out)` function and
//! a [`Format`] variant.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;

use crate::check::{Outcome, ReleasesOutcome};
use crate::diagnostics::{Report, Severity};
use crate::gluon_version::GluonVersion;
use crate::source::SourceMap;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;
use termcolor::WriteColor;

/// How `check` reports.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with the source line, then a summary.
    Human,
    /// One JSON document (book: JSON output).
    Json,
    /// A SARIF 2.1.0 log, for code-scanning uploads.
    Sarif,
    /// GitHub Actions workflow commands: one annotation per diagnostic.
    Github,
    /// GitLab code quality (Code Climate JSON), for merge requests.
    Gitlab,
}

/// One check run: the diagnostics and everything the formats say about the
/// run besides them.
pub struct Run<'a> {
    pub report: &'a Report,
    pub sources: &'a SourceMap,
    /// The site directory as loaded (as given on the command line).
    pub site_dir: &'a Path,
    /// The site directory relative to the working directory, as the GitHub
    /// and SARIF formats name it ([`github::site_path`]).
    pub site_path: String,
    pub gluon_version: GluonVersion,
    /// Whether gluonvpn chose the release (no `--gluon-version`).
    pub gluon_version_inferred: bool,
    /// What in the site led to the release, or speaks against it.
    pub gluon_version_reasons: Vec<String>,
    /// Whether the site fits the release.
    pub gluon_version_fits: bool,
    /// Whether a Gluon build would get past every site check; `None` when
    /// gluonvpn cannot tell (it did not read everything Gluon would).
    pub gluon_ok: Option<bool>,
    /// The Gluon packages whose checks ran.
    pub checked_packages: &'a BTreeSet<String>,
    /// The codes of the site's domains.
    pub domains: Vec<&'a str>,
    /// Whether the network was probed (`--online`).
    pub online: bool,
    /// How many findings `--min-severity` left out.
    pub hidden: usize,
    /// The working directory as a `file:` URI, the base of SARIF's
    /// locations ([`sarif::directory_uri`]); `None` when it has none.
    pub root_uri: Option<String>,
    /// In a check against several releases (`--gluon-version all`), each
    /// release's verdict, oldest first; empty in a check against one.
    pub releases: Vec<ReleaseRow>,
}

/// One release's verdict in a check against several.
#[derive(Clone, Debug)]
pub struct ReleaseRow {
    pub gluon_version: GluonVersion,
    /// Whether a Gluon build of this release would get past every site
    /// check; `None` when gluonvpn cannot tell.
    pub gluon_ok: Option<bool>,
    /// Whether the site is written for this release.
    pub fits: bool,
    /// What in the site speaks against the release (or, when it fits, what
    /// rules out newer ones).
    pub reasons: Vec<String>,
    pub summary: Counts,
    /// What the site must change for this release: its errors, each as
    /// `CODE message`.
    pub needs: Vec<String>,
    pub checked_packages: BTreeSet<String>,
}

impl ReleaseRow {
    fn of(outcome: &Outcome) -> ReleaseRow {
        let release = &outcome.release;
        ReleaseRow {
            gluon_version: release.version,
            gluon_ok: outcome.gluon_verdict().passes(),
            fits: release.fits(),
            reasons: release.reasons(),
            summary: Counts::of(&outcome.report),
            needs: outcome
                .report
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| format!("{} {}", d.code(), first_line(&d.message)))
                .collect(),
            checked_packages: outcome.checked_packages.clone(),
        }
    }

    /// The verdict in a word or two.
    pub fn verdict(&self) -> &'static str {
        match self.gluon_ok {
            Some(true) => "passes",
            Some(false) => "fails",
            None => "unknown",
        }
    }
}

/// A message's first line, cut to a length a table can show.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    match line.char_indices().nth(160) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}

impl<'a> Run<'a> {
    pub fn new(outcome: &'a Outcome, online: bool) -> Run<'a> {
        let site = &outcome.site;
        let release = &outcome.release;
        Run {
            report: &outcome.report,
            sources: &site.sources,
            site_dir: &site.dir,
            site_path: github::site_path(&site.dir),
            gluon_version: release.version,
            gluon_version_inferred: release.inferred,
            gluon_version_reasons: release.reasons(),
            gluon_version_fits: release.fits(),
            gluon_ok: outcome.gluon_verdict().passes(),
            checked_packages: &outcome.checked_packages,
            domains: site.domains.iter().map(|d| d.code.as_str()).collect(),
            online,
            hidden: 0,
            root_uri: std::env::current_dir()
                .ok()
                .and_then(|cwd| sarif::directory_uri(&cwd)),
            releases: Vec::new(),
        }
    }

    /// A check against several releases: the merged findings, and each
    /// release's verdict. The run's own release is the newest checked.
    pub fn of_releases(outcome: &'a ReleasesOutcome, online: bool) -> Option<Run<'a>> {
        let newest = outcome.outcomes.last()?;
        Some(Run {
            report: &outcome.report,
            sources: &outcome.sources,
            gluon_version_inferred: false,
            gluon_ok: outcome.gluon_ok(),
            checked_packages: &outcome.checked_packages,
            releases: outcome.outcomes.iter().map(ReleaseRow::of).collect(),
            ..Run::new(newest, online)
        })
    }
}

/// The diagnostics of a report by severity, as the human summary and the
/// JSON document's `summary` give them.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of(report: &Report) -> Counts {
        Counts {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
        }
    }
}

/// At most this many characters of a message or a note are written: a site
/// value inside one (a remote, a peer name) may be as long as its file.
pub const TEXT_CAP: usize = 2000;

/// Source lines longer than this many bytes are not shown under a
/// diagnostic (it keeps its line and column).
pub const LINE_CAP: usize = 1000;

/// A text with site values in it, cut to [`TEXT_CAP`] characters.
pub fn elided(text: &str) -> String {
    match text.char_indices().nth(TEXT_CAP) {
        Some((end, _)) => format!(
            "{}… ({} more characters)",
            &text[..end],
            text[end..].chars().count()
        ),
        None => text.to_string(),
    }
}

/// Whether a character would act on a terminal or in an annotation rather
/// than show: C0 and C1 controls and DEL, but newline and tab.
fn is_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// [`elided`], with control characters written as escapes (`\u{1b}`), so
/// that a site's ESC, OSC 8 or BEL never reaches a terminal or a CI log.
pub fn shown(text: &str) -> String {
    let text = elided(text);
    if !text.chars().any(is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if is_control(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A file's text for a terminal: each control character replaced by as
/// many `?` as it has bytes, so that byte offsets stay as they are.
pub fn displayable_source(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| is_control(c) && c != '\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if is_control(c) && c != '\r' {
                    "?".repeat(c.len_utf8())
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Writes the run in the format. Only the human format uses colour, as
/// `out` allows.
pub fn write(format: Format, run: &Run<'_>, out: &mut dyn WriteColor) -> std::io::Result<()> {
    match format {
        Format::Human => human::write(run, out),
        Format::Json => json::write(run, out),
        Format::Sarif => sarif::write(run, out),
        Format::Github => github::write(run, out),
        Format::Gitlab => gitlab::write(run, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_long_texts_cut() {
        assert_eq!(shown("a\u{1b}]8;;x\u{7}b\nc"), "a\\u{1b}]8;;x\\u{7}b\nc");
        assert_eq!(shown("\u{9b}31m"), "\\u{9b}31m");
        let long = "x".repeat(TEXT_CAP + 5);
        assert_eq!(
            elided(&long),
            format!("{}… (5 more characters)", "x".repeat(TEXT_CAP))
        );
        let source = "a\u{1b}b\u{9b}c\r\n";
        let shown = displayable_source(source);
        assert_eq!(shown, "a?b??c\r\n");
        assert_eq!(shown.len(), source.len());
    }
}
