//! fastd's peers and peer groups: keys, remotes and group limits.
//!
//! Gluon's check only wants hex keys and string remotes; the node hands them
//! on unchanged. Gluon's upgrade script writes each peer into fastd's UCI
//! configuration, and OpenWrt's fastd init script turns every peer into a
//! file `key "…"; remote …;` in a peer directory, after filtering each
//! remote to the characters ``-a-zA-Z0-9[].:"%`` and space (a remote with
//! one or three quotes is dropped). fastd then reads the files: a file it
//! cannot parse, or whose key is not 64 hex digits, is skipped; two peers
//! with the same key disable each other. A group's `limit` becomes
//! `peer limit N;` in the main configuration, where anything but a
//! non-negative integer is a syntax error and fastd does not start at all.
//! Measured with fastd v22 (`fastd --verify-config` and running it on peer
//! directories).

use super::{DomainView, Lint, LintContext};
use crate::diagnostics::{CodeInfo, Origin};
use crate::diagnostics::{Diagnostic, Severity};
use crate::site::value::p;
use crate::site::value::{Key, Node, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

const PACKAGE: &str = "gluon-mesh-vpn-fastd";

/// The domains in which the fastd provider is active.
fn fastd_domains<'c, 'a>(context: &'c LintContext<'a>) -> Vec<&'c DomainView<'a>> {
    if !context.has_package(PACKAGE) {
        return Vec::new();
    }
    context.domains_with_table(&["mesh_vpn", "fastd"])
}

fn extended(base: &[Key], more: &[&str]) -> Vec<Key> {
    let mut path = base.to_vec();
    path.extend(more.iter().map(|k| Key::from(*k)));
    path
}

/// One peer, wherever it is in the group tree.
struct Peer<'n> {
    name: String,
    /// `mesh_vpn.fastd.groups.<group>[.groups.<sub>…].peers.<name>`.
    path: Vec<Key>,
    node: &'n Node,
}

/// One group, with what it can reach.
struct Group<'n> {
    name: String,
    path: Vec<Key>,
    limit: Option<&'n Node>,
    /// How many connections the group's peers and subgroups allow at most,
    /// not counting its own limit.
    reachable: usize,
    /// Peers in it and its subgroups.
    peers: usize,
}

#[derive(Default)]
struct Tree<'n> {
    peers: Vec<Peer<'n>>,
    groups: Vec<Group<'n>>,
    /// Peers inside a group with `limit = 0` (at any depth).
    blocked: usize,
}

/// A limit as fastd reads it: a non-negative integer that fits an `int`.
fn valid_limit(node: &Node) -> Option<usize> {
    let n = node.as_f64()?;
    (n >= 0.0 && n.fract() == 0.0 && n <= f64::from(i32::MAX)).then_some(n as usize)
}

/// Walks `groups` (an object of groups); returns (connections possible,
/// peers) for the whole level.
fn walk<'n>(groups: &'n Node, base: &[Key], blocked: bool, tree: &mut Tree<'n>) -> (usize, usize) {
    let Value::Object(fields) = &groups.value else {
        return (0, 0);
    };
    let mut total = (0, 0);
    for (name, group) in fields {
        if !group.is_table() {
            continue;
        }
        let path = extended(base, &[name.as_str()]);
        let limit = group.get_name("limit");
        let zero = limit.and_then(valid_limit) == Some(0);
        let mut own = 0;
        if let Some(Value::Object(peers)) = group.get_name("peers").map(|n| &n.value) {
            for (peer_name, peer) in peers {
                if !peer.is_table() {
                    continue;
                }
                own += 1;
                if blocked || zero {
                    tree.blocked += 1;
                }
                tree.peers.push(Peer {
                    name: peer_name.clone(),
                    path: extended(&path, &["peers", peer_name.as_str()]),
                    node: peer,
                });
            }
        }
        let (sub_reachable, sub_peers) = match group.get_name("groups") {
            Some(sub) => walk(sub, &extended(&path, &["groups"]), blocked || zero, tree),
            None => (0, 0),
        };
        let reachable = own + sub_reachable;
        let peers = own + sub_peers;
        let allowed = match limit.and_then(valid_limit) {
            Some(n) => n.min(reachable),
            None => reachable,
        };
        tree.groups.push(Group {
            name: name.clone(),
            path,
            limit,
            reachable,
            peers,
        });
        total.0 += allowed;
        total.1 += peers;
    }
    total
}

fn tree<'n>(view: &'n DomainView<'_>) -> Tree<'n> {
    let mut tree = Tree::default();
    if let Some(groups) = view.merged.at(&["mesh_vpn", "fastd", "groups"]) {
        let base = p!["mesh_vpn", "fastd", "groups"];
        walk(groups, &base, false, &mut tree);
    }
    tree
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn invalid_key(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        for peer in tree(view).peers {
            let Some(node) = peer.node.get_name("key") else {
                continue;
            };
            // Anything but hex digits fails Gluon's own check already.
            let Some(key) = node.as_str().filter(|k| is_hex(k)) else {
                continue;
            };
            if key.len() == 64 {
                continue;
            }
            let path = extended(&peer.path, &["key"]);
            out.push(context.diagnostic_at(
                &INVALID_FASTD_PEER_KEY.info,
                view,
                Some(node),
                &path,
                format!(
                    "the key of peer `{}` has {} hex digits, not 64: fastd ignores the peer (\"no valid key configured\"), so nodes never connect to this gateway",
                    peer.name,
                    key.len()
                ),
            ));
        }
    }
}

