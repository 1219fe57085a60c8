//! `gluonvpn render`: snapshots of the rendered trees of the example sites,
//! every fastd configuration through the real `fastd --verify-config`,
//! WireGuard files through `wg setconf` on a wireguard-go interface in a
//! network namespace, UCI read back, release differences, the tree
//! writer's flags and exit codes, and secrets kept out of every file.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;
#[path = "support/trees.rs"]
mod trees;

use gluonvpn::check::{self, CheckOptions, Outcome};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::keys::Secret;
use gluonvpn::render::gateway::{self, GatewayOptions};
use gluonvpn::render::inventory::Inventory;
use gluonvpn::render::node::{self, NodeOptions};
use gluonvpn::render::uci::{self, UciValue};
use gluonvpn::render::{files, Entry, Format, Provider, Tree};
use gluonvpn_testnet::TestNet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use trees::{fastd_configs, fastd_verifies, secret_file};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    repo().join("site-examples").join(name)
}

fn load(path: &Path, version: GluonVersion) -> Outcome {
    check::check(path, &CheckOptions::new(version)).expect("site loads")
}

fn sample_inventory() -> Inventory {
    Inventory::load(&example("inventory.toml")).expect("sample inventory")
}

fn node_tree(site: &str, version: GluonVersion) -> Tree {
    let outcome = load(&example(site), version);
    assert!(outcome.gluon_ok(), "{site}");
    node::render(&outcome.site, &NodeOptions::new(version)).expect("renders")
}

fn gateway_tree(site: &Path, name: &str, inventory: &Inventory) -> Result<Tree, String> {
    let outcome = load(site, GluonVersion::NEWEST);
    gateway::render(
        &outcome.site,
        inventory,
        &GatewayOptions {
            version: GluonVersion::NEWEST,
            gateway: name.into(),
            domain: None,
        },
    )
    .map_err(|e| e.to_string())
}

