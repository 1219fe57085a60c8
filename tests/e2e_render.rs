//! End to end: what `gluonvpn render node` and `gluonvpn render gateway`
//! write, run by the real daemons — a "node" and a "gateway" network
//! namespace joined by a veth pair (tests/common, on gluonvpn-testnet),
//! each running the configuration rendered for it, until they have a
//! session and ping each other over the mesh interfaces with full-size
//! packets.
//!
//! - fastd: the node runs the rendered emulation config (fastd/fastd.conf,
//!   its peer directories and a secret.conf the test writes), the gateway
//!   the rendered fastd/<instance>/fastd.conf with its `on up` hooks. The
//!   site is site-examples/fastd with the gateway peer `gw1`'s key replaced
//!   by the key of a secret the test generates and its remotes pointing at
//!   the gateway's veth address; the inventory names that secret. Each
//!   method (salsa2012+umac, null, null@l2tp) and the gateway's L2TP
//!   offload where the kernel has L2TP.
//! - WireGuard: the gateway runs the rendered <wg>-up.sh (its `wg setconf`
//!   file, the inventory's private key, fe80::1/64, the VXLAN with the
//!   domain's VNI) on a wireguard-go interface; the node sets up
//!   wireguard-go and its VXLAN from wireguard/peers.conf and
//!   wireguard/vxlan.conf as Gluon's gluon_wireguard proto does.
//!
//! No batman-adv is needed: the batman-adv interface the gateway's files
//! attach their interfaces to (bat0) is a Linux bridge here, which is
//! layer 2 as batman-adv is. Each daemon runs with its own /run (a private
//! mount namespace binds a directory of the test's there), so that the
//! rendered status socket paths are used unchanged and several runs do not
//! collide.
//!
//! Needs root, iproute2, fastd, wireguard-tools, wireguard-go, ping
//! (iputils-ping) and util-linux; .ci/run installs them. Elsewhere the tests
//! say why they skip; under CI (`CI` set) a missing one fails them. A kernel
//! without L2TP (l2tp_netlink, l2tp_eth) cannot offload: the offload tests
//! then check that fastd refuses the config for exactly that reason, and
//! say that they skip the session.

mod common;

use common::{
    fastd_secret, fastd_statement, fastd_status, host_tool, in_own_run, is_up, replace_all,
    spawn_with_own_run, text, write_secret, Lab, GATEWAY_V4,
};
use gluonvpn_testnet::{find_program, path_env, wait_for};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The mesh's addresses: on the gateway's bat0, and on the node's mesh
/// interface.
const GATEWAY_MESH: &str = "fd00:e2e::1";
const NODE_MESH: &str = "fd00:e2e::2";

/// fastd waits up to 3 s before its first handshake; this is ample.
const SESSION_TIMEOUT: Duration = Duration::from_secs(20);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs gluonvpn, which must succeed; returns what it printed.
/// `gluonvpn render node` and `render gateway --gateway gw1` of a site; what
/// the latter prints.
fn render_node_and_gw1(
    site: &Path,
    inventory: &Path,
    node_out: &Path,
    gateway_out: &Path,
) -> String {
    let site = site.to_str().expect("path");
    gluonvpn(&[
        "render",
        "node",
        site,
        "--out",
        node_out.to_str().expect("path"),
    ]);
    gluonvpn(&[
        "render",
        "gateway",
        site,
        "--gateway",
        "gw1",
        "--inventory",
        inventory.to_str().expect("path"),
        "--out",
        gateway_out.to_str().expect("path"),
    ])
}

