//! `gluonvpn migrate`: a site carried forward until Gluon's checks at the
//! target release accept it, or with the decisions left named; the diff is
//! what --write writes; a second run changes nothing; broken input is
//! refused without a write. Over the shared corpus, the outcome per site is
//! recorded in tests/migrate_corpus.reviewed.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;
#[path = "support/trees.rs"]
mod trees;

use gluonvpn::check::{check, CheckOptions};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::migrate;
use gluonvpn::site::value::{Node, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn files_of(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for sub in ["", "domains/"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                let name = format!("{sub}{}", entry.file_name().to_string_lossy());
                files.insert(
                    name,
                    std::fs::read_to_string(entry.path()).unwrap_or_default(),
                );
            }
        }
    }
    files
}

fn gluonvpn(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .output()
        .expect("runs gluonvpn")
}

/// A value without its places, for comparing what two files mean.
fn plain(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Bool(b) => serde_json::json!(b),
        Value::Number(n) => serde_json::json!(n),
        Value::String(s) => serde_json::json!(s),
        Value::Array(items) => items.iter().map(plain).collect(),
        Value::Object(fields) => {
            let map: serde_json::Map<String, serde_json::Value> =
                fields.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
            serde_json::Value::Object(map)
        }
    }
}

/// A plain value as a site value without places.
fn node_of(value: &serde_json::Value) -> Node {
    let v = match value {
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(node_of).collect()),
        serde_json::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), node_of(v)))
                .collect(),
        ),
        serde_json::Value::Null => Value::Bool(false),
    };
    Node::new(v, None)
}

/// The typed mesh VPN (what check's lints, `--online` and `render` read)
/// of a domain's normalised `mesh_vpn`, without places.
fn typed(vpn: &serde_json::Value) -> gluonvpn::site::mesh_vpn::MeshVpn {
    let root = node_of(&serde_json::json!({ "mesh_vpn": vpn }));
    gluonvpn::site::mesh_vpn::MeshVpn::read(&root, &|_| None)
}

/// The mesh VPN a site configures, per configuration file: what the
/// migration must keep (methods, MTU, groups, peers, remotes, WireGuard
/// peers, brokers), with the MTU where the release reads it.
fn mesh_vpn_intent(dir: &Path, version: GluonVersion) -> BTreeMap<String, serde_json::Value> {
    let outcome = check(dir, &CheckOptions::new(version)).expect("checks");
    let site = &outcome.site;
    let Some(site_conf) = &site.site_conf else {
        return BTreeMap::new();
    };
    // What a node of each domain reads: site.conf merged with the domain.
    let mut configs: Vec<(String, Node)> = Vec::new();
    if site.domains.is_empty() {
        configs.push(("site.conf".into(), site_conf.clone()));
    }
    for d in &site.domains {
        if let Some(conf) = &d.config {
            configs.push((
                d.code.clone(),
                gluonvpn::site::merge::merge(site_conf, conf),
            ));
        }
    }
    let mut out = BTreeMap::new();
    for (name, conf) in configs {
        // Before v2017.1 (release notes): fastd_mesh_vpn, with the fastd
        // options beside mtu and bandwidth_limit.
        let mut vpn = match (conf.get_name("mesh_vpn"), conf.get_name("fastd_mesh_vpn")) {
            (Some(vpn), _) => plain(vpn),
            (None, Some(old)) => {
                let mut old = plain(old);
                let mut fastd = serde_json::Map::new();
                if let Some(fields) = old.as_object_mut() {
                    for option in ["configurable", "methods", "groups", "syslog_level"] {
                        if let Some(v) = fields.remove(option) {
                            fastd.insert(option.to_string(), v);
                        }
                    }
                    fields.insert("fastd".into(), serde_json::Value::Object(fastd));
                }
                old
            }
            (None, None) => continue,
        };
        // mesh_vpn.mtu moves into the protocols that read it.
        if let Some(mtu) = vpn.as_object_mut().and_then(|o| o.remove("mtu")) {
            for protocol in ["fastd", "tunneldigger"] {
                if let Some(p) = vpn.get_mut(protocol).and_then(|p| p.as_object_mut()) {
                    p.entry("mtu").or_insert(mtu.clone());
                }
            }
        }
        // Obsolete with WireGuard only, and dropped only then.
        if vpn.get("wireguard").is_some() && vpn.get("fastd").is_none() {
            vpn.as_object_mut().map(|o| o.remove("pubkey_privacy"));
        }
        out.insert(name, vpn);
    }
    out
}

