//! Human output: rustc-style diagnostics with the source line and a caret,
//! in file order, then a summary.

use super::{Counts, Run};
use crate::diagnostics::{Diagnostic, Report, Severity};
use crate::source::SourceMap;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter};
use std::path::Path;
use termcolor::WriteColor;

/// What the summary says besides the counts.
pub struct Summary<'a> {
    pub site: &'a Path,
    pub gluon_version: &'a str,
    pub gluon_ok: bool,
    pub checked_packages: usize,
    pub domains: usize,
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
            gluon_ok: run.gluon_ok,
            checked_packages: run.checked_packages.len(),
            domains: run.domains.len(),
        },
    )
}

/// Writes every diagnostic and the summary. `writer` decides about colour.
pub fn render(
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
                site_dir.join(&f.name).display().to_string(),
                f.text.as_str(),
            )
        })
        .collect();
    let config = Config::default();
    let styles = Styles::default();
    for diagnostic in &report.diagnostics {
        let rendered = to_codespan(diagnostic, &ids, sources);
        let mut styled = StylesWriter::new(&mut *writer, &styles);
        term::emit_to_write_style(&mut styled, &config, &files, &rendered)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    write_summary(writer, report, summary)
}

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
        .with_message(&d.message);
    if let Some(span) = d.span {
        if let Some(&file) = ids.get(span.file.0 as usize) {
            let label = Label::primary(file, span.start as usize..span.end as usize);
            let label = match &d.config_path {
                Some(path) => label.with_message(path.clone()),
                None => label,
            };
            out = out.with_labels(vec![label]);
        }
    }
    let mut notes = d.notes.clone();
    if !d.packages.is_empty() {
        notes.push(format!("checked by {}", d.packages.join(", ")));
    }
    notes.extend(crate::diagnostics::domains_note(&d.domains));
    // What Gluon prints, where it adds something: not when it is the same
    // message behind the name of the file already shown.
    if let Some(gluon) = &d.gluon_message {
        let redundant = gluon == &d.message
            || file_name.is_some_and(|f| *gluon == format!("{f} error: {}", d.message));
        if !redundant {
            notes.push(format!("Gluon says: {gluon}"));
        }
    }
    out.with_notes(notes)
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
    let verdict = if summary.gluon_ok {
        "a Gluon build would pass its site checks"
    } else {
        "a Gluon build would fail"
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
    writeln!(
        writer,
        " (Gluon {}: {}; {} checked{domains})",
        summary.gluon_version,
        verdict,
        plural(summary.checked_packages, "package")
    )
}
