//! WireGuard: the time a node needs before it can connect, and the peer list.
//!
//! WireGuard rejects a handshake whose timestamp is not newer than the last
//! one it accepted from the same key, so a node without a real-time clock
//! must set its clock before it connects. wgpeerselector (the node's peer
//! selector) runs `ntpd` against the servers in `system.ntp.server` before
//! each connection attempt, resolving their names over the uplink; Gluon sets
//! that list from `ntp_servers` (package gluon-core, upgrade script
//! `120-ntp-servers`), and only when the list is not empty.
//!
//! These lints run only where an image contains Gluon's
//! gluon-mesh-vpn-wireguard and the domain configures `mesh_vpn.wireguard`
//! (the provider is active). Community WireGuard packages from site feeds
//! (ffmuc's, ff-kbu's) have their own formats and are left alone.

use super::{DomainView, Lint, LintContext};
use crate::diagnostics::{CodeInfo, Diagnostic, Origin, Severity};
use crate::site::mesh_vpn::address::Endpoint;
use crate::site::mesh_vpn::{CommunityFormat, WgPeer, WireGuard};
use crate::site::value::p;
use crate::site::value::{Key, Node, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const PACKAGE: &str = "gluon-mesh-vpn-wireguard";

/// The domains in which Gluon's WireGuard provider is active.
fn wireguard_domains<'c, 'a>(context: &'c LintContext<'a>) -> Vec<&'c DomainView<'a>> {
    if !context.has_package(PACKAGE) {
        return Vec::new();
    }
    context.domains_with_table(&["mesh_vpn", "wireguard"])
}

// ---------------------------------------------------------------------------
// NTP servers

/// A prefix in CIDR notation, as the site writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cidr {
    pub address: IpAddr,
    pub length: u8,
}

impl Cidr {
    /// `10.0.0.0/16`, `fd00::/64`; `None` unless the address and a length
    /// in range parse.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (address, length) = text.trim().split_once('/')?;
        let address: IpAddr = address.parse().ok()?;
        if length.is_empty() || !length.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let length: u8 = length.parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        (length <= max).then_some(Cidr { address, length })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.length))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.length))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// What a domain says about the mesh: which addresses and names only exist
/// inside it.
#[derive(Debug, Default)]
pub struct MeshFacts {
    /// The site's prefixes, each with the key that sets it.
    prefixes: Vec<(&'static str, String, Cidr)>,
    next_node_ips: Vec<(&'static str, IpAddr)>,
    next_node_names: Vec<String>,
    site_code: Option<String>,
}

impl MeshFacts {
    pub fn of(merged: &Node) -> MeshFacts {
        let mut facts = MeshFacts::default();
        let mut prefix = |key: &'static str, node: &Node| {
            if let Some(text) = node.as_str() {
                if let Some(cidr) = Cidr::parse(text) {
                    facts.prefixes.push((key, text.to_string(), cidr));
                }
            }
        };
        for key in ["prefix4", "prefix6"] {
            if let Some(node) = merged.get_name(key) {
                prefix(key, node);
            }
        }
        if let Some(list) = merged.get_name("extra_prefixes6") {
            for node in list.items() {
                prefix("extra_prefixes6", node);
            }
        }
        for key in ["ip4", "ip6"] {
            let ip = merged
                .at(&["next_node", key])
                .and_then(Node::as_str)
                .and_then(|s| s.parse::<IpAddr>().ok());
            if let Some(ip) = ip {
                let key = if key == "ip4" {
                    "next_node.ip4"
                } else {
                    "next_node.ip6"
                };
                facts.next_node_ips.push((key, ip));
            }
        }
        if let Some(names) = merged.at(&["next_node", "name"]) {
            let names: Vec<&Node> = match &names.value {
                Value::Array(items) => items.iter().collect(),
                _ => vec![names],
            };
            facts.next_node_names = names
                .into_iter()
                .filter_map(Node::as_str)
                .map(normalise_name)
                .collect();
        }
        facts.site_code = merged
            .get_name("site_code")
            .and_then(Node::as_str)
            .map(str::to_ascii_lowercase);
        facts
    }
}

fn normalise_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Why an IPv4 address cannot be reached from the internet, if it cannot.
pub fn ipv4_not_public(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = if a == 0 {
        "an unspecified (\"this network\") address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_private() {
        "a private (RFC 1918) address"
    } else if ip.is_link_local() {
        "a link-local address"
    } else if a == 100 && (64..128).contains(&b) {
        "a carrier-grade NAT (RFC 6598) address"
    } else if (a, b, c) == (192, 0, 2) || (a, b, c) == (198, 51, 100) || (a, b, c) == (203, 0, 113)
    {
        "a documentation (RFC 5737) address"
    } else if a == 198 && (b == 18 || b == 19) {
        "a benchmarking (RFC 2544) address"
    } else if (a, b, c) == (192, 0, 0) {
        "an IETF protocol assignment (192.0.0.0/24)"
    } else if ip.is_multicast() {
        "a multicast address"
    } else if a >= 240 {
        "a reserved (240.0.0.0/4) address"
    } else {
        return None;
    };
    Some(reason)
}

/// Why an IPv6 address cannot be reached from the internet, if it cannot.
pub fn ipv6_not_public(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return ipv4_not_public(v4);
    }
    let first = ip.segments()[0];
    let reason = if ip.is_unspecified() {
        "the unspecified address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if first & 0xffc0 == 0xfe80 {
        "a link-local address"
    } else if first & 0xfe00 == 0xfc00 {
        "a unique local address (fc00::/7)"
    } else if first & 0xffc0 == 0xfec0 {
        "a site-local address (deprecated fec0::/10)"
    } else if (first, ip.segments()[1]) == (0x2001, 0x0db8) || first & 0xfff0 == 0x3ff0 {
        "a documentation address"
    } else if first & 0xff00 == 0xff00 {
        "a multicast address"
    } else if ip.segments()[..4] == [0x0100, 0, 0, 0] {
        "a discard-only (100::/64) address"
    } else {
        return None;
    };
    Some(reason)
}

