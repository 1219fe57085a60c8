//! gluonvpn's own lints: the mesh-VPN mistakes Gluon's checks do not catch
//! because its documentation only describes them in prose.
//!
//! Each lint has a stable code (`GV…`), a default severity, a one-line
//! summary, the rationale and an example; the book's lint pages are generated
//! from these entries. A lint family lives in its own file and lists its
//! lints in `LINTS`; [`FAMILIES`] is the one list of all of them.

pub mod config;
pub mod configurable;
pub mod fastd_methods;
pub mod fastd_peers;
pub mod l2tp;
pub mod mtu;
pub mod providers;
pub mod tunneldigger;
pub mod wireguard;

use crate::diagnostics::{Diagnostic, Severity};
use crate::gluon_version::GluonVersion;
use crate::registry::{Code, CodeInfo};
use crate::site::load::Site;
use crate::site::locate;
use crate::site::source::Span;
use crate::site::value::{Key, Node};
use crate::site::views;
use std::collections::BTreeSet;

/// One lint: its registry entry, documentation and check.
pub struct Lint {
    pub info: CodeInfo,
    /// A short example of the problem (site.conf or image-customization.lua).
    pub example: &'static str,
    /// Corpus sites (../shared/corpus) that show it, for the book; a test
    /// keeps the list true.
    pub seen_in: &'static [&'static str],
    pub check: fn(&LintContext<'_>, &mut Vec<Diagnostic>),
}

/// Every lint family's lints.
pub static FAMILIES: &[&[Lint]] = &[
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
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// The lint with exactly this code, for a family's checks (whose codes are
/// constants, each in the registry).
fn lint(code: &str) -> &'static Lint {
    all()
        .find(|l| l.info.code == code)
        .expect("a registered lint code")
}

pub fn find(code: &str) -> Option<&'static Lint> {
    all().find(|l| l.info.code.eq_ignore_ascii_case(code) || l.info.name == code)
}

pub use crate::site::views::DomainView;

/// What a lint can look at.
pub struct LintContext<'a> {
    pub site: &'a Site,
    pub version: GluonVersion,
    pub site_conf: &'a Node,
    pub domains: Vec<DomainView<'a>>,
    /// Packages in at least one image.
    pub packages: BTreeSet<&'a str>,
    /// Whether the packages are the site's own selection; when the selection
    /// failed (e.g. no image-customization.lua), only Gluon's defaults are
    /// known and lints about missing packages stay quiet.
    pub selection_known: bool,
}

impl<'a> LintContext<'a> {
    /// The context of a loaded site; `None` when site.conf did not load.
    pub fn new(site: &'a Site, only_domain: Option<&str>) -> Option<LintContext<'a>> {
        let site_conf = site.site_conf.as_ref()?;
        let domains = views::domain_views(site, only_domain)?;
        let packages = site
            .images
            .iter()
            .flat_map(|i| i.packages.iter().map(String::as_str))
            .collect();
        Some(LintContext {
            site,
            version: site.version,
            site_conf,
            domains,
            packages,
            selection_known: !site.default_selection,
        })
    }

    /// Whether any image contains the package.
    pub fn has_package(&self, package: &str) -> bool {
        self.packages.contains(package)
    }

    /// The domains whose merged configuration has a table at `path` (a VPN
    /// provider's section, say).
    pub fn domains_with_table(&self, path: &[&str]) -> Vec<&DomainView<'a>> {
        self.domains
            .iter()
            .filter(|v| v.merged.at(path).is_some_and(Node::is_table))
            .collect()
    }

    /// Where `path` is written for a domain (see [`locate::locate`]).
    pub fn locate(&self, view: &DomainView<'_>, path: &[Key]) -> Option<Span> {
        locate::locate(self.site_conf, view.domain, path)
    }

    /// The span of a node if it has one, else of where `path` is written.
    pub fn span_of(
        &self,
        view: &DomainView<'_>,
        node: Option<&Node>,
        path: &[Key],
    ) -> Option<Span> {
        node.and_then(|n| n.span)
            .or_else(|| self.locate(view, path))
    }

    /// A finding of `lint` for a domain about the value `node` at `path`:
    /// at the value's own span, else where the path is written.
    pub fn diagnostic_at(
        &self,
        lint: &Lint,
        view: &DomainView<'_>,
        node: Option<&Node>,
        path: &[Key],
        message: String,
    ) -> Diagnostic {
        let span = self.span_of(view, node, path);
        self.diagnostic(lint, view, message, span, path)
    }

    /// A finding of `lint` for a domain.
    pub fn diagnostic(
        &self,
        lint: &Lint,
        view: &DomainView<'_>,
        message: String,
        span: Option<Span>,
        path: &[Key],
    ) -> Diagnostic {
        let mut d = Diagnostic::new(lint.info.code, message, span);
        if !path.is_empty() {
            d = d.with_path(crate::site::value::path_to_string(path));
        }
        if let Some(name) = view.name {
            d = d.with_domain(name);
        }
        d
    }
}

/// Runs every lint.
pub fn run(context: &LintContext<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for lint in all() {
        (lint.check)(context, &mut out);
    }
    out
}

/// A lint's default severity (for lints that only report).
pub fn default_severity(code: Code) -> Option<Severity> {
    find(code).map(|l| l.info.severity)
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
            assert!(crate::registry::CODES
                .iter()
                .all(|c| c.code != info.code && c.name != info.name));
            assert_eq!(info.origin, crate::registry::Origin::Gluonvpn);
            assert!(info.summary.ends_with('.'), "{}", info.code);
            assert!(
                !info.explanation.is_empty() && !lint.example.is_empty(),
                "{}",
                info.code
            );
        }
    }
}
