//! gluon-config-mode-geo-location-osm: the OpenStreetMap map of the config
//! mode (its centre, zoom, OpenLayers location and an optional tile layer).

use crate::rules::vocabulary::{Checker, Lit};
use crate::site::value::p;

pub const SUMMARY: &str = "config_mode.geo_location.osm: center lon/lat, zoom, openlayers_url and \
     tile_layer (type, url, attributions), in site.conf only";

pub fn check(c: &mut Checker<'_>) {
    let osm = |more: &[&str]| {
        let mut path = p!["config_mode", "geo_location", "osm"];
        path.extend(more.iter().map(|&k| k.into()));
        path
    };

    let lon = c.in_site(osm(&["center", "lon"]));
    c.need_number(lon, true);
    let lat = c.in_site(osm(&["center", "lat"]));
    c.need_number(lat, true);
    let zoom = c.in_site(osm(&["zoom"]));
    c.need_number(zoom, false);
    let openlayers_url = c.in_site(osm(&["openlayers_url"]));
    c.need_string(openlayers_url, false);

    let tile_layer = c.in_site(osm(&["tile_layer"]));
    if c.need_table(tile_layer, None, false).is_some() {
        let kind = c.in_site(osm(&["tile_layer", "type"]));
        c.need_one_of(kind, &[Lit::from("XYZ")], true);
        let url = c.in_site(osm(&["tile_layer", "url"]));
        c.need_string(url, true);
        let attributions = c.in_site(osm(&["tile_layer", "attributions"]));
        c.need_string(attributions, true);
    }
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release(
            "gluon-config-mode-geo-location-osm",
            site,
            domains,
        )
    }

    fn osm(fields: &str) -> String {
        format!("{{ config_mode = {{ geo_location = {{ osm = {{ {fields} }} }} }} }}")
    }

    const CENTER: &str = "center = { lon = 10.0, lat = 53.5 }";

    #[test]
    fn a_complete_map_passes() {
        let site = osm(&format!(
            "{CENTER}, zoom = 12, openlayers_url = 'https://example.org/ol',
             tile_layer = {{ type = 'XYZ', url = 'https://tile.example.org/{{z}}/{{x}}/{{y}}.png', attributions = '(c) OSM' }}"
        ));
        assert_eq!(run(&site, Vec::new()), Vec::<String>::new());
        assert_eq!(run(&osm(CENTER), Vec::new()), Vec::<String>::new());
    }

    #[test]
    fn the_center_is_required() {
        assert_eq!(
            run("{}", Vec::new()),
            [
                "site.conf error: expected config_mode.geo_location.osm.center.lon to be a number, but it is unset",
                "site.conf error: expected config_mode.geo_location.osm.center.lat to be a number, but it is unset",
            ]
        );
        assert_eq!(
            run(&osm("center = { lon = '10', lat = 53 }, zoom = '12', openlayers_url = 1"), Vec::new()),
            [
                "site.conf error: expected config_mode.geo_location.osm.center.lon to be a number, but it is \"10\" (a string value)",
                "site.conf error: expected config_mode.geo_location.osm.zoom to be a number, but it is \"12\" (a string value)",
                "site.conf error: expected config_mode.geo_location.osm.openlayers_url to be a string, but it is 1 (a number value)",
            ]
        );
    }

    #[test]
    fn a_tile_layer_needs_type_url_and_attributions() {
        assert_eq!(
            run(&osm(&format!("{CENTER}, tile_layer = {{ type = 'WMS' }}")), Vec::new()),
            [
                "site.conf error: expected config_mode.geo_location.osm.tile_layer.type to be one of the given array [\"XYZ\"], but it is \"WMS\" (a string value)",
                "site.conf error: expected config_mode.geo_location.osm.tile_layer.url to be a string, but it is unset",
                "site.conf error: expected config_mode.geo_location.osm.tile_layer.attributions to be a string, but it is unset",
            ]
        );
        assert_eq!(
            run(&osm(&format!("{CENTER}, tile_layer = 'XYZ'")), Vec::new()),
            ["site.conf error: expected config_mode.geo_location.osm.tile_layer to be a table, but it is \"XYZ\" (a string value)"]
        );
    }

    #[test]
    fn the_map_belongs_in_site_conf() {
        let domain = "{ config_mode = { geo_location = { osm = { zoom = 3, tile_layer = { type = 'XYZ' } } } } }";
        let site = osm(&format!(
            "{CENTER}, tile_layer = {{ url = 'u', attributions = 'a' }}"
        ));
        assert_eq!(
            run(&site, vec![("one", domain)]),
            [
                "domains/one.conf error: config_mode.geo_location.osm.zoom is allowed in site configuration only",
                "domains/one.conf error: config_mode.geo_location.osm.tile_layer is allowed in site configuration only",
                "domains/one.conf error: config_mode.geo_location.osm.tile_layer.type is allowed in site configuration only",
            ]
        );
    }
}
