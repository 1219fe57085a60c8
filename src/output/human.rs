//! Human output: rustc-style diagnostics with the source line and a caret,
//! in file order, then a summary.

use super::{Counts, ReleaseRow, Run};
use crate::diagnostics::{Diagnostic, Report, Severity};
use crate::source::SourceMap;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter};
use std::path::Path;
use termcolor::WriteColor;

/// What the summary says besides the counts.
struct Summary<'a> {
    pub site: &'a Path,
    pub gluon_version: &'a str,
    /// Why this release, when gluonvpn chose it, and whether the site fits
    /// it.
    pub gluon_version_reasons: Option<(&'a [String], bool)>,
    /// `None`: unknown.
    pub gluon_ok: Option<bool>,
    pub checked_packages: usize,
    pub domains: usize,
    /// Findings left out by `--min-severity`.
    pub hidden: usize,
    /// Each release's verdict in a check against several.
    pub releases: &'a [ReleaseRow],
}

/// Writes the run's diagnostics and its summary ([`render`]).
pub fn write(run: &Run<'_>, writer: &mut dyn WriteColor) -> std::io::Result<()> {
    render(
        writer,
        run.sources,
        run.site_dir,
        run.report,
        &Summary {
            site: run.site_dir,
            gluon_version: run.gluon_version.label(),
            gluon_version_reasons: run
                .gluon_version_inferred
                .then_some((run.gluon_version_reasons.as_slice(), run.gluon_version_fits)),
            gluon_ok: run.gluon_ok,
            checked_packages: run.checked_packages.len(),
            domains: run.domains.len(),
            hidden: run.hidden,
            releases: &run.releases,
        },
    )
}

/// Writes every diagnostic and the summary. `writer` decides about colour.
fn render(
    writer: &mut dyn WriteColor,
    sources: &SourceMap,
    site_dir: &Path,
    report: &Report,
    summary: &Summary<'_>,
) -> std::io::Result<()> {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources
        .iter()
        .map(|(_, f)| {
            files.add(
                super::shown(&site_dir.join(&f.name).display().to_string()),
                super::displayable_source(&f.text),
            )
        })
        .collect();
    let config = Config::default();
    let styles = Styles::default();
    for diagnostic in &report.diagnostics {
        let rendered = to_codespan(diagnostic, &ids, sources);
        let mut styled = StylesWriter::new(&mut *writer, &styles);
        // Keep I/O errors as they are: a closed pipe must stay one.
        term::emit_to_write_style(&mut styled, &config, &files, &rendered).map_err(
            |e| match e {
                codespan_reporting::files::Error::Io(e) => e,
                other => std::io::Error::other(other.to_string()),
            },
        )?;
    }
    write_summary(writer, report, summary)
}

/// How many further places of one problem the human format shows.
const SHOWN_PLACES: usize = 3;

