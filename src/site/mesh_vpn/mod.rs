//! One domain's mesh VPN, typed: what its fastd, WireGuard and tunneldigger
//! sections say, read once (per domain view, after the merge of site.conf
//! and the domain file) with where each value is written.
//!
//! Lints, `check --online`, `render node` and `render gateway` read the
//! site's VPN settings only from here. Remotes, endpoints and brokers are
//! parsed here, each by the one grammar of the program that reads it on the
//! node ([`address`]); a value that does not read keeps its reason, and one
//! lint reports it.
//!
//! Values of the wrong Lua type are left out (Gluon's own checks report
//! them), and tables are read in a stable order: Gluon iterates peers and
//! groups with `pairs()` (hash order); here they are sorted by name, numbers
//! by value.

pub mod address;
pub mod methods;

use super::value::{Key, Node, Value};
use crate::source::Span;
use address::{AddressError, Endpoint};

/// Where a value is written: its configuration path, and its span (the
/// value's own, else where the path is set, as [`super::locate`] finds it).
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    pub path: Vec<Key>,
    pub span: Option<Span>,
}

/// A value with where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub at: Location,
}

/// The mesh VPN providers, in the order Gluon looks for the active one
/// (`gluon.mesh-vpn.get_active_provider` globs
/// `/lib/gluon/mesh-vpn/provider/*`, so alphabetical).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    Fastd,
    Tunneldigger,
    WireGuard,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Fastd, Provider::Tunneldigger, Provider::WireGuard];

    /// Gluon's package of the provider.
    pub fn package(self) -> &'static str {
        match self {
            Provider::Fastd => "gluon-mesh-vpn-fastd",
            Provider::Tunneldigger => "gluon-mesh-vpn-tunneldigger",
            Provider::WireGuard => "gluon-mesh-vpn-wireguard",
        }
    }

    /// The key under `mesh_vpn` the provider reads.
    pub fn key(self) -> &'static str {
        match self {
            Provider::Fastd => "fastd",
            Provider::Tunneldigger => "tunneldigger",
            Provider::WireGuard => "wireguard",
        }
    }

    /// The program's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Fastd => "fastd",
            Provider::Tunneldigger => "Tunneldigger",
            Provider::WireGuard => "WireGuard",
        }
    }
}

/// The package of fastd's L2TP offload (feature mesh-vpn-fastd-l2tp): nodes
/// run fastd in multitap mode and hand `null@l2tp` sessions to the kernel.
pub const FASTD_L2TP_PACKAGE: &str = "gluon-mesh-vpn-fastd-l2tp";

/// A fastd remote, WireGuard endpoint or tunneldigger broker: as written,
/// where, and what the program on the node makes of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    pub text: String,
    pub at: Location,
    pub endpoint: Result<Endpoint, AddressError>,
}

/// `mesh_vpn.bandwidth_limit`.
#[derive(Clone, Debug, PartialEq)]
pub struct BandwidthLimit {
    pub enabled: bool,
    pub ingress: Option<f64>,
    pub egress: Option<f64>,
}

/// One domain's `mesh_vpn`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MeshVpn {
    /// `mesh_vpn.enabled`, with Gluon's default (false).
    pub enabled: bool,
    pub bandwidth_limit: Option<BandwidthLimit>,
    /// Set when `mesh_vpn.fastd` is a table.
    pub fastd: Option<Fastd>,
    pub wireguard: Option<WireGuard>,
    pub tunneldigger: Option<Tunneldigger>,
}

/// `mesh_vpn.fastd`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fastd {
    pub at: Location,
    pub mtu: Option<Located<f64>>,
    /// Where `methods` is set, if it is.
    pub methods_at: Option<Location>,
    /// The string items of `methods`, in order (each path ends in its
    /// 1-based index).
    pub methods: Vec<Located<String>>,
    pub configurable: Option<Located<bool>>,
    /// Where `groups` is set, if it is.
    pub groups_at: Option<Location>,
    pub groups: Vec<FastdGroup>,
}

/// A fastd peer group, with its peers and subgroups.
#[derive(Clone, Debug, PartialEq)]
pub struct FastdGroup {
    pub name: String,
    pub at: Location,
    /// `limit`, when it is a number (whether fastd can read it:
    /// [`FastdGroup::peer_limit`]).
    pub limit: Option<Located<f64>>,
    pub peers: Vec<FastdPeer>,
    pub groups: Vec<FastdGroup>,
}