/// A package's name after the renames of Gluon's release notes (`None`:
/// folded into what every image has).
fn renamed(package: &str) -> Option<String> {
    match migrate::packages::fate(package) {
        Some((migrate::packages::Fate::Renamed(new), _)) => Some(new),
        Some((migrate::packages::Fate::Merged, _)) => None,
        None => Some(package.to_string()),
    }
}

/// What the site selects per image — its features and packages (`-pkg`
/// removals included) — by target, device and device class (a release may
/// class a device otherwise, and the selection follows the class), names as
/// the release notes renamed them.
type Selections = BTreeMap<(String, String, String), (Vec<String>, Vec<String>)>;

fn selection_intent(dir: &Path, version: GluonVersion) -> Selections {
    let outcome = check(dir, &CheckOptions::new(version)).expect("checks");
    outcome
        .site
        .images
        .iter()
        .filter(|i| !i.device.is_empty())
        .map(|image| {
            let selection = &image.site_selection;
            let mut features: Vec<String> = selection
                .features
                .iter()
                .filter_map(|f| {
                    renamed(&format!("gluon-{f}"))
                        .map(|p| p.trim_start_matches("gluon-").to_string())
                })
                .collect();
            let mut packages: Vec<String> = selection
                .packages
                .iter()
                .filter_map(|p| match p.strip_prefix('-') {
                    Some(bare) => renamed(bare).map(|n| format!("-{n}")),
                    None => renamed(p),
                })
                .collect();
            features.sort();
            packages.sort();
            (
                (
                    image.target.clone(),
                    image.device.clone(),
                    image.class.clone(),
                ),
                (features, packages),
            )
        })
        .collect()
}

/// The devices both releases build must get the same selection.
fn same_selections(before: &Selections, after: &Selections) -> Result<usize, String> {
    let mut compared = 0;
    for (key, old) in before {
        let Some(new) = after.get(key) else {
            continue;
        };
        if old != new {
            return Err(format!("{key:?}: {old:?} became {new:?}"));
        }
        compared += 1;
    }
    Ok(compared)
}

