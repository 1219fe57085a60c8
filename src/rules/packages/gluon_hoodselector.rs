//! gluon-hoodselector: the shapes that select each domain by the node's
//! position. Every domain but the default one needs them.

use crate::rules::vocabulary::Checker;
use crate::site::value::p;
use crate::site::value::Node;

pub const SUMMARY: &str = "default_domain (required, site.conf only) and, for every other domain, \
     hoodselector.shapes: shapes of at least 2 lat/lon coordinates, in domain files only";

const AT_LEAST_TWO: &str = "needs to have at least 2 coordinates for rectangular shapes.";
const LAT: &str = "lat must match a range +/-90";
const LON: &str = "lon must match a range +/-180";

pub fn check(c: &mut Checker<'_>) {
    let default_domain = c.in_site(p!["default_domain"]);
    let Some(default_domain) = c.need_string(default_domain, true) else {
        return;
    };
    // Gluon compares the name the check runs under (a code or an alias) with
    // default_domain; a single-domain site has no name and always compares
    // unequal.
    if c.this_domain() == default_domain.as_str() {
        return;
    }

    let shapes_path = c.in_domain(p!["hoodselector", "shapes"]);
    let Some(shapes) = c.need_table(shapes_path.clone(), None, true) else {
        return;
    };

    // Every failure is reported on hoodselector.shapes as a whole, so each
    // kind of failure is one message however many coordinates show it.
    let (mut short, mut bad_lat, mut bad_lon) = (false, false, false);
    for (_, shape) in shapes.entries() {
        // Gluon fails with a Lua runtime error on shapes that are not tables
        // (and on strings of two or more bytes); such a shape has no
        // coordinates, which is what the message says.
        if !shape.is_table() || shape.len() < 2 {
            short = true;
            continue;
        }
        for point in shape.items() {
            // `v.lat` of a string is nil; of a number a Lua runtime error.
            let coordinate = |name: &str| {
                point
                    .is_table()
                    .then(|| point.get_name(name))
                    .flatten()
                    .and_then(Node::as_f64)
            };
            let in_range = |value: Option<f64>, range: f64| {
                value.is_some_and(|v| (-range..=range).contains(&v))
            };
            bad_lat |= !in_range(coordinate("lat"), 90.0);
            bad_lon |= !in_range(coordinate("lon"), 180.0);
        }
    }
    for (failed, requirement) in [(short, AT_LEAST_TWO), (bad_lat, LAT), (bad_lon, LON)] {
        if failed {
            c.need(shapes_path.clone(), |_| false, true, requirement);
        }
    }
}

#[cfg(test)]
mod tests {

    fn run(site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run_every_release("gluon-hoodselector", site, domains)
    }

    const SITE: &str = "{ default_domain = 'zero' }";
    const ZERO: &str = "{ domain_names = { zero = 'Zero' } }";

    fn one(shapes: &str) -> String {
        format!("{{ domain_names = {{ one = 'One' }}, hoodselector = {{ shapes = {shapes} }} }}")
    }

    fn expected(requirement: &str) -> String {
        format!("domains/one.conf error: expected hoodselector.shapes to {requirement}, but it is {{…}} (a table value)")
    }

    #[test]
    fn every_domain_but_the_default_needs_shapes() {
        let shapes = one("{ { { lat = 53.5, lon = 10.0 }, { lat = 53.6, lon = 10.1 } } }");
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", &shapes)]),
            Vec::<String>::new()
        );
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", "{ domain_names = { one = 'One' } }")]),
            ["site.conf / domains/one.conf error: expected hoodselector.shapes to be a table, but it is unset"]
        );
    }

    #[test]
    fn default_domain_is_required_even_without_domains() {
        assert_eq!(
            run("{}", Vec::new()),
            ["site.conf error: expected default_domain to be a string, but it is unset"]
        );
        // A single-domain site has no name equal to default_domain.
        assert_eq!(
            run("{ default_domain = 'x' }", Vec::new()),
            ["site.conf error: expected hoodselector.shapes to be a table, but it is unset"]
        );
        assert_eq!(
            run(
                "{ default_domain = 'x', hoodselector = { shapes = {} } }",
                Vec::new()
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn shapes_need_two_coordinates_in_range() {
        let short = one("{ { { lat = 53.5, lon = 10.0 } } }");
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", &short)]),
            [expected(
                "needs to have at least 2 coordinates for rectangular shapes."
            )]
        );
        let lat = one("{ { { lat = 91, lon = 10.0 }, { lat = -90, lon = -180 } } }");
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", &lat)]),
            [expected("lat must match a range +/-90")]
        );
        let lon = one("{ { { lat = 90, lon = 180.5 }, { lat = 0, lon = 0 } } }");
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", &lon)]),
            [expected("lon must match a range +/-180")]
        );
        let missing = one("{ { { lat = '1', lon = 2 }, { lon = 2 } } }");
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", &missing)]),
            [expected("lat must match a range +/-90")]
        );
    }

    #[test]
    fn every_kind_of_failure_is_reported_once() {
        let shapes = one(
            "{ { { lat = 1, lon = 1 } }, { { lat = 100, lon = 1 }, { lat = 1, lon = 200 }, { lat = 95, lon = 1 } } }",
        );
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", &shapes)]),
            [
                expected("needs to have at least 2 coordinates for rectangular shapes."),
                expected("lat must match a range +/-90"),
                expected("lon must match a range +/-180"),
            ]
        );
    }

    #[test]
    fn shapes_and_coordinates_that_are_no_tables() {
        // Gluon fails with Lua runtime errors on these; gluonvpn says what is
        // missing instead.
        for shapes in ["{ 5 }", "{ 'abc' }"] {
            assert_eq!(
                run(SITE, vec![("zero", ZERO), ("one", &one(shapes))]),
                [expected(
                    "needs to have at least 2 coordinates for rectangular shapes."
                )],
                "{shapes}"
            );
        }
        for shapes in ["{ { 5, 6 } }", "{ { 'ab', 'cd' } }"] {
            assert_eq!(
                run(SITE, vec![("zero", ZERO), ("one", &one(shapes))]),
                [
                    expected("lat must match a range +/-90"),
                    expected("lon must match a range +/-180")
                ],
                "{shapes}"
            );
        }
        // An object of shapes counts as well as an array.
        let named = one("{ north = { { lat = 1, lon = 1 } } }");
        assert_eq!(
            run(SITE, vec![("zero", ZERO), ("one", &named)]),
            [expected(
                "needs to have at least 2 coordinates for rectangular shapes."
            )]
        );
    }

    #[test]
    fn keys_are_where_they_belong() {
        assert_eq!(
            run(SITE, vec![("zero", "{ default_domain = 'zero' }")]),
            ["domains/zero.conf error: default_domain is allowed in site configuration only"]
        );
        let site = "{ default_domain = 'zero', hoodselector = { shapes = {} } }";
        assert_eq!(
            run(
                site,
                vec![
                    ("zero", ZERO),
                    ("one", "{ domain_names = { one = 'One' } }")
                ]
            ),
            ["site.conf error: hoodselector.shapes is allowed in domain configuration only"]
        );
    }
}
