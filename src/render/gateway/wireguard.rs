//! A gateway's WireGuard interfaces, the VXLANs on them, their node peers
//! and the wireguard-vxlan-glue configuration.
//!
//! Node peers come from the inventory's `wireguard_node_keys`, read here
//! when rendering: a file of WireGuard public keys (one per line, `#`
//! comments), or a directory with one file per node (its first line a
//! WireGuard key, as in Freifunk Hannover's peers-wg repository, or a
//! fastd peer file `key "…";`, translated as Gluon translates a node's
//! key). Each becomes a peer whose allowed IP is the node's link-local
//! address (`fe80::…/128`, [`crate::derive::wireguard_link_local`]).

use super::layout::{Layout, WgInterface};
use crate::derive::wireguard_link_local;
use crate::fastd_conf::{self, Includes};
use crate::input::{self, caps, Within};
use crate::keys::{FastdPublicKey, WgPublicKey};
use crate::render::inventory::{Interfaces, Inventory};
use crate::render::node::{GATEWAY_LINK_LOCAL, VXLAN6_OVERHEAD, VXLAN_PORT};
use crate::render::{invalid, templates, Format, RenderError, Tree};
use std::path::{Path, PathBuf};

/// At most this many node keys (a community's whole node count is far
/// below).
pub const MAX_NODE_KEYS: usize = 100_000;

#[derive(Clone, Debug, serde::Serialize)]
struct NodePeer {
    /// Where the key came from (a file name, or `line N`).
    source: String,
    key: String,
    allowed_ip: String,
}

fn peer(source: String, key: WgPublicKey) -> NodePeer {
    NodePeer {
        source,
        allowed_ip: format!("{}/128", wireguard_link_local(&key)),
        key: key.to_base64(),
    }
}

/// Reads the node keys of `path` (a file or a directory, see the module
/// documentation). Errors name the file and line.
fn read_node_keys(path: &Path) -> Result<Vec<NodePeer>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut peers = Vec::new();
    if meta.is_dir() {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| format!("{shown}: {e}"))? {
            let entry = entry.map_err(|e| format!("{shown}: {e}"))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            // As fastd reads a peer directory: no dot files, no backups.
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            names.push(name);
            if names.len() > MAX_NODE_KEYS {
                return Err(format!(
                    "{shown}: more than {MAX_NODE_KEYS} files; gluonvpn reads at most that many node keys"
                ));
            }
        }
        names.sort();
        for name in names {
            let file = path.join(&name);
            if !std::fs::metadata(&file)
                .map(|m| m.is_file())
                .unwrap_or(false)
            {
                continue;
            }
            let text = input::read_text(&file, Within::Directory(path), caps::PEER_FILE)
                .map_err(|e| format!("{} {e}", file.display()))?;
            // A fastd peer file (`key "…";`), translated, else a WireGuard key.
            let fastd = fastd_conf::single_string_statement(&text, "key", Includes::Refuse)
                .ok()
                .and_then(|found| FastdPublicKey::from_hex(&found.value).ok());
            let key = match fastd {
                Some(fastd) => fastd.to_wireguard(),
                None => {
                    let first = text.lines().next().unwrap_or("").trim();
                    WgPublicKey::from_base64(first).map_err(|e| {
                        format!(
                            "{}:1: expected a WireGuard public key (or a fastd `key \"…\";`): {e}",
                            file.display()
                        )
                    })?
                }
            };
            peers.push(peer(name, key));
        }
    } else {
        let text = input::read_text(path, Within::Anywhere, caps::INVENTORY)
            .map_err(|e| format!("{shown} {e}"))?;
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let key = WgPublicKey::from_base64(line).map_err(|e| {
                format!(
                    "{shown}:{}: expected a WireGuard public key: {e}",
                    number + 1
                )
            })?;
            peers.push(peer(format!("line {}", number + 1), key));
            if peers.len() > MAX_NODE_KEYS {
                return Err(format!(
                    "{shown}: more than {MAX_NODE_KEYS} keys; gluonvpn reads at most that many"
                ));
            }
        }
    }
    let mut seen = std::collections::BTreeMap::new();
    for p in &peers {
        if let Some(first) = seen.insert(p.key.clone(), p.source.clone()) {
            return Err(format!(
                "{shown}: {} and {first} have the same key; WireGuard takes each key once",
                p.source
            ));
        }
    }
    Ok(peers)
}

