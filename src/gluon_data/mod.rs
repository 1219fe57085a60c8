//! Facts about Gluon releases that decide which packages end up in an image.
//!
//! The facts are extracted from a Gluon checkout by [`extract`] and shipped as
//! JSON inside the binary: `targets/gluon-<release>.json` holds the targets and
//! devices, `data/gluon/<release>.json` the packages, features and feeds.
//! [`embedded`] joins both into one [`GluonData`].

pub mod arch;
pub mod extract;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

/// Releases with embedded data, oldest first.
pub const RELEASES: &[&str] = &["v2022.1", "v2023.1", "v2023.2", "v2025.1"];

/// Everything gluonvpn knows about one Gluon release.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct GluonData {
    /// Full tag the facts were extracted from, e.g. `v2025.1.3`.
    pub version: String,
    /// Default feeds (`GLUON_FEEDS` in `modules`), in declared order.
    pub feeds: Vec<String>,
    /// Targets in `targets/targets.mk` order.
    pub targets: Vec<Target>,
    /// Packages from Gluon's own `package/` directory, sorted by name.
    pub packages: Vec<Package>,
    /// Rules of `package/features`, in file order.
    ///
    /// Resolution (scripts/feature_lib.lua, identical at all embedded tags):
    /// `feature(name, pkgs)` adds `pkgs` when `name` is enabled and marks `name`
    /// handled; `when(cond, pkgs)` adds `pkgs` when `cond` holds; afterwards
    /// every enabled feature not handled by a `feature(...)` rule adds the
    /// package `gluon-<feature>`. See [`GluonData::feature_packages`].
    pub features: Vec<FeatureRule>,
}

/// One entry of `make list-targets`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Target {
    /// `board-subtarget`, or just `board` when there is no subtarget.
    pub name: String,
    pub board: String,
    /// May be empty.
    pub subtarget: String,
    /// Listed only when building with `BROKEN=1`.
    pub broken: bool,
    /// Packages added by `packages {...}` in `targets/generic` and the target
    /// file (and its includes), in evaluation order; `-pkg` removes `pkg`.
    pub packages: Vec<String>,
    /// Every declared device, in declaration order, without Gluon's
    /// broken/deprecated filtering.
    pub devices: Vec<Device>,
    /// The OpenWrt package architecture and the Rust triple and tier for the
    /// target ([`arch`]); absent when the data was extracted from a Gluon
    /// checkout without an updated OpenWrt tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<arch::TargetArch>,
}

/// A `device(image, name, options)` declaration after merging `defaults{}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Device {
    /// Gluon image name (what `GLUON_DEVICES` and image-customization match).
    pub image: String,
    /// OpenWrt profile name.
    pub name: String,
    /// Device class, `standard` unless set (e.g. `tiny`).
    pub class: String,
    pub broken: bool,
    pub deprecated: bool,
    /// Extra packages for this device; `-pkg` removes `pkg`.
    pub packages: Vec<String>,
}

/// One package built from a Makefile under Gluon's `package/` directory.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Package {
    pub name: String,
    /// Directory below `package/`, e.g. `gluon-mesh-batman-adv`.
    pub dir: String,
    /// `+pkg` entries of DEPENDS: selected together with this package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<String>,
    /// `+PACKAGE_x:y` (or `+SYMBOL:y`) entries of DEPENDS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditional_depends: Vec<ConditionalDepend>,
    /// Plain `pkg` entries of DEPENDS: `pkg` must be selected by something
    /// else, it is not pulled in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// `@SYMBOL` entries of DEPENDS: Kconfig symbols that must be set
    /// (e.g. `GLUON_MULTIDOMAIN`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_config: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Built with `BuildPackageGluon` (as opposed to plain `BuildPackage`).
    pub gluon_package: bool,
    /// The package's postinst validates the site with its `check_site.lua`.
    pub check_site: bool,
}

/// A dependency that applies only when a condition holds.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ConditionalDepend {
    /// Package whose selection triggers the dependency (`PACKAGE_<if>`).
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub if_package: Option<String>,
    /// Other Kconfig symbol triggering the dependency, `!SYMBOL` when negated.
    /// Not evaluated by [`GluonData::dependency_closure`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_config: Option<String>,
    pub pkg: String,
}

/// One statement of `package/features`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum FeatureRule {
    /// `feature('name', {...})`
    Feature {
        feature: String,
        packages: Vec<String>,
    },
    /// `when(<condition>, {...})`
    When {
        when: Condition,
        packages: Vec<String>,
    },
}

/// Boolean expression over enabled features (`_'name'` in Gluon).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    Has(String),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    pub fn eval(&self, enabled: &HashSet<&str>) -> bool {
        match self {
            Condition::Has(f) => enabled.contains(f.as_str()),
            Condition::And(cs) => cs.iter().all(|c| c.eval(enabled)),
            Condition::Or(cs) => cs.iter().any(|c| c.eval(enabled)),
            Condition::Not(c) => !c.eval(enabled),
        }
    }
}

