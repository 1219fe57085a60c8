//! A gateway and Gluon nodes in network namespaces, for the end-to-end
//! tests and the benchmark.
//!
//! * gateway: wireguard-go interface with `fe80::1/128`, listening on
//!   51820, a peer per node (allowed IPs: the node's link-local /128); a
//!   VXLAN `vx0` (VNI 4242, local fe80::1 via the WireGuard interface, UDP
//!   port 4789 as on the nodes) with `fd00::1/64`.
//! * node *i*: a veth to the gateway (198.18.*i*.2/24 ↔ 198.18.*i*.1/24),
//!   wireguard-go with its link-local address /128 as Gluon derives it —
//!   computed here by Python's hashlib, independently of the glue — and the
//!   gateway as its peer (allowed IPs fe80::1/128); a VXLAN to fe80::1 like
//!   Gluon's, with `fd00::(i+1)/64`.
//!
//! Everything is removed when the `Testbed` (its `TestNet`) is dropped.

#![allow(dead_code)]

use gluonvpn_testnet::TestNet;
use gluonvpn_wg::{Backend, WireGuard};
use std::net::Ipv6Addr;
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// The command that runs the glue (testnet's `agent_command`).
pub fn glue() -> Vec<String> {
    gluonvpn_testnet::agent_command(env!("CARGO_BIN_EXE_wireguard-vxlan-glue"))
}
pub const VNI: &str = "4242";

/// Gluon's link-local addresses of these public keys, by an independent
/// implementation: Python's hashlib and ipaddress.
pub fn python_lladdrs(keys: &[String]) -> Vec<Ipv6Addr> {
    const SCRIPT: &str = r#"
import hashlib, ipaddress, sys
for key in sys.stdin.read().split():
    digest = hashlib.md5(key.encode("ascii")).digest()
    mac = bytes([0x02]) + digest[:5]
    iid = mac[:3] + b"\xff\xfe" + mac[3:]
    print(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))
