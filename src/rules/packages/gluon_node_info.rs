//! gluon-node-info: the default node role, which is site-wide.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "the default node role (site-wide, optional)";

pub fn check(c: &mut Checker<'_>) {
    let default = c.in_site(p!["roles", "default"]);
    c.need_string(default, false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn node_info(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-node-info", version, site, &setup))
    }

    #[test]
    fn the_default_role_is_an_optional_string() {
        let valid = minimal_site("roles = { default = 'node' },");
        let invalid = minimal_site("roles = { default = 1 },");
        for version in GluonVersion::ALL {
            assert_eq!(
                node_info(version, &minimal_site(""), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            assert_eq!(
                node_info(version, &valid, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            assert_eq!(
                node_info(version, &invalid, vec![]),
                ["site.conf error: expected roles.default to be a string, but it is 1 (a number value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn the_default_role_is_site_wide() {
        let domain = "{ domain_names = { one = 'One' }, roles = { default = 'backbone' } }";
        assert_eq!(
            node_info(V2025_1, &minimal_site(""), vec![("one", domain)]),
            ["domains/one.conf error: roles.default is allowed in site configuration only"]
        );
        let site = minimal_site("roles = { default = 'node' },");
        let plain = "{ domain_names = { one = 'One' } }";
        assert_eq!(
            node_info(V2022_1, &site, vec![("one", plain)]),
            Vec::<String>::new()
        );
    }
}
