//! GitHub Actions output: one workflow command per diagnostic, which the
//! runner turns into an annotation on the file and line
//! (book/src/ci.md).
//!
//! ```text
//! ::error file=site/site.conf,line=5,col=17,endLine=5,endColumn=26,title=GL002 pattern-mismatch::expected …
//! ```
//!
//! The escaping follows GitHub's toolkit (`escapeData` and `escapeProperty`
//! in `@actions/core`'s command.ts) and the runner that reads the commands
//! back (`ActionCommand.cs`): in the message `%`, CR and LF are
//! percent-encoded, in property values also `:` and `,`.

use super::Run;
use crate::diagnostics::{Diagnostic, Report, Severity};
use crate::source::SourceMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use termcolor::WriteColor;

/// Writes the run's workflow commands ([`render`]).
pub fn write(run: &Run<'_>, mut out: &mut dyn WriteColor) -> std::io::Result<()> {
    // `&mut out` is a `dyn Write` without trait upcasting (Rust 1.86).
    render(&mut out, run.sources, &run.site_path, run.report)
}

/// Writes one line per diagnostic and nothing else: no summary, so that a
/// clean site adds no annotation to a run.
///
/// `site_path` is the site directory as the workflow sees it, relative to
/// the repository root (see [`site_path`]); file names are joined to it.
fn render(
    out: &mut dyn Write,
    sources: &SourceMap,
    site_path: &str,
    report: &Report,
) -> std::io::Result<()> {
    for diagnostic in &report.diagnostics {
        writeln!(out, "{}", command(diagnostic, sources, site_path))?;
    }
    Ok(())
}

/// The workflow command for one diagnostic, without the line end.
pub fn command(d: &Diagnostic, sources: &SourceMap, site_path: &str) -> String {
    let name = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut properties: Vec<(&str, String)> = Vec::new();
    if let Some(span) = d.span {
        let source = sources.get(span.file);
        let (line, col) = source.line_col(span.start as usize);
        let (end_line, end_col) = source.line_col(span.end as usize);
        properties.push(("file", super::shown(&join(site_path, &source.name))));
        properties.push(("line", line.to_string()));
        // The runner drops both columns when the lines differ, so a span
        // over several lines is given by its lines alone.
        if line == end_line {
            properties.push(("col", col.to_string()));
            properties.push(("endLine", end_line.to_string()));
            properties.push(("endColumn", end_col.to_string()));
        } else {
            properties.push(("endLine", end_line.to_string()));
        }
    }
    let info = d.info;
    // Annotations from several releases say which in the title, as a
    // pull request shows it.
    let releases = match d.gluon_versions.as_slice() {
        [] => String::new(),
        versions => {
            let labels: Vec<&str> = versions.iter().map(|v| v.label()).collect();
            format!(" (Gluon {})", labels.join(", "))
        }
    };
    properties.push(("title", format!("{} {}{releases}", info.code, info.name)));
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    // One annotation per problem: the further places are named in it.
    let mut text = d.text_with_notes();
    if !d.also_at.is_empty() {
        let places: Vec<String> = d
            .also_at
            .iter()
            .map(|span| {
                let source = sources.get(span.file);
                let (line, _) = source.line_col(span.start as usize);
                format!("{}:{line}", join(site_path, &source.name))
            })
            .collect();
        text.push_str(&format!("\nalso at {}", places.join(", ")));
    }
    format!(
        "::{name} {}::{}",
        properties.join(","),
        escape_data(&super::shown(&text))
    )
}