"#;
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(keys.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

/// A key pair from `wg genkey` / `wg pubkey`: (private, public).
pub fn genkey() -> (String, String) {
    gluonvpn_testnet::wg_keypair()
}

pub struct Node {
    pub ns: String,
    pub wg: String,
    pub public_key: String,
    pub lladdr: Ipv6Addr,
    /// The address on the node's VXLAN.
    pub ula: String,
    /// The gateway's public key and endpoint.
    pub gateway: String,
    pub endpoint: String,
}

pub struct Testbed {
    pub net: TestNet,
    pub gw: String,
    pub gw_wg: String,
    pub vx: String,
    pub nodes: Vec<Node>,
}

impl Testbed {
    /// A gateway and `n` nodes; `None` where the test cannot run.
    pub fn new(test: &str, n: usize) -> Option<Testbed> {
        let mut net = TestNet::new(test)?;
        let gw = net.netns("g");
        let gw_wg = net.wg_name("g");
        let vx = "vx0".to_string();
        net.wireguard_go(&gw, &gw_wg);
        let (gw_private, gw_public) = genkey();
        let key_file = net.dir().join("gw.key");
        std::fs::write(&key_file, &gw_private).unwrap();
        net.exec(
            &gw,
            &[
                "wg",
                "set",
                &gw_wg,
                "private-key",
                key_file.to_str().unwrap(),
                "listen-port",
                "51820",
            ],
        );
        net.ip(
            &gw,
            &["-6", "addr", "add", "fe80::1/128", "dev", &gw_wg, "nodad"],
        );
        net.ip(&gw, &["link", "set", &gw_wg, "up"]);
        net.ip(
            &gw,
            &[
                "link",
                "add",
                &vx,
                "type",
                "vxlan",
                "id",
                VNI,
                "local",
                "fe80::1",
                "dev",
                &gw_wg,
                "dstport",
                "4789",
                "udp6zerocsumtx",
                "udp6zerocsumrx",
            ],
        );
        net.ip(
            &gw,
            &["-6", "addr", "add", "fd00::1/64", "dev", &vx, "nodad"],
        );
        net.ip(&gw, &["link", "set", &vx, "up"]);

        let keys: Vec<(String, String)> = (0..n).map(|_| genkey()).collect();
        let publics: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
        let lladdrs = python_lladdrs(&publics);
        let mut nodes = Vec::new();
        for (i, ((private, public), lladdr)) in keys.into_iter().zip(lladdrs).enumerate() {
            let i = i + 1;
            let ns = net.netns(&format!("n{i}"));
            let wg = net.wg_name(&format!("n{i}"));
            let (vg, vn) = (format!("vg{i}"), format!("vn{i}"));
            net.veth(&gw, &vg, &ns, &vn);
            let (a, b) = (i / 60, i % 60);
            net.ip(
                &gw,
                &[
                    "addr",
                    "add",
                    &format!("198.18.{}.{}/30", a, 4 * b + 1),
                    "dev",
                    &vg,
                ],
            );
            net.ip(
                &ns,
                &[
                    "addr",
                    "add",
                    &format!("198.18.{}.{}/30", a, 4 * b + 2),
                    "dev",
                    &vn,
                ],
            );
            let endpoint = format!("198.18.{}.{}:51820", a, 4 * b + 1);
            net.wireguard_go(&ns, &wg);
            let key_file = net.dir().join(format!("n{i}.key"));
            std::fs::write(&key_file, &private).unwrap();
            // the gateway becomes the node's peer only in `poke`: the
            // node's VXLAN sends packets of its own as it comes up (MLD,
            // neighbour discovery), and the handshake they cause must come
            // when the test wants it
            net.exec(
                &ns,
                &["wg", "set", &wg, "private-key", key_file.to_str().unwrap()],
            );
            net.ip(
                &ns,
                &[
                    "-6",
                    "addr",
                    "add",
                    &format!("{lladdr}/128"),
                    "dev",
                    &wg,
                    "nodad",
                ],
            );
            net.ip(&ns, &["link", "set", &wg, "up"]);
            net.ip(&ns, &["-6", "route", "add", "fe80::1/128", "dev", &wg]);
            net.ip(
                &ns,
                &[
                    "link",
                    "add",
                    "vx0",
                    "type",
                    "vxlan",
                    "id",
                    VNI,
                    "local",
                    &lladdr.to_string(),
                    "remote",
                    "fe80::1",
                    "dev",
                    &wg,
                    "dstport",
                    "4789",
                    "udp6zerocsumtx",
                    "udp6zerocsumrx",
                ],
            );
            let ula = format!("fd00::{:x}", i + 1);
            net.ip(
                &ns,
                &[
                    "-6",
                    "addr",
                    "add",
                    &format!("{ula}/64"),
                    "dev",
                    "vx0",
                    "nodad",
                ],
            );
            net.ip(&ns, &["link", "set", "vx0", "up"]);
            net.exec(
                &gw,
                &[
                    "wg",
                    "set",
                    &gw_wg,
                    "peer",
                    &public,
                    "allowed-ips",
                    &format!("{lladdr}/128"),
                ],
            );
            nodes.push(Node {
                ns,
                wg,
                public_key: public,
                lladdr,
                ula,
                gateway: gw_public.clone(),
                endpoint,
            });
        }
        Some(Testbed {
            net,
            gw,
            gw_wg,
            vx,
            nodes,
        })
    }

    /// Starts the glue in the gateway's namespace with `args` after the
    /// interface pair.
    pub fn start_glue(&mut self, args: &[&str]) -> usize {
        let glue = glue();
        let mut full: Vec<&str> = glue.iter().map(String::as_str).collect();
        full.extend(["-w", &self.gw_wg, "-x", &self.vx, "--no-proto-name"]);
        full.extend_from_slice(args);
        let gw = self.gw.clone();
        self.net.spawn(&gw, "glue", &full, true)
    }

    /// Gives node `i` (0-based) the gateway as its peer and makes it send
    /// a packet there, which starts a handshake.
    pub fn poke(&self, i: usize) {
        let n = &self.nodes[i];
        self.net.exec(
            &n.ns,
            &[
                "wg",
                "set",
                &n.wg,
                "peer",
                &n.gateway,
                "endpoint",
                &n.endpoint,
                "allowed-ips",
                "fe80::1/128",
            ],
        );
        let target = format!("fe80::1%{}", n.wg);
        // the gateway cannot answer before the glue has its route: the
        // handshake is what counts
        let _ = self
            .net
            .try_exec(&n.ns, &["ping", "-6", "-c", "1", "-W", "1", &target]);
    }

    /// The gateway's view of node `i`'s latest handshake.
    pub fn handshake(&self, i: usize) -> Option<SystemTime> {
        let mut wg = WireGuard::open_with(&self.gw_wg, Backend::Userspace).unwrap();
        let key = &self.nodes[i].public_key;
        wg.peers()
            .unwrap()
            .into_iter()
            .find(|p| &p.public_key.to_string() == key)
            .and_then(|p| p.latest_handshake)
    }

    /// Destinations of the all-zero-MAC FDB entries of the gateway's VXLAN.
    pub fn fdb(&self) -> Vec<Ipv6Addr> {
        let out = self
            .net
            .exec(&self.gw, &["bridge", "fdb", "show", "dev", &self.vx]);
        let mut v: Vec<Ipv6Addr> = out
            .lines()
            .filter(|l| l.starts_with("00:00:00:00:00:00 "))
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "dst")?;
                words.next()?.parse().ok()
            })
            .collect();
        v.sort();
        v
    }

    /// Destinations of the gateway's routes with protocol 129 (any device).
    pub fn glue_routes(&self) -> Vec<(Ipv6Addr, String)> {
        let out = self.net.exec(
            &self.gw,
            &["ip", "-6", "route", "show", "proto", "129", "table", "all"],
        );
        let mut v: Vec<(Ipv6Addr, String)> = out
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                let dst = words.next()?;
                let dst = dst.strip_suffix("/128").unwrap_or(dst).parse().ok()?;
                words.find(|w| *w == "dev")?;
                Some((dst, words.next()?.to_string()))
            })
            .collect();
        v.sort();
        v
    }

    /// Whether node `i` has its FDB entry and route on the gateway.
    pub fn installed(&self, i: usize) -> (bool, bool) {
        let ll = self.nodes[i].lladdr;
        (
            self.fdb().contains(&ll),
            self.glue_routes().contains(&(ll, self.gw_wg.clone())),
        )
    }
}
