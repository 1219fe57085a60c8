//! End to end: the gateway layout of `gluonvpn render gateway` (one fastd
//! instance per port and bind addresses, names that stay distinct where
//! domain codes share their first 15 characters) run by real fastd daemons
//! in network namespaces, with a node of each domain connecting to it.
//!
//! The site is site-examples/multidomain with four domains of its own,
//! all served by the gateway `gw1`:
//!
//! | domain               | mesh (prefix4/6)  | gw1's fastd port |
//! |----------------------|-------------------|------------------|
//! | `freifunk_region_a1` | its own           | 10061            |
//! | `freifunk_region_a2` | its own           | 10062            |
//! | `stadt`              | shared            | 10063            |
//! | `stadt_alt`          | shared            | 10063            |
//!
//! The two `freifunk_region_a*` codes share their first 15 characters: a
//! name cut to 15 bytes (`bat-freifunk_re`, `vpn-freifunk_re`) would join
//! their meshes. `stadt` and `stadt_alt` are one mesh under two codes (the
//! same prefixes, different domain seeds) whose nodes reach gw1 on one
//! port: they must share one fastd instance. Two instances would bind the
//! same address and port, and one of them would exit at once (fastd v22:
//! `bind: Address already in use`, `unable to bind to …`), which the test
//! sees as a daemon that does not keep running, and as a port bound by
//! another process than its instance's.
//!
//! gw1's fastd key in every domain is the public key of a secret the test
//! generates, its remotes point at the gateway namespace's address, and the
//! inventory binds that one address, sets the interfaces up with fastd's
//! `on up` hooks and gives the secret's path.
//!
//! The network: a "gateway" namespace with a bridge `lan` (198.18.0.1/24)
//! and one "node" namespace per domain, joined to `lan` by a veth pair
//! (198.18.0.2/24, .3, …). The gateway runs the three rendered
//! fastd/<instance>/fastd.conf as they are; each node the node
//! configuration `gluonvpn render node` writes for its domain, with a fresh
//! secret. No batman-adv is needed (and the rendered batman/*-up.sh are not
//! run): each mesh's batman-adv interface is a Linux bridge of the name
//! `render gateway` gives it, which the instances' `on up` hooks put their
//! interfaces into. The gateway's fastd share one /run of the test's (as on
//! a gateway, so that their rendered status sockets must differ); each node
//! has its own.
//!
//! Checked: the layout (three instances, three meshes, distinct names and
//! ports), that all three gateway daemons run and each port is bound once,
//! by its own instance; each node's session with gw1, seen on both sides;
//! that each gateway instance has exactly the nodes of its domains; and
//! that each instance's interface is in its mesh's bridge.
//!
//! Needs root, iproute2 and fastd (and util-linux for unshare/mount); .ci/run
//! installs them. Elsewhere the test says why it skips; under CI (`CI`
//! set) a missing one fails it (see tests/common and gluonvpn-testnet).

mod common;

use common::{
    fastd_secret, fastd_statement, fastd_status, in_own_run, is_up, replace_all,
    spawn_with_own_run, Lab, GATEWAY_V4,
};
use gluonvpn::check::{self, CheckOptions};
use gluonvpn::diagnostics::Severity;
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::render::gateway::{self, FastdSummary, GatewayOptions, Summary};
use gluonvpn::render::inventory::Inventory;
use gluonvpn::render::node::{self, NodeOptions};
use gluonvpn::render::{files, Tree};
use gluonvpn_testnet::wait_for;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// fastd waits up to 3 s before its first handshake; this is ample.
const SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// What the test runs: `ss` for the bound ports, the rest as in
/// tests/e2e_render.rs.
const TOOLS: &[&str] = &["ip", "ss", "fastd", "unshare", "mount", "sh"];

/// The multidomain example's domain the test's domains are made from, and
/// what in it each of them replaces.
const TEMPLATE_DOMAIN: &str = "nord.conf";
const TEMPLATE_NAMES: &str = "    nord = 'Flussland Nord',\n    north = 'Flussland North',\n";
const TEMPLATE_SEED: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
/// The start of prefix4 and next_node.ip4 (`10.80.0.0/18`, `10.80.0.1`).
const TEMPLATE_V4: &str = "'10.80.0.";
/// The start of prefix6 and next_node.ip6.
const TEMPLATE_V6: &str = "'fd8a:2b1c:3d4e:1::";
const TEMPLATE_MESH_ID: &str = "'fffl-nord-mesh'";
const TEMPLATE_PEER: &str = "gw_nord = {";
const TEMPLATE_KEY: &str = "4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a1f3a6c8e0b2d4f6a8c0e2b4d6f8a0c2e";
const TEMPLATE_REMOTE: &str = "'\"gw-nord.example.org\" port 10061'";

