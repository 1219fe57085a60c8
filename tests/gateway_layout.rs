//! `render gateway` lays a gateway out as real communities run theirs:
//!
//! - inventories mirroring the public Ansible roles of Freifunk Hannover
//!   (ffh, ffh-wg), FreifunkBremen (ffhb) and freifunk-mwu (ffmwu), in
//!   tests/fixtures/gateways/ with the roles' files named in comments,
//!   rendered for the corpus sites, with the node-facing parameters those
//!   roles set checked, and every fastd config through the real
//!   `fastd --verify-config`;
//! - domains on one port share one fastd instance (ffmwu), or fail with a
//!   clear error when they are different meshes;
//! - default names never collide on any corpus site, and names that would
//!   (from the inventory) are errors naming both owners;
//! - no UDP port is bound twice;
//! - the nftables definitions pass the real `nft --check`.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;
#[path = "support/trees.rs"]
mod trees;

use gluonvpn::check::{self, CheckOptions, Outcome};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::render::gateway::{self, names, GatewayOptions, Summary};
use gluonvpn::render::inventory::Inventory;
use gluonvpn::render::{Entry, Tree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use trees::fastd_configs;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path, version: GluonVersion) -> Outcome {
    check::check(path, &CheckOptions::new(version)).expect("site loads")
}

fn fixture_inventory(name: &str) -> Inventory {
    Inventory::load(&repo().join("tests/fixtures/gateways").join(name)).expect("inventory")
}

fn options(gateway: &str, version: GluonVersion) -> GatewayOptions {
    GatewayOptions {
        version,
        gateway: gateway.into(),
        domain: None,
    }
}

/// A corpus site, loaded for a release Gluon accepts it in.
fn corpus_site(corpus: &Path, name: &str, version: GluonVersion) -> Outcome {
    let outcome = load(&corpus.join(name), version);
    assert!(outcome.gluon_ok(), "{name} is fine for Gluon {version}");
    outcome
}

fn file<'t>(tree: &'t Tree, path: &str) -> &'t str {
    tree.get(path).unwrap_or_else(|| {
        let paths: Vec<&str> = tree.entries.iter().map(Entry::path).collect();
        panic!("no {path} in {paths:?}")
    })
}

