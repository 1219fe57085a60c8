//! gluon-mesh-babel (up to v2023.2; gone in v2025.1): the node and client
//! prefixes, the next-node addresses and VXLAN meshing, which babel needs.

use crate::gluon_version::GluonVersion::*;
use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str =
    "node_prefix6, node_client_prefix6 (v2022.1 only), next_node ip6/ip4/mac \
     and mesh.vxlan (must be true), in domain files only";

/// A unicast, locally or globally administered MAC address.
const MAC: &str = "^%x[02468aAcCeE]:%x%x:%x%x:%x%x:%x%x:%x%x$";

pub fn check(c: &mut Checker<'_>) {
    let node_prefix = c.in_domain(p!["node_prefix6"]);
    c.need_string_match(node_prefix, "^[%x:]+/64$", true);
    if c.version() == V2022_1 {
        let client_prefix = c.in_domain(p!["node_client_prefix6"]);
        c.need_string_match(client_prefix, "^[%x:]+/64$", true);
    }

    let ip6 = c.in_domain(p!["next_node", "ip6"]);
    c.need_string_match(ip6, "^[%x:]+$", false);
    let ip4 = c.in_domain(p!["next_node", "ip4"]);
    c.need_string_match(ip4, "^%d+.%d+.%d+.%d+$", false);
    let mac = c.in_domain(p!["next_node", "mac"]);
    c.need_string_match(mac, MAC, false);

    let vxlan = c.in_domain(p!["mesh", "vxlan"]);
    c.need_value(vxlan, true, false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};

    fn run(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run("gluon-mesh-babel", version, site, domains)
    }

    const PREFIXES: &str = "node_prefix6 = 'fd02::/64', node_client_prefix6 = 'fd01::/64'";

    #[test]
    fn the_package_is_gone_in_v2025_1() {
        assert!(crate::rules::for_package("gluon-mesh-babel", V2025_1).is_none());
    }

    #[test]
    fn a_valid_site_passes() {
        let site = format!(
            "{{ {PREFIXES}, mesh = {{ vxlan = true }},
                next_node = {{ ip6 = 'fd01::1', ip4 = '10.0.0.1', mac = '16:41:95:40:f7:dc' }} }}"
        );
        for version in [V2022_1, V2023_1, V2023_2] {
            assert_eq!(
                run(version, &site, Vec::new()),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn the_client_prefix_is_required_in_v2022_1_only() {
        assert_eq!(
            run(V2022_1, "{}", Vec::new()),
            [
                "site.conf error: expected node_prefix6 to be a string, but it is unset",
                "site.conf error: expected node_client_prefix6 to be a string, but it is unset",
            ]
        );
        for version in [V2023_1, V2023_2] {
            assert_eq!(
                run(version, "{ node_client_prefix6 = 5 }", Vec::new()),
                ["site.conf error: expected node_prefix6 to be a string, but it is unset"],
                "{version}"
            );
        }
    }

    #[test]
    fn next_node_and_vxlan_are_checked() {
        let site = format!(
            "{{ {PREFIXES}, mesh = {{ vxlan = false }},
                next_node = {{ ip6 = 'fd01::1/64', ip4 = '10.0.1', mac = 'ff:ff:ff:ff:ff:ff' }} }}"
        );
        for version in [V2022_1, V2023_1, V2023_2] {
            assert_eq!(
                run(version, &site, Vec::new()),
                [
                    "site.conf error: expected next_node.ip6 to match pattern '^[%x:]+$', but it is \"fd01::1/64\" (a string value)",
                    "site.conf error: expected next_node.ip4 to match pattern '^%d+.%d+.%d+.%d+$', but it is \"10.0.1\" (a string value)",
                    "site.conf error: expected next_node.mac to match pattern '^%x[02468aAcCeE]:%x%x:%x%x:%x%x:%x%x:%x%x$', but it is \"ff:ff:ff:ff:ff:ff\" (a string value)",
                    "site.conf error: expected mesh.vxlan to be true, but it is false (a boolean value)",
                ],
                "{version}"
            );
        }
        // mesh.vxlan is optional
        assert_eq!(
            run(V2023_2, &format!("{{ {PREFIXES} }}"), Vec::new()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn everything_belongs_in_domain_files() {
        let site = format!(
            "{{ {PREFIXES}, mesh = {{ vxlan = true }}, next_node = {{ ip4 = '10.0.0.1' }} }}"
        );
        assert_eq!(
            run(V2022_1, &site, vec![("one", "{}")]),
            [
                "site.conf error: node_prefix6 is allowed in domain configuration only",
                "site.conf error: node_client_prefix6 is allowed in domain configuration only",
                "site.conf error: next_node.ip4 is allowed in domain configuration only",
                "site.conf error: mesh.vxlan is allowed in domain configuration only",
            ]
        );
        let domain = format!("{{ {PREFIXES}, mesh = {{ vxlan = 1 }} }}");
        assert_eq!(
            run(V2023_1, "{}", vec![("one", &domain)]),
            ["domains/one.conf error: expected mesh.vxlan to be true, but it is 1 (a number value)"]
        );
    }
}
