//! gluon-web-admin: the remote-login password form of config mode, site-wide.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str =
    "config mode's password form and minimum password length (site-wide, optional)";

pub fn check(c: &mut Checker<'_>) {
    let show = c.in_site(p!["config_mode", "remote_login", "show_password_form"]);
    c.need_boolean(show, false);
    let min_length = c.in_site(p!["config_mode", "remote_login", "min_password_length"]);
    c.need_number(min_length, false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn admin(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-web-admin", version, site, &setup))
    }

    #[test]
    fn both_keys_are_optional_and_typed() {
        let valid = minimal_site(
            "config_mode = { remote_login = { show_password_form = true, min_password_length = 12 } },",
        );
        let invalid = minimal_site(
            "config_mode = { remote_login = { show_password_form = 1, min_password_length = '12' } },",
        );
        for version in GluonVersion::ALL {
            assert_eq!(
                admin(version, &minimal_site(""), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            assert_eq!(
                admin(version, &valid, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            assert_eq!(
                admin(version, &invalid, vec![]),
                [
                    "site.conf error: expected config_mode.remote_login.show_password_form to be a boolean, but it is 1 (a number value)",
                    "site.conf error: expected config_mode.remote_login.min_password_length to be a number, but it is \"12\" (a string value)",
                ],
                "{version}"
            );
        }
    }

    #[test]
    fn both_keys_are_site_wide() {
        let domain = "{ domain_names = { one = 'One' }, config_mode = { remote_login = { show_password_form = true, min_password_length = 12 } } }";
        assert_eq!(
            admin(V2025_1, &minimal_site(""), vec![("one", domain)]),
            [
                "domains/one.conf error: config_mode.remote_login.show_password_form is allowed in site configuration only",
                "domains/one.conf error: config_mode.remote_login.min_password_length is allowed in site configuration only",
            ]
        );
    }
}