/// `fastd --verify-config` on each fastd config of a tree, with the secret
/// include pointing at a real secret. Needs fastd (installed by .ci/run).
fn fastd_verifies_all(tree: &Tree) -> usize {
    if !tools::installed("fastd") {
        return 0;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let secret = trees::secret_file(work.path());
    let peers = work.path().join("peers");
    std::fs::create_dir(&peers).expect("mkdir");
    let mut verified = 0;
    for (path, conf) in fastd_configs(tree) {
        trees::fastd_verifies(conf, &secret, Some(&peers), work.path())
            .unwrap_or_else(|e| panic!("{path}: {e}\n{conf}"));
        verified += 1;
    }
    verified
}

/// The statements of a fastd config, one per line, without comments.
fn statements(conf: &str) -> Vec<&str> {
    conf.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn methods(conf: &str) -> Vec<String> {
    statements(conf)
        .into_iter()
        .filter_map(|l| l.strip_prefix("method \""))
        .map(|m| m.trim_end_matches("\";").to_string())
        .collect()
}

/// Freifunk Hannover (fastd): one instance per domain on the site's port,
/// bound on 0.0.0.0 and [::], MTU 1394, `null` and `salsa2012+umac`,
/// peer limit 150, hidden addresses, batman-adv in gateway server mode with
/// hop penalty 30 and OGM interval 5 s; the role's names for the domains it
/// names.
#[test]
fn freifunk_hannover_fastd() {
    let Some(corpus) = corpus::corpus("RENDER GATEWAY FOR FREIFUNK HANNOVER") else {
        return;
    };
    let outcome = corpus_site(&corpus, "ffh", GluonVersion::NEWEST);
    let inventory = fixture_inventory("ffh.toml");
    let options = options("sn01", GluonVersion::NEWEST);
    let tree = gateway::render(&outcome.site, &inventory, &options).expect("renders");
    let summary = gateway::summary(&outcome.site, &inventory, &options).expect("lays out");
    assert_eq!(summary.fastd.len(), 16, "one instance per domain");
    for instance in &summary.fastd {
        let conf = file(&tree, &format!("fastd/{}/fastd.conf", instance.instance));
        let st = statements(conf);
        // the site's port: 10000 + the domain number, and 500 where the
        // site sends dom23's nodes (the site wins over the role's formula)
        let port = match instance.domains[0].as_str() {
            "dom0" => 10000,
            "dom23" => 500,
            d => 10000 + d.trim_start_matches("dom").parse::<u16>().expect("number"),
        };
        assert_eq!(instance.port, port, "{instance:?}");
        assert!(
            st.contains(&format!("bind 0.0.0.0:{port};").as_str()),
            "{conf}"
        );
        assert!(
            st.contains(&format!("bind [::]:{port};").as_str()),
            "{conf}"
        );
        assert!(st.contains(&"mtu 1394;"), "{conf}");
        assert_eq!(methods(conf), ["null", "salsa2012+umac"]);
        for line in [
            "peer limit 150;",
            "hide ip addresses yes;",
            "hide mac addresses yes;",
            "log level fatal;",
            "include peers from \"/etc/fastd/peers\";",
            "key \"2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3b5d7f9e0a2c4b6d8f1e3a\";",
            "remote \"sn02.s.ffh.zone\" port 10010;",
        ] {
            assert!(st.contains(&line), "{line} in {conf}");
        }
        let netdev = file(
            &tree,
            &format!("systemd/network/30-{}.netdev", instance.batman),
        );
        for line in [
            "Kind=batadv",
            "GatewayMode=server",
            "HopPenalty=30",
            "OriginatorIntervalSec=5000ms",
            "RoutingAlgorithm=batman-iv",
        ] {
            assert!(netdev.lines().any(|l| l == line), "{line} in {netdev}");
        }
    }
    let dom10 = summary
        .fastd
        .iter()
        .find(|f| f.domains == ["dom10"])
        .expect("dom10");
    assert_eq!(
        (
            dom10.instance.as_str(),
            dom10.interface.as_str(),
            dom10.batman.as_str()
        ),
        ("mesh_fastd_10", "mesh_fastd_10", "bat10")
    );
    // The role offers null but not null@l2tp: nodes in performance mode
    // (Gluon v2022.1 and later) fall back to null, and render says so.
    assert!(
        tree.notes.iter().any(|n| n.contains("nodes in performance mode propose null@l2tp first; this gateway does not offer it (fastd_methods), so they use null")),
        "{:#?}",
        tree.notes
    );
    assert!(fastd_verifies_all(&tree) >= 16 || !tools::installed("fastd"));
}

/// Freifunk Hannover (WireGuard, Gluon v2023.2): per domain `wg-<domain>`
/// listening on the site's port (518<id>), `fe80::1/64`, `vx-<domain>` with
/// the VXLAN IDs the role's domains.yml lists (computed there with its own
/// copy of Gluon's domain_seed_bytes), port 4789, local fe80::1, zero UDP
/// checksums; node peers from a peers-wg style directory.
#[test]
fn freifunk_hannover_wireguard() {
    let Some(corpus) = corpus::corpus("RENDER GATEWAY FOR FREIFUNK HANNOVER (WIREGUARD)") else {
        return;
    };
    let outcome = corpus_site(&corpus, "ffh-wg", GluonVersion::V2023_2);
    let inventory = fixture_inventory("ffh-wg.toml");
    let options = options("sn01", GluonVersion::V2023_2);
    let tree = gateway::render(&outcome.site, &inventory, &options).expect("renders");
    let summary = gateway::summary(&outcome.site, &inventory, &options).expect("lays out");
    // group_vars/all/domains.yml of freifunkh/ansible: `vxlanid` per domain
    let role_vnis: BTreeMap<&str, u32> = [
        ("dom10", 3308601),
        ("dom11", 14504941),
        ("dom12", 16157778),
        ("dom13", 426726),
        ("dom14", 8255093),
        ("dom15", 3439241),
        ("dom16", 16317534),
        ("dom17", 3067690),
        ("dom18", 3438683),
        ("dom19", 9253318),
        ("dom20", 7409314),
        ("dom21", 16399540),
        ("dom22", 7767125),
        ("dom23", 14408017),
        ("dom99", 9705333),
    ]
    .into_iter()
    .collect();
    let mut checked = 0;
    for wg in &summary.wireguard {
        let [(domain, vx, vni, batman)] = wg.vxlans.as_slice() else {
            panic!("one VXLAN per WireGuard interface: {wg:?}");
        };
        if let Some(expected) = role_vnis.get(domain.as_str()) {
            assert_eq!(vni, expected, "{domain}");
            let id: u16 = domain.trim_start_matches("dom").parse().expect("number");
            assert_eq!(wg.port, 51800 + id, "{domain}: ListenPort=518<id>");
            checked += 1;
        }
        let netdev = file(&tree, &format!("systemd/network/45-{vx}.netdev"));
        // The nodes' VXLAN MTU is the site's mesh_vpn.wireguard.mtu (1400);
        // the role's vxlan.conf.j2 gives the gateway's 1330 (1400 - 70).
        for line in [
            "MTUBytes=1400".to_string(),
            format!("VNI={vni}"),
            "Local=fe80::1".into(),
            "DestinationPort=4789".into(),
            "UDP6ZeroChecksumTx=yes".into(),
            "UDP6ZeroChecksumRx=yes".into(),
        ] {
            assert!(netdev.lines().any(|l| l == line), "{line} in {netdev}");
        }
        let network = file(
            &tree,
            &format!("systemd/network/40-{}.network", wg.interface),
        );
        assert!(
            network.lines().any(|l| l == "Address=fe80::1/64"),
            "{network}"
        );
        assert!(
            network.lines().any(|l| l == format!("VXLAN={vx}")),
            "{network}"
        );
        let vx_network = file(&tree, &format!("systemd/network/45-{vx}.network"));
        assert!(
            vx_network
                .lines()
                .any(|l| l == format!("BatmanAdvanced={batman}")),
            "{vx_network}"
        );
        let wg_netdev = file(
            &tree,
            &format!("systemd/network/40-{}.netdev", wg.interface),
        );
        assert!(
            wg_netdev
                .lines()
                .any(|l| l == format!("ListenPort={}", wg.port)),
            "{wg_netdev}"
        );
        // node peers: the node's link-local address from its key
        // (freifunkh's autoupdate_wg.py computes fe80::206:b6ff:feb0:f36d
        // for this key)
        assert!(
            wg_netdev.contains("PublicKey=A36Cc3vNy6D5naQs6fOTci1X8oEjSfhX5d+KDUFGM1Q=\nAllowedIPs=fe80::206:b6ff:feb0:f36d/128"),
            "{wg_netdev}"
        );
        assert_eq!(
            wg_netdev.matches("[WireGuardPeer]").count(),
            2,
            "{wg_netdev}"
        );
    }
    assert_eq!(checked, role_vnis.len());
    let dom10 = summary
        .meshes
        .iter()
        .find(|m| m.domains == ["dom10"])
        .expect("dom10");
    assert_eq!(dom10.batman, "bat10");
    // Secrets stay referenced by path.
    assert!(file(&tree, "systemd/network/40-wg-dom10.netdev")
        .contains("PrivateKeyFile=/etc/wireguard/sn01.key"));
    let glue = file(&tree, "systemd/system/wireguard-vxlan-glue.service");
    assert!(
        glue.contains("After=sys-subsystem-net-devices-vx\\x2ddom10.device"),
        "{glue}"
    );
}

/// FreifunkBremen: the site's instance on port 50000 (any) with MTU 1280,
/// a legacy instance on 0.0.0.0:10000 with MTU 1426 into the same mesh,
/// `null`, `salsa2012+umac` and the legacy `salsa2012+gmac`, peer limit
/// 200, the blacklist as `on verify`, batman-adv with gateway server
/// 100Mbit/100Mbit, hop penalty 96, OGM interval 5000 ms, bridge br-ffhb.
#[test]
fn freifunk_bremen() {
    let Some(corpus) = corpus::corpus("RENDER GATEWAY FOR FREIFUNKBREMEN") else {
        return;
    };
    let outcome = corpus_site(&corpus, "ffhb", GluonVersion::NEWEST);
    let inventory = fixture_inventory("ffhb.toml");
    let options = options("vpn07", GluonVersion::NEWEST);
    let tree = gateway::render(&outcome.site, &inventory, &options).expect("renders");
    let summary = gateway::summary(&outcome.site, &inventory, &options).expect("lays out");
    let by_name: BTreeMap<&str, _> = summary
        .fastd
        .iter()
        .map(|f| (f.instance.as_str(), f))
        .collect();
    let main = by_name["ffhb"];
    let legacy = by_name["ffhb-legacy"];
    assert_eq!(
        (
            main.port,
            main.binds.as_slice(),
            main.mtu.as_str(),
            main.interface.as_str()
        ),
        (50000, &["any".to_string()][..], "1280", "vpn-ffhb")
    );
    assert_eq!(
        (
            legacy.port,
            legacy.binds.as_slice(),
            legacy.mtu.as_str(),
            legacy.interface.as_str()
        ),
        (
            10000,
            &["0.0.0.0".to_string()][..],
            "1426",
            "vpn-ffhb-legacy"
        )
    );
    assert_eq!(main.batman, "bat-ffhb");
    assert_eq!(legacy.batman, "bat-ffhb");
    for instance in ["ffhb", "ffhb-legacy"] {
        let conf = file(&tree, &format!("fastd/{instance}/fastd.conf"));
        assert_eq!(methods(conf), ["null", "salsa2012+umac", "salsa2012+gmac"]);
        let st = statements(conf);
        for line in [
            "peer limit 200;",
            "hide ip addresses yes;",
            "hide mac addresses no;",
            "on verify \"/etc/fastd/ffhb/blacklist.sh /opt/ffhb/vpn-blacklist/blacklist.json\";",
            "include peers from \"/etc/fastd/ffhb/peers\";",
        ] {
            assert!(st.contains(&line), "{line} in {conf}");
        }
    }
    let up = file(&tree, "batman/bat-ffhb-up.sh");
    for line in [
        "\tip link add name bat-ffhb type batadv ra BATMAN_IV",
        "batctl meshif bat-ffhb gw_mode server 100mbit/100mbit",
        "batctl meshif bat-ffhb hop_penalty 96",
        "batctl meshif bat-ffhb orig_interval 5000",
        "ip link set dev bat-ffhb master br-ffhb",
    ] {
        assert!(up.lines().any(|l| l == line), "{line} in {up}");
    }
    assert_eq!(
        fastd_verifies_all(&tree),
        if tools::installed("fastd") { 2 } else { 0 }
    );
    let nft = file(&tree, "nftables/gluonvpn.nft");
    assert!(
        nft.contains("10000, # fastd ffhb-legacy") && nft.contains("50000 # fastd ffhb"),
        "{nft}"
    );
}

/// freifunk-mwu: ffmz with its aliases ffbin and ffrhg is one mesh on port
/// 10037, ffwi with ffta one on 10056: one fastd instance each (as the
/// community's gateways run them), only `salsa2012+umac`, fastd-limiter as
/// `on verify`, batman-adv gateway server 96mbit/96mbit, hop penalty 60,
/// OGM interval 10 s.
#[test]
fn freifunk_mwu_shares_ports() {
    let Some(corpus) = corpus::corpus("RENDER GATEWAY FOR FREIFUNK-MWU") else {
        return;
    };
    let outcome = corpus_site(&corpus, "ffmwu", GluonVersion::NEWEST);
    let inventory = fixture_inventory("ffmwu.toml");
    let options = options("lotuswurzel", GluonVersion::NEWEST);
    let tree = gateway::render(&outcome.site, &inventory, &options).expect("renders");
    let summary = gateway::summary(&outcome.site, &inventory, &options).expect("lays out");
    let ports: Vec<u16> = summary.fastd.iter().map(|f| f.port).collect();
    let unique: BTreeSet<u16> = ports.iter().copied().collect();
    assert_eq!(
        ports.len(),
        unique.len(),
        "every port bound once: {ports:?}"
    );
    let on = |port: u16| {
        summary
            .fastd
            .iter()
            .find(|f| f.port == port)
            .unwrap_or_else(|| panic!("an instance on {port}"))
    };
    assert_eq!(on(10037).domains, ["ffbin", "ffmz", "ffrhg"]);
    assert_eq!(on(10056).domains, ["ffta", "ffwi"]);
    assert_eq!(on(10000).domains, ["dom0"]);
    assert_eq!(summary.fastd.len(), 10);
    for instance in &summary.fastd {
        let conf = file(&tree, &format!("fastd/{}/fastd.conf", instance.instance));
        let st = statements(conf);
        assert_eq!(methods(conf), ["salsa2012+umac"]);
        for line in [
            format!("bind 192.0.2.23:{};", instance.port),
            format!("bind [2001:db8::23]:{};", instance.port),
            "mtu 1406;".into(),
            "on verify \"/usr/local/bin/fastd-limiter verify \\\"$PEER_KEY\\\"\";".into(),
            "hide ip addresses yes;".into(),
            "hide mac addresses yes;".into(),
        ] {
            assert!(st.contains(&line.as_str()), "{line} in {conf}");
        }
        let up = file(&tree, &format!("batman/{}-up.sh", instance.batman));
        assert!(
            up.lines().any(|l| l
                == format!(
                    "batctl meshif {} gw_mode server 96mbit/96mbit",
                    instance.batman
                )),
            "{up}"
        );
        assert!(up.lines().any(|l| l.ends_with("hop_penalty 60")), "{up}");
        assert!(
            up.lines().any(|l| l.ends_with("orig_interval 10000")),
            "{up}"
        );
    }
    assert_eq!(summary.meshes.len(), 10);
    assert_eq!(
        fastd_verifies_all(&tree),
        if tools::installed("fastd") { 10 } else { 0 }
    );
    // A render of one of them names the instance and mesh as the render of
    // all does.
    let one = GatewayOptions {
        domain: Some("ffmz".into()),
        ..options
    };
    let only = gateway::summary(&outcome.site, &inventory, &one).expect("lays out");
    let all_10037 = on(10037);
    assert_eq!(only.fastd.len(), 1);
    assert_eq!(
        (
            only.fastd[0].instance.as_str(),
            only.fastd[0].batman.as_str()
        ),
        (all_10037.instance.as_str(), all_10037.batman.as_str())
    );
}

/// The default names of every domain of every corpus site are distinct
/// (the 15-character cut made `bat-hannover_do` of dom10 and dom11, and
/// one `bat-ffddorf_dom` of eleven ffdus domains), valid interface names,
/// and the same whichever gateway renders them.
#[test]
fn default_names_never_collide_on_the_corpus() {
    let Some(corpus) = corpus::corpus("DEFAULT NAMES OF THE CORPUS DOMAINS") else {
        return;
    };
    let mut sites_with_long_codes = Vec::new();
    for site in corpus::site_names(&corpus) {
        let domains = corpus.join(&site).join("domains");
        let Ok(entries) = std::fs::read_dir(&domains) else {
            continue;
        };
        let codes: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".conf"))
                    .map(str::to_string)
            })
            .collect();
        for prefix in ["bat-", "vpn-", "wg-", "vx-"] {
            let mut seen: BTreeMap<String, &str> = BTreeMap::new();
            for code in &codes {
                let name = names::interface_name(prefix, code);
                assert!(name.len() <= 15, "{site}: {name}");
                assert!(
                    gluonvpn::render::inventory::rules::interface_name(&name).is_ok(),
                    "{site}: {name}"
                );
                if let Some(other) = seen.insert(name.clone(), code) {
                    panic!("{site}: {other} and {code} both get {name}");
                }
            }
        }
        let cut: BTreeSet<String> = codes
            .iter()
            .map(|c| format!("bat-{c}").chars().take(15).collect())
            .collect();
        if cut.len() < codes.len() {
            sites_with_long_codes.push(site);
        }
    }
    // The sites whose names the cut made collide are among them.
    for site in ["ffdus", "ffkbu-fastd", "ffnw", "tecff"] {
        assert!(
            sites_with_long_codes.iter().any(|s| s == site),
            "{site}: {sites_with_long_codes:?}"
        );
    }
}

