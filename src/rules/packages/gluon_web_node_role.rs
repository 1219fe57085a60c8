//! gluon-web-node-role: the config mode page for choosing a node role, which
//! needs a default role and the list of roles, both site-wide.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "the default node role and the list of roles (site-wide, required)";

pub fn check(c: &mut Checker<'_>) {
    let default = c.in_site(p!["roles", "default"]);
    c.need_string(default, true);
    let list = c.in_site(p!["roles", "list"]);
    c.need_string_array(list, true);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn node_role(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-web-node-role", version, site, &setup))
    }

    #[test]
    fn default_and_list_are_required() {
        for version in GluonVersion::ALL {
            assert_eq!(
                node_role(version, &minimal_site(""), vec![]),
                [
                    "site.conf error: expected roles.default to be a string, but it is unset",
                    "site.conf error: expected roles.list to be an array, but it is unset",
                ],
                "{version}"
            );
            let valid = minimal_site(
                "roles = { default = 'node', list = { 'node', 'test', 'backbone' } },",
            );
            assert_eq!(
                node_role(version, &valid, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn roles_are_strings() {
        let site = minimal_site("roles = { default = 1, list = { 'node', 2 } },");
        assert_eq!(
            node_role(V2023_2, &site, vec![]),
            [
                "site.conf error: expected roles.default to be a string, but it is 1 (a number value)",
                "site.conf error: expected roles.list.2 to be a string, but it is 2 (a number value)",
            ]
        );
        // Gluon does not require the default to be one of the listed roles.
        let unlisted = minimal_site("roles = { default = 'gateway', list = {} },");
        assert_eq!(node_role(V2025_1, &unlisted, vec![]), Vec::<String>::new());
    }

    #[test]
    fn roles_are_site_wide() {
        let site = minimal_site("roles = { default = 'node', list = { 'node' } },");
        let domain =
            "{ domain_names = { one = 'One' }, roles = { default = 'test', list = { 'test' } } }";
        assert_eq!(
            node_role(V2025_1, &site, vec![("one", domain)]),
            [
                "domains/one.conf error: roles.default is allowed in site configuration only",
                "domains/one.conf error: roles.list is allowed in site configuration only",
            ]
        );
    }
}
