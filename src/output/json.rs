//! JSON output: one document per run, with a stable, documented schema
//! (book/src/json.md). Field names never change meaning; new fields may be
//! added. `schema` is raised when a field is removed or changes meaning.

use super::{Counts, Run};
use crate::diagnostics::{Diagnostic, Severity};
use crate::source::SourceMap;
use serde::Serialize;
use std::collections::BTreeSet;
use termcolor::WriteColor;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Document<'a> {
    pub schema: u32,
    pub gluonvpn: &'static str,
    pub site: String,
    pub gluon_version: &'static str,
    /// Whether gluonvpn chose the release (no `--gluon-version`).
    pub gluon_version_inferred: bool,
    /// What in the site led to the release, or speaks against it.
    pub gluon_version_reasons: Vec<String>,
    /// Whether a Gluon build would get past every site check.
    /// null when unknown.
    pub gluon_ok: Option<bool>,
    /// Whether the network was probed (`--online`).
    pub online: bool,
    pub summary: Counts,
    pub checked_packages: &'a BTreeSet<String>,
    pub domains: &'a [&'a str],
    pub diagnostics: Vec<JsonDiagnostic>,
    /// In a check against several releases (`--gluon-version all`), each
    /// release's verdict, oldest first; empty otherwise.
    pub releases: Vec<JsonRelease<'a>>,
}

/// One release's verdict in a check against several.
#[derive(Serialize)]
pub struct JsonRelease<'a> {
    pub gluon_version: &'static str,
    /// null when unknown.
    pub gluon_ok: Option<bool>,
    /// Whether the site is written for this release.
    pub fits: bool,
    pub reasons: &'a [String],
    pub summary: Counts,
    /// The errors the site must fix for this release, as `CODE message`.
    pub needs: &'a [String],
    pub checked_packages: &'a BTreeSet<String>,
}

#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Path of the file relative to the site directory, or null.
    pub file: Option<String>,
    /// 1-based; null without a file.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    /// Further places that show the same problem (the same mistake in
    /// several domain files).
    pub also_at: Vec<JsonPlace>,
    /// The configuration path (`mesh_vpn.fastd.mtu`), or null.
    pub path: Option<String>,
    /// The first domain the problem was found in, or null.
    pub domain: Option<String>,
    /// Every domain the problem was found in.
    pub domains: Vec<String>,
    /// The first Gluon package whose check reports it, or null.
    pub package: Option<String>,
    /// Every Gluon package whose check reports it.
    pub packages: Vec<String>,
    /// What Gluon itself prints, or null.
    pub gluon_message: Option<String>,
    pub notes: Vec<String>,
    /// What `check --online` measured; only on its findings (GV5xx).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<serde_json::Value>,
    /// The releases whose check found it: the one checked, or with
    /// `--gluon-version all` or a list, some of those.
    pub gluon_versions: Vec<&'static str>,
}

/// The run's document.
pub fn document<'a>(run: &'a Run<'_>) -> Document<'a> {
    Document {
        schema: SCHEMA_VERSION,
        gluonvpn: env!("CARGO_PKG_VERSION"),
        site: run.site_dir.display().to_string(),
        gluon_version: run.gluon_version.label(),
        gluon_version_inferred: run.gluon_version_inferred,
        gluon_version_reasons: run.gluon_version_reasons.clone(),
        gluon_ok: run.gluon_ok,
        online: run.online,
        summary: Counts::of(run.report),
        checked_packages: run.checked_packages,
        domains: &run.domains,
        diagnostics: run
            .report
            .diagnostics
            .iter()
            .map(|d| {
                let mut json = diagnostic(d, run.sources);
                if json.gluon_versions.is_empty() {
                    json.gluon_versions = vec![run.gluon_version.label()];
                }
                json
            })
            .collect(),
        releases: run
            .releases
            .iter()
            .map(|r| JsonRelease {
                gluon_version: r.gluon_version.label(),
                gluon_ok: r.gluon_ok,
                fits: r.fits,
                reasons: &r.reasons,
                summary: r.summary,
                needs: &r.needs,
                checked_packages: &r.checked_packages,
            })
            .collect(),
    }
}

/// Writes the run's document, pretty-printed, and a line end.
pub fn write(run: &Run<'_>, out: &mut dyn WriteColor) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(run))?;
    writeln!(out)
}

/// A further place of a finding.
#[derive(Serialize)]
pub struct JsonPlace {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

pub fn diagnostic(d: &Diagnostic, sources: &SourceMap) -> JsonDiagnostic {
    let (file, start, end) = match d.span {
        Some(span) => {
            let source = sources.get(span.file);
            (
                Some(source.name.clone()),
                Some(source.line_col(span.start as usize)),
                Some(source.line_col(span.end as usize)),
            )
        }
        None => (None, None, None),
    };
    JsonDiagnostic {
        code: d.code(),
        name: d.info.name,
        severity: d.severity,
        message: super::elided(&d.message),
        file,
        line: start.map(|p| p.0),
        column: start.map(|p| p.1),
        end_line: end.map(|p| p.0),
        end_column: end.map(|p| p.1),
        also_at: d
            .also_at
            .iter()
            .map(|span| {
                let source = sources.get(span.file);
                let (line, column) = source.line_col(span.start as usize);
                let (end_line, end_column) = source.line_col(span.end as usize);
                JsonPlace {
                    file: source.name.clone(),
                    line,
                    column,
                    end_line,
                    end_column,
                }
            })
            .collect(),
        path: d.config_path.clone(),
        domain: d.domains.first().cloned(),
        domains: d.domains.clone(),
        package: d.packages.first().cloned(),
        packages: d.packages.clone(),
        gluon_message: d.gluon_message.as_deref().map(super::elided),
        notes: d.notes.iter().map(|n| super::elided(n)).collect(),
        probe: d.probe.clone(),
        gluon_versions: d.gluon_versions.iter().map(|v| v.label()).collect(),
    }
}