#[test]
fn an_old_site_is_carried_to_v2025_1_and_v2023_2() {
    let fixture = root().join("tests/fixtures/migrate-old");
    for to in ["v2025.1", "v2023.2"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = dir.path().join("site");
        trees::copy_tree(&fixture, &site);
        let before = files_of(&site);
        let path = site.to_str().expect("utf-8");

        // --diff is the default and writes nothing.
        let diff = gluonvpn(&["migrate", "--to", to, path]);
        assert_eq!(
            diff.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&diff.stderr)
        );
        assert_eq!(files_of(&site), before, "--diff must not write");
        let printed = String::from_utf8(diff.stdout).expect("utf-8");
        let said = String::from_utf8_lossy(&diff.stderr).into_owned();
        for code in ["GM001", "GM002", "GM003", "GM006", "GM010"] {
            assert!(said.contains(code), "{to}: {code} not applied: {said}");
        }
        assert!(
            said.contains(&format!("Gluon {to}'s checks accept the migrated site")),
            "{said}"
        );

        // --write writes what the diff showed.
        let write = gluonvpn(&["migrate", "--to", to, "--write", path]);
        assert_eq!(
            write.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&write.stderr)
        );
        let after = files_of(&site);
        let mut expected = String::new();
        for (name, text) in &after {
            let old = before.get(name);
            if old == Some(text) {
                continue;
            }
            let old_name = if old.is_some() {
                format!("a/{name}")
            } else {
                "/dev/null".into()
            };
            expected.push_str(
                &similar::TextDiff::from_lines(old.map_or("", String::as_str), text)
                    .unified_diff()
                    .context_radius(3)
                    .header(&old_name, &format!("b/{name}"))
                    .to_string(),
            );
        }
        assert_eq!(printed, expected, "{to}: --write differs from --diff");
        // Untouched: comments and the order of what stays.
        let conf = &after["site.conf"];
        assert!(conf.contains("timezone = 'CET-1CEST,M3.5.0,M10.5.0/3', -- Europe/Berlin"));
        assert!(conf.contains("openwrt = 'http://opkg.example.org/openwrt/%n/%v/%S/packages'"));
        assert!(after["site.mk"].contains("GLUON_REGION ?= eu"));
        assert!(!after["site.mk"].contains("GLUON_FEATURES"));
        let customization = &after["image-customization.lua"];
        assert!(
            customization.contains("if target('x86', '64') then"),
            "{customization}"
        );
        assert!(
            customization.contains("if device_class('standard') then"),
            "{customization}"
        );

        // Gluon's checks at the target accept it; the mesh VPN is the same.
        let version: GluonVersion = to.parse().expect("release");
        let outcome = check(&site, &CheckOptions::new(version)).expect("checks");
        assert!(
            outcome.gluon_ok(),
            "{to}: {:#?}",
            outcome.report.diagnostics
        );
        assert_eq!(
            mesh_vpn_intent(&site, version),
            mesh_vpn_intent(&fixture, GluonVersion::V2023_1),
            "{to}"
        );
        // The typed view, as check, --online and render read it.
        let migrated = typed(&mesh_vpn_intent(&site, version)["site.conf"]);
        let fastd = migrated.fastd.as_ref().expect("fastd");
        assert_eq!(fastd.mtu.as_ref().map(|m| m.value), Some(1312.0));
        assert_eq!(fastd.methods.len(), 1);
        assert_eq!(fastd.groups.first().map(|g| g.peers.len()), Some(1));
        assert_eq!(
            migrated,
            typed(&mesh_vpn_intent(&fixture, GluonVersion::V2023_1)["site.conf"])
        );
        let compared = same_selections(
            &selection_intent(&fixture, GluonVersion::V2023_1),
            &selection_intent(&site, version),
        )
        .unwrap_or_else(|e| panic!("{to}: {e}"));
        assert!(compared > 100, "{to}: only {compared} devices compared");

        // A second run has nothing to do.
        let again = gluonvpn(&["migrate", "--to", to, path]);
        assert_eq!(again.status.code(), Some(0));
        assert!(
            again.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&again.stdout)
        );
        assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to rewrite"));
    }
}

