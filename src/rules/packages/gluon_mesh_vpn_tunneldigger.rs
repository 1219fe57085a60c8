//! gluon-mesh-vpn-tunneldigger: the Tunneldigger (L2TP) mesh VPN — its
//! brokers, set per domain, and its MTU.
//!
//! The package exists with these checks up to v2023.2; v2025.1 dropped it.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "Tunneldigger brokers (per domain) and MTU";

pub fn check(c: &mut Checker<'_>) {
    let brokers = c.in_domain(p!["mesh_vpn", "tunneldigger", "brokers"]);
    c.need_string_array(brokers, true);
    c.need_number(p!["mesh_vpn", "tunneldigger", "mtu"], true);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    const RELEASES: [GluonVersion; 3] = [V2022_1, V2023_1, V2023_2];

    fn site(tunneldigger: &str) -> String {
        minimal_site(&format!(
            "mesh_vpn = {{ tunneldigger = {{ {tunneldigger} }} }},"
        ))
    }

    fn tunneldigger(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-mesh-vpn-tunneldigger", version, site, &setup))
    }

    #[test]
    fn brokers_and_mtu_pass_where_the_package_exists() {
        let site =
            site("mtu = 1364, brokers = { 'vpn1.example.org:10042', 'vpn2.example.org:10042' }");
        for version in RELEASES {
            assert_eq!(
                tunneldigger(version, &site, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn v2025_1_has_no_tunneldigger() {
        assert!(crate::rules::for_package("gluon-mesh-vpn-tunneldigger", V2025_1).is_none());
    }

    #[test]
    fn brokers_and_mtu_are_required() {
        for version in RELEASES {
            assert_eq!(
                tunneldigger(version, &site(""), vec![]),
                [
                    "site.conf error: expected mesh_vpn.tunneldigger.brokers to be an array, but it is unset",
                    "site.conf error: expected mesh_vpn.tunneldigger.mtu to be a number, but it is unset",
                ],
                "{version}"
            );
        }
    }

    #[test]
    fn brokers_are_strings_and_mtu_a_number() {
        let site = site("mtu = '1364', brokers = { 'vpn1.example.org:10042', 10042 }");
        assert_eq!(
            tunneldigger(V2023_2, &site, vec![]),
            [
                "site.conf error: expected mesh_vpn.tunneldigger.brokers.2 to be a string, but it is 10042 (a number value)",
                "site.conf error: expected mesh_vpn.tunneldigger.mtu to be a number, but it is \"1364\" (a string value)",
            ]
        );
        // An empty list (and, as in Gluon, any table) passes.
        assert_eq!(
            tunneldigger(V2022_1, &site_with("brokers = {}"), vec![]),
            Vec::<String>::new()
        );
        assert_eq!(
            tunneldigger(V2022_1, &site_with("brokers = { a = 'b' }"), vec![]),
            Vec::<String>::new()
        );
        assert_eq!(
            tunneldigger(V2022_1, &site_with("brokers = 'vpn1.example.org:10042'"), vec![]),
            ["site.conf error: expected mesh_vpn.tunneldigger.brokers to be an array, but it is \"vpn1.example.org:10042\" (a string value)"]
        );
    }

    fn site_with(brokers: &str) -> String {
        site(&format!("mtu = 1364, {brokers}"))
    }

    #[test]
    fn brokers_belong_in_domain_files() {
        let domain = "{ domain_names = { one = 'One' } }";
        for version in RELEASES {
            assert_eq!(
                tunneldigger(version, &site_with("brokers = { 'vpn1:1' }"), vec![("one", domain)]),
                ["site.conf error: mesh_vpn.tunneldigger.brokers is allowed in domain configuration only"],
                "{version}"
            );
        }
        let with_brokers = "{ domain_names = { one = 'One' }, mesh_vpn = { tunneldigger = { mtu = 1400, brokers = { 'vpn1:1' } } } }";
        assert_eq!(
            tunneldigger(V2023_1, &site("mtu = 1364"), vec![("one", with_brokers)]),
            Vec::<String>::new()
        );
        assert_eq!(
            tunneldigger(V2023_1, &site("mtu = 1364"), vec![("one", domain)]),
            ["site.conf / domains/one.conf error: expected mesh_vpn.tunneldigger.brokers to be an array, but it is unset"]
        );
    }
}
