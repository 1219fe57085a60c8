//! The test network of tests/netns.rs and benches/startup.rs: a node and a
//! gateway namespace, four configured gateways (see tests/netns.rs).
#![allow(dead_code)]

use gluonvpn_testnet::{wait_for, TestNet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SELECTOR: &str = env!("CARGO_BIN_EXE_wgpeerselector");
pub const NODE_LL: &str = "fe80::2";
pub const GW_LL: &str = "fe80::1";

pub struct Keys {
    pub private_file: PathBuf,
    pub public: String,
}

pub fn keys(dir: &Path, name: &str) -> Keys {
    let (private, public) = gluonvpn_testnet::wg_keypair();
    let private_file = dir.join(format!("{name}.key"));
    fs::write(&private_file, private).unwrap();
    Keys {
        private_file,
        public,
    }
}

pub struct Lab {
    pub net: TestNet,
    pub node: String,
    pub gw: String,
    pub node_if: String,
    pub node_key: Keys,
    pub node_wg: Option<usize>,
    pub gws: Vec<Keys>,
    /// wireguard-go of each gateway, while it runs.
    pub gw_procs: Vec<Option<usize>>,
    pub config: PathBuf,
    pub system: PathBuf,
    pub socket: PathBuf,
    /// The selector to run: the test build, or what the benchmark built.
    /// The command that runs the selector (testnet's `agent_command`).
    pub selector_bin: Vec<String>,
}

const PORTS: [u16; 4] = [51001, 51002, 51003, 51004];

impl Lab {
    pub fn new(test: &str) -> Option<Lab> {
        let mut net = TestNet::new(test)?;
        let node = net.netns("n");
        let gw = net.netns("g");
        net.veth(&node, "vn", &gw, "vg");
        for (ns, dev, v4, v6) in [
            (&node, "vn", "198.18.0.1/24", "fd00::1/64"),
            (&gw, "vg", "198.18.0.2/24", "fd00::2/64"),
        ] {
            net.ip(ns, &["addr", "add", v4, "dev", dev]);
            net.ip(ns, &["addr", "add", v6, "dev", dev, "nodad"]);
        }
        net.netns_file(
            &node,
            "hosts",
            "198.18.0.2 gw3.gvt.test ntp.gvt.test\nfd00::2 gw3.gvt.test\n",
        );
        net.netns_file(&node, "nsswitch.conf", "hosts: files\n");
        let dir = net.dir().to_path_buf();
        let node_key = keys(&dir, "node");
        let gws: Vec<Keys> = (1..=4).map(|i| keys(&dir, &format!("gw{i}"))).collect();
        let endpoints = [
            "198.18.0.2:51001",
            "[fd00::2]:51002",
            "gw3.gvt.test:51003",
            "198.18.0.9:51004",
        ];
        let mut config = String::new();
        for (i, (k, e)) in gws.iter().zip(endpoints).enumerate() {
            config.push_str(&format!(
                "config peer 'gw{}'\n\toption enabled '1'\n\toption endpoint '{e}'\n\toption public_key '{}'\n\tlist allowed_ips '{GW_LL}/128'\n\toption ifname 'IFNAME'\n\n",
                i + 1,
                k.public
            ));
        }
        let node_if = net.wg_name("n");
        let config = config.replace("IFNAME", &node_if);
        let config_path = dir.join("wgpeerselector");
        fs::write(&config_path, config).unwrap();
        let system = dir.join("system");
        fs::write(&system, "config system\n\toption hostname 'node'\n").unwrap();
        let socket = dir.join("status.sock");
        let mut lab = Lab {
            net,
            node,
            gw,
            node_if,
            node_key,
            node_wg: None,
            gws,
            gw_procs: vec![None; 4],
            config: config_path,
            system,
            socket,
            selector_bin: gluonvpn_testnet::agent_command(SELECTOR),
        };
        lab.start_node_interface();
        Some(lab)
    }

    /// The node's WireGuard interface as Gluon sets it up: a key, its
    /// link-local address, up, no peers (the selector adds them).
    pub fn start_node_interface(&mut self) {
        let (ns, ifname) = (self.node.clone(), self.node_if.clone());
        self.node_wg = Some(self.net.wireguard_go(&ns, &ifname));
        let key = self.node_key.private_file.to_str().unwrap().to_string();
        self.net
            .exec(&ns, &["wg", "set", &ifname, "private-key", &key]);
        self.net.ip(
            &ns,
            &[
                "addr",
                "add",
                &format!("{NODE_LL}/128"),
                "dev",
                &ifname,
                "nodad",
            ],
        );
        self.net.ip(&ns, &["link", "set", &ifname, "up"]);
    }

    pub fn stop_node_interface(&mut self) {
        let i = self.node_wg.take().expect("node interface running");
        let p = self.net.proc(i);
        p.signal(libc_sigterm());
        assert!(
            p.wait(Duration::from_secs(5)).is_some(),
            "wireguard-go did not stop"
        );
        let (ns, ifname) = (self.node.clone(), self.node_if.clone());
        assert!(
            wait_for(Duration::from_secs(5), || {
                self.net
                    .try_exec(&ns, &["ip", "link", "show", &ifname])
                    .is_err()
                    .then_some(())
            })
            .is_some(),
            "the node's interface is still there"
        );
    }

    /// Gateway `n` (1 to 4) online: wireguard-go on its port, the node as
    /// its peer, fe80::1 on its interface and a route to the node.
    pub fn start_gateway(&mut self, n: usize) {
        let ifname = self.net.wg_name(&format!("g{n}"));
        let gw = self.gw.clone();
        self.gw_procs[n - 1] = Some(self.net.wireguard_go(&gw, &ifname));
        let key = self.gws[n - 1].private_file.to_str().unwrap().to_string();
        let port = PORTS[n - 1].to_string();
        let node_pub = self.node_key.public.clone();
        self.net.exec(
            &gw,
            &[
                "wg",
                "set",
                &ifname,
                "private-key",
                &key,
                "listen-port",
                &port,
                "peer",
                &node_pub,
                "allowed-ips",
                &format!("{NODE_LL}/128"),
            ],
        );
        self.net.ip(
            &gw,
            &[
                "addr",
                "add",
                &format!("{GW_LL}/128"),
                "dev",
                &ifname,
                "nodad",
            ],
        );
        self.net.ip(&gw, &["link", "set", &ifname, "up"]);
        self.net.ip(
            &gw,
            &["route", "add", &format!("{NODE_LL}/128"), "dev", &ifname],
        );
    }

    pub fn stop_gateway(&mut self, n: usize) {
        let i = self.gw_procs[n - 1].take().expect("gateway running");
        let p = self.net.proc(i);
        p.signal(libc_sigterm());
        assert!(p.wait(Duration::from_secs(5)).is_some());
    }

    /// Starts the selector on the node; its process index.
    pub fn start_selector(&mut self, extra: &[&str]) -> usize {
        let ns = self.node.clone();
        let mut args = self.selector_bin.clone();
        args.extend([
            "-i".into(),
            self.node_if.clone(),
            "-v".into(),
            "--config".into(),
            self.config.display().to_string(),
            "--system-config".into(),
            self.system.display().to_string(),
            "--status-socket".into(),
            self.socket.display().to_string(),
        ]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.net.spawn(&ns, "selector", &args, true)
    }

    pub fn log(&mut self, selector: usize) -> String {
        let p = self.net.proc(selector);
        format!("{}{}", p.output(), p.errors())
    }

    /// Waits until the selector's log has `needle` `count` times.
    pub fn wait_log(&mut self, selector: usize, needle: &str, count: usize, timeout: Duration) {
        let found = wait_for(timeout, || {
            (self.log(selector).matches(needle).count() >= count).then_some(())
        });
        assert!(
            found.is_some(),
            "no {needle:?} (×{count}) within {timeout:?}; log:\n{}",
            self.log(selector)
        );
    }

    /// The node's peers: (public key, allowed IPs, keepalive) from `wg show
    /// dump`.
    pub fn node_peers(&self) -> Vec<(String, String, String)> {
        let out = self
            .net
            .exec(&self.node, &["wg", "show", &self.node_if, "dump"]);
        out.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_string(), f[3].to_string(), f[7].to_string())
            })
            .collect()
    }

    pub fn node_routes(&self) -> String {
        self.net.exec(
            &self.node,
            &["ip", "-6", "route", "show", "dev", &self.node_if],
        )
    }

    /// One ping from the node to fe80::1 through the tunnel.
    pub fn ping(&self) -> Result<String, String> {
        self.net.try_exec(
            &self.node,
            &[
                "ping",
                "-6",
                "-c",
                "1",
                "-W",
                "2",
                "-I",
                &self.node_if,
                GW_LL,
            ],
        )
    }

    pub fn status(&self) -> String {
        let mut args: Vec<&str> = self.selector_bin.iter().map(String::as_str).collect();
        args.extend(["status", "--status-socket", self.socket.to_str().unwrap()]);
        self.net.exec(&self.node, &args)
    }

    /// Batman-adv-like traffic: something every 5 s from the node into the
    /// tunnel (Gluon sets no keepalive on the chosen peer).
    pub fn start_traffic(&mut self) {
        let (ns, ifname) = (self.node.clone(), self.node_if.clone());
        self.net.spawn(
            &ns,
            "traffic",
            &["ping", "-6", "-i", "5", "-I", &ifname, GW_LL],
            false,
        );
    }

    /// SIGTERM to the selector: it must exit 0 and leave nothing behind.
    pub fn stop_selector_and_check_cleanup(&mut self, selector: usize) {
        self.stop_selector_with(selector, libc_sigterm(), "SIGTERM");
    }

    /// A signal (SIGTERM or SIGINT) to the selector: it must exit 0 and
    /// leave nothing behind.
    pub fn stop_selector_with(&mut self, selector: usize, signal: i32, name: &str) {
        let p = self.net.proc(selector);
        p.signal(signal);
        let status = p.wait(Duration::from_secs(10)).expect("selector exits");
        let log = self.log(selector);
        // shown with --nocapture
        eprintln!("--- the selector's log:\n{log}---");
        assert_eq!(status.code(), Some(0), "{log}");
        assert!(
            log.contains(&format!("Received {name}. Cleaning up.")),
            "{log}"
        );
        assert!(
            self.node_peers().is_empty(),
            "peers left: {:?}",
            self.node_peers()
        );
        assert!(
            !self.node_routes().contains(GW_LL),
            "route left: {}",
            self.node_routes()
        );
        assert!(!self.socket.exists(), "status socket left");
    }

    pub fn gw_name_of(&self, public: &str) -> usize {
        self.gws.iter().position(|k| k.public == public).unwrap() + 1
    }
}

pub fn libc_sigterm() -> i32 {
    15
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