/// ffdus (tunneldigger): one machine, a broker host per domain
/// (`vpn01-dom1.…`): each domain its own broker, port and batman-adv
/// interface, where the 15-character cut gave eleven of them one.
#[test]
fn ffdus_brokers_get_their_own_meshes() {
    let Some(corpus) = corpus::corpus("RENDER GATEWAY FOR FFDUS") else {
        return;
    };
    let outcome = corpus_site(&corpus, "ffdus", GluonVersion::V2023_1);
    let inventory = Inventory::parse("[gateways.vpn01]\nbind = [\"192.0.2.1\"]\n").expect("parses");
    let options = options("vpn01", GluonVersion::V2023_1);
    let tree = gateway::render(&outcome.site, &inventory, &options).expect("renders");
    let brokers: Vec<&str> = tree
        .entries
        .iter()
        .filter_map(|e| e.path().strip_suffix("/broker.cfg"))
        .collect();
    assert_eq!(brokers.len(), 19, "{brokers:?}");
    let summary = gateway::summary(&outcome.site, &inventory, &options).expect("lays out");
    let batman: BTreeSet<&str> = summary.meshes.iter().map(|m| m.batman.as_str()).collect();
    assert_eq!(batman.len(), 19);
    let mut session_masters = BTreeSet::new();
    for broker in &brokers {
        let up = file(&tree, &format!("{broker}/session-up.sh"));
        let master = up
            .lines()
            .find_map(|l| l.strip_prefix("ip link set dev \"$INTERFACE\" master "))
            .expect("the session joins a mesh");
        session_masters.insert(master.to_string());
    }
    assert_eq!(session_masters.len(), 19, "{session_masters:?}");
}

