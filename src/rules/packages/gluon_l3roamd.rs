//! gluon-l3roamd (v2022.1 only; the package is gone from v2023.1 on): the
//! client prefix l3roamd hands out.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "node_client_prefix6: an optional /64, in domain files only";

pub fn check(c: &mut Checker<'_>) {
    let prefix = c.in_domain(p!["node_client_prefix6"]);
    c.need_string_match(prefix, "^[%x:]+/64$", false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::*;
    use crate::rules::testing::{check, messages, Setup};

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        messages(&check("gluon-l3roamd", V2022_1, site, &setup))
    }

    #[test]
    fn the_package_is_checked_in_v2022_1_only() {
        assert!(crate::rules::for_package("gluon-l3roamd", V2022_1).is_some());
        for version in [V2023_1, V2023_2, V2025_1] {
            assert!(crate::rules::for_package("gluon-l3roamd", version).is_none());
        }
    }

    #[test]
    fn the_client_prefix_is_an_optional_64() {
        assert_eq!(run("{}", Vec::new()), Vec::<String>::new());
        assert_eq!(
            run("{ node_client_prefix6 = 'fd01::/64' }", Vec::new()),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{ node_client_prefix6 = 'fd01::/56' }", Vec::new()),
            ["site.conf error: expected node_client_prefix6 to match pattern '^[%x:]+/64$', but it is \"fd01::/56\" (a string value)"]
        );
    }

    #[test]
    fn the_client_prefix_belongs_in_domain_files() {
        assert_eq!(
            run("{}", vec![("one", "{ node_client_prefix6 = 'fd01::/64' }")]),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{ node_client_prefix6 = 'fd01::/64' }", vec![("one", "{}")]),
            ["site.conf error: node_client_prefix6 is allowed in domain configuration only"]
        );
    }
}
