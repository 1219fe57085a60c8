//! gluon-mesh-batman-adv-brmldproxy (v2025.1 on): whether multicast
//! membership reports are filtered.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "mesh.filter_membership_reports: an optional boolean";

pub fn check(c: &mut Checker<'_>) {
    c.need_boolean(p!["mesh", "filter_membership_reports"], false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::*;
    use crate::rules::testing::{check, messages, Setup};

    fn run(site: &str) -> Vec<String> {
        messages(&check(
            "gluon-mesh-batman-adv-brmldproxy",
            V2025_1,
            site,
            &Setup::default(),
        ))
    }

    #[test]
    fn the_package_is_checked_from_v2025_1_on() {
        for version in [V2022_1, V2023_1, V2023_2] {
            assert!(
                crate::rules::for_package("gluon-mesh-batman-adv-brmldproxy", version).is_none()
            );
        }
        assert!(crate::rules::for_package("gluon-mesh-batman-adv-brmldproxy", V2025_1).is_some());
    }

    #[test]
    fn filter_membership_reports_is_an_optional_boolean() {
        assert_eq!(run("{}"), Vec::<String>::new());
        assert_eq!(
            run("{ mesh = { filter_membership_reports = true } }"),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{ mesh = { filter_membership_reports = {} } }"),
            ["site.conf error: expected mesh.filter_membership_reports to be a boolean, but it is {…} (a table value)"]
        );
        assert_eq!(
            run("{ mesh = true }"),
            ["site.conf error: expected mesh to be a table, but it is true (a boolean value)"]
        );
    }
}
