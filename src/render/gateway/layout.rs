//! What one gateway runs, before any file is written: the domains it
//! serves grouped into meshes (one batman-adv interface each), its fastd
//! instances, WireGuard interfaces and tunneldigger brokers, each with its
//! names and ports.
//!
//! * Domains whose nodes reach this gateway's fastd on one (bind addresses,
//!   port) share one fastd instance, and so one mesh: that is only right
//!   when they are one mesh in the site (same `prefix4`, `prefix6` and
//!   routing algorithm) and need the same instance (MTU, methods, the
//!   gateway's key, the inventory's instance settings); otherwise it is an
//!   error naming the port and the domains. The `domain_seed`s may differ:
//!   they derive VXLAN IDs and nothing a fastd link carries.
//! * Domains on one tunneldigger broker port are grouped the same way.
//! * Domains on one WireGuard listen port share the WireGuard interface;
//!   each keeps its own VXLAN (its own VNI) into its own mesh.
//! * Every name is claimed once ([`super::names::Register`]); every UDP port
//!   is bound once: two binds that overlap (`any` and `0.0.0.0`, fastd and
//!   WireGuard on one port) are an error.

use super::names::{self, Claim, Register};
use crate::render::inventory::{ExtraInstance, Interfaces, Resolved};
use crate::render::{invalid, DomainPlan, RenderError};
use crate::site::mesh_vpn::{Fastd, Tunneldigger};
use crate::site::value::Node;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What the gateway serves in one domain.
pub struct Served<'p, 'a> {
    pub plan: &'p DomainPlan<'a>,
    /// The domain code (`default` in a site without domains).
    pub code: String,
    /// `domain CODE: ` in front of messages, empty without domains.
    pub label: String,
    pub settings: Resolved,
    pub fastd: Option<FastdServed<'p>>,
    pub wireguard: Option<WgServed>,
    pub broker: Option<BrokerServed<'p>>,
}

pub struct FastdServed<'p> {
    pub config: &'p Fastd,
    pub port: u16,
    /// The site's key for this gateway (hex).
    pub site_key: Option<String>,
    /// The methods this gateway offers in the domain.
    pub methods: Vec<String>,
    pub mtu: String,
}

pub struct WgServed {
    pub port: u16,
    pub mtu: u32,
    pub vni: u32,
    pub site_key: Option<String>,
}

pub struct BrokerServed<'p> {
    pub config: &'p Tunneldigger,
    pub port: u16,
}

/// One batman-adv mesh on the gateway.
pub struct Mesh {
    /// Indices into the served domains, in the site's order.
    pub domains: Vec<usize>,
    pub batman: String,
    /// `domain a` or `domains a, b`, for messages.
    pub owner: String,
    /// The routing algorithm (systemd-networkd's spelling).
    pub routing_algo: &'static str,
}

/// One fastd instance.
pub struct FastdInstance {
    pub name: String,
    pub domains: Vec<usize>,
    pub mesh: usize,
    pub port: u16,
    pub binds: Vec<String>,
    pub mtu: String,
    pub methods: Vec<String>,
    /// The interface, or with offload the interface pattern.
    pub interface: String,
    /// The extra instance of the inventory this is, if it is one.
    pub extra: Option<ExtraInstance>,
}

/// One WireGuard interface and the VXLANs on it.
pub struct WgInterface {
    pub name: String,
    pub port: u16,
    pub private_key: Option<String>,
    pub interfaces: Interfaces,
    pub config_dir: String,
    pub node_keys: Option<String>,
    pub vxlans: Vec<Vxlan>,
}

#[derive(Clone, serde::Serialize)]
pub struct Vxlan {
    pub domain: String,
    pub name: String,
    pub vni: u32,
    pub mtu: u32,
    pub batman: String,
}

/// One tunneldigger broker.
pub struct Broker {
    pub name: String,
    pub domains: Vec<usize>,
    pub mesh: usize,
    pub port: u16,
    pub address: String,
    /// Counts the brokers: brokers on one machine need disjoint tunnel
    /// ports and IDs.
    pub index: u32,
}

pub struct Layout {
    pub meshes: Vec<Mesh>,
    pub fastd: Vec<FastdInstance>,
    pub wireguard: Vec<WgInterface>,
    pub brokers: Vec<Broker>,
    pub names: Register,
}

/// What makes two domains one mesh.
#[derive(Debug, PartialEq, Eq)]
struct MeshIdentity {
    prefix4: Option<String>,
    prefix6: Option<String>,
    routing_algo: &'static str,
}

