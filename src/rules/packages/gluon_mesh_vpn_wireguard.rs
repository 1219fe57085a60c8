//! gluon-mesh-vpn-wireguard: the WireGuard mesh VPN — its MTU and peers, each
//! with a public key and an endpoint set per domain.
//!
//! From v2025.1 on, an image with WireGuard rejects `mesh_vpn.pubkey_privacy`
//! wherever it is set, site.conf or a domain file (gluon-mesh-vpn-core stops
//! keeping that key to site.conf in the same release).

use crate::gluon_version::GluonVersion::*;
use crate::rules::vocabulary::{Checker, Path};
use crate::site::value::p;
use crate::site::value::{Key, Node};

pub const SUMMARY: &str =
    "WireGuard MTU and peers (public key, endpoint); from v2025.1 mesh_vpn.pubkey_privacy is obsolete";

pub fn check(c: &mut Checker<'_>) {
    let peers = p!["mesh_vpn", "wireguard", "peers"];
    if let Some(node) = c.need_table(peers.clone(), None, true) {
        for (key, peer) in node.entries() {
            let path = c.extend(&peers, &[key]);
            check_peer(c, path, peer);
        }
    }
    c.need_number(p!["mesh_vpn", "wireguard", "mtu"], true);

    if c.version() >= V2025_1 {
        c.obsolete(
            p!["mesh_vpn", "pubkey_privacy"],
            Some("WireGuard inherently doesn't leak the pubkey to third parties upon initiating connections."),
        );
    }
}

/// A WireGuard public key: 32 bytes in base64, 44 characters ending in `=`
/// (the last character before it carries only 4 bits, hence its short list).
fn public_key_pattern() -> String {
    format!("^{}[AEIMQUYcgkosw480]=$", "[%a%d+/]".repeat(42))
}

fn check_peer<'a>(c: &mut Checker<'a>, path: Path, peer: &'a Node) {
    c.need_alphanumeric_key(&path);

    let public_key = c.extend(&path, &[Key::from("public_key")]);
    let public_key = c.in_domain(public_key);
    // Reports a peer that is no table, once.
    c.need_string_match(public_key, &public_key_pattern(), true);
    let endpoint = c.extend(&path, &[Key::from("endpoint")]);
    let endpoint = c.in_domain(endpoint);
    if peer.is_table() {
        c.need_string(endpoint, true);
    }
}

#[cfg(test)]
mod tests {
    use super::public_key_pattern;
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    const KEY: &str = "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=";

    fn site(wireguard: &str, extra: &str) -> String {
        minimal_site(&format!(
            "mesh_vpn = {{ {extra} wireguard = {{ {wireguard} }} }},"
        ))
    }

    fn peers(peers: &str) -> String {
        site(&format!("mtu = 1406, peers = {{ {peers} }}"), "")
    }

    fn wireguard(version: GluonVersion, site: &str) -> Vec<String> {
        messages(&check(
            "gluon-mesh-vpn-wireguard",
            version,
            site,
            &Setup::default(),
        ))
    }

    fn key_error(path: &str, found: &str) -> String {
        format!(
            "site.conf error: expected {path} to match pattern '{}', but it is {found}",
            public_key_pattern()
        )
    }

    #[test]
    fn a_complete_configuration_passes_everywhere() {
        let site = peers(&format!(
            "gw1 = {{ public_key = '{KEY}', endpoint = 'gw1.example.org:51820' }}, gw_2 = {{ public_key = '{KEY}', endpoint = '[2001:db8::1]:51820' }}"
        ));
        for version in GluonVersion::ALL {
            assert_eq!(wireguard(version, &site), Vec::<String>::new(), "{version}");
        }
    }

    #[test]
    fn peers_and_mtu_are_required() {
        for version in GluonVersion::ALL {
            assert_eq!(
                wireguard(version, &site("", "")),
                [
                    "site.conf error: expected mesh_vpn.wireguard.peers to be a table, but it is unset",
                    "site.conf error: expected mesh_vpn.wireguard.mtu to be a number, but it is unset",
                ],
                "{version}"
            );
        }
        assert_eq!(
            wireguard(V2025_1, &site("mtu = '1406', peers = 'gw1'", "")),
            [
                "site.conf error: expected mesh_vpn.wireguard.peers to be a table, but it is \"gw1\" (a string value)",
                "site.conf error: expected mesh_vpn.wireguard.mtu to be a number, but it is \"1406\" (a string value)",
            ]
        );
    }