fn printed(tree: &Tree) -> String {
    let mut out = Vec::new();
    files::print(tree, &mut out).expect("print");
    let mut text = String::from_utf8(out).expect("utf-8");
    for note in &tree.notes {
        text.push_str(&format!("\nnote: {note}\n"));
    }
    text.replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

#[test]
fn node_trees_of_the_examples() {
    for site in ["fastd", "wireguard", "multidomain"] {
        let tree = node_tree(site, GluonVersion::NEWEST);
        insta::assert_snapshot!(format!("node-{site}"), printed(&tree));
    }
}

#[test]
fn gateway_trees_of_the_examples() {
    let inventory = sample_inventory();
    for (site, name) in [
        ("fastd", "gw1"),
        ("fastd", "gw2"),
        ("wireguard", "gw1"),
        ("wireguard", "gw2"),
        ("multidomain", "gw_nord"),
        ("multidomain", "gw_sued"),
    ] {
        let tree = gateway_tree(&example(site), name, &inventory).expect("renders");
        insta::assert_snapshot!(format!("gateway-{site}-{name}"), printed(&tree));
    }
}

/// Every UCI file reads back with the options Gluon writes.
#[test]
fn uci_files_read_back() {
    let tree = node_tree("fastd", GluonVersion::NEWEST);
    let fastd = uci::parse(tree.get("etc/config/fastd").expect("fastd")).expect("parses");
    let instance = fastd.section("mesh_vpn").expect("mesh_vpn");
    assert_eq!(instance.kind, "fastd");
    assert_eq!(instance.get_str("secret"), Some("generate"));
    assert_eq!(instance.get_str("mode"), Some("multitap"));
    assert_eq!(instance.get_str("offload_l2tp"), Some("1"));
    assert_eq!(instance.get_str("peer_limit"), Some("1"));
    let peer = fastd
        .section("mesh_vpn_backbone_peer_gw1")
        .expect("peer section");
    assert_eq!(peer.get_str("group"), Some("mesh_vpn_backbone"));
    assert_eq!(
        peer.get("remote"),
        Some(&UciValue::List(vec![
            "\"gw1.example.org\" port 10000".into(),
            "ipv4 \"gw1.example.org\" port 10000".into()
        ]))
    );
    let tree = node_tree("wireguard", GluonVersion::NEWEST);
    for file in ["etc/config/network", "etc/config/wgpeerselector"] {
        uci::parse(tree.get(file).expect(file)).expect(file);
    }
}

/// Up to v2023.2 wg_mesh has no mtu (the kernel's 1420); from v2025.1 it
/// is mesh_vpn.wireguard.mtu + 70. The VXLAN has the site's mtu in both.
#[test]
fn wireguard_mtu_differs_between_releases() {
    let new = node_tree("wireguard", GluonVersion::V2025_1);
    let old = node_tree("wireguard", GluonVersion::V2023_2);
    let wg = |tree: &Tree| {
        uci::parse(tree.get("etc/config/network").expect("network"))
            .expect("parses")
            .section("wg_mesh")
            .expect("wg_mesh")
            .get_str("mtu")
            .map(str::to_string)
    };
    assert_eq!(wg(&new).as_deref(), Some("1376"));
    assert_eq!(wg(&old), None);
    let kv = |tree: &Tree| {
        gluonvpn::render::formats::parse_key_values(
            tree.get("wireguard/vxlan.conf").expect("vxlan"),
        )
        .expect("parses")
    };
    assert!(kv(&new).contains(&("wg_mtu".into(), "1376".into())));
    assert!(kv(&old).contains(&("wg_mtu".into(), "1420".into())));
    assert!(kv(&old).contains(&("vxlan_mtu".into(), "1306".into())));
}

/// The mesh VPN's interface as gluon-mesh-vpn-core's `500-mesh-vpn` writes
/// it: the active provider's mtu, fixed; `transitive` up to v2023.2; the
/// node's own macaddr stated in the header, not invented.
#[test]
fn the_mesh_vpn_interface_per_release() {
    let section = |site: &str, version: GluonVersion| {
        let tree = node_tree(site, version);
        let text = tree.get("etc/config/network").expect("network").to_string();
        let parsed = uci::parse(&text).expect("parses");
        let mesh_vpn = parsed.section("mesh_vpn").expect("mesh_vpn").clone();
        (text, mesh_vpn)
    };
    for (site, mtu) in [("fastd", "1312"), ("wireguard", "1306")] {
        let (text, new) = section(site, GluonVersion::V2025_1);
        let (_, old) = section(site, GluonVersion::V2023_2);
        for interface in [&new, &old] {
            assert_eq!(interface.get_str("ifname"), Some("mesh-vpn"), "{site}");
            assert_eq!(interface.get_str("proto"), Some("gluon_mesh"));
            assert_eq!(interface.get_str("fixed_mtu"), Some("1"));
            assert_eq!(interface.get_str("mtu"), Some(mtu), "{site}");
            assert_eq!(interface.get_str("macaddr"), None, "node-specific");
        }
        assert_eq!(new.get_str("transitive"), None, "{site}");
        assert_eq!(old.get_str("transitive"), Some("1"), "{site}");
        assert!(text.contains("generate_mac(7)"), "{text}");
        assert!(text.contains("batadv_hop_penalty"), "{text}");
    }
    // WireGuard's own sections come first, as 400-mesh-vpn-wireguard runs
    // before 500-mesh-vpn.
    let tree = node_tree("wireguard", GluonVersion::V2025_1);
    let parsed = uci::parse(tree.get("etc/config/network").expect("network")).expect("parses");
    let names: Vec<&str> = parsed
        .sections
        .iter()
        .filter_map(|s| s.name.as_deref())
        .collect();
    assert_eq!(names, ["wg_mesh", "mesh_wg_mesh", "mesh_vpn"]);
}

/// A site written by a test: the fastd example with its site.conf edited.
fn edited_fastd_site(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["site.conf", "site.mk", "image-customization.lua"] {
        let text = std::fs::read_to_string(example("fastd").join(file)).expect("read");
        let text = if file == "site.conf" {
            edit(text)
        } else {
            text
        };
        std::fs::write(dir.path().join(file), text).expect("write");
    }
    dir
}

/// With `configurable = true` and a null method the node lists null@l2tp
/// and null first; the gateway offers null@l2tp before null.
#[test]
fn configurable_sites_reorder_the_methods() {
    let site = edited_fastd_site(|t| {
        t.replace(
            "methods = { 'salsa2012+umac' },",
            "methods = { 'salsa2012+umac', 'null' },",
        )
    });
    let outcome = load(site.path(), GluonVersion::NEWEST);
    let tree = node::render(&outcome.site, &NodeOptions::new(GluonVersion::NEWEST)).expect("node");
    let fastd = uci::parse(tree.get("etc/config/fastd").expect("fastd")).expect("parses");
    assert_eq!(
        fastd.section("mesh_vpn").expect("mesh_vpn").get("method"),
        Some(&UciValue::List(vec![
            "null@l2tp".into(),
            "null".into(),
            "salsa2012+umac".into()
        ]))
    );
    let conf = tree.get("fastd/fastd.conf").expect("fastd.conf");
    let methods: Vec<&str> = conf.lines().filter(|l| l.starts_with("method ")).collect();
    assert_eq!(
        methods,
        [
            "method \"null@l2tp\";",
            "method \"null\";",
            "method \"salsa2012+umac\";"
        ]
    );
    let gw = gateway_tree(site.path(), "gw1", &sample_inventory()).expect("gateway");
    let conf = gw
        .get("fastd/ffbsp/fastd.conf")
        .expect("gateway fastd.conf");
    let methods: Vec<&str> = conf.lines().filter(|l| l.starts_with("method ")).collect();
    assert_eq!(
        methods,
        [
            "method \"null@l2tp\";",
            "method \"null\";",
            "method \"salsa2012+umac\";"
        ]
    );
}

fn inventory(text: &str) -> Inventory {
    Inventory::parse(text).expect("inventory")
}

#[test]
fn offload_on_and_off() {
    let on = gateway_tree(
        &example("fastd"),
        "gw1",
        &inventory("[gateways.gw1]\noffload = true\n"),
    )
    .expect("on");
    let conf = on.get("fastd/ffbsp/fastd.conf").expect("conf");
    for line in [
        "mode multitap;",
        "interface \"peer-%k\";",
        "offload l2tp yes;",
        "persist interface no;",
        "on up async ",
        "on down async ",
        "on verify \"true\";",
    ] {
        assert!(conf.contains(line), "{line}\n{conf}");
    }
    let off = gateway_tree(
        &example("fastd"),
        "gw1",
        &inventory("[gateways.gw1]\noffload = false\n"),
    )
    .expect("off");
    let conf = off.get("fastd/ffbsp/fastd.conf").expect("conf");
    assert!(
        conf.contains("mode tap;\ninterface \"mesh-vpn\";"),
        "{conf}"
    );
    assert!(!conf.contains("offload"), "{conf}");
}

#[test]
fn domain_filter() {
    let outcome = load(&example("multidomain"), GluonVersion::NEWEST);
    let mut options = NodeOptions::new(GluonVersion::NEWEST);
    let all = node::render(&outcome.site, &options).expect("all");
    assert!(all.get("nord/etc/config/fastd").is_some());
    assert!(all.get("sued/etc/config/fastd").is_some());
    options.domain = Some("sued".into());
    let sued = node::render(&outcome.site, &options).expect("sued");
    assert!(sued.get("etc/config/fastd").is_some());
    assert!(sued.entries.iter().all(|e| !e.path().starts_with("nord")));
    options.domain = Some("west".into());
    assert!(node::render(&outcome.site, &options).is_err());
    // An alias from domain_names names its domain, as on a node.
    options.domain = Some("north".into());
    let north = node::render(&outcome.site, &options).expect("north is nord");
    let nord = node::render(
        &outcome.site,
        &NodeOptions {
            domain: Some("nord".into()),
            ..options.clone()
        },
    )
    .expect("nord");
    assert_eq!(printed(&north), printed(&nord));
    assert!(printed(&north).contains("domain nord"));
    // gw_nord is no peer of domain sued
    let e = gateway::render(
        &outcome.site,
        &sample_inventory(),
        &GatewayOptions {
            version: GluonVersion::NEWEST,
            gateway: "gw_nord".into(),
            domain: Some("sued".into()),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("gw_sued"), "{e}");
}

/// Gateway configs in every variant, and the node's emulation config with
/// its peer directories, pass the real fastd's check.
#[test]
fn fastd_accepts_every_rendered_config() {
    if !tools::installed("fastd") {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let secret = secret_file(work.path());
    let peers = work.path().join("peers");
    std::fs::create_dir(&peers).expect("mkdir");
    let mut verified = 0;
    for offload in [true, false] {
        for interfaces in ["hooks", "systemd-networkd"] {
            for peers_mode in ["any", "directory"] {
                let inv = inventory(&format!(
                    "[gateways.gw1]\noffload = {offload}\ninterfaces = \"{interfaces}\"\npeers = \"{peers_mode}\"\npeers_dir = \"{}\"\nbind = [\"any\", \"127.0.0.1\", \"[::1]\"]\n",
                    peers.display()
                ));
                let tree = gateway_tree(&example("fastd"), "gw1", &inv).expect("renders");
                for (path, conf) in fastd_configs(&tree) {
                    fastd_verifies(conf, &secret, None, work.path()).unwrap_or_else(|e| {
                        panic!("{offload} {interfaces} {peers_mode} {path}: {e}\n{conf}")
                    });
                    verified += 1;
                }
            }
        }
    }
    // the node: written out, so that its peer directories exist
    for site in ["fastd", "multidomain"] {
        let tree = node_tree(site, GluonVersion::NEWEST);
        let out = tempfile::tempdir().expect("tempdir");
        files::write(&tree, out.path(), false)
            .expect("write")
            .expect("no conflicts");
        for (path, _) in fastd_configs(&tree) {
            let conf = out.path().join(path);
            std::fs::copy(&secret, conf.with_file_name("secret.conf")).expect("copy");
            let status = Command::new("fastd")
                .args(["--verify-config", "-c"])
                .arg(&conf)
                .output()
                .expect("fastd");
            assert!(
                status.status.success(),
                "{site} {path}: {}",
                String::from_utf8_lossy(&status.stderr)
            );
            verified += 1;
        }
    }
    assert_eq!(verified, 8 + 3);
}

/// Every corpus site with fastd: render the gateway of its first fastd
/// peer (and the node) and let fastd check the configs. The corpus's own
/// verdicts pick a release Gluon accepts the site in; sites Gluon rejects
/// in every release are rendered from the library anyway (the command
/// would refuse them) when their fastd section is usable.
#[test]
fn fastd_accepts_the_corpus_gateways() {
    if !tools::installed("fastd") {
        return;
    }
    let Some(corpus) = corpus::corpus("FASTD --VERIFY-CONFIG ON THE CORPUS GATEWAYS") else {
        return;
    };
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.json")).expect("MANIFEST.json");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("manifest");
    let work = tempfile::tempdir().expect("tempdir");
    let secret = secret_file(work.path());
    let (mut verified, mut skipped) = (0, Vec::new());
    for entry in manifest.as_array().expect("array") {
        let name = entry["name"].as_str().expect("name");
        let protocols = entry["protocols"].as_array().expect("protocols");
        if !protocols.iter().any(|p| p == "fastd") {
            continue;
        }
        let version = GluonVersion::ALL
            .into_iter()
            .rev()
            .find(|v| entry["gluon_verdicts"][v.tag()]["ok"] == true)
            .unwrap_or(GluonVersion::V2022_1);
        let outcome = load(&corpus.join(name), version);
        let names = gateway::gateway_names(&outcome.site, Provider::Fastd);
        let Some(gw) = names.first() else {
            skipped.push(format!("{name}: no fastd peers in the site"));
            continue;
        };
        let inv = inventory(&format!("[gateways.\"{gw}\"]\noffload = true\n"));
        let options = GatewayOptions {
            version,
            gateway: gw.clone(),
            domain: None,
        };
        let tree = match gateway::render(&outcome.site, &inv, &options) {
            Ok(tree) => tree,
            Err(e) => {
                assert!(
                    !outcome.gluon_ok(),
                    "{name} ({version}) passes Gluon's checks but does not render: {e}"
                );
                skipped.push(format!(
                    "{name}: Gluon rejects it and it does not render: {e}"
                ));
                continue;
            }
        };
        for (path, conf) in fastd_configs(&tree) {
            fastd_verifies(conf, &secret, None, work.path())
                .unwrap_or_else(|e| panic!("{name} {path}: {e}\n{conf}"));
            verified += 1;
        }
    }
    eprintln!(
        "fastd --verify-config: {verified} corpus gateway configs; skipped: {}",
        skipped.join("; ")
    );
    assert!(verified >= 10, "{verified}");
}

fn gluonvpn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gluonvpn")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn cli_force_check_and_diff() {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("tree");
    let out_s = out.to_str().expect("path");
    let site = example("fastd");
    let site_s = site.to_str().expect("path");
    let render = |extra: &[&str]| {
        let mut args = vec!["render", "node", site_s, "--out", out_s];
        args.extend_from_slice(extra);
        gluonvpn(&args)
    };
    let o = render(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(out.join("etc/config/fastd").is_file());
    assert!(out.join("fastd/peers/peers").is_dir());
    let o = render(&["--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // Again: nothing changes.
    let o = render(&[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o.stderr).contains("0 files written"),
        "{}",
        text(&o.stderr)
    );

    std::fs::write(out.join("etc/config/fastd"), "changed\n").expect("write");
    let o = render(&["--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("etc/config/fastd: differs"));
    let o = render(&["--diff"]);
    assert_eq!(o.status.code(), Some(1));
    let diff = text(&o.stdout);
    assert!(
        diff.contains("--- a/etc/config/fastd\n+++ b/etc/config/fastd\n"),
        "{diff}"
    );
    assert!(diff.contains("-changed\n"), "{diff}");
    let o = render(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("etc/config/fastd (differs)"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("etc/config/fastd")).expect("read"),
        "changed\n",
        "nothing is written without --force"
    );
    let o = render(&["--force"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(render(&["--check"]).status.code(), Some(0));
    // Without --out: the tree with headers.
    let o = gluonvpn(&["render", "node", site_s]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).starts_with("==> etc/config/fastd <==\n"));
    // --check needs --out
    assert_eq!(
        gluonvpn(&["render", "node", site_s, "--check"])
            .status
            .code(),
        Some(2)
    );
}

/// A site Gluon rejects is not rendered; lints alone do not stop it.
#[test]
fn cli_refuses_sites_with_gluon_errors() {
    let broken = edited_fastd_site(|t| t.replace("mtu = 1312,", "mtu = 'big',"));
    let o = gluonvpn(&["render", "node", broken.path().to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).is_empty());
    let err = text(&o.stderr);
    assert!(err.contains("mesh_vpn.fastd.mtu"), "{err}");
    assert!(err.contains("not rendering"), "{err}");
    // null without null@l2tp: a lint (GV102), which does not block.
    let linted = edited_fastd_site(|t| {
        t.replace(
            "methods = { 'salsa2012+umac' },",
            "methods = { 'salsa2012+umac', 'null' },",
        )
    });
    let o = gluonvpn(&["render", "node", linted.path().to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// The gateway's key files are checked against the site's keys, and no
/// rendered file (nor any message) contains a secret.
#[test]
fn secrets_stay_out_of_the_output() {
    if !tools::installed("fastd") {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let out = Command::new("fastd")
        .arg("--generate-key")
        .output()
        .expect("fastd");
    let generated = text(&out.stdout);
    let field = |n: &str| {
        generated
            .lines()
            .find_map(|l| l.strip_prefix(n))
            .expect("field")
            .trim()
            .to_string()
    };
    let (secret_hex, public_hex) = (field("Secret:"), field("Public:"));
    let secret = Secret::from_fastd_hex(&secret_hex).expect("secret");
    let wg_private = secret.expose_wireguard_base64().to_string();
    let wg_public = secret.wireguard_public_key().to_base64();
    let secret_path = work.path().join("secret.conf");
    std::fs::write(&secret_path, format!("secret \"{secret_hex}\";\n")).expect("write");
    let wg_path = work.path().join("wg.key");
    std::fs::write(&wg_path, format!("{wg_private}\n")).expect("write");

    // A site whose gw1 has these keys, for fastd and for WireGuard.
    let site = edited_fastd_site(|t| {
        t.replace(
            "9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f",
            &public_hex,
        )
    });
    let inv = work.path().join("inventory.toml");
    let write_inventory = |fastd: &Path| {
        std::fs::write(
            &inv,
            format!(
                "[gateways.gw1]\nfastd_secret = \"{}\"\nwireguard_private_key = \"{}\"\n",
                fastd.display(),
                wg_path.display()
            ),
        )
        .expect("write")
    };
    write_inventory(&secret_path);
    let tree_dir = work.path().join("tree");
    let o = gluonvpn(&[
        "render",
        "gateway",
        site.path().to_str().expect("path"),
        "--gateway",
        "gw1",
        "--inventory",
        inv.to_str().expect("path"),
        "--out",
        tree_dir.to_str().expect("path"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(!stderr.contains("not checked"), "{stderr}");
    let mut rendered = String::new();
    for entry in walkdir::WalkDir::new(&tree_dir) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            rendered.push_str(&std::fs::read_to_string(entry.path()).expect("read"));
        }
    }
    assert!(rendered.contains(secret_path.to_str().expect("path")));
    for s in [&secret_hex, &secret_hex.to_uppercase(), &wg_private] {
        assert!(!rendered.contains(s.as_str()));
        assert!(!stderr.contains(s.as_str()));
    }

    // Another secret: the gateway is refused, and no secret is shown.
    let other = work.path().join("other.conf");
    let other_out = Command::new("fastd")
        .args(["--generate-key", "--machine-readable"])
        .output()
        .expect("fastd");
    let other_hex = text(&other_out.stdout).trim().to_string();
    std::fs::write(&other, format!("secret \"{other_hex}\";\n")).expect("write");
    write_inventory(&other);
    let o = gluonvpn(&[
        "render",
        "gateway",
        site.path().to_str().expect("path"),
        "--gateway",
        "gw1",
        "--inventory",
        inv.to_str().expect("path"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("does not belong to the site's key"),
        "{stderr}"
    );
    assert!(text(&o.stdout).is_empty());
    for s in [&other_hex, &secret_hex, &wg_private] {
        assert!(!stderr.contains(s.as_str()));
    }
    let _ = wg_public;
}

/// The gateway's `wg setconf` file and the node's peers file load into a
/// wireguard-go interface in a network namespace of the test's own.
#[test]
fn wireguard_takes_the_rendered_configs() {
    let test = "wireguard_takes_the_rendered_configs";
    let Some(mut net) = TestNet::with_tools(test, &["ip", "wg", "wireguard-go"]) else {
        return;
    };
    let ns = net.netns("r");
    let gw = gateway_tree(&example("wireguard"), "gw1", &sample_inventory()).expect("gateway");
    let node = node_tree("wireguard", GluonVersion::NEWEST);
    // Offline: hostnames become documentation addresses.
    let peers = node
        .get("wireguard/peers.conf")
        .expect("peers")
        .replace("gw1.example.org:", "192.0.2.1:");
    let files = [
        (
            "gateway.conf",
            "g",
            gw.get("wireguard/wg-mesh.conf")
                .expect("wg conf")
                .to_string(),
        ),
        ("peers.conf", "n", peers),
    ];
    for (file, short, content) in &files {
        let ifname = net.wg_name(short);
        let path = net.dir().join(file);
        std::fs::write(&path, content).expect("write");
        net.wireguard_go(&ns, &ifname);
        let path = path.to_str().expect("path");
        if let Err(e) = net.try_exec(&ns, &["wg", "setconf", &ifname, path]) {
            panic!("{file}: {e}");
        }
        let dump = net.exec(&ns, &["wg", "show", &ifname, "dump"]);
        if *file == "gateway.conf" {
            assert!(
                dump.lines()
                    .next()
                    .expect("interface")
                    .contains("\t51820\t"),
                "{dump}"
            );
        } else {
            assert_eq!(dump.lines().count(), 3, "{dump}");
            assert!(dump.contains("192.0.2.1:51820"), "{dump}");
        }
    }
}

/// The scripts are valid POSIX shell.
#[test]
fn rendered_scripts_parse() {
    let inv = sample_inventory();
    for (site, name) in [("wireguard", "gw1"), ("fastd", "gw1")] {
        let tree = gateway_tree(&example(site), name, &inv).expect("renders");
        for entry in &tree.entries {
            if let Entry::File {
                path,
                content,
                format: Format::Shell,
                mode,
            } = entry
            {
                assert_eq!(*mode, 0o755);
                let o = Command::new("sh")
                    .args(["-n", "-c", content])
                    .output()
                    .expect("sh");
                assert!(o.status.success(), "{path}: {}", text(&o.stderr));
            }
        }
    }
}

/// Every inventory key is documented, and an inventory using all of them
/// parses (unknown keys are errors, so the list cannot hold a stale key).
#[test]
fn the_inventory_page_documents_every_key() {
    let page = std::fs::read_to_string(repo().join("book/src/inventory.md")).expect("page");
    let keys = [
        ("fastd_secret", "\"/s\""),
        ("wireguard_private_key", "\"/k\""),
        ("bind", "[\"any\"]"),
        ("interfaces", "\"systemd-networkd\""),
        ("offload", "true"),
        ("peers", "\"directory\""),
        ("peers_dir", "\"/p\""),
        ("config_dir", "\"/c\""),
        ("log_level", "\"debug\""),
        ("instance", "\"i\""),
        ("fastd_port", "1"),
        ("wireguard_port", "2"),
        ("tunneldigger_port", "3"),
        ("fastd_interface", "\"f\""),
        ("peer_interface", "\"p-%k\""),
        ("batman", "\"bat1\""),
        ("bridge", "\"br\""),
        ("wireguard_interface", "\"wg\""),
        ("vxlan_interface", "\"vx\""),
        ("uplink", "\"eth1\""),
        ("fastd_methods", "[\"salsa2012+umac\"]"),
        ("fastd_legacy_methods", "[\"salsa2012+gmac\"]"),
        ("fastd_peer_limit", "150"),
        ("fastd_on_verify", "[\"/usr/local/bin/limit\", \"verify\", \"$PEER_KEY\"]"),
        ("fastd_hide_ip_addresses", "true"),
        ("fastd_hide_mac_addresses", "false"),
        (
            "fastd_static_peers",
            "[{ name = \"sn01\", key = \"9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f\", remotes = [\"\\\"sn01.example.org\\\" port 10000\"] }]",
        ),
        (
            "fastd_extra_instances",
            "[{ name = \"legacy\", port = 10001, mtu = 1426, bind = [\"0.0.0.0\"] }]",
        ),
        ("batman_gateway_mode", "\"server\""),
        ("batman_gateway_bandwidth", "\"100mbit/100mbit\""),
        ("batman_hop_penalty", "30"),
        ("batman_ogm_interval", "5000"),
        ("wireguard_node_keys", "\"peers-wg\""),
    ];
    // the list here is the inventory's own (`domains` holds the tables)
    let mut listed: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    listed.push("domains");
    assert_eq!(listed, gluonvpn::render::inventory::KEYS);
    // and each key's rule is on the page
    let rules = page
        .split("The rules, by kind of value:")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the page lists the rules");
    for (key, _) in keys {
        assert!(
            rules.contains(&format!("`{key}`")),
            "{key} has no rule on the page"
        );
    }
    let mut text = String::from("[gateways.gw]\n");
    for (key, value) in keys {
        assert!(
            page.contains(&format!("| `{key}` |")),
            "{key} is not documented"
        );
        text.push_str(&format!("{key} = {value}\n"));
    }
    text.push_str("[gateways.gw.domains.d]\n");
    for (key, value) in keys {
        text.push_str(&format!("{key} = {value}\n"));
    }
    Inventory::parse(&text).expect("every key parses");
}

/// The book's vxlan.conf example is what gluonvpn renders.
#[test]
fn the_book_shows_real_output() {
    let page = std::fs::read_to_string(repo().join("book/src/render.md")).expect("page");
    let tree = node_tree("wireguard", GluonVersion::NEWEST);
    let rendered = tree
        .get("wireguard/vxlan.conf")
        .expect("vxlan.conf")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION");
    assert!(
        page.contains(&format!("```text\n{rendered}```")),
        "book/src/render.md's vxlan.conf example is out of date:\n{rendered}"
    );
}

/// `uci show`'s view of a parsed package.
fn uci_show(package: &str, parsed: &uci::Package) -> String {
    let quote = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
    let mut out = String::new();
    for section in &parsed.sections {
        let name = section.name.as_deref().expect("named sections");
        out.push_str(&format!("{package}.{name}={}\n", section.kind));
        for (option, value) in &section.options {
            let shown = match value {
                UciValue::Option(v) => quote(v),
                UciValue::List(vs) => vs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(" "),
            };
            out.push_str(&format!("{package}.{name}.{option}={shown}\n"));
        }
    }
    out
}

/// With OpenWrt's real `uci` (set GLUONVPN_UCI to its path; it is no
/// Debian package, so CI skips this), every rendered UCI file of the
/// example sites and the corpus reads the same in uci as in gluonvpn's
/// parser.
#[test]
fn real_uci_reads_the_files_as_gluonvpn_does() {
    let Some(uci_bin) = std::env::var_os("GLUONVPN_UCI") else {
        eprintln!("skipped: set GLUONVPN_UCI to an OpenWrt uci binary");
        return;
    };
    let mut sites: Vec<(PathBuf, GluonVersion)> = ["fastd", "wireguard", "multidomain"]
        .iter()
        .flat_map(|s| {
            [
                (example(s), GluonVersion::V2025_1),
                (example(s), GluonVersion::V2023_2),
            ]
        })
        .collect();
    if let Some(corpus) = corpus::corpus("UCI ON THE CORPUS SITES' FILES") {
        for name in corpus::site_names(&corpus) {
            sites.push((corpus.join(name), GluonVersion::V2023_2));
        }
    }
    let mut compared = 0;
    for (site, version) in sites {
        let outcome = load(&site, version);
        let Ok(tree) = node::render(&outcome.site, &NodeOptions::new(version)) else {
            continue;
        };
        let out = tempfile::tempdir().expect("tempdir");
        files::write(&tree, out.path(), false)
            .expect("write")
            .expect("fresh");
        for entry in &tree.entries {
            let Entry::File {
                path,
                content,
                format: Format::Uci,
                ..
            } = entry
            else {
                continue;
            };
            let file = out.path().join(path);
            let package = file.file_name().expect("name").to_str().expect("utf-8");
            let o = Command::new(&uci_bin)
                .arg("-c")
                .arg(file.parent().expect("dir"))
                .arg("-P")
                .arg(out.path().join(".uci-state"))
                .args(["show", package])
                .output()
                .expect("uci");
            assert!(
                o.status.success(),
                "{}: {path}: {}",
                site.display(),
                text(&o.stderr)
            );
            let ours = uci_show(package, &uci::parse(content).expect("parses"));
            assert_eq!(text(&o.stdout), ours, "{}: {path}", site.display());
            compared += 1;
        }
    }
    eprintln!("uci show agreed on {compared} files");
    assert!(compared > 10);
}

/// A tunneldigger gateway (Gluon up to v2023.2): the broker of the corpus
/// site ffdus, named by its host's first label.
#[test]
fn tunneldigger_broker() {
    let Some(corpus) = corpus::corpus("THE TUNNELDIGGER BROKER OF CORPUS SITE FFDUS") else {
        return;
    };
    let site = corpus.join("ffdus");
    let outcome = load(&site, GluonVersion::V2023_1);
    assert!(outcome.gluon_ok());
    let tree = gateway::render(
        &outcome.site,
        &inventory("[gateways.vpn01-dom0]\nbind = [\"192.0.2.1\", \"[2001:db8::1]\"]\n"),
        &GatewayOptions {
            version: GluonVersion::V2023_1,
            gateway: "vpn01-dom0".into(),
            domain: None,
        },
    )
    .expect("renders");
    let cfg = tree
        .get("tunneldigger/ffddorf_dom0/broker.cfg")
        .expect("broker.cfg");
    let ini = gluonvpn::render::formats::parse_ini(cfg).expect("ini");
    let broker = &ini.iter().find(|(s, _)| s == "broker").expect("[broker]").1;
    for (key, value) in [("address", "192.0.2.1"), ("port", "11000"), ("pmtu", "0")] {
        assert!(broker.contains(&(key.into(), value.into())), "{key}\n{cfg}");
    }
    assert!(tree
        .get("tunneldigger/ffddorf_dom0/session-up.sh")
        .is_some());
    // Without an IPv4 address the broker cannot listen.
    let e = gateway::render(
        &outcome.site,
        &inventory("[gateways.vpn01-dom0]\n"),
        &GatewayOptions {
            version: GluonVersion::V2023_1,
            gateway: "vpn01-dom0".into(),
            domain: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("IPv4"), "{e}");
}
