//! gluon-setup-mode: whether a new node skips setup mode, site-wide.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "whether setup mode is skipped on first boot (site-wide, optional)";

pub fn check(c: &mut Checker<'_>) {
    let skip = c.in_site(p!["setup_mode", "skip"]);
    c.need_boolean(skip, false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn setup_mode(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-setup-mode", version, site, &setup))
    }

    #[test]
    fn skip_is_an_optional_boolean() {
        for version in GluonVersion::ALL {
            assert_eq!(
                setup_mode(version, &minimal_site(""), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            let valid = minimal_site("setup_mode = { skip = true },");
            assert_eq!(
                setup_mode(version, &valid, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            let invalid = minimal_site("setup_mode = { skip = 1 },");
            assert_eq!(
                setup_mode(version, &invalid, vec![]),
                ["site.conf error: expected setup_mode.skip to be a boolean, but it is 1 (a number value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn skip_is_site_wide() {
        let domain = "{ domain_names = { one = 'One' }, setup_mode = { skip = true } }";
        assert_eq!(
            setup_mode(V2023_1, &minimal_site(""), vec![("one", domain)]),
            ["domains/one.conf error: setup_mode.skip is allowed in site configuration only"]
        );
        let site = minimal_site("setup_mode = { skip = false },");
        let plain = "{ domain_names = { one = 'One' } }";
        assert_eq!(
            setup_mode(V2023_1, &site, vec![("one", plain)]),
            Vec::<String>::new()
        );
    }
}