/// The targets file alone (`targets/gluon-<release>.json`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TargetsFile {
    pub version: String,
    pub targets: Vec<Target>,
}

/// The package facts alone (`data/gluon/<release>.json`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PackagesFile {
    pub version: String,
    pub feeds: Vec<String>,
    pub packages: Vec<Package>,
    pub features: Vec<FeatureRule>,
}

impl GluonData {
    /// Joins the two per-release files; their versions must agree.
    pub fn from_parts(targets: TargetsFile, packages: PackagesFile) -> anyhow::Result<Self> {
        anyhow::ensure!(
            targets.version == packages.version,
            "targets file is for {} but package file for {}",
            targets.version,
            packages.version
        );
        let mut sorted = packages.packages;
        // Looked up by name (binary search); extracted files are sorted already.
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(GluonData {
            version: targets.version,
            feeds: packages.feeds,
            targets: targets.targets,
            packages: sorted,
            features: packages.features,
        })
    }

    pub fn split(&self) -> (TargetsFile, PackagesFile) {
        (
            TargetsFile {
                version: self.version.clone(),
                targets: self.targets.clone(),
            },
            PackagesFile {
                version: self.version.clone(),
                feeds: self.feeds.clone(),
                packages: self.packages.clone(),
                features: self.features.clone(),
            },
        )
    }

    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages
            .binary_search_by(|p| p.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.packages[i])
    }

    /// True for package names and for names some package PROVIDES.
    pub fn has_package(&self, name: &str) -> bool {
        self.packages
            .iter()
            .any(|p| p.name == name || p.provides.iter().any(|v| v == name))
    }

    /// Transitive `+` dependencies of `roots` among the packages known here.
    ///
    /// Conditional dependencies count once their condition package is in the
    /// set, also when the condition comes in later (they wait for it). Unknown
    /// names stay in the set but are not expanded.
    pub fn dependency_closure(&self, roots: impl IntoIterator<Item = String>) -> BTreeSet<String> {
        let roots: Vec<String> = roots.into_iter().collect();
        let mut set: HashSet<&str> = HashSet::with_capacity(roots.len() * 2);
        let mut queue: Vec<&str> = Vec::new();
        // Conditional dependencies whose condition is not in the set (yet),
        // by condition.
        let mut waiting: HashMap<&str, Vec<&str>> = HashMap::new();
        for root in &roots {
            if set.insert(root) {
                queue.push(root);
            }
        }
        while let Some(name) = queue.pop() {
            if let Some(woken) = waiting.remove(name) {
                for dep in woken {
                    if set.insert(dep) {
                        queue.push(dep);
                    }
                }
            }
            let Some(pkg) = self.package(name) else {
                continue;
            };
            for dep in &pkg.depends {
                if set.insert(dep) {
                    queue.push(dep);
                }
            }
            for cd in &pkg.conditional_depends {
                let Some(condition) = cd.if_package.as_deref() else {
                    continue;
                };
                if set.contains(condition) {
                    if set.insert(&cd.pkg) {
                        queue.push(&cd.pkg);
                    }
                } else {
                    waiting.entry(condition).or_default().push(&cd.pkg);
                }
            }
        }
        set.into_iter().map(str::to_string).collect()
    }

    /// Packages selected by the site's `features` list, as feature_lib does.
    pub fn feature_packages(&self, features: &[String]) -> BTreeSet<String> {
        let enabled: HashSet<&str> = features.iter().map(String::as_str).collect();
        let mut handled = HashSet::new();
        let mut out = BTreeSet::new();
        for rule in &self.features {
            match rule {
                FeatureRule::Feature { feature, packages } => {
                    if enabled.contains(feature.as_str()) {
                        handled.insert(feature.as_str());
                        out.extend(packages.iter().cloned());
                    }
                }
                FeatureRule::When { when, packages } => {
                    if when.eval(&enabled) {
                        out.extend(packages.iter().cloned());
                    }
                }
            }
        }
        for f in features {
            if !handled.contains(f.as_str()) {
                out.insert(format!("gluon-{f}"));
            }
        }
        out
    }
}