fn identity(plan: &DomainPlan<'_>) -> MeshIdentity {
    let text = |key: &str| {
        plan.view
            .merged
            .at(&[key])
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    MeshIdentity {
        prefix4: text("prefix4"),
        prefix6: text("prefix6"),
        routing_algo: routing_algo(plan),
    }
}

/// The routing algorithm batman-adv uses in the site (systemd-networkd's
/// spelling; Gluon's default is BATMAN_IV).
pub fn routing_algo(plan: &DomainPlan<'_>) -> &'static str {
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

/// The first of `fields` in which two domains' settings differ.
macro_rules! first_difference {
    ($a:expr, $b:expr; $($field:ident),* $(,)?) => {{
        let mut found: Option<&'static str> = None;
        $(
            if found.is_none() && $a.$field != $b.$field {
                found = Some(stringify!($field));
            }
        )*
        found
    }};
}

/// Settings one fastd instance has once, whichever domains it serves.
fn fastd_difference(a: &Resolved, b: &Resolved) -> Option<&'static str> {
    first_difference!(a, b;
        fastd_secret, bind, offload, peers, peers_dir, config_dir, log_level,
        instance, fastd_interface, peer_interface, fastd_methods,
        fastd_legacy_methods, fastd_peer_limit, fastd_on_verify,
        fastd_hide_ip_addresses, fastd_hide_mac_addresses, fastd_static_peers,
        fastd_extra_instances)
}

/// Settings one mesh has once.
fn mesh_difference(a: &Resolved, b: &Resolved) -> Option<&'static str> {
    first_difference!(a, b;
        batman, bridge, interfaces, batman_gateway_mode, batman_gateway_bandwidth,
        batman_hop_penalty, batman_ogm_interval)
}

/// Settings one broker has once.
fn broker_difference(a: &Resolved, b: &Resolved) -> Option<&'static str> {
    first_difference!(a, b; bind, uplink, instance, config_dir)
}

fn codes(served: &[Served<'_, '_>], domains: &[usize]) -> String {
    domains
        .iter()
        .map(|&i| served[i].code.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn owner(served: &[Served<'_, '_>], domains: &[usize]) -> String {
    if domains.len() == 1 {
        format!("domain {}", served[domains[0]].code)
    } else {
        format!("domains {}", codes(served, domains))
    }
}

/// Groups domains by a key, in the order of their first member.
fn group_by<K: Ord + Clone>(keys: impl Iterator<Item = (usize, K)>) -> Vec<(K, Vec<usize>)> {
    let mut order: Vec<K> = Vec::new();
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (index, key) in keys {
        let members = groups.entry(key.clone()).or_default();
        if members.is_empty() {
            order.push(key);
        }
        members.push(index);
    }
    order
        .into_iter()
        .map(|k| {
            let members = groups.remove(&k).unwrap_or_default();
            (k, members)
        })
        .collect()
}

/// Why `b` cannot share `a`'s group, if it cannot.
fn unlike_mesh(served: &[Served<'_, '_>], a: usize, b: usize) -> Option<String> {
    let (ia, ib) = (identity(served[a].plan), identity(served[b].plan));
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    if ia.prefix6 != ib.prefix6 {
        return Some(format!(
            "they are different meshes (prefix6 {} and {})",
            show(&ia.prefix6),
            show(&ib.prefix6)
        ));
    }
    if ia.prefix4 != ib.prefix4 {
        return Some(format!(
            "they are different meshes (prefix4 {} and {})",
            show(&ia.prefix4),
            show(&ib.prefix4)
        ));
    }
    if ia.routing_algo != ib.routing_algo {
        return Some(format!(
            "they use different batman-adv routing algorithms ({} and {})",
            ia.routing_algo, ib.routing_algo
        ));
    }
    mesh_difference(&served[a].settings, &served[b].settings)
        .map(|key| format!("the inventory gives them different `{key}`"))
}

/// Union-find over the served domains: the meshes.
struct Sets(Vec<usize>);

impl Sets {
    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }
    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller index (earlier in the site) leads.
        let (low, high) = (ra.min(rb), ra.max(rb));
        self.0[high] = low;
    }
}

/// A UDP socket the gateway binds: address (`None`: every address) and
/// port.
struct Socket {
    address: Option<IpAddr>,
    port: u16,
    owner: String,
}

