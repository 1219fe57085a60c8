//! The network of the end-to-end tests (tests/e2e_render.rs), on
//! gluonvpn-testnet: a "node" and a "gateway" namespace joined by a veth
//! pair (the gateway 198.18.0.1/24, the node 198.18.0.2/24). The daemons
//! the tests start in them, their files and what a killed run left behind
//! are the [`TestNet`]'s to remove.

use gluonvpn_testnet::TestNet;

/// The gateway's end of the veth pair.
pub const GATEWAY_V4: &str = "198.18.0.1";
/// The node's end of the veth pair.
pub const NODE_V4: &str = "198.18.0.2";

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub struct Lab {
    pub net: TestNet,
    pub node: String,
    pub gateway: String,
}

impl Lab {
    /// `None` where `what` cannot run: not root, or one of `tools` is
    /// missing (see [`gluonvpn_testnet::prerequisites_met`]).
    pub fn new(what: &str, tools: &[&str]) -> Option<Lab> {
        let mut net = TestNet::with_tools(what, tools)?;
        let gateway = net.netns("gw");
        let node = net.netns("node");
        net.veth(&gateway, "veth-gw", &node, "veth-node");
        for (ns, dev, address) in [
            (&gateway, "veth-gw", GATEWAY_V4),
            (&node, "veth-node", NODE_V4),
        ] {
            net.ip(
                ns,
                &["address", "add", &format!("{address}/24"), "dev", dev],
            );
        }
        Some(Lab { net, node, gateway })
    }

    /// `ip -d -j link show dev DEV` in a namespace, if it exists.
    pub fn link(&self, ns: &str, dev: &str) -> Option<serde_json::Value> {
        let json =
            gluonvpn_testnet::try_run(&["ip", "-n", ns, "-d", "-j", "link", "show", "dev", dev])
                .ok()?;
        let list: serde_json::Value = serde_json::from_str(&json).expect("ip -j");
        list.get(0).cloned()
    }

    /// The names of the interfaces in a namespace that are ports of
    /// `master`.
    pub fn ports(&self, ns: &str, master: &str) -> Vec<String> {
        let json = self.net.ip(ns, &["-j", "link", "show", "master", master]);
        let list: serde_json::Value = serde_json::from_str(&json).expect("ip -j");
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["ifname"].as_str().map(str::to_string))
            .collect()
    }
}

/// Whether a link from [`Lab::link`] is administratively up.
pub fn is_up(link: &serde_json::Value) -> bool {
    link["flags"]
        .as_array()
        .is_some_and(|flags| flags.iter().any(|f| f == "UP"))
}