fn duplicate_key(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        let peers = tree(view).peers;
        let keys: Vec<Option<(String, &Node)>> = peers
            .iter()
            .map(|p| {
                let node = p.node.get_name("key")?;
                let key = node.as_str().filter(|k| k.len() == 64 && is_hex(k))?;
                Some((key.to_ascii_lowercase(), node))
            })
            .collect();
        for (i, entry) in keys.iter().enumerate() {
            let Some((key, node)) = entry else {
                continue;
            };
            let first = keys[..i]
                .iter()
                .position(|e| e.as_ref().is_some_and(|(k, _)| k == key));
            if let Some(first) = first {
                let path = extended(&peers[i].path, &["key"]);
                out.push(context.diagnostic_at(
                    &DUPLICATE_FASTD_PEER_KEY.info,
                    view,
                    Some(node),
                    &path,
                    format!(
                        "peer `{}` has the same key as peer `{}`: fastd disables both (\"duplicate key used by peers\"), so nodes connect to neither",
                        peers[i].name, peers[first].name
                    ),
                ));
            }
        }
    }
}

/// The host of a remote.
#[derive(Debug, PartialEq, Eq)]
pub enum Host {
    /// A quoted name (or address), resolved by fastd.
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// A remote as fastd parses it.
#[derive(Debug, PartialEq, Eq)]
pub struct Remote {
    pub family: Option<&'static str>,
    pub host: Host,
    pub port: u16,
}

/// The characters OpenWrt's fastd init script (`guard_remote`) lets through.
fn kept_by_init_script(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-[].:\"% ".contains(c)
}

/// fastd's grammar for the value of `remote …;`, on the text fastd reads:
/// an optional `ipv4`/`ipv6`, then a quoted host name, an IPv4 address or a
/// bracketed IPv6 address (hex digits and colons, optionally `%zone`), then
/// `port N` (after whitespace) or `:N`, N from 1 to 65535. `ipv4` with an
/// IPv6 address and `ipv6` with an IPv4 address are errors.
pub fn parse_fastd_remote(text: &str) -> Result<Remote, String> {
    let syntax = |what: &str| Err(format!("is not in fastd's remote syntax ({what})"));
    let s = text.trim();
    let (family, rest) = match s.get(..4) {
        Some(word @ ("ipv4" | "ipv6")) if s[4..].starts_with(|c: char| c.is_whitespace()) => {
            let family = if word == "ipv4" { "ipv4" } else { "ipv6" };
            (Some(family), s[4..].trim_start())
        }
        _ => (None, s),
    };
    let (host, rest) = if let Some(quoted) = rest.strip_prefix('"') {
        let Some(end) = quoted.find('"') else {
            return syntax("an unclosed quote");
        };
        (Host::Name(quoted[..end].to_string()), &quoted[end + 1..])
    } else if let Some(bracketed) = rest.strip_prefix('[') {
        let Some(end) = bracketed.find(']') else {
            return syntax("an unclosed `[`");
        };
        let inner = &bracketed[..end];
        let address = inner.split_once('%').map_or(inner, |(a, _)| a);
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return syntax("an IPv6 address in brackets may hold hex digits and colons only");
        }
        let Ok(ip) = address.parse::<Ipv6Addr>() else {
            return syntax(&format!("`{address}` is not an IPv6 address"));
        };
        (Host::V6(ip), &bracketed[end + 1..])
    } else {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == ':')
            .unwrap_or(rest.len());
        let word = &rest[..end];
        let Ok(ip) = word.parse::<Ipv4Addr>() else {
            return syntax(&format!(
                "`{word}` is neither a quoted host name nor an IP address; host names need quotes: `\"{word}\" port N`"
            ));
        };
        (Host::V4(ip), &rest[end..])
    };
    if !(rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == ':')) {
        return syntax("the host must be followed by a space or `:`");
    }
    let rest = rest.trim_start();
    let port = if let Some(after) = rest.strip_prefix(':') {
        after.trim_start()
    } else if let Some(after) = rest.strip_prefix("port") {
        if !after.starts_with(|c: char| c.is_whitespace()) {
            return syntax("`port` must be followed by a space and the port");
        }
        after.trim_start()
    } else if rest.is_empty() {
        return syntax("no port: add `port N`");
    } else {
        return syntax("expected `port N` or `:N` after the host");
    };
    let port = port.trim_end();
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return syntax(&format!("`{port}` is not a port number"));
    }
    let digits = port.trim_start_matches('0');
    let port = match digits.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) && digits.len() <= 5 => n as u16,
        _ => return Err(format!("has port {port}, outside 1–65535")),
    };
    match (family, &host) {
        (Some("ipv4"), Host::V6(_)) => return syntax("`ipv4` with an IPv6 address"),
        (Some("ipv6"), Host::V4(_)) => return syntax("`ipv6` with an IPv4 address"),
        _ => {}
    }
    Ok(Remote { family, host, port })
}