/// Labels used as top-level domains inside private networks. None of them is
/// delegated in the public DNS root zone (several are reserved for exactly
/// this by RFC 2606, RFC 6761, RFC 6762 and RFC 8375, or by ICANN's
/// `.internal` decision); dn42 is the inter-community VPN's own TLD.
const PRIVATE_TLDS: &[&str] = &[
    "alt",
    "corp",
    "dn42",
    "example",
    "home",
    "internal",
    "intranet",
    "invalid",
    "lan",
    "local",
    "localdomain",
    "localhost",
    "mesh",
    "onion",
    "private",
    "test",
];

/// Why a host name cannot be resolved by public DNS, if it cannot — or
/// `None` when it can or might.
///
/// The rule, kept narrow so that public names are never flagged:
/// - a name with characters no host name has, or an empty label;
/// - a single label (`ntp`): public DNS never answers those;
/// - a name listed in `next_node.name`: the node itself answers it;
/// - a name whose last label (its TLD) equals the site code (`ntp1.ffkbu`),
///   starts with `ff` (the Freifunk communities' mesh-internal TLDs such as
///   `.ffhh`, `.ffnw`, `.ffbs`: no delegated TLD starts with `ff`), is one of
///   [`PRIVATE_TLDS`], or is not a plausible TLD at all (digits, a hyphen
///   outside the `xn--` form of an internationalised TLD).
///
/// A suffix shared with `next_node.name` is not enough: communities put
/// next-node names under their public domain too (`nextnode.ffh.zone` next
/// to the public `ntp.ffh.zone`). Whether a public-looking name resolves is
/// for the online probe (`--online`) to find out.
pub fn name_not_public(name: &str, facts: &MeshFacts) -> Option<String> {
    let normalised = normalise_name(name);
    let labels: Vec<&str> = normalised.split('.').collect();
    if normalised.is_empty()
        || labels
            .iter()
            .any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Some("not a valid host name or IP address".into());
    }
    if labels.len() == 1 {
        return Some("a single-label name, which public DNS does not resolve".into());
    }
    if facts.next_node_names.contains(&normalised) {
        return Some("one of next_node.name, which the node answers itself".into());
    }
    let tld = labels[labels.len() - 1];
    if facts.site_code.as_deref() == Some(tld) {
        return Some(format!(
            "under `.{tld}`, the site code used as a mesh-internal top-level domain"
        ));
    }
    if tld.starts_with("ff") {
        return Some(format!(
            "under `.{tld}`, a mesh-internal Freifunk top-level domain that public DNS does not resolve"
        ));
    }
    if PRIVATE_TLDS.contains(&tld) || normalised.ends_with(".home.arpa") {
        return Some(format!(
            "under `.{tld}`, a private top-level domain that public DNS does not resolve"
        ));
    }
    let plausible = tld.len() >= 2
        && (tld.bytes().all(|b| b.is_ascii_alphabetic())
            || (tld.starts_with("xn--") && tld.len() > 4));
    if !plausible {
        return Some(format!(
            "under `.{tld}`, which is not a top-level domain of the public DNS"
        ));
    }
    None
}