/// Data for `release` (`v2022.1`, `v2023.1`, `v2023.2` or `v2025.1`), parsed on
/// first use.
pub fn embedded(release: &str) -> Option<&'static GluonData> {
    static CELLS: [OnceLock<GluonData>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let (idx, targets, packages) = match release {
        "v2022.1" => (
            0,
            include_str!("../../targets/gluon-v2022.1.json"),
            include_str!("../../data/gluon/v2022.1.json"),
        ),
        "v2023.1" => (
            1,
            include_str!("../../targets/gluon-v2023.1.json"),
            include_str!("../../data/gluon/v2023.1.json"),
        ),
        "v2023.2" => (
            2,
            include_str!("../../targets/gluon-v2023.2.json"),
            include_str!("../../data/gluon/v2023.2.json"),
        ),
        "v2025.1" => (
            3,
            include_str!("../../targets/gluon-v2025.1.json"),
            include_str!("../../data/gluon/v2025.1.json"),
        ),
        _ => return None,
    };
    Some(CELLS[idx].get_or_init(|| {
        // Compiled-in data, checked by tests/gluon_data.rs: a failure here is
        // a build defect, not a user error.
        let parsed = serde_json::from_str(targets)
            .map_err(anyhow::Error::from)
            .and_then(|t| Ok((t, serde_json::from_str(packages)?)))
            .and_then(|(t, p)| GluonData::from_parts(t, p));
        match parsed {
            Ok(d) => d,
            Err(e) => panic!("embedded Gluon data for {release} is invalid: {e:#}"),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closure as its definition says: add what the set's packages
    /// depend on (conditional ones when their condition is in) until
    /// nothing changes.
    fn closure_by_definition(data: &GluonData, roots: &[String]) -> BTreeSet<String> {
        let mut set: BTreeSet<String> = roots.iter().cloned().collect();
        loop {
            let before = set.len();
            for name in set.clone() {
                let Some(pkg) = data.package(&name) else {
                    continue;
                };
                set.extend(pkg.depends.iter().cloned());
                for cd in &pkg.conditional_depends {
                    if cd.if_package.as_ref().is_some_and(|p| set.contains(p)) {
                        set.insert(cd.pkg.clone());
                    }
                }
            }
            if set.len() == before {
                return set;
            }
        }
    }

    /// Packages whose conditions come in through dependencies, after what
    /// waits for them (no embedded release has a package condition).
    fn conditional_data() -> GluonData {
        let package = |name: &str, depends: &[&str], conditional: &[(&str, &str)]| {
            serde_json::json!({
                "name": name, "dir": name, "gluon_package": true, "check_site": false,
                "depends": depends,
                "conditional_depends": conditional.iter().map(|(condition, pkg)| {
                    match condition.strip_prefix("config:") {
                        Some(symbol) => serde_json::json!({"if_config": symbol, "pkg": pkg}),
                        None => serde_json::json!({"if": condition, "pkg": pkg}),
                    }
                }).collect::<Vec<_>>(),
            })
        };
        let packages = serde_json::json!({
            "version": "test",
            "feeds": [],
            "features": [],
            "packages": [
                package("a", &["b"], &[("z", "w")]),
                package("b", &["c"], &[]),
                package("c", &["z"], &[]),
                package("q", &[], &[("y", "u")]),
                package("v", &[], &[]),
                package("w", &[], &[("a", "v")]),
                package("x", &[], &[("config:FOO", "t")]),
                package("z", &[], &[]),
            ],
        });
        let targets = serde_json::json!({"version": "test", "targets": []});
        GluonData::from_parts(
            serde_json::from_value(targets).expect("targets"),
            serde_json::from_value(packages).expect("packages"),
        )
        .expect("data")
    }

    #[test]
    fn conditions_that_come_in_later_count() {
        let data = conditional_data();
        let closure = data.dependency_closure(["a".to_string()]);
        assert_eq!(
            closure.into_iter().collect::<Vec<_>>(),
            ["a", "b", "c", "v", "w", "z"]
        );
    }

    #[test]
    fn the_closure_is_what_its_definition_gives() {
        let synthetic = conditional_data();
        let releases = ["v2022.1", "v2023.1", "v2023.2", "v2025.1"]
            .map(|release| (release, embedded(release).expect("embedded data")));
        for (release, data) in std::iter::once(("synthetic", &synthetic)).chain(releases) {
            let names: Vec<String> = data.packages.iter().map(|p| p.name.clone()).collect();
            assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
            // Each package alone, every pair in both orders (a condition
            // then comes in before or after what waits for it, directly or
            // through dependencies), sliding windows of several, and a name
            // nobody defines.
            let mut cases: Vec<Vec<String>> = names.iter().map(|n| vec![n.clone()]).collect();
            for a in &names {
                for b in &names {
                    cases.push(vec![a.clone(), b.clone()]);
                }
            }
            for width in [3, 7, 20] {
                cases.extend(names.windows(width).map(|w| w.to_vec()));
            }
            cases.push(vec!["no-such-package".into()]);
            for roots in cases {
                assert_eq!(
                    data.dependency_closure(roots.iter().cloned()),
                    closure_by_definition(data, &roots),
                    "{release}: {roots:?}"
                );
            }
        }
    }
}