/// One domain of the test's site.
struct Domain {
    code: &'static str,
    seed: &'static str,
    /// Replaces [`TEMPLATE_V4`]: the mesh's IPv4 prefix.
    v4: &'static str,
    /// Replaces [`TEMPLATE_V6`]: the mesh's IPv6 prefix.
    v6: &'static str,
    mesh_id: &'static str,
    /// gw1's fastd port in the domain (its remote).
    port: u16,
}

const DOMAINS: [Domain; 4] = [
    Domain {
        code: "freifunk_region_a1",
        seed: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        v4: "'10.80.0.",
        v6: "'fd8a:2b1c:3d4e:1::",
        mesh_id: "'fffl-a1-mesh'",
        port: 10061,
    },
    Domain {
        code: "freifunk_region_a2",
        seed: "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2",
        v4: "'10.80.64.",
        v6: "'fd8a:2b1c:3d4e:2::",
        mesh_id: "'fffl-a2-mesh'",
        port: 10062,
    },
    // stadt and stadt_alt: one mesh (same prefixes and mesh ID), two
    // codes; their seeds may differ (they only derive VXLAN IDs).
    Domain {
        code: "stadt",
        seed: "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        v4: "'10.80.128.",
        v6: "'fd8a:2b1c:3d4e:3::",
        mesh_id: "'fffl-stadt-mesh'",
        port: 10063,
    },
    Domain {
        code: "stadt_alt",
        seed: "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
        v4: "'10.80.128.",
        v6: "'fd8a:2b1c:3d4e:3::",
        mesh_id: "'fffl-stadt-mesh'",
        port: 10063,
    },
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------- the site

/// Writes the test's site into `dir`: the multidomain example's site.conf
/// (default domain `stadt`), site.mk and image-customization.lua, and one
/// domain file per [`DOMAINS`] entry made from the example's `nord`, with
/// gw1 (key `gateway_key`, remote the gateway's address and the domain's
/// port) as its only peer.
fn write_site(dir: &Path, gateway_key: &str) {
    let example = repo().join("site-examples/multidomain");
    let read = |name: &str| fs::read_to_string(example.join(name)).expect("example");
    fs::create_dir_all(dir.join("domains")).expect("mkdir");
    fs::write(dir.join("site.mk"), read("site.mk")).expect("write");
    fs::write(
        dir.join("image-customization.lua"),
        read("image-customization.lua"),
    )
    .expect("write");
    let site = replace_all(
        &read("site.conf"),
        "default_domain = 'nord',",
        "default_domain = 'stadt',",
    );
    fs::write(dir.join("site.conf"), site).expect("write");
    let template = read(&format!("domains/{TEMPLATE_DOMAIN}"));
    for domain in &DOMAINS {
        let mut text = template.clone();
        for (from, to) in [
            (TEMPLATE_NAMES, format!("    {0} = '{0}',\n", domain.code)),
            (TEMPLATE_SEED, domain.seed.to_string()),
            (TEMPLATE_V4, domain.v4.to_string()),
            (TEMPLATE_V6, domain.v6.to_string()),
            (TEMPLATE_MESH_ID, domain.mesh_id.to_string()),
            (TEMPLATE_PEER, "gw1 = {".to_string()),
            (TEMPLATE_KEY, gateway_key.to_string()),
            (
                TEMPLATE_REMOTE,
                format!("'\"{GATEWAY_V4}\" port {}'", domain.port),
            ),
        ] {
            text = replace_all(&text, from, &to);
        }
        fs::write(dir.join(format!("domains/{}.conf", domain.code)), text).expect("write");
    }
}

// ------------------------------------------------------------ the layout

/// The instance serving `code`.
fn instance_of<'s>(summary: &'s Summary, code: &str) -> &'s FastdSummary {
    let mut serving = summary
        .fastd
        .iter()
        .filter(|f| f.domains.iter().any(|d| d == code));
    let instance = serving
        .next()
        .unwrap_or_else(|| panic!("no fastd instance serves {code}: {summary:#?}"));
    assert!(
        serving.next().is_none(),
        "two fastd instances serve {code}: {summary:#?}"
    );
    instance
}