/// Why a quoted host can never be resolved, if it cannot.
fn unresolvable(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("has an empty host name".into());
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    let valid = labels
        .iter()
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if valid {
        None
    } else if name.starts_with('[') {
        Some(format!(
            "quotes the IPv6 address `{name}`, which cannot be resolved: write it without quotes, `{name}:N`"
        ))
    } else {
        Some(format!(
            "has the host name `{name}`, which cannot be resolved"
        ))
    }
}

/// What is wrong with a remote as the site writes it, on its way through
/// Gluon and OpenWrt's init script to fastd.
pub fn remote_problem(remote: &str) -> Option<String> {
    let seen: String = remote.chars().filter(|c| kept_by_init_script(*c)).collect();
    let quotes = seen.matches('"').count();
    if quotes != 0 && quotes != 2 {
        return Some(format!(
            "has {quotes} quote characters, so OpenWrt's fastd init script drops it"
        ));
    }
    let removed: String = remote
        .chars()
        .filter(|c| !kept_by_init_script(*c))
        .collect();
    let parsed = parse_fastd_remote(&seen);
    // Removed whitespace only matters when fastd cannot read what is left.
    if removed.chars().any(|c| !c.is_whitespace()) || (!removed.is_empty() && parsed.is_err()) {
        let effect = match &parsed {
            Ok(_) => String::new(),
            Err(problem) => format!(", which {problem}"),
        };
        return Some(format!(
            "contains characters OpenWrt's fastd init script removes (`{}`): fastd reads `{seen}`{effect}",
            removed.escape_debug()
        ));
    }
    match parsed {
        Err(problem) => Some(problem),
        Ok(Remote {
            host: Host::Name(name),
            ..
        }) => unresolvable(&name),
        Ok(_) => None,
    }
}

fn invalid_remote(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        for peer in tree(view).peers {
            let Some(remotes) = peer.node.get_name("remotes") else {
                continue;
            };
            for (i, node) in remotes.items().iter().enumerate() {
                let Some(remote) = node.as_str() else {
                    continue;
                };
                let Some(problem) = remote_problem(remote) else {
                    continue;
                };
                let mut path = extended(&peer.path, &["remotes"]);
                path.push(Key::Index(i + 1));
                out.push(context.diagnostic_at(
                    &INVALID_FASTD_REMOTE.info,
                    view,
                    Some(node),
                    &path,
                    format!(
                        "remote `{remote}` of peer `{}` {problem}; fastd skips the peer file, so nodes never connect to this gateway",
                        peer.name
                    ),
                ));
            }
        }
    }
}

fn peer_without_remotes(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        for peer in tree(view).peers {
            let Some(remotes) = peer.node.get_name("remotes") else {
                continue;
            };
            if !remotes.is_empty_table() {
                continue;
            }
            let path = extended(&peer.path, &["remotes"]);
            out.push(context.diagnostic_at(
                &FASTD_PEER_WITHOUT_REMOTES.info,
                view,
                Some(remotes),
                &path,
                format!(
                    "peer `{}` has no remotes: nodes never connect to it (gateways do not connect to nodes)",
                    peer.name
                ),
            ));
        }
    }
}

fn limit_exceeds_peers(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        for group in tree(view).groups {
            let Some(node) = group.limit else { continue };
            let Some(limit) = valid_limit(node) else {
                continue;
            };
            if group.reachable == 0 || limit <= group.reachable {
                continue;
            }
            let reach = if group.reachable == group.peers {
                format!("{} peer{}", group.peers, plural(group.peers))
            } else {
                format!(
                    "{} connection{} (its subgroups' limits allow no more)",
                    group.reachable,
                    plural(group.reachable)
                )
            };
            let path = extended(&group.path, &["limit"]);
            out.push(context.diagnostic_at(
                &FASTD_GROUP_LIMIT_EXCEEDS_PEERS.info,
                view,
                Some(node),
                &path,
                format!(
                    "group `{}` has limit {limit} but can reach only {reach}: the limit never takes effect",
                    group.name
                ),
            ));
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn limit_zero(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        let tree = tree(view);
        let all_blocked = !tree.peers.is_empty() && tree.blocked == tree.peers.len();
        for group in &tree.groups {
            let Some(node) = group.limit else { continue };
            // An empty placeholder group with limit 0 changes nothing.
            if valid_limit(node) != Some(0) || group.peers == 0 {
                continue;
            }
            let path = extended(&group.path, &["limit"]);
            let effect = if all_blocked {
                "no peer of this domain is left, so nodes never connect"
            } else {
                "fastd never connects to its peers"
            };
            let mut d = context.diagnostic_at(
                &FASTD_GROUP_LIMIT_ZERO.info,
                view,
                Some(node),
                &path,
                format!(
                    "group `{}` has limit 0 ({} peer{} below it): {effect}",
                    group.name,
                    group.peers,
                    plural(group.peers)
                ),
            );
            if all_blocked {
                d.severity = Severity::Error;
            }
            out.push(d);
        }
    }
}

fn invalid_limit(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        for group in tree(view).groups {
            let Some(node) = group.limit else { continue };
            let Some(n) = node.as_f64() else {
                // Not a number: Gluon's check reports it.
                continue;
            };
            if valid_limit(node).is_some() {
                continue;
            }
            let written = crate::site::value::lua_number_to_string(n);
            let path = extended(&group.path, &["limit"]);
            out.push(context.diagnostic_at(
                &INVALID_FASTD_GROUP_LIMIT.info,
                view,
                Some(node),
                &path,
                format!(
                    "group `{}` has limit {written}, which fastd cannot read (only whole numbers from 0 to 2147483647 are limits): fastd reports a syntax error and does not start, so no node connects",
                    group.name
                ),
            ));
        }
    }
}