    #[test]
    fn public_keys_must_look_like_wireguard_keys() {
        // 43 base64 characters, the last one of the 16 that leave the low
        // bits zero, then "=".
        let pattern = public_key_pattern();
        assert!(pattern.starts_with("^[%a%d+/][%a%d+/]"));
        assert!(pattern.ends_with("[%a%d+/][AEIMQUYcgkosw480]=$"));
        assert_eq!(pattern.matches("[%a%d+/]").count(), 42);

        let almost = "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2h=";
        let short = "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2=";
        let site = peers(&format!(
            "a = {{ public_key = '{almost}', endpoint = 'x:1' }}, b = {{ public_key = '{short}', endpoint = 'x:1' }}, c = {{ public_key = 5, endpoint = 'x:1' }}"
        ));
        let mut found = wireguard(V2023_2, &site);
        found.sort();
        assert_eq!(
            found,
            [
                key_error("mesh_vpn.wireguard.peers.a.public_key", &format!("\"{almost}\" (a string value)")),
                key_error("mesh_vpn.wireguard.peers.b.public_key", &format!("\"{short}\" (a string value)")),
                "site.conf error: expected mesh_vpn.wireguard.peers.c.public_key to be a string, but it is 5 (a number value)".to_string(),
            ]
        );
    }

    #[test]
    fn endpoints_are_required_strings() {
        let site = peers(&format!("gw1 = {{ public_key = '{KEY}' }}"));
        assert_eq!(
            wireguard(V2022_1, &site),
            ["site.conf error: expected mesh_vpn.wireguard.peers.gw1.endpoint to be a string, but it is unset"]
        );
        let site = peers(&format!(
            "gw1 = {{ public_key = '{KEY}', endpoint = 51820 }}"
        ));
        assert_eq!(
            wireguard(V2025_1, &site),
            ["site.conf error: expected mesh_vpn.wireguard.peers.gw1.endpoint to be a string, but it is 51820 (a number value)"]
        );
    }

    #[test]
    fn peer_names_must_be_alphanumeric_and_peers_tables() {
        assert_eq!(
            wireguard(V2025_1, &peers("['gw.1'] = 7")),
            [
                "site.conf error: expected mesh_vpn.wireguard.peers.gw.1 to have a string key using only alphanumeric characters and underscores, but it is \"gw.1\" (a string value)",
                "site.conf error: expected mesh_vpn.wireguard.peers.gw.1 to be a table, but it is 7 (a number value)",
            ]
        );
    }

    #[test]
    fn pubkey_privacy_is_obsolete_from_v2025_1_on() {
        let peers =
            format!("mtu = 1406, peers = {{ gw1 = {{ public_key = '{KEY}', endpoint = 'x:1' }} }}");
        // Any value counts, false as well.
        for value in ["true", "false"] {
            let site = site(&peers, &format!("pubkey_privacy = {value},"));
            for version in [V2022_1, V2023_1, V2023_2] {
                assert_eq!(wireguard(version, &site), Vec::<String>::new(), "{version}");
            }
            assert_eq!(
                wireguard(V2025_1, &site),
                ["site.conf error: mesh_vpn.pubkey_privacy is obsolete. WireGuard inherently doesn't leak the pubkey to third parties upon initiating connections."]
            );
        }
    }

    #[test]
    fn pubkey_privacy_in_a_domain_file_is_blamed_on_it() {
        let site = site("mtu = 1406, peers = {}", "");
        let setup = Setup {
            domains: vec![
                (
                    "one",
                    "{ domain_names = { one = 'One' }, mesh_vpn = { pubkey_privacy = true } }",
                ),
                ("two", "{ domain_names = { two = 'Two' } }"),
            ],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-mesh-vpn-wireguard", V2025_1, &site, &setup)),
            ["domains/one.conf error: mesh_vpn.pubkey_privacy is obsolete. WireGuard inherently doesn't leak the pubkey to third parties upon initiating connections."]
        );
        assert!(messages(&check("gluon-mesh-vpn-wireguard", V2023_2, &site, &setup)).is_empty());
    }

    #[test]
    fn peer_keys_and_endpoints_belong_in_domain_files() {
        let in_site = peers(&format!(
            "gw1 = {{ public_key = '{KEY}', endpoint = 'x:1' }}"
        ));
        let setup = Setup {
            domains: vec![("one", "{ domain_names = { one = 'One' } }")],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-mesh-vpn-wireguard", V2023_1, &in_site, &setup)),
            [
                "site.conf error: mesh_vpn.wireguard.peers.gw1.public_key is allowed in domain configuration only",
                "site.conf error: mesh_vpn.wireguard.peers.gw1.endpoint is allowed in domain configuration only",
            ]
        );

        let site = site("mtu = 1406", "");
        let domain = "{ domain_names = { one = 'One' }, mesh_vpn = { wireguard = { peers = { gw1 = { public_key = 'nope', endpoint = 'x:1' } } } } }";
        let setup = Setup {
            domains: vec![("one", domain)],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-mesh-vpn-wireguard", V2025_1, &site, &setup)),
            [key_error(
                "mesh_vpn.wireguard.peers.gw1.public_key",
                "\"nope\" (a string value)"
            )
            .replace("site.conf error", "domains/one.conf error")]
        );
    }
}