/// Why an NTP server cannot be reached before the VPN is up, if it cannot.
pub fn ntp_server_not_public(server: &str, facts: &MeshFacts) -> Option<String> {
    let text = server.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        if let Some((key, _)) = facts.next_node_ips.iter().find(|(_, n)| *n == ip) {
            return Some(format!(
                "{key}, the address every node answers itself on the mesh"
            ));
        }
        if let Some((key, written, _)) = facts.prefixes.iter().find(|(_, _, c)| c.contains(ip)) {
            return Some(format!(
                "inside the site's {key} {written}, reachable only through the mesh"
            ));
        }
        let reason = match ip {
            IpAddr::V4(v4) => ipv4_not_public(v4),
            IpAddr::V6(v6) => ipv6_not_public(v6),
        };
        return reason.map(str::to_string);
    }
    name_not_public(text, facts)
}

fn ntp_servers_missing(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in wireguard_domains(context) {
        let node = view.merged.get_name("ntp_servers");
        let missing = match node {
            None => true,
            Some(n) => n.is_empty_table(),
        };
        if !missing {
            continue;
        }
        let path = p!["ntp_servers"];
        let what = if node.is_some() {
            "`ntp_servers` is empty"
        } else {
            "`ntp_servers` is not set"
        };
        out.push(context.diagnostic_at(
            &WIREGUARD_WITHOUT_NTP_SERVERS.info,
            view,
            node,
            &path,
            format!(
                "{what}: freshly flashed nodes fall back to OpenWrt's pool servers, but nodes upgraded from a firmware that had NTP servers keep those, and WireGuard cannot connect until the clock is set"
            ),
        ));
    }
}

fn ntp_server_not_public_lint(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in wireguard_domains(context) {
        let Some(list) = view.merged.get_name("ntp_servers") else {
            continue;
        };
        let facts = MeshFacts::of(&view.merged);
        let verdicts: Vec<(usize, &Node, &str, Option<String>)> = list
            .items()
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                n.as_str()
                    .map(|s| (i, n, s, ntp_server_not_public(s, &facts)))
            })
            .collect();
        let any_public = verdicts.iter().any(|(_, _, _, reason)| reason.is_none());
        for (i, node, server, reason) in &verdicts {
            let Some(reason) = reason else {
                continue;
            };
            let path = p!["ntp_servers", Key::Index(i + 1)];
            let (effect, severity) = if any_public {
                (
                    "nodes rely on the other servers to set their clock before WireGuard connects",
                    Severity::Info,
                )
            } else {
                (
                    "no listed server can be reached before WireGuard connects, so a rebooted node's handshakes are rejected by a gateway it talked to before and it never reconnects",
                    Severity::Error,
                )
            };
            let mut d = context.diagnostic_at(
                &WIREGUARD_NTP_SERVER_NOT_PUBLIC.info,
                view,
                Some(node),
                &path,
                format!("NTP server `{server}` is {reason}: {effect}"),
            );
            d.severity = severity;
            out.push(d);
        }
    }
}

// ---------------------------------------------------------------------------
// Peers

/// The domains in which Gluon's WireGuard provider is active, with their
/// WireGuard section.
fn wireguard_sections<'c, 'a>(
    context: &'c LintContext<'a>,
) -> Vec<(&'c DomainView<'a>, &'c WireGuard)> {
    if !context.has_package(PACKAGE) {
        return Vec::new();
    }
    context
        .domains
        .iter()
        .filter_map(|view| Some((view, view.mesh_vpn.wireguard.as_ref()?)))
        .collect()
}

fn old_peer_format(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, wireguard) in wireguard_sections(context) {
        let (Some(format), Some(at)) = (wireguard.community_format, &wireguard.peers_at) else {
            continue;
        };
        let shape = match format {
            CommunityFormat::List => "a list of peers",
            CommunityFormat::PublickeyField => "peers with `publickey`",
        };
        out.push(context.diagnostic_for(
            &WIREGUARD_PEERS_IN_COMMUNITY_FORMAT.info,
            view,
            at,
            format!(
                "`mesh_vpn.wireguard.peers` is written for an older community WireGuard package ({shape}); Gluon's gluon-mesh-vpn-wireguard needs named peers with `public_key` and `endpoint` (`gw1 = {{ public_key = '…', endpoint = 'gw1.example.org:51820' }}`), otherwise wgpeerselector finds no peer and the node never connects"
            ),
        ));
    }
}