fn without_peers(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in fastd_domains(context) {
        let path = p!["mesh_vpn", "fastd", "groups"];
        let Some(groups) = view.merged.lookup(&path) else {
            // Gluon's check requires the groups.
            continue;
        };
        if !tree(view).peers.is_empty() {
            continue;
        }
        out.push(context.diagnostic_at(
            &FASTD_WITHOUT_PEERS.info,
            view,
            Some(groups),
            &path,
            "fastd has no peers in any group: nodes have no gateway to connect to".into(),
        ));
    }
}

pub static INVALID_FASTD_PEER_KEY: Lint = Lint {
    info: CodeInfo {
        code: "GV150",
        name: "invalid-fastd-peer-key",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "A fastd peer key is not exactly 64 hex digits.",
        explanation:
            "A fastd public key is 32 bytes, written as 64 hex digits. Gluon's check only \
            asks for hex digits; fastd on the node logs \"no valid key configured for peer\" for \
            a shorter or longer key and ignores the peer, so nodes never connect to that gateway. \
            Copy the key again from the gateway's `fastd --show-key` (or `--generate-key`).",
    },
    example: "key = '9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0'",
    seen_in: &[],
    check: invalid_key,
};

pub static DUPLICATE_FASTD_PEER_KEY: Lint = Lint {
    info: CodeInfo {
        code: "GV151",
        name: "duplicate-fastd-peer-key",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "Two fastd peers of a domain have the same key.",
        explanation: "fastd identifies a peer by its key. When two peers of one fastd instance \
            share a key — in the same group or in different ones — fastd logs \"duplicate key \
            used by peers … disabling both\" and connects to neither, so both gateways are lost. \
            Usually a key was copied to a new gateway's entry; if both entries are one gateway, \
            merge them into one peer with several remotes.",
    },
    example: "gw1 = { key = 'aa…', remotes = { '\"gw1.example.org\" port 10000' } },\ngw2 = { key = 'aa…', remotes = { '\"gw2.example.org\" port 10000' } },",
    seen_in: &[],
    check: duplicate_key,
};

pub static INVALID_FASTD_REMOTE: Lint = Lint {
    info: CodeInfo {
        code: "GV152",
        name: "invalid-fastd-remote",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "A fastd remote is not in fastd's remote syntax.",
        explanation: "Gluon's check only wants strings; each remote ends up verbatim in a peer \
            file as `remote <value>;`. fastd accepts `\"host\" port N`, `ipv4 \"host\" port N`, \
            `ipv6 \"host\" port N`, `1.2.3.4:N` (or `1.2.3.4 port N`) and `[2001:db8::1]:N` \
            (or `[…] port N`), N from 1 to 65535; host names need the quotes, IPv6 addresses the \
            brackets. A peer file with a syntax error is skipped, so the gateway is never used. \
            On the way OpenWrt's fastd init script removes every character but letters, digits, \
            ``-[].:\"%`` and space (an underscore in a host name silently disappears) and drops \
            remotes with one or three quotes. A quoted name that cannot be a host name (empty, \
            with spaces, a bracketed address in quotes) is reported too; whether a name \
            resolves is for the online probe (`--online`).",
    },
    example: "remotes = { 'gw1.example.org:10000', '\"gw1.example.org\"' }",
    seen_in: &["ffmwu"],
    check: invalid_remote,
};

pub static FASTD_PEER_WITHOUT_REMOTES: Lint = Lint {
    info: CodeInfo {
        code: "GV153",
        name: "fastd-peer-without-remotes",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A fastd peer has an empty remotes list.",
        explanation: "Gluon's check accepts `remotes = {}`, but a node only connects to peers it \
            has an address for; gateways never connect to nodes. The peer is dead weight, or its \
            remotes were lost (for example moved into domain files that do not set them).",
    },
    example: "gw1 = { key = '…', remotes = {} }",
    seen_in: &[],
    check: peer_without_remotes,
};