fn overlaps(a: &Socket, b: &Socket) -> bool {
    if a.port != b.port {
        return false;
    }
    match (a.address, b.address) {
        (None, _) | (_, None) => true,
        (Some(x), Some(y)) => {
            x == y
                || (x.is_unspecified() && x.is_ipv4() == y.is_ipv4())
                || (y.is_unspecified() && x.is_ipv4() == y.is_ipv4())
        }
    }
}

/// The socket of a fastd bind address (`any`, IPv4, `[IPv6]`).
fn bind_socket(bind: &str, port: u16, owner: &str) -> Socket {
    let address = match bind {
        "any" => None,
        b => b
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok(),
    };
    Socket {
        address,
        port,
        owner: owner.to_string(),
    }
}

fn claim_sockets(sockets: &mut Vec<Socket>, new: Vec<Socket>) -> Result<(), RenderError> {
    for socket in new {
        // One fastd binds several addresses of one port itself; two
        // programs on one port is what must not happen (the second fastd
        // would exit with "unable to bind": an error here instead of a
        // daemon that does not start on the gateway).
        if let Some(held) = sockets
            .iter()
            .find(|s| s.owner != socket.owner && overlaps(s, &socket))
        {
            let shown = |s: &Socket| match s.address {
                None => format!("port {}", s.port),
                Some(a) => format!("{a} port {}", s.port),
            };
            return Err(invalid(format!(
                "UDP {} would be bound twice: by {} and by {} ({}); each needs a port of its own",
                shown(&socket),
                held.owner,
                socket.owner,
                shown(held),
            )));
        }
        sockets.push(socket);
    }
    Ok(())
}

pub struct Defaults<'s> {
    pub multidomain: bool,
    pub site_code: &'s str,
    /// The code each fastd port's instance and mesh are named after.
    pub port_leads: &'s BTreeMap<u16, String>,
}

impl Defaults<'_> {
    /// The code a group of domains is named after: the port's lead when
    /// one of them serves fastd, else the first of them.
    fn naming_code<'c>(&'c self, served: &'c [Served<'_, '_>], domains: &[usize]) -> &'c str {
        domains
            .iter()
            .find_map(|&i| {
                let port = served[i].fastd.as_ref()?.port;
                self.port_leads.get(&port).map(String::as_str)
            })
            .unwrap_or(served[domains[0]].code.as_str())
    }
}