/// A copy of the multidomain example with edits to its domain files.
fn edited_multidomain(edit: impl Fn(&str, String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    trees::copy_tree_edited(&repo().join("site-examples/multidomain"), dir.path(), edit);
    dir
}

const NORD_KEY: &str = "4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a1f3a6c8e0b2d4f6a8c0e2b4d6f8a0c2e";

/// The multidomain example with `gw_nord` serving `sued` too (the same
/// key), on sued's port 10062 or, with `same_port`, on nord's 10061.
fn gateway_in_both_domains(same_port: bool) -> tempfile::TempDir {
    edited_multidomain(|name, text| {
        if name != "sued.conf" {
            return text;
        }
        let text = text
            .replace("gw_sued", "gw_nord")
            .replace(
                "e0d1c2b3a4958677e0d1c2b3a4958677e0d1c2b3a4958677e0d1c2b3a4958677",
                NORD_KEY,
            )
            .replace("gw-sued.example.org", "gw-nord.example.org");
        if same_port {
            text.replace("port 10062", "port 10061")
        } else {
            text
        }
    })
}

fn summary_of(site: &Path, inventory: &str, gateway: &str) -> Result<Summary, String> {
    let outcome = load(site, GluonVersion::NEWEST);
    assert!(outcome.gluon_ok(), "{}", site.display());
    let inventory = Inventory::parse(inventory).expect("inventory parses");
    gateway::summary(
        &outcome.site,
        &inventory,
        &options(gateway, GluonVersion::NEWEST),
    )
    .map_err(|e| e.to_string())
}

/// Two different meshes whose nodes reach the gateway on one port cannot
/// share an instance: the error names the port, both domains and why.
#[test]
fn different_meshes_on_one_port_are_an_error() {
    let apart = gateway_in_both_domains(false);
    let summary = summary_of(apart.path(), "[gateways.gw_nord]\n", "gw_nord").expect("lays out");
    assert_eq!(summary.fastd.len(), 2);
    let together = gateway_in_both_domains(true);
    let e = summary_of(together.path(), "[gateways.gw_nord]\n", "gw_nord").unwrap_err();
    assert!(
        e.contains("port 10061")
            && e.contains("domains nord and sued")
            && e.contains("one fastd instance cannot serve both")
            && e.contains("different meshes (prefix6"),
        "{e}"
    );
}

/// Names from the inventory that would join two meshes, and ports bound
/// twice, are errors naming both owners and the key.
#[test]
fn colliding_names_and_ports_are_errors() {
    let site = gateway_in_both_domains(false);
    let site = site.path();
    let e = summary_of(
        site,
        "[gateways.gw_nord]\nbatman = \"bat-one\"\n",
        "gw_nord",
    )
    .unwrap_err();
    assert!(
        e.contains("interface name `bat-one` would be used twice")
            && e.contains("domain nord")
            && e.contains("domain sued")
            && e.contains("set by `batman` in the inventory"),
        "{e}"
    );
    let e = summary_of(
        site,
        "[gateways.gw_nord.domains.nord]\nfastd_interface = \"vpn-x\"\n[gateways.gw_nord.domains.sued]\nfastd_interface = \"vpn-x\"\n",
        "gw_nord",
    )
    .unwrap_err();
    assert!(
        e.contains("`vpn-x`") && e.contains("fastd_interface"),
        "{e}"
    );
    // An extra instance on the port of another domain's instance.
    let e = summary_of(
        site,
        "[gateways.gw_nord.domains.nord]\nfastd_extra_instances = [{ name = \"old\", port = 10062 }]\n",
        "gw_nord",
    )
    .unwrap_err();
    assert!(e.contains("UDP port 10062 would be bound twice"), "{e}");
    // `any` overlaps an address of the port.
    let e = summary_of(
        site,
        "[gateways.gw_nord.domains.nord]\nfastd_extra_instances = [{ name = \"old\", port = 10062, bind = [\"192.0.2.1\"] }]\n",
        "gw_nord",
    )
    .unwrap_err();
    assert!(e.contains("would be bound twice"), "{e}");
    // Disjoint addresses of one port are fine.
    summary_of(
        site,
        "[gateways.gw_nord]\nbind = [\"192.0.2.2\"]\n[gateways.gw_nord.domains.nord]\nfastd_extra_instances = [{ name = \"old\", port = 10062, bind = [\"192.0.2.1\"] }]\n",
        "gw_nord",
    )
    .expect("192.0.2.1 and 192.0.2.2 are separate sockets");
}

/// The nftables definitions pass the real nft's check, included in a
/// ruleset with a drop policy (in a network namespace of its own).
#[test]
fn nftables_definitions_pass_nft() {
    let Some(corpus) = corpus::corpus("NFT --CHECK ON THE RENDERED PORTS") else {
        return;
    };
    if !tools::installed("nft") || !tools::installed("unshare") {
        assert!(!tools::in_ci(), "nft and unshare are installed under CI");
        tools::loud("\n*** SKIPPING nft --check: nft or unshare is missing ***\n");
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &str, GluonVersion); 2] = [
        ("ffh-wg.toml", "ffh-wg", GluonVersion::V2023_2),
        ("ffhb.toml", "ffhb", GluonVersion::NEWEST),
    ];
    for (inventory, site, version) in cases {
        let outcome = corpus_site(&corpus, site, version);
        let inventory = fixture_inventory(inventory);
        let gateway = inventory.gateways.keys().next().expect("a gateway").clone();
        let tree = gateway::render(&outcome.site, &inventory, &options(&gateway, version))
            .expect("renders");
        let nft = work.path().join("gluonvpn.nft");
        std::fs::write(&nft, file(&tree, "nftables/gluonvpn.nft")).expect("write");
        let vxlan = if tree
            .get("nftables/gluonvpn.nft")
            .is_some_and(|t| t.contains("gluonvpn_wireguard_interfaces"))
        {
            "iifname $gluonvpn_wireguard_interfaces udp dport $gluonvpn_vxlan_port accept\n"
        } else {
            ""
        };
        let ruleset = work.path().join("ruleset.nft");
        std::fs::write(
            &ruleset,
            format!(
                "include \"{}\"\ntable inet filter {{\n chain input {{\n  type filter hook input priority filter; policy drop;\n  udp dport $gluonvpn_udp_ports accept\n  {vxlan} }}\n}}\n",
                nft.display()
            ),
        )
        .expect("write");
        let out = Command::new("unshare")
            .args(["--net", "nft", "--check", "-f"])
            .arg(&ruleset)
            .output()
            .expect("unshare nft");
        assert!(
            out.status.success(),
            "{site}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The device units the glue's service waits for are named as systemd
/// names them (`systemd-escape --path`).
#[test]
fn device_units_as_systemd_escapes_them() {
    if !tools::installed("systemd-escape") {
        assert!(!tools::in_ci(), "systemd-escape is installed under CI");
        tools::loud("\n*** SKIPPING systemd-escape: it is missing ***\n");
        return;
    }
    for interface in ["vx-nord", "bat0", "wg_1.2", "vx-hann-0b7fe4", "a-b-c"] {
        let out = Command::new("systemd-escape")
            .args(["--path", "--suffix=device"])
            .arg(format!("/sys/subsystem/net/devices/{interface}"))
            .output()
            .expect("systemd-escape");
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            gateway::device_unit(interface),
            "{interface}"
        );
    }
}