fn duplicate_public_key(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, wireguard) in wireguard_sections(context) {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for peer in &wireguard.peers {
            let Some(key) = &peer.public_key else {
                continue;
            };
            match seen.iter().find(|(k, _)| *k == key.value) {
                Some((_, first)) => out.push(context.diagnostic_for(
                    &DUPLICATE_WIREGUARD_PUBLIC_KEY.info,
                    view,
                    &key.at,
                    format!(
                        "peer `{}` has the same public key as `{first}`: if they are two gateways, one key is a copy and nodes picking that gateway never complete a handshake; if it is one gateway, give it one peer with a host name that resolves to all its addresses",
                        peer.name
                    ),
                )),
                None => seen.push((&key.value, &peer.name)),
            }
        }
    }
}

fn invalid_endpoint(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, wireguard) in wireguard_sections(context) {
        for peer in &wireguard.peers {
            let Some(endpoint) = &peer.endpoint else {
                continue;
            };
            if let Err(problem) = &endpoint.endpoint {
                out.push(context.diagnostic_for(
                    &INVALID_WIREGUARD_ENDPOINT.info,
                    view,
                    &endpoint.at,
                    format!(
                        "endpoint `{}` of peer `{}` {problem}: wgpeerselector cannot install the peer, so nodes never use this gateway",
                        endpoint.text, peer.name
                    ),
                ));
            }
        }
    }
}

fn duplicate_endpoint(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, wireguard) in wireguard_sections(context) {
        let mut seen: Vec<(&Endpoint, &WgPeer)> = Vec::new();
        for peer in &wireguard.peers {
            let Some((written, Ok(endpoint))) = peer.endpoint.as_ref().map(|e| (e, &e.endpoint))
            else {
                continue;
            };
            let Some((_, first)) = seen.iter().find(|(e, _)| *e == endpoint) else {
                seen.push((endpoint, peer));
                continue;
            };
            let key = |p: &WgPeer| p.public_key.as_ref().map(|k| k.value.clone());
            let effect = if key(peer) == key(first) {
                "the entry is a copy and only makes nodes pick that gateway more often"
            } else {
                "one WireGuard port has one key, so one of the two peers can never complete a handshake"
            };
            out.push(context.diagnostic_for(
                &DUPLICATE_WIREGUARD_ENDPOINT.info,
                view,
                &written.at,
                format!(
                    "peer `{}` has the endpoint `{}` of peer `{}`: {effect}",
                    peer.name, written.text, first.name
                ),
            ));
        }
    }
}

pub static WIREGUARD_WITHOUT_NTP_SERVERS: Lint = Lint {
    info: CodeInfo {
        code: "GV140",
        name: "wireguard-without-ntp-servers",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A WireGuard site sets no NTP servers.",
        explanation: "WireGuard nodes must set their clock before they connect: a gateway rejects \
            a handshake whose timestamp is not newer than the last one it saw from that node, and \
            routers have no real-time clock, so a rebooted node starts in the past. Gluon's \
            documentation says the NTP servers in site.conf must be publicly reachable (and not \
            only through the mesh). Without `ntp_servers`, Gluon leaves the node's NTP list alone \
            (gluon-core's `120-ntp-servers` only writes a non-empty list): freshly flashed nodes \
            use OpenWrt's public pool servers, which works, but nodes upgraded from a firmware \
            whose site listed servers — often mesh-internal ones from fastd times — keep that old \
            list and never reconnect after a reboot. List public servers explicitly.",
    },
    example: "{ -- no ntp_servers\n  mesh_vpn = { wireguard = { mtu = 1312, peers = { … } } },\n}",
    seen_in: &[],
    other_severities: &[],
    check: ntp_servers_missing,
};

