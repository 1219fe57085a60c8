//! `gluonvpn render gateway`: one gateway's configuration for every domain
//! it serves, from the site (its keys, ports, methods, MTUs, domain seeds)
//! and the [`inventory`](super::inventory) (key files, addresses, interface
//! names and how interfaces are set up).
//!
//! The gateway is named as the site names it: a fastd peer (in any group)
//! or a WireGuard peer, in one domain or several; a tunneldigger broker
//! matches when its host is the name or starts with `NAME.`.
//!
//! * fastd: one instance per domain, `fastd/<instance>/fastd.conf`. The
//!   methods are the site's, with `null@l2tp` (and `null` after it, if the
//!   site lists `null`) in front when the site is `configurable`: nodes in
//!   performance mode offer those first. fastd answers a node's handshake
//!   with the first method *in the node's list* that it supports itself, so
//!   the gateway's order does not choose anything for nodes; what matters is
//!   that the gateway supports every method a node may offer.
//! * WireGuard: one interface per listen port (usually per domain), with
//!   `fe80::1/64`, one VXLAN per domain on it (VNI derived from the domain
//!   seed, local `fe80::1`, port 4789, UDP checksums off as on the nodes),
//!   and the wireguard-vxlan-glue configuration pairing them.
//! * tunneldigger: the broker's `broker.cfg` and session hooks.
//!
//! Secrets are never read into a rendered file: they are referenced by path
//! (`include "…";`, `PrivateKeyFile=`, `wg set … private-key …`). When the
//! key files are readable, they are checked against the site's public keys.

use super::inventory::{self, rules, Interfaces, Inventory, Peers, Resolved};
use super::node::{GATEWAY_LINK_LOCAL, VXLAN6_OVERHEAD, VXLAN_PORT};
use super::{
    invalid, provenance, templates, DomainPlan, Format, ImagePackages, Provider, RenderError, Tree,
};
use crate::derive;
use crate::fastd_conf::{self, Includes};
use crate::gluon_version::GluonVersion;
use crate::input;
use crate::keys::{FastdPublicKey, Secret, WgPublicKey};
use crate::site::load::Site;
use crate::site::mesh_vpn::{self, Address, Fastd, FastdPeer, WgPeer, WireGuard};
use crate::site::value::{lua_number_to_string, Node};
use serde::Serialize;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

#[derive(Clone, Debug)]
pub struct GatewayOptions {
    pub version: GluonVersion,
    pub gateway: String,
    pub domain: Option<String>,
}

/// The IPv6 VXLAN overhead on top of the VXLAN's MTU.
const WG_OVER_VXLAN: u32 = VXLAN6_OVERHEAD;

/// The values of a gateway's remotes (or endpoint) the program cannot read,
/// as notes: `check` reports them (GV145, GV152); render uses the others.
fn note_unreadable<'a>(
    tree: &mut Tree,
    label: &str,
    addresses: impl IntoIterator<Item = &'a Address>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for address in addresses {
        if let Err(problem) = &address.endpoint {
            let text = format!("`{}` {problem}", address.text);
            tree.note(format!("{label}not used: {text}"));
            problems.push(text);
        }
    }
    problems
}