/// Lays out what the gateway runs (see the module documentation).
pub fn layout(served: &[Served<'_, '_>], defaults: &Defaults<'_>) -> Result<Layout, RenderError> {
    let mut sets = Sets((0..served.len()).collect());

    // fastd: one instance per (port, bind addresses).
    let fastd_groups = group_by(served.iter().enumerate().filter_map(|(i, s)| {
        let fastd = s.fastd.as_ref()?;
        let mut binds = s.settings.bind.clone();
        binds.sort();
        Some((i, (fastd.port, binds)))
    }));
    for ((port, _), members) in &fastd_groups {
        let lead = members[0];
        for &other in &members[1..] {
            let (a, b) = (
                served[lead].fastd.as_ref().expect("fastd group"),
                served[other].fastd.as_ref().expect("fastd group"),
            );
            let why = unlike_mesh(served, lead, other)
                .or_else(|| {
                    (a.mtu != b.mtu)
                        .then(|| format!("their fastd MTUs differ ({} and {})", a.mtu, b.mtu))
                })
                .or_else(|| {
                    (a.methods != b.methods).then(|| {
                        format!(
                            "this gateway would offer them different methods ({} and {})",
                            a.methods.join(", "),
                            b.methods.join(", ")
                        )
                    })
                })
                .or_else(|| {
                    (a.site_key != b.site_key).then(|| {
                        "the site gives this gateway different fastd keys in them".to_string()
                    })
                })
                .or_else(|| {
                    fastd_difference(&served[lead].settings, &served[other].settings)
                        .map(|key| format!("the inventory gives them different `{key}`"))
                });
            if let Some(why) = why {
                return Err(invalid(format!(
                    "domains {} and {} both have their nodes reach this gateway's fastd on port {port}, but one fastd instance cannot serve both: {why}. Nodes of one port share one instance and one mesh; give the domains distinct ports in the site (or set fastd_port per domain where the site's remotes allow it)",
                    served[lead].code, served[other].code
                )));
            }
            sets.join(lead, other);
        }
    }

    // tunneldigger: one broker per port.
    let broker_groups = group_by(
        served
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i, s.broker.as_ref()?.port))),
    );
    for (port, members) in &broker_groups {
        let lead = members[0];
        for &other in &members[1..] {
            let why = unlike_mesh(served, lead, other).or_else(|| {
                broker_difference(&served[lead].settings, &served[other].settings)
                    .map(|key| format!("the inventory gives them different `{key}`"))
            });
            if let Some(why) = why {
                return Err(invalid(format!(
                    "domains {} and {} both use this gateway's tunneldigger broker on port {port}, but one broker cannot serve both: {why}; give the domains distinct broker ports in the site",
                    served[lead].code, served[other].code
                )));
            }
            sets.join(lead, other);
        }
    }

    // Meshes: every served domain is in one.
    let mut mesh_of_root: BTreeMap<usize, usize> = BTreeMap::new();
    let mut meshes: Vec<Mesh> = Vec::new();
    let mut mesh_of = vec![0; served.len()];
    for (i, slot) in mesh_of.iter_mut().enumerate() {
        let root = sets.find(i);
        let index = *mesh_of_root.entry(root).or_insert_with(|| {
            meshes.push(Mesh {
                domains: Vec::new(),
                batman: String::new(),
                owner: String::new(),
                routing_algo: routing_algo(served[root].plan),
            });
            meshes.len() - 1
        });
        meshes[index].domains.push(i);
        *slot = index;
    }
    let mut names = Register::default();
    for mesh in &mut meshes {
        let lead = mesh.domains[0];
        for &other in &mesh.domains[1..] {
            if let Some(key) = mesh_difference(&served[lead].settings, &served[other].settings) {
                return Err(invalid(format!(
                    "domains {} and {} are one mesh on this gateway, but the inventory gives them different `{key}`",
                    served[lead].code, served[other].code
                )));
            }
        }
        mesh.owner = owner(served, &mesh.domains);
        let settings = &served[lead].settings;
        mesh.batman = match &settings.batman {
            Some(given) => given.clone(),
            None if defaults.multidomain => {
                names::interface_name("bat-", defaults.naming_code(served, &mesh.domains))
            }
            None => "bat0".into(),
        };
        names.claim(
            &mesh.batman,
            Claim {
                owner: mesh.owner.clone(),
                what: "batman-adv interface",
                key: "batman",
                given: settings.batman.is_some(),
            },
        )?;
        if let Some(bridge) = &settings.bridge {
            names.claim(
                bridge,
                Claim {
                    owner: mesh.owner.clone(),
                    what: "bridge",
                    key: "bridge",
                    given: true,
                },
            )?;
        }
    }

    let mut sockets: Vec<Socket> = Vec::new();
    let mut instance_names = Register::default();

    // fastd instances (and the inventory's extra instances).
    let offloading = fastd_groups
        .iter()
        .map(|(_, m)| {
            let s = &served[m[0]].settings;
            usize::from(s.offload) * (1 + s.fastd_extra_instances.len())
        })
        .sum::<usize>();
    let mut fastd = Vec::new();
    for ((port, binds), members) in &fastd_groups {
        let lead = &served[members[0]];
        let settings = &lead.settings;
        let config = lead.fastd.as_ref().expect("fastd group");
        let instance = match &settings.instance {
            Some(given) => given.clone(),
            None if defaults.multidomain => {
                names::instance_name(defaults.naming_code(served, members))
            }
            None => names::instance_name(defaults.site_code),
        };
        let owner = owner(served, members);
        let mesh = mesh_of[members[0]];
        let main = FastdInstance {
            interface: fastd_interface(settings, &instance, defaults, offloading, None),
            name: instance.clone(),
            domains: members.clone(),
            mesh,
            port: *port,
            binds: binds.clone(),
            mtu: config.mtu.clone(),
            methods: config.methods.clone(),
            extra: None,
        };
        let mut instances = vec![main];
        for extra in &settings.fastd_extra_instances {
            let name = format!("{instance}-{}", extra.name);
            instances.push(FastdInstance {
                interface: fastd_interface(settings, &name, defaults, offloading, Some(extra)),
                name,
                domains: members.clone(),
                mesh,
                port: extra.port,
                binds: extra.bind.clone().unwrap_or_else(|| binds.clone()),
                mtu: extra
                    .mtu
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| config.mtu.clone()),
                methods: extra
                    .methods
                    .clone()
                    .unwrap_or_else(|| config.methods.clone()),
                extra: Some(extra.clone()),
            });
        }
        for instance in instances {
            if instance.binds.is_empty() {
                return Err(invalid(format!(
                    "{}bind is empty: fastd needs an address to bind to (`any` binds to all)",
                    lead.label
                )));
            }
            let what = if instance.extra.is_some() {
                "extra fastd instance"
            } else {
                "fastd instance"
            };
            let owner = format!("{what} {} ({owner})", instance.name);
            instance_names.claim(
                &format!("fastd/{}", instance.name),
                Claim {
                    owner: owner.clone(),
                    what: "fastd instance",
                    key: "instance",
                    given: settings.instance.is_some(),
                },
            )?;
            let (what, key, given) = match (&instance.extra, settings.offload) {
                (Some(extra), _) => (
                    "fastd interface",
                    "fastd_extra_instances.interface",
                    extra.interface.is_some(),
                ),
                (None, true) => (
                    "fastd peer interface pattern",
                    "peer_interface",
                    settings.peer_interface.is_some(),
                ),
                (None, false) => (
                    "fastd interface",
                    "fastd_interface",
                    settings.fastd_interface.is_some(),
                ),
            };
            names.claim(
                &instance.interface,
                Claim {
                    owner: owner.clone(),
                    what,
                    key,
                    given,
                },
            )?;
            claim_sockets(
                &mut sockets,
                instance
                    .binds
                    .iter()
                    .map(|b| bind_socket(b, instance.port, &owner))
                    .collect(),
            )?;
            fastd.push(instance);
        }
    }

    // WireGuard: one interface per listen port.
    let wg_groups = group_by(
        served
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i, s.wireguard.as_ref()?.port))),
    );
    let mut wireguard = Vec::new();
    for (port, members) in &wg_groups {
        let lead = &served[members[0]];
        let given = members
            .iter()
            .find_map(|&i| served[i].settings.wireguard_interface.clone());
        for &i in members {
            let s = &served[i].settings;
            if s.wireguard_interface.is_some() && s.wireguard_interface != given {
                return Err(invalid(format!(
                    "domains {} and {} both listen on WireGuard port {port}, which is one interface, but the inventory names it differently (`wireguard_interface`)",
                    lead.code, served[i].code
                )));
            }
            for (key, differs) in [
                (
                    "wireguard_private_key",
                    s.wireguard_private_key != lead.settings.wireguard_private_key,
                ),
                ("interfaces", s.interfaces != lead.settings.interfaces),
                ("config_dir", s.config_dir != lead.settings.config_dir),
                (
                    "wireguard_node_keys",
                    s.wireguard_node_keys != lead.settings.wireguard_node_keys,
                ),
            ] {
                if differs {
                    return Err(invalid(format!(
                        "domains {} and {} share WireGuard port {port} (one interface), but the inventory gives them different `{key}`",
                        lead.code, served[i].code
                    )));
                }
            }
            let (a, b) = (lead.wireguard.as_ref(), served[i].wireguard.as_ref());
            if a.map(|w| &w.site_key) != b.map(|w| &w.site_key) {
                return Err(invalid(format!(
                    "domains {} and {} share WireGuard port {port} (one interface, one key), but the site gives this gateway different public keys in them",
                    lead.code, served[i].code
                )));
            }
        }
        let name = match &given {
            Some(name) => name.clone(),
            None if defaults.multidomain => names::interface_name("wg-", &lead.code),
            None => "wg-mesh".into(),
        };
        let owner = format!("WireGuard port {port}");
        names.claim(
            &name,
            Claim {
                owner: owner.clone(),
                what: "WireGuard interface",
                key: "wireguard_interface",
                given: given.is_some(),
            },
        )?;
        claim_sockets(
            &mut sockets,
            vec![Socket {
                address: None,
                port: *port,
                owner: format!("WireGuard interface {name}"),
            }],
        )?;
        let mut vxlans = Vec::new();
        for &i in members {
            let domain = &served[i];
            let wg = domain.wireguard.as_ref().expect("wireguard group");
            let vx_name = match &domain.settings.vxlan_interface {
                Some(name) => name.clone(),
                None if defaults.multidomain => names::interface_name("vx-", &domain.code),
                None => "vx-mesh".into(),
            };
            names.claim(
                &vx_name,
                Claim {
                    owner: format!("domain {}", domain.code),
                    what: "VXLAN interface",
                    key: "vxlan_interface",
                    given: domain.settings.vxlan_interface.is_some(),
                },
            )?;
            if let Some(other) = vxlans.iter().find(|v: &&Vxlan| v.vni == wg.vni) {
                return Err(invalid(format!(
                    "domains {} and {} share WireGuard port {port} and have the same VXLAN ID {} (the same domain_seed): their meshes would be one",
                    other.domain, domain.code, wg.vni
                )));
            }
            vxlans.push(Vxlan {
                domain: domain.code.clone(),
                name: vx_name,
                vni: wg.vni,
                mtu: wg.mtu,
                batman: meshes[mesh_of[i]].batman.clone(),
            });
        }
        wireguard.push(WgInterface {
            name,
            port: *port,
            private_key: lead.settings.wireguard_private_key.clone(),
            interfaces: lead.settings.interfaces,
            config_dir: lead.settings.config_dir.clone(),
            node_keys: lead.settings.wireguard_node_keys.clone(),
            vxlans,
        });
    }

    // tunneldigger brokers.
    let mut brokers = Vec::new();
    for (index, (port, members)) in broker_groups.iter().enumerate() {
        let lead = &served[members[0]];
        let name = match &lead.settings.instance {
            Some(given) => given.clone(),
            None if defaults.multidomain => names::instance_name(&lead.code),
            None => names::instance_name(defaults.site_code),
        };
        let owner = format!("tunneldigger broker {name} ({})", owner(served, members));
        instance_names.claim(
            &format!("tunneldigger/{name}"),
            Claim {
                owner: owner.clone(),
                what: "tunneldigger broker",
                key: "instance",
                given: lead.settings.instance.is_some(),
            },
        )?;
        let address = lead
            .settings
            .bind
            .iter()
            .find(|b| b.parse::<std::net::Ipv4Addr>().is_ok())
            .cloned()
            .ok_or_else(|| {
                invalid(format!(
                    "{}the tunneldigger broker needs an IPv4 address to listen on: put one into the inventory's bind list",
                    lead.label
                ))
            })?;
        claim_sockets(&mut sockets, vec![bind_socket(&address, *port, &owner)])?;
        brokers.push(Broker {
            name,
            domains: members.clone(),
            mesh: mesh_of[members[0]],
            port: *port,
            address,
            index: u32::try_from(index).unwrap_or(u32::MAX),
        });
    }

    Ok(Layout {
        meshes,
        fastd,
        wireguard,
        brokers,
        names,
    })
}

