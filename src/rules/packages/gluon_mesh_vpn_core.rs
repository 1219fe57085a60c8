//! gluon-mesh-vpn-core: whether the mesh VPN is on by default, whether its
//! public key is kept private, and the default bandwidth limit.
//!
//! Everything here is site-wide, except `mesh_vpn.pubkey_privacy`, which
//! domain files may set from v2025.1 on.

use crate::gluon_version::GluonVersion::*;
use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str =
    "mesh VPN default state, public key privacy and bandwidth limit (site-wide; pubkey_privacy per domain from v2025.1)";

pub fn check(c: &mut Checker<'_>) {
    let enabled = c.in_site(p!["mesh_vpn", "enabled"]);
    c.need_boolean(enabled, false);

    let pubkey_privacy = if c.version() >= V2025_1 {
        p!["mesh_vpn", "pubkey_privacy"]
    } else {
        c.in_site(p!["mesh_vpn", "pubkey_privacy"])
    };
    c.need_boolean(pubkey_privacy, false);

    let limit_enabled = c.in_site(p!["mesh_vpn", "bandwidth_limit", "enabled"]);
    c.need_boolean(limit_enabled, false);
    let ingress = c.in_site(p!["mesh_vpn", "bandwidth_limit", "ingress"]);
    c.need_number(ingress, false);
    let egress = c.in_site(p!["mesh_vpn", "bandwidth_limit", "egress"]);
    c.need_number(egress, false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn core(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        let mut found = messages(&check("gluon-mesh-vpn-core", version, site, &setup));
        // Identical findings are merged into one when reported.
        found.dedup();
        found
    }

    fn site(mesh_vpn: &str) -> String {
        minimal_site(&format!("mesh_vpn = {{ {mesh_vpn} }},"))
    }

    #[test]
    fn everything_is_optional() {
        for version in GluonVersion::ALL {
            assert_eq!(
                core(version, &minimal_site(""), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            assert_eq!(
                core(version, &site(""), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn valid_values_pass_everywhere() {
        let site = site(
            "enabled = true, pubkey_privacy = false, bandwidth_limit = { enabled = false, ingress = 55000, egress = 1500.5 }",
        );
        for version in GluonVersion::ALL {
            assert_eq!(
                core(version, &site, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn wrong_types_are_all_reported() {
        let site = site("enabled = 1, pubkey_privacy = 'yes', bandwidth_limit = { enabled = 'no', ingress = '1', egress = true }");
        for version in GluonVersion::ALL {
            assert_eq!(
                core(version, &site, vec![]),
                [
                    "site.conf error: expected mesh_vpn.enabled to be a boolean, but it is 1 (a number value)",
                    "site.conf error: expected mesh_vpn.pubkey_privacy to be a boolean, but it is \"yes\" (a string value)",
                    "site.conf error: expected mesh_vpn.bandwidth_limit.enabled to be a boolean, but it is \"no\" (a string value)",
                    "site.conf error: expected mesh_vpn.bandwidth_limit.ingress to be a number, but it is \"1\" (a string value)",
                    "site.conf error: expected mesh_vpn.bandwidth_limit.egress to be a number, but it is true (a boolean value)",
                ],
                "{version}"
            );
        }
    }

    #[test]
    fn a_mesh_vpn_that_is_no_table_is_one_finding() {
        assert_eq!(
            core(V2025_1, &minimal_site("mesh_vpn = 5,"), vec![]),
            ["site.conf error: expected mesh_vpn to be a table, but it is 5 (a number value)"]
        );
        assert_eq!(
            core(V2022_1, &site("bandwidth_limit = true"), vec![]),
            ["site.conf error: expected mesh_vpn.bandwidth_limit to be a table, but it is true (a boolean value)"]
        );
    }

    #[test]
    fn vpn_state_and_bandwidth_limit_are_site_wide() {
        let domain = "{ domain_names = { one = 'One' }, mesh_vpn = { enabled = true, bandwidth_limit = { enabled = true, ingress = 1, egress = 2 } } }";
        for version in GluonVersion::ALL {
            assert_eq!(
                core(version, &minimal_site(""), vec![("one", domain)]),
                [
                    "domains/one.conf error: mesh_vpn.enabled is allowed in site configuration only",
                    "domains/one.conf error: mesh_vpn.bandwidth_limit.enabled is allowed in site configuration only",
                    "domains/one.conf error: mesh_vpn.bandwidth_limit.ingress is allowed in site configuration only",
                    "domains/one.conf error: mesh_vpn.bandwidth_limit.egress is allowed in site configuration only",
                ],
                "{version}"
            );
        }
    }

    #[test]
    fn domains_may_set_pubkey_privacy_from_v2025_1_on() {
        let domain = "{ domain_names = { one = 'One' }, mesh_vpn = { pubkey_privacy = true } }";
        for version in [V2022_1, V2023_1, V2023_2] {
            assert_eq!(
                core(version, &minimal_site(""), vec![("one", domain)]),
                ["domains/one.conf error: mesh_vpn.pubkey_privacy is allowed in site configuration only"],
                "{version}"
            );
        }
        assert_eq!(
            core(V2025_1, &minimal_site(""), vec![("one", domain)]),
            Vec::<String>::new()
        );

        let bad = "{ domain_names = { one = 'One' }, mesh_vpn = { pubkey_privacy = 5 } }";
        assert_eq!(
            core(V2025_1, &minimal_site(""), vec![("one", bad)]),
            ["domains/one.conf error: expected mesh_vpn.pubkey_privacy to be a boolean, but it is 5 (a number value)"]
        );
    }

    #[test]
    fn site_wide_values_pass_in_multidomain_sites() {
        let site = site("enabled = false, pubkey_privacy = true, bandwidth_limit = { enabled = false, ingress = 1, egress = 2 }");
        let domain = "{ domain_names = { one = 'One' } }";
        for version in GluonVersion::ALL {
            assert_eq!(
                core(version, &site, vec![("one", domain)]),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }
}
