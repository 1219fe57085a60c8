//! gluon-ebtables: whether multicast membership reports are filtered.

use crate::p;
use crate::rules::vocabulary::Checker;

pub const SUMMARY: &str = "mesh.filter_membership_reports: an optional boolean";

pub fn check(c: &mut Checker<'_>) {
    c.need_boolean(p!["mesh", "filter_membership_reports"], false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion;
    use crate::rules::testing::{check, messages, Setup};

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        let mut found = None;
        // The check is the same in every release.
        for version in GluonVersion::ALL {
            let here = messages(&check("gluon-ebtables", version, site, &setup));
            if let Some(previous) = &found {
                assert_eq!(&here, previous, "{version}");
            }
            found = Some(here);
        }
        found.unwrap_or_default()
    }

    #[test]
    fn filter_membership_reports_is_an_optional_boolean() {
        assert_eq!(run("{}", Vec::new()), Vec::<String>::new());
        assert_eq!(
            run(
                "{ mesh = { filter_membership_reports = false } }",
                Vec::new()
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{ mesh = { filter_membership_reports = 'no' } }", Vec::new()),
            ["site.conf error: expected mesh.filter_membership_reports to be a boolean, but it is \"no\" (a string value)"]
        );
    }

    #[test]
    fn site_and_domains_may_both_set_it() {
        let site = "{ mesh = { filter_membership_reports = true } }";
        assert_eq!(run(site, vec![("one", "{}")]), Vec::<String>::new());
        assert_eq!(
            run(site, vec![("one", "{ mesh = { filter_membership_reports = 1 } }")]),
            ["domains/one.conf error: expected mesh.filter_membership_reports to be a boolean, but it is 1 (a number value)"]
        );
    }
}
