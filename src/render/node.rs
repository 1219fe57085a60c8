//! `gluonvpn render node`: what a fresh Gluon node of the site configures
//! for its mesh VPN, per domain.
//!
//! The UCI files are what the upgrade scripts write on first boot (read
//! from Gluon's sources, per release):
//!
//! * `etc/config/fastd`: `400-mesh-vpn-fastd` (gluon-mesh-vpn-fastd; the same
//!   from v2022.1 to v2025.1): the `mesh_vpn` instance (mode `tap`, or with
//!   gluon-mesh-vpn-fastd-l2tp in the image `multitap` with `offload_l2tp`,
//!   `persist_interface` off and `peer_limit 1`), the methods (reordered
//!   when `configurable`: `null@l2tp`, `null`, then the site's others, if
//!   the site lists a null method), one `peer_group` per group (named
//!   `mesh_vpn_<group>`, nested groups `<parent>_<name>`) and one `peer` per
//!   peer (`<group>_peer_<name>`). `enabled` is written by
//!   `500-mesh-vpn` (through `update-config`) from `mesh_vpn.enabled`.
//! * `etc/config/network`: the sections `400-mesh-vpn-wireguard` writes,
//!   `wg_mesh` (proto `wireguard`, fwmark 1, `private_key` `generate`; from
//!   v2025.1 `mtu` = the active provider's mtu + 70, before no mtu, so the
//!   kernel's 1420) and `mesh_wg_mesh` (proto `gluon_wireguard`), and the
//!   `disabled` flag `update-config` sets.
//! * `etc/config/wgpeerselector`: one `peer` per site peer with
//!   `allowed_ips fe80::1/128`.
//! * `etc/config/tunneldigger` (up to v2023.2): the `mesh_vpn` broker.
//!
//! A fresh node has no secret yet: `secret`/`private_key` are `generate`,
//! which the init scripts replace by a new key on first start.
//!
//! Gluon iterates peers and groups with `pairs()` (hash order); gluonvpn
//! writes them sorted by name. Options are written in the order the
//! scripts list them.

use super::uci::{self, Package, Section};
use super::{
    invalid, provenance, templates, DomainPlan, Format, ImagePackages, Provider, RenderError, Tree,
    FASTD_L2TP_PACKAGE,
};
use crate::derive;
use crate::gluon_version::GluonVersion;
use crate::site::load::Site;
use crate::site::mesh_vpn::address::{fastd_syntax, init_script_guard};
use crate::site::mesh_vpn::{FastdGroup, FastdPeer};
use crate::site::value::lua_number_to_string;
use serde::Serialize;

/// What `render node` renders.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    pub version: GluonVersion,
    /// Only this domain (multidomain sites).
    pub domain: Option<String>,
    /// The images whose packages count: `standard` or `tiny`.
    pub device_class: String,
}

impl NodeOptions {
    pub fn new(version: GluonVersion) -> NodeOptions {
        NodeOptions {
            version,
            domain: None,
            device_class: "standard".into(),
        }
    }
}

/// Gluon's interface names on the node.
pub const MESH_VPN_IFACE: &str = "mesh-vpn";
pub const WG_IFACE: &str = "wg_mesh";
/// The kernel's default WireGuard MTU (what wg_mesh has before v2025.1).
pub const WG_DEFAULT_MTU: u32 = 1420;
/// The IPv6 VXLAN overhead Gluon adds for wg_mesh from v2025.1.
pub const VXLAN6_OVERHEAD: u32 = 70;
/// OpenWrt's (netifd's) default VXLAN port, which the node uses.
pub const VXLAN_PORT: u16 = 4789;
/// The gateway's address on every node's WireGuard link.
pub const GATEWAY_LINK_LOCAL: &str = "fe80::1";

/// Renders the node tree of every domain (or of `options.domain`).
pub fn render(site: &Site, options: &NodeOptions) -> Result<Tree, RenderError> {
    let packages = ImagePackages::of(site, &options.device_class);
    let plans = super::plans(site, &packages, options.domain.as_deref())?;
    let mut tree = Tree::default();
    let prefix = site.multidomain && options.domain.is_none();
    for plan in &plans {
        let mut sub = render_domain(site, plan, &packages, options)?;
        if prefix {
            if let Some(name) = plan.name() {
                sub = sub.prefixed(name);
            }
        }
        tree.extend(sub);
    }
    if tree.entries.is_empty() {
        tree.note(format!(
            "no mesh VPN to render: the {} images contain no mesh VPN package that the site configures",
            packages.class
        ));
    }
    tree.sort();
    super::formats::reparse_tree(&tree)?;
    Ok(tree)
}

