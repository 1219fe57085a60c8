//! Which packages end up in which images: Gluon's target_config_lib.lua
//! (device and target packages, features from site.mk up to v2023.1 or from
//! image-customization.lua from v2023.2, `-pkg` removal) and the package
//! dependencies, for every target and device Gluon would build.

use super::image_customization::Selection;
use super::site_mk::Evaluation;
use crate::gluon_data::{Device, GluonData, Target};
use crate::gluon_version::GluonVersion;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// One device's image: the packages it contains, dependencies included.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub target: String,
    pub device: String,
    pub class: String,
    /// Shared between the many devices with the same packages.
    pub packages: Arc<BTreeSet<String>>,
    /// What the site selects for the image, as Gluon reads it (site.mk up
    /// to v2023.1, image-customization.lua from v2023.2): its features and
    /// its packages (a `-pkg` takes one away), each named once.
    pub site_selection: Arc<SiteSelection>,
}

/// The features and packages a site selects for one image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteSelection {
    pub features: Vec<String>,
    pub packages: Vec<String>,
}

/// A package that will not be found when Gluon configures the build.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unresolved {
    pub package: String,
    /// A feature it was derived from (`gluon-<feature>`), if any.
    pub feature: Option<String>,
}

/// Removes a leading `-`.
fn strip_neg(s: &str) -> &str {
    s.strip_prefix('-').unwrap_or(s)
}

/// Gluon's `append_to_list`: drops earlier entries naming the same package
/// (negated or not), then appends the item (a negation only if `keep_neg`).
fn append_to_list(list: &mut Vec<String>, item: &str, keep_neg: bool) {
    let name = strip_neg(item);
    list.retain(|el| strip_neg(el) != name);
    if keep_neg || !item.starts_with('-') {
        list.push(item.to_string());
    }
}

fn concat_list(list: &mut Vec<String>, items: &[String], keep_neg: bool) {
    for item in items {
        append_to_list(list, item, keep_neg);
    }
}

/// Gluon's `compact_list`: each package named once, the later word
/// winning; removals (`-pkg`) kept only if `keep_neg`.
pub fn compact_list(items: &[String], keep_neg: bool) -> Vec<String> {
    let mut list = Vec::new();
    concat_list(&mut list, items, keep_neg);
    list
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// The devices Gluon builds for a target (want_device): not disabled by the
/// site, not broken (unless `include_broken`), not deprecated unless
/// GLUON_DEPRECATED allows.
fn wanted(
    device: &Device,
    selection: Option<&Selection>,
    include_broken: bool,
    deprecated_allowed: bool,
) -> bool {
    if selection.is_some_and(|s| s.disabled) {
        return false;
    }
    if !include_broken {
        let broken = match selection.and_then(|s| s.broken) {
            Some(b) => b,
            None => device.broken,
        };
        if broken {
            return false;
        }
    }
    !device.deprecated || deprecated_allowed
}

/// What decides a device's package list besides the target.
#[derive(Clone, PartialEq, Eq, Hash)]
struct DeviceInputs<'a> {
    target: usize,
    class: &'a str,
    device_packages: &'a [String],
    /// Features and packages from image-customization.lua (v2023.2 on).
    selection: Option<(&'a [String], &'a [String])>,
    /// `GLUON_<image>_SITE_PACKAGES` from site.mk (up to v2023.1).
    image_packages: Option<&'a str>,
}

/// The site's own selection for a device: features and packages (with
/// their removals), each named once.
fn site_selection(
    input: &SelectionInput<'_>,
    vars: &super::site_mk::Vars,
    key: &DeviceInputs<'_>,
) -> SiteSelection {
    if input.version >= GluonVersion::V2023_2 {
        let (features, packages) = key.selection.unwrap_or((&[], &[]));
        return SiteSelection {
            features: compact_list(features, false),
            packages: compact_list(packages, true),
        };
    }
    let class = key.class;
    let mut features = vars.words("GLUON_FEATURES");
    features.extend(vars.words(&format!("GLUON_FEATURES_{class}")));
    let mut packages = vars.words("GLUON_SITE_PACKAGES");
    packages.extend(vars.words(&format!("GLUON_SITE_PACKAGES_{class}")));
    packages.extend(words(key.image_packages.unwrap_or("")));
    SiteSelection {
        features: compact_list(&features, false),
        packages: compact_list(&packages, true),
    }
}

