//! gluon-ebtables: whether multicast membership reports are filtered.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "mesh.filter_membership_reports: an optional boolean";

pub fn check(c: &mut Checker<'_>) {
    c.need_boolean(p!["mesh", "filter_membership_reports"], false);
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-ebtables", site, domains)
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
