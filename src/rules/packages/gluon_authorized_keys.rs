//! gluon-authorized-keys: the SSH public keys installed for root.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "authorized_keys: a required array of strings, in site.conf only";

pub fn check(c: &mut Checker<'_>) {
    let keys = c.in_site(p!["authorized_keys"]);
    c.need_string_array(keys, true);
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-authorized-keys", site, domains)
    }

    #[test]
    fn keys_are_a_required_array_of_strings() {
        assert_eq!(
            run("{ authorized_keys = { 'ssh-ed25519 AAAA x' } }", Vec::new()),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{ authorized_keys = {} }", Vec::new()),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{}", Vec::new()),
            ["site.conf error: expected authorized_keys to be an array, but it is unset"]
        );
        assert_eq!(
            run("{ authorized_keys = 'ssh-ed25519 AAAA x' }", Vec::new()),
            ["site.conf error: expected authorized_keys to be an array, but it is \"ssh-ed25519 AAAA x\" (a string value)"]
        );
        assert_eq!(
            run("{ authorized_keys = { 'ssh-ed25519 AAAA x', 5, true } }", Vec::new()),
            [
                "site.conf error: expected authorized_keys.2 to be a string, but it is 5 (a number value)",
                "site.conf error: expected authorized_keys.3 to be a string, but it is true (a boolean value)",
            ]
        );
    }

    #[test]
    fn keys_belong_in_site_conf() {
        assert_eq!(
            run("{ authorized_keys = { 'a' } }", vec![("one", "{}")]),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{}", vec![("one", "{ authorized_keys = { 'a' } }")]),
            ["domains/one.conf error: authorized_keys is allowed in site configuration only"]
        );
    }
}
