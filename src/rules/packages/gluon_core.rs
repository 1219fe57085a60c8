//! gluon-core: site identity, domains, opkg, NTP, prefixes, WiFi, DNS,
//! next-node, interface roles.

use crate::gluon_version::GluonVersion::*;
use crate::rules::vocabulary::{Checker, Lit};
use crate::site::value::p;

pub const SUMMARY: &str =
    "site identity, domains, opkg, NTP servers, prefixes, WiFi, DNS, next-node and interface roles";

const WIFI24_CHANNELS: [i64; 14] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
const WIFI5_CHANNELS: [i64; 49] = [
    34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62, 64, 96, 100, 102, 104, 106, 108,
    110, 112, 114, 116, 118, 120, 122, 124, 126, 128, 132, 134, 136, 138, 140, 142, 144, 149, 151,
    153, 155, 157, 159, 161, 165, 169, 173,
];
const MESH_RATES: [i64; 8] = [6000, 9000, 12000, 18000, 24000, 36000, 48000, 54000];

pub fn check(c: &mut Checker<'_>) {
    let site_code = c.in_site(p!["site_code"]);
    c.need_string(site_code, true);
    let site_name = c.in_site(p!["site_name"]);
    c.need_string(site_name, true);

    // this_domain() is nil when multidomain support is disabled
    if let Some(domain) = c.this_domain() {
        let default_domain = c.in_site(p!["default_domain"]);
        c.need_domain_name(default_domain);

        let domain_names = c.in_domain(p!["domain_names"]);
        c.need_table(
            domain_names,
            Some(&mut |c: &mut Checker<'_>, name| {
                c.need_alphanumeric_key(&name);
                c.need_string(name, true);
            }),
            true,
        );
        let own_name = c.in_domain(p!["domain_names", domain]);
        c.need_string(own_name, true);
    }

    let seed = c.in_domain(p!["domain_seed"]);
    c.need_string_match(seed, &format!("^{}$", "%x".repeat(64)), true);

    c.need_string(p!["opkg", "openwrt"], false);
    c.obsolete(p!["opkg", "lede"], Some("Use opkg.openwrt instead."));
    c.need_table(
        p!["opkg", "extra"],
        Some(&mut |c: &mut Checker<'_>, repo| {
            c.need_alphanumeric_key(&repo);
            c.need_string(repo, true);
        }),
        false,
    );

    let hostname_prefix = c.in_site(p!["hostname_prefix"]);
    c.need_string(hostname_prefix, false);
    let timezone = c.in_site(p!["timezone"]);
    c.need_string(timezone, true);

    c.need_string_array(p!["ntp_servers"], false);

    let prefix4 = c.in_domain(p!["prefix4"]);
    c.need_string_match(prefix4, "^%d+.%d+.%d+.%d+/%d+$", false);
    let prefix6 = c.in_domain(p!["prefix6"]);
    c.need_string_match(prefix6, "^[%x:]+/64$", true);
    let extra_prefixes6 = c.in_domain(p!["extra_prefixes6"]);
    c.need_string_array_match(extra_prefixes6, "^[%x:]+/%d+$", false);

    for config in ["wifi24", "wifi5"] {
        if c.need_table(p![config], None, false).is_none() {
            continue;
        }
        // regdom is only required when wifi24 or wifi5 is configured
        let regdom = c.in_site(p!["regdom"]);
        c.need_string(regdom, true);
        c.need_number(p![config, "beacon_interval"], false);
        if c.version() >= V2023_2 {
            let widths: Vec<Lit> = [20, 40, 80, 160].into_iter().map(Lit::from).collect();
            c.need_one_of(p![config, "channel_width"], &widths, false);
        }

        if config == "wifi24" {
            let channels: Vec<Lit> = WIFI24_CHANNELS.into_iter().map(Lit::from).collect();
            c.need_one_of(p![config, "channel"], &channels, true);
        } else {
            let channels: Vec<Lit> = WIFI5_CHANNELS.into_iter().map(Lit::from).collect();
            c.need_one_of(p![config, "channel"], &channels, true);
            c.need_chanlist(p![config, "outdoor_chanlist"], &WIFI5_CHANNELS, false);
            let outdoors = [Lit::from(true), Lit::from(false), Lit::from("preset")];
            c.need_one_of(p![config, "outdoors"], &outdoors, false);
        }

        c.obsolete(
            p![config, "supported_rates"],
            Some("802.11b rates are disabled by default."),
        );
        c.obsolete(
            p![config, "basic_rate"],
            Some("802.11b rates are disabled by default."),
        );
        c.obsolete(p![config, "ibss"], Some("IBSS support has been dropped."));

        if c.need_table(p![config, "mesh"], None, false).is_some() {
            let id = c.in_domain(p![config, "mesh", "id"]);
            c.need_string_match(id, &format!("^{}$", ".?".repeat(32)), true);
            let rates: Vec<Lit> = MESH_RATES.into_iter().map(Lit::from).collect();
            c.need_one_of(p![config, "mesh", "mcast_rate"], &rates, false);
            c.need_boolean(p![config, "mesh", "disabled"], false);
        }
    }

    let poe = c.in_site(p!["poe_passthrough"]);
    c.need_boolean(poe, false);

    if c.need_table(p!["dns"], None, false).is_some() {
        c.need_string_array_match(p!["dns", "servers"], "^[%x:]+$", true);
        if c.version() >= V2023_1 {
            c.need_number(p!["dns", "cacheentries"], false);
        }
    }

    let next_node_name = c.in_domain(p!["next_node", "name"]);
    c.need_string_array(next_node_name, false);
    let next_node_ip6 = c.in_domain(p!["next_node", "ip6"]);
    c.need_string_match(next_node_ip6, "^[%x:]+$", false);
    let next_node_ip4 = c.in_domain(p!["next_node", "ip4"]);
    c.need_string_match(next_node_ip4, "^%d+.%d+.%d+.%d+$", false);

    let vxlan = c.in_domain(p!["mesh", "vxlan"]);
    c.need_boolean(vxlan, false);

    let roles = [Lit::from("client"), Lit::from("uplink"), Lit::from("mesh")];
    for config in ["wan", "lan", "single"] {
        let default_roles = c.in_site(p!["interfaces", config, "default_roles"]);
        c.need_array_of(default_roles.clone(), &roles, false);
        if c.version() >= V2023_1 {
            c.need_array_elements_exclusive(default_roles.clone(), "client", "mesh", false);
            c.need_array_elements_exclusive(default_roles, "client", "uplink", false);
        }
    }

    c.obsolete(p!["mesh_on_wan"], Some("Use interfaces.wan.default_roles."));
    c.obsolete(p!["mesh_on_lan"], Some("Use interfaces.lan.default_roles."));
    c.obsolete(
        p!["single_as_lan"],
        Some("Use interfaces.single.default_roles."),
    );
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn core(version: GluonVersion, site: &str) -> Vec<String> {
        messages(&check("gluon-core", version, site, &Setup::default()))
    }

    #[test]
    fn a_minimal_site_passes_everywhere() {
        for version in GluonVersion::ALL {
            assert_eq!(
                core(version, &minimal_site("")),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn missing_and_malformed_values_are_all_reported() {
        let site = "{ site_name = 'X', timezone = 'UTC', domain_seed = 'abc', prefix6 = 'fd00::/48', prefix4 = '10.0.0.0/16' }";
        assert_eq!(
            core(V2025_1, site),
            [
                "site.conf error: expected site_code to be a string, but it is unset".to_string(),
                format!("site.conf error: expected domain_seed to match pattern '^{}$', but it is \"abc\" (a string value)", "%x".repeat(64)),
                "site.conf error: expected prefix6 to match pattern '^[%x:]+/64$', but it is \"fd00::/48\" (a string value)".to_string(),
            ]
        );
    }

    #[test]
    fn channel_width_is_checked_from_v2023_2_on() {
        let site = minimal_site("regdom = 'DE', wifi24 = { channel = 1, channel_width = 30 },");
        assert!(core(V2023_1, &site).is_empty());
        assert_eq!(
            core(V2023_2, &site),
            ["site.conf error: expected wifi24.channel_width to be one of the given array [20, 40, 80, 160], but it is 30 (a number value)"]
        );
    }

    #[test]
    fn obsolete_keys_name_their_replacement() {
        let site = minimal_site("mesh_on_wan = true, wifi24 = { channel = 1, supported_rates = {6000} }, regdom = 'DE',");
        assert_eq!(
            core(V2022_1, &site),
            [
                "site.conf error: wifi24.supported_rates is obsolete. 802.11b rates are disabled by default.",
                "site.conf error: mesh_on_wan is obsolete. Use interfaces.wan.default_roles.",
            ]
        );
    }

    #[test]
    fn domains_are_checked_against_the_merged_configuration() {
        let site = "{ site_code = 'ffx', site_name = 'X', timezone = 'UTC', default_domain = 'one', prefix6 = 'fd00::/64' }";
        let seed = "cd".repeat(32);
        let one = format!("{{ domain_names = {{ one = 'One', alias = 'Alias' }}, domain_seed = '{seed}', site_name = 'Y' }}");
        let setup = Setup {
            domains: vec![("one", &one)],
            ..Setup::default()
        };
        let found = messages(&check("gluon-core", V2025_1, site, &setup));
        assert_eq!(
            found,
            [
                "domains/one.conf error: site_name is allowed in site configuration only",
                "site.conf error: prefix6 is allowed in domain configuration only",
            ]
        );
    }

    #[test]
    fn default_domain_may_be_an_alias_but_must_exist() {
        let site =
            "{ site_code = 'ffx', site_name = 'X', timezone = 'UTC', default_domain = 'nowhere' }";
        let seed = "cd".repeat(32);
        let one = format!(
            "{{ domain_names = {{ one = 'One' }}, domain_seed = '{seed}', prefix6 = 'fd00::/64' }}"
        );
        let setup = Setup {
            domains: vec![("one", &one)],
            ..Setup::default()
        };
        assert_eq!(
            messages(&check("gluon-core", V2025_1, site, &setup)),
            ["site.conf error: expected default_domain to be a valid domain name, but it is \"nowhere\" (a string value)"]
        );
    }
}