/// The routing algorithm batman-adv uses in the site (systemd-networkd's
/// spelling).
fn routing_algo(plan: &DomainPlan<'_>) -> &'static str {
    match plan
        .view
        .merged
        .at(&["mesh", "batman_adv", "routing_algo"])
        .and_then(Node::as_str)
    {
        Some("BATMAN_V") => "batman-v",
        _ => "batman-iv",
    }
}

fn truncate_ifname(name: &str) -> String {
    name.chars().take(15).collect()
}

/// Checks a name the rendered files will use against its rule: the
/// inventory's were checked when it was loaded, so this catches the names
/// made from the site (`bat-<domain>`, an instance named after the site
/// code), and says which inventory key sets the name instead.
fn check_name(
    value: &str,
    key: &str,
    label: &str,
    rule: fn(&str) -> Result<(), String>,
    from_site: bool,
) -> Result<(), RenderError> {
    rule(value).map_err(|expected| {
        let made = if from_site {
            " (made from the site's names)"
        } else {
            ""
        };
        invalid(format!(
            "{label}{key} {}{made} is not usable: {expected}; set {key} in the inventory",
            inventory::shown(value)
        ))
    })
}

/// How a bind address from the inventory is written with the port (the
/// address checked once more: it is a bare word in fastd's syntax).
fn bind_statement(address: &str, port: u16) -> Result<String, RenderError> {
    rules::bind_address(address)
        .map_err(|e| invalid(format!("bind {}: {e}", inventory::shown(address))))?;
    Ok(format!("{address}:{port}"))
}

/// The key checks' findings.
#[derive(Default)]
struct KeyCheck {
    errors: Vec<String>,
}

fn read_secret_file(path: &str) -> Result<Zeroizing<String>, String> {
    input::read_secret(std::path::Path::new(path), input::caps::SECRET).map_err(|e| e.to_string())
}

impl KeyCheck {
    fn fastd(&mut self, tree: &mut Tree, label: &str, file: &str, site_key: Option<&str>) {
        let Some(site_key) = site_key else { return };
        let text = match read_secret_file(file) {
            Ok(text) => text,
            Err(e) => {
                tree.note(format!(
                    "{label}fastd secret {file} not checked against the site's key: it {e}"
                ));
                return;
            }
        };
        let secret = fastd_conf::single_string_statement(&text, "secret", Includes::Skip)
            .map_err(|e| e.to_string())
            .and_then(|found| {
                let value = Zeroizing::new(found.value);
                Secret::from_fastd_hex(&value).map_err(|e| e.to_string())
            });
        let secret = match secret {
            Ok(s) => s,
            Err(e) => {
                self.errors
                    .push(format!("{label}{file}: no usable fastd secret: {e}"));
                return;
            }
        };
        match FastdPublicKey::from_hex(site_key) {
            Ok(key) if key.to_wireguard() == secret.wireguard_public_key() => {}
            Ok(_) => self.errors.push(format!(
                "{label}the fastd secret in {file} does not belong to the site's key {site_key} for this gateway"
            )),
            Err(e) => tree.note(format!(
                "{label}the site's fastd key {site_key} is unusable ({e}); {file} not checked"
            )),
        }
    }

    fn wireguard(&mut self, tree: &mut Tree, label: &str, file: &str, site_key: Option<&str>) {
        let Some(site_key) = site_key else { return };
        let text = match read_secret_file(file) {
            Ok(text) => text,
            Err(e) => {
                tree.note(format!(
                    "{label}WireGuard private key {file} not checked against the site's key: it {e}"
                ));
                return;
            }
        };
        let secret = match Secret::from_wireguard_base64(text.trim()) {
            Ok(s) => s,
            Err(e) => {
                self.errors.push(format!(
                    "{label}{file}: no usable WireGuard private key: {e}"
                ));
                return;
            }
        };
        match WgPublicKey::from_base64(site_key) {
            Ok(key) if key == secret.wireguard_public_key() => {}
            Ok(_) => self.errors.push(format!(
                "{label}the WireGuard private key in {file} does not belong to the site's public key {site_key} for this gateway"
            )),
            Err(e) => tree.note(format!(
                "{label}the site's WireGuard key {site_key} is unusable ({e}); {file} not checked"
            )),
        }
    }
}

/// One VXLAN on a WireGuard interface.
#[derive(Clone, Serialize)]
struct VxlanCtx {
    domain: String,
    name: String,
    vni: u32,
    mtu: u32,
    batman: String,
}

#[derive(Default)]
struct WgInterface {
    port: u16,
    private_key: Option<String>,
    interfaces: Interfaces,
    vxlans: Vec<VxlanCtx>,
    config_dir: String,
    domains: Vec<String>,
}

/// Renders the gateway's tree.
pub fn render(
    site: &Site,
    inventory: &Inventory,
    options: &GatewayOptions,
) -> Result<Tree, RenderError> {
    let name = options.gateway.as_str();
    let Some(gateway) = inventory.gateways.get(name) else {
        let known: Vec<&str> = inventory.gateways.keys().map(String::as_str).collect();
        return Err(invalid(format!(
            "the inventory has no [gateways.{name}] (it has: {})",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )));
    };
    // Domain tables must name the site's domains (aliases filed under
    // their codes).
    let gateway = gateway.for_site(name, site).map_err(invalid)?;
    let packages = ImagePackages::of(site, "standard");
    let plans = super::plans(site, &packages, options.domain.as_deref())?;
    let site_code = site
        .site_conf
        .as_ref()
        .and_then(|c| c.at(&["site_code"]))
        .and_then(Node::as_str)
        .unwrap_or("mesh");
    let mut tree = Tree::default();
    let mut keys = KeyCheck::default();
    let mut wg_interfaces: BTreeMap<String, WgInterface> = BTreeMap::new();
    let mut served = 0;
    let mut peer_patterns: BTreeMap<String, String> = BTreeMap::new();
    let mut names_seen = Vec::new();
    let mut brokers_rendered = 0;
    for plan in &plans {
        let code = plan.name().unwrap_or("default");
        let settings = gateway.resolve(code);
        let label = plan
            .name()
            .map(|d| format!("domain {d}: "))
            .unwrap_or_default();
        let instance = settings.instance.clone().unwrap_or_else(|| {
            plan.name()
                .map(str::to_string)
                .unwrap_or_else(|| site_code.to_string())
        });
        let multi = site.multidomain;
        let batman = settings.batman.clone().unwrap_or_else(|| {
            if multi {
                truncate_ifname(&format!("bat-{code}"))
            } else {
                "bat0".into()
            }
        });
        // Checked where a domain is served: a name made from a domain the
        // gateway does not serve is not used.
        let check_names = || -> Result<(), RenderError> {
            check_name(
                &instance,
                "instance",
                &label,
                rules::instance,
                settings.instance.is_none(),
            )?;
            check_name(
                &batman,
                "batman",
                &label,
                rules::interface_name,
                settings.batman.is_none(),
            )
        };
        let header = provenance(
            &format!("gluonvpn render gateway --gateway {name}"),
            site,
            options.version,
            plan.name(),
        );
        let mut serves_here = false;

        if let Some(config) = plan
            .vpn()
            .fastd
            .as_ref()
            .filter(|_| plan.has(Provider::Fastd))
        {
            names_seen.extend(config.all_peers().into_iter().map(|(_, p)| p.name.clone()));
            if let Some(peer) = config.peer(name) {
                serves_here = true;
                check_names()?;
                if let Some(file) = &settings.fastd_secret {
                    let site_key = peer.key.as_ref().map(|k| k.value.as_str());
                    keys.fastd(&mut tree, &label, file, site_key);
                }
                let port = fastd_port(peer, &settings, &label, &mut tree)?;
                fastd(
                    &mut tree,
                    plan,
                    config,
                    &settings,
                    &FastdSetup {
                        instance: &instance,
                        batman: &batman,
                        port,
                        header: &header,
                        label: &label,
                        multi,
                    },
                    &mut peer_patterns,
                )?;
            }
        }
        if let Some(config) = plan
            .vpn()
            .wireguard
            .as_ref()
            .filter(|_| plan.has(Provider::WireGuard))
        {
            names_seen.extend(config.peers.iter().map(|p| p.name.clone()));
            if let Some(peer) = config.peers.iter().find(|p| p.name == name) {
                serves_here = true;
                check_names()?;
                if let Some(file) = &settings.wireguard_private_key {
                    let site_key = peer.public_key.as_ref().map(|k| k.value.as_str());
                    keys.wireguard(&mut tree, &label, file, site_key);
                }
                wireguard_domain(
                    &mut wg_interfaces,
                    plan,
                    config,
                    peer,
                    &settings,
                    code,
                    &batman,
                    &label,
                )?;
            }
        }
        if let Some(config) = plan
            .vpn()
            .tunneldigger
            .as_ref()
            .filter(|_| plan.has(Provider::Tunneldigger))
        {
            // A broker is this gateway when its host is the name or starts
            // with `name.`; brokers the client cannot read match nothing.
            let matching = config.brokers.iter().find_map(|b| {
                let endpoint = b.endpoint.as_ref().ok()?;
                let host = endpoint.host.text();
                (host == name || host.starts_with(&format!("{name}."))).then_some(endpoint)
            });
            if let Some(broker) = matching {
                serves_here = true;
                check_names()?;
                tunneldigger(
                    &mut tree,
                    config,
                    broker,
                    &settings,
                    &Broker {
                        instance: &instance,
                        batman: &batman,
                        header: &header,
                        index: brokers_rendered,
                    },
                )?;
                brokers_rendered += 1;
            }
        }
        if serves_here {
            served += 1;
            if settings.interfaces == Interfaces::SystemdNetworkd {
                batman_units(&mut tree, plan, &settings, &batman, &header)?;
            }
        }
    }
    if served == 0 {
        names_seen.sort();
        names_seen.dedup();
        return Err(invalid(format!(
            "'{name}' is no fastd peer, WireGuard peer or tunneldigger broker of {}; the site's gateways are: {}",
            options
                .domain
                .as_deref()
                .map(|d| format!("domain {d}"))
                .unwrap_or_else(|| "the site".into()),
            if names_seen.is_empty() {
                "none".to_string()
            } else {
                names_seen.join(", ")
            }
        )));
    }
    if !wg_interfaces.is_empty() {
        let header = provenance(
            &format!("gluonvpn render gateway --gateway {name}"),
            site,
            options.version,
            None,
        );
        wireguard_files(&mut tree, &wg_interfaces, &header)?;
    }
    if !keys.errors.is_empty() {
        return Err(invalid(keys.errors.join("\n")));
    }
    // Files several domains share (a batman-adv interface) once.
    let mut seen = std::collections::BTreeSet::new();
    tree.entries.retain(|e| seen.insert(e.path().to_string()));
    tree.sort();
    super::formats::reparse_tree(&tree)?;
    Ok(tree)
}

fn fastd_port(
    peer: &FastdPeer,
    settings: &Resolved,
    label: &str,
    tree: &mut Tree,
) -> Result<u16, RenderError> {
    let remotes = peer.remotes.iter().flat_map(|r| r.value.iter());
    let unreadable = note_unreadable(tree, label, remotes.clone());
    if let Some(port) = settings.fastd_port {
        return Ok(port);
    }
    let ports: Vec<u16> = remotes
        .filter_map(|r| r.endpoint.as_ref().ok().map(|e| e.port))
        .collect();
    let Some(&port) = ports.first() else {
        let why = if unreadable.is_empty() {
            "the site gives no port for this gateway's fastd remotes".to_string()
        } else {
            format!(
                "fastd cannot read the site's remotes for this gateway ({})",
                unreadable.join("; ")
            )
        };
        return Err(invalid(format!(
            "{label}{why}; set fastd_port in the inventory"
        )));
    };
    if ports.iter().any(|p| *p != port) {
        tree.note(format!(
            "{label}the site's remotes for this gateway name several ports ({}); fastd binds {port} (set fastd_port to choose)",
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(port)
}

struct FastdSetup<'a> {
    instance: &'a str,
    batman: &'a str,
    port: u16,
    header: &'a str,
    label: &'a str,
    multi: bool,
}

/// The gateway's method list (see the module documentation).
pub fn gateway_methods(site_methods: &[String], configurable: bool) -> Vec<String> {
    if !configurable {
        return site_methods.to_vec();
    }
    let mut methods = vec!["null@l2tp".to_string()];
    if site_methods.iter().any(|m| m == "null") {
        methods.push("null".into());
    }
    methods.extend(super::node::methods_but_null(site_methods));
    methods
}

fn fastd(
    tree: &mut Tree,
    plan: &DomainPlan<'_>,
    config: &Fastd,
    settings: &Resolved,
    setup: &FastdSetup<'_>,
    peer_patterns: &mut BTreeMap<String, String>,
) -> Result<(), RenderError> {
    let label = setup.label;
    let site_methods = config.method_names();
    let configurable = config.is_configurable();
    let methods = gateway_methods(&site_methods, configurable);
    if settings.offload && !methods.iter().any(|m| m == "null@l2tp") {
        tree.note(format!(
            "{label}offload is on, but no method is null@l2tp: no connection will be offloaded"
        ));
    }
    let mtu = config
        .mtu
        .as_ref()
        .map(|m| lua_number_to_string(m.value))
        .ok_or_else(|| invalid(format!("{label}mesh_vpn.fastd.mtu is not set")))?;
    let interface = if settings.offload {
        let pattern = settings
            .peer_interface
            .clone()
            .unwrap_or_else(|| "peer-%k".into());
        check_name(
            &pattern,
            "peer_interface",
            label,
            rules::interface_pattern,
            false,
        )?;
        if settings.interfaces == Interfaces::SystemdNetworkd {
            if let Some(other) = peer_patterns.insert(pattern.clone(), setup.instance.to_string()) {
                return Err(invalid(format!(
                    "{label}instances {other} and {} both name their peer interfaces '{pattern}'; systemd-networkd cannot tell them apart: set peer_interface per domain in the inventory",
                    setup.instance
                )));
            }
        }
        pattern
    } else {
        let name = settings.fastd_interface.clone().unwrap_or_else(|| {
            if setup.multi {
                truncate_ifname(&format!("vpn-{}", setup.instance))
            } else {
                "mesh-vpn".into()
            }
        });
        check_name(
            &name,
            "fastd_interface",
            label,
            rules::interface_name,
            settings.fastd_interface.is_none(),
        )?;
        name
    };
    let binds = settings
        .bind
        .iter()
        .map(|b| bind_statement(b, setup.port))
        .collect::<Result<Vec<_>, _>>()?;
    if binds.is_empty() {
        return Err(invalid(format!(
            "{label}bind is empty: fastd needs an address to bind to (`any` binds to all)"
        )));
    }
    let secret_file = settings
        .fastd_secret
        .clone()
        .unwrap_or_else(|| format!("/etc/fastd/{}/secret.conf", setup.instance));
    let peers_dir = match settings.peers {
        Peers::Any => None,
        Peers::Directory => Some(
            settings
                .peers_dir
                .clone()
                .unwrap_or_else(|| format!("/etc/fastd/{}/peers", setup.instance)),
        ),
    };
    let hooks = settings.interfaces == Interfaces::Hooks;
    let text = templates::render(
        "gateway/fastd.conf.j2",
        minijinja::context! {
            header => setup.header,
            instance => setup.instance,
            site_methods => &site_methods,
            methods => &methods,
            configurable,
            mtu => &mtu,
            secret_file => &secret_file,
            binds => &binds,
            log_level => &settings.log_level,
            offload => settings.offload,
            interface => &interface,
            batman => setup.batman,
            hooks,
            peers_dir => &peers_dir,
        },
    )?;
    tree.file(
        format!("fastd/{}/fastd.conf", setup.instance),
        text,
        Format::Fastd,
    );
    if !hooks {
        let matched = interface.replace("%k", "*").replace("%n", "*");
        tree.file(
            format!("systemd/network/50-{}-fastd.network", setup.instance),
            templates::render(
                "gateway/fastd-peers.network.j2",
                minijinja::context! {
                    header => setup.header,
                    instance => setup.instance,
                    matched,
                    batman => setup.batman,
                    offload => settings.offload,
                },
            )?,
            Format::Ini,
        );
    }
    let _ = plan;
    Ok(())
}

fn batman_units(
    tree: &mut Tree,
    plan: &DomainPlan<'_>,
    settings: &Resolved,
    batman: &str,
    header: &str,
) -> Result<(), RenderError> {
    let algo = routing_algo(plan);
    let text = templates::render(
        "gateway/batman.netdev.j2",
        minijinja::context! { header, batman, algo },
    )?;
    tree.file(
        format!("systemd/network/30-{batman}.netdev"),
        text,
        Format::Ini,
    );
    if let Some(bridge) = &settings.bridge {
        let text = templates::render(
            "gateway/batman.network.j2",
            minijinja::context! { header, batman, bridge },
        )?;
        tree.file(
            format!("systemd/network/30-{batman}.network"),
            text,
            Format::Ini,
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn wireguard_domain(
    interfaces: &mut BTreeMap<String, WgInterface>,
    plan: &DomainPlan<'_>,
    config: &WireGuard,
    peer: &WgPeer,
    settings: &Resolved,
    code: &str,
    batman: &str,
    label: &str,
) -> Result<(), RenderError> {
    let port = match (settings.wireguard_port, &peer.endpoint) {
        (Some(p), _) => p,
        (None, Some(Address { endpoint: Ok(e), .. })) => e.port,
        (None, Some(Address { text, endpoint: Err(problem), .. })) => {
            return Err(invalid(format!(
                "{label}wgpeerselector cannot read this gateway's WireGuard endpoint (`{text}` {problem}); set wireguard_port in the inventory"
            )))
        }
        (None, None) => {
            return Err(invalid(format!(
                "{label}the site gives no port in this gateway's WireGuard endpoint; set wireguard_port in the inventory"
            )))
        }
    };
    let mtu = config
        .mtu
        .as_ref()
        .map(|m| m.value as u32)
        .ok_or_else(|| invalid(format!("{label}mesh_vpn.wireguard.mtu is not set")))?;
    let seed = plan
        .domain_seed()
        .ok_or_else(|| invalid(format!("{label}domain_seed is not set")))?;
    let multi = plan.name().is_some();
    let wg_name = settings.wireguard_interface.clone().unwrap_or_else(|| {
        if multi {
            truncate_ifname(&format!("wg-{code}"))
        } else {
            "wg-mesh".into()
        }
    });
    check_name(
        &wg_name,
        "wireguard_interface",
        label,
        rules::interface_name,
        settings.wireguard_interface.is_none(),
    )?;
    let vx_name = settings.vxlan_interface.clone().unwrap_or_else(|| {
        if multi {
            truncate_ifname(&format!("vx-{code}"))
        } else {
            "vx-mesh".into()
        }
    });
    check_name(
        &vx_name,
        "vxlan_interface",
        label,
        rules::interface_name,
        settings.vxlan_interface.is_none(),
    )?;
    if let Some((other, _)) = interfaces
        .iter()
        .find(|(n, i)| i.port == port && **n != wg_name)
    {
        return Err(invalid(format!(
            "{label}WireGuard interfaces {other} and {wg_name} would both listen on port {port}; give the domains one wireguard_interface"
        )));
    }
    let entry = interfaces.entry(wg_name.clone()).or_default();
    if entry.vxlans.is_empty() {
        entry.port = port;
        entry.private_key = settings.wireguard_private_key.clone();
        entry.interfaces = settings.interfaces;
        entry.config_dir = settings.config_dir.clone();
    } else if entry.port != port {
        return Err(invalid(format!(
            "{label}WireGuard interface {wg_name} cannot listen on ports {} and {port}: set wireguard_interface per domain",
            entry.port
        )));
    } else if entry.private_key != settings.wireguard_private_key {
        return Err(invalid(format!(
            "{label}WireGuard interface {wg_name} is shared by domains with different private key files"
        )));
    }
    if entry.vxlans.iter().any(|v| v.name == vx_name) {
        return Err(invalid(format!(
            "{label}VXLAN interface {vx_name} is used by two domains: set vxlan_interface per domain"
        )));
    }
    entry.domains.push(code.to_string());
    entry.vxlans.push(VxlanCtx {
        domain: code.to_string(),
        name: vx_name,
        vni: derive::vxlan_vni(seed),
        mtu,
        batman: batman.to_string(),
    });
    Ok(())
}

fn wireguard_files(
    tree: &mut Tree,
    interfaces: &BTreeMap<String, WgInterface>,
    header: &str,
) -> Result<(), RenderError> {
    let mut glue_wg = Vec::new();
    let mut glue_vx = Vec::new();
    for (name, iface) in interfaces {
        let mtu = iface.vxlans.iter().map(|v| v.mtu).max().unwrap_or(1280) + WG_OVER_VXLAN;
        let key_file = iface
            .private_key
            .clone()
            .unwrap_or_else(|| format!("/etc/wireguard/{name}.key"));
        if iface.vxlans.len() > 1 {
            tree.note(format!(
                "WireGuard interface {name} carries the VXLANs of domains {}: wireguard-vxlan-glue adds each node's route once per VXLAN and fails on the second; give each domain its own port and interface if you run it",
                iface.domains.join(", ")
            ));
        }
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
        for vx in &iface.vxlans {
            glue_wg.push(name.clone());
            glue_vx.push(vx.name.clone());
        }
    }
    // wireguard-vxlan-glue's `-c` file: interfaces paired by position.
    let glue = serde_json::json!({
        "interfaces": { "wireguard": glue_wg, "vxlan": glue_vx }
    });
    let mut text = serde_json::to_string_pretty(&glue).expect("JSON");
    text.push('\n');
    tree.file("wireguard-vxlan-glue/config.json", text, Format::Json);
    Ok(())
}

/// One tunneldigger broker instance of the gateway; `index` counts them, as
/// brokers on one machine need disjoint tunnel ports and IDs.
struct Broker<'a> {
    instance: &'a str,
    batman: &'a str,
    header: &'a str,
    index: u32,
}

/// The tunnels of one broker: `max_tunnels` in the template.
const MAX_TUNNELS: u32 = 1024;

fn tunneldigger(
    tree: &mut Tree,
    config: &mesh_vpn::Tunneldigger,
    broker: &mesh_vpn::address::Endpoint,
    settings: &Resolved,
    b: &Broker<'_>,
) -> Result<(), RenderError> {
    let (instance, batman, header) = (b.instance, b.batman, b.header);
    let port_base = 20000 + b.index * 2 * MAX_TUNNELS;
    let tunnel_id_base = 100 + b.index * 100_000;
    let port = settings.tunneldigger_port.unwrap_or(broker.port);
    let address = settings
        .bind
        .iter()
        .find(|b| b.parse::<std::net::Ipv4Addr>().is_ok())
        .cloned()
        .ok_or_else(|| {
            invalid(
                "the tunneldigger broker needs an IPv4 address to listen on: put one into the inventory's bind list",
            )
        })?;
    let mtu = config.mtu.as_ref().map(|m| lua_number_to_string(m.value));
    let dir = format!("{}/tunneldigger/{instance}", settings.config_dir);
    let ctx = minijinja::context! {
        header, instance, port, address, uplink => &settings.uplink, mtu, batman, dir,
        port_base, tunnel_id_base, max_tunnels => MAX_TUNNELS,
    };
    tree.file(
        format!("tunneldigger/{instance}/broker.cfg"),
        templates::render("gateway/broker.cfg.j2", &ctx)?,
        Format::Ini,
    );
    for (file, up) in [("session-up.sh", true), ("session-down.sh", false)] {
        tree.file(
            format!("tunneldigger/{instance}/{file}"),
            templates::render(
                "gateway/td-session.sh.j2",
                minijinja::context! { header, up, mtu, batman },
            )?,
            Format::Shell,
        );
    }
    Ok(())
}

/// The gateway names the site knows (fastd peers, WireGuard peers), for
/// tests and error messages.
pub fn gateway_names(site: &Site, provider: Provider) -> Vec<String> {
    let packages = ImagePackages::of(site, "standard");
    let Ok(plans) = super::plans(site, &packages, None) else {
        return Vec::new();
    };
    let mut names = std::collections::BTreeSet::new();
    for vpn in plans.iter().map(DomainPlan::vpn) {
        match (provider, &vpn.fastd, &vpn.wireguard) {
            (Provider::Fastd, Some(fastd), _) => {
                names.extend(fastd.all_peers().into_iter().map(|(_, p)| p.name.clone()))
            }
            (Provider::WireGuard, _, Some(wireguard)) => {
                names.extend(wireguard.peers.iter().map(|p| p.name.clone()))
            }
            _ => {}
        }
    }
    names.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_methods_serve_performance_mode() {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            gateway_methods(&v(&["salsa2012+umac"]), true),
            v(&["null@l2tp", "salsa2012+umac"])
        );
        assert_eq!(
            gateway_methods(&v(&["salsa2012+umac", "null", "null@l2tp"]), true),
            v(&["null@l2tp", "null", "salsa2012+umac"])
        );
        assert_eq!(
            gateway_methods(&v(&["null", "salsa2012+umac"]), false),
            v(&["null", "salsa2012+umac"])
        );
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(bind_statement("any", 1).unwrap(), "any:1");
        assert_eq!(bind_statement("[::]", 1).unwrap(), "[::]:1");
        assert_eq!(bind_statement("192.0.2.1", 1).unwrap(), "192.0.2.1:1");
        assert!(bind_statement("eth0", 1).is_err());
    }
}
