//! One diagnostic model for everything gluonvpn reports, and its renderers.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use crate::registry::{self, Code};
use crate::site::source::{SourceMap, Span};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A problem found in a site, with where it is and what Gluon would say.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// What is wrong, in Gluon's wording for Gluon's checks.
    pub message: String,
    /// Where; `None` for problems that belong to no file.
    pub span: Option<Span>,
    /// The configuration path the problem is about (`mesh_vpn.fastd.mtu`).
    pub config_path: Option<String>,
    /// The domains whose configuration shows the problem (multidomain sites).
    pub domains: Vec<String>,
    /// The Gluon packages whose checks report it (several packages may check
    /// the same key).
    pub packages: Vec<String>,
    /// The complete line Gluon itself prints, where Gluon reports it.
    pub gluon_message: Option<String>,
    /// Further explanation shown under the diagnostic.
    pub notes: Vec<String>,
    /// What an online probe measured (`check --online`), for the JSON output.
    pub probe: Option<serde_json::Value>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            severity: registry::info(code).severity,
            code,
            message: message.into(),
            span,
            config_path: None,
            domains: Vec::new(),
            packages: Vec::new(),
            gluon_message: None,
            notes: Vec::new(),
            probe: None,
        }
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.config_path = Some(path.into());
        self
    }

    pub fn with_package(mut self, package: impl Into<String>) -> Self {
        self.packages.push(package.into());
        self
    }

    pub fn with_gluon_message(mut self, message: impl Into<String>) -> Self {
        self.gluon_message = Some(message.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_probe(mut self, probe: serde_json::Value) -> Self {
        self.probe = Some(probe);
        self
    }

    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domains.push(domain.into());
        self
    }

    /// The message with the notes and the domains it was found in, one per
    /// line: the whole text for renderers that show a single message (SARIF,
    /// GitHub annotations).
    pub fn text_with_notes(&self) -> String {
        let mut text = self.message.clone();
        for note in self
            .notes
            .iter()
            .cloned()
            .chain(domains_note(&self.domains))
        {
            text.push('\n');
            text.push_str(&note);
        }
        text
    }

    /// Two diagnostics that say the same about the same place, whatever the
    /// domain, image or package they were found for.
    fn same_finding(&self, other: &Diagnostic) -> bool {
        self.code == other.code
            && self.message == other.message
            && self.span == other.span
            && self.config_path == other.config_path
    }
}

/// Which domains a diagnostic was found in, as a note ("in domains a, b");
/// long lists are cut after three names.
pub fn domains_note(domains: &[String]) -> Option<String> {
    match domains.len() {
        0 => None,
        1 => Some(format!("in domain {}", domains[0])),
        n if n <= 5 => Some(format!("in domains {}", domains.join(", "))),
        n => Some(format!("in {n} domains: {}, …", domains[..3].join(", "))),
    }
}

/// Everything found in one site, deduplicated and in reading order.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    /// Facts worth telling that are not problems (e.g. packages whose checks
    /// could not run).
    pub notes: Vec<String>,
}

impl Report {
    /// Adds a diagnostic, merging it into an equal one found for another
    /// domain or image.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if let Some(existing) = self
            .diagnostics
            .iter_mut()
            .find(|d| d.same_finding(&diagnostic))
        {
            for domain in diagnostic.domains {
                if !existing.domains.contains(&domain) {
                    existing.domains.push(domain);
                }
            }
            for package in diagnostic.packages {
                if !existing.packages.contains(&package) {
                    existing.packages.push(package);
                }
            }
            if existing.gluon_message.is_none() {
                existing.gluon_message = diagnostic.gluon_message;
            }
            return;
        }
        self.diagnostics.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        for d in diagnostics {
            self.push(d);
        }
    }

    /// Sorts by file, then position, then code; diagnostics without a place
    /// come last.
    pub fn sort(&mut self, sources: &SourceMap) {
        let _ = sources;
        self.diagnostics.sort_by(|a, b| {
            let key = |d: &Diagnostic| (d.span.is_none(), d.span.map(|s| (s.file, s.start, s.end)));
            key(a)
                .cmp(&key(b))
                .then_with(|| a.code.cmp(b.code))
                .then_with(|| a.message.cmp(&b.message))
        });
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}
