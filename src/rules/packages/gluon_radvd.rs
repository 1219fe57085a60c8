//! gluon-radvd: the lifetimes of the prefix the node announces.
//!
//! Gluon has this check from v2025.1 on.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "preferred and valid lifetime of announced prefixes (optional numbers)";

pub fn check(c: &mut Checker<'_>) {
    c.need_number(p!["radvd", "preferred_lifetime"], false);
    c.need_number(p!["radvd", "valid_lifetime"], false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::*;
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn radvd(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-radvd", V2025_1, site, &setup))
    }

    #[test]
    fn the_check_exists_from_v2025_1_on() {
        for version in [V2022_1, V2023_1, V2023_2] {
            assert!(
                crate::rules::for_package("gluon-radvd", version).is_none(),
                "{version}"
            );
        }
        assert!(crate::rules::for_package("gluon-radvd", V2025_1).is_some());
    }

    #[test]
    fn lifetimes_are_optional_numbers() {
        assert_eq!(radvd(&minimal_site(""), vec![]), Vec::<String>::new());
        let valid = minimal_site("radvd = { preferred_lifetime = 600, valid_lifetime = 1200 },");
        assert_eq!(radvd(&valid, vec![]), Vec::<String>::new());
        let invalid =
            minimal_site("radvd = { preferred_lifetime = '600', valid_lifetime = true },");
        assert_eq!(
            radvd(&invalid, vec![]),
            [
                "site.conf error: expected radvd.preferred_lifetime to be a number, but it is \"600\" (a string value)",
                "site.conf error: expected radvd.valid_lifetime to be a number, but it is true (a boolean value)",
            ]
        );
    }

    #[test]
    fn domains_may_set_lifetimes() {
        let domain = "{ domain_names = { one = 'One' }, radvd = { valid_lifetime = 'long' } }";
        let site = minimal_site("radvd = { preferred_lifetime = 600 },");
        assert_eq!(
            radvd(&site, vec![("one", domain)]),
            ["domains/one.conf error: expected radvd.valid_lifetime to be a number, but it is \"long\" (a string value)"]
        );
    }
}
