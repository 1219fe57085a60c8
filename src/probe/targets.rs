//! What the site points at: the host and port of every fastd remote,
//! WireGuard endpoint and tunneldigger broker, parsed the way the program on
//! the node reads them.

use serde::Serialize;
use std::net::IpAddr;

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        }
    }
}

/// A host and port as written in the site.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// A name to resolve, or an address literal (IPv6 without brackets; it
    /// may carry a zone, `fe80::1%eth0`).
    pub host: String,
    pub port: u16,
    /// The family a fastd remote is restricted to (`ipv4 "host" port N`).
    pub family: Option<Family>,
}

impl Endpoint {
    /// The address, when the host is an address literal rather than a name.
    pub fn literal(&self) -> Option<IpAddr> {
        literal(&self.host)
    }
}

/// The address a host string stands for, when it is an address literal
/// (an IPv6 zone, `%eth0`, is allowed and dropped).
pub fn literal(host: &str) -> Option<IpAddr> {
    let without_zone = match host.split_once('%') {
        Some((address, _)) if address.contains(':') => address,
        _ => host,
    };
    without_zone.parse().ok()
}

fn port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Err("port 0 is not a port a peer can be reached on".into()),
        Ok(port) => Ok(port),
        Err(_) => Err(format!("`{text}` is not a port number (1–65535)")),
    }
}

/// A fastd remote, in fastd's own syntax (Gluon writes each string into
/// fastd's configuration as `remote <string>;`): `"host" port N`,
/// `ipv4 "host" port N`, `ipv6 "host" port N`, `192.0.2.1:N` or
/// `[2001:db8::1]:N`.
pub fn fastd_remote(remote: &str) -> Result<Endpoint, String> {
    let text = remote.trim();
    let (family, rest) = match text.split_once(char::is_whitespace) {
        Some(("ipv4", rest)) => (Some(Family::Ipv4), rest.trim_start()),
        Some(("ipv6", rest)) => (Some(Family::Ipv6), rest.trim_start()),
        _ => (None, text),
    };
    if let Some(quoted) = rest.strip_prefix('"') {
        let Some((host, after)) = quoted.split_once('"') else {
            return Err("the host name has no closing quote".into());
        };
        if host.is_empty() {
            return Err("the host name is empty".into());
        }
        let mut words = after.split_whitespace();
        return match (words.next(), words.next(), words.next()) {
            (Some("port"), Some(number), None) => Ok(Endpoint {
                host: host.to_string(),
                port: port(number)?,
                family,
            }),
            (None, _, _) => Err(format!("no port: fastd needs `\"{host}\" port N`")),
            _ => Err(format!(
                "fastd expects `port N` after the host name, not `{}`",
                after.trim()
            )),
        };
    }
    if family.is_some() {
        return Err("`ipv4`/`ipv6` must be followed by a quoted host name".into());
    }
    if let Some(bracketed) = rest.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err("the IPv6 address has no closing bracket".into());
        };
        let Some(number) = after.strip_prefix(':') else {
            return Err("no port after the IPv6 address (`[address]:port`)".into());
        };
        if !matches!(literal(host), Some(IpAddr::V6(_))) {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        return Ok(Endpoint {
            host: host.to_string(),
            port: port(number)?,
            family: None,
        });
    }
    match rest.rsplit_once(':') {
        Some((host, number)) if host.parse::<std::net::Ipv4Addr>().is_ok() => Ok(Endpoint {
            host: host.to_string(),
            port: port(number)?,
            family: None,
        }),
        Some((host, _)) if !host.contains(':') => Err(format!(
            "fastd reads host names only in quotes: `\"{host}\" port N`"
        )),
        _ => Err(
            "not a fastd remote (`\"host\" port N`, `ipv4 \"host\" port N`, `192.0.2.1:N` or `[2001:db8::1]:N`)"
                .into(),
        ),
    }
}

/// A WireGuard endpoint as `wg` reads it: `host:port`, `[IPv6]:port`; an
/// unbracketed IPv6 address is split at its last colon, as `wg` does.
pub fn wireguard_endpoint(endpoint: &str) -> Result<Endpoint, String> {
    let text = endpoint.trim();
    if let Some(bracketed) = text.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err("the IPv6 address has no closing bracket".into());
        };
        let Some(number) = after.strip_prefix(':') else {
            return Err("no port after the IPv6 address (`[address]:port`)".into());
        };
        if host.is_empty() {
            return Err("the host is empty".into());
        }
        return Ok(Endpoint {
            host: host.to_string(),
            port: port(number)?,
            family: None,
        });
    }
    let Some((host, number)) = text.rsplit_once(':') else {
        return Err("no port: WireGuard needs `host:port`".into());
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    Ok(Endpoint {
        host: host.to_string(),
        port: port(number)?,
        family: None,
    })
}

