//! gluon-mesh-wireless-sae: SAE (WPA3) encryption of the wireless mesh and
//! its passphrase, which site.conf and domain files may both set.
//!
//! The check is the same in every release gluonvpn models.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str = "SAE encryption of the wireless mesh and its passphrase";

pub fn check(c: &mut Checker<'_>) {
    c.need_boolean(p!["wifi", "mesh", "sae"], false);
    c.need_string(p!["wifi", "mesh", "sae_passphrase"], false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, minimal_site, Setup};

    fn sae(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        let mut found = messages(&check("gluon-mesh-wireless-sae", version, site, &setup));
        // Identical findings are merged into one when reported.
        found.dedup();
        found
    }

    #[test]
    fn both_keys_are_optional_and_pass_when_valid() {
        let valid = minimal_site("wifi = { mesh = { sae = true, sae_passphrase = 'secret' } },");
        for version in GluonVersion::ALL {
            assert_eq!(
                sae(version, &minimal_site(""), vec![]),
                Vec::<String>::new(),
                "{version}"
            );
            assert_eq!(
                sae(version, &valid, vec![]),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn wrong_types_are_reported() {
        let site = minimal_site("wifi = { mesh = { sae = 'yes', sae_passphrase = 5 } },");
        for version in GluonVersion::ALL {
            assert_eq!(
                sae(version, &site, vec![]),
                [
                    "site.conf error: expected wifi.mesh.sae to be a boolean, but it is \"yes\" (a string value)",
                    "site.conf error: expected wifi.mesh.sae_passphrase to be a string, but it is 5 (a number value)",
                ],
                "{version}"
            );
        }
        assert_eq!(
            sae(V2025_1, &minimal_site("wifi = { mesh = 'sae' },"), vec![]),
            ["site.conf error: expected wifi.mesh to be a table, but it is \"sae\" (a string value)"]
        );
    }

    #[test]
    fn domains_may_set_sae_and_are_blamed_for_their_values() {
        let good = "{ domain_names = { good = 'Good' }, wifi = { mesh = { sae = true, sae_passphrase = 'x' } } }";
        let bad = "{ domain_names = { bad = 'Bad' }, wifi = { mesh = { sae = 1 } } }";
        assert_eq!(
            sae(V2023_1, &minimal_site(""), vec![("good", good), ("bad", bad)]),
            ["domains/bad.conf error: expected wifi.mesh.sae to be a boolean, but it is 1 (a number value)"]
        );
    }
}
