//! gluonvpn's own lints: the mesh-VPN mistakes Gluon's checks do not catch
//! because its documentation only describes them in prose.
//!
//! Each lint has a stable code (`GV…`), a default severity, a one-line
//! summary, the rationale and an example; the book's lint pages are generated
//! from these entries. A lint family lives in its own file and lists its
//! lints in `LINTS`; [`FAMILIES`] is the one list of all of them.

pub mod configurable;
pub mod fastd_methods;
pub mod fastd_peers;
pub mod l2tp;
pub mod mtu;
pub mod providers;
pub mod tunneldigger;
pub mod wireguard;

use crate::diagnostics::{CodeInfo, Diagnostic, Severity};

pub use crate::site::views::{DomainView, SiteView as LintContext};

/// One lint: its code's facts, documentation and check. Each is a named
/// static in its family's file, referenced by that name.
pub struct Lint {
    pub info: CodeInfo,
    /// A short example of the problem (site.conf or image-customization.lua).
    pub example: &'static str,
    /// Corpus sites (../shared/corpus) that show it, for the book; a test
    /// keeps the list true.
    pub seen_in: &'static [&'static str],
    /// The severities a finding may have besides the default, each with
    /// when: the book's pages list them, and every finding's severity is one
    /// of these or the default (checked whenever the lints run in a debug
    /// build).
    pub other_severities: &'static [(Severity, &'static str)],
    pub check: fn(&LintContext<'_>, &mut Vec<Diagnostic>),
}

impl Lint {
    /// Whether the lint declares this severity.
    pub fn declares(&self, severity: Severity) -> bool {
        severity == self.info.severity || self.other_severities.iter().any(|(s, _)| *s == severity)
    }
}

/// Every lint family's lints.
pub static FAMILIES: &[&[&Lint]] = &[
    fastd_methods::LINTS,
    l2tp::LINTS,
    configurable::LINTS,
    wireguard::LINTS,
    fastd_peers::LINTS,
    tunneldigger::LINTS,
    providers::LINTS,
    mtu::LINTS,
];

/// All lints, in code order.
pub fn all() -> impl Iterator<Item = &'static Lint> {
    FAMILIES.iter().flat_map(|family| family.iter().copied())
}

/// The lint with this code (any case) or name.
pub fn find(code: &str) -> Option<&'static Lint> {
    all().find(|l| l.info.code.eq_ignore_ascii_case(code) || l.info.name == code)
}

/// Runs every lint.
pub fn run(context: &LintContext<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for lint in all() {
        let start = out.len();
        (lint.check)(context, &mut out);
        for d in &out[start..] {
            debug_assert!(
                lint.declares(d.severity),
                "{} emitted a {} finding it does not declare: {}",
                lint.info.code,
                d.severity.as_str(),
                d.message
            );
        }
    }
    out
}

#[cfg(test)]
pub mod testing;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn lint_codes_are_unique_and_documented() {
        let mut seen = HashSet::new();
        for lint in all() {
            let info = &lint.info;
            assert!(
                info.code.starts_with("GV") && info.code.len() == 5,
                "{}",
                info.code
            );
            assert!(seen.insert(info.code), "duplicate {}", info.code);
            assert!(seen.insert(info.name), "duplicate {}", info.name);
            assert_eq!(info.origin, crate::diagnostics::Origin::Gluonvpn);
            assert!(info.summary.ends_with('.'), "{}", info.code);
            assert!(
                !info.explanation.is_empty() && !lint.example.is_empty(),
                "{}",
                info.code
            );
        }
    }
}