/// A fastd peer (a gateway).
#[derive(Clone, Debug, PartialEq)]
pub struct FastdPeer {
    pub name: String,
    pub at: Location,
    /// `key`, when it is a string.
    pub key: Option<Located<String>>,
    /// `remotes`, when it is a list (an empty table is an empty list); its
    /// string items.
    pub remotes: Option<Located<Vec<Address>>>,
}

/// `mesh_vpn.wireguard`.
#[derive(Clone, Debug, PartialEq)]
pub struct WireGuard {
    pub at: Location,
    pub mtu: Option<Located<f64>>,
    /// Where `peers` is set, if it is.
    pub peers_at: Option<Location>,
    /// Set when the peers are written for an older community package (then
    /// [`WireGuard::peers`] is empty).
    pub community_format: Option<CommunityFormat>,
    /// The named peers in Gluon's format.
    pub peers: Vec<WgPeer>,
}

/// How a peer list written for an older community WireGuard package looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommunityFormat {
    /// A list of peers instead of named ones.
    List,
    /// Peers with `publickey` instead of `public_key`.
    PublickeyField,
}

/// A WireGuard peer (a gateway).
#[derive(Clone, Debug, PartialEq)]
pub struct WgPeer {
    pub name: String,
    pub at: Location,
    pub public_key: Option<Located<String>>,
    pub endpoint: Option<Address>,
}

/// `mesh_vpn.tunneldigger`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tunneldigger {
    pub at: Location,
    pub mtu: Option<Located<f64>>,
    pub brokers: Vec<Address>,
}

impl MeshVpn {
    /// Reads a domain's merged configuration; `locate` finds where a path is
    /// written when its value has no span of its own.
    pub fn read(merged: &Node, locate: &dyn Fn(&[Key]) -> Option<Span>) -> MeshVpn {
        let reader = Reader { locate };
        let Some(vpn) = merged.get_name("mesh_vpn").filter(|n| n.is_table()) else {
            return MeshVpn::default();
        };
        let base = vec![Key::from("mesh_vpn")];
        let section = |name: &str| {
            vpn.get_name(name)
                .filter(|n| n.is_table())
                .map(|node| (node, child(&base, name)))
        };
        MeshVpn {
            enabled: vpn
                .get_name("enabled")
                .and_then(Node::as_bool)
                .unwrap_or(false),
            bandwidth_limit: vpn
                .get_name("bandwidth_limit")
                .filter(|n| n.is_table())
                .map(|limit| BandwidthLimit {
                    enabled: limit
                        .get_name("enabled")
                        .and_then(Node::as_bool)
                        .unwrap_or(false),
                    ingress: limit.get_name("ingress").and_then(Node::as_f64),
                    egress: limit.get_name("egress").and_then(Node::as_f64),
                }),
            fastd: section("fastd").map(|(node, path)| reader.fastd(node, path)),
            wireguard: section("wireguard").map(|(node, path)| reader.wireguard(node, path)),
            tunneldigger: section("tunneldigger")
                .map(|(node, path)| reader.tunneldigger(node, path)),
        }
    }

    /// Whether the domain has a table for the provider.
    pub fn configures(&self, provider: Provider) -> bool {
        match provider {
            Provider::Fastd => self.fastd.is_some(),
            Provider::Tunneldigger => self.tunneldigger.is_some(),
            Provider::WireGuard => self.wireguard.is_some(),
        }
    }

    /// The provider's `mtu`, when it is a number.
    pub fn mtu(&self, provider: Provider) -> Option<&Located<f64>> {
        match provider {
            Provider::Fastd => self.fastd.as_ref()?.mtu.as_ref(),
            Provider::Tunneldigger => self.tunneldigger.as_ref()?.mtu.as_ref(),
            Provider::WireGuard => self.wireguard.as_ref()?.mtu.as_ref(),
        }
    }
}

impl Fastd {
    /// `configurable`, with Gluon's default (false).
    pub fn is_configurable(&self) -> bool {
        self.configurable.as_ref().is_some_and(|c| c.value)
    }

    /// The method names, in the site's order.
    pub fn method_names(&self) -> Vec<String> {
        self.methods.iter().map(|m| m.value.clone()).collect()
    }

    /// Every group at any depth, each before its subgroups.
    pub fn all_groups(&self) -> Vec<&FastdGroup> {
        let mut out = Vec::new();
        let mut stack: Vec<&FastdGroup> = self.groups.iter().rev().collect();
        while let Some(group) = stack.pop() {
            out.push(group);
            stack.extend(group.groups.iter().rev());
        }
        out
    }

    /// Every peer at any depth, with its group.
    pub fn all_peers(&self) -> Vec<(&FastdGroup, &FastdPeer)> {
        self.all_groups()
            .into_iter()
            .flat_map(|g| g.peers.iter().map(move |p| (g, p)))
            .collect()
    }

