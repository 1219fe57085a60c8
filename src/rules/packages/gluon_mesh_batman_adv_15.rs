//! gluon-mesh-batman-adv-15 (its check_site.lua lives in
//! package/gluon-mesh-batman-adv): VXLAN meshing, the gateway selection
//! class and the routing algorithm.

use crate::rules::vocabulary::{Checker, Lit};
use crate::site::value::p;

pub const SUMMARY: &str = "mesh.vxlan (required without domains, domain files only), \
     mesh.batman_adv.gw_sel_class and mesh.batman_adv.routing_algo (BATMAN_IV or BATMAN_V)";

pub fn check(c: &mut Checker<'_>) {
    // Required in a single-domain site; optional with domains.
    let single_domain = c.this_domain().is_none();
    let vxlan = c.in_domain(p!["mesh", "vxlan"]);
    c.need_boolean(vxlan, single_domain);

    c.need_number(p!["mesh", "batman_adv", "gw_sel_class"], false);
    let algorithms = [Lit::from("BATMAN_IV"), Lit::from("BATMAN_V")];
    c.need_one_of(p!["mesh", "batman_adv", "routing_algo"], &algorithms, true);
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-mesh-batman-adv-15", site, domains)
    }

    #[test]
    fn a_single_domain_site_needs_vxlan_and_an_algorithm() {
        assert_eq!(
            run("{}", Vec::new()),
            [
                "site.conf error: expected mesh.vxlan to be a boolean, but it is unset",
                "site.conf error: expected mesh.batman_adv.routing_algo to be one of the given array [\"BATMAN_IV\", \"BATMAN_V\"], but it is unset",
            ]
        );
        let site = "{ mesh = { vxlan = false, batman_adv = { routing_algo = 'BATMAN_V', gw_sel_class = 20 } } }";
        assert_eq!(run(site, Vec::new()), Vec::<String>::new());
    }

    #[test]
    fn values_are_checked() {
        let site = "{ mesh = { vxlan = 'yes', batman_adv = { routing_algo = 'BATMAN_III', gw_sel_class = '20' } } }";
        assert_eq!(
            run(site, Vec::new()),
            [
                "site.conf error: expected mesh.vxlan to be a boolean, but it is \"yes\" (a string value)",
                "site.conf error: expected mesh.batman_adv.gw_sel_class to be a number, but it is \"20\" (a string value)",
                "site.conf error: expected mesh.batman_adv.routing_algo to be one of the given array [\"BATMAN_IV\", \"BATMAN_V\"], but it is \"BATMAN_III\" (a string value)",
            ]
        );
    }

    #[test]
    fn with_domains_vxlan_is_optional_and_domain_only() {
        let site = "{ mesh = { batman_adv = { routing_algo = 'BATMAN_IV' } } }";
        assert_eq!(
            run(
                site,
                vec![("one", "{}"), ("two", "{ mesh = { vxlan = true } }")]
            ),
            Vec::<String>::new()
        );
        let site = "{ mesh = { vxlan = false, batman_adv = { routing_algo = 'BATMAN_IV' } } }";
        assert_eq!(
            run(site, vec![("one", "{}")]),
            ["site.conf error: mesh.vxlan is allowed in domain configuration only"]
        );
        // the algorithm may be chosen per domain
        assert_eq!(
            run("{}", vec![("one", "{ mesh = { batman_adv = { routing_algo = 'BATMAN_V' } } }"), ("two", "{}")]),
            ["site.conf / domains/two.conf error: expected mesh.batman_adv.routing_algo to be one of the given array [\"BATMAN_IV\", \"BATMAN_V\"], but it is unset"]
        );
    }
}