fn render_domain(
    site: &Site,
    plan: &DomainPlan<'_>,
    packages: &ImagePackages<'_>,
    options: &NodeOptions,
) -> Result<Tree, RenderError> {
    let mut tree = Tree::default();
    let header = provenance("gluonvpn render node", site, options.version, plan.name());
    let label = plan
        .name()
        .map(|d| format!("domain {d}: "))
        .unwrap_or_default();
    for provider in Provider::ALL {
        let configured = plan.vpn().configures(provider);
        if configured && !plan.has(provider) {
            tree.note(format!(
                "{label}mesh_vpn.{} is configured, but no {} image contains {}; not rendered",
                provider.key(),
                packages.class,
                provider.package()
            ));
        }
    }
    if plan.has(Provider::Fastd) {
        fastd(&mut tree, plan, packages, &header, &label)?;
    }
    if plan.has(Provider::Tunneldigger) {
        tunneldigger(&mut tree, plan, &header)?;
    }
    // etc/config/network: the upgrade scripts' sections, in their order.
    let mut network = Package::default();
    let mut network_notes = Vec::new();
    if plan.has(Provider::WireGuard) {
        let sections = wireguard(&mut tree, plan, options.version, &header, &label)?;
        network.sections.extend(sections.sections);
        network_notes.extend(sections.notes);
    }
    if let Some(active) = plan.active() {
        network
            .sections
            .push(mesh_vpn_interface(plan, active, options.version, &label)?);
        network_notes.push(mesh_vpn_interface_note(options.version));
    }
    if !network.sections.is_empty() {
        tree.file(
            "etc/config/network",
            uci::write(
                &network,
                &format!(
                    "{header}\nOnly the sections Gluon's mesh VPN upgrade scripts write.\n{}",
                    network_notes.join("\n")
                ),
            )
            .map_err(|e| invalid(format!("{label}{e}")))?,
            Format::Uci,
        );
    }
    Ok(tree)
}

/// The mesh VPN's interface in the `network` config, as gluon-mesh-vpn-core's
/// `500-mesh-vpn` writes it for the active provider: batman-adv's hard
/// interface `mesh-vpn` (proto `gluon_mesh`), with the provider's mtu fixed;
/// up to v2023.2 also `transitive`.
fn mesh_vpn_interface(
    plan: &DomainPlan<'_>,
    active: Provider,
    version: GluonVersion,
    label: &str,
) -> Result<Section, RenderError> {
    let mtu = active_mtu(plan).ok_or_else(|| {
        invalid(format!(
            "{label}mesh_vpn.{}.mtu is not set (to a whole number)",
            active.key()
        ))
    })?;
    let mut section = Section::new("interface", "mesh_vpn")
        .option("ifname", MESH_VPN_IFACE)
        .option("proto", "gluon_mesh");
    if version < GluonVersion::V2025_1 {
        section = section.flag("transitive", true);
    }
    Ok(section
        .flag("fixed_mtu", true)
        .option("mtu", mtu.to_string()))
}

/// What `500-mesh-vpn` also writes, which is each node's own.
fn mesh_vpn_interface_note(version: GluonVersion) -> String {
    let mut note = "mesh_vpn: each node also gets its own macaddr, derived from its primary MAC\n\
                    (gluon.util.generate_mac(7): md5 of the primary MAC, locally administered,\n\
                    last three bits 7); not written here."
        .to_string();
    if version >= GluonVersion::V2025_1 {
        note.push_str(
            "\nhop_penalty is written only where the node's owner set\n\
             gluon.mesh_vpn.batadv_hop_penalty.",
        );
    }
    note
}

/// Sections of the `network` config, and what the header should say of them.
#[derive(Default)]
struct NetworkSections {
    sections: Vec<Section>,
    notes: Vec<String>,
}

