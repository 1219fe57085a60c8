//! The gateway inventory: what a site does not say about its gateways (key
//! files, addresses, interface names, how interfaces are set up), as TOML.
//! The book's inventory page documents every key; `site-examples/
//! inventory.toml` is a sample.
//!
//! Every setting can be given for the gateway (`[gateways.NAME]`) and
//! overridden per domain (`[gateways.NAME.domains.CODE]`); a single-domain
//! site's one domain is called `default` there.

use crate::input::{self, caps, Within};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    #[serde(default)]
    pub gateways: BTreeMap<String, Gateway>,
}

/// How interfaces that come and go are attached to batman-adv.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interfaces {
    /// fastd `on up`/`on down` hooks and shell scripts.
    #[default]
    Hooks,
    /// systemd-networkd `.netdev`/`.network` units.
    SystemdNetworkd,
}

/// Which nodes fastd accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peers {
    /// Every node (`on verify "true";`).
    #[default]
    Any,
    /// Only nodes with a file in a peer directory.
    Directory,
}

/// Settings of a gateway, or of one of its domains (then each overrides
/// the gateway's).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A fastd config file holding `secret "…";` (included, never read into
    /// the rendered files).
    pub fastd_secret: Option<String>,
    /// A file with the WireGuard private key (base64, as `wg genkey`
    /// writes it).
    pub wireguard_private_key: Option<String>,
    /// Addresses fastd binds to (`any`, an IPv4 address, `[IPv6]`); the
    /// port comes from the site. The first IPv4 address is the tunneldigger
    /// broker's.
    pub bind: Option<Vec<String>>,
    pub interfaces: Option<Interfaces>,
    /// fastd's L2TP offload (multitap, one interface per node).
    pub offload: Option<bool>,
    pub peers: Option<Peers>,
    /// The peer directory for `peers = "directory"`.
    pub peers_dir: Option<String>,
    /// Where the rendered tree is installed on the gateway (scripts are
    /// referenced by absolute paths below it).
    pub config_dir: Option<String>,
    /// fastd's log level (`log level …;`).
    pub log_level: Option<String>,
    /// The name of the fastd/tunneldigger instance (default: the site code,
    /// or the domain code in multidomain sites).
    pub instance: Option<String>,
    pub fastd_port: Option<u16>,
    pub wireguard_port: Option<u16>,
    pub tunneldigger_port: Option<u16>,
    /// fastd's interface without offload.
    pub fastd_interface: Option<String>,
    /// fastd's interface pattern with offload (`%k`: the node's key).
    pub peer_interface: Option<String>,
    /// The batman-adv interface the VPN interfaces join.
    pub batman: Option<String>,
    /// A bridge for the batman-adv interface (systemd-networkd only).
    pub bridge: Option<String>,
    pub wireguard_interface: Option<String>,
    pub vxlan_interface: Option<String>,
    /// The uplink interface the tunneldigger broker listens on.
    pub uplink: Option<String>,
    /// Per-domain settings (only at the gateway level).
    #[serde(default)]
    pub domains: BTreeMap<String, Settings>,
}

/// A gateway's entry: its settings and per-domain overrides.
pub type Gateway = Settings;

impl Inventory {
    pub fn parse(text: &str) -> Result<Inventory, String> {
        let inventory: Inventory = toml::from_str(text).map_err(|e| e.to_string())?;
        for (name, gateway) in &inventory.gateways {
            for (domain, settings) in &gateway.domains {
                if !settings.domains.is_empty() {
                    return Err(format!(
                        "gateways.{name}.domains.{domain}: domains cannot be nested"
                    ));
                }
            }
        }
        Ok(inventory)
    }

    pub fn load(path: &Path) -> anyhow::Result<Inventory> {
        let text = input::read_text(path, Within::Anywhere, caps::INVENTORY)
            .map_err(|e| anyhow::anyhow!("{} {e}", path.display()))?;
        Inventory::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// A gateway's settings for one domain, with the defaults applied.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub fastd_secret: Option<String>,
    pub wireguard_private_key: Option<String>,
    pub bind: Vec<String>,
    pub interfaces: Interfaces,
    pub offload: bool,
    pub peers: Peers,
    pub peers_dir: Option<String>,
    pub config_dir: String,
    pub log_level: String,
    pub instance: Option<String>,
    pub fastd_port: Option<u16>,
    pub wireguard_port: Option<u16>,
    pub tunneldigger_port: Option<u16>,
    pub fastd_interface: Option<String>,
    pub peer_interface: Option<String>,
    pub batman: Option<String>,
    pub bridge: Option<String>,
    pub wireguard_interface: Option<String>,
    pub vxlan_interface: Option<String>,
    pub uplink: String,
}

impl Settings {
    /// The settings for a domain (`default` in single-domain sites).
    pub fn resolve(&self, domain: &str) -> Resolved {
        let d = self.domains.get(domain).cloned().unwrap_or_default();
        let g = self;
        macro_rules! pick {
            ($f:ident) => {
                d.$f.clone().or_else(|| g.$f.clone())
            };
        }
        Resolved {
            fastd_secret: pick!(fastd_secret),
            wireguard_private_key: pick!(wireguard_private_key),
            bind: pick!(bind).unwrap_or_else(|| vec!["any".into()]),
            interfaces: pick!(interfaces).unwrap_or_default(),
            offload: pick!(offload).unwrap_or(false),
            peers: pick!(peers).unwrap_or_default(),
            peers_dir: pick!(peers_dir),
            config_dir: pick!(config_dir).unwrap_or_else(|| "/etc/gluonvpn".into()),
            log_level: pick!(log_level).unwrap_or_else(|| "info".into()),
            instance: pick!(instance),
            fastd_port: pick!(fastd_port),
            wireguard_port: pick!(wireguard_port),
            tunneldigger_port: pick!(tunneldigger_port),
            fastd_interface: pick!(fastd_interface),
            peer_interface: pick!(peer_interface),
            batman: pick!(batman),
            bridge: pick!(bridge),
            wireguard_interface: pick!(wireguard_interface),
            vxlan_interface: pick!(vxlan_interface),
            uplink: pick!(uplink).unwrap_or_else(|| "eth0".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_settings_override_the_gateway() {
        let inv = Inventory::parse(
            r#"
[gateways.gw1]
offload = true
bind = ["0.0.0.0"]
interfaces = "systemd-networkd"
[gateways.gw1.domains.nord]
offload = false
batman = "bat-nord"
"#,
        )
        .unwrap();
        let gw = &inv.gateways["gw1"];
        let nord = gw.resolve("nord");
        assert!(!nord.offload);
        assert_eq!(nord.batman.as_deref(), Some("bat-nord"));
        assert_eq!(nord.bind, ["0.0.0.0"]);
        assert_eq!(nord.interfaces, Interfaces::SystemdNetworkd);
        assert!(gw.resolve("sued").offload);
        assert_eq!(gw.resolve("sued").peers, Peers::Any);
    }

    #[test]
    fn typos_are_errors() {
        let e = Inventory::parse("[gateways.gw1]\nofload = true\n").unwrap_err();
        assert!(e.contains("ofload"), "{e}");
        assert!(Inventory::parse("[gateways.gw1]\ninterfaces = \"ifupdown\"\n").is_err());
    }
}