pub static FASTD_GROUP_LIMIT_EXCEEDS_PEERS: Lint = Lint {
    info: CodeInfo {
        code: "GV154",
        name: "fastd-group-limit-exceeds-peers",
        severity: Severity::Info,
        origin: Origin::Gluonvpn,
        summary: "A fastd group's limit is larger than the number of peers it can reach.",
        explanation: "`limit` caps how many peers of a group (its own and those of its \
            subgroups) a node connects to at the same time. A limit above what the group can \
            reach never takes effect: with `limit = 2` and one peer, nodes connect to that one. \
            Often a peer was removed and the limit not lowered, or a connection to every \
            gateway was not intended.",
    },
    example: "backbone = { limit = 2, peers = { gw1 = { … } } }",
    seen_in: &[],
    check: limit_exceeds_peers,
};

pub static FASTD_GROUP_LIMIT_ZERO: Lint = Lint {
    info: CodeInfo {
        code: "GV155",
        name: "fastd-group-limit-zero",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A fastd group has `limit = 0`, so fastd never connects to its peers.",
        explanation: "`peer limit 0;` allows no connection at all: fastd keeps the peers but \
            disables handshakes with them. An error when this leaves the domain without any \
            peer to connect to; otherwise those peers are merely unused. Remove the limit for \
            no cap, or set it to the number of simultaneous connections wanted (usually 1).",
    },
    example: "backbone = { limit = 0, peers = { … } }",
    seen_in: &[],
    check: limit_zero,
};

pub static INVALID_FASTD_GROUP_LIMIT: Lint = Lint {
    info: CodeInfo {
        code: "GV156",
        name: "invalid-fastd-group-limit",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "A fastd group's limit is negative, fractional or too large.",
        explanation: "Gluon's check accepts any number, but the limit goes into the main fastd \
            configuration as `peer limit N;`, where fastd accepts only whole numbers from 0 up to \
            2147483647. With `-1`, `1.5` or `1e10` fastd reports a syntax error and does not \
            start at all, so no node of the domain connects. Leave `limit` out for no limit.",
    },
    example: "backbone = { limit = -1, peers = { … } }",
    seen_in: &[],
    check: invalid_limit,
};