/// Whether `name` is a shortened default name: `prefix`, a head of the code,
/// `-` and six lower-case hex digits (the code's hash).
fn is_hashed_name(name: &str, prefix: &str) -> bool {
    let Some((head, hash)) = name.rsplit_once('-') else {
        return false;
    };
    head.starts_with(prefix)
        && hash.len() == 6
        && hash
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// What `summary()` says the gateway runs: three instances (the two
/// `stadt` domains share one) on three ports, in three meshes, with names
/// that fit and differ where the codes' first 15 characters do not.
fn check_layout(summary: &Summary) {
    assert_eq!(summary.fastd.len(), 3, "{summary:#?}");
    assert_eq!(summary.meshes.len(), 3, "{summary:#?}");
    assert!(summary.wireguard.is_empty(), "{summary:#?}");

    // One instance per port, each port once: were `stadt` and `stadt_alt`
    // two instances, 10063 would be here twice.
    let ports: Vec<u16> = summary.fastd.iter().map(|f| f.port).collect();
    let distinct: BTreeSet<u16> = ports.iter().copied().collect();
    assert_eq!(distinct.len(), ports.len(), "{summary:#?}");
    for domain in &DOMAINS {
        assert_eq!(instance_of(summary, domain.code).port, domain.port);
    }
    for instance in &summary.fastd {
        assert_eq!(instance.binds, [GATEWAY_V4], "{instance:?}");
        assert_eq!(instance.mtu, "1312", "{instance:?}");
        assert!(
            instance.methods.iter().any(|m| m == "salsa2012+umac"),
            "{instance:?}"
        );
    }

    // stadt and stadt_alt: one instance, one mesh, on 10063.
    let stadt = instance_of(summary, "stadt");
    assert_eq!(stadt.domains, ["stadt", "stadt_alt"], "{stadt:?}");
    assert_eq!(stadt.port, 10063);
    let stadt_mesh = summary
        .meshes
        .iter()
        .find(|m| m.batman == stadt.batman)
        .expect("the stadt mesh");
    assert_eq!(stadt_mesh.domains, ["stadt", "stadt_alt"], "{summary:#?}");

    // The long codes: an instance and a mesh each, with names that fit 15
    // bytes, carry the code's hash and differ; none is the 15-byte cut of
    // the readable name (which both codes would share).
    let a1 = instance_of(summary, "freifunk_region_a1");
    let a2 = instance_of(summary, "freifunk_region_a2");
    for (instance, code) in [(a1, "freifunk_region_a1"), (a2, "freifunk_region_a2")] {
        assert_eq!(instance.domains, [code], "{instance:?}");
        let mesh = summary
            .meshes
            .iter()
            .find(|m| m.batman == instance.batman)
            .expect("its mesh");
        assert_eq!(mesh.domains, [code], "{summary:#?}");
        for (name, prefix) in [(&instance.batman, "bat-"), (&instance.interface, "vpn-")] {
            assert!(name.len() <= 15, "{name} is too long for Linux");
            assert!(is_hashed_name(name, prefix), "{name}");
            let cut = &format!("{prefix}{code}")[..15];
            assert_ne!(name, cut, "{name} is the cut name both codes share");
        }
    }
    assert_ne!(a1.instance, a2.instance);
    assert_ne!(a1.batman, a2.batman);
    assert_ne!(a1.interface, a2.interface);

    // Every name once: no two instances share an interface, no two meshes
    // a batman-adv interface, and no interface is another's batman name.
    let mut names: Vec<&str> = summary.meshes.iter().map(|m| m.batman.as_str()).collect();
    names.extend(summary.fastd.iter().map(|f| f.interface.as_str()));
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    let instances: BTreeSet<&str> = summary.fastd.iter().map(|f| f.instance.as_str()).collect();
    assert_eq!(instances.len(), 3, "{summary:#?}");
}

/// The rendered fastd.conf of each instance says what the summary does:
/// its bind, interface and mesh, and a status socket of its own.
fn check_fastd_configs(summary: &Summary, tree: &Tree) {
    let mut sockets = BTreeSet::new();
    for instance in &summary.fastd {
        let path = format!("fastd/{}/fastd.conf", instance.instance);
        let conf = tree
            .get(&path)
            .unwrap_or_else(|| panic!("no {path} in the gateway's tree"));
        assert_eq!(
            fastd_statement(conf, "bind").as_deref(),
            Some(format!("{GATEWAY_V4}:{}", instance.port).as_str()),
            "{conf}"
        );
        assert_eq!(
            fastd_statement(conf, "interface").as_deref(),
            Some(instance.interface.as_str()),
            "{conf}"
        );
        assert!(
            conf.contains(&format!("master {} &&", instance.batman)),
            "the on up hook puts the interface into {}: {conf}",
            instance.batman
        );
        let socket = fastd_statement(conf, "status socket").expect("status socket");
        assert!(sockets.insert(socket.clone()), "{socket} twice");
    }
}

// ------------------------------------------------------------- the test

/// A node of one domain, running.
struct NodeRun {
    code: &'static str,
    /// The node's public key.
    key: String,
    /// Its address on the LAN.
    address: String,
    /// Its status socket, as the host sees it.
    socket: PathBuf,
    index: usize,
}

/// A gateway fastd instance, running.
struct InstanceRun {
    summary: FastdSummary,
    socket: PathBuf,
    index: usize,
}

/// The keys of the peers with an established connection in a fastd status.
fn established(status: &serde_json::Value) -> BTreeSet<String> {
    status["peers"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, peer)| peer["connection"].is_object())
        .map(|(key, _)| key.clone())
        .collect()
}

