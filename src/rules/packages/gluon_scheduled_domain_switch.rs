//! gluon-scheduled-domain-switch: a domain's planned switch to another
//! domain — the target, when to switch, and after how long offline.
//!
//! Up to v2023.2 a switch also needs `connection_check_targets` (IPv6
//! addresses); v2025.1 made that key obsolete.

use crate::gluon_version::GluonVersion::*;
use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str =
    "a domain's scheduled switch: target domain, switch time, offline delay (and connection check targets before v2025.1)";

pub fn check(c: &mut Checker<'_>) {
    let switch = c.in_domain(p!["domain_switch"]);
    if c.need_table(switch, None, false).is_none() {
        return;
    }
    // Gluon also keeps each of the keys below to domain files. site.conf can
    // only set one of them by setting domain_switch, which is reported above;
    // the keys are not reported again.
    c.need_domain_name(p!["domain_switch", "target_domain"]);
    c.need_number(p!["domain_switch", "switch_after_offline_mins"], true);
    c.need_number(p!["domain_switch", "switch_time"], true);
    if c.version() >= V2025_1 {
        c.obsolete(
            p!["domain_switch", "connection_check_targets"],
            Some("Connections to NTP servers and gateways are used for this now."),
        );
    } else {
        c.need_string_array_match(
            p!["domain_switch", "connection_check_targets"],
            "^[%x:]+$",
            true,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    const BEFORE_V2025_1: [GluonVersion; 3] = [V2022_1, V2023_1, V2023_2];
    const TARGETS: &str =
        "connection_check_targets = { '2001:4860:4860::8888', '2001:4860:4860::8844' }";

    /// Runs the check with domain `one` (holding `switch` as its
    /// domain_switch, if any) and an empty domain `two`.
    fn switch(version: GluonVersion, site: &str, switch: Option<&str>) -> Vec<String> {
        let one = match switch {
            Some(s) => format!("{{ domain_names = {{ one = 'One' }}, domain_switch = {{ {s} }} }}"),
            None => "{ domain_names = { one = 'One' } }".to_string(),
        };
        let setup = Setup {
            domains: vec![
                ("one", &one),
                ("two", "{ domain_names = { two = 'Two', zwei = 'Zwei' } }"),
            ],
            ..Setup::default()
        };
        messages(&check(
            "gluon-scheduled-domain-switch",
            version,
            site,
            &setup,
        ))
    }

    const VALID: &str =
        "target_domain = 'two', switch_after_offline_mins = 120, switch_time = 1546344000";

    #[test]
    fn no_switch_is_fine() {
        for version in GluonVersion::ALL {
            assert_eq!(
                switch(version, &minimal_site(""), None),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn a_complete_switch_passes() {
        for version in BEFORE_V2025_1 {
            let s = format!("{VALID}, {TARGETS}");
            assert_eq!(
                switch(version, &minimal_site(""), Some(&s)),
                Vec::<String>::new(),
                "{version}"
            );
        }
        assert_eq!(
            switch(V2025_1, &minimal_site(""), Some(VALID)),
            Vec::<String>::new()
        );
        // An alias names a domain too.
        let alias =
            "target_domain = 'zwei', switch_after_offline_mins = 120, switch_time = 1546344000";
        assert_eq!(
            switch(V2025_1, &minimal_site(""), Some(alias)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn connection_check_targets_are_required_before_v2025_1() {
        for version in BEFORE_V2025_1 {
            assert_eq!(
                switch(version, &minimal_site(""), Some(VALID)),
                ["site.conf / domains/one.conf error: expected domain_switch.connection_check_targets to be an array, but it is unset"],
                "{version}"
            );
            let s = format!("{VALID}, connection_check_targets = {{ '2001:db8::1', 'x.example' }}");
            assert_eq!(
                switch(version, &minimal_site(""), Some(&s)),
                ["domains/one.conf error: expected domain_switch.connection_check_targets.2 to match pattern '^[%x:]+$', but it is \"x.example\" (a string value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn connection_check_targets_are_obsolete_from_v2025_1_on() {
        let s = format!("{VALID}, {TARGETS}");
        assert_eq!(
            switch(V2025_1, &minimal_site(""), Some(&s)),
            ["domains/one.conf error: domain_switch.connection_check_targets is obsolete. Connections to NTP servers and gateways are used for this now."]
        );
        // Whatever the value.
        let s = format!("{VALID}, connection_check_targets = 'x.example'");
        assert_eq!(
            switch(V2025_1, &minimal_site(""), Some(&s)),
            ["domains/one.conf error: domain_switch.connection_check_targets is obsolete. Connections to NTP servers and gateways are used for this now."]
        );
    }

    #[test]
    fn every_missing_or_wrong_key_is_reported() {
        for version in GluonVersion::ALL {
            let mut expected = vec![
                "domains/one.conf error: expected domain_switch.target_domain to be a valid domain name, but it is \"nope\" (a string value)",
                "site.conf / domains/one.conf error: expected domain_switch.switch_after_offline_mins to be a number, but it is unset",
                "domains/one.conf error: expected domain_switch.switch_time to be a number, but it is \"noon\" (a string value)",
            ];
            if version < V2025_1 {
                expected.push("site.conf / domains/one.conf error: expected domain_switch.connection_check_targets to be an array, but it is unset");
            }
            assert_eq!(
                switch(
                    version,
                    &minimal_site(""),
                    Some("target_domain = 'nope', switch_time = 'noon'")
                ),
                expected,
                "{version}"
            );
        }
    }

    #[test]
    fn the_target_must_be_a_string_first() {
        let s = "target_domain = 3, switch_after_offline_mins = 120, switch_time = 1546344000";
        assert_eq!(
            switch(V2025_1, &minimal_site(""), Some(s)),
            ["domains/one.conf error: expected domain_switch.target_domain to be a string, but it is 3 (a number value)"]
        );
    }

    #[test]
    fn a_switch_that_is_no_table_is_reported_once() {
        let one = "{ domain_names = { one = 'One' }, domain_switch = 5 }";
        let setup = Setup {
            domains: vec![("one", one)],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-scheduled-domain-switch", V2023_1, &minimal_site(""), &setup)),
            ["domains/one.conf error: expected domain_switch to be a table, but it is 5 (a number value)"]
        );
    }

    #[test]
    fn the_switch_belongs_in_domain_files() {
        let site = minimal_site(&format!("domain_switch = {{ {VALID} }},"));
        // Reported for domain_switch alone, not again for each key in it;
        // the values are still checked (here: fine) for each domain.
        assert_eq!(
            switch(V2025_1, &site, None),
            [
                "site.conf error: domain_switch is allowed in domain configuration only",
                "site.conf error: domain_switch is allowed in domain configuration only",
            ]
        );
    }

    #[test]
    fn a_single_domain_site_has_no_domain_to_switch_to() {
        let site = minimal_site(&format!("domain_switch = {{ {VALID} }},"));
        assert_eq!(
            messages(&check("gluon-scheduled-domain-switch", V2025_1, &site, &Setup::default())),
            ["site.conf error: expected domain_switch.target_domain to be a valid domain name, but it is \"two\" (a string value)"]
        );
    }
}
