//! Which Gluon releases a site is written for.
//!
//! A site shows it in a few places, each read from Gluon's own rules:
//!
//! - `image-customization.lua` selects features and packages: Gluon reads
//!   it from v2023.2 on (before, it is ignored and the images get only the
//!   default packages);
//! - site.mk sets `GLUON_FEATURES`/`GLUON_SITE_PACKAGES` (or their
//!   `_standard`/`_tiny` variants): Gluon's Makefile rejects them from
//!   v2023.2 on;
//! - a key a release's checks call obsolete (`opkg.lede`, `mesh_on_wan`,
//!   `mesh_vpn.pubkey_privacy` with WireGuard in v2025.1, …), found by
//!   exploring the checks of the packages in the site's images
//!   ([`crate::rules::explore`]);
//! - Gluon's Tunneldigger package, which v2025.1 no longer has.
//!
//! [`Fit::choose`] takes the newest release nothing speaks against, or, when
//! every release has something against it (a site written for a release
//! older than every supported one), the one with the fewest.

use crate::gluon_version::GluonVersion;
use crate::input::{self, caps, Within};
use crate::rules::{self, explore};
use crate::site::load::Site;
use crate::site::site_mk;
use crate::site::value::{Node, Value};
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// One thing the site shows, and the releases it fits.
#[derive(Clone, Debug, PartialEq)]
pub struct Hint {
    /// What the site does, and why that fits only `fits`.
    pub reason: String,
    /// Where it does it, if in a file.
    pub span: Option<Span>,
    pub fits: BTreeSet<GluonVersion>,
}

/// What a site shows about the releases it is written for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fit {
    pub hints: Vec<Hint>,
    /// How the site selects its features and packages: with
    /// image-customization.lua, with site.mk's variables, or neither.
    pub image_customization: bool,
    pub feature_variables: bool,
}

impl Fit {
    /// The hints that speak against a release.
    pub fn against(&self, version: GluonVersion) -> Vec<&Hint> {
        self.hints
            .iter()
            .filter(|h| !h.fits.contains(&version))
            .collect()
    }

    /// Whether nothing speaks against the release.
    pub fn fits(&self, version: GluonVersion) -> bool {
        self.against(version).is_empty()
    }

    /// Whether the release would build images the site never meant: it
    /// selects its features only in a way the release does not read.
    pub fn other_images(&self, version: GluonVersion) -> bool {
        if version >= GluonVersion::V2023_2 {
            self.feature_variables && !self.image_customization
        } else {
            self.image_customization && !self.feature_variables
        }
    }

    /// The newest release nothing speaks against; else the one with the
    /// fewest hints against it (the newest of those).
    pub fn choose(&self) -> GluonVersion {
        GluonVersion::ALL
            .iter()
            .rev()
            .copied()
            .min_by_key(|v| self.against(*v).len())
            .unwrap_or(GluonVersion::NEWEST)
    }

    /// Whether the site shows a release older than every supported one: a
    /// key obsolete in all of them.
    pub fn older_than_supported(&self) -> Vec<&Hint> {
        self.hints.iter().filter(|h| h.fits.is_empty()).collect()
    }
}

fn releases(pred: impl Fn(GluonVersion) -> bool) -> BTreeSet<GluonVersion> {
    GluonVersion::ALL.into_iter().filter(|v| pred(*v)).collect()
}

/// A key a check calls obsolete (its path, `<name>` for any key), and
/// Gluon's advice.
type ObsoleteKey = (String, String);

/// The keys each release's checks of a package call obsolete, with Gluon's
/// advice: from `data/gluon/obsolete-keys.json`, the table
/// [`obsolete_keys_table`] makes of the checks (exploring every package's
/// checks takes longer than checking most sites; a test keeps the table
/// current).
fn obsolete_keys(package: &str, version: GluonVersion) -> Vec<(String, String)> {
    type Table = BTreeMap<String, BTreeMap<String, Vec<ObsoleteKey>>>;
    static TABLE: OnceLock<Table> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../data/gluon/obsolete-keys.json")).unwrap_or_default()
    });
    match table.get(version.label()) {
        Some(packages) => packages.get(package).cloned().unwrap_or_default(),
        None => explored_obsolete_keys(package, version),
    }
}