/// A device's packages as Gluon's target_config_lib lists them (without
/// the `-pkg` removals), before dependencies.
fn device_packages(
    input: &SelectionInput<'_>,
    target: &Target,
    vars: &super::site_mk::Vars,
    key: &DeviceInputs<'_>,
    selection: &SiteSelection,
    features_seen: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut device_pkgs: Vec<String> = Vec::new();
    concat_list(&mut device_pkgs, &target.packages, true);
    let features = &selection.features;
    features_seen.extend(features.iter().cloned());
    let mut pkgs: Vec<String> = input.data.feature_packages(features).into_iter().collect();
    let site_pkgs: Vec<String> = if input.version >= GluonVersion::V2023_2 {
        let (_, packages) = key.selection.unwrap_or((&[], &[]));
        concat_list(&mut pkgs, packages, true);
        concat_list(&mut device_pkgs, key.device_packages, true);
        pkgs
    } else {
        let class = key.class;
        let mut site = vars.words("GLUON_SITE_PACKAGES");
        site.extend(vars.words(&format!("GLUON_SITE_PACKAGES_{class}")));
        concat_list(&mut pkgs, &site, true);
        concat_list(&mut device_pkgs, &pkgs, true);
        concat_list(&mut device_pkgs, key.device_packages, true);
        words(key.image_packages.unwrap_or(""))
    };
    concat_list(&mut device_pkgs, &site_pkgs, true);
    device_pkgs
        .into_iter()
        .filter(|p| !p.starts_with('-'))
        .collect()
}

/// Inputs to the package selection.
pub struct SelectionInput<'a> {
    pub version: GluonVersion,
    pub data: &'a GluonData,
    pub targets: &'a [&'a Target],
    pub site_mk: &'a Evaluation,
    /// Per target, per device (in data order): the image-customization
    /// result, from v2023.2 on. `None` before v2023.2, or when the file is
    /// missing or failed (the default packages are used then).
    pub customization: Option<&'a [Vec<Selection>]>,
    pub include_broken: bool,
}

/// The images Gluon would build, and package names nothing defines.
pub fn select(input: &SelectionInput<'_>) -> (Vec<Image>, Vec<Unresolved>) {
    let mut images = Vec::new();
    let mut positives: BTreeSet<String> = BTreeSet::new();
    // Most devices end up with the same list: resolve each list's
    // dependencies once.
    let mut closures: HashMap<Vec<String>, Arc<BTreeSet<String>>> =
        std::collections::HashMap::new();
    let mut features_seen: BTreeSet<String> = BTreeSet::new();
    let deprecated_allowed = input
        .site_mk
        .global
        .get("GLUON_DEPRECATED")
        .is_some_and(|v| v.trim() != "0" && !v.trim().is_empty());

    // Devices of a target mostly share their inputs: compute each distinct
    // combination once, and share the resulting package set.
    type Selected = (Arc<BTreeSet<String>>, Arc<SiteSelection>);
    let mut by_inputs: HashMap<DeviceInputs<'_>, Selected> = HashMap::new();
    for (t, target) in input.targets.iter().enumerate() {
        let vars = input.site_mk.for_target(&target.name);
        for (d, device) in target.devices.iter().enumerate() {
            let selection = input
                .customization
                .and_then(|c| c.get(t))
                .and_then(|per_device| per_device.get(d));
            if !wanted(device, selection, input.include_broken, deprecated_allowed) {
                continue;
            }
            let key = DeviceInputs {
                target: t,
                class: &device.class,
                device_packages: &device.packages,
                selection: selection.map(|s| (&s.features[..], &s.packages[..])),
                image_packages: vars.get(&format!("GLUON_{}_SITE_PACKAGES", device.image)),
            };
            let (packages, site_selection) = match by_inputs.get(&key) {
                Some((packages, selection)) => (Arc::clone(packages), Arc::clone(selection)),
                None => {
                    let selection = Arc::new(site_selection(input, vars, &key));
                    let selected =
                        device_packages(input, target, vars, &key, &selection, &mut features_seen);
                    positives.extend(selected.iter().cloned());
                    let packages = closures
                        .entry(selected)
                        .or_insert_with_key(|selected| {
                            Arc::new(input.data.dependency_closure(selected.iter().cloned()))
                        })
                        .clone();
                    by_inputs.insert(key, (Arc::clone(&packages), Arc::clone(&selection)));
                    (packages, selection)
                }
            };
            images.push(Image {
                target: target.name.clone(),
                device: device.image.clone(),
                class: device.class.clone(),
                packages,
                site_selection,
            });
        }
    }

    let unresolved = positives
        .into_iter()
        .filter(|p| p.starts_with("gluon-") && !input.data.has_package(p))
        .map(|package| {
            let feature = package
                .strip_prefix("gluon-")
                .filter(|f| features_seen.contains(*f))
                .map(str::to_string);
            Unresolved { package, feature }
        })
        .collect();
    (images, unresolved)
}

/// The packages every image has even when the site's selection could not be
/// determined: the target packages and their dependencies.
pub fn default_packages(data: &GluonData, targets: &[&Target]) -> BTreeSet<String> {
    let mut list = Vec::new();
    for target in targets {
        concat_list(&mut list, &target.packages, true);
    }
    data.dependency_closure(list.into_iter().filter(|p| !p.starts_with('-')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_operations_follow_target_config_lib() {
        let mut list = vec!["a".to_string(), "b".to_string()];
        append_to_list(&mut list, "-a", true);
        assert_eq!(list, ["b", "-a"]);
        append_to_list(&mut list, "a", true);
        assert_eq!(list, ["b", "a"]);
        let compact = compact_list(&["x".into(), "y".into(), "-x".into(), "y".into()], false);
        assert_eq!(compact, ["y"]);
    }
}