#[test]
fn broken_sites_and_unknown_releases_are_refused_without_a_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = dir.path().join("site");
    trees::copy_tree_edited(
        &root().join("tests/fixtures/migrate-old"),
        &site,
        |name, text| {
            if name == "site.conf" {
                text.replace("regdom = 'DE',", "regdom = %REGDOM%,")
            } else {
                text
            }
        },
    );
    let before = files_of(&site);
    let path = site.to_str().expect("utf-8");
    let out = gluonvpn(&["migrate", "--to", "v2025.1", "--write", path]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cannot migrate a site that does not load: site.conf:11: GS001"),
        "{said}"
    );
    assert_eq!(files_of(&site), before);

    let out = gluonvpn(&["migrate", "--to", "v2024.1", "--write", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown Gluon version 'v2024.1'"));
    assert_eq!(files_of(&site), before);

    let out = gluonvpn(&["migrate", "--to", "v2022.1", "--from", "v2025.1", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not migrate backwards"));
}

/// Every corpus site some release rejects, migrated to v2025.1 and v2023.2:
/// accepted by Gluon's checks, or left with named decisions, never written
/// broken; the outcome per site is in tests/migrate_corpus.reviewed
/// (`GLUONVPN_BLESS=1` rewrites it). The migrated site keeps its mesh VPN.
#[test]
fn the_corpus_is_carried_forward() {
    let Some(corpus) = corpus::corpus("THE MIGRATION OF THE CORPUS") else {
        return;
    };
    let manifest = corpus::manifest(&corpus);
    let mut record = String::from(
        "# gluonvpn migrate over ../shared/corpus: per site and release, accepted\n\
         # by Gluon's checks, or the codes of the decisions left, or why not.\n",
    );
    let mut problems = Vec::new();
    let mut devices_compared = 0;
    for entry in manifest.as_array().expect("list") {
        let name = entry["name"].as_str().expect("name");
        let rejected = entry["gluon_verdicts"]
            .as_object()
            .expect("verdicts")
            .values()
            .any(|v| v["ok"] == false);
        if !rejected {
            continue;
        }
        let original: PathBuf = corpus.join(name);
        for to in [GluonVersion::V2025_1, GluonVersion::V2023_2] {
            let outcome = match migrate::plan(&original, to, None, false) {
                Err(e) => format!("refused: {e}"),
                Ok(plan) => {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let site = dir.path().join("site");
                    trees::copy_tree(&original, &site);
                    plan.write(&site).expect("writes");
                    // What was written is what was planned, and a second
                    // run has nothing to do.
                    for (file, (_, text)) in &plan.files {
                        let written = std::fs::read_to_string(site.join(file)).expect("written");
                        assert_eq!(&written, text, "{name} {to} {file}");
                    }
                    let again = migrate::plan(&site, to, Some(to), false).expect("plans again");
                    if !again.files.is_empty() {
                        problems.push(format!(
                            "{name} {to}: a second run changes {:?}",
                            again.files.keys().collect::<Vec<_>>()
                        ));
                    }
                    let from = plan.from;
                    let before = mesh_vpn_intent(&original, from);
                    let after = mesh_vpn_intent(&site, to);
                    let typed_differ = before.len() != after.len()
                        || before
                            .iter()
                            .any(|(domain, vpn)| after.get(domain).map(typed) != Some(typed(vpn)));
                    if plan.accepted == Some(true) && (before != after || typed_differ) {
                        problems.push(format!(
                            "{name} {to}: mesh VPN {before:#?}\nbecame {after:#?}"
                        ));
                    }
                    // The images' selection, where the site selected with
                    // site.mk and the release reads it.
                    if plan.accepted == Some(true) && from < GluonVersion::V2023_2 {
                        match same_selections(
                            &selection_intent(&original, from),
                            &selection_intent(&site, to),
                        ) {
                            Ok(n) => devices_compared += n,
                            Err(e) => problems.push(format!("{name} {to}: selection {e}")),
                        }
                    }
                    match plan.accepted {
                        Some(true) => "accepted".to_string(),
                        _ if plan.decisions.is_empty() => {
                            problems.push(format!("{name} {to}: rejected without a decision"));
                            "rejected, no decision".to_string()
                        }
                        _ => {
                            let mut codes: Vec<&str> =
                                plan.decisions.iter().map(|d| d.code).collect();
                            codes.sort_unstable();
                            codes.dedup();
                            format!("decisions {}", codes.join(" "))
                        }
                    }
                }
            };
            // Paths of the machine stay out of the record.
            let outcome = outcome.replace(&corpus.display().to_string(), "CORPUS");
            record.push_str(&format!("{name} {to}: {outcome}\n"));
        }
    }
    let reviewed = root().join("tests/migrate_corpus.reviewed");
    if std::env::var_os("GLUONVPN_BLESS").is_some() {
        std::fs::write(&reviewed, &record).expect("bless");
    }
    let expected = std::fs::read_to_string(&reviewed).unwrap_or_default();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Sites that selected with site.mk, device by device.
    println!("{devices_compared} devices' selections compared");
    assert!(
        devices_compared > 5000,
        "only {devices_compared} devices' selections compared"
    );
    assert_eq!(
        record, expected,
        "the corpus's migration changed; review and bless with GLUONVPN_BLESS=1"
    );
}