/// The keys a release's checks of a package call obsolete, as exploring its
/// checks finds them.
pub fn explored_obsolete_keys(package: &str, version: GluonVersion) -> Vec<(String, String)> {
    rules::for_package(package, version)
        .map(|r| explore::explore(r, version))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            let advice = r.requirement.strip_prefix("not be set (obsolete")?;
            let advice = advice.trim_start_matches(':').trim().trim_end_matches(')');
            Some((r.path, advice.to_string()))
        })
        .collect()
}

/// `data/gluon/obsolete-keys.json` as the checks make it: per release, per
/// package with obsolete keys, each key with Gluon's advice.
pub fn obsolete_keys_table() -> String {
    let mut table: BTreeMap<&str, BTreeMap<&str, Vec<ObsoleteKey>>> = BTreeMap::new();
    for version in GluonVersion::ALL {
        let packages = table.entry(version.label()).or_default();
        for rules in rules::PACKAGES
            .iter()
            .filter(|r| r.versions.contains(&version))
        {
            let keys = explored_obsolete_keys(rules.package, version);
            if !keys.is_empty() {
                packages.insert(rules.package, keys);
            }
        }
    }
    serde_json::to_string_pretty(&table).unwrap_or_default() + "\n"
}

/// The value at an explored path (`autoupdater.branches.<name>.probability`)
/// in a configuration, if one is set: `<name>` stands for any key.
fn find_path<'n>(node: &'n Node, path: &[&str]) -> Option<&'n Node> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    if *first == "<name>" {
        let Value::Object(fields) = &node.value else {
            return None;
        };
        return fields.iter().find_map(|(_, child)| find_path(child, rest));
    }
    find_path(node.get_name(first)?, rest)
}