/// The UDP ports bound in a namespace, with the process id of each socket
/// (`ss -Hlunp`): `(local address, pid)` per socket.
fn udp_sockets(lab: &Lab, ns: &str) -> Vec<(String, Option<u32>)> {
    lab.net
        .exec(ns, &["ss", "-Hlunp"])
        .lines()
        .filter_map(|line| {
            let local = line.split_whitespace().nth(3)?.to_string();
            let pid = line
                .split("pid=")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|pid| pid.parse().ok());
            Some((local, pid))
        })
        .collect()
}

/// Issue 14's acceptance test (see the module documentation).
#[test]
fn long_codes_and_a_shared_port_run_side_by_side() {
    let what = "the gateway layout end-to-end test";
    let Some(mut lab) = Lab::new(what, TOOLS) else {
        return;
    };
    let gw = lab.gateway.clone();
    let dir = lab.net.dir().to_path_buf();

    // ---- The site, the inventory, the layout.
    let gateway_secret = dir.join("gw1-secret.conf");
    let gateway_key = fastd_secret(&gateway_secret);
    let site_dir = dir.join("site");
    write_site(&site_dir, &gateway_key);
    let outcome =
        check::check(&site_dir, &CheckOptions::new(GluonVersion::NEWEST)).expect("the site loads");
    // Valid for `gluonvpn check`: Gluon's checks pass, and gluonvpn's own
    // find no error either.
    assert!(
        outcome.gluon_ok(),
        "Gluon would refuse the test's site: {:#?}",
        outcome.report.diagnostics
    );
    let errors: Vec<_> = outcome
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let site = outcome.site;
    let config_dir = dir.join("gateway");
    let inventory = Inventory::parse(&format!(
        "[gateways.gw1]\n\
         fastd_secret = \"{}\"\n\
         bind = [\"{GATEWAY_V4}\"]\n\
         interfaces = \"hooks\"\n\
         offload = false\n\
         peers = \"any\"\n\
         config_dir = \"{}\"\n",
        gateway_secret.display(),
        config_dir.display()
    ))
    .expect("the inventory parses");
    let options = GatewayOptions {
        version: GluonVersion::NEWEST,
        gateway: "gw1".into(),
        domain: None,
    };
    let summary = gateway::summary(&site, &inventory, &options).expect("lays out");
    check_layout(&summary);
    let tree = gateway::render(&site, &inventory, &options).expect("renders");
    // The secret is readable, so it was checked against the site's key.
    assert!(
        !tree.notes.iter().any(|n| n.contains("not checked")),
        "{:?}",
        tree.notes
    );
    check_fastd_configs(&summary, &tree);
    files::write(&tree, &config_dir, false)
        .expect("writes the gateway's tree")
        .unwrap_or_else(|conflicts| panic!("{conflicts:?}"));

    // ---- The network: one LAN segment, a bridge in the gateway namespace
    // carrying the gateway's address, which the lab's veth (and its node
    // namespace, the first domain's) and one new namespace per further
    // domain join.
    lab.net.ip(&gw, &["address", "flush", "dev", "veth-gw"]);
    lab.net.ip(&gw, &["link", "add", "lan", "type", "bridge"]);
    lab.net
        .ip(&gw, &["link", "set", "veth-gw", "master", "lan", "up"]);
    lab.net.ip(
        &gw,
        &["address", "add", &format!("{GATEWAY_V4}/24"), "dev", "lan"],
    );
    lab.net.ip(&gw, &["link", "set", "lan", "up"]);
    let mut node_namespaces = vec![(lab.node.clone(), common::NODE_V4.to_string())];
    for i in 1..DOMAINS.len() {
        let ns = lab.net.netns(&format!("n{i}"));
        let port = format!("veth-n{i}");
        lab.net.veth(&gw, &port, &ns, "veth-node");
        lab.net
            .ip(&gw, &["link", "set", &port, "master", "lan", "up"]);
        let address = format!("198.18.0.{}", 2 + i);
        lab.net.ip(
            &ns,
            &[
                "address",
                "add",
                &format!("{address}/24"),
                "dev",
                "veth-node",
            ],
        );
        node_namespaces.push((ns, address));
    }

    // ---- The meshes: a bridge per batman-adv interface of the layout,
    // standing in for batman-adv (the rendered batman/*-up.sh need it).
    for mesh in &summary.meshes {
        lab.net
            .ip(&gw, &["link", "add", &mesh.batman, "type", "bridge"]);
        lab.net.ip(&gw, &["link", "set", &mesh.batman, "up"]);
    }

    // ---- The gateway: every rendered instance, as written, sharing the
    // gateway's /run.
    let gateway_run = dir.join("gateway-run");
    let mut instances = Vec::new();
    for instance in &summary.fastd {
        let conf = config_dir.join(format!("fastd/{}/fastd.conf", instance.instance));
        let text = fs::read_to_string(&conf).expect("written fastd.conf");
        let socket = in_own_run(
            &gateway_run,
            &fastd_statement(&text, "status socket").expect("status socket"),
        );
        // --log-level adds stderr (the log file) to the config's logging.
        let index = spawn_with_own_run(
            &mut lab,
            &gw,
            &format!("fastd-gw-{}", instance.instance),
            &gateway_run,
            &[
                "fastd",
                "--config",
                conf.to_str().expect("path"),
                "--log-level",
                "verbose",
            ],
        );
        instances.push(InstanceRun {
            summary: instance.clone(),
            socket,
            index,
        });
    }
    // All three start: each answers on its status socket and keeps
    // running.
    for instance in &instances {
        wait_for(Duration::from_secs(10), || {
            lab.net.assert_running(instance.index);
            fastd_status(&instance.socket)
        })
        .unwrap_or_else(|| {
            panic!(
                "fastd {} does not answer on {}{}",
                instance.summary.instance,
                instance.socket.display(),
                lab.net.logs()
            )
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    for instance in &instances {
        lab.net.assert_running(instance.index);
    }
    // Each port is bound once, on the inventory's address, by the process
    // of its own instance (fastd is what `ip netns exec`, unshare and sh
    // exec, so its pid is the spawned one's).
    let sockets = udp_sockets(&lab, &gw);
    assert_eq!(sockets.len(), instances.len(), "{sockets:?}");
    for instance in &instances {
        let local = format!("{GATEWAY_V4}:{}", instance.summary.port);
        let bound: Vec<_> = sockets.iter().filter(|(l, _)| *l == local).collect();
        let pid = lab.net.proc(instance.index).pid();
        assert_eq!(
            bound,
            [&(local.clone(), Some(pid))],
            "{local}, by fastd {} (pid {pid}): {sockets:?}",
            instance.summary.instance
        );
    }

    // ---- A node per domain: what `render node` writes for it, with a
    // fresh secret, in its namespace with its own /run.
    let mut nodes = Vec::new();
    for (domain, (ns, address)) in DOMAINS.iter().zip(&node_namespaces) {
        let mut node_options = NodeOptions::new(GluonVersion::NEWEST);
        node_options.domain = Some(domain.code.to_string());
        let node_tree = node::render(&site, &node_options).expect("renders the node");
        let out = dir.join(format!("node-{}", domain.code));
        files::write(&node_tree, &out, false)
            .expect("writes the node's tree")
            .unwrap_or_else(|conflicts| panic!("{conflicts:?}"));
        let conf = out.join("fastd/fastd.conf");
        let text = fs::read_to_string(&conf).expect("the node's fastd.conf");
        // The emulation config includes secret.conf beside it.
        let key = fastd_secret(&out.join("fastd/secret.conf"));
        let run = dir.join(format!("node-{}-run", domain.code));
        let socket = in_own_run(
            &run,
            &fastd_statement(&text, "status socket").expect("status socket"),
        );
        let index = spawn_with_own_run(
            &mut lab,
            ns,
            &format!("fastd-node-{}", domain.code),
            &run,
            &[
                "fastd",
                "--config",
                conf.to_str().expect("path"),
                "--log-level",
                "verbose",
            ],
        );
        nodes.push(NodeRun {
            code: domain.code,
            key,
            address: address.clone(),
            socket,
            index,
        });
    }

    // ---- Sessions: each node has one with gw1, and the instance of its
    // domain has one with the node.
    for node in &nodes {
        let instance = instances
            .iter()
            .find(|i| i.summary.domains.iter().any(|d| d == node.code))
            .expect("the domain's instance");
        let session = wait_for(SESSION_TIMEOUT, || {
            lab.net.assert_running(node.index);
            lab.net.assert_running(instance.index);
            let on_node = established(&fastd_status(&node.socket)?).contains(&gateway_key);
            let on_gateway = established(&fastd_status(&instance.socket)?).contains(&node.key);
            (on_node && on_gateway).then_some(())
        });
        session.unwrap_or_else(|| {
            panic!(
                "domain {}: no session between the node {} and fastd {} after {SESSION_TIMEOUT:?} (node {:?}, gateway {:?}){}",
                node.code,
                node.key,
                instance.summary.instance,
                fastd_status(&node.socket),
                fastd_status(&instance.socket),
                lab.net.logs()
            )
        });
    }

    // ---- Each instance has exactly the nodes of its domains, from their
    // namespaces, on its own interface: the two `stadt*` nodes on the one
    // shared instance, each long-code node on its own.
    let expected: BTreeMap<&str, BTreeSet<String>> = instances
        .iter()
        .map(|i| {
            let keys = nodes
                .iter()
                .filter(|n| i.summary.domains.iter().any(|d| d == n.code))
                .map(|n| n.key.clone())
                .collect();
            (i.summary.instance.as_str(), keys)
        })
        .collect();
    for instance in &instances {
        let status = fastd_status(&instance.socket).expect("status");
        let name = instance.summary.instance.as_str();
        assert_eq!(
            established(&status),
            expected[name],
            "the nodes of fastd {name}: {status:#}"
        );
        assert_eq!(
            status["interface"].as_str(),
            Some(instance.summary.interface.as_str()),
            "{status:#}"
        );
        for node in nodes.iter().filter(|n| expected[name].contains(&n.key)) {
            let from = status["peers"][&node.key]["address"].as_str();
            assert!(
                from.is_some_and(|a| a.starts_with(&format!("{}:", node.address))),
                "fastd {name}: the node of {} connects from {from:?}, not {}",
                node.code,
                node.address
            );
        }
    }
    let stadt = &expected[instance_of(&summary, "stadt").instance.as_str()];
    assert_eq!(stadt.len(), 2, "both stadt nodes on one instance");
    for code in ["freifunk_region_a1", "freifunk_region_a2"] {
        assert_eq!(
            expected[instance_of(&summary, code).instance.as_str()].len(),
            1
        );
    }

    // ---- The instances' `on up` hooks have put each interface, up, into
    // its own mesh's bridge, and only there.
    for instance in &instances {
        let (ifname, batman) = (&instance.summary.interface, &instance.summary.batman);
        let ports = wait_for(Duration::from_secs(10), || {
            let ports = lab.ports(&gw, batman);
            let up = lab.link(&gw, ifname).is_some_and(|l| is_up(&l));
            (up && !ports.is_empty()).then_some(ports)
        })
        .unwrap_or_else(|| panic!("{ifname} is not up in {batman}{}", lab.net.logs()));
        assert_eq!(ports, [ifname.as_str()], "the ports of {batman}");
        let link = lab.link(&gw, ifname).expect("link");
        assert_eq!(link["master"].as_str(), Some(batman.as_str()), "{link}");
        assert_eq!(link["linkinfo"]["info_kind"], "tun", "{link}");
        assert_eq!(link["mtu"].as_u64(), Some(1312), "{link}");
    }

    // Nothing ended on the way.
    for index in instances
        .iter()
        .map(|i| i.index)
        .chain(nodes.iter().map(|n| n.index))
    {
        lab.net.assert_running(index);
    }
}
