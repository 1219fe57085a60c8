//! gluon-mesh-olsrd (v2023.1 on): extra olsrd2 configuration.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "mesh.olsrd.v2.config: an optional table";

pub fn check(c: &mut Checker<'_>) {
    c.need_table(p!["mesh", "olsrd", "v2", "config"], None, false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, Setup};

    fn run(version: GluonVersion, site: &str) -> Vec<String> {
        messages(&check("gluon-mesh-olsrd", version, site, &Setup::default()))
    }

    #[test]
    fn the_package_is_checked_from_v2023_1_on() {
        assert!(crate::rules::for_package("gluon-mesh-olsrd", V2022_1).is_none());
        for version in [V2023_1, V2023_2, V2025_1] {
            assert!(crate::rules::for_package("gluon-mesh-olsrd", version).is_some());
        }
    }

    #[test]
    fn the_extra_configuration_is_an_optional_table() {
        for version in [V2023_1, V2023_2, V2025_1] {
            assert_eq!(run(version, "{}"), Vec::<String>::new());
            assert_eq!(
                run(
                    version,
                    "{ mesh = { olsrd = { v2 = { config = { a = 1 } } } } }"
                ),
                Vec::<String>::new()
            );
            assert_eq!(
                run(version, "{ mesh = { olsrd = { v2 = { config = 'x' } } } }"),
                ["site.conf error: expected mesh.olsrd.v2.config to be a table, but it is \"x\" (a string value)"]
            );
            assert_eq!(
                run(version, "{ mesh = { olsrd = { v2 = 2 } } }"),
                ["site.conf error: expected mesh.olsrd.v2 to be a table, but it is 2 (a number value)"]
            );
        }
    }
}
