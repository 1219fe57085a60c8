//! gluon-logging: the remote syslog server.

use crate::rules::vocabulary::{Checker, Lit};
use crate::site::value::p;

pub const SUMMARY: &str =
    "syslog.ip (required), syslog.port (1-65535) and syslog.proto (tcp or udp)";

pub fn check(c: &mut Checker<'_>) {
    c.need_string(p!["syslog", "ip"], true);
    c.need_number_range(p!["syslog", "port"], 1.0, 65535.0, false);
    c.need_one_of(
        p!["syslog", "proto"],
        &[Lit::from("tcp"), Lit::from("udp")],
        false,
    );
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};

    fn run(version: GluonVersion, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
        crate::rules::testing::run("gluon-logging", version, site, domains)
    }

    #[test]
    fn a_server_address_is_required() {
        for version in GluonVersion::ALL {
            assert_eq!(
                run(version, "{}", Vec::new()),
                ["site.conf error: expected syslog.ip to be a string, but it is unset"],
                "{version}"
            );
            assert_eq!(
                run(version, "{ syslog = { ip = '192.0.2.1' } }", Vec::new()),
                Vec::<String>::new()
            );
            assert_eq!(
                run(
                    version,
                    "{ syslog = { ip = '192.0.2.1', port = 514, proto = 'tcp' } }",
                    Vec::new()
                ),
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn port_and_protocol_are_checked() {
        for version in GluonVersion::ALL {
            assert_eq!(
                run(version, "{ syslog = { ip = 1, port = 0, proto = 'TCP' } }", Vec::new()),
                [
                    "site.conf error: expected syslog.ip to be a string, but it is 1 (a number value)",
                    "site.conf error: expected syslog.port to be in range [1, 65535], but it is 0 (a number value)",
                    "site.conf error: expected syslog.proto to be one of the given array [\"tcp\", \"udp\"], but it is \"TCP\" (a string value)",
                ],
                "{version}"
            );
            assert_eq!(
                run(version, "{ syslog = { ip = '192.0.2.1', port = 65536 } }", Vec::new()),
                ["site.conf error: expected syslog.port to be in range [1, 65535], but it is 65536 (a number value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn a_port_that_is_no_number() {
        // v2025.1 says so; older releases fail with a Lua error instead
        // ("bad argument #3 to 'format' (string expected, got nil)").
        assert_eq!(
            run(V2025_1, "{ syslog = { ip = '192.0.2.1', port = '514' } }", Vec::new()),
            ["site.conf error: expected syslog.port to be a number, but it is \"514\" (a string value)"]
        );
    }

    #[test]
    fn domains_may_set_the_server() {
        assert_eq!(
            run(V2025_1, "{ syslog = { port = 514 } }", vec![("one", "{ syslog = { ip = '192.0.2.1' } }"), ("two", "{}")]),
            ["site.conf / domains/two.conf error: expected syslog.ip to be a string, but it is unset"]
        );
    }
}
