//! gluon-config-mode-hostname: whether the hostname may be left empty and
//! whether the config mode prefills it.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str =
    "config_mode.hostname.optional and .prefill: optional booleans, in site.conf only";

pub fn check(c: &mut Checker<'_>) {
    for key in ["optional", "prefill"] {
        let path = c.in_site(p!["config_mode", "hostname", key]);
        c.need_boolean(path, false);
    }
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-config-mode-hostname", site, domains)
    }

    #[test]
    fn both_settings_are_optional_booleans() {
        assert_eq!(run("{}", Vec::new()), Vec::<String>::new());
        assert_eq!(
            run(
                "{ config_mode = { hostname = { optional = false, prefill = true } } }",
                Vec::new()
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{ config_mode = { hostname = { optional = 0, prefill = 'yes' } } }", Vec::new()),
            [
                "site.conf error: expected config_mode.hostname.optional to be a boolean, but it is 0 (a number value)",
                "site.conf error: expected config_mode.hostname.prefill to be a boolean, but it is \"yes\" (a string value)",
            ]
        );
    }

    #[test]
    fn both_settings_belong_in_site_conf() {
        let domain = "{ config_mode = { hostname = { optional = false, prefill = true } } }";
        assert_eq!(
            run("{}", vec![("one", domain)]),
            [
                "domains/one.conf error: config_mode.hostname.optional is allowed in site configuration only",
                "domains/one.conf error: config_mode.hostname.prefill is allowed in site configuration only",
            ]
        );
    }
}
