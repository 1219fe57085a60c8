//! Sanity facts about the embedded Gluon data and the extractor.

use gluonvpn::gluon_data::extract::{
    extract, parse_features, release_key, rendered_files, write_files,
};
use gluonvpn::gluon_data::{embedded, Condition, FeatureRule, GluonData, RELEASES};
use std::collections::BTreeSet;
use std::path::Path;

fn data(release: &str) -> &'static GluonData {
    embedded(release).unwrap_or_else(|| panic!("no embedded data for {release}"))
}

fn feats(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn all_releases_load_with_matching_versions() {
    for r in RELEASES {
        let d = data(r);
        assert_eq!(release_key(&d.version).unwrap(), *r, "{}", d.version);
        assert!(!d.targets.is_empty(), "{r}: no targets");
        assert!(!d.packages.is_empty(), "{r}: no packages");
        assert!(!d.features.is_empty(), "{r}: no features");
        assert!(d.feeds.contains(&"gluon".to_string()), "{r}: {:?}", d.feeds);
        assert!(d.target("x86-64").is_some(), "{r}: no x86-64");
        assert!(d.target("ath79-generic").is_some(), "{r}: no ath79-generic");
        let core = d.package("gluon-core").expect("gluon-core");
        assert!(core.check_site && core.gluon_package);
        for t in &d.targets {
            // targets/generic's list comes first in every target.
            assert!(
                t.packages.contains(&"gluon-core".to_string()),
                "{r} {}",
                t.name
            );
        }
    }
    assert!(embedded("v2024.1").is_none());
    assert!(embedded("v2025.1.3").is_none());
}

#[test]
fn v2025_1_targets() {
    let d = data("v2025.1");
    assert_eq!(d.version, "v2025.1.3");
    let ath = d.target("ath79-generic").unwrap();
    assert_eq!(
        (ath.board.as_str(), ath.subtarget.as_str()),
        ("ath79", "generic")
    );
    assert!(!ath.broken);
    assert!(ath.devices.len() > 100, "{}", ath.devices.len());
    let c7 = ath
        .devices
        .iter()
        .find(|d| d.image == "tp-link-archer-c7-v2")
        .expect("archer c7 v2");
    assert_eq!(c7.name, "tplink_archer-c7-v2");
    assert_eq!(c7.class, "standard");
    // Devices flagged broken are kept (gluonvpn filters them itself).
    assert!(d.targets.iter().flat_map(|t| &t.devices).any(|d| d.broken));
    assert!(d
        .targets
        .iter()
        .flat_map(|t| &t.devices)
        .any(|d| d.class == "tiny"));

    let x86 = d.target("x86-64").unwrap();
    assert_eq!(x86.devices.len(), 1);
    assert_eq!(x86.devices[0].image, "x86-64");
    // Packages from targets/x86.inc arrive through include().
    assert!(x86.packages.contains(&"kmod-e1000e".to_string()));
    // Negations keep their '-' and order: generic's list starts the target list.
    assert!(
        x86.packages.iter().position(|p| p == "-dnsmasq")
            < x86.packages.iter().position(|p| p == "kmod-e1000e")
    );

    let broken = d.target("mvebu-cortexa9").expect("BROKEN target listed");
    assert!(broken.broken);
}

#[test]
fn tunneldigger_removed_in_2025() {
    assert!(data("v2022.1").has_package("gluon-mesh-vpn-tunneldigger"));
    assert!(data("v2023.2").has_package("gluon-mesh-vpn-tunneldigger"));
    assert!(!data("v2025.1").has_package("gluon-mesh-vpn-tunneldigger"));
}

#[test]
fn provides_counts_as_package() {
    let d = data("v2025.1");
    assert!(d.package("gluon-mesh-batman-adv").is_none());
    assert!(d.has_package("gluon-mesh-batman-adv"));
    let b = d.package("gluon-mesh-batman-adv-15").unwrap();
    assert_eq!(b.dir, "gluon-mesh-batman-adv");
    assert_eq!(b.provides, vec!["gluon-mesh-batman-adv".to_string()]);
    // Plain (non-+) dependencies are requirements, not selections.
    let alfred = d.package("gluon-alfred").unwrap();
    assert!(alfred
        .requires
        .contains(&"gluon-mesh-batman-adv".to_string()));
    assert!(!alfred
        .depends
        .contains(&"gluon-mesh-batman-adv".to_string()));
    let ds = d.package("gluon-config-mode-domain-select").unwrap();
    assert_eq!(ds.requires_config, vec!["GLUON_MULTIDOMAIN".to_string()]);
}

#[test]
fn mesh_vpn_fastd_resolution() {
    for r in RELEASES {
        let d = data(r);
        let pkgs = d.feature_packages(&feats(&["mesh-vpn-fastd"]));
        assert_eq!(pkgs, set(&["gluon-mesh-vpn-fastd", "hostapd-mini"]), "{r}");
        let closure = d.dependency_closure(["gluon-mesh-vpn-fastd".to_string()]);
        for p in ["gluon-mesh-vpn-core", "gluon-core", "gluon-site", "fastd"] {
            assert!(closure.contains(p), "{r}: {p} missing from {closure:?}");
        }
    }
}

#[test]
fn web_wizard_with_vpn() {
    for r in RELEASES {
        let d = data(r);
        let pkgs = d.feature_packages(&feats(&["web-wizard", "mesh-vpn-fastd", "autoupdater"]));
        for p in [
            "gluon-config-mode-mesh-vpn",
            "gluon-config-mode-hostname",
            "gluon-config-mode-autoupdater",
            "gluon-autoupdater",
            "gluon-mesh-vpn-fastd",
        ] {
            assert!(pkgs.contains(p), "{r}: {p} missing from {pkgs:?}");
        }
        // web-wizard is handled by feature(), so no gluon-web-wizard.
        assert!(!pkgs.contains("gluon-web-wizard"), "{r}");
        let without = d.feature_packages(&feats(&["web-wizard"]));
        assert!(!without.contains("gluon-config-mode-mesh-vpn"), "{r}");
    }
}

#[test]
fn mesh_vpn_fastd_l2tp_matches_features_file() {
    // package/features at every embedded tag lists mesh-vpn-fastd-l2tp only in
    // the web-wizard rule; the package comes from the gluon-<feature> fallback.
    for r in RELEASES {
        let d = data(r);
        let plain = d.feature_packages(&feats(&["mesh-vpn-fastd-l2tp"]));
        assert_eq!(
            plain,
            set(&["gluon-mesh-vpn-fastd-l2tp", "hostapd-mini"]),
            "{r}"
        );
        assert!(d.has_package("gluon-mesh-vpn-fastd-l2tp"), "{r}");
        let wiz = d.feature_packages(&feats(&["web-wizard", "mesh-vpn-fastd-l2tp"]));
        assert!(wiz.contains("gluon-config-mode-mesh-vpn"), "{r}");
        let closure = d.dependency_closure(plain);
        assert!(closure.contains("gluon-mesh-vpn-fastd"), "{r}");
        assert!(closure.contains("kmod-l2tp-eth"), "{r}");
    }
}

#[test]
fn per_release_feature_differences() {
    // v2022.1 knows babel and tunneldigger in features; v2025.1 knows neither.
    let old = data("v2022.1").feature_packages(&feats(&["mesh-babel"]));
    assert!(old.contains("gluon-radvd"));
    let new = data("v2025.1").feature_packages(&feats(&["mesh-babel"]));
    assert!(!new.contains("gluon-radvd"));
    let td = data("v2022.1").feature_packages(&feats(&["web-wizard", "mesh-vpn-tunneldigger"]));
    assert!(td.contains("gluon-config-mode-mesh-vpn"));
    let td = data("v2025.1").feature_packages(&feats(&["web-wizard", "mesh-vpn-tunneldigger"]));
    assert!(!td.contains("gluon-config-mode-mesh-vpn"));
    // wpa3 turns hostapd-mini off.
    let w = data("v2025.1").feature_packages(&feats(&["wireless-encryption-wpa3"]));
    assert_eq!(w, set(&["gluon-wireless-encryption-wpa3"]));
}

#[test]
fn dependency_closure_keeps_unknown_names() {
    let d = data("v2025.1");
    let c = d.dependency_closure(["no-such-package".to_string(), "gluon-web".to_string()]);
    assert!(c.contains("no-such-package"));
    assert!(c.contains("lua-jsonc"));
}

#[test]
fn features_parser_shapes() {
    let rules = parse_features(
        "feature('a', {'x'})\nwhen(not (_'a' or _('b')) and _'c' and _'d', {'y', 'z'})\n",
    )
    .unwrap();
    assert_eq!(
        rules[0],
        FeatureRule::Feature {
            feature: "a".into(),
            packages: vec!["x".into()]
        }
    );
    let FeatureRule::When { when, packages } = &rules[1] else {
        panic!()
    };
    assert_eq!(packages, &vec!["y".to_string(), "z".to_string()]);
    assert_eq!(
        when,
        &Condition::And(vec![
            Condition::Not(Box::new(Condition::Or(vec![
                Condition::Has("a".into()),
                Condition::Has("b".into()),
            ]))),
            Condition::Has("c".into()),
            Condition::Has("d".into()),
        ])
    );
    let json = serde_json::to_string(&rules[1]).unwrap();
    assert!(
        json.starts_with(r#"{"when":{"and":[{"not":{"or":[{"has":"a"}"#),
        "{json}"
    );
    for bad in [
        "x = 1",
        "when(_'a' == _'b', {})",
        "feature(name, {'x'})",
        "when(_'a', {f()})",
        "other('a', {})",
    ] {
        assert!(parse_features(bad).is_err(), "{bad} accepted");
    }
}

/// Extraction of the real checkout reproduces the committed JSON byte for byte.
#[test]
fn extraction_reproduces_committed_json() {
    let Some(dir) = std::env::var_os("GLUON_CHECKOUT_V2025_1") else {
        eprintln!("skipped: set GLUON_CHECKOUT_V2025_1 to a v2025.1.3 checkout (e.g. /tmp/gluon-v2025.1.3)");
        return;
    };
    let fresh = extract(Path::new(&dir), "v2025.1.3").unwrap();
    assert_eq!(&fresh, data("v2025.1"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (rel, contents) in rendered_files(&fresh).unwrap() {
        let committed = std::fs::read_to_string(root.join(&rel)).unwrap();
        assert!(
            committed == contents,
            "{} differs from a fresh extraction",
            rel.display()
        );
    }
}

/// Regenerates the JSON for one release:
/// `GLUON_CHECKOUT=/tmp/gluon-v2025.1.3 GLUON_TAG=v2025.1.3 cargo test --test gluon_data -- --ignored regenerate`
#[test]
#[ignore]
fn regenerate() {
    let dir = std::env::var("GLUON_CHECKOUT").expect("set GLUON_CHECKOUT");
    let tag = std::env::var("GLUON_TAG").expect("set GLUON_TAG, e.g. v2025.1.3");
    write_files(Path::new(&dir), &tag, Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
}

/// The CPU facts of v2025.1's targets, extracted from the OpenWrt tree of
/// an updated v2025.1.3 checkout (`.targetinfo` and the pinned packages
/// feed's rust-values.mk); older releases have none yet.
#[test]
fn v2025_1_target_architectures() {
    use gluonvpn::gluon_data::arch::{rust_agents, RustAgents};
    let d = data("v2025.1");
    for t in &d.targets {
        let a = t
            .arch
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no arch", t.name));
        assert!(a.rust_packages, "{}", t.name);
        assert!(a.rust_tier.is_some(), "{}: {}", t.name, a.rust_target);
        assert!(
            a.package_arch.starts_with(&a.openwrt_arch),
            "{}: {}",
            t.name,
            a.package_arch
        );
    }
    let arch = |name: &str| d.target(name).unwrap().arch.clone().unwrap();
    let x86 = arch("x86-64");
    assert_eq!(
        (
            x86.package_arch.as_str(),
            x86.rust_target.as_str(),
            x86.rust_tier
        ),
        ("x86_64", "x86_64-unknown-linux-musl", Some(2))
    );
    let ath = arch("ath79-generic");
    assert_eq!(
        (
            ath.package_arch.as_str(),
            ath.rust_target.as_str(),
            ath.rust_tier
        ),
        ("mips_24kc", "mips-unknown-linux-musl", Some(3))
    );
    let ipq = arch("ipq40xx-generic");
    assert_eq!(ipq.rust_target, "armv7-unknown-linux-musleabihf");
    assert_eq!(arch("x86-legacy").rust_target, "i586-unknown-linux-musl");
    let mpc = d.target("mpc85xx-p1020").unwrap();
    assert_eq!(mpc.arch.as_ref().unwrap().package_arch, "powerpc_8548");
    assert!(matches!(
        rust_agents(&mpc.board, mpc.arch.as_ref()),
        RustAgents::Unsupported(_)
    ));
    for r in ["v2022.1", "v2023.1", "v2023.2"] {
        assert!(data(r).targets.iter().all(|t| t.arch.is_none()), "{r}");
    }
}
