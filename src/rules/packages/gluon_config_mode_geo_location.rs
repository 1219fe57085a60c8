//! gluon-config-mode-geo-location: whether the config mode asks for the
//! altitude.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;

pub const SUMMARY: &str =
    "config_mode.geo_location.show_altitude: an optional boolean, in site.conf only";

pub fn check(c: &mut Checker<'_>) {
    let show_altitude = c.in_site(p!["config_mode", "geo_location", "show_altitude"]);
    c.need_boolean(show_altitude, false);
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-config-mode-geo-location", site, domains)
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