/// A fastd instance's interface (tap) or interface pattern (offload).
fn fastd_interface(
    settings: &Resolved,
    instance: &str,
    defaults: &Defaults<'_>,
    offloading: usize,
    extra: Option<&ExtraInstance>,
) -> String {
    if let Some(given) = extra.and_then(|e| e.interface.clone()) {
        return given;
    }
    if settings.offload {
        match (&settings.peer_interface, extra) {
            (Some(given), None) => given.clone(),
            // One offloading instance keeps fastd's usual pattern; several
            // need distinct ones: `p`, four hex digits of the instance
            // name's hash, `-%k` (nine hex digits of the node's key fit).
            _ if offloading <= 1 => "peer-%k".into(),
            _ => format!("p{}-%k", &names::code_hash(instance)[..4]),
        }
    } else {
        match (&settings.fastd_interface, extra) {
            (Some(given), None) => given.clone(),
            (None, None) if !defaults.multidomain => "mesh-vpn".into(),
            _ => names::interface_name("vpn-", instance),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(address: Option<&str>, port: u16) -> Socket {
        Socket {
            address: address.map(|a| a.parse().unwrap()),
            port,
            owner: String::new(),
        }
    }

    #[test]
    fn binds_that_overlap() {
        let any = socket(None, 10000);
        let v4 = socket(Some("0.0.0.0"), 10000);
        let v6 = socket(Some("::"), 10000);
        let one = socket(Some("192.0.2.1"), 10000);
        let two = socket(Some("192.0.2.2"), 10000);
        assert!(overlaps(&any, &one));
        assert!(overlaps(&v4, &one));
        assert!(!overlaps(&v6, &one));
        assert!(!overlaps(&one, &two));
        assert!(!overlaps(&one, &socket(Some("192.0.2.1"), 10001)));
        assert!(overlaps(&one, &socket(Some("192.0.2.1"), 10000)));
    }

    #[test]
    fn groups_keep_the_first_members_order() {
        let groups = group_by([(0, 'b'), (1, 'a'), (2, 'b')].into_iter());
        assert_eq!(groups, vec![('b', vec![0, 2]), ('a', vec![1])]);
    }
}