/// What the site shows about the releases it is written for.
pub fn fit(site: &Site) -> Fit {
    let mut hints = Vec::new();
    // Releases before v2023.2 do not read it, so it may not be loaded.
    let image_customization = {
        let path = site.dir.join("image-customization.lua");
        input::check(&path, Within::Directory(&site.dir), caps::SITE_FILE).is_ok()
    };
    if image_customization {
        hints.push(Hint {
            reason: "image-customization.lua selects the features and packages, which Gluon reads from v2023.2 on".into(),
            span: site
                .sources
                .find_name("image-customization.lua")
                .map(Span::file_start),
            fits: releases(|v| v >= GluonVersion::V2023_2),
        });
    }
    // GLUON_FEATURES and the like: as make evaluated site.mk, or, where make
    // could not (a template with placeholders), as it is written.
    let site_mk_text = site.site_mk_file.map(|file| (file, site.sources.get(file)));
    let assigned = |name: &str| {
        site_mk_text.and_then(|(file, source)| {
            site_mk::assignment_line(&source.text, name).map(|l| source.line_span(file, l))
        })
    };
    let set = |name: &str| match &site.site_mk {
        Some(evaluation) => std::iter::once(&evaluation.global)
            .chain(evaluation.per_target.values())
            .any(|vars| vars.get(name).is_some_and(|v| !v.trim().is_empty())),
        None => assigned(name).is_some(),
    };
    if let Some(name) = site_mk::FEATURE_VARIABLES.iter().find(|n| set(n)) {
        hints.push(Hint {
            reason: format!("site.mk sets {name}, which Gluon's Makefile rejects from v2023.2 on"),
            span: assigned(name),
            fits: releases(|v| v < GluonVersion::V2023_2),
        });
    }
    let packages: BTreeSet<&str> = site
        .package_sets()
        .into_iter()
        .flat_map(|set| set.iter().map(String::as_str))
        .collect();
    if packages.contains("gluon-mesh-vpn-tunneldigger") {
        hints.push(Hint {
            reason: "the images select Gluon's Tunneldigger package, which v2025.1 no longer has"
                .into(),
            span: None,
            fits: releases(|v| v < GluonVersion::V2025_1),
        });
    }
    // Keys a release's checks call obsolete, in site.conf or a domain file.
    let configs: Vec<&Node> = site
        .site_conf
        .iter()
        .chain(site.domains.iter().filter_map(|d| d.config.as_ref()))
        .collect();
    let mut obsolete: BTreeMap<String, (String, Option<Span>, BTreeSet<GluonVersion>)> =
        BTreeMap::new();
    for version in GluonVersion::ALL {
        for package in &packages {
            for (path, advice) in obsolete_keys(package, version) {
                let parts: Vec<&str> = path.split('.').collect();
                let Some(node) = configs.iter().find_map(|c| find_path(c, &parts)) else {
                    continue;
                };
                let entry = obsolete.entry(path.clone()).or_insert_with(|| {
                    (advice.clone(), node.key_span.or(node.span), BTreeSet::new())
                });
                entry.2.insert(version);
            }
        }
    }
    for (path, (advice, span, obsolete_in)) in obsolete {
        let fits = releases(|v| !obsolete_in.contains(&v));
        let when = if fits.is_empty() {
            "in every supported release".to_string()
        } else {
            let labels: Vec<&str> = obsolete_in.iter().map(|v| v.label()).collect();
            format!("in {}", labels.join(", "))
        };
        let advice = if advice.is_empty() {
            String::new()
        } else {
            format!(" ({advice})")
        };
        hints.push(Hint {
            reason: format!("{path} is obsolete {when}{advice}"),
            span,
            fits,
        });
    }
    Fit {
        image_customization,
        feature_variables: site_mk::FEATURE_VARIABLES.iter().any(|n| set(n)),
        hints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(fits: &[GluonVersion]) -> Hint {
        Hint {
            reason: String::new(),
            span: None,
            fits: fits.iter().copied().collect(),
        }
    }

    #[test]
    fn the_newest_release_that_fits() {
        use GluonVersion::*;
        let fit = Fit {
            hints: vec![
                hint(&[V2023_2, V2025_1]),
                hint(&[V2022_1, V2023_1, V2023_2]),
            ],
            ..Fit::default()
        };
        assert_eq!(fit.choose(), V2023_2);
        assert!(fit.fits(V2023_2) && !fit.fits(V2025_1));
        assert_eq!(Fit::default().choose(), GluonVersion::NEWEST);
        // Nothing fits: the fewest hints against.
        let fit = Fit {
            hints: vec![hint(&[]), hint(&[V2022_1, V2023_1])],
            ..Fit::default()
        };
        assert_eq!(fit.choose(), V2023_1);
        assert_eq!(fit.older_than_supported().len(), 1);
    }

    #[test]
    fn the_obsolete_keys_table_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gluon/obsolete-keys.json");
        let expected = obsolete_keys_table();
        if std::env::var_os("GLUONVPN_BLESS").is_some() {
            std::fs::write(&path, &expected).expect("bless");
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "{} is out of date with the checks; regenerate it with `GLUONVPN_BLESS=1 cargo test --lib release`",
            path.display()
        );
    }

    #[test]
    fn obsolete_keys_come_from_gluons_checks() {
        let core = obsolete_keys("gluon-core", GluonVersion::V2025_1);
        assert!(
            core.iter()
                .any(|(p, a)| p == "opkg.lede" && a == "Use opkg.openwrt instead."),
            "{core:?}"
        );
        let wireguard = obsolete_keys("gluon-mesh-vpn-wireguard", GluonVersion::V2025_1);
        assert!(
            wireguard
                .iter()
                .any(|(p, _)| p == "mesh_vpn.pubkey_privacy"),
            "{wireguard:?}"
        );
        assert!(obsolete_keys("gluon-mesh-vpn-wireguard", GluonVersion::V2023_2).is_empty());
    }
}