pub static WIREGUARD_NTP_SERVER_NOT_PUBLIC: Lint = Lint {
    info: CodeInfo {
        code: "GV141",
        name: "wireguard-ntp-server-not-public",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "A WireGuard site lists an NTP server that is only reachable through the mesh.",
        explanation: "Before it connects, wgpeerselector sets the node's clock from the NTP \
            servers, resolving their names over the uplink: WireGuard gateways reject \
            handshakes with an older timestamp than the last one they saw, so a rebooted node \
            (routers have no real-time clock) cannot reconnect until its clock is right. \
            Gluon's documentation: \"the NTP servers specified in your site.conf must be \
            publicly available (and not only through the mesh)\"; the effect only shows when a \
            node that was connected before reboots.\n\n\
            A server cannot be public when it is an address inside `prefix4`, `prefix6` or \
            `extra_prefixes6`, equal to `next_node.ip4`/`ip6`, or a private, CGNAT, loopback, \
            link-local, unique local (fc00::/7), documentation or reserved address; or a name \
            with a single label, one of `next_node.name`, or under a top-level domain public DNS \
            does not have: the site code (`ntp1.ffkbu`), a Freifunk mesh TLD (any TLD starting \
            with `ff`: no public one does), `.lan`, `.local`, `.internal`, `.home.arpa` and the \
            like. Public-looking names are not resolved here; the online probe (`--online`) \
            checks them. This is an error when no listed server is public; when some are, the \
            others are a note.",
    },
    example: "ntp_servers = { 'ntp1.ffxx', '10.0.0.1' }",
    seen_in: &[],
    other_severities: &[(Severity::Info, "when another listed server is public")],
    check: ntp_server_not_public_lint,
};

pub static WIREGUARD_PEERS_IN_COMMUNITY_FORMAT: Lint = Lint {
    info: CodeInfo {
        code: "GV142",
        name: "wireguard-peers-in-community-format",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "The WireGuard peers are written for an older community package, not for Gluon's.",
        explanation: "Community WireGuard packages that predate Gluon's own (for example the one \
            ffmuc uses) list peers as an array of tables with `publickey`. Gluon's \
            gluon-mesh-vpn-wireguard iterates the peers by name and copies `public_key` and \
            `endpoint` into wgpeerselector's configuration: peers from a list get the names \
            `1`, `2`, … and no public key, wgpeerselector ignores peers without a key, finds none \
            and exits, and the node never connects. Gluon's own check reports the numeric keys \
            and the missing `public_key`, which hides that the whole list is in the other \
            format. Write each peer as `name = { public_key = '…', endpoint = 'host:port' }`.",
    },
    example: "peers = {\n  { publickey = 'TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=', endpoint = 'gw1.example.org:40011' },\n}",
    seen_in: &[],
    other_severities: &[],
    check: old_peer_format,
};

pub static DUPLICATE_WIREGUARD_PUBLIC_KEY: Lint = Lint {
    info: CodeInfo {
        code: "GV143",
        name: "duplicate-wireguard-public-key",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "Two WireGuard peers of a domain have the same public key.",
        explanation: "Each gateway has its own key pair; the same public key on two peers is \
            usually a copied line, and nodes that pick the gateway whose key is wrong never \
            complete a handshake (wgpeerselector moves on after 5 s each time). If both entries \
            are one gateway reached at two addresses, use one peer whose host name resolves to \
            all of them: wgpeerselector cycles through the addresses a name resolves to.",
    },
    example: "gw1 = { public_key = 'K1…=', endpoint = 'gw1.example.org:51820' },\ngw2 = { public_key = 'K1…=', endpoint = 'gw2.example.org:51820' },",
    seen_in: &[],
    other_severities: &[],
    check: duplicate_public_key,
};

pub static DUPLICATE_WIREGUARD_ENDPOINT: Lint = Lint {
    info: CodeInfo {
        code: "GV144",
        name: "duplicate-wireguard-endpoint",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "Two WireGuard peers of a domain have the same endpoint.",
        explanation: "A WireGuard port belongs to one interface with one key, so two peers with \
            the same `host:port` and different keys cannot both be right: nodes that pick the \
            wrong one wait 5 s for a handshake that never comes. With the same key, the second \
            entry is a copy that only makes nodes pick that gateway more often.",
    },
    example: "gw1 = { public_key = 'K1…=', endpoint = 'gw1.example.org:51820' },\ngw2 = { public_key = 'K2…=', endpoint = 'gw1.example.org:51820' },",
    seen_in: &[],
    other_severities: &[],
    check: duplicate_endpoint,
};

