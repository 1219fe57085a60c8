//! gluon-radv-filterd: the threshold for filtering router advertisements.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "the router advertisement filter threshold (optional number)";

pub fn check(c: &mut Checker<'_>) {
    c.need_number(p!["radv_filterd", "threshold"], false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn filterd(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-radv-filterd", version, site, &setup))
    }

    #[test]
    fn the_threshold_is_an_optional_number() {
        for version in GluonVersion::ALL {
            assert_eq!(
                filterd(version, &minimal_site(""), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            let valid = minimal_site("radv_filterd = { threshold = 20 },");
            assert_eq!(
                filterd(version, &valid, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            let invalid = minimal_site("radv_filterd = { threshold = '20' },");
            assert_eq!(
                filterd(version, &invalid, vec![]),
                ["site.conf error: expected radv_filterd.threshold to be a number, but it is \"20\" (a string value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn domains_may_set_the_threshold() {
        let good = "{ domain_names = { good = 'Good' }, radv_filterd = { threshold = 5 } }";
        let bad = "{ domain_names = { bad = 'Bad' }, radv_filterd = { threshold = true } }";
        assert_eq!(
            filterd(V2023_2, &minimal_site(""), vec![("good", good), ("bad", bad)]),
            ["domains/bad.conf error: expected radv_filterd.threshold to be a number, but it is true (a boolean value)"]
        );
    }
}