    /// The first peer with this name (groups in order, each before its
    /// subgroups).
    pub fn peer(&self, name: &str) -> Option<&FastdPeer> {
        self.all_peers()
            .into_iter()
            .map(|(_, p)| p)
            .find(|p| p.name == name)
    }
}

impl FastdGroup {
    /// The limit as fastd reads it (`peer limit N;`): a non-negative whole
    /// number that fits an `int`; `None` without a limit or when fastd
    /// cannot read it.
    pub fn peer_limit(&self) -> Option<usize> {
        let n = self.limit.as_ref()?.value;
        (n >= 0.0 && n.fract() == 0.0 && n <= f64::from(i32::MAX)).then_some(n as usize)
    }

    /// Peers in this group and all its subgroups.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
            + self
                .groups
                .iter()
                .map(FastdGroup::peer_count)
                .sum::<usize>()
    }

    /// How many connections the group's peers and subgroups allow at most,
    /// not counting its own limit.
    pub fn reachable(&self) -> usize {
        self.peers.len() + self.groups.iter().map(FastdGroup::allowed).sum::<usize>()
    }

    /// How many connections the group allows: what it can reach, capped by
    /// its own limit.
    pub fn allowed(&self) -> usize {
        let reachable = self.reachable();
        self.peer_limit().map_or(reachable, |l| l.min(reachable))
    }
}

/// `base.name`.
fn child(base: &[Key], name: &str) -> Vec<Key> {
    let mut path = base.to_vec();
    path.push(Key::from(name));
    path
}

/// `base[index]` (1-based, as Lua and Gluon's messages count).
fn item(base: &[Key], index: usize) -> Vec<Key> {
    let mut path = base.to_vec();
    path.push(Key::Index(index + 1));
    path
}

/// A table's entries sorted by name (numbers first, by value); a name set
/// twice keeps its last value, as in Lua.
fn sorted_fields(node: &Node) -> Vec<(String, &Node)> {
    let mut entries: Vec<(String, &Node)> = Vec::new();
    let mut positions: std::collections::HashMap<String, usize> = Default::default();
    for (key, value) in node.entries() {
        let name = key.to_string();
        match positions.get(&name) {
            Some(&at) => entries[at].1 = value,
            None => {
                positions.insert(name.clone(), entries.len());
                entries.push((name, value));
            }
        }
    }
    entries.sort_by_cached_key(|(name, _)| match name.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, name.clone()),
    });
    entries
}

struct Reader<'l> {
    locate: &'l dyn Fn(&[Key]) -> Option<Span>,
}