pub static FASTD_WITHOUT_PEERS: Lint = Lint {
    info: CodeInfo {
        code: "GV157",
        name: "fastd-without-peers",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "fastd is configured but no group has a peer.",
        explanation: "Gluon's check accepts `groups = {}` and groups without peers, but then the \
            nodes have no gateway to connect to and reach the rest of the network only through \
            mesh neighbours. In multidomain sites the peers usually belong into each domain \
            file; check that the domain sets them.",
    },
    example: "groups = { backbone = { limit = 1, peers = {} } }",
    seen_in: &[],
    check: without_peers,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[
    &INVALID_FASTD_PEER_KEY,
    &DUPLICATE_FASTD_PEER_KEY,
    &INVALID_FASTD_REMOTE,
    &FASTD_PEER_WITHOUT_REMOTES,
    &FASTD_GROUP_LIMIT_EXCEEDS_PEERS,
    &FASTD_GROUP_LIMIT_ZERO,
    &INVALID_FASTD_GROUP_LIMIT,
    &FASTD_WITHOUT_PEERS,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::lints::testing::{domain_conf, multidomain_site_conf, site_conf, TestSite};

    const FEATURES: &[&str] = &["mesh-batman-adv-15", "mesh-vpn-fastd"];

    fn key(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    fn peer(name: &str, key: &str, remotes: &str) -> String {
        format!("{name} = {{ key = '{key}', remotes = {{ {remotes} }} }}")
    }

    fn remote(host: &str) -> String {
        format!("'\"{host}\" port 10000'")
    }

    /// A fastd site with the given groups (Lua table body).
    fn site(groups: &str) -> TestSite {
        site_at(groups, V2025_1)
    }

    fn site_at(groups: &str, version: GluonVersion) -> TestSite {
        let conf = site_conf(&format!(
            "  mesh_vpn = {{ fastd = {{ mtu = 1312, methods = {{ 'salsa2012+umac' }}, groups = {{ {groups} }} }} }},"
        ));
        if version < V2023_2 {
            TestSite::legacy(&conf, FEATURES)
        } else {
            TestSite::new(&conf, FEATURES)
        }
    }

    fn backbone(limit: &str, peers: &[String]) -> String {
        format!(
            "backbone = {{ {limit} peers = {{ {} }} }}",
            peers.join(", ")
        )
    }

    #[test]
    fn keys_must_have_64_hex_digits() {
        let short = &key(1)[..63];
        let site = site(&backbone(
            "limit = 1,",
            &[
                peer("gw1", short, &remote("gw1.example.org")),
                peer("gw2", &key(2).to_uppercase(), &remote("gw2.example.org")),
                // Not hex: Gluon's check reports it.
                peer("gw3", "xyz", &remote("gw3.example.org")),
            ],
        ));
        for version in GluonVersion::ALL {
            let found = site_at(
                &backbone("", &[peer("gw1", short, &remote("gw1.example.org"))]),
                version,
            )
            .findings(version, "GV150");
            assert_eq!(found.len(), 1, "{version}");
        }
        let found = site.findings(V2025_1, "GV150");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.groups.backbone.peers.gw1.key")
        );
        assert!(found[0].message.contains("63 hex digits"));
    }

    #[test]
    fn duplicate_keys_anywhere_in_the_tree() {
        let groups = format!(
            "a = {{ peers = {{ {} }} }}, b = {{ groups = {{ c = {{ peers = {{ {}, {} }} }} }} }}",
            peer("gw1", &key(1), &remote("gw1.example.org")),
            peer("gw2", &key(2), &remote("gw2.example.org")),
            peer("gw3", &key(1).to_uppercase(), &remote("gw3.example.org")),
        );
        let found = site(&groups).findings(V2025_1, "GV151");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.groups.b.groups.c.peers.gw3.key")
        );
        assert!(found[0].message.contains("as peer `gw1`"));
        assert!(found[0].message.contains("disables both"));
        assert!(site(&backbone(
            "",
            &[
                peer("gw1", &key(1), &remote("gw1.example.org")),
                peer("gw2", &key(2), &remote("gw2.example.org"))
            ]
        ))
        .findings(V2025_1, "GV151")
        .is_empty());
    }

    #[test]
    fn duplicate_keys_in_different_domains_are_fine() {
        let site_conf = multidomain_site_conf(
            "one",
            "  mesh_vpn = { fastd = { mtu = 1312, methods = { 'salsa2012+umac' }, groups = { backbone = { limit = 1 } } } },",
        );
        let domain = |code: &str, n: u8, keys: &[u8]| {
            let peers: Vec<String> = keys
                .iter()
                .map(|k| peer(&format!("gw{k}"), &key(*k), &remote("gw.example.org")))
                .collect();
            domain_conf(
                code,
                n,
                &format!(
                    "  mesh_vpn = {{ fastd = {{ groups = {{ backbone = {{ peers = {{ {} }} }} }} }} }},",
                    peers.join(", ")
                ),
            )
        };
        let site = TestSite::multidomain(
            &site_conf,
            FEATURES,
            &[
                ("one", &domain("one", 1, &[1, 2])),
                ("two", &domain("two", 2, &[1, 3])),
            ],
        );
        assert!(site.findings(V2025_1, "GV151").is_empty());
        assert!(site.findings(V2025_1, "GV157").is_empty());
    }

    #[test]
    fn remote_syntax() {
        for ok in [
            "\"gw1.example.org\" port 10000",
            "ipv4 \"gw1.example.org\" port 10000",
            "ipv6 \"gw1.example.org\" port 10000",
            "1.2.3.4:10000",
            "[2001:db8::1]:10000",
            "1.2.3.4 port 10000",
            "[2001:db8::1] port 10000",
            "\"gw1.example.org\":10000",
            "ipv4 1.2.3.4:10000",
            "ipv6 [::1]:1",
            "[fe80::1%eth0]:10000",
            "\"gw1.example.org\" port 010000",
            "\"gw1.example.org\"  :  65535",
            "1.2.3.4: 1",
        ] {
            assert!(parse_fastd_remote(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("gw1.example.org:10000", "host names need quotes"),
            ("\"gw1.example.org\" port 0", "outside 1–65535"),
            ("\"gw1.example.org\" port 65536", "outside 1–65535"),
            ("\"gw1.example.org\"", "no port"),
            ("1.2.3.4", "no port"),
            (
                "2001:db8::1:10000",
                "neither a quoted host name nor an IP address",
            ),
            ("\"gw1.example.org\" port 10000 float", "not a port number"),
            ("300.1.1.1:10000", "neither"),
            ("01.2.3.4:10000", "neither"),
            ("[::ffff:1.2.3.4]:10000", "hex digits and colons only"),
            ("\"h.org\"port 1", "followed by a space or `:`"),
            ("[::1]port 1", "followed by a space or `:`"),
            ("\"h.org\" port1", "`port` must be followed by a space"),
            ("ipv4 [::1]:1", "`ipv4` with an IPv6 address"),
            ("ipv6 1.2.3.4:1", "`ipv6` with an IPv4 address"),
            ("\"h.org\" PORT 1", "expected `port N`"),
            ("\"h.org\" port -1", "not a port number"),
        ] {
            let err = parse_fastd_remote(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn remotes_on_their_way_through_the_init_script() {
        assert_eq!(remote_problem("\"gw1.example.org\" port 10000"), None);
        // Tabs vanish; here that is harmless.
        assert_eq!(remote_problem("\"gw1.example.org\"\t port 10000"), None);
        let p = remote_problem("\"gw_1.example.org\" port 10000").expect("underscore");
        assert!(p.contains("removes (`_`)"), "{p}");
        assert!(
            p.contains("fastd reads `\"gw1.example.org\" port 10000`"),
            "{p}"
        );
        let p = remote_problem("\"gw1.example.org\"\tport 10000").expect("tab");
        assert!(p.contains("which is not in fastd's remote syntax"), "{p}");
        let p = remote_problem("\"gw1.example.org port 10000").expect("one quote");
        assert!(p.contains("drops it"), "{p}");
        assert!(remote_problem("\"\" port 10000")
            .expect("empty")
            .contains("empty host name"));
        assert!(remote_problem("\"[2001:db8::1]\" port 10000")
            .expect("quoted address")
            .contains("without quotes"));
        assert!(remote_problem("\"gw 1\" port 10000")
            .expect("space")
            .contains("cannot be resolved"));
        assert_eq!(remote_problem("\"2001:db8::1\" port 10000"), None);
    }

    /// Runs the real fastd (where installed) on each remote and compares its
    /// verdict with [`parse_fastd_remote`].
    #[test]
    fn remote_syntax_agrees_with_fastd() {
        use std::process::Command;
        let Ok(secret) = Command::new("fastd")
            .args(["--generate-key", "--machine-readable"])
            .output()
        else {
            eprintln!("fastd is not installed; skipping");
            return;
        };
        let secret = String::from_utf8_lossy(&secret.stdout).trim().to_string();
        // A real public key: fastd rejects 32 bytes that are not one.
        let public_key = |secret: &str| -> String {
            use std::io::Write;
            let mut child = Command::new("fastd")
                .args(["--config", "-", "--show-key", "--machine-readable"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("fastd runs");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(format!("secret \"{secret}\";\n").as_bytes())
                .expect("write");
            let out = child.wait_with_output().expect("fastd ends");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let other = Command::new("fastd")
            .args(["--generate-key", "--machine-readable"])
            .output()
            .expect("fastd runs");
        let key = public_key(String::from_utf8_lossy(&other.stdout).trim());
        assert_eq!(key.len(), 64, "{key}");
        let dir = tempfile::tempdir().expect("tempdir");
        let verify = |remote: &str, key: &str| -> bool {
            let conf = format!(
                "secret \"{secret}\";\nmode tap;\ninterface \"x\";\nmethod \"salsa2012+umac\";\npeer \"gw1\" {{\n  key \"{key}\";\n  remote {remote};\n}}\n"
            );
            let path = dir.path().join("fastd.conf");
            std::fs::write(&path, conf).expect("write");
            Command::new("fastd")
                .arg("--verify-config")
                .arg("-c")
                .arg(&path)
                .output()
                .expect("fastd runs")
                .status
                .success()
        };
        let remotes = [
            "\"gw1.example.org\" port 10000",
            "ipv4 \"gw1.example.org\" port 10000",
            "ipv6 \"gw1.example.org\" port 10000",
            "1.2.3.4:10000",
            "[2001:db8::1]:10000",
            "1.2.3.4 port 10000",
            "[2001:db8::1] port 10000",
            "\"gw1.example.org\":10000",
            "ipv4 \"h.org\":1",
            "ipv6 [::1]:1",
            "ipv4 1.2.3.4 port 1",
            "[fe80::1%eth0]:10000",
            "[::1%]:1",
            "[2001:DB8::1]:1",
            "\"gw1.example.org\" port 010000",
            "\"gw1.example.org\"  :  1",
            "1.2.3.4: 1",
            "1.2.3.4 :1",
            "\"gw1.example.org\" port 65535",
            "gw1.example.org:10000",
            "\"gw1.example.org\" port 0",
            "\"gw1.example.org\" port 65536",
            "\"gw1.example.org\" port 99999999999",
            "\"gw1.example.org\"",
            "1.2.3.4",
            "2001:db8::1:10000",
            "\"gw1.example.org\" port 10000 float",
            "1.2.3.4:0",
            "300.1.1.1:10000",
            "01.2.3.4:10000",
            "1.2.3.04:1",
            "[::ffff:1.2.3.4]:10000",
            "[1:2:3:4:5:6:7:8:9]:1",
            "[:::1]:1",
            "[gg::1]:1",
            "\"h.org\"port 1",
            "[::1]port 1",
            "1.2.3.4port 1",
            "\"h.org\" port1",
            "\"h.org\":port 1",
            "ipv4 [::1]:1",
            "ipv6 1.2.3.4:10000",
            "\"h.org\" PORT 1",
            "\"h.org\" port 1.0",
            "\"h.org\" port -1",
            "\"gw1.example.org\" port 10000 port 1",
        ];
        for remote in remotes {
            assert_eq!(
                parse_fastd_remote(remote).is_ok(),
                verify(remote, &key),
                "{remote}: {:?}",
                parse_fastd_remote(remote)
            );
        }
        // Keys: exactly 64 hex digits, either case.
        let r = "\"h.org\" port 1";
        assert!(verify(r, &key.to_uppercase()));
        assert!(!verify(r, &key[..63]));
        assert!(!verify(r, &format!("{key}00")));
    }

    #[test]
    fn invalid_remotes_name_the_peer_and_point_at_the_value() {
        let site = site(&backbone(
            "limit = 1,",
            &[
                peer(
                    "gw1",
                    &key(1),
                    "'gw1.example.org:10000', '\"gw1.example.org\" port 10000'",
                ),
                peer("gw2", &key(2), &remote("gw2.example.org")),
            ],
        ));
        let found = site.findings(V2023_2, "GV152");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.groups.backbone.peers.gw1.remotes.1")
        );
        assert!(found[0]
            .message
            .contains("`gw1.example.org:10000` of peer `gw1`"));
        assert!(found[0].message.contains("need quotes"));
        let span = found[0].span.expect("span");
        let text = std::fs::read_to_string(site.dir.path().join("site.conf")).expect("read");
        assert_eq!(
            &text[span.start as usize..span.end as usize],
            "'gw1.example.org:10000'"
        );
    }

    #[test]
    fn peers_without_remotes() {
        let found = site(&backbone("", &[peer("gw1", &key(1), "")])).findings(V2025_1, "GV153");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.groups.backbone.peers.gw1.remotes")
        );
    }

    #[test]
    fn limits_above_what_a_group_can_reach() {
        let two = [
            peer("gw1", &key(1), &remote("gw1.example.org")),
            peer("gw2", &key(2), &remote("gw2.example.org")),
        ];
        let found = site(&backbone("limit = 3,", &two)).findings(V2025_1, "GV154");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.groups.backbone.limit")
        );
        assert!(found[0]
            .message
            .contains("limit 3 but can reach only 2 peers"));
        assert!(site(&backbone("limit = 2,", &two))
            .findings(V2025_1, "GV154")
            .is_empty());
        // Subgroups count, with their own limits.
        let nested = format!(
            "top = {{ limit = 2, groups = {{ a = {{ limit = 1, peers = {{ {}, {} }} }} }} }}",
            two[0], two[1]
        );
        let found = site(&nested).findings(V2025_1, "GV154");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0]
            .message
            .contains("1 connection (its subgroups' limits"));
        let nested = format!(
            "top = {{ limit = 2, groups = {{ a = {{ peers = {{ {}, {} }} }} }} }}",
            two[0], two[1]
        );
        assert!(site(&nested).findings(V2025_1, "GV154").is_empty());
    }

    #[test]
    fn limit_zero() {
        let one = [peer("gw1", &key(1), &remote("gw1.example.org"))];
        let found = site(&backbone("limit = 0,", &one)).findings(V2025_1, "GV155");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("nodes never connect"));
        let groups = format!(
            "{}, spare = {{ limit = 0, peers = {{ {} }} }}",
            backbone("limit = 1,", &one),
            peer("gw2", &key(2), &remote("gw2.example.org"))
        );
        let found = site(&groups).findings(V2025_1, "GV155");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.groups.spare.limit")
        );
        assert!(site(&backbone("limit = 1,", &one))
            .findings(V2025_1, "GV155")
            .is_empty());
        // ffdo keeps empty groups with limit 0 as placeholders.
        let groups = format!(
            "{}, do01 = {{ limit = 0, peers = {{}} }}",
            backbone("limit = 1,", &one)
        );
        assert!(site(&groups).findings(V2025_1, "GV155").is_empty());
    }

    #[test]
    fn limits_fastd_cannot_read() {
        let one = [peer("gw1", &key(1), &remote("gw1.example.org"))];
        // 1e10 is beyond json-c's 32-bit integers: Gluon sees -2147483648.
        for (limit, shown) in [("-1", "-1"), ("1.5", "1.5"), ("1e10", "-2147483648")] {
            let found =
                site(&backbone(&format!("limit = {limit},"), &one)).findings(V2025_1, "GV156");
            assert_eq!(found.len(), 1, "{limit}");
            assert!(
                found[0]
                    .message
                    .contains(&format!("has limit {shown}, which fastd cannot read")),
                "{}",
                found[0].message
            );
        }
        assert!(site(&backbone("limit = 1,", &one))
            .findings(V2025_1, "GV156")
            .is_empty());
    }

    #[test]
    fn no_peers_at_all() {
        let found = site("").findings(V2025_1, "GV157");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.groups")
        );
        assert_eq!(
            site(&backbone("limit = 1,", &[]))
                .findings(V2025_1, "GV157")
                .len(),
            1
        );
    }

    #[test]
    fn sites_without_fastd_are_left_alone() {
        let conf = site_conf(&format!(
            "  mesh_vpn = {{ fastd = {{ mtu = 1312, methods = {{ 'salsa2012+umac' }}, groups = {{ {} }} }} }},",
            backbone("limit = 0,", &[peer("gw1", "ab", "'x:1'")])
        ));
        let site = TestSite::new(&conf, &["mesh-batman-adv-15"]);
        assert!(site
            .check(V2025_1)
            .iter()
            .all(|d| !d.code().starts_with("GV15")));
    }
}
