//! gluon-config-mode-geo-location: whether the config mode asks for the
//! altitude.

use crate::p;
use crate::rules::vocabulary::Checker;

pub const SUMMARY: &str =
    "config_mode.geo_location.show_altitude: an optional boolean, in site.conf only";

pub fn check(c: &mut Checker<'_>) {
    let show_altitude = c.in_site(p!["config_mode", "geo_location", "show_altitude"]);
    c.need_boolean(show_altitude, false);
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion;
    use crate::rules::testing::{check, messages, Setup};

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        let setup = Setup {
            domains,
            ..Setup::default()
        };
        let mut found = None;
        // The check is the same in every release.
        for version in GluonVersion::ALL {
            let here = messages(&check(
                "gluon-config-mode-geo-location",
                version,
                site,
                &setup,
            ));
            if let Some(previous) = &found {
                assert_eq!(&here, previous, "{version}");
            }
            found = Some(here);
        }
        found.unwrap_or_default()
    }

    #[test]
    fn show_altitude_is_an_optional_boolean() {
        assert_eq!(run("{}", Vec::new()), Vec::<String>::new());
        assert_eq!(
            run(
                "{ config_mode = { geo_location = { show_altitude = true } } }",
                Vec::new()
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            run("{ config_mode = { geo_location = { show_altitude = 'no' } } }", Vec::new()),
            ["site.conf error: expected config_mode.geo_location.show_altitude to be a boolean, but it is \"no\" (a string value)"]
        );
        assert_eq!(
            run("{ config_mode = { geo_location = 1 } }", Vec::new()),
            ["site.conf error: expected config_mode.geo_location to be a table, but it is 1 (a number value)"]
        );
    }

    #[test]
    fn show_altitude_belongs_in_site_conf() {
        assert_eq!(
            run("{}", vec![("one", "{ config_mode = { geo_location = { show_altitude = true } } }")]),
            ["domains/one.conf error: config_mode.geo_location.show_altitude is allowed in site configuration only"]
        );
    }
}