fn node_keys_path(inventory: &Inventory, given: &str) -> PathBuf {
    let path = Path::new(given);
    match &inventory.base_dir {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

pub fn render(
    tree: &mut Tree,
    layout: &Layout,
    inventory: &Inventory,
    header: &str,
) -> Result<(), RenderError> {
    let mut glue_wg = Vec::new();
    let mut glue_vx = Vec::new();
    for iface in &layout.wireguard {
        interface(tree, iface, inventory, header)?;
        for vx in &iface.vxlans {
            glue_wg.push(iface.name.clone());
            glue_vx.push(vx.name.clone());
        }
    }
    // wireguard-vxlan-glue's `-c` file: interfaces paired by position.
    let glue = serde_json::json!({
        "interfaces": { "wireguard": glue_wg, "vxlan": glue_vx }
    });
    let mut text = serde_json::to_string_pretty(&glue)
        .map_err(|e| invalid(format!("wireguard-vxlan-glue config: {e}")))?;
    text.push('\n');
    tree.file("wireguard-vxlan-glue/config.json", text, Format::Json);
    Ok(())
}

fn interface(
    tree: &mut Tree,
    iface: &WgInterface,
    inventory: &Inventory,
    header: &str,
) -> Result<(), RenderError> {
    let name = &iface.name;
    let mtu = iface.vxlans.iter().map(|v| v.mtu).max().unwrap_or(1280) + VXLAN6_OVERHEAD;
    let key_file = iface
        .private_key
        .clone()
        .unwrap_or_else(|| format!("/etc/wireguard/{name}.key"));
    if iface.vxlans.len() > 1 {
        let domains: Vec<&str> = iface.vxlans.iter().map(|v| v.domain.as_str()).collect();
        tree.note(format!(
            "WireGuard interface {name} carries the VXLANs of domains {}: wireguard-vxlan-glue adds each node's route once per VXLAN and fails on the second; give each domain its own port and interface if you run it",
            domains.join(", ")
        ));
    }
    let peers = match &iface.node_keys {
        Some(given) => {
            let path = node_keys_path(inventory, given);
            read_node_keys(&path).map_err(|e| invalid(format!("wireguard_node_keys: {e}")))?
        }
        None => Vec::new(),
    };
    let conf_path = format!("{}/wireguard/{name}.conf", iface.config_dir);
    let ctx = minijinja::context! {
        header,
        name,
        port => iface.port,
        mtu,
        key_file => &key_file,
        conf_path => &conf_path,
        address => format!("{GATEWAY_LINK_LOCAL}/64"),
        local => GATEWAY_LINK_LOCAL,
        vxlan_port => VXLAN_PORT,
        vxlans => &iface.vxlans,
        peers => &peers,
        node_keys => iface.node_keys.is_some(),
    };
    tree.file(
        format!("wireguard/{name}.conf"),
        templates::render("gateway/wg.conf.j2", &ctx)?,
        Format::WireGuard,
    );
    match iface.interfaces {
        Interfaces::Hooks => {
            tree.file(
                format!("wireguard/{name}-up.sh"),
                templates::render("gateway/wg-up.sh.j2", &ctx)?,
                Format::Shell,
            );
            tree.file(
                format!("wireguard/{name}-down.sh"),
                templates::render("gateway/wg-down.sh.j2", &ctx)?,
                Format::Shell,
            );
        }
        Interfaces::SystemdNetworkd => {
            tree.file(
                format!("systemd/network/40-{name}.netdev"),
                templates::render("gateway/wg.netdev.j2", &ctx)?,
                Format::Ini,
            );
            tree.file(
                format!("systemd/network/40-{name}.network"),
                templates::render("gateway/wg.network.j2", &ctx)?,
                Format::Ini,
            );
            for vx in &iface.vxlans {
                let vctx = minijinja::context! {
                    header,
                    vx,
                    local => GATEWAY_LINK_LOCAL,
                    vxlan_port => VXLAN_PORT,
                };
                tree.file(
                    format!("systemd/network/45-{}.netdev", vx.name),
                    templates::render("gateway/vxlan.netdev.j2", &vctx)?,
                    Format::Ini,
                );
                tree.file(
                    format!("systemd/network/45-{}.network", vx.name),
                    templates::render("gateway/vxlan.network.j2", &vctx)?,
                    Format::Ini,
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_keys_from_a_file_and_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys");
        // the test vector of freifunkh's autoupdate_wg.py
        std::fs::write(
            &file,
            "# nodes\nA36Cc3vNy6D5naQs6fOTci1X8oEjSfhX5d+KDUFGM1Q=\n\n",
        )
        .unwrap();
        let peers = read_node_keys(&file).unwrap();
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].allowed_ip, "fe80::206:b6ff:feb0:f36d/128");
        std::fs::write(
            &file,
            "A36Cc3vNy6D5naQs6fOTci1X8oEjSfhX5d+KDUFGM1Q=\nnot a key\n",
        )
        .unwrap();
        let e = read_node_keys(&file).unwrap_err();
        assert!(e.contains(":2: expected a WireGuard public key"), "{e}");

        let peers_dir = dir.path().join("peers");
        std::fs::create_dir(&peers_dir).unwrap();
        std::fs::write(
            peers_dir.join("node1"),
            "A36Cc3vNy6D5naQs6fOTci1X8oEjSfhX5d+KDUFGM1Q=\n",
        )
        .unwrap();
        std::fs::write(peers_dir.join(".hidden"), "junk").unwrap();
        let peers = read_node_keys(&peers_dir).unwrap();
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].source, "node1");
        // a fastd peer file: its key translated, as Gluon translates a node's
        let fastd_hex = "9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f";
        std::fs::write(peers_dir.join("node0"), format!("key \"{fastd_hex}\";\n")).unwrap();
        let peers = read_node_keys(&peers_dir).unwrap();
        let translated = FastdPublicKey::from_hex(fastd_hex).unwrap().to_wireguard();
        assert_eq!(peers[0].source, "node0");
        assert_eq!(peers[0].key, translated.to_base64());
        std::fs::remove_file(peers_dir.join("node0")).unwrap();
        std::fs::write(
            peers_dir.join("node2"),
            "A36Cc3vNy6D5naQs6fOTci1X8oEjSfhX5d+KDUFGM1Q=\n",
        )
        .unwrap();
        let e = read_node_keys(&peers_dir).unwrap_err();
        assert!(e.contains("the same key"), "{e}");
    }
}
