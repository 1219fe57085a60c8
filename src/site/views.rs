//! Per-domain views of a loaded site: what Gluon's checks, the lints and the
//! renderers see for each domain.
//!
//! A multidomain site is seen once per domain, as `merge(site.conf,
//! domains/<code>.conf)` (see [`super::merge`]); a single-domain site once,
//! as site.conf itself.

use super::load::Site;
use super::merge::merge;
use super::value::Node;

/// One domain's configuration (or the single-domain site's): merged like
/// Gluon's checks see it, with the domain file's own values for locating.
pub struct DomainView<'a> {
    /// The domain code; `None` in single-domain sites.
    pub name: Option<&'a str>,
    pub domain: Option<&'a Node>,
    pub merged: Node,
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
                Some(DomainView {
                    name: Some(d.code.as_str()),
                    domain: Some(config),
                    merged: merge(site_conf, config),
                })
            })
            .collect()
    } else {
        vec![DomainView {
            name: None,
            domain: None,
            merged: site_conf.clone(),
        }]
    })
}
