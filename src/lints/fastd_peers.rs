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
use crate::diagnostics::{CodeInfo, Diagnostic, Origin, Severity};
use crate::site::mesh_vpn::{Fastd, FastdGroup};

const PACKAGE: &str = "gluon-mesh-vpn-fastd";

/// The domains in which the fastd provider is active, with their fastd.
fn fastd_domains<'c, 'a>(context: &'c LintContext<'a>) -> Vec<(&'c DomainView<'a>, &'c Fastd)> {
    if !context.has_package(PACKAGE) {
        return Vec::new();
    }
    context
        .domains
        .iter()
        .filter_map(|view| Some((view, view.mesh_vpn.fastd.as_ref()?)))
        .collect()
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn invalid_key(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, fastd) in fastd_domains(context) {
        for (_, peer) in fastd.all_peers() {
            // Anything but hex digits fails Gluon's own check already.
            let Some(key) = peer.key.as_ref().filter(|k| is_hex(&k.value)) else {
                continue;
            };
            if key.value.len() == 64 {
                continue;
            }
            out.push(context.diagnostic_for(
                &INVALID_FASTD_PEER_KEY.info,
                view,
                &key.at,
                format!(
                    "the key of peer `{}` has {} hex digits, not 64: fastd ignores the peer (\"no valid key configured\"), so nodes never connect to this gateway",
                    peer.name,
                    key.value.len()
                ),
            ));
        }
    }
}

fn duplicate_key(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, fastd) in fastd_domains(context) {
        let mut seen: std::collections::HashMap<String, &str> = Default::default();
        for (_, peer) in fastd.all_peers() {
            let Some(key) = peer
                .key
                .as_ref()
                .filter(|k| k.value.len() == 64 && is_hex(&k.value))
            else {
                continue;
            };
            let normalised = key.value.to_ascii_lowercase();
            match seen.get(&normalised) {
                Some(first) => out.push(context.diagnostic_for(
                    &DUPLICATE_FASTD_PEER_KEY.info,
                    view,
                    &key.at,
                    format!(
                        "peer `{}` has the same key as peer `{first}`: fastd disables both (\"duplicate key used by peers\"), so nodes connect to neither",
                        peer.name
                    ),
                )),
                None => {
                    seen.insert(normalised, &peer.name);
                }
            }
        }
    }
}

fn invalid_remote(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, fastd) in fastd_domains(context) {
        for (_, peer) in fastd.all_peers() {
            let Some(remotes) = &peer.remotes else {
                continue;
            };
            for remote in &remotes.value {
                let Err(problem) = &remote.endpoint else {
                    continue;
                };
                out.push(context.diagnostic_for(
                    &INVALID_FASTD_REMOTE.info,
                    view,
                    &remote.at,
                    format!(
                        "remote `{}` of peer `{}` {problem}; fastd skips the peer file, so nodes never connect to this gateway",
                        remote.text, peer.name
                    ),
                ));
            }
        }
    }
}

fn peer_without_remotes(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, fastd) in fastd_domains(context) {
        for (_, peer) in fastd.all_peers() {
            let Some(remotes) = peer.remotes.as_ref().filter(|r| r.value.is_empty()) else {
                continue;
            };
            out.push(context.diagnostic_for(
                &FASTD_PEER_WITHOUT_REMOTES.info,
                view,
                &remotes.at,
                format!(
                    "peer `{}` has no remotes: nodes never connect to it (gateways do not connect to nodes)",
                    peer.name
                ),
            ));
        }
    }
}

fn limit_exceeds_peers(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, fastd) in fastd_domains(context) {
        for group in fastd.all_groups() {
            let (Some(node), Some(limit)) = (&group.limit, group.peer_limit()) else {
                continue;
            };
            let (reachable, peers) = (group.reachable(), group.peer_count());
            if reachable == 0 || limit <= reachable {
                continue;
            }
            let reach = if reachable == peers {
                format!("{peers} peer{}", plural(peers))
            } else {
                format!(
                    "{reachable} connection{} (its subgroups' limits allow no more)",
                    plural(reachable)
                )
            };
            out.push(context.diagnostic_for(
                &FASTD_GROUP_LIMIT_EXCEEDS_PEERS.info,
                view,
                &node.at,
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

/// How many peers sit in a group with limit 0, or below one.
fn blocked_peers(groups: &[FastdGroup], blocked: bool) -> usize {
    groups
        .iter()
        .map(|g| {
            let blocked = blocked || g.peer_limit() == Some(0);
            let own = if blocked { g.peers.len() } else { 0 };
            own + blocked_peers(&g.groups, blocked)
        })
        .sum()
}

fn limit_zero(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, fastd) in fastd_domains(context) {
        let peers = fastd.all_peers().len();
        let all_blocked = peers > 0 && blocked_peers(&fastd.groups, false) == peers;
        for group in fastd.all_groups() {
            let Some(node) = &group.limit else { continue };
            // An empty placeholder group with limit 0 changes nothing.
            let below = group.peer_count();
            if group.peer_limit() != Some(0) || below == 0 {
                continue;
            }
            let effect = if all_blocked {
                "no peer of this domain is left, so nodes never connect"
            } else {
                "fastd never connects to its peers"
            };
            let mut d = context.diagnostic_for(
                &FASTD_GROUP_LIMIT_ZERO.info,
                view,
                &node.at,
                format!(
                    "group `{}` has limit 0 ({below} peer{} below it): {effect}",
                    group.name,
                    plural(below)
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
    for (view, fastd) in fastd_domains(context) {
        for group in fastd.all_groups() {
            // A limit that is not a number is Gluon's check's to report.
            let Some(node) = &group.limit else { continue };
            if group.peer_limit().is_some() {
                continue;
            }
            let written = crate::site::value::lua_number_to_string(node.value);
            out.push(context.diagnostic_for(
                &INVALID_FASTD_GROUP_LIMIT.info,
                view,
                &node.at,
                format!(
                    "group `{}` has limit {written}, which fastd cannot read (only whole numbers from 0 to 2147483647 are limits): fastd reports a syntax error and does not start, so no node connects",
                    group.name
                ),
            ));
        }
    }
}

fn without_peers(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, fastd) in fastd_domains(context) {
        // Gluon's check requires the groups.
        let Some(groups) = &fastd.groups_at else {
            continue;
        };
        if !fastd.all_peers().is_empty() {
            continue;
        }
        out.push(context.diagnostic_for(
            &FASTD_WITHOUT_PEERS.info,
            view,
            groups,
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
    other_severities: &[],
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
    other_severities: &[],
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
    other_severities: &[],
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
    other_severities: &[],
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
    other_severities: &[],
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
    other_severities: &[(Severity::Error, "when no peer of the domain is left")],
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
    other_severities: &[],
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
    other_severities: &[],
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