fn gluonvpn(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs gluonvpn");
    assert!(
        out.status.success(),
        "gluonvpn {}: {:?}\n{}{}",
        args.join(" "),
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// The line range of the table `name = { … },` in a site.conf.
fn table_lines(lines: &[String], name: &str) -> std::ops::Range<usize> {
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("{name} = {{"))
        .unwrap_or_else(|| panic!("the example no longer has a table {name}: update this test"));
    let indent = &lines[start][..lines[start].len() - lines[start].trim_start().len()];
    let end = lines[start..]
        .iter()
        .position(|l| *l == format!("{indent}}},"))
        .expect("end of the table")
        + start;
    start..end + 1
}

/// A site.conf of an example with the gateway peer `gw1` edited by `gw1`
/// (line by line) and the peer `gw2` left out: the test runs one gateway.
fn edit_gateways(site: &str, gw1: impl Fn(&str) -> String) -> String {
    let mut lines: Vec<String> = site.lines().map(str::to_string).collect();
    let gw2 = table_lines(&lines, "gw2");
    lines.drain(gw2);
    let gw1_lines = table_lines(&lines, "gw1");
    for line in &mut lines[gw1_lines] {
        *line = gw1(line);
    }
    lines.join("\n") + "\n"
}

/// Copies an example site into `dir`, with its site.conf and
/// image-customization.lua edited.
fn write_site(
    example: &str,
    dir: &Path,
    site: impl FnOnce(String) -> String,
    image: impl FnOnce(String) -> String,
) -> PathBuf {
    let from = repo().join("site-examples").join(example);
    fs::create_dir_all(dir).expect("mkdir");
    let read = |name: &str| fs::read_to_string(from.join(name)).expect("example");
    fs::write(dir.join("site.mk"), read("site.mk")).expect("write");
    fs::write(dir.join("site.conf"), site(read("site.conf"))).expect("write");
    fs::write(
        dir.join("image-customization.lua"),
        image(read("image-customization.lua")),
    )
    .expect("write");
    dir.to_path_buf()
}

/// Whether this kernel can run fastd's L2TP offload: the l2tp generic
/// netlink family (l2tp_netlink) for the tunnels and l2tp_eth for the
/// sessions' Ethernet interfaces.
fn kernel_has_l2tp() -> bool {
    for module in ["l2tp_netlink", "l2tp_eth"] {
        if let Some(modprobe) = find_program("modprobe") {
            let _ = Command::new(modprobe)
                .arg(module)
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
    let netlink = Command::new(find_program("ip").expect("ip"))
        .args(["l2tp", "show", "tunnel"])
        .output()
        .is_ok_and(|o| o.status.success());
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let builtin = fs::read_to_string(format!("/lib/modules/{}/modules.builtin", release.trim()))
        .unwrap_or_default();
    let eth = Path::new("/sys/module/l2tp_eth").exists() || builtin.contains("/l2tp_eth.ko");
    netlink && eth
}

/// Pings `to` from a namespace with packets that fill `mtu` exactly (IPv6
/// header 40 + ICMPv6 8 + payload) and may not be fragmented; some must
/// come back within `timeout`.
fn ping_full_size(
    lab: &Lab,
    ns: &str,
    to: &str,
    mtu: u32,
    timeout: Duration,
) -> Result<(), String> {
    let size = (mtu - 48).to_string();
    let mut last = String::new();
    let found = wait_for(timeout, || {
        let out = lab
            .net
            .command(
                ns,
                "ping",
                &[
                    "-6", "-n", "-c", "3", "-i", "0.2", "-W", "1", "-M", "do", "-s", &size, to,
                ],
            )
            .output()
            .expect("ping");
        last = format!("{}{}", text(&out.stdout), text(&out.stderr));
        out.status.success().then_some(())
    });
    found.ok_or(last)
}

/// The MTU of a link from `Lab::link`.
fn mtu(link: &serde_json::Value) -> u64 {
    link["mtu"].as_u64().expect("mtu")
}

// ---------------------------------------------------------------- fastd

const FASTD_TOOLS: &[&str] = &["ip", "fastd", "ping", "unshare", "mount", "sh"];

/// gw1's key in site-examples/fastd.
const EXAMPLE_GW1_KEY: &str = "9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f";

struct FastdCase {
    what: &'static str,
    /// `mesh_vpn.fastd.methods` of the site (the inside of a Lua list).
    methods: &'static str,
    configurable: bool,
    /// The images contain gluon-mesh-vpn-fastd-l2tp: the node runs fastd
    /// in multitap mode with `offload l2tp yes`.
    node_offload: bool,
    /// The inventory's `offload` for the gateway.
    gateway_offload: bool,
    /// The method the two must agree on.
    method: &'static str,
}

/// Renders the node's and the gateway's trees for `case`: returns the
/// node's fastd.conf, the gateway's, and the public keys of node and
/// gateway.
fn render_fastd(lab: &Lab, case: &FastdCase) -> (PathBuf, PathBuf, String, String) {
    let dir = lab.net.dir();
    let gateway_public = fastd_secret(&dir.join("gateway-secret.conf"));
    let site = write_site(
        "fastd",
        &dir.join("site"),
        |site| {
            let site = edit_gateways(&site, |line| {
                line.replace(EXAMPLE_GW1_KEY, &gateway_public)
                    .replace("gw1.example.org", GATEWAY_V4)
            });
            assert!(site.contains(&gateway_public) && site.contains(GATEWAY_V4));
            let site = replace_all(
                &site,
                "methods = { 'salsa2012+umac' },",
                &format!("methods = {{ {} }},", case.methods),
            );
            replace_all(
                &site,
                "configurable = true,",
                &format!("configurable = {},", case.configurable),
            )
        },
        |image| {
            let mut image = image;
            if !case.node_offload {
                image = replace_all(&image, "  'mesh-vpn-fastd-l2tp',\n", "");
            }
            if !case.configurable {
                // gluon-web-mesh-vpn-fastd needs `configurable = true`;
                // fastd without its web page.
                image = replace_all(&image, "  'web-mesh-vpn-fastd',\n", "  'mesh-vpn-fastd',\n");
            }
            image
        },
    );
    let inventory = dir.join("inventory.toml");
    fs::write(
        &inventory,
        format!(
            "[gateways.gw1]\nfastd_secret = \"{}\"\nbind = [\"0.0.0.0\", \"[::]\"]\noffload = {}\ninterfaces = \"hooks\"\npeers = \"any\"\n",
            dir.join("gateway-secret.conf").display(),
            case.gateway_offload
        ),
    )
    .expect("write inventory");
    let node_out = dir.join("node");
    let gateway_out = dir.join("gateway");
    let rendered = render_node_and_gw1(&site, &inventory, &node_out, &gateway_out);
    // The inventory's secret is readable, so it was checked against the
    // site's key for gw1.
    assert!(!rendered.contains("not checked"), "{rendered}");
    let node_conf = node_out.join("fastd/fastd.conf");
    // The emulation config includes secret.conf beside it.
    let node_public = fastd_secret(&node_out.join("fastd/secret.conf"));
    (
        node_conf,
        gateway_out.join("fastd/ffbsp/fastd.conf"),
        node_public,
        gateway_public,
    )
}

/// The session a node and a gateway running the rendered fastd configs
/// establish, and the traffic that passes over it.
fn fastd_session(case: FastdCase) {
    let what = format!("the fastd end-to-end test ({})", case.what);
    let Some(mut lab) = Lab::new(&what, FASTD_TOOLS) else {
        return;
    };
    let (node_conf, gateway_conf, node_public, gateway_public) = render_fastd(&lab, &case);
    let read = |path: &Path| fs::read_to_string(path).expect("rendered config");
    let (node_text, gateway_text) = (read(&node_conf), read(&gateway_conf));
    let offload = |text: &str| fastd_statement(text, "offload l2tp").as_deref() == Some("yes");
    assert_eq!(offload(&node_text), case.node_offload, "{node_text}");
    assert_eq!(
        offload(&gateway_text),
        case.gateway_offload,
        "{gateway_text}"
    );
    let site_mtu: u32 = fastd_statement(&gateway_text, "mtu")
        .expect("gateway mtu")
        .parse()
        .expect("mtu");
    assert_eq!(
        fastd_statement(&node_text, "mtu").as_deref(),
        Some(site_mtu.to_string().as_str())
    );
    let (gw, node) = (lab.gateway.clone(), lab.node.clone());

    // bat0, which the gateway's `on up` hook puts every VPN interface into:
    // a bridge stands in for batman-adv.
    lab.net.ip(&gw, &["link", "add", "bat0", "type", "bridge"]);
    lab.net.ip(
        &gw,
        &[
            "address",
            "add",
            &format!("{GATEWAY_MESH}/64"),
            "dev",
            "bat0",
            "nodad",
        ],
    );
    lab.net.ip(&gw, &["link", "set", "bat0", "up"]);

    let mut daemons = Vec::new();
    for (ns, label, conf, text) in [
        (&gw, "fastd-gateway", &gateway_conf, &gateway_text),
        (&node, "fastd-node", &node_conf, &node_text),
    ] {
        let run = lab.net.dir().join(format!("{label}-run"));
        let socket = in_own_run(
            &run,
            &fastd_statement(text, "status socket").expect("status socket"),
        );
        let conf = conf.to_str().expect("path");
        // --log-level adds stderr (the log file) to the config's syslog.
        let index = spawn_with_own_run(
            &mut lab,
            ns,
            label,
            &run,
            &["fastd", "--config", conf, "--log-level", "verbose"],
        );
        daemons.push((label, index, socket));
    }

    if (case.node_offload || case.gateway_offload) && !kernel_has_l2tp() {
        // fastd sets up L2TP offloading when it starts, and refuses to run
        // without it.
        for (label, offloads) in [
            ("fastd-gateway", case.gateway_offload),
            ("fastd-node", case.node_offload),
        ] {
            if !offloads {
                continue;
            }
            let (_, index, _) = daemons.iter().find(|d| d.0 == label).expect("started");
            let fastd = lab.net.proc(*index);
            let Some(status) = fastd.wait(Duration::from_secs(10)) else {
                panic!("{label} runs without kernel L2TP{}", lab.net.logs());
            };
            assert!(!status.success());
            assert!(
                fastd.log().contains("no kernel L2TP support"),
                "{label}: {}",
                fastd.log()
            );
        }
        eprintln!(
            "{what}: this kernel has no L2TP (l2tp_netlink, l2tp_eth), so fastd refuses `offload l2tp yes` (checked); no session tested"
        );
        return;
    }

    // Both ends report the session, with the expected method, on the
    // status sockets the rendered configs name.
    for (label, index, socket) in &daemons {
        let peer_key = if *label == "fastd-node" {
            &gateway_public
        } else {
            &node_public
        };
        let method = wait_for(SESSION_TIMEOUT, || {
            lab.net.assert_running(*index);
            let status = fastd_status(socket)?;
            let connection = &status["peers"][peer_key.as_str()]["connection"];
            connection["method"].as_str().map(str::to_string)
        })
        .unwrap_or_else(|| {
            panic!(
                "{label}: no session with {peer_key} after {SESSION_TIMEOUT:?} (status {:?}){}",
                fastd_status(socket),
                lab.net.logs()
            )
        });
        assert_eq!(method, case.method, "{label}{}", lab.net.logs());
    }

    // The node's mesh interface, named by its config (in multitap mode it
    // appears with the session). netifd brings it up on a node; here the
    // test does.
    let node_if = fastd_statement(&node_text, "interface").expect("interface");
    let link = wait_for(SESSION_TIMEOUT, || lab.link(&node, &node_if))
        .unwrap_or_else(|| panic!("no {node_if} on the node{}", lab.net.logs()));
    assert_eq!(mtu(&link), u64::from(site_mtu), "{link}");
    lab.net.ip(&node, &["link", "set", &node_if, "up"]);
    lab.net.ip(
        &node,
        &[
            "address",
            "add",
            &format!("{NODE_MESH}/64"),
            "dev",
            &node_if,
            "nodad",
        ],
    );

    // The gateway's `on up` hook has put its VPN interface (one, or one per
    // node with offload) into bat0 and brought it up.
    let gateway_if = wait_for(SESSION_TIMEOUT, || {
        let ports = lab.ports(&gw, "bat0");
        let port = ports.first()?.clone();
        is_up(&lab.link(&gw, &port)?).then_some(port)
    })
    .unwrap_or_else(|| panic!("no VPN interface in bat0 on the gateway{}", lab.net.logs()));
    let link = lab.link(&gw, &gateway_if).expect("link");
    assert_eq!(mtu(&link), u64::from(site_mtu), "{link}");
    if case.gateway_offload {
        assert!(gateway_if.starts_with("peer-"), "{gateway_if}");
    } else {
        assert_eq!(gateway_if, "mesh-vpn");
    }

    // Offloaded sessions are kernel L2TP sessions; the others run through
    // fastd's TAP interfaces.
    let offloaded = case.method == "null@l2tp";
    for (ns, dev, offloads) in [
        (&gw, &gateway_if, case.gateway_offload),
        (&node, &node_if, case.node_offload),
    ] {
        if offloads && offloaded {
            let sessions = lab.net.exec(ns, &["ip", "l2tp", "show", "session"]);
            assert!(!sessions.trim().is_empty(), "{ns}: no L2TP session");
        } else {
            let link = lab.link(ns, dev).expect("link");
            assert_eq!(link["linkinfo"]["info_kind"], "tun", "{link}");
        }
    }

    ping_full_size(&lab, &node, GATEWAY_MESH, site_mtu, SESSION_TIMEOUT)
        .unwrap_or_else(|e| panic!("node → gateway over fastd: {e}{}", lab.net.logs()));
    ping_full_size(&lab, &gw, NODE_MESH, site_mtu, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("gateway → node over fastd: {e}{}", lab.net.logs()));
    for (_, index, _) in &daemons {
        lab.net.assert_running(*index);
    }
}

/// The site's encrypted method, as the example has it (`configurable`);
/// the gateway also offers null@l2tp, but the node proposes only
/// salsa2012+umac.
#[test]
fn fastd_salsa2012_umac() {
    fastd_session(FastdCase {
        what: "salsa2012+umac, no offload",
        methods: "'salsa2012+umac'",
        configurable: true,
        node_offload: false,
        gateway_offload: false,
        method: "salsa2012+umac",
    });
}

/// A site with only `null` (not configurable, so the node proposes just
/// that): the gateway's method list is the site's.
#[test]
fn fastd_null() {
    fastd_session(FastdCase {
        what: "null, no offload",
        methods: "'null'",
        configurable: false,
        node_offload: false,
        gateway_offload: false,
        method: "null",
    });
}

/// A configurable site with `null`: the node proposes null@l2tp first
/// (performance mode), and both ends run it in fastd, without the kernel.
#[test]
fn fastd_null_l2tp_without_offload() {
    fastd_session(FastdCase {
        what: "null@l2tp, no offload",
        methods: "'null', 'salsa2012+umac'",
        configurable: true,
        node_offload: false,
        gateway_offload: false,
        method: "null@l2tp",
    });
}

/// Performance mode with the L2TP offload on both ends (the images
/// contain gluon-mesh-vpn-fastd-l2tp; the inventory sets `offload`): the
/// session is a kernel L2TP session on each side.
#[test]
fn fastd_null_l2tp_offloaded() {
    fastd_session(FastdCase {
        what: "null@l2tp, offloaded on node and gateway",
        methods: "'null', 'salsa2012+umac'",
        configurable: true,
        node_offload: true,
        gateway_offload: true,
        method: "null@l2tp",
    });
}

/// An encrypted session on the gateway's offload variant (multitap: one
/// TAP interface per node, as nothing can be offloaded).
#[test]
fn fastd_salsa2012_umac_on_offloading_gateway() {
    fastd_session(FastdCase {
        what: "salsa2012+umac, gateway with offload",
        methods: "'salsa2012+umac'",
        configurable: true,
        node_offload: false,
        gateway_offload: true,
        method: "salsa2012+umac",
    });
}

// ------------------------------------------------------------ WireGuard

const WIREGUARD_TOOLS: &[&str] = &["ip", "bridge", "wg", "wireguard-go", "ping", "sh"];

/// The `key=value` lines of the node's wireguard/vxlan.conf.
fn vxlan_conf(text: &str) -> std::collections::HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l.split_once('=').expect("key=value");
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// `wg show IFNAME latest-handshakes`: the handshake time of each peer.
fn latest_handshakes(lab: &Lab, ns: &str, ifname: &str) -> Vec<u64> {
    lab.net
        .exec(ns, &["wg", "show", ifname, "latest-handshakes"])
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect()
}

/// A node and a gateway set up from the rendered WireGuard files shake
/// hands, and the node's VXLAN reaches the gateway's.
#[test]
fn wireguard_vxlan() {
    let what = "the WireGuard end-to-end test";
    let Some(mut lab) = Lab::new(what, WIREGUARD_TOOLS) else {
        return;
    };
    let (gw, node) = (lab.gateway.clone(), lab.node.clone());
    let dir = lab.net.dir().to_path_buf();

    // Keys: the gateway's private key file is the inventory's.
    let gateway_key = dir.join("gw1.key");
    write_secret(&gateway_key, &(host_tool("wg", &["genkey"], None) + "\n"));
    let gateway_public = host_tool(
        "wg",
        &["pubkey"],
        Some(&fs::read_to_string(&gateway_key).unwrap()),
    );
    let node_key = dir.join("node.key");
    write_secret(&node_key, &(host_tool("wg", &["genkey"], None) + "\n"));
    let node_public = host_tool(
        "wg",
        &["pubkey"],
        Some(&fs::read_to_string(&node_key).unwrap()),
    );

    // The example site, with gw1's key and endpoint ours.
    let site = write_site(
        "wireguard",
        &dir.join("site"),
        |site| {
            let site = edit_gateways(&site, |line| {
                if line.trim_start().starts_with("public_key = ") {
                    format!("          public_key = '{gateway_public}',")
                } else {
                    line.replace("gw1.example.org", GATEWAY_V4)
                }
            });
            assert!(site.contains(&gateway_public) && site.contains(GATEWAY_V4));
            site
        },
        |image| image,
    );
    // The WireGuard interface's name must be unique on this machine (its
    // control socket is in the shared /var/run/wireguard): the inventory
    // names it. The scripts are "installed" where they are rendered.
    let gateway_wg = lab.net.wg_name("g");
    let gateway_out = dir.join("gateway");
    let inventory = dir.join("inventory.toml");
    fs::write(
        &inventory,
        format!(
            "[gateways.gw1]\nwireguard_private_key = \"{}\"\nwireguard_interface = \"{gateway_wg}\"\ninterfaces = \"hooks\"\nconfig_dir = \"{}\"\n",
            gateway_key.display(),
            gateway_out.display()
        ),
    )
    .expect("write inventory");
    let node_out = dir.join("node");
    let rendered = render_node_and_gw1(&site, &inventory, &node_out, &gateway_out);
    assert!(!rendered.contains("not checked"), "{rendered}");
    let vx = vxlan_conf(&fs::read_to_string(node_out.join("wireguard/vxlan.conf")).unwrap());
    let value = |key: &str| {
        vx.get(key)
            .unwrap_or_else(|| panic!("vxlan.conf: no {key}"))
            .clone()
    };
    let number = |key: &str| value(key).parse::<u64>().expect("number");
    let glue: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(gateway_out.join("wireguard-vxlan-glue/config.json")).unwrap(),
    )
    .expect("glue config");
    let gateway_vx = glue["interfaces"]["vxlan"][0]
        .as_str()
        .expect("vxlan")
        .to_string();
    assert_eq!(glue["interfaces"]["wireguard"][0], gateway_wg.as_str());

    // ---- The gateway: the rendered up script, on bat0 (a bridge standing
    // in for batman-adv).
    lab.net.ip(&gw, &["link", "add", "bat0", "type", "bridge"]);
    lab.net.ip(
        &gw,
        &[
            "address",
            "add",
            &format!("{GATEWAY_MESH}/64"),
            "dev",
            "bat0",
            "nodad",
        ],
    );
    lab.net.ip(&gw, &["link", "set", "bat0", "up"]);
    // This kernel has no WireGuard module: wireguard-go makes the
    // interface, and the script's `ip link add … type wireguard` becomes a
    // check that it is there. Every other line runs as rendered.
    let gateway_wireguard_go = lab.net.wireguard_go(&gw, &gateway_wg);
    let shim = dir.join("shim");
    fs::create_dir(&shim).expect("mkdir");
    let real_ip = find_program("ip").expect("ip");
    fs::write(
        shim.join("ip"),
        format!(
            "#!/bin/sh\nif [ \"$*\" = \"link add dev {gateway_wg} type wireguard\" ]; then\n  exec {ip} link show dev {gateway_wg} >/dev/null\nfi\nexec {ip} \"$@\"\n",
            ip = real_ip.display()
        ),
    )
    .expect("write shim");
    fs::set_permissions(shim.join("ip"), fs::Permissions::from_mode(0o755)).expect("chmod");
    let up = gateway_out.join(format!("wireguard/{gateway_wg}-up.sh"));
    let out = lab
        .net
        .command(&gw, "sh", &[up.to_str().expect("path")])
        .env("PATH", format!("{}:{}", shim.display(), path_env()))
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{}: {}{}{}",
        up.display(),
        text(&out.stdout),
        text(&out.stderr),
        lab.net.logs()
    );
    // What the script set: the site's port, the inventory's key, fe80::1,
    // the MTUs, and the VXLAN the node's file describes (VNI, port, no
    // UDP checksums) on the WireGuard interface, in bat0.
    let show = |what: &str| {
        let out = lab.net.exec(&gw, &["wg", "show", &gateway_wg, what]);
        out.trim().to_string()
    };
    assert_eq!(show("listen-port"), "51820");
    assert_eq!(show("public-key"), gateway_public);
    let wg_link = lab.link(&gw, &gateway_wg).expect("wg link");
    assert_eq!(mtu(&wg_link), number("wg_mtu"), "{wg_link}");
    assert!(is_up(&wg_link));
    let addresses = lab
        .net
        .ip(&gw, &["-6", "address", "show", "dev", &gateway_wg]);
    assert!(
        addresses.contains(&format!("{}/64", value("remote"))),
        "{addresses}"
    );
    let vx_link = lab.link(&gw, &gateway_vx).expect("vxlan link");
    let info = &vx_link["linkinfo"]["info_data"];
    assert_eq!(vx_link["linkinfo"]["info_kind"], "vxlan", "{vx_link}");
    assert_eq!(info["id"].as_u64(), Some(number("vni")), "{vx_link}");
    assert_eq!(info["port"].as_u64(), Some(number("dstport")), "{vx_link}");
    assert_eq!(
        info["local6"].as_str(),
        Some(value("remote").as_str()),
        "{vx_link}"
    );
    assert_eq!(
        info["link"].as_str(),
        Some(gateway_wg.as_str()),
        "{vx_link}"
    );
    assert_eq!(info["udp_zero_csum6_tx"], true, "{vx_link}");
    assert_eq!(info["udp_zero_csum6_rx"], true, "{vx_link}");
    assert_eq!(mtu(&vx_link), number("vxlan_mtu"), "{vx_link}");
    assert_eq!(vx_link["master"], "bat0", "{vx_link}");
    assert!(is_up(&vx_link));

    // The node's address on its WireGuard interface, derived from its key
    // as Gluon (and wireguard-vxlan-glue) derive it.
    let lladdr = gluonvpn(&["keys", "lladdr", &node_public])
        .trim()
        .to_string();
    assert!(lladdr.starts_with("fe80::"), "{lladdr}");

    // The site knows no nodes: the community adds each node's key on the
    // gateway by its own means (a key exchange such as wgkex, or the
    // admin), with the node's link-local address as its only allowed IP.
    lab.net.exec(
        &gw,
        &[
            "wg",
            "set",
            &gateway_wg,
            "peer",
            &node_public,
            "allowed-ips",
            &format!("{lladdr}/128"),
        ],
    );

    // ---- The node, as Gluon's gluon_wireguard proto and netifd set it up
    // from the files: wg_mesh (a unique name here: wireguard-go's control
    // socket is shared) with the node's key, fwmark, the gateway's [Peer]
    // block as wgpeerselector installs it, the MTU and the /128 link-local
    // address; the VXLAN mesh-vpn on it towards fe80::1.
    let node_wg = lab.net.wg_name("n");
    lab.net.wireguard_go(&node, &node_wg);
    lab.net.exec(
        &node,
        &[
            "wg",
            "set",
            &node_wg,
            "private-key",
            node_key.to_str().expect("path"),
            "fwmark",
            &value("wg_fwmark"),
        ],
    );
    let peers = node_out.join("wireguard/peers.conf");
    // The site's one gateway: wgpeerselector installs its block as it is.
    lab.net.exec(
        &node,
        &["wg", "addconf", &node_wg, peers.to_str().expect("path")],
    );
    lab.net.ip(
        &node,
        &["link", "set", "dev", &node_wg, "mtu", &value("wg_mtu")],
    );
    lab.net.ip(
        &node,
        &["address", "add", &format!("{lladdr}/128"), "dev", &node_wg],
    );
    lab.net.ip(&node, &["link", "set", "dev", &node_wg, "up"]);
    let node_vx = value("vxlan_interface");
    let mut vxlan = vec![
        "link".to_string(),
        "add".into(),
        "dev".into(),
        node_vx.clone(),
        "type".into(),
        "vxlan".into(),
        "id".into(),
        value("vni"),
        "local".into(),
        lladdr.clone(),
        "remote".into(),
        value("remote"),
        "dev".into(),
        node_wg.clone(),
        "dstport".into(),
        value("dstport"),
    ];
    for flag in ["udp6zerocsumtx", "udp6zerocsumrx"] {
        if value(flag) == "1" {
            vxlan.push(flag.into());
        }
    }
    lab.net
        .ip(&node, &vxlan.iter().map(String::as_str).collect::<Vec<_>>());
    lab.net.ip(
        &node,
        &["link", "set", "dev", &node_vx, "mtu", &value("vxlan_mtu")],
    );
    lab.net.ip(&node, &["link", "set", "dev", &node_vx, "up"]);
    lab.net.ip(
        &node,
        &[
            "address",
            "add",
            &format!("{NODE_MESH}/64"),
            "dev",
            &node_vx,
            "nodad",
        ],
    );

    // The node's first packets into the VXLAN start the handshake (the
    // node sets no keepalive); both ends see it complete.
    let handshake = wait_for(SESSION_TIMEOUT, || {
        let _ = lab
            .net
            .command(
                &node,
                "ping",
                &["-6", "-n", "-c", "1", "-W", "1", GATEWAY_MESH],
            )
            .output();
        let done = |ns: &str, ifname: &str| {
            let times = latest_handshakes(&lab, ns, ifname);
            times.len() == 1 && times[0] > 0
        };
        (done(&node, &node_wg) && done(&gw, &gateway_wg)).then_some(())
    });
    handshake.unwrap_or_else(|| {
        panic!(
            "no WireGuard handshake after {SESSION_TIMEOUT:?}: node {:?}, gateway {:?}{}",
            latest_handshakes(&lab, &node, &node_wg),
            latest_handshakes(&lab, &gw, &gateway_wg),
            lab.net.logs()
        )
    });

    // What wireguard-vxlan-glue does on the gateway for a node with a
    // recent handshake: a forwarding entry in the domain's VXLAN towards
    // the node's link-local address, and a route to that address on the
    // WireGuard interface (protocol 129, the daemon's).
    lab.net.exec(
        &gw,
        &[
            "bridge",
            "fdb",
            "append",
            "00:00:00:00:00:00",
            "dev",
            &gateway_vx,
            "dst",
            &lladdr,
        ],
    );
    lab.net.ip(
        &gw,
        &[
            "-6",
            "route",
            "add",
            &format!("{lladdr}/128"),
            "dev",
            &gateway_wg,
            "proto",
            "129",
        ],
    );

    // Full-size frames of the VXLAN MTU fit through the WireGuard MTU, both
    // ways.
    let vxlan_mtu = u32::try_from(number("vxlan_mtu")).expect("mtu");
    ping_full_size(
        &lab,
        &node,
        GATEWAY_MESH,
        vxlan_mtu,
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("node → gateway over VXLAN: {e}{}", lab.net.logs()));
    ping_full_size(&lab, &gw, NODE_MESH, vxlan_mtu, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("gateway → node over VXLAN: {e}{}", lab.net.logs()));

    // The rendered down script removes both interfaces; wireguard-go ends
    // with its interface.
    let down = gateway_out.join(format!("wireguard/{gateway_wg}-down.sh"));
    lab.net.exec(&gw, &["sh", down.to_str().expect("path")]);
    assert!(lab.link(&gw, &gateway_vx).is_none());
    assert!(lab.link(&gw, &gateway_wg).is_none());
    lab.net
        .proc(gateway_wireguard_go)
        .wait(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("wireguard-go runs on after {}", down.display()));
}