impl Reader<'_> {
    fn at(&self, node: Option<&Node>, path: Vec<Key>) -> Location {
        let span = node.and_then(|n| n.span).or_else(|| (self.locate)(&path));
        Location { path, span }
    }

    fn located<T>(&self, node: &Node, path: Vec<Key>, value: T) -> Located<T> {
        Located {
            value,
            at: self.at(Some(node), path),
        }
    }

    fn number(&self, table: &Node, base: &[Key], name: &str) -> Option<Located<f64>> {
        let node = table.get_name(name)?;
        Some(self.located(node, child(base, name), node.as_f64()?))
    }

    fn string(&self, table: &Node, base: &[Key], name: &str) -> Option<Located<String>> {
        let node = table.get_name(name)?;
        Some(self.located(node, child(base, name), node.as_str()?.to_string()))
    }

    /// The string items of a list, each with its path.
    fn strings(&self, list: &Node, path: &[Key]) -> Vec<(Located<String>, usize)> {
        list.items()
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let text = n.as_str()?.to_string();
                Some((self.located(n, item(path, i), text), i))
            })
            .collect()
    }

    fn addresses(
        &self,
        list: &Node,
        path: &[Key],
        grammar: fn(&str) -> Result<Endpoint, AddressError>,
    ) -> Vec<Address> {
        self.strings(list, path)
            .into_iter()
            .map(|(text, _)| Address {
                endpoint: grammar(&text.value),
                text: text.value,
                at: text.at,
            })
            .collect()
    }

    fn fastd(&self, node: &Node, path: Vec<Key>) -> Fastd {
        let methods_node = node.get_name("methods");
        let methods_path = child(&path, "methods");
        let groups_node = node.get_name("groups");
        let groups_path = child(&path, "groups");
        Fastd {
            mtu: self.number(node, &path, "mtu"),
            methods_at: methods_node.map(|n| self.at(Some(n), methods_path.clone())),
            methods: methods_node
                .map(|list| {
                    self.strings(list, &methods_path)
                        .into_iter()
                        .map(|(m, _)| m)
                        .collect()
                })
                .unwrap_or_default(),
            configurable: node
                .get_name("configurable")
                .and_then(|n| Some(self.located(n, child(&path, "configurable"), n.as_bool()?))),
            groups_at: groups_node.map(|n| self.at(Some(n), groups_path.clone())),
            groups: groups_node
                .map(|g| self.fastd_groups(g, &groups_path))
                .unwrap_or_default(),
            at: self.at(Some(node), path),
        }
    }

    /// The groups of a `groups` table. Nesting is bounded: site values are
    /// at most 64 tables deep (deeper ones do not load).
    fn fastd_groups(&self, groups: &Node, base: &[Key]) -> Vec<FastdGroup> {
        if !matches!(groups.value, Value::Object(_)) {
            return Vec::new();
        }
        sorted_fields(groups)
            .into_iter()
            .filter(|(_, g)| g.is_table())
            .map(|(name, group)| {
                let path = child(base, &name);
                let peers = group
                    .get_name("peers")
                    .filter(|p| matches!(p.value, Value::Object(_)))
                    .map(|peers| {
                        let peers_path = child(&path, "peers");
                        sorted_fields(peers)
                            .into_iter()
                            .filter(|(_, p)| p.is_table())
                            .map(|(peer, node)| self.fastd_peer(peer, node, &peers_path))
                            .collect()
                    })
                    .unwrap_or_default();
                FastdGroup {
                    limit: self.number(group, &path, "limit"),
                    peers,
                    groups: group
                        .get_name("groups")
                        .map(|g| self.fastd_groups(g, &child(&path, "groups")))
                        .unwrap_or_default(),
                    at: self.at(Some(group), path),
                    name,
                }
            })
            .collect()
    }

    fn fastd_peer(&self, name: String, node: &Node, base: &[Key]) -> FastdPeer {
        let path = child(base, &name);
        let remotes = node
            .get_name("remotes")
            .filter(|r| matches!(r.value, Value::Array(_)))
            .map(|list| {
                let remotes_path = child(&path, "remotes");
                let addresses = self.addresses(list, &remotes_path, address::fastd_remote);
                self.located(list, remotes_path, addresses)
            });
        FastdPeer {
            key: self.string(node, &path, "key"),
            remotes,
            at: self.at(Some(node), path),
            name,
        }
    }

    fn wireguard(&self, node: &Node, path: Vec<Key>) -> WireGuard {
        let peers_node = node.get_name("peers");
        let peers_path = child(&path, "peers");
        let community_format = peers_node.and_then(|peers| match &peers.value {
            Value::Array(items) if !items.is_empty() => Some(CommunityFormat::List),
            Value::Object(fields)
                if fields.iter().any(|(_, p)| {
                    p.get_name("publickey").is_some() && p.get_name("public_key").is_none()
                }) =>
            {
                Some(CommunityFormat::PublickeyField)
            }
            _ => None,
        });
        let peers = match peers_node {
            Some(peers) if community_format.is_none() => sorted_fields(peers)
                .into_iter()
                .filter(|(_, p)| p.is_table())
                .map(|(name, peer)| {
                    let peer_path = child(&peers_path, &name);
                    WgPeer {
                        public_key: self.string(peer, &peer_path, "public_key"),
                        endpoint: peer.get_name("endpoint").and_then(|e| {
                            let text = e.as_str()?.to_string();
                            Some(Address {
                                endpoint: address::wireguard_endpoint(&text),
                                text,
                                at: self.at(Some(e), child(&peer_path, "endpoint")),
                            })
                        }),
                        at: self.at(Some(peer), peer_path),
                        name,
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        WireGuard {
            mtu: self.number(node, &path, "mtu"),
            peers_at: peers_node.map(|n| self.at(Some(n), peers_path.clone())),
            community_format,
            peers,
            at: self.at(Some(node), path),
        }
    }

    fn tunneldigger(&self, node: &Node, path: Vec<Key>) -> Tunneldigger {
        let brokers_path = child(&path, "brokers");
        Tunneldigger {
            mtu: self.number(node, &path, "mtu"),
            brokers: node
                .get_name("brokers")
                .map(|list| self.addresses(list, &brokers_path, address::tunneldigger_broker))
                .unwrap_or_default(),
            at: self.at(Some(node), path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::value::path_to_string;

    fn node(value: Value) -> Node {
        Node::new(value, None)
    }

    fn object(fields: Vec<(&str, Node)>) -> Node {
        node(Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ))
    }

    fn string(s: &str) -> Node {
        node(Value::String(s.into()))
    }

    fn list(items: Vec<Node>) -> Node {
        node(Value::Array(items))
    }

    fn peer(key: &str, remotes: &[&str]) -> Node {
        object(vec![
            ("key", string(key)),
            ("remotes", list(remotes.iter().map(|r| string(r)).collect())),
        ])
    }

    #[test]
    fn fastd_groups_are_read_sorted_with_paths_limits_and_remotes() {
        let groups = object(vec![
            (
                "backbone",
                object(vec![
                    ("limit", node(Value::Number(1.0))),
                    (
                        "peers",
                        object(vec![
                            ("10", peer("ab", &["\"gw10.example.org\" port 10000"])),
                            ("9", peer("cd", &["gw2.example.org:10000"])),
                        ]),
                    ),
                    (
                        "groups",
                        object(vec![(
                            "spare",
                            object(vec![(
                                "peers",
                                object(vec![("gw3", peer("ef", &["192.0.2.3:1"]))]),
                            )]),
                        )]),
                    ),
                ]),
            ),
            ("not_a_group", string("x")),
        ]);
        let site = object(vec![(
            "mesh_vpn",
            object(vec![(
                "fastd",
                object(vec![
                    ("mtu", node(Value::Number(1312.0))),
                    (
                        "methods",
                        list(vec![string("salsa2012+umac"), node(Value::Number(1.0))]),
                    ),
                    ("groups", groups),
                ]),
            )]),
        )]);
        let vpn = MeshVpn::read(&site, &|_| None);
        let fastd = vpn.fastd.expect("fastd");
        assert_eq!(fastd.mtu.as_ref().map(|m| m.value), Some(1312.0));
        assert_eq!(fastd.method_names(), ["salsa2012+umac"]);
        assert_eq!(fastd.groups.len(), 1, "a string is no group");
        let backbone = &fastd.groups[0];
        assert_eq!(backbone.peer_limit(), Some(1));
        assert_eq!(
            backbone
                .peers
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["9", "10"],
            "numbers sort by value"
        );
        assert_eq!((backbone.reachable(), backbone.allowed()), (3, 1));
        assert_eq!(backbone.peer_count(), 3);
        let peers: Vec<_> = fastd.all_peers().into_iter().map(|(_, p)| p).collect();
        assert_eq!(peers.len(), 3);
        let gw3 = fastd.peer("gw3").expect("nested peer");
        let remote = &gw3.remotes.as_ref().expect("remotes").value[0];
        assert_eq!(
            path_to_string(&remote.at.path),
            "mesh_vpn.fastd.groups.backbone.groups.spare.peers.gw3.remotes.1"
        );
        assert_eq!(remote.endpoint.as_ref().map(|e| e.port), Ok(1));
        let gw2 = fastd.peer("9").expect("peer");
        assert!(gw2.remotes.as_ref().expect("remotes").value[0]
            .endpoint
            .is_err());
    }

    #[test]
    fn wireguard_peers_in_either_format() {
        let wg = |peers: Node| {
            let site = object(vec![(
                "mesh_vpn",
                object(vec![("wireguard", object(vec![("peers", peers)]))]),
            )]);
            MeshVpn::read(&site, &|_| None)
                .wireguard
                .expect("wireguard")
        };
        let gluon = wg(object(vec![(
            "gw1",
            object(vec![
                ("public_key", string("k")),
                ("endpoint", string("GW1.example.org:51820")),
            ]),
        )]));
        assert_eq!(gluon.community_format, None);
        let endpoint = gluon.peers[0].endpoint.as_ref().expect("endpoint");
        assert_eq!(
            endpoint.endpoint.as_ref().map(|e| e.host.text()),
            Ok("gw1.example.org".to_string())
        );
        let community = wg(list(vec![object(vec![("publickey", string("k"))])]));
        assert_eq!(community.community_format, Some(CommunityFormat::List));
        assert!(community.peers.is_empty());
    }

    #[test]
    fn spans_fall_back_to_where_the_path_is_written() {
        let site = object(vec![(
            "mesh_vpn",
            object(vec![(
                "tunneldigger",
                object(vec![("brokers", list(vec![string("td.example.org:1")]))]),
            )]),
        )]);
        let span = Span::new(crate::source::FileId(0), 3, 4);
        let vpn = MeshVpn::read(&site, &|_| Some(span));
        let td = vpn.tunneldigger.as_ref().expect("tunneldigger");
        assert_eq!(td.brokers[0].at.span, Some(span));
        assert!(!vpn.enabled);
        assert!(vpn.configures(Provider::Tunneldigger));
        assert!(!vpn.configures(Provider::Fastd));
    }
}