fn to_codespan(d: &Diagnostic, ids: &[usize], sources: &SourceMap) -> CsDiagnostic<usize> {
    let file_name = d.span.map(|s| sources.get(s.file).name.as_str());
    let severity = match d.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Info => CsSeverity::Note,
    };
    let info = d.info;
    let mut out = CsDiagnostic::new(severity)
        .with_code(format!("{}/{}", info.code, info.name))
        .with_message(super::shown(&d.message));
    let mut notes = d.notes.clone();
    // The same problem elsewhere: a few places named, the rest counted.
    if !d.also_at.is_empty() {
        let named: Vec<String> = d
            .also_at
            .iter()
            .take(SHOWN_PLACES)
            .map(|span| {
                let source = sources.get(span.file);
                format!("{}:{}", source.name, source.line_col(span.start as usize).0)
            })
            .collect();
        let more = if d.also_at.len() > SHOWN_PLACES {
            ", …"
        } else {
            ""
        };
        notes.push(format!(
            "the same in {}: {}{more}",
            plural(d.also_at.len(), "more place"),
            named.join(", ")
        ));
    }
    if let Some(span) = d.span {
        // A line of a megabyte is not worth a megabyte of output.
        let source = sources.get(span.file);
        let (line, _) = source.line_col(span.start as usize);
        let long = source.line_text(line).len() > super::LINE_CAP;
        match ids.get(span.file.0 as usize) {
            Some(&file) if !long => {
                let label = Label::primary(file, span.start as usize..span.end as usize);
                let label = match &d.config_path {
                    Some(path) => label.with_message(super::shown(path)),
                    None => label,
                };
                out = out.with_labels(vec![label]);
            }
            _ => notes.insert(
                0,
                format!(
                    "at {}:{line}, a line of {} bytes (not shown)",
                    source.name,
                    source.line_text(line).len()
                ),
            ),
        }
    }
    if !d.packages.is_empty() {
        notes.push(format!("checked by {}", d.packages.join(", ")));
    }
    notes.extend(crate::diagnostics::domains_note(&d.domains));
    notes.extend(d.releases_note());
    // What Gluon prints, where it adds something: not when it is the same
    // message behind the name of the file already shown.
    if let Some(gluon) = &d.gluon_message {
        let redundant = gluon == &d.message
            || file_name.is_some_and(|f| *gluon == format!("{f} error: {}", d.message));
        if !redundant {
            notes.push(format!("Gluon says: {gluon}"));
        }
    }
    out.with_notes(notes.iter().map(|n| super::shown(n)).collect())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn write_summary(
    writer: &mut dyn WriteColor,
    report: &Report,
    summary: &Summary<'_>,
) -> std::io::Result<()> {
    let Counts {
        errors,
        warnings,
        infos,
    } = Counts::of(report);
    let verdict = match summary.gluon_ok {
        Some(true) => "a Gluon build would pass its site checks",
        Some(false) => "a Gluon build would fail",
        None => "whether a Gluon build would pass is unknown: gluonvpn did not read or evaluate everything Gluon would",
    };
    let domains = if summary.domains > 0 {
        format!(", {}", plural(summary.domains, "domain"))
    } else {
        String::new()
    };
    let mut color = termcolor::ColorSpec::new();
    color.set_bold(true);
    if errors > 0 {
        color.set_fg(Some(termcolor::Color::Red));
    } else {
        color.set_fg(Some(termcolor::Color::Green));
    }
    writer.set_color(&color)?;
    write!(
        writer,
        "{}: {}, {}, {}",
        summary.site.display(),
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(infos, "note")
    )?;
    writer.reset()?;
    let hidden = match summary.hidden {
        0 => String::new(),
        n => format!("; {} hidden by --min-severity", plural(n, "finding")),
    };
    if !summary.releases.is_empty() {
        writeln!(
            writer,
            " ({}; {} checked{domains}{hidden})",
            releases_verdict(summary.releases),
            plural(summary.checked_packages, "package")
        )?;
        return write_release_table(writer, summary.releases);
    }
    writeln!(
        writer,
        " (Gluon {}: {}; {} checked{domains}{hidden})",
        summary.gluon_version,
        verdict,
        plural(summary.checked_packages, "package")
    )?;
    // The release gluonvpn chose, and why.
    if let Some((reasons, fits)) = summary.gluon_version_reasons {
        let why = super::shown(&reasons.join("; "));
        let line = match (fits, reasons.is_empty()) {
            (true, true) => format!(
                "checked with Gluon {}: nothing in the site speaks against the newest supported release",
                summary.gluon_version
            ),
            (true, false) => format!(
                "checked with Gluon {}, the newest release the site fits: {why}",
                summary.gluon_version
            ),
            (false, _) => format!(
                "the site fits no supported Gluon release; checked with {}, the closest: {why}",
                summary.gluon_version
            ),
        };
        writeln!(writer, "{line}")?;
    }
    Ok(())
}

/// "4 Gluon releases: 1 passes, 3 fail".
fn releases_verdict(releases: &[ReleaseRow]) -> String {
    let count = |ok: Option<bool>| releases.iter().filter(|r| r.gluon_ok == ok).count();
    let mut parts = Vec::new();
    for (n, word) in [
        (count(Some(true)), "would pass"),
        (count(Some(false)), "would fail"),
        (count(None), "unknown"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    format!(
        "{}: {}",
        plural(releases.len(), "Gluon release"),
        parts.join(", ")
    )
}

/// Each release's verdict, and what the site must change for it.
fn write_release_table(
    writer: &mut dyn WriteColor,
    releases: &[ReleaseRow],
) -> std::io::Result<()> {
    for release in releases {
        let mut color = termcolor::ColorSpec::new();
        color.set_bold(true).set_fg(Some(match release.gluon_ok {
            Some(true) => termcolor::Color::Green,
            Some(false) => termcolor::Color::Red,
            None => termcolor::Color::Yellow,
        }));
        write!(writer, "  {:<8} ", release.gluon_version.label())?;
        writer.set_color(&color)?;
        write!(writer, "{:<7}", release.verdict())?;
        writer.reset()?;
        let fit = if release.fits || release.reasons.is_empty() {
            String::new()
        } else {
            format!(
                "; not written for it: {}",
                super::shown(&release.reasons.join("; "))
            )
        };
        writeln!(
            writer,
            " {}, {}{fit}",
            plural(release.summary.errors, "error"),
            plural(release.summary.warnings, "warning")
        )?;
        for need in &release.needs {
            writeln!(writer, "           needs: {}", super::shown(need))?;
        }
    }
    Ok(())
}
