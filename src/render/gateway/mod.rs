//! `gluonvpn render gateway`: one gateway's configuration for every domain
//! it serves, from the site (its keys, ports, methods, MTUs, domain seeds)
//! and the [`inventory`](super::inventory) (key files, addresses, names,
//! policies and how interfaces are set up).
//!
//! The gateway is named as the site names it: a fastd peer (in any group)
//! or a WireGuard peer, in one domain or several; a tunneldigger broker
//! matches when its host is the name or starts with `NAME.`.
//!
//! * [`layout`]: the served domains grouped into meshes, fastd instances
//!   (one per port), WireGuard interfaces (one per port) and brokers, with
//!   [`names`] that cannot collide and ports bound once.
//! * [`fastd`]: each instance's `fastd.conf`, with the methods policy.
//! * [`wireguard`]: WireGuard interfaces with `fe80::1/64`, one VXLAN per
//!   domain (VNI from the domain seed, local `fe80::1`, port 4789, UDP
//!   checksums off as on the nodes), node peers from the inventory, and the
//!   wireguard-vxlan-glue configuration pairing them.
//! * [`tunneldigger`]: the broker's `broker.cfg` and session hooks.
//! * [`batman`]: each mesh's batman-adv interface (gateway mode, hop
//!   penalty, OGM interval, routing algorithm from the site).
//! * [`system`]: systemd units for the hooks and the glue, and the
//!   nftables definitions of the VPN ports.
//!
//! Secrets are never read into a rendered file: they are referenced by path
//! (`include "…";`, `PrivateKeyFile=`, `wg set … private-key …`). When the
//! key files are readable, they are checked against the site's public keys
//! ([`keys`]).

mod batman;
mod fastd;
mod keys;
mod layout;
pub mod names;
mod system;
pub use system::device_unit;
mod tunneldigger;
mod wireguard;

use super::inventory::{rules, Inventory};
use super::{invalid, provenance, DomainPlan, ImagePackages, Provider, RenderError, Tree};
use crate::derive;
use crate::gluon_version::GluonVersion;
use crate::site::load::Site;
use crate::site::mesh_vpn::{Address, FastdPeer};
use crate::site::value::{lua_number_to_string, Node};
use layout::{BrokerServed, Defaults, FastdServed, Served, WgServed};

#[derive(Clone, Debug)]
pub struct GatewayOptions {
    pub version: GluonVersion,
    pub gateway: String,
    pub domain: Option<String>,
}

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

/// Checks a name the rendered files will use against its rule: the
/// inventory's were checked when it was loaded, so this catches the names
/// made from the site, and says which inventory key sets the name instead.
fn check_name(
    value: &str,
    key: &str,
    given: bool,
    rule: fn(&str) -> Result<(), String>,
) -> Result<(), RenderError> {
    rule(value).map_err(|expected| {
        let origin = if given {
            "(from the inventory)".to_string()
        } else {
            format!("(made from the site's names; set {key} in the inventory)")
        };
        invalid(format!(
            "{key} {} is not usable: {expected} {origin}",
            super::inventory::shown(value)
        ))
    })
}

