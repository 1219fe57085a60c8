//! Per-domain views of a loaded site: what Gluon's checks, the lints and the
//! renderers see for each domain.
//!
//! A multidomain site is seen once per domain, as `merge(site.conf,
//! domains/<code>.conf)` (see [`super::merge`]); a single-domain site once,
//! as site.conf itself.

use super::load::Site;
use super::locate;
use super::merge::merge;
use super::mesh_vpn::{Location, MeshVpn};
use super::value::{path_to_string, Key, Node};
use crate::diagnostics::{CodeInfo, Diagnostic};
use crate::gluon_version::GluonVersion;
use crate::source::Span;
use std::collections::BTreeSet;

/// One domain's configuration (or the single-domain site's): merged like
/// Gluon's checks see it, with the domain file's own values for locating.
pub struct DomainView<'a> {
    /// The domain code; `None` in single-domain sites.
    pub name: Option<&'a str>,
    pub domain: Option<&'a Node>,
    pub merged: Node,
    /// The domain's mesh VPN, typed (read once, from `merged`).
    pub mesh_vpn: MeshVpn,
}

impl<'a> DomainView<'a> {
    fn new(name: Option<&'a str>, site_conf: &Node, domain: Option<&'a Node>) -> DomainView<'a> {
        let merged = match domain {
            Some(config) => merge(site_conf, config),
            None => site_conf.clone(),
        };
        let mesh_vpn = MeshVpn::read(&merged, &|path| locate::locate(site_conf, domain, path));
        DomainView {
            name,
            domain,
            merged,
            mesh_vpn,
        }
    }
}

/// The views of every domain whose file evaluated (only `only` when given),
/// in code order; `None` when site.conf did not load.
pub fn domain_views<'a>(site: &'a Site, only: Option<&str>) -> Option<Vec<DomainView<'a>>> {
    let site_conf = site.site_conf.as_ref()?;
    Some(if site.multidomain {
        site.domains
            .iter()
            .filter(|d| only.is_none_or(|o| o == d.code))
            .filter_map(|d| {
                let config = d.config.as_ref()?;
                Some(DomainView::new(
                    Some(d.code.as_str()),
                    site_conf,
                    Some(config),
                ))
            })
            .collect()
    } else {
        vec![DomainView::new(None, site_conf, None)]
    })
}

/// A loaded site as the analyses above it see it (lints, online probes):
/// site.conf, every domain's view and the packages of the images.
pub struct SiteView<'a> {
    pub site: &'a Site,
    pub version: GluonVersion,
    pub site_conf: &'a Node,
    pub domains: Vec<DomainView<'a>>,
    /// Packages in at least one image.
    pub packages: BTreeSet<&'a str>,
    /// Whether the packages are the site's own selection; when the selection
    /// failed (e.g. no image-customization.lua), only Gluon's defaults are
    /// known and findings about missing packages stay quiet.
    pub selection_known: bool,
    /// A gateway inventory to check against the site (`check --inventory`).
    pub inventory: Option<&'a crate::site::inventory::Inventory>,
}

impl<'a> SiteView<'a> {
    /// The view of a loaded site; `None` when site.conf did not load.
    pub fn new(site: &'a Site, only_domain: Option<&str>) -> Option<SiteView<'a>> {
        let site_conf = site.site_conf.as_ref()?;
        let domains = domain_views(site, only_domain)?;
        let packages = site
            .package_sets()
            .into_iter()
            .flat_map(|set| set.iter().map(String::as_str))
            .collect();
        Some(SiteView {
            site,
            version: site.version,
            site_conf,
            domains,
            packages,
            selection_known: !site.default_selection,
            inventory: None,
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

    /// A finding for a domain about the value `node` at `path`: at the
    /// value's own span, else where the path is written.
    pub fn diagnostic_at(
        &self,
        info: &'static CodeInfo,
        view: &DomainView<'_>,
        node: Option<&Node>,
        path: &[Key],
        message: String,
    ) -> Diagnostic {
        let span = self.span_of(view, node, path);
        self.diagnostic(info, view, message, span, path)
    }

    /// A finding for a domain about a value of its typed view.
    pub fn diagnostic_for(
        &self,
        info: &'static CodeInfo,
        view: &DomainView<'_>,
        at: &Location,
        message: String,
    ) -> Diagnostic {
        self.diagnostic(info, view, message, at.span, &at.path)
    }

    /// A finding for a domain.
    pub fn diagnostic(
        &self,
        info: &'static CodeInfo,
        view: &DomainView<'_>,
        message: String,
        span: Option<Span>,
        path: &[Key],
    ) -> Diagnostic {
        let mut d = Diagnostic::new(info, message, span);
        if !path.is_empty() {
            d = d.with_path(path_to_string(path));
        }
        if let Some(name) = view.name {
            d = d.with_domain(name);
        }
        d
    }
}