pub static INVALID_WIREGUARD_ENDPOINT: Lint = Lint {
    info: CodeInfo {
        code: "GV145",
        name: "invalid-wireguard-endpoint",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "A WireGuard endpoint is not `host:port` as wgpeerselector reads it.",
        explanation: "Gluon's check only wants a string; wgpeerselector on the node accepts an \
            IPv4 address, an IPv6 address in brackets (`[2001:db8::1]:51820`, hex digits and \
            colons only) or a host name of letters, digits, `-` and `.`, then `:` and the port \
            (1–65535). Anything else is logged as \"not a valid endpoint\" and the peer is never \
            used — typically an IPv6 address without brackets, a missing port or an underscore \
            in the host name.",
    },
    example: "endpoint = '2001:db8::1:51820'",
    seen_in: &[],
    other_severities: &[],
    check: invalid_endpoint,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[
    &WIREGUARD_WITHOUT_NTP_SERVERS,
    &WIREGUARD_NTP_SERVER_NOT_PUBLIC,
    &WIREGUARD_PEERS_IN_COMMUNITY_FORMAT,
    &DUPLICATE_WIREGUARD_PUBLIC_KEY,
    &DUPLICATE_WIREGUARD_ENDPOINT,
    &INVALID_WIREGUARD_ENDPOINT,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::lints::testing::{
        domain_conf, multidomain_site_conf, site_conf, wg_key, wg_peer, wireguard, TestSite,
    };

    const FEATURES: &[&str] = &["mesh-batman-adv-15", "mesh-vpn-wireguard"];

    fn peers(n: usize) -> String {
        (0..n)
            .map(|i| {
                wg_peer(
                    &format!("gw{i}"),
                    &wg_key(i as u8),
                    &format!("gw{i}.example.org:51820"),
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn site(ntp: &str, extra: &str) -> TestSite {
        TestSite::new(
            &site_conf(&format!("{ntp}\n{}\n{extra}", wireguard(&peers(2), ""))),
            FEATURES,
        )
    }

    fn facts(extra: &str) -> MeshFacts {
        let site = TestSite::new(&site_conf(extra), &[]);
        let options = crate::site::load::LoadOptions::new(V2025_1);
        let loaded = crate::site::load::load(site.dir.path(), &options).expect("loads");
        MeshFacts::of(loaded.site_conf.as_ref().expect("site.conf"))
    }

    #[test]
    fn cidrs_parse_and_contain() {
        let net = Cidr::parse("10.0.0.0/16").expect("parses");
        assert!(net.contains("10.0.255.1".parse().expect("ip")));
        assert!(!net.contains("10.1.0.1".parse().expect("ip")));
        let net = Cidr::parse("fd00::/64").expect("parses");
        assert!(net.contains("fd00::123".parse().expect("ip")));
        assert!(!net.contains("fd00:0:0:1::1".parse().expect("ip")));
        assert!(Cidr::parse("0.0.0.0/0")
            .expect("parses")
            .contains("1.2.3.4".parse().expect("ip")));
        assert_eq!(Cidr::parse("10.01.0.0/16"), None);
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("10.0.0.0/"), None);
        assert_eq!(Cidr::parse("fd00::/129"), None);
    }

    #[test]
    fn addresses_that_are_not_public() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.2.1",
            "255.255.255.255",
        ] {
            assert!(ipv4_not_public(ip.parse().expect("ip")).is_some(), "{ip}");
        }
        for ip in [
            "::1",
            "::",
            "fe80::1",
            "fd12::1",
            "fc00::1",
            "2001:db8::1",
            "ff02::101",
            "::ffff:10.0.0.1",
        ] {
            assert!(ipv6_not_public(ip.parse().expect("ip")).is_some(), "{ip}");
        }
        for ip in ["1.1.1.1", "100.128.0.1", "172.32.0.1", "192.0.3.1"] {
            assert_eq!(ipv4_not_public(ip.parse().expect("ip")), None, "{ip}");
        }
        for ip in [
            "2001:678:e68:ff00::3",
            "2a03:2260:3017:1400::2",
            "64:ff9b::1.1.1.1",
        ] {
            assert_eq!(ipv6_not_public(ip.parse().expect("ip")), None, "{ip}");
        }
    }

    #[test]
    fn names_that_are_not_public() {
        let f = facts("next_node = { name = { 'nextnode', 'nextnode.ffh.zone' }, ip4 = '10.0.0.1', ip6 = 'fd00::1' },");
        for name in [
            "ntp",
            "ntp1.fft",
            "1.ntp.services.ffhh",
            "ntp.ffnw",
            "time.lan",
            "ntp.home.arpa",
            "nextnode.ffh.zone",
            "NextNode.ffh.zone.",
            "ntp.123",
            "ntp.x",
            "ntp..org",
            "ntp_1.example.org",
            "",
        ] {
            assert!(name_not_public(name, &f).is_some(), "{name}");
        }
        for name in [
            "ntp.ffh.zone",
            "0.de.pool.ntp.org",
            "ntp.ext.ffmuc.net",
            "ntp.4830.org",
            "ntp.xn--p1ai",
            "time.nist.gov.",
            "ntp.mesh.freifunk-flensburg.de",
        ] {
            assert_eq!(name_not_public(name, &f), None, "{name}");
        }
        assert!(ntp_server_not_public("10.0.0.1", &f)
            .expect("next node")
            .contains("next_node.ip4"));
        assert!(ntp_server_not_public("fd00::123", &f)
            .expect("in prefix")
            .contains("prefix6 fd00::/64"));
        assert!(ntp_server_not_public("10.0.4.4", &f)
            .expect("in prefix")
            .contains("prefix4 10.0.0.0/16"));
        assert_eq!(ntp_server_not_public("2a03:2260:3017:1400::2", &f), None);
    }

    #[test]
    fn missing_ntp_servers_warn() {
        let found = site("", "").findings(V2025_1, "GV140");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].config_path.as_deref(), Some("ntp_servers"));
        assert!(
            found[0].message.contains("is not set"),
            "{}",
            found[0].message
        );
        let found = site("ntp_servers = {},", "").findings(V2023_2, "GV140");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("is empty"));
        assert!(site("ntp_servers = { 'pool.ntp.org' },", "")
            .findings(V2025_1, "GV140")
            .is_empty());
    }

    #[test]
    fn mesh_only_ntp_servers_are_errors_when_alone() {
        let found =
            site("ntp_servers = { 'ntp1.fft', 'fd00::123' },", "").findings(V2025_1, "GV141");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|d| d.severity == Severity::Error));
        assert_eq!(found[0].config_path.as_deref(), Some("ntp_servers.1"));
        assert!(
            found[0].message.contains("`ntp1.fft`"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("site code"),
            "{}",
            found[0].message
        );
        assert!(found[1]
            .message
            .contains("inside the site's prefix6 fd00::/64"));
        assert!(found[1].message.contains("never reconnects"));

        // With a public server beside them, they are notes.
        let found =
            site("ntp_servers = { 'ntp1.fft', 'pool.ntp.org' },", "").findings(V2025_1, "GV141");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(found[0].message.contains("other servers"));

        assert!(site(
            "ntp_servers = { '0.de.pool.ntp.org', '2a03:2260:3017:1400::2' },",
            ""
        )
        .findings(V2025_1, "GV141")
        .is_empty());
    }

    #[test]
    fn ntp_lints_need_gluons_wireguard_package_and_config() {
        let conf = site_conf(&format!(
            "ntp_servers = {{ 'ntp.ffxx' }},\n{}",
            wireguard(&peers(1), "")
        ));
        // No WireGuard in the images.
        let plain = TestSite::new(&conf, &["mesh-batman-adv-15"]);
        assert!(plain
            .check(V2025_1)
            .iter()
            .all(|d| !d.code().starts_with("GV14")));
        // The package, but no mesh_vpn.wireguard: the provider is inactive.
        let inactive = TestSite::new(&site_conf("ntp_servers = { 'ntp.ffxx' },"), FEATURES);
        assert!(inactive.findings(V2025_1, "GV141").is_empty());
        // Before v2023.2 the features come from site.mk.
        let legacy = TestSite::legacy(&conf, FEATURES);
        for version in [V2022_1, V2023_1] {
            assert_eq!(legacy.findings(version, "GV141").len(), 1, "{version}");
        }
    }

    #[test]
    fn ntp_servers_are_judged_per_domain() {
        let site = TestSite::multidomain(
            &multidomain_site_conf(
                "one",
                &format!(
                    "ntp_servers = {{ '2001:678:1::123' }},\n{}",
                    wireguard("", "")
                ),
            ),
            FEATURES,
            &[
                (
                    "one",
                    &domain_conf(
                        "one",
                        1,
                        &format!(
                            "extra_prefixes6 = {{ '2001:678:1::/64' }},\n{}",
                            wireguard(&peers(1), "")
                        ),
                    ),
                ),
                ("two", &domain_conf("two", 2, &wireguard(&peers(1), ""))),
            ],
        );
        let found = site.findings(V2025_1, "GV141");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].domains, ["one"]);
        assert!(found[0]
            .message
            .contains("inside the site's extra_prefixes6 2001:678:1::/64"));
    }

    #[test]
    fn community_format_is_an_error() {
        let list = format!(
            "  mesh_vpn = {{ wireguard = {{ mtu = 1312, peers = {{ {{ publickey = '{}', endpoint = 'gw1.example.org:40011' }} }} }} }},",
            wg_key(1)
        );
        let conf = site_conf(&format!("ntp_servers = {{ 'pool.ntp.org' }},\n{list}"));
        for version in GluonVersion::ALL {
            let site = if version < V2023_2 {
                TestSite::legacy(&conf, FEATURES)
            } else {
                TestSite::new(&conf, FEATURES)
            };
            let found = site.findings(version, "GV142");
            assert_eq!(found.len(), 1, "{version}");
            assert_eq!(
                found[0].config_path.as_deref(),
                Some("mesh_vpn.wireguard.peers")
            );
            assert!(
                found[0].message.contains("a list of peers"),
                "{}",
                found[0].message
            );
        }
        let named = format!(
            "  mesh_vpn = {{ wireguard = {{ mtu = 1312, peers = {{ gw1 = {{ publickey = '{}', endpoint = 'gw1.example.org:40011' }} }} }} }},",
            wg_key(1)
        );
        let found = TestSite::new(&site_conf(&named), FEATURES).findings(V2025_1, "GV142");
        assert!(found[0].message.contains("peers with `publickey`"));
        // Gluon's format passes; a community package (not Gluon's) is left alone.
        assert!(site("", "").findings(V2025_1, "GV142").is_empty());
        assert!(TestSite::new(&conf, &["mesh-batman-adv-15"])
            .findings(V2025_1, "GV142")
            .is_empty());
    }

    fn peer_site(peers: &str) -> TestSite {
        TestSite::new(
            &site_conf(&format!(
                "ntp_servers = {{ 'pool.ntp.org' }},\n{}",
                wireguard(peers, "")
            )),
            FEATURES,
        )
    }

    #[test]
    fn duplicate_keys() {
        let k = wg_key(7);
        let site = peer_site(&format!(
            "{}, {}",
            wg_peer("gw1", &k, "gw1.example.org:51820"),
            wg_peer("gw2", &k, "gw2.example.org:51820")
        ));
        let found = site.findings(V2025_1, "GV143");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.wireguard.peers.gw2.public_key")
        );
        assert!(found[0].message.contains("as `gw1`"));
        assert!(peer_site(&peers(3)).findings(V2025_1, "GV143").is_empty());
    }

    #[test]
    fn duplicate_endpoints() {
        let site = peer_site(&format!(
            "{}, {}",
            wg_peer("gw1", &wg_key(1), "GW1.example.org:51820"),
            wg_peer("gw2", &wg_key(2), "gw1.example.org.:51820")
        ));
        let found = site.findings(V2025_1, "GV144");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.wireguard.peers.gw2.endpoint")
        );
        assert!(found[0].message.contains("can never complete a handshake"));
        // Same key, same endpoint: a copy.
        let site = peer_site(&format!(
            "{}, {}",
            wg_peer("gw1", &wg_key(1), "[2001:db8::1]:51820"),
            wg_peer("gw2", &wg_key(1), "[2001:DB8:0::1]:51820")
        ));
        let found = site.findings(V2025_1, "GV144");
        assert!(
            found[0].message.contains("is a copy"),
            "{}",
            found[0].message
        );
        // Same host, other port: two interfaces.
        let site = peer_site(&format!(
            "{}, {}",
            wg_peer("gw1", &wg_key(1), "gw1.example.org:51820"),
            wg_peer("gw2", &wg_key(2), "gw1.example.org:51821")
        ));
        assert!(site.findings(V2025_1, "GV144").is_empty());
    }

    #[test]
    fn invalid_endpoints_point_at_the_value() {
        let site = peer_site(&format!(
            "{}, {}",
            wg_peer("gw1", &wg_key(1), "2001:db8::1:51820"),
            wg_peer("gw2", &wg_key(2), "gw2.example.org:51820")
        ));
        let found = site.findings(V2023_2, "GV145");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.wireguard.peers.gw1.endpoint")
        );
        assert!(found[0].message.contains("`2001:db8::1:51820`"));
        assert!(found[0].message.contains("never use this gateway"));
        let span = found[0].span.expect("span");
        let text = std::fs::read_to_string(site.dir.path().join("site.conf")).expect("read");
        assert_eq!(
            &text[span.start as usize..span.end as usize],
            "'2001:db8::1:51820'"
        );
    }
}
