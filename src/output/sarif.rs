//! SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format), for
//! code-scanning uploads (book/src/ci.md).
//!
//! One run: the tool with a rule for every code in the catalogue, and a
//! result for every diagnostic. Locations are relative to the directory
//! gluonvpn ran in (`uriBaseId` `%SRCROOT%`, resolved in `originalUriBaseIds`),
//! which in CI is the repository root, as code scanning expects; columns count
//! Unicode code points, as everywhere in gluonvpn, and the run says so
//! (`columnKind`). The types below cover the part of SARIF gluonvpn writes;
//! tests/sarif.rs validates the output against the official JSON schema.

use crate::catalog;
use crate::diagnostics::{CodeInfo, Origin};
use crate::diagnostics::{Diagnostic, Severity};
use crate::source::SourceMap;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use termcolor::WriteColor;

pub const VERSION: &str = "2.1.0";
/// The schema's own id (the OASIS standard with its errata).
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The base of every location: the directory gluonvpn ran in, which in CI is
/// the repository root (GitHub code scanning reads `uri`s relative to it).
pub const SRC_ROOT: &str = "%SRCROOT%";

#[derive(Serialize, Debug)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    pub invocations: Vec<Invocation>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    /// How region columns count: `unicodeCodePoints` (SARIF's default is
    /// UTF-16 code units).
    pub column_kind: &'static str,
    pub results: Vec<SarifResult>,
    pub properties: RunProperties,
}

#[derive(Serialize, Debug)]
pub struct Tool {
    pub driver: ToolComponent,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ToolComponent {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    pub rules: Vec<ReportingDescriptor>,
}

/// A rule: one diagnostic code.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: &'static str,
    pub name: &'static str,
    pub short_description: MultiformatMessageString,
    pub full_description: MultiformatMessageString,
    pub help: MultiformatMessageString,
    pub default_configuration: ReportingConfiguration,
    pub properties: RuleProperties,
}

#[derive(Serialize, Debug)]
pub struct MultiformatMessageString {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct ReportingConfiguration {
    pub level: Level,
}

#[derive(Serialize, Debug)]
pub struct RuleProperties {
    /// Where the rule comes from: `gluon-check`, `gluon-build` or `gluonvpn`.
    pub tags: Vec<&'static str>,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl From<Severity> for Level {
    fn from(severity: Severity) -> Level {
        match severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Note,
        }
    }
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub execution_successful: bool,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct RunProperties {
    pub gluon_version: String,
    /// Whether a Gluon build would get past every site check; null when
    /// unknown.
    pub gluon_ok: Option<bool>,
    pub checked_packages: Vec<String>,
    pub domains: Vec<String>,
    /// With `--gluon-version all` or a list: each release's verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<ReleaseProperties>,
}

/// One release's verdict in a check against several.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseProperties {
    pub gluon_version: &'static str,
    pub gluon_ok: Option<bool>,
    pub fits: bool,
    pub errors: usize,
    /// The errors the site must fix for this release, as `CODE message`.
    pub needs: Vec<String>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: &'static str,
    pub rule_index: usize,
    /// The diagnostic's own severity, which `--deny` and `--warn` may have
    /// made differ from the rule's default.
    pub level: Level,
    pub message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "ResultProperties::is_empty")]
    pub properties: ResultProperties,
}

#[derive(Serialize, Debug)]
pub struct Message {
    pub text: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

/// 1-based lines and columns; `endColumn` is the column after the last
/// character.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResultProperties {
    /// The configuration path (`mesh_vpn.fastd.mtu`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    /// What Gluon itself prints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gluon_message: Option<String>,
    /// The releases whose check found it (always the one release of a
    /// check against one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gluon_versions: Vec<&'static str>,
}

impl ResultProperties {
    fn is_empty(&self) -> bool {
        self.config_path.is_none()
            && self.domains.is_empty()
            && self.packages.is_empty()
            && self.gluon_message.is_none()
            && self.gluon_versions.is_empty()
    }
}

/// The SARIF log of one check.
pub fn log(run: &super::Run<'_>) -> Log {
    let codes: Vec<&'static CodeInfo> = catalog::all().collect();
    let index: HashMap<&str, usize> = codes.iter().enumerate().map(|(i, c)| (c.code, i)).collect();
    let rules = codes.iter().map(|c| rule(c)).collect();
    let results = run
        .report
        .diagnostics
        .iter()
        .map(|d| {
            let mut result = result(d, index[d.code()], run.sources, &run.site_path);
            if result.properties.gluon_versions.is_empty() {
                result.properties.gluon_versions = vec![run.gluon_version.label()];
            }
            result
        })
        .collect();
    let mut original_uri_base_ids = BTreeMap::new();
    if let Some(uri) = &run.root_uri {
        original_uri_base_ids.insert(
            SRC_ROOT,
            ArtifactLocation {
                uri: uri.clone(),
                uri_base_id: None,
            },
        );
    }
    Log {
        schema: SCHEMA,
        version: VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: "gluonvpn",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: true,
            }],
            original_uri_base_ids,
            column_kind: "unicodeCodePoints",
            results,
            properties: RunProperties {
                gluon_version: run.gluon_version.label().to_owned(),
                gluon_ok: run.gluon_ok,
                checked_packages: run.checked_packages.iter().cloned().collect(),
                domains: run.domains.iter().map(|d| (*d).to_owned()).collect(),
                releases: run
                    .releases
                    .iter()
                    .map(|r| ReleaseProperties {
                        gluon_version: r.gluon_version.label(),
                        gluon_ok: r.gluon_ok,
                        fits: r.fits,
                        errors: r.summary.errors,
                        needs: r.needs.clone(),
                    })
                    .collect(),
            },
        }],
    }
}

