//! gluon-mesh-vpn-fastd: the fastd mesh VPN — its cipher methods, MTU, log
//! level, whether users may configure it, and the tree of peer groups with
//! each peer's key and remotes.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::{Checker, Lit, Path};
use crate::site::value::p;
use crate::site::value::{Key, Node};

pub const SUMMARY: &str =
    "fastd methods, MTU, syslog level, configurability and the peer groups with their peers' keys and remotes";

/// The `mesh_vpn.fastd.methods` Gluon accepts (unchanged v2022.1–v2025.1).
const METHODS: [&str; 4] = ["salsa2012+umac", "null+salsa2012+umac", "null@l2tp", "null"];

const SYSLOG_LEVELS: [&str; 6] = ["error", "warn", "info", "verbose", "debug", "debug2"];

pub fn check(c: &mut Checker<'_>) {
    let methods: Vec<Lit> = METHODS.into_iter().map(Lit::from).collect();
    c.need_array_of(p!["mesh_vpn", "fastd", "methods"], &methods, true);
    let configurable = c.in_site(p!["mesh_vpn", "fastd", "configurable"]);
    c.need_boolean(configurable, false);
    c.need_number(p!["mesh_vpn", "fastd", "mtu"], true);

    let levels: Vec<Lit> = SYSLOG_LEVELS.into_iter().map(Lit::from).collect();
    let syslog_level = c.in_site(p!["mesh_vpn", "fastd", "syslog_level"]);
    c.need_one_of(syslog_level, &levels, false);

    let groups = p!["mesh_vpn", "fastd", "groups"];
    if let Some(node) = c.need_table(groups.clone(), None, true) {
        for (key, group) in node.entries() {
            let path = c.extend(&groups, &[key]);
            check_group(c, path, group);
        }
    }
}

/// One group: a name, an optional connection limit, peers and subgroups.
fn check_group<'a>(c: &mut Checker<'a>, path: Path, group: &'a Node) {
    c.need_alphanumeric_key(&path);

    // When the group is no table, this reports it ("expected <group> to be a
    // table"); the lookups below would only repeat that.
    let limit = c.extend(&path, &[Key::from("limit")]);
    c.need_number(limit, false);
    if !group.is_table() {
        return;
    }

    let peers = c.extend(&path, &[Key::from("peers")]);
    if let Some(node) = c.need_table(peers.clone(), None, false) {
        for (key, peer) in node.entries() {
            let path = c.extend(&peers, &[key]);
            check_peer(c, path, peer);
        }
    }

    let subgroups = c.extend(&path, &[Key::from("groups")]);
    if let Some(node) = c.need_table(subgroups.clone(), None, false) {
        for (key, subgroup) in node.entries() {
            let path = c.extend(&subgroups, &[key]);
            check_group(c, path, subgroup);
        }
    }
}

