//! gluon-mesh-layer3-common: the prefixes of layer 3 meshes.

use crate::gluon_version::GluonVersion::*;
use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "node_prefix6 (required /64) and, in v2023.1 and v2023.2 only, \
     node_client_prefix6 (optional /64), in domain files only";

pub fn check(c: &mut Checker<'_>) {
    let node_prefix = c.in_domain(p!["node_prefix6"]);
    c.need_string_match(node_prefix, "^[%x:]+/64$", true);
    if (V2023_1..=V2023_2).contains(&c.version()) {
        let client_prefix = c.in_domain(p!["node_client_prefix6"]);
        c.need_string_match(client_prefix, "^[%x:]+/64$", false);
    }
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};

    fn run(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run("gluon-mesh-layer3-common", version, site, domains)
    }

    #[test]
    fn the_node_prefix_is_a_required_64() {
        for version in GluonVersion::ALL {
            assert_eq!(
                run(version, "{}", Vec::new()),
                ["site.conf error: expected node_prefix6 to be a string, but it is unset"],
                "{version}"
            );
            assert_eq!(
                run(version, "{ node_prefix6 = 'fd02::/48' }", Vec::new()),
                ["site.conf error: expected node_prefix6 to match pattern '^[%x:]+/64$', but it is \"fd02::/48\" (a string value)"],
                "{version}"
            );
            assert_eq!(
                run(version, "{ node_prefix6 = 'fd02::/64' }", Vec::new()),
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn the_client_prefix_is_checked_in_v2023_1_and_v2023_2_only() {
        let site = "{ node_prefix6 = 'fd02::/64', node_client_prefix6 = 'fd01::/56' }";
        for version in [V2023_1, V2023_2] {
            assert_eq!(
                run(version, site, Vec::new()),
                ["site.conf error: expected node_client_prefix6 to match pattern '^[%x:]+/64$', but it is \"fd01::/56\" (a string value)"],
                "{version}"
            );
            assert_eq!(
                run(
                    version,
                    "{ node_prefix6 = 'fd02::/64', node_client_prefix6 = 'fd01::/64' }",
                    Vec::new()
                ),
                Vec::<String>::new()
            );
        }
        for version in [V2022_1, V2025_1] {
            assert_eq!(
                run(version, site, Vec::new()),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn the_prefixes_belong_in_domain_files() {
        let site = "{ node_prefix6 = 'fd02::/64', node_client_prefix6 = 'fd01::/64' }";
        assert_eq!(
            run(V2023_2, site, vec![("one", "{}")]),
            [
                "site.conf error: node_prefix6 is allowed in domain configuration only",
                "site.conf error: node_client_prefix6 is allowed in domain configuration only",
            ]
        );
        assert_eq!(
            run(V2025_1, site, vec![("one", "{}")]),
            ["site.conf error: node_prefix6 is allowed in domain configuration only"]
        );
        assert_eq!(
            run(V2025_1, "{}", vec![("one", "{ node_prefix6 = 'fd02::/64' }"), ("two", "{}")]),
            ["site.conf / domains/two.conf error: expected node_prefix6 to be a string, but it is unset"]
        );
    }
}
