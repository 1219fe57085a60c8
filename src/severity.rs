//! Changing severities: per run (`--deny`, `--warn`, `--allow`) and per site
//! (`gluonvpn.toml` in the site directory). The command line wins over the
//! file; a setting for a code wins over `warnings`.
//!
//! Only gluonvpn's own findings can be allowed or lowered: Gluon's checks and
//! build errors decide Gluon's verdict and stay as they are. Any warning can
//! be raised to an error.

use crate::catalog;
use crate::diagnostics::Origin;
use crate::diagnostics::{Diagnostic, Report, Severity};
use crate::site::codes;
use crate::source::{FileId, SourceFile, Span};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The file a site may hold.
pub const FILE_NAME: &str = "gluonvpn.toml";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

/// Severity settings, per code, and for all warnings at once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeverityConfig {
    codes: BTreeMap<&'static str, Level>,
    deny_warnings: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("unknown code '{0}' (`gluonvpn explain` lists none such; the book's reference lists them all)")]
    UnknownCode(String),
    #[error("{0} is reported by Gluon itself and cannot be allowed or lowered; only gluonvpn's own findings can")]
    GluonCode(&'static str),
    #[error("'warnings' can only be denied")]
    WarningsGroup,
}

impl SeverityConfig {
    /// Adds a setting; `warnings` names every warning (deny only).
    pub fn set(&mut self, code: &str, level: Level) -> Result<(), ConfigError> {
        if code.eq_ignore_ascii_case("warnings") {
            return match level {
                Level::Deny => {
                    self.deny_warnings = true;
                    Ok(())
                }
                _ => Err(ConfigError::WarningsGroup),
            };
        }
        let info =
            catalog::lookup(code).ok_or_else(|| ConfigError::UnknownCode(code.to_string()))?;
        if info.origin != Origin::Gluonvpn && level != Level::Deny {
            return Err(ConfigError::GluonCode(info.code));
        }
        self.codes.insert(info.code, level);
        Ok(())
    }

    /// From the command line's `--allow`, `--warn` and `--deny` lists.
    pub fn from_args(
        allow: &[String],
        warn: &[String],
        deny: &[String],
    ) -> Result<SeverityConfig, ConfigError> {
        let mut config = SeverityConfig::default();
        for (codes, level) in [
            (allow, Level::Allow),
            (warn, Level::Warn),
            (deny, Level::Deny),
        ] {
            for code in codes {
                config.set(code, level)?;
            }
        }
        Ok(config)
    }

    /// This configuration, with `over`'s settings taking precedence.
    pub fn overridden_by(mut self, over: &SeverityConfig) -> SeverityConfig {
        self.codes.extend(over.codes.iter().map(|(k, v)| (*k, *v)));
        self.deny_warnings |= over.deny_warnings;
        self
    }