/// Writes the run's log, pretty-printed, and a line end.
pub fn write(run: &super::Run<'_>, out: &mut dyn WriteColor) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(run))?;
    writeln!(out)
}

fn rule(info: &CodeInfo) -> ReportingDescriptor {
    let explanation = || MultiformatMessageString {
        text: info.explanation.to_owned(),
        markdown: Some(info.explanation.to_owned()),
    };
    ReportingDescriptor {
        id: info.code,
        name: info.name,
        short_description: MultiformatMessageString {
            text: info.summary.to_owned(),
            markdown: None,
        },
        full_description: explanation(),
        help: explanation(),
        default_configuration: ReportingConfiguration {
            level: info.severity.into(),
        },
        properties: RuleProperties {
            tags: vec![match info.origin {
                Origin::GluonCheck => "gluon-check",
                Origin::GluonBuild => "gluon-build",
                Origin::Gluonvpn => "gluonvpn",
            }],
        },
    }
}

fn result(d: &Diagnostic, rule_index: usize, sources: &SourceMap, site_path: &str) -> SarifResult {
    // Several places: the same problem in each (SARIF: "the result occurred
    // at all of them").
    let locations = d
        .places()
        .map(|span| {
            let source = sources.get(span.file);
            let (start_line, start_column) = source.line_col(span.start as usize);
            let (end_line, end_column) = source.line_col(span.end as usize);
            Location {
                physical_location: PhysicalLocation {
                    artifact_location: artifact(&super::github::join(site_path, &source.name)),
                    region: Region {
                        start_line,
                        start_column,
                        end_line,
                        end_column,
                    },
                },
            }
        })
        .collect();
    SarifResult {
        rule_id: d.code(),
        rule_index,
        level: d.severity.into(),
        message: Message {
            text: super::elided(&d.text_with_notes()),
        },
        locations,
        properties: ResultProperties {
            config_path: d.config_path.clone(),
            domains: d.domains.clone(),
            packages: d.packages.clone(),
            gluon_message: d.gluon_message.as_deref().map(super::elided),
            gluon_versions: d.gluon_versions.iter().map(|v| v.label()).collect(),
        },
    }
}

/// A file's location: relative to [`SRC_ROOT`], or an absolute `file:` URI
/// for a site outside the working directory.
fn artifact(path: &str) -> ArtifactLocation {
    if path.starts_with('/') {
        ArtifactLocation {
            uri: format!("file://{}", encode_path(path)),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: encode_path(path),
            uri_base_id: Some(SRC_ROOT),
        }
    }
}

/// A directory as an absolute `file:` URI with a trailing slash, as
/// `originalUriBaseIds` needs it; `None` when the directory cannot be made
/// absolute.
pub fn directory_uri(dir: &Path) -> Option<String> {
    let absolute = std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .ok()?;
    let path = absolute.to_string_lossy().replace('\\', "/");
    let path = if path.starts_with('/') {
        path
    } else {
        // A Windows path: file:///C:/…
        format!("/{path}")
    };
    let mut uri = format!("file://{}", encode_path(&path));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

/// Percent-encodes a `/`-separated path for a URI: everything but unreserved
/// characters, sub-delimiters, `@` and `/` is encoded (per UTF-8 byte), so
/// spaces, `%`, `#`, `?` and non-ASCII names stay valid, and `:` is encoded
/// so that a relative reference never reads as a scheme.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@'
            | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(encode_path("domains/a.conf"), "domains/a.conf");
        assert_eq!(
            encode_path("my site/ä#1?.conf"),
            "my%20site/%C3%A4%231%3F.conf"
        );
        assert_eq!(encode_path("a:b.conf"), "a%3Ab.conf");
        assert_eq!(encode_path("100%"), "100%25");
    }

    #[test]
    fn directory_uris_are_absolute_with_a_trailing_slash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = dir.path().join("my site");
        std::fs::create_dir(&site).expect("mkdir");
        let uri = directory_uri(&site).expect("absolute");
        assert!(uri.starts_with("file:///"), "{uri}");
        assert!(uri.ends_with("/my%20site/"), "{uri}");
    }

    #[test]
    fn levels_follow_severities() {
        assert_eq!(Level::from(Severity::Error), Level::Error);
        assert_eq!(Level::from(Severity::Warning), Level::Warning);
        assert_eq!(Level::from(Severity::Info), Level::Note);
        assert_eq!(
            serde_json::to_value(Level::Note).expect("json"),
            serde_json::json!("note")
        );
    }
}