/// One peer: its public key and remotes, both set per domain.
fn check_peer<'a>(c: &mut Checker<'a>, path: Path, peer: &'a Node) {
    c.need_alphanumeric_key(&path);

    let key = c.extend(&path, &[Key::from("key")]);
    let key = c.in_domain(key);
    // Reports a peer that is no table, once.
    c.need_string_match(key, "^%x+$", true);
    let remotes = c.extend(&path, &[Key::from("remotes")]);
    let remotes = c.in_domain(remotes);
    if peer.is_table() {
        c.need_string_array(remotes, true);
    }
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn key() -> String {
        "ab".repeat(32)
    }

    /// A site whose mesh_vpn.fastd is `{ <fastd> }`.
    fn site(fastd: &str) -> String {
        minimal_site(&format!("mesh_vpn = {{ fastd = {{ {fastd} }} }},"))
    }

    /// The required keys with valid values, plus `extra`.
    fn valid(extra: &str) -> String {
        site(&format!(
            "methods = {{ 'salsa2012+umac' }}, mtu = 1312, {extra}"
        ))
    }

    fn fastd(version: GluonVersion, site: &str) -> Vec<String> {
        messages(&check(
            "gluon-mesh-vpn-fastd",
            version,
            site,
            &Setup::default(),
        ))
    }

    fn sorted(mut found: Vec<String>) -> Vec<String> {
        found.sort();
        found
    }

    fn groups(groups: &str) -> String {
        valid(&format!("groups = {{ {groups} }}"))
    }

    #[test]
    fn a_complete_configuration_passes_everywhere() {
        let site = valid(&format!(
            "configurable = true, syslog_level = 'verbose',
             groups = {{
               backbone = {{
                 limit = 1,
                 peers = {{ peer1 = {{ key = '{k}', remotes = {{ '\"vpn1.example.org\" port 10000', 'ipv6 \"vpn1.example.org\" port 10000' }} }} }},
                 groups = {{ inner = {{ peers = {{ peer_2 = {{ key = '{k}', remotes = {{}} }} }} }} }},
               }},
             }}",
            k = key()
        ));
        for version in GluonVersion::ALL {
            assert_eq!(fastd(version, &site), Vec::<String>::new(), "{version}");
        }
    }

    #[test]
    fn methods_mtu_and_groups_are_required() {
        for version in GluonVersion::ALL {
            assert_eq!(
                fastd(version, &site("")),
                [
                    "site.conf error: expected mesh_vpn.fastd.methods to be an array, but it is unset",
                    "site.conf error: expected mesh_vpn.fastd.mtu to be a number, but it is unset",
                    "site.conf error: expected mesh_vpn.fastd.groups to be a table, but it is unset",
                ],
                "{version}"
            );
        }
    }

    #[test]
    fn methods_are_the_same_four_in_every_release() {
        let all = site("methods = { 'salsa2012+umac', 'null+salsa2012+umac', 'null@l2tp', 'null' }, mtu = 1312, groups = {}");
        let old = site("methods = { 'salsa2012+gmac' }, mtu = 1312, groups = {}");
        for version in GluonVersion::ALL {
            assert_eq!(fastd(version, &all), Vec::<String>::new(), "{version}");
            assert_eq!(
                fastd(version, &old),
                ["site.conf error: expected mesh_vpn.fastd.methods.1 to be one of the given array [\"salsa2012+umac\", \"null+salsa2012+umac\", \"null@l2tp\", \"null\"], but it is \"salsa2012+gmac\" (a string value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn every_bad_method_is_reported() {
        let site = site("methods = { 'null', 'aes128-ctr+umac', 1 }, mtu = 1312, groups = {}");
        assert_eq!(
            fastd(V2025_1, &site),
            [
                "site.conf error: expected mesh_vpn.fastd.methods.2 to be one of the given array [\"salsa2012+umac\", \"null+salsa2012+umac\", \"null@l2tp\", \"null\"], but it is \"aes128-ctr+umac\" (a string value)",
                "site.conf error: expected mesh_vpn.fastd.methods.3 to be one of the given array [\"salsa2012+umac\", \"null+salsa2012+umac\", \"null@l2tp\", \"null\"], but it is 1 (a number value)",
            ]
        );
    }

    #[test]
    fn methods_accept_any_table_as_gluon_does() {
        // need_array takes an object too: its length is 0, so no item is checked.
        let object = site("methods = { fast = 'x' }, mtu = 1312, groups = {}");
        assert_eq!(fastd(V2025_1, &object), Vec::<String>::new());
        let string = site("methods = 'null', mtu = 1312, groups = {}");
        assert_eq!(
            fastd(V2025_1, &string),
            ["site.conf error: expected mesh_vpn.fastd.methods to be an array, but it is \"null\" (a string value)"]
        );
    }

    #[test]
    fn mtu_configurable_and_syslog_level_have_types() {
        let site = site(
            "methods = {}, mtu = '1312', configurable = 1, syslog_level = 'warning', groups = {}",
        );
        assert_eq!(
            fastd(V2022_1, &site),
            [
                "site.conf error: expected mesh_vpn.fastd.configurable to be a boolean, but it is 1 (a number value)",
                "site.conf error: expected mesh_vpn.fastd.mtu to be a number, but it is \"1312\" (a string value)",
                "site.conf error: expected mesh_vpn.fastd.syslog_level to be one of the given array [\"error\", \"warn\", \"info\", \"verbose\", \"debug\", \"debug2\"], but it is \"warning\" (a string value)",
            ]
        );
        for level in ["error", "warn", "info", "verbose", "debug", "debug2"] {
            let site = valid(&format!(
                "syslog_level = '{level}', configurable = false, groups = {{}}"
            ));
            assert_eq!(fastd(V2023_2, &site), Vec::<String>::new(), "{level}");
        }
    }

    #[test]
    fn group_names_must_be_alphanumeric() {
        assert_eq!(
            fastd(V2025_1, &groups("['back-bone'] = {}, ok_1 = {}")),
            ["site.conf error: expected mesh_vpn.fastd.groups.back-bone to have a string key using only alphanumeric characters and underscores, but it is \"back-bone\" (a string value)"]
        );
        // A list of groups has numeric keys, which Gluon rejects ...
        assert_eq!(
            fastd(V2025_1, &groups("{ peers = {} }")),
            ["site.conf error: expected mesh_vpn.fastd.groups.1 to have a string key using only alphanumeric characters and underscores, but it is 1 (a number value)"]
        );
        // ... but in a mixed table the JSON round trip turns 1 into "1".
        assert_eq!(
            fastd(V2025_1, &groups("{ peers = {} }, ok_1 = {}")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_group_that_is_no_table_is_reported_once() {
        assert_eq!(
            fastd(V2025_1, &groups("backbone = 'x'")),
            ["site.conf error: expected mesh_vpn.fastd.groups.backbone to be a table, but it is \"x\" (a string value)"]
        );
    }

    #[test]
    fn limit_is_an_optional_number() {
        assert_eq!(
            fastd(V2025_1, &groups("backbone = { limit = 2 }")),
            Vec::<String>::new()
        );
        assert_eq!(
            fastd(V2025_1, &groups("backbone = { limit = '2' }")),
            ["site.conf error: expected mesh_vpn.fastd.groups.backbone.limit to be a number, but it is \"2\" (a string value)"]
        );
    }

    #[test]
    fn peers_and_subgroups_must_be_tables() {
        let site = groups("backbone = { peers = 'x', groups = 5 }");
        assert_eq!(
            fastd(V2025_1, &site),
            [
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.peers to be a table, but it is \"x\" (a string value)",
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.groups to be a table, but it is 5 (a number value)",
            ]
        );
    }

    #[test]
    fn peers_need_a_hex_key_and_string_remotes() {
        let site = groups(
            "backbone = { peers = { p1 = { key = 'xyz', remotes = { 1, 'vpn' } }, p2 = {} } }",
        );
        // Peers are visited in table order; compare as sets.
        assert_eq!(
            sorted(fastd(V2025_1, &site)),
            [
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.peers.p1.key to match pattern '^%x+$', but it is \"xyz\" (a string value)",
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.peers.p1.remotes.1 to be a string, but it is 1 (a number value)",
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.peers.p2.key to be a string, but it is unset",
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.peers.p2.remotes to be an array, but it is unset",
            ]
        );
    }

    #[test]
    fn a_peer_that_is_no_table_is_reported_once() {
        let site = groups("backbone = { peers = { ['p-1'] = 'x' } }");
        assert_eq!(
            fastd(V2025_1, &site),
            [
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.peers.p-1 to have a string key using only alphanumeric characters and underscores, but it is \"p-1\" (a string value)",
                "site.conf error: expected mesh_vpn.fastd.groups.backbone.peers.p-1 to be a table, but it is \"x\" (a string value)",
            ]
        );
    }

    #[test]
    fn nested_groups_are_checked_to_any_depth() {
        let site = groups("a = { groups = { b = { groups = { ['c.d'] = { peers = { p = { key = 'g', remotes = {} } } } } } } }");
        assert_eq!(
            fastd(V2025_1, &site),
            [
                "site.conf error: expected mesh_vpn.fastd.groups.a.groups.b.groups.c.d to have a string key using only alphanumeric characters and underscores, but it is \"c.d\" (a string value)",
                "site.conf error: expected mesh_vpn.fastd.groups.a.groups.b.groups.c.d.peers.p.key to match pattern '^%x+$', but it is \"g\" (a string value)",
            ]
        );
    }

    #[test]
    fn configurable_and_syslog_level_belong_in_site_conf() {
        let site = valid("groups = {}");
        let domain = "{ domain_names = { one = 'One' }, mesh_vpn = { fastd = { configurable = true, syslog_level = 'info' } } }";
        let setup = Setup {
            domains: vec![("one", domain)],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-mesh-vpn-fastd", V2025_1, &site, &setup)),
            [
                "domains/one.conf error: mesh_vpn.fastd.configurable is allowed in site configuration only",
                "domains/one.conf error: mesh_vpn.fastd.syslog_level is allowed in site configuration only",
            ]
        );
    }

    #[test]
    fn peer_keys_and_remotes_belong_in_domain_files() {
        let k = key();
        let site = groups(&format!(
            "backbone = {{ peers = {{ p1 = {{ key = '{k}', remotes = {{ 'vpn' }} }} }} }}"
        ));
        let domain = "{ domain_names = { one = 'One' } }";
        let setup = Setup {
            domains: vec![("one", domain)],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-mesh-vpn-fastd", V2022_1, &site, &setup)),
            [
                "site.conf error: mesh_vpn.fastd.groups.backbone.peers.p1.key is allowed in domain configuration only",
                "site.conf error: mesh_vpn.fastd.groups.backbone.peers.p1.remotes is allowed in domain configuration only",
            ]
        );
    }

    #[test]
    fn domain_peers_are_checked_and_blamed_on_the_domain_file() {
        let site = valid("groups = {}");
        let good = format!("{{ domain_names = {{ good = 'Good' }}, mesh_vpn = {{ fastd = {{ groups = {{ backbone = {{ peers = {{ p1 = {{ key = '{}', remotes = {{ 'vpn' }} }} }} }} }} }} }} }}", key());
        let bad = "{ domain_names = { bad = 'Bad' }, mesh_vpn = { fastd = { groups = { backbone = { peers = { p1 = { key = 'zz', remotes = { 'vpn' } } } } } } } }";
        let setup = Setup {
            domains: vec![("good", &good), ("bad", bad)],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-mesh-vpn-fastd", V2023_1, &site, &setup)),
            ["domains/bad.conf error: expected mesh_vpn.fastd.groups.backbone.peers.p1.key to match pattern '^%x+$', but it is \"zz\" (a string value)"]
        );
    }

    #[test]
    fn a_missing_required_key_names_both_files() {
        let site = site("methods = {}, mtu = 1312");
        let setup = Setup {
            domains: vec![("one", "{ domain_names = { one = 'One' } }")],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-mesh-vpn-fastd", V2025_1, &site, &setup)),
            ["site.conf / domains/one.conf error: expected mesh_vpn.fastd.groups to be a table, but it is unset"]
        );
    }
}
