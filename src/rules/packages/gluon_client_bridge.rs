//! gluon-client-bridge: the next-node addresses of the client network, the
//! IPv4 prefix they need, and the client access points' SSIDs.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str =
    "next_node mac/ip4/ip6, prefix4 when next_node.ip4 is set, and the wifi24/wifi5 ap SSIDs";

/// A unicast, locally or globally administered MAC address.
const MAC: &str = "^%x[02468aAcCeE]:%x%x:%x%x:%x%x:%x%x:%x%x$";

pub fn check(c: &mut Checker<'_>) {
    let mac = c.in_domain(p!["next_node", "mac"]);
    c.need_string_match(mac, MAC, false);

    let ip4 = c.in_domain(p!["next_node", "ip4"]);
    // An IPv4 next-node address needs the IPv4 prefix it lives in. When the
    // address itself is wrong Gluon stops before asking, and removing it is
    // as good a fix as correcting it.
    if c.need_string_match(ip4, "^%d+.%d+.%d+.%d+$", false)
        .is_some()
    {
        let prefix4 = c.in_domain(p!["prefix4"]);
        c.need_string_match(prefix4, "^%d+.%d+.%d+.%d+/%d+$", true);
    }

    let ip6 = c.in_domain(p!["next_node", "ip6"]);
    c.need_string_match(ip6, "^[%x:]+$", false);

    // At most 32 bytes.
    let ssid_pattern = format!("^{}$", ".?".repeat(32));
    for config in ["wifi24", "wifi5"] {
        if c.need_table(p![config, "ap"], None, false).is_none() {
            continue;
        }
        c.need_boolean(p![config, "ap", "disabled"], false);
        // With OWE transition mode both SSIDs are needed. A value that is not
        // a boolean leaves it open which one is meant, so only what holds
        // either way is checked.
        let owe_transition = c
            .need_boolean(p![config, "ap", "owe_transition_mode"], false)
            .and_then(|n| n.as_bool())
            .unwrap_or(false);
        let ssid = c.in_domain(p![config, "ap", "ssid"]);
        c.need_string_match(ssid, &ssid_pattern, owe_transition);
        let owe_ssid = c.in_domain(p![config, "ap", "owe_ssid"]);
        c.need_string_match(owe_ssid, &ssid_pattern, owe_transition);
    }
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-client-bridge", site, domains)
    }

    fn single(site: &str) -> Vec<String> {
        run(site, Vec::new())
    }

    #[test]
    fn nothing_is_required() {
        assert_eq!(single("{}"), Vec::<String>::new());
    }

    #[test]
    fn valid_values_pass() {
        let site = "{
            prefix4 = '10.0.0.0/16',
            next_node = { mac = '16:41:95:40:f7:dc', ip4 = '10.0.0.1', ip6 = 'fd00::1' },
            wifi24 = { ap = { ssid = 'example.org', disabled = false } },
            wifi5 = { ap = { ssid = 'example.org', owe_ssid = 'owe.example.org', owe_transition_mode = true } },
        }";
        assert_eq!(single(site), Vec::<String>::new());
    }

    #[test]
    fn next_node_addresses_are_checked() {
        let site = "{ next_node = { mac = '01:00:00:00:00:00', ip6 = 'fd00::1/64' } }";
        assert_eq!(
            single(site),
            [
                "site.conf error: expected next_node.mac to match pattern '^%x[02468aAcCeE]:%x%x:%x%x:%x%x:%x%x:%x%x$', but it is \"01:00:00:00:00:00\" (a string value)",
                "site.conf error: expected next_node.ip6 to match pattern '^[%x:]+$', but it is \"fd00::1/64\" (a string value)",
            ]
        );
    }

    #[test]
    fn an_ipv4_next_node_needs_prefix4() {
        assert_eq!(
            single("{ next_node = { ip4 = '10.0.0.1' } }"),
            ["site.conf error: expected prefix4 to be a string, but it is unset"]
        );
        assert_eq!(
            single("{ next_node = { ip4 = '10.0.0.1' }, prefix4 = '10.0.0.0' }"),
            ["site.conf error: expected prefix4 to match pattern '^%d+.%d+.%d+.%d+/%d+$', but it is \"10.0.0.0\" (a string value)"]
        );
        // A malformed address: Gluon stops there, and prefix4 is only needed
        // if the address stays.
        assert_eq!(
            single("{ next_node = { ip4 = '10.0.1' } }"),
            ["site.conf error: expected next_node.ip4 to match pattern '^%d+.%d+.%d+.%d+$', but it is \"10.0.1\" (a string value)"]
        );
        assert_eq!(single("{ prefix4 = 5 }"), Vec::<String>::new());
    }

    #[test]
    fn owe_transition_mode_requires_both_ssids() {
        assert_eq!(
            single("{ wifi24 = { ap = { owe_transition_mode = true } } }"),
            [
                "site.conf error: expected wifi24.ap.ssid to be a string, but it is unset",
                "site.conf error: expected wifi24.ap.owe_ssid to be a string, but it is unset",
            ]
        );
        assert_eq!(
            single("{ wifi24 = { ap = { owe_transition_mode = false } } }"),
            Vec::<String>::new()
        );
        // Not a boolean: whichever it becomes, missing SSIDs are not yet an error.
        assert_eq!(
            single("{ wifi5 = { ap = { owe_transition_mode = 'yes', disabled = 1 } } }"),
            [
                "site.conf error: expected wifi5.ap.disabled to be a boolean, but it is 1 (a number value)",
                "site.conf error: expected wifi5.ap.owe_transition_mode to be a boolean, but it is \"yes\" (a string value)",
            ]
        );
    }

    #[test]
    fn ssids_have_at_most_32_bytes() {
        let pattern = format!("^{}$", ".?".repeat(32));
        let long = "x".repeat(33);
        let site = format!(
            "{{ wifi5 = {{ ap = {{ ssid = '{}', owe_ssid = '{long}' }} }} }}",
            "x".repeat(32)
        );
        assert_eq!(
            single(&site),
            [format!(
                "site.conf error: expected wifi5.ap.owe_ssid to match pattern '{pattern}', but it is \"{long}\" (a string value)"
            )]
        );
    }

    #[test]
    fn ap_must_be_a_table() {
        assert_eq!(
            single("{ wifi24 = { ap = true }, wifi5 = 'x' }"),
            [
                "site.conf error: expected wifi24.ap to be a table, but it is true (a boolean value)",
                "site.conf error: expected wifi5 to be a table, but it is \"x\" (a string value)",
            ]
        );
    }

    #[test]
    fn addresses_and_ssids_belong_in_domain_files() {
        let site = "{ next_node = { mac = '16:41:95:40:f7:dc' }, wifi24 = { ap = { ssid = 'x', disabled = true } } }";
        let domain = "{ next_node = { ip4 = '10.0.0.1' }, prefix4 = '10.0.0.0/16', wifi24 = { ap = { owe_ssid = 'y' } } }";
        // ap.disabled may be set in site.conf.
        assert_eq!(
            run(site, vec![("one", domain)]),
            [
                "site.conf error: next_node.mac is allowed in domain configuration only",
                "site.conf error: wifi24.ap.ssid is allowed in domain configuration only",
            ]
        );
        assert_eq!(
            run(
                "{ prefix4 = '10.0.0.0/16' }",
                vec![("one", "{ next_node = { ip4 = '10.0.0.1' } }")]
            ),
            ["site.conf error: prefix4 is allowed in domain configuration only"]
        );
    }
}