/// A tunneldigger broker, `host:port` (tunneldigger splits at the colon and
/// has no IPv6 support; a bracketed IPv6 address is read so that it can be
/// reported as such).
pub fn tunneldigger_broker(broker: &str) -> Result<Endpoint, String> {
    let text = broker.trim();
    if text.starts_with('[') {
        return wireguard_endpoint(text);
    }
    let Some((host, number)) = text.rsplit_once(':') else {
        return Err("no port: tunneldigger needs `host:port`".into());
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    if host.contains(':') && literal(host).is_none() {
        return Err("not `host:port`".into());
    }
    Ok(Endpoint {
        host: host.to_string(),
        port: port(number)?,
        family: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(host: &str, port: u16, family: Option<Family>) -> Endpoint {
        Endpoint {
            host: host.into(),
            port,
            family,
        }
    }

    #[test]
    fn fastd_remotes_in_every_form() {
        assert_eq!(
            fastd_remote("\"gw1.example.org\" port 10000"),
            Ok(ep("gw1.example.org", 10000, None))
        );
        assert_eq!(
            fastd_remote("ipv4 \"gw1.example.org\" port 10000"),
            Ok(ep("gw1.example.org", 10000, Some(Family::Ipv4)))
        );
        assert_eq!(
            fastd_remote("  ipv6   \"gw1.example.org\"\tport  10001 "),
            Ok(ep("gw1.example.org", 10001, Some(Family::Ipv6)))
        );
        assert_eq!(
            fastd_remote("192.0.2.1:10000"),
            Ok(ep("192.0.2.1", 10000, None))
        );
        assert_eq!(
            fastd_remote("[2001:db8::1]:10000"),
            Ok(ep("2001:db8::1", 10000, None))
        );
        assert_eq!(
            fastd_remote("[fe80::1%eth0]:10000"),
            Ok(ep("fe80::1%eth0", 10000, None))
        );
        let literal = fastd_remote("[2001:db8::1]:10000").unwrap().literal();
        assert_eq!(literal, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(
            fastd_remote("\"gw1\" port 1").unwrap().literal(),
            None,
            "a name is not a literal"
        );
    }

    #[test]
    fn fastd_remotes_that_fastd_would_reject() {
        for bad in [
            "gw1.example.org:10000",
            "\"gw1.example.org\"",
            "\"gw1.example.org\" 10000",
            "\"gw1.example.org\" port",
            "\"gw1.example.org\" port 70000",
            "\"gw1.example.org\" port 0",
            "\"gw1.example.org port 10000",
            "\"\" port 10000",
            "ipv4 192.0.2.1:10000",
            "[2001:db8::1]",
            "[gw1]:10000",
            "2001:db8::1:10000",
            "",
        ] {
            assert!(fastd_remote(bad).is_err(), "{bad:?} should not parse");
        }
        assert!(fastd_remote("gw1.example.org:10000")
            .unwrap_err()
            .contains("quotes"));
    }

    #[test]
    fn wireguard_endpoints() {
        assert_eq!(
            wireguard_endpoint("gw1.example.org:51820"),
            Ok(ep("gw1.example.org", 51820, None))
        );
        assert_eq!(
            wireguard_endpoint("[2001:db8::1]:51820"),
            Ok(ep("2001:db8::1", 51820, None))
        );
        assert_eq!(
            wireguard_endpoint("192.0.2.1:51820"),
            Ok(ep("192.0.2.1", 51820, None))
        );
        // wg splits an unbracketed IPv6 address at the last colon
        assert_eq!(
            wireguard_endpoint("2001:db8::1:51820"),
            Ok(ep("2001:db8::1", 51820, None))
        );
        for bad in [
            "gw1.example.org",
            "gw1.example.org:",
            ":51820",
            "gw1:port",
            "[2001:db8::1]",
            "[]:51820",
        ] {
            assert!(wireguard_endpoint(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn tunneldigger_brokers() {
        assert_eq!(
            tunneldigger_broker("broker.example.org:20004"),
            Ok(ep("broker.example.org", 20004, None))
        );
        assert_eq!(
            tunneldigger_broker("192.0.2.1:20004"),
            Ok(ep("192.0.2.1", 20004, None))
        );
        let v6 = tunneldigger_broker("[2001:db8::1]:20004").unwrap();
        assert_eq!(v6.literal().map(|ip| Family::of(&ip)), Some(Family::Ipv6));
        for bad in ["broker.example.org", "broker.example.org:x", "a:b:c"] {
            assert!(
                tunneldigger_broker(bad).is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn literals() {
        assert_eq!(literal("198.18.0.1"), Some("198.18.0.1".parse().unwrap()));
        assert_eq!(literal("fd00::1%veth0"), Some("fd00::1".parse().unwrap()));
        assert_eq!(literal("ntp.example.org"), None);
        assert_eq!(literal("host%x"), None);
    }
}