    /// Applies the settings: drops allowed findings and changes severities.
    pub fn apply(&self, report: &mut Report) {
        report
            .diagnostics
            .retain_mut(|d| match self.codes.get(d.code()) {
                Some(Level::Allow) => false,
                Some(Level::Warn) => {
                    d.severity = Severity::Warning;
                    true
                }
                Some(Level::Deny) => {
                    d.severity = Severity::Error;
                    true
                }
                None => {
                    if self.deny_warnings && d.severity == Severity::Warning {
                        d.severity = Severity::Error;
                    }
                    true
                }
            });
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    lints: LintsTable,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LintsTable {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    warn: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

/// Reads a site's gluonvpn.toml; a broken file is a diagnostic at the place
/// that is wrong (and its settings are ignored).
pub fn from_site_file(
    file: FileId,
    source: &SourceFile,
) -> Result<SeverityConfig, Box<Diagnostic>> {
    let problem = |message: String, range: Option<std::ops::Range<usize>>| {
        let span = range.map_or(Span::file_start(file), |r| Span::new(file, r.start, r.end));
        Box::new(Diagnostic::new(codes::INVALID_CONFIG, message, Some(span)))
    };
    let parsed: FileConfig =
        toml::from_str(&source.text).map_err(|e| problem(e.message().to_string(), e.span()))?;
    let lints = parsed.lints;
    SeverityConfig::from_args(&lints.allow, &lints.warn, &lints.deny).map_err(|e| {
        let range = [&lints.allow, &lints.warn, &lints.deny]
            .iter()
            .flat_map(|list| list.iter())
            .find(|code| {
                SeverityConfig::default().set(code, Level::Deny).is_err()
                    || catalog::lookup(code).is_some_and(|i| i.origin != Origin::Gluonvpn)
            })
            .and_then(|code| {
                source
                    .text
                    .find(&format!("\"{code}\""))
                    .map(|at| at..at + code.len() + 2)
            });
        problem(format!("{FILE_NAME}: {e}"), range)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(info: &'static crate::diagnostics::CodeInfo, severity: Severity) -> Diagnostic {
        let mut d = Diagnostic::new(info, "x", None);
        d.severity = severity;
        d
    }

    #[test]
    fn allow_warn_deny_and_warnings() {
        let lint = &crate::lints::all().next().expect("a lint").info;
        let mut report = Report::default();
        report.diagnostics.push(finding(lint, Severity::Warning));
        report
            .diagnostics
            .push(finding(codes::RELEASE_NOT_SET, Severity::Warning));
        let config = SeverityConfig::from_args(&[], &[], &["warnings".into()]).expect("valid");
        let mut denied = Report {
            diagnostics: report.diagnostics.clone(),
            notes: vec![],
        };
        config.apply(&mut denied);
        assert!(denied
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Error));

        let config = SeverityConfig::from_args(&[lint.code.into()], &[], &["warnings".into()])
            .expect("valid");
        let mut allowed = Report {
            diagnostics: report.diagnostics.clone(),
            notes: vec![],
        };
        config.apply(&mut allowed);
        assert_eq!(allowed.diagnostics.len(), 1);
        assert_eq!(allowed.diagnostics[0].code(), "GS016");
    }

    #[test]
    fn gluons_own_findings_cannot_be_allowed() {
        assert_eq!(
            SeverityConfig::from_args(&["GL001".into()], &[], &[]),
            Err(ConfigError::GluonCode("GL001"))
        );
        assert!(SeverityConfig::from_args(&[], &[], &["GS016".into()]).is_ok());
        assert!(matches!(
            SeverityConfig::from_args(&["GV999".into()], &[], &[]),
            Err(ConfigError::UnknownCode(_))
        ));
        assert_eq!(
            SeverityConfig::from_args(&["warnings".into()], &[], &[]),
            Err(ConfigError::WarningsGroup)
        );
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let lint = &crate::lints::all().next().expect("a lint").info;
        let file = SeverityConfig::from_args(&[lint.code.into()], &[], &[]).expect("valid");
        let cli = SeverityConfig::from_args(&[], &[], &[lint.code.into()]).expect("valid");
        let mut report = Report::default();
        report.diagnostics.push(finding(lint, Severity::Warning));
        file.overridden_by(&cli).apply(&mut report);
        assert_eq!(report.diagnostics[0].severity, Severity::Error);
    }

    #[test]
    fn broken_files_point_at_the_problem() {
        let text = "[lints]\nallow = [\"GL001\"]\n";
        let source = SourceFile::new(FILE_NAME.into(), FILE_NAME.into(), text.into());
        let err = from_site_file(FileId(0), &source).expect_err("GL001 cannot be allowed");
        assert_eq!(err.span.map(|s| s.start), Some(17));
        let source = SourceFile::new(FILE_NAME.into(), FILE_NAME.into(), "[lint]\n".into());
        let err = from_site_file(FileId(0), &source).expect_err("unknown table");
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }
}