pub use crate::site::mesh_vpn::methods::{methods_but_null, node_methods};

/// A fastd peer group of the site, flattened as Gluon names it.
struct Group<'v> {
    /// The UCI section name (`mesh_vpn_<group>`, nested `<parent>_<name>`).
    uci_name: String,
    parent: Option<String>,
    limit: Option<String>,
    peers: &'v [FastdPeer],
    children: Vec<Group<'v>>,
}

fn groups<'v>(prefix: &str, list: &'v [FastdGroup], parent: Option<&str>) -> Vec<Group<'v>> {
    list.iter()
        .map(|group| {
            let uci_name = format!("{prefix}_{}", group.name);
            Group {
                parent: parent.map(str::to_string),
                limit: group.limit.as_ref().map(|l| lua_number_to_string(l.value)),
                peers: &group.peers,
                children: groups(&uci_name, &group.groups, Some(&uci_name)),
                uci_name,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct FastdPeerGroupCtx {
    name: String,
    peer_limit: Option<String>,
    peer_dir: String,
    children: Vec<FastdPeerGroupCtx>,
}

fn fastd(
    tree: &mut Tree,
    plan: &DomainPlan<'_>,
    packages: &ImagePackages<'_>,
    header: &str,
    label: &str,
) -> Result<(), RenderError> {
    let Some(config) = &plan.vpn().fastd else {
        return Ok(());
    };
    let methods = node_methods(&config.method_names(), config.is_configurable());
    let mtu = config
        .mtu
        .as_ref()
        .map(|m| lua_number_to_string(m.value))
        .ok_or_else(|| invalid(format!("{label}mesh_vpn.fastd.mtu is not set")))?;
    let offload = packages.has(FASTD_L2TP_PACKAGE);
    if offload && !packages.all.contains(FASTD_L2TP_PACKAGE) {
        tree.note(format!(
            "{label}only some {} images contain {FASTD_L2TP_PACKAGE}; rendered with the L2TP offload (mode multitap), which the others do not use",
            packages.class
        ));
    }
    let enabled = plan.vpn_enabled();

    // etc/config/fastd
    let mut instance = Section::new("fastd", "mesh_vpn")
        .option("group", "gluon-mesh-vpn")
        .option("syslog_level", "verbose")
        .option("secret", "generate")
        .option("interface", MESH_VPN_IFACE)
        .option("mode", "tap")
        .option("mtu", mtu.clone())
        .flag("secure_handshakes", true)
        .list("method", methods.clone())
        .option("packet_mark", "1")
        .flag("persist_interface", true)
        .flag("offload_l2tp", false)
        .option("status_socket", "/var/run/fastd.mesh_vpn.socket");
    if offload {
        instance = instance
            .option("mode", "multitap")
            .flag("persist_interface", false)
            .flag("offload_l2tp", true)
            .option("peer_limit", "1");
    }
    instance = instance.flag("enabled", enabled);
    let mut package = Package {
        sections: vec![instance],
    };
    let groups = groups("mesh_vpn", &config.groups, None);
    let mut peer_files = Vec::new();
    fn add_groups(
        package: &mut Package,
        peer_files: &mut Vec<(String, String, String)>,
        skipped: &mut Vec<String>,
        groups: &[Group<'_>],
        dir: &str,
        contexts: &mut Vec<FastdPeerGroupCtx>,
    ) {
        for group in groups {
            let mut section = Section::new("peer_group", &group.uci_name)
                .flag("enabled", true)
                .option("net", "mesh_vpn");
            if let Some(parent) = &group.parent {
                section = section.option("parent", parent.clone());
            }
            if let Some(limit) = &group.limit {
                section = section.option("peer_limit", limit.clone());
            }
            package.sections.push(section);
            let group_dir = format!("{dir}%{}", group.uci_name);
            for peer in group.peers {
                let uci_name = format!("{}_peer_{}", group.uci_name, peer.name);
                let key = peer.key.as_ref().map(|k| k.value.as_str());
                let remotes: Vec<String> = peer
                    .remotes
                    .iter()
                    .flat_map(|r| r.value.iter().map(|r| r.text.clone()))
                    .collect();
                let mut section = Section::new("peer", &uci_name)
                    .flag("enabled", true)
                    .option("net", "mesh_vpn")
                    .option("group", group.uci_name.clone())
                    .option("interface", MESH_VPN_IFACE);
                if let Some(key) = key {
                    section = section.option("key", key);
                }
                if !remotes.is_empty() {
                    section = section.list("remote", remotes.clone());
                }
                package.sections.push(section);
                // fastd ignores a peer file it cannot read (and a key that
                // is not one): leave it out and say so, rather than write
                // a file that does nothing on the node.
                if let Some(why) = unreadable_peer_file(key, &remotes) {
                    skipped.push(format!("{uci_name} ({why})"));
                    continue;
                }
                // The peer file the init script writes: options float,
                // interface, key, mtu, remote, in that order.
                let mut file = format!("interface {};\n", templates::fastd_string(MESH_VPN_IFACE));
                if let Some(key) = key {
                    file.push_str(&format!("key {};\n", templates::fastd_string(key)));
                }
                for remote in remotes.iter().filter_map(|r| init_script_guard(r)) {
                    file.push_str(&format!("remote {remote};\n"));
                }
                peer_files.push((group_dir.clone(), uci_name, file));
            }
            let mut children = Vec::new();
            add_groups(
                package,
                peer_files,
                skipped,
                &group.children,
                &group_dir,
                &mut children,
            );
            contexts.push(FastdPeerGroupCtx {
                name: group.uci_name.clone(),
                peer_limit: group.limit.clone(),
                peer_dir: format!("peers/{group_dir}"),
                children,
            });
        }
    }
    let mut group_contexts = Vec::new();
    let mut skipped = Vec::new();
    add_groups(
        &mut package,
        &mut peer_files,
        &mut skipped,
        &groups,
        "peers",
        &mut group_contexts,
    );
    if !skipped.is_empty() {
        tree.note(format!(
            "{label}fastd/peers: no peer file for {}: fastd ignores such a file on the node \
             (`gluonvpn check` reports the site's value)",
            skipped.join(", ")
        ));
    }
    tree.file(
        "etc/config/fastd",
        uci::write(&package, header).map_err(|e| invalid(format!("{label}{e}")))?,
        Format::Uci,
    );

    // fastd/: what OpenWrt's fastd init script makes of that UCI.
    #[derive(Serialize)]
    struct Ctx<'a> {
        header: &'a str,
        methods: &'a [String],
        mode: &'a str,
        interface: &'a str,
        mtu: &'a str,
        peer_limit: Option<&'a str>,
        offload: bool,
        enabled: bool,
        groups: String,
    }
    let text = templates::render(
        "node/fastd.conf.j2",
        Ctx {
            header,
            methods: &methods,
            mode: if offload { "multitap" } else { "tap" },
            interface: MESH_VPN_IFACE,
            mtu: &mtu,
            peer_limit: offload.then_some("1"),
            offload,
            enabled,
            groups: fastd_groups_text(&group_contexts, ""),
        },
    )?;
    tree.file("fastd/fastd.conf", text, Format::Fastd);
    tree.dir("fastd/peers/peers");
    for (dir, name, file) in peer_files {
        tree.dir(format!("fastd/peers/{dir}"));
        tree.file(format!("fastd/peers/{dir}/{name}"), file, Format::FastdPeer);
    }
    // Nested groups without peers still get their (empty) directory.
    fn dirs(tree: &mut Tree, groups: &[FastdPeerGroupCtx]) {
        for g in groups {
            tree.dir(format!("fastd/{}", g.peer_dir));
            dirs(tree, &g.children);
        }
    }
    dirs(tree, &group_contexts);
    tree.entries.dedup();
    let mut seen = std::collections::BTreeSet::new();
    tree.entries.retain(|e| seen.insert(e.path().to_string()));
    Ok(())
}

/// Why fastd would skip the peer file OpenWrt's init script writes for a
/// peer: no key, a key that is not 64 hex digits, or a remote that is not
/// in fastd's syntax once the init script has filtered it (fastd drops a
/// peer file it cannot parse, with all its remotes).
fn unreadable_peer_file(key: Option<&str>, remotes: &[String]) -> Option<String> {
    match key {
        None => return Some("it has no key".into()),
        Some(key) if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) => {
            return Some("its key is not 64 hex digits".into())
        }
        Some(_) => {}
    }
    remotes.iter().find_map(|remote| {
        let seen = init_script_guard(remote)?;
        fastd_syntax(&seen)
            .err()
            .map(|problem| format!("the remote `{seen}` {problem}"))
    })
}

/// The `peer group` blocks the init script writes (tab-indented).
fn fastd_groups_text(groups: &[FastdPeerGroupCtx], indent: &str) -> String {
    let mut out = String::new();
    for g in groups {
        out.push_str(&format!(
            "{indent}peer group {} {{\n",
            templates::fastd_string(&g.name)
        ));
        if let Some(limit) = &g.peer_limit {
            out.push_str(&format!("{indent}\tpeer limit {limit};\n"));
        }
        out.push_str(&format!(
            "{indent}\tinclude peers from {};\n",
            templates::fastd_string(&g.peer_dir)
        ));
        out.push_str(&fastd_groups_text(&g.children, &format!("{indent}\t")));
        out.push_str(&format!("{indent}}}\n"));
    }
    out
}

/// The MTU of the node's WireGuard interface, and why.
pub fn wg_mesh_mtu(version: GluonVersion, active_mtu: Option<u32>) -> (Option<u32>, u32) {
    if version >= GluonVersion::V2025_1 {
        let mtu = active_mtu.map(|m| m + VXLAN6_OVERHEAD);
        (mtu, mtu.unwrap_or(WG_DEFAULT_MTU))
    } else {
        (None, WG_DEFAULT_MTU)
    }
}

/// The mtu of the active provider (what `active_vpn.mtu()` returns).
pub fn active_mtu(plan: &DomainPlan<'_>) -> Option<u32> {
    let active = plan.active()?;
    plan.vpn()
        .mtu(active)
        .map(|m| m.value)
        .filter(|m| *m >= 0.0 && m.fract() == 0.0 && *m < 65536.0)
        .map(|m| m as u32)
}

/// The WireGuard files, and the `network` sections `400-mesh-vpn-wireguard`
/// writes.
fn wireguard(
    tree: &mut Tree,
    plan: &DomainPlan<'_>,
    version: GluonVersion,
    header: &str,
    label: &str,
) -> Result<NetworkSections, RenderError> {
    let Some(config) = &plan.vpn().wireguard else {
        return Ok(NetworkSections::default());
    };
    let vxlan_mtu = config
        .mtu
        .as_ref()
        .map(|m| m.value as u32)
        .ok_or_else(|| invalid(format!("{label}mesh_vpn.wireguard.mtu is not set")))?;
    let (uci_mtu, wg_mtu) = wg_mesh_mtu(version, active_mtu(plan));
    let seed = plan
        .domain_seed()
        .ok_or_else(|| invalid(format!("{label}domain_seed is not set")))?;
    let vni = derive::vxlan_vni(seed);

    let mut wg = Section::new("interface", WG_IFACE)
        .option("proto", "wireguard")
        .option("fwmark", "1")
        .option("private_key", "generate");
    if let Some(mtu) = uci_mtu {
        wg = wg.option("mtu", mtu.to_string());
    }
    if plan.active() == Some(Provider::WireGuard) {
        wg = wg.flag("disabled", !plan.vpn_enabled());
    }
    let network = NetworkSections {
        sections: vec![
            wg,
            Section::new("interface", "mesh_wg_mesh")
                .option("ifname", WG_IFACE)
                .option("proto", "gluon_wireguard"),
        ],
        notes: uci_mtu
            .is_none()
            .then(|| format!(
                "Gluon {version} gives wg_mesh no mtu (the kernel's default, 1420, applies);\nfrom v2025.1 on it is mesh_vpn.wireguard.mtu + 70."
            ))
            .into_iter()
            .collect(),
    };

    let peers = &config.peers;
    let mut selector = Package::default();
    for peer in peers {
        let mut section = Section::new("peer", &peer.name).flag("enabled", true);
        if let Some(endpoint) = &peer.endpoint {
            section = section.option("endpoint", endpoint.text.as_str());
        }
        match &peer.public_key {
            Some(key) => section = section.option("public_key", key.value.as_str()),
            None => tree.note(format!(
                "{label}WireGuard peer '{}' has no public_key: the node's wgpeerselector cannot use it",
                peer.name
            )),
        }
        section = section
            .list("allowed_ips", [format!("{GATEWAY_LINK_LOCAL}/128")])
            .option("ifname", WG_IFACE);
        selector.sections.push(section);
    }
    tree.file(
        "etc/config/wgpeerselector",
        uci::write(&selector, header).map_err(|e| invalid(format!("{label}{e}")))?,
        Format::Uci,
    );

    #[derive(Serialize)]
    struct PeerCtx<'a> {
        name: &'a str,
        public_key: &'a str,
        endpoint: Option<&'a str>,
    }
    let peer_ctx: Vec<PeerCtx<'_>> = peers
        .iter()
        .filter_map(|p| {
            Some(PeerCtx {
                name: &p.name,
                public_key: &p.public_key.as_ref()?.value,
                endpoint: p.endpoint.as_ref().map(|e| e.text.as_str()),
            })
        })
        .collect();
    tree.file(
        "wireguard/peers.conf",
        templates::render(
            "node/peers.conf.j2",
            minijinja::context! { header, peers => peer_ctx, allowed_ip => format!("{GATEWAY_LINK_LOCAL}/128") },
        )?,
        Format::WireGuard,
    );
    tree.file(
        "wireguard/vxlan.conf",
        templates::render(
            "node/vxlan.conf.j2",
            minijinja::context! {
                header,
                version => version.label(),
                vni,
                remote => GATEWAY_LINK_LOCAL,
                port => VXLAN_PORT,
                vxlan_interface => MESH_VPN_IFACE,
                vxlan_mtu,
                wg_interface => WG_IFACE,
                wg_mtu,
                wg_mtu_from_gluon => uci_mtu.is_some(),
            },
        )?,
        Format::KeyValue,
    );
    Ok(network)
}

fn tunneldigger(tree: &mut Tree, plan: &DomainPlan<'_>, header: &str) -> Result<(), RenderError> {
    let Some(config) = &plan.vpn().tunneldigger else {
        return Ok(());
    };
    let brokers: Vec<String> = config.brokers.iter().map(|b| b.text.clone()).collect();
    let mut broker = Section::new("broker", "mesh_vpn")
        .option("uuid", "NODE_ID")
        .option("interface", MESH_VPN_IFACE)
        .option("bind_interface", "br-wan")
        .option("group", "gluon-mesh-vpn")
        .option("broker_selection", "usage")
        .list("address", brokers);
    if plan.active() == Some(Provider::Tunneldigger) {
        broker = broker.flag("enabled", plan.vpn_enabled());
        let ingress = plan
            .vpn()
            .bandwidth_limit
            .as_ref()
            .filter(|l| l.enabled)
            .and_then(|l| l.ingress);
        if let Some(ingress) = ingress {
            broker = broker.option("limit_bw_down", lua_number_to_string(ingress));
        }
    }
    let package = Package {
        sections: vec![broker],
    };
    tree.file(
        "etc/config/tunneldigger",
        uci::write(
            &package,
            &format!("{header}\nNODE_ID stands for the node's ID, its primary MAC address without colons\n(gluon.util.node_id()), which each node fills in itself."),
        )
        .map_err(|e| invalid(e.to_string()))?,
        Format::Uci,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn configurable_reorders_like_gluon() {
        assert_eq!(
            node_methods(&v(&["salsa2012+umac", "null"]), true),
            v(&["null@l2tp", "null", "salsa2012+umac"])
        );
        assert_eq!(
            node_methods(&v(&["salsa2012+umac"]), true),
            v(&["salsa2012+umac"])
        );
        assert_eq!(
            node_methods(&v(&["salsa2012+umac", "null"]), false),
            v(&["salsa2012+umac", "null"])
        );
    }

    #[test]
    fn wg_mesh_mtu_per_release() {
        assert_eq!(
            wg_mesh_mtu(GluonVersion::V2025_1, Some(1370)),
            (Some(1440), 1440)
        );
        assert_eq!(wg_mesh_mtu(GluonVersion::V2023_2, Some(1370)), (None, 1420));
    }
}
