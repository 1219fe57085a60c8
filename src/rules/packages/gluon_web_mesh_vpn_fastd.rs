//! gluon-web-mesh-vpn-fastd: the config mode page for the fastd mesh VPN,
//! which needs the site to declare fastd user-configurable.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "mesh_vpn.fastd.configurable must be true (site-wide)";

pub fn check(c: &mut Checker<'_>) {
    let configurable = c.in_site(p!["mesh_vpn", "fastd", "configurable"]);
    c.need_value(configurable, true, true);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn web_fastd(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-web-mesh-vpn-fastd", version, site, &setup))
    }

    fn configurable(value: &str) -> String {
        minimal_site(&format!(
            "mesh_vpn = {{ fastd = {{ configurable = {value} }} }},"
        ))
    }

    #[test]
    fn configurable_must_be_true() {
        for version in GluonVersion::ALL {
            assert_eq!(
                web_fastd(version, &configurable("true"), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            assert_eq!(
                web_fastd(version, &minimal_site(""), vec![]),
                ["site.conf error: expected mesh_vpn.fastd.configurable to be true, but it is unset"],
                "{version}"
            );
            assert_eq!(
                web_fastd(version, &configurable("false"), vec![]),
                ["site.conf error: expected mesh_vpn.fastd.configurable to be true, but it is false (a boolean value)"],
                "{version}"
            );
            assert_eq!(
                web_fastd(version, &configurable("'true'"), vec![]),
                ["site.conf error: expected mesh_vpn.fastd.configurable to be true, but it is \"true\" (a string value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn configurable_is_site_wide() {
        let domain =
            "{ domain_names = { one = 'One' }, mesh_vpn = { fastd = { configurable = true } } }";
        assert_eq!(
            web_fastd(V2022_1, &minimal_site(""), vec![("one", domain)]),
            ["domains/one.conf error: mesh_vpn.fastd.configurable is allowed in site configuration only"]
        );
        let plain = "{ domain_names = { one = 'One' } }";
        assert_eq!(
            web_fastd(V2022_1, &configurable("true"), vec![("one", plain)]),
            Vec::<String>::new()
        );
        assert_eq!(
            web_fastd(V2022_1, &minimal_site(""), vec![("one", plain)]),
            ["site.conf / domains/one.conf error: expected mesh_vpn.fastd.configurable to be true, but it is unset"]
        );
    }
}
