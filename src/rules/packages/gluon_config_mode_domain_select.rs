//! gluon-config-mode-domain-select: the domain names offered in the config
//! mode and which domains it hides.

use crate::rules::vocabulary::{Checker, Lit};
use crate::site::value::p;
use crate::site::value::Key;

pub const SUMMARY: &str =
    "domain_names (required) and hide_domain: a boolean or an array of this domain's names, in domain files only";

pub fn check(c: &mut Checker<'_>) {
    let domain_names = c.in_domain(p!["domain_names"]);
    // Without domain_names Gluon stops: there are no names to compare with.
    let Some(domain_names) = c.need_table(domain_names, None, true) else {
        return;
    };
    let names: Vec<Lit> = c
        .table_keys(Some(domain_names))
        .into_iter()
        .map(|key| match key {
            Key::Name(name) => Lit::Str(name),
            Key::Index(i) => Lit::Num(i as f64),
        })
        .collect();

    c.alternatives(&mut [
        &mut |c: &mut Checker<'_>| {
            let hide = c.in_domain(p!["hide_domain"]);
            c.need_boolean(hide, false);
        },
        &mut |c: &mut Checker<'_>| {
            let hide = c.in_domain(p!["hide_domain"]);
            c.need_array_of(hide, &names, false);
        },
    ]);
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-config-mode-domain-select", site, domains)
    }

    #[test]
    fn a_single_domain_site_has_no_domain_names() {
        assert_eq!(
            run("{}", Vec::new()),
            ["site.conf error: expected domain_names to be a table, but it is unset"]
        );
    }

    #[test]
    fn hide_domain_may_be_a_boolean_or_a_list_of_names() {
        for hide in [
            "",
            "hide_domain = true,",
            "hide_domain = false,",
            "hide_domain = { 'one', 'alias' },",
            "hide_domain = {},",
        ] {
            let domain = format!("{{ domain_names = {{ one = 'One', alias = 'Alias' }}, {hide} }}");
            assert_eq!(
                run("{}", vec![("one", &domain)]),
                Vec::<String>::new(),
                "{hide}"
            );
        }
    }

    #[test]
    fn other_values_fail_both_alternatives() {
        let domain = "{ domain_names = { one = 'One' }, hide_domain = 'yes' }";
        assert_eq!(
            run("{}", vec![("one", domain)]),
            ["All of the following alternatives have failed:
        1) domains/one.conf error: expected hide_domain to be a boolean, but it is \"yes\" (a string value)
        2) domains/one.conf error: expected hide_domain to be an array, but it is \"yes\" (a string value)"]
        );
        let domain = "{ domain_names = { one = 'One' }, hide_domain = { 'two' } }";
        assert_eq!(
            run("{}", vec![("one", domain)]),
            ["All of the following alternatives have failed:
        1) domains/one.conf error: expected hide_domain to be a boolean, but it is {…} (a table value)
        2) domains/one.conf error: expected hide_domain.1 to be one of the given array [\"one\"], but it is \"two\" (a string value)"]
        );
    }

    #[test]
    fn only_this_domains_names_count() {
        let one = "{ domain_names = { one = 'One' }, hide_domain = { 'two' } }";
        let two = "{ domain_names = { two = 'Two' }, hide_domain = { 'two' } }";
        let found = run("{}", vec![("one", one), ("two", two)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("[\"one\"], but it is \"two\""),
            "{found:?}"
        );
    }

    #[test]
    fn both_keys_belong_in_domain_files() {
        assert_eq!(
            run(
                "{ hide_domain = true }",
                vec![("one", "{ domain_names = { one = 'One' } }")]
            ),
            ["All of the following alternatives have failed:
        1) site.conf error: hide_domain is allowed in domain configuration only
        2) site.conf error: hide_domain is allowed in domain configuration only"]
        );
        assert_eq!(
            run(
                "{ domain_names = { x = 'X' } }",
                vec![("one", "{ domain_names = { one = 'One' } }")]
            ),
            ["site.conf error: domain_names is allowed in domain configuration only"]
        );
    }
}