/// The site directory as a path relative to the repository root, which is
/// where a workflow's steps run: the path as given on the command line,
/// without `./`; an absolute path under the current directory is made
/// relative to it. Empty for the current directory itself.
pub fn site_path(dir: &Path) -> String {
    let relative: PathBuf = if dir.is_absolute() {
        match std::env::current_dir() {
            Ok(cwd) => dir
                .strip_prefix(&cwd)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| dir.to_path_buf()),
            Err(_) => dir.to_path_buf(),
        }
    } else {
        dir.to_path_buf()
    };
    let mut parts: Vec<String> = Vec::new();
    for component in relative.components() {
        match component {
            Component::CurDir => {}
            Component::RootDir => parts.push(String::new()),
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    if parts.len() == 1 && parts[0].is_empty() {
        return "/".to_owned();
    }
    parts.join("/")
}

/// A site file's path relative to the working directory.
pub fn join(site_path: &str, name: &str) -> String {
    if site_path.is_empty() {
        name.to_owned()
    } else if site_path.ends_with('/') {
        format!("{site_path}{name}")
    } else {
        format!("{site_path}/{name}")
    }
}

/// Escapes a command's message (`escapeData` in GitHub's toolkit).
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value (`escapeProperty` in GitHub's toolkit).
pub fn escape_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::codes;
    use crate::source::Span;

    /// What GitHub's runner does with an escaped value (`UnescapeData` and
    /// `UnescapeProperty` in ActionCommand.cs: `%25` last).
    fn unescape(s: &str, property: bool) -> String {
        let mut s = s.replace("%0D", "\r").replace("%0A", "\n");
        if property {
            s = s.replace("%3A", ":").replace("%2C", ",");
        }
        s.replace("%25", "%")
    }

    #[test]
    fn data_escapes_percent_and_line_ends() {
        assert_eq!(escape_data("plain text"), "plain text");
        assert_eq!(escape_data("100%"), "100%25");
        assert_eq!(escape_data("a\nb"), "a%0Ab");
        assert_eq!(escape_data("a\r\nb"), "a%0D%0Ab");
        // already escaped-looking text stays what it says
        assert_eq!(escape_data("%0A"), "%250A");
        // `:` and `,` are fine in the message
        assert_eq!(escape_data("a::b, c"), "a::b, c");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(
            escape_property("GL001 wrong-type"),
            "GL001 wrong-type",
            "spaces stay"
        );
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(escape_property("x::y"), "x%3A%3Ay");
        assert_eq!(escape_property("50%,\n"), "50%25%2C%0A");
        assert_eq!(
            escape_property("dir, with: odd/site.conf"),
            "dir%2C with%3A odd/site.conf"
        );
    }

    #[test]
    fn escaping_round_trips_through_the_runners_unescaping() {
        for s in [
            "",
            "%",
            "%25",
            "a%3Ab",
            ":,\r\n%",
            "line 1\nline 2: 50%, done",
            "ä ✓",
        ] {
            assert_eq!(unescape(&escape_data(s), false), s);
            assert_eq!(unescape(&escape_property(s), true), s);
            let p = escape_property(s);
            assert!(!p.contains([':', ',', '\n', '\r']), "{p}");
            assert!(!escape_data(s).contains(['\n', '\r']));
        }
    }

    fn sources() -> (SourceMap, Span) {
        let mut sources = SourceMap::default();
        let file = sources.add(
            "site.conf".into(),
            "site.conf".into(),
            "{\n  mesh = { vxlan = 'yes' },\n  x = {\n  },\n}\n".into(),
        );
        (sources, Span::new(file, 21, 26))
    }

    #[test]
    fn a_command_names_file_position_and_title() {
        let (sources, span) = sources();
        let d = Diagnostic::new(
            crate::rules::codes::WRONG_TYPE,
            "expected a boolean, but it is \"yes\"",
            Some(span),
        );
        assert_eq!(
            command(&d, &sources, "site"),
            "::error file=site/site.conf,line=2,col=20,endLine=2,endColumn=25,title=GL001 wrong-type::expected a boolean, but it is \"yes\""
        );
        assert_eq!(
            command(&d, &sources, ""),
            "::error file=site.conf,line=2,col=20,endLine=2,endColumn=25,title=GL001 wrong-type::expected a boolean, but it is \"yes\""
        );
    }

    #[test]
    fn notes_become_further_lines_and_odd_paths_are_escaped() {
        let (sources, span) = sources();
        let mut d = Diagnostic::new(crate::rules::codes::WRONG_TYPE, "50% wrong", Some(span))
            .with_note("first note")
            .with_domain("a")
            .with_domain("b");
        d.severity = Severity::Warning;
        assert_eq!(
            command(&d, &sources, "sites/x,y:z"),
            "::warning file=sites/x%2Cy%3Az/site.conf,line=2,col=20,endLine=2,endColumn=25,title=GL001 wrong-type::50%25 wrong%0Afirst note%0Ain domains a, b"
        );
    }

    #[test]
    fn multi_line_spans_have_lines_only_and_placeless_ones_no_file() {
        let (sources, span) = sources();
        let multi = Span::new(span.file, 31, 40);
        let d = Diagnostic::new(crate::rules::codes::WRONG_TYPE, "m", Some(multi));
        assert_eq!(
            command(&d, &sources, "site"),
            "::error file=site/site.conf,line=3,endLine=4,title=GL001 wrong-type::m"
        );
        let mut d = Diagnostic::new(codes::MISSING_IMAGE_CUSTOMIZATION, "missing", None);
        d.severity = Severity::Info;
        assert_eq!(
            command(&d, &sources, "site"),
            "::notice title=GS012 missing-image-customization::missing"
        );
    }

    #[test]
    fn the_site_path_is_relative_and_clean() {
        assert_eq!(site_path(Path::new(".")), "");
        assert_eq!(site_path(Path::new("site")), "site");
        assert_eq!(site_path(Path::new("./site/")), "site");
        assert_eq!(site_path(Path::new("sites/./a")), "sites/a");
        assert_eq!(site_path(Path::new("../site")), "../site");
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(site_path(&cwd.join("x/site")), "x/site");
        assert_eq!(site_path(&cwd), "");
        assert_eq!(site_path(Path::new("/")), "/");
        assert_eq!(join("/", "site.conf"), "/site.conf");
    }
}