/// What a gateway runs, as laid out for a render: for tests and tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub meshes: Vec<MeshSummary>,
    pub fastd: Vec<FastdSummary>,
    pub wireguard: Vec<WireGuardSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshSummary {
    pub batman: String,
    pub domains: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FastdSummary {
    pub instance: String,
    pub port: u16,
    pub binds: Vec<String>,
    pub interface: String,
    pub batman: String,
    pub domains: Vec<String>,
    pub methods: Vec<String>,
    pub mtu: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireGuardSummary {
    pub interface: String,
    pub port: u16,
    /// (domain, VXLAN interface, VNI, batman-adv interface)
    pub vxlans: Vec<(String, String, u32, String)>,
}

/// Lays the gateway out as [`render`] does, without writing files.
pub fn summary(
    site: &Site,
    inventory: &Inventory,
    options: &GatewayOptions,
) -> Result<Summary, RenderError> {
    with_layout(site, inventory, options, |_, served, layout| {
        let codes = |domains: &[usize]| -> Vec<String> {
            domains.iter().map(|&i| served[i].code.clone()).collect()
        };
        Ok(Summary {
            meshes: layout
                .meshes
                .iter()
                .map(|m| MeshSummary {
                    batman: m.batman.clone(),
                    domains: codes(&m.domains),
                })
                .collect(),
            fastd: layout
                .fastd
                .iter()
                .map(|f| FastdSummary {
                    instance: f.name.clone(),
                    port: f.port,
                    binds: f.binds.clone(),
                    interface: f.interface.clone(),
                    batman: layout.meshes[f.mesh].batman.clone(),
                    domains: codes(&f.domains),
                    methods: f.methods.clone(),
                    mtu: f.mtu.clone(),
                })
                .collect(),
            wireguard: layout
                .wireguard
                .iter()
                .map(|w| WireGuardSummary {
                    interface: w.name.clone(),
                    port: w.port,
                    vxlans: w
                        .vxlans
                        .iter()
                        .map(|v| (v.domain.clone(), v.name.clone(), v.vni, v.batman.clone()))
                        .collect(),
                })
                .collect(),
        })
    })
}

/// Renders the gateway's tree.
pub fn render(
    site: &Site,
    inventory: &Inventory,
    options: &GatewayOptions,
) -> Result<Tree, RenderError> {
    with_layout(site, inventory, options, |tree, served, layout| {
        write_files(tree, site, inventory, options, served, layout)?;
        Ok(std::mem::take(tree))
    })
}

/// Finds what the gateway serves and lays it out, then hands both to `f`.
fn with_layout<R>(
    site: &Site,
    inventory: &Inventory,
    options: &GatewayOptions,
    f: impl FnOnce(&mut Tree, &[Served<'_, '_>], &layout::Layout) -> Result<R, RenderError>,
) -> Result<R, RenderError> {
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
    // Every domain's plan, once: the port leads need them all; a --domain
    // render serves only its domain's (the second call checks the name and
    // builds one view).
    let all_plans = super::plans(site, &packages, None)?;
    let only_plans = match options.domain.as_deref() {
        Some(domain) => Some(super::plans(site, &packages, Some(domain))?),
        None => None,
    };
    let plans = only_plans.as_deref().unwrap_or(&all_plans);
    let site_code = site
        .site_conf
        .as_ref()
        .and_then(|c| c.at(&["site_code"]))
        .and_then(Node::as_str)
        .unwrap_or("mesh");
    let mut tree = Tree::default();
    let mut keys = keys::KeyCheck::default();
    let mut names_seen = Vec::new();
    let mut served = Vec::new();
    for plan in plans {
        if let Some(domain) = serve(plan, &gateway, name, &mut tree, &mut keys, &mut names_seen)? {
            served.push(domain);
        }
    }
    if served.is_empty() {
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
    let layout = layout::layout(
        &served,
        &Defaults {
            multidomain: site.multidomain,
            site_code,
            port_leads: &port_leads(&all_plans, &gateway, name),
        },
    )?;
    // The names made from the site must be usable as they are.
    for (value, claim) in layout.names.iter() {
        let rule = if claim.what == "fastd peer interface pattern"
            || (claim.key == "fastd_extra_instances.interface" && value.contains('%'))
        {
            rules::interface_pattern
        } else {
            rules::interface_name
        };
        check_name(value, claim.key, claim.given, rule)?;
    }
    for instance in layout
        .fastd
        .iter()
        .map(|i| &i.name)
        .chain(layout.brokers.iter().map(|b| &b.name))
    {
        let given = served
            .iter()
            .any(|s| s.settings.instance.as_ref() == Some(instance));
        check_name(instance, "instance", given, rules::instance)?;
    }
    if !keys.errors.is_empty() {
        return Err(invalid(keys.errors.join("\n")));
    }
    f(&mut tree, &served, &layout)
}

/// Every file of the tree.
fn write_files(
    tree: &mut Tree,
    site: &Site,
    inventory: &Inventory,
    options: &GatewayOptions,
    served: &[Served<'_, '_>],
    layout: &layout::Layout,
) -> Result<(), RenderError> {
    let name = options.gateway.as_str();
    let command = format!("gluonvpn render gateway --gateway {name}");
    let header_for = |domains: &[usize]| {
        let domain = match domains {
            [one] => served[*one].plan.name(),
            _ => None,
        };
        provenance(&command, site, options.version, domain)
    };
    for instance in &layout.fastd {
        fastd::render(
            tree,
            served,
            layout,
            instance,
            &header_for(&instance.domains),
        )?;
    }
    for broker in &layout.brokers {
        tunneldigger::render(tree, served, layout, broker, &header_for(&broker.domains))?;
    }
    let site_header = provenance(&command, site, options.version, None);
    if !layout.wireguard.is_empty() {
        wireguard::render(tree, layout, inventory, &site_header)?;
    }
    for mesh in &layout.meshes {
        batman::render(tree, served, mesh, &header_for(&mesh.domains))?;
    }
    system::render(tree, served, layout, &site_header)?;
    tree.sort();
    super::formats::reparse_tree(tree)?;
    Ok(())
}

/// What the gateway `name` serves in one domain, if anything.
fn serve<'p, 'a>(
    plan: &'p DomainPlan<'a>,
    gateway: &super::inventory::Gateway,
    name: &str,
    tree: &mut Tree,
    keys: &mut keys::KeyCheck,
    names_seen: &mut Vec<String>,
) -> Result<Option<Served<'p, 'a>>, RenderError> {
    let code = plan.name().unwrap_or("default").to_string();
    let settings = gateway.resolve(&code);
    let label = plan
        .name()
        .map(|d| format!("domain {d}: "))
        .unwrap_or_default();
    let mut fastd = None;
    let mut wireguard = None;
    let mut broker = None;
    if let Some(config) = plan
        .vpn()
        .fastd
        .as_ref()
        .filter(|_| plan.has(Provider::Fastd))
    {
        names_seen.extend(config.all_peers().into_iter().map(|(_, p)| p.name.clone()));
        if let Some(peer) = config.peer(name) {
            let site_key = peer.key.as_ref().map(|k| k.value.clone());
            if let Some(file) = &settings.fastd_secret {
                keys.fastd(tree, &label, file, site_key.as_deref());
            }
            let port = fastd_port(peer, settings.fastd_port, &label, tree)?;
            let mtu = config
                .mtu
                .as_ref()
                .map(|m| lua_number_to_string(m.value))
                .ok_or_else(|| invalid(format!("{label}mesh_vpn.fastd.mtu is not set")))?;
            let methods = fastd::offered_methods(tree, &label, config, &settings);
            fastd = Some(FastdServed {
                config,
                port,
                site_key,
                methods,
                mtu,
            });
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
            let site_key = peer.public_key.as_ref().map(|k| k.value.clone());
            if let Some(file) = &settings.wireguard_private_key {
                keys.wireguard(tree, &label, file, site_key.as_deref());
            }
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
            wireguard = Some(WgServed {
                port,
                mtu,
                vni: derive::vxlan_vni(seed),
                site_key,
            });
        }
    }
    if let Some(config) = plan
        .vpn()
        .tunneldigger
        .as_ref()
        .filter(|_| plan.has(Provider::Tunneldigger))
    {
        // A broker is this gateway when its host is the name, or its first
        // label is the name or starts with `name-` (one machine, a host
        // name per domain: `vpn01-dom1.example.org`); brokers the client
        // cannot read match nothing.
        let matching = config.brokers.iter().find_map(|b| {
            let endpoint = b.endpoint.as_ref().ok()?;
            broker_is(&endpoint.host.text(), name).then_some(endpoint)
        });
        if let Some(endpoint) = matching {
            broker = Some(BrokerServed {
                config,
                port: settings.tunneldigger_port.unwrap_or(endpoint.port),
            });
        }
    }
    if fastd.is_none() && wireguard.is_none() && broker.is_none() {
        return Ok(None);
    }
    Ok(Some(Served {
        plan,
        code,
        label,
        settings,
        fastd,
        wireguard,
        broker,
    }))
}

/// For each fastd port of the gateway, the first domain of the site (all
/// of it, whatever `--domain` says) whose nodes reach it there: the
/// instance and mesh on that port are named after it, so that a render of
/// one domain names them as a render of all does.
fn port_leads(
    plans: &[DomainPlan<'_>],
    gateway: &super::inventory::Gateway,
    name: &str,
) -> std::collections::BTreeMap<u16, String> {
    let mut leads = std::collections::BTreeMap::new();
    for plan in plans {
        let Some(fastd) = plan
            .vpn()
            .fastd
            .as_ref()
            .filter(|_| plan.has(Provider::Fastd))
        else {
            continue;
        };
        let Some(peer) = fastd.peer(name) else {
            continue;
        };
        let code = plan.name().unwrap_or("default");
        let port = gateway.resolve(code).fastd_port.or_else(|| {
            peer.remotes
                .iter()
                .flat_map(|r| r.value.iter())
                .find_map(|r| r.endpoint.as_ref().ok().map(|e| e.port))
        });
        if let Some(port) = port {
            leads.entry(port).or_insert_with(|| code.to_string());
        }
    }
    leads
}

/// Whether a broker's host names the gateway `name` (see [`serve`]).
pub fn broker_is(host: &str, name: &str) -> bool {
    let label = host.split('.').next().unwrap_or(host);
    host == name
        || host.starts_with(&format!("{name}."))
        || label == name
        || label
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('-'))
}

fn fastd_port(
    peer: &FastdPeer,
    configured: Option<u16>,
    label: &str,
    tree: &mut Tree,
) -> Result<u16, RenderError> {
    let remotes = peer.remotes.iter().flat_map(|r| r.value.iter());
    let unreadable = note_unreadable(tree, label, remotes.clone());
    if let Some(port) = configured {
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

/// The gateway names the site knows (fastd peers, WireGuard peers, the
/// machines of tunneldigger brokers), for tests and error messages.
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
            // A broker's machine: the first label of its host, up to a `-`
            // (see `broker_is`).
            (Provider::Tunneldigger, _, _) => {
                for broker in vpn.tunneldigger.iter().flat_map(|t| &t.brokers) {
                    if let Ok(endpoint) = &broker.endpoint {
                        let host = endpoint.host.text();
                        let label = host.split('.').next().unwrap_or(&host);
                        names.insert(label.split('-').next().unwrap_or(label).to_string());
                    }
                }
            }
            _ => {}
        }
    }
    names.into_iter().collect()
}
