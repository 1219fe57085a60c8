//! The diagnostic model: what every stage reports (loading, Gluon's rules,
//! the lints, the online probes), with the static facts of its code carried
//! by the diagnostic itself. A leaf: it knows nothing of who reports what;
//! the catalogue of all codes ([`crate::catalog`]) and the output formats
//! ([`crate::output`]) sit above the stages that report.

use crate::gluon_version::GluonVersion;
use crate::source::{SourceMap, Span};
use serde::Serialize;

/// A diagnostic code (`GS001`, `GL002`, `GV150`, …).
pub type Code = &'static str;

/// Where the rule behind a code comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A package's check_site.lua: Gluon reports this at image assembly.
    GluonCheck,
    /// Gluon's build scripts (Makefile, site_config.lua, target config):
    /// Gluon reports this before compiling.
    GluonBuild,
    /// gluonvpn's own finding; Gluon does not report it.
    Gluonvpn,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::GluonCheck => "Gluon's package checks (check_site.lua)",
            Origin::GluonBuild => "Gluon's build scripts",
            Origin::Gluonvpn => "gluonvpn",
        }
    }
}

/// The static facts of a code. A code never changes meaning once released.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    /// A kebab-case name that says what is wrong.
    pub name: &'static str,
    pub severity: Severity,
    pub origin: Origin,
    /// One line.
    pub summary: &'static str,
    /// Markdown: why it matters and how to fix it.
    pub explanation: &'static str,
}

/// Codes are equal when their codes are: each is declared once.
impl PartialEq for CodeInfo {
    fn eq(&self, other: &CodeInfo) -> bool {
        self.code == other.code
    }
}

impl Eq for CodeInfo {}

/// Declares codes as named statics (`pub static NAME: &CodeInfo`), so that a
/// diagnostic names its code by a Rust name and a typo is a compile error,
/// and lists them in `pub static CODES`.
macro_rules! declare_codes {
    ($($(#[$meta:meta])* $ident:ident = $code:literal $name:literal $severity:ident $origin:ident $summary:literal $explanation:literal)*) => {
        $(
            $(#[$meta])*
            pub static $ident: &$crate::diagnostics::CodeInfo = &$crate::diagnostics::CodeInfo {
                code: $code,
                name: $name,
                severity: $crate::diagnostics::Severity::$severity,
                origin: $crate::diagnostics::Origin::$origin,
                summary: $summary,
                explanation: $explanation,
            };
        )*
        /// Every code declared here, in order.
        pub static CODES: &[&$crate::diagnostics::CodeInfo] = &[$($ident),*];
    };
}
pub(crate) use declare_codes;

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
    /// The code and its static facts.
    pub info: &'static CodeInfo,
    /// The code's severity, unless the finding or the severity settings
    /// changed it.
    pub severity: Severity,
    /// What is wrong, in Gluon's wording for Gluon's checks.
    pub message: String,
    /// Where; `None` for problems that belong to no file.
    pub span: Option<Span>,
    /// Further places that show the same problem (the same mistake in
    /// several domain files), in reading order.
    pub also_at: Vec<Span>,
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
    /// In a check against several releases (`--gluon-version all`): the
    /// releases whose check found it, oldest first; empty in a check
    /// against one.
    pub gluon_versions: Vec<GluonVersion>,
    /// Whether [`Diagnostic::gluon_versions`] are fewer than the releases
    /// checked (then the text says which).
    pub some_releases: bool,
}

impl Diagnostic {
    pub fn new(
        info: &'static CodeInfo,
        message: impl Into<String>,
        span: Option<Span>,
    ) -> Diagnostic {
        Diagnostic {
            severity: info.severity,
            info,
            message: message.into(),
            span,
            also_at: Vec::new(),
            config_path: None,
            domains: Vec::new(),
            packages: Vec::new(),
            gluon_message: None,
            notes: Vec::new(),
            probe: None,
            gluon_versions: Vec::new(),
            some_releases: false,
        }
    }

    pub fn code(&self) -> Code {
        self.info.code
    }

    /// Whether Gluon itself reports this (its checks or build scripts).
    pub fn from_gluon(&self) -> bool {
        self.info.origin != Origin::Gluonvpn
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
            .chain(self.releases_note())
        {
            text.push('\n');
            text.push_str(&note);
        }
        text
    }

    /// Two diagnostics that say the same about the same key, at the same
    /// place or in another file (the same mistake in several domain files),
    /// whatever the domain, image or package they were found for: one
    /// problem, reported once with every place. The same message at two
    /// places of one file is two findings.
    fn same_finding(&self, other: &Diagnostic) -> bool {
        self.info.code == other.info.code
            && self.message == other.message
            && self.config_path == other.config_path
            && match (self.span, other.span) {
                (None, None) => true,
                (Some(_), Some(place)) => {
                    self.places().any(|s| s == place) || self.places().all(|s| s.file != place.file)
                }
                _ => false,
            }
    }

    /// The releases it was found with, where that is not every release
    /// checked ("only with Gluon v2022.1, v2023.1").
    pub fn releases_note(&self) -> Option<String> {
        if !self.some_releases {
            return None;
        }
        let labels: Vec<&str> = self.gluon_versions.iter().map(|v| v.label()).collect();
        Some(format!("only with Gluon {}", labels.join(", ")))
    }

    /// Every place of the finding: its span, then [`Diagnostic::also_at`].
    pub fn places(&self) -> impl Iterator<Item = Span> + '_ {
        self.span
            .iter()
            .copied()
            .chain(self.also_at.iter().copied())
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
            // The first place in reading order leads; the others follow.
            let mut places: Vec<Span> = existing.places().chain(diagnostic.places()).collect();
            places.sort_by_key(|s| (s.file, s.start, s.end));
            places.dedup();
            let mut places = places.into_iter();
            existing.span = places.next();
            existing.also_at = places.collect();
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
                .then_with(|| a.info.code.cmp(b.info.code))
                .then_with(|| a.message.cmp(&b.message))
        });
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// Drops the findings less severe than `least`; returns how many.
    pub fn retain_at_least(&mut self, least: Severity) -> usize {
        let before = self.diagnostics.len();
        // Error < Warning < Info: "at least" is "not after".
        self.diagnostics.retain(|d| d.severity <= least);
        before - self.diagnostics.len()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}
