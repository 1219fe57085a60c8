//! Where a site points its nodes: the fastd remotes, WireGuard endpoints and
//! tunneldigger brokers, each read by ONE grammar — the program's on the
//! node — into a typed [`Endpoint`].
//!
//! * fastd: Gluon copies each remote into UCI, OpenWrt's init script keeps
//!   only some characters (and drops a remote with unbalanced quotes), and
//!   fastd's config parser reads the rest as `remote <text>;` (fastd's
//!   `config.y`: `peer_remote`, `port`, `colon_or_port`).
//! * WireGuard: Gluon hands the endpoint to wgpeerselector, which splits it
//!   at the last colon and accepts only what it can pass to `wg`.
//! * tunneldigger: the client splits `host:port` at the first colon and
//!   resolves the host for IPv4 only (`l2tp_client.c`).
//!
//! A value that does not read is an [`AddressError`] with the reason, said
//! so that it reads after "remote `…` of peer `…`".

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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

/// The host of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// A name for the resolver (fastd passes a quoted string on as it is,
    /// so it may be an address in text form).
    Name(String),
    /// An address literal; an IPv6 link-local address may carry a zone
    /// (`fe80::1%eth0`).
    Address { ip: IpAddr, zone: Option<String> },
}

impl Host {
    /// The text a resolver is given: the name, or the address (with its
    /// zone) without brackets.
    pub fn text(&self) -> String {
        match self {
            Host::Name(name) => name.clone(),
            Host::Address { ip, zone: None } => ip.to_string(),
            Host::Address {
                ip,
                zone: Some(zone),
            } => format!("{ip}%{zone}"),
        }
    }

    /// The address, when the host is one (also a quoted address in fastd).
    pub fn literal(&self) -> Option<IpAddr> {
        match self {
            Host::Address { ip, .. } => Some(*ip),
            Host::Name(name) => literal(name),
        }
    }
}

/// A host, a port and, for fastd's `ipv4`/`ipv6` remotes, the one family
/// the program uses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub host: Host,
    pub port: u16,
    pub family: Option<Family>,
}

impl Endpoint {
    /// The address, when the host is an address literal rather than a name.
    pub fn literal(&self) -> Option<IpAddr> {
        self.host.literal()
    }
}

/// Why a value does not give the program an endpoint it can use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// Not in the program's syntax, or never usable (the reason, phrased to
    /// follow the value: "has no `:port`").
    Invalid(String),
    /// An IPv6 address where the program speaks IPv4 only (tunneldigger).
    Ipv6(Ipv6Addr),
}

impl std::fmt::Display for AddressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddressError::Invalid(why) => f.write_str(why),
            AddressError::Ipv6(ip) => write!(
                f,
                "is the IPv6 address {ip}, and tunneldigger connects over IPv4 only"
            ),
        }
    }
}

fn invalid<T>(why: impl Into<String>) -> Result<T, AddressError> {
    Err(AddressError::Invalid(why.into()))
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

// ---------------------------------------------------------------------------
// fastd

/// The characters OpenWrt's fastd init script (`guard_remote`) lets through.
fn kept_by_init_script(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-[].:\"% ".contains(c)
}

/// OpenWrt's fastd init script: keeps only the characters a remote may
/// contain, and drops a remote with unbalanced quotes (`None`).
pub fn init_script_guard(remote: &str) -> Option<String> {
    let kept: String = remote.chars().filter(|c| kept_by_init_script(*c)).collect();
    let quotes = kept.matches('"').count();
    (quotes == 0 || quotes == 2).then_some(kept)
}

/// fastd's grammar for the value of `remote …;`, on the text fastd reads:
/// an optional `ipv4`/`ipv6`, then a quoted host name, an IPv4 address or a
/// bracketed IPv6 address (hex digits and colons, optionally `%zone`), then
/// `port N` (after whitespace) or `:N`, N from 1 to 65535. `ipv4` with an
/// IPv6 address and `ipv6` with an IPv4 address are errors.
pub fn fastd_syntax(text: &str) -> Result<Endpoint, AddressError> {
    let syntax = |what: &str| invalid(format!("is not in fastd's remote syntax ({what})"));
    let s = text.trim();
    let (family, rest) = match s.get(..4) {
        Some(word @ ("ipv4" | "ipv6")) if s[4..].starts_with(|c: char| c.is_whitespace()) => {
            let family = if word == "ipv4" {
                Family::Ipv4
            } else {
                Family::Ipv6
            };
            (Some(family), s[4..].trim_start())
        }
        _ => (None, s),
    };
    let (host, rest) = if let Some(quoted) = rest.strip_prefix('"') {
        let Some(end) = quoted.find('"') else {
            return syntax("an unclosed quote");
        };
        (Host::Name(quoted[..end].to_string()), &quoted[end + 1..])
    } else if let Some(bracketed) = rest.strip_prefix('[') {
        let Some(end) = bracketed.find(']') else {
            return syntax("an unclosed `[`");
        };
        let inner = &bracketed[..end];
        let (address, zone) = match inner.split_once('%') {
            Some((address, zone)) => (address, Some(zone.to_string())),
            None => (inner, None),
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return syntax("an IPv6 address in brackets may hold hex digits and colons only");
        }
        let Ok(ip) = address.parse::<Ipv6Addr>() else {
            return syntax(&format!("`{address}` is not an IPv6 address"));
        };
        let host = Host::Address {
            ip: IpAddr::V6(ip),
            zone,
        };
        (host, &bracketed[end + 1..])
    } else {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == ':')
            .unwrap_or(rest.len());
        let word = &rest[..end];
        let Ok(ip) = word.parse::<Ipv4Addr>() else {
            return syntax(&format!(
                "`{word}` is neither a quoted host name nor an IP address; host names need quotes: `\"{word}\" port N`"
            ));
        };
        let host = Host::Address {
            ip: IpAddr::V4(ip),
            zone: None,
        };
        (host, &rest[end..])
    };
    if !(rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == ':')) {
        return syntax("the host must be followed by a space or `:`");
    }
    let rest = rest.trim_start();
    let port = if let Some(after) = rest.strip_prefix(':') {
        after.trim_start()
    } else if let Some(after) = rest.strip_prefix("port") {
        if !after.starts_with(|c: char| c.is_whitespace()) {
            return syntax("`port` must be followed by a space and the port");
        }
        after.trim_start()
    } else if rest.is_empty() {
        return syntax("no port: add `port N`");
    } else {
        return syntax("expected `port N` or `:N` after the host");
    };
    let port = port.trim_end();
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return syntax(&format!("`{port}` is not a port number"));
    }
    let digits = port.trim_start_matches('0');
    let port = match digits.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) && digits.len() <= 5 => n as u16,
        _ => return invalid(format!("has port {port}, outside 1–65535")),
    };
    match (family, host.literal()) {
        (Some(Family::Ipv4), Some(IpAddr::V6(_))) if matches!(host, Host::Address { .. }) => {
            return syntax("`ipv4` with an IPv6 address")
        }
        (Some(Family::Ipv6), Some(IpAddr::V4(_))) if matches!(host, Host::Address { .. }) => {
            return syntax("`ipv6` with an IPv4 address")
        }
        _ => {}
    }
    Ok(Endpoint { host, port, family })
}

/// Why a quoted host can never be resolved, if it cannot.
fn unresolvable(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("has an empty host name".into());
    }
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    let valid = labels
        .iter()
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if valid {
        None
    } else if name.starts_with('[') {
        Some(format!(
            "quotes the IPv6 address `{name}`, which cannot be resolved: write it without quotes, `{name}:N`"
        ))
    } else {
        Some(format!(
            "has the host name `{name}`, which cannot be resolved"
        ))
    }
}

/// A fastd remote as the site writes it, on its way through Gluon and
/// OpenWrt's init script to fastd: the endpoint fastd connects to, or why
/// there is none.
pub fn fastd_remote(remote: &str) -> Result<Endpoint, AddressError> {
    let seen: String = remote.chars().filter(|c| kept_by_init_script(*c)).collect();
    let quotes = seen.matches('"').count();
    if quotes != 0 && quotes != 2 {
        return invalid(format!(
            "has {quotes} quote characters, so OpenWrt's fastd init script drops it"
        ));
    }
    let removed: String = remote
        .chars()
        .filter(|c| !kept_by_init_script(*c))
        .collect();
    let parsed = fastd_syntax(&seen);
    // Removed whitespace only matters when fastd cannot read what is left.
    if removed.chars().any(|c| !c.is_whitespace()) || (!removed.is_empty() && parsed.is_err()) {
        let effect = match &parsed {
            Ok(_) => String::new(),
            Err(problem) => format!(", which {problem}"),
        };
        return invalid(format!(
            "contains characters OpenWrt's fastd init script removes (`{}`): fastd reads `{seen}`{effect}",
            removed.escape_debug()
        ));
    }
    let endpoint = parsed?;
    if let Host::Name(name) = &endpoint.host {
        if let Some(problem) = unresolvable(name) {
            return invalid(problem);
        }
    }
    Ok(endpoint)
}

// ---------------------------------------------------------------------------
// WireGuard

fn port_number(port: &str) -> Result<u16, AddressError> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return invalid(format!("has `{port}` as port, which is not a number"));
    }
    match port.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => invalid(format!("has port {port}, outside 1–65535")),
    }
}

/// A WireGuard endpoint the way wgpeerselector and `wg set` read it: an
/// IPv4 address, a bracketed IPv6 address or a host name of letters,
/// digits, `-` and `.`; then `:` and a port from 1 to 65535. Names are
/// lower-cased and lose a trailing dot.
pub fn wireguard_endpoint(text: &str) -> Result<Endpoint, AddressError> {
    let Some((host, port)) = text.rsplit_once(':') else {
        return invalid("has no `:port`");
    };
    let port = port_number(port)?;
    let address = |ip: IpAddr| {
        Ok(Endpoint {
            host: Host::Address { ip, zone: None },
            port,
            family: None,
        })
    };
    if let Some(inner) = host.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return invalid("has an unclosed `[`");
        };
        // wgpeerselector accepts hex digits and colons only: no embedded
        // IPv4 address, no zone.
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return invalid(format!(
                "has `[{inner}]`, which is not an IPv6 address wgpeerselector accepts (hex digits and colons only)"
            ));
        }
        let Ok(ip) = inner.parse::<Ipv6Addr>() else {
            return invalid(format!("has `[{inner}]`, which is not an IPv6 address"));
        };
        return address(IpAddr::V6(ip));
    }
    if host.contains(':') {
        let hint = match host.parse::<Ipv6Addr>() {
            Ok(_) => format!(": write `[{host}]:{port}`"),
            Err(_) => String::new(),
        };
        return invalid(format!(
            "has an IPv6 address without brackets, which wgpeerselector cannot split from the port{hint}"
        ));
    }
    if host.is_empty() {
        return invalid("has no host");
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return invalid(format!(
            "has the host `{host}` with characters wgpeerselector does not accept (only letters, digits, `-` and `.`)"
        ));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let Ok(ip) = host.parse::<Ipv4Addr>() else {
            return invalid(format!("has `{host}`, which is not an IPv4 address"));
        };
        return address(IpAddr::V4(ip));
    }
    let name = host.trim_end_matches('.');
    if name.is_empty() || name.split('.').any(str::is_empty) {
        return invalid(format!("has the host `{host}` with an empty label"));
    }
    Ok(Endpoint {
        host: Host::Name(name.to_ascii_lowercase()),
        port,
        family: None,
    })
}

// ---------------------------------------------------------------------------
// tunneldigger

/// The IPv6 address a broker is written as, in any of the forms people
/// write (`[2001:db8::1]:8942`, `[fd00::1]`, `2001:db8::1:8942`,
/// `2001:db8::1`): tunneldigger can use none of them.
fn ipv6_broker(broker: &str) -> Option<Ipv6Addr> {
    if let Some(rest) = broker.strip_prefix('[') {
        return rest.split_once(']').and_then(|(a, _)| a.parse().ok());
    }
    broker
        .parse()
        .ok()
        .or_else(|| broker.rsplit_once(':').and_then(|(h, _)| h.parse().ok()))
}

/// A tunneldigger broker as the client reads it: split at the first colon
/// into a host (an IPv4 address or a name, resolved for IPv4 only) and a
/// port from 1 to 65535.
pub fn tunneldigger_broker(text: &str) -> Result<Endpoint, AddressError> {
    let broker = text.trim();
    if let Some(ip) = ipv6_broker(broker) {
        return Err(AddressError::Ipv6(ip));
    }
    let Some((host, port)) = broker.split_once(':') else {
        return invalid("has no `:port` (tunneldigger needs `host:port`)");
    };
    if host.is_empty() {
        return invalid("has no host");
    }
    let port = port_number(port)?;
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(Endpoint {
            host: Host::Address {
                ip: IpAddr::V4(ip),
                zone: None,
            },
            port,
            family: Some(Family::Ipv4),
        });
    }
    let name = host.trim_end_matches('.');
    let valid = !name.is_empty()
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if !valid {
        return invalid(format!(
            "has the host `{host}`, which is neither an IPv4 address nor a host name"
        ));
    }
    Ok(Endpoint {
        host: Host::Name(host.to_string()),
        port,
        family: Some(Family::Ipv4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(host: &str, port: u16, family: Option<Family>) -> Endpoint {
        Endpoint {
            host: Host::Name(host.into()),
            port,
            family,
        }
    }

    fn address(ip: &str, port: u16) -> Endpoint {
        Endpoint {
            host: Host::Address {
                ip: ip.parse().expect("test address"),
                zone: None,
            },
            port,
            family: None,
        }
    }

    #[test]
    fn fastd_remotes_in_every_form() {
        assert_eq!(
            fastd_remote("\"gw1.example.org\" port 10000"),
            Ok(name("gw1.example.org", 10000, None))
        );
        assert_eq!(
            fastd_remote("ipv4 \"gw1.example.org\" port 10000"),
            Ok(name("gw1.example.org", 10000, Some(Family::Ipv4)))
        );
        assert_eq!(
            fastd_remote("  ipv6   \"gw1.example.org\" port  10001 "),
            Ok(name("gw1.example.org", 10001, Some(Family::Ipv6)))
        );
        assert_eq!(
            fastd_remote("192.0.2.1:10000"),
            Ok(address("192.0.2.1", 10000))
        );
        assert_eq!(
            fastd_remote("192.0.2.1 port 10000"),
            Ok(address("192.0.2.1", 10000))
        );
        assert_eq!(
            fastd_remote("[2001:db8::1]:10000"),
            Ok(address("2001:db8::1", 10000))
        );
        let scoped = fastd_remote("[fe80::1%eth0]:10000").expect("a scoped address");
        assert_eq!(scoped.host.text(), "fe80::1%eth0");
        assert_eq!(scoped.literal(), Some("fe80::1".parse().expect("address")));
        assert_eq!(
            fastd_remote("\"2001:db8::1\" port 1")
                .expect("a quoted address")
                .literal(),
            Some("2001:db8::1".parse().expect("address"))
        );
        assert_eq!(
            fastd_remote("\"gw1\" port 1").expect("a name").literal(),
            None
        );
    }

    #[test]
    fn fastd_syntax_errors_say_why() {
        for (bad, why) in [
            ("gw1.example.org:10000", "host names need quotes"),
            ("\"gw1.example.org\" port 0", "outside 1–65535"),
            ("\"gw1.example.org\" port 65536", "outside 1–65535"),
            ("\"gw1.example.org\"", "no port"),
            ("1.2.3.4", "no port"),
            (
                "2001:db8::1:10000",
                "neither a quoted host name nor an IP address",
            ),
            ("\"gw1.example.org\" port 10000 float", "not a port number"),
            ("300.1.1.1:10000", "neither"),
            ("01.2.3.4:10000", "neither"),
            ("[::ffff:1.2.3.4]:10000", "hex digits and colons only"),
            ("\"h.org\"port 1", "followed by a space or `:`"),
            ("[::1]port 1", "followed by a space or `:`"),
            ("\"h.org\" port1", "`port` must be followed by a space"),
            ("ipv4 [::1]:1", "`ipv4` with an IPv6 address"),
            ("ipv6 1.2.3.4:1", "`ipv6` with an IPv4 address"),
            ("\"h.org\" PORT 1", "expected `port N`"),
            ("\"h.org\" port -1", "not a port number"),
            ("\"h.org\" port 1.0", "not a port number"),
        ] {
            let err = fastd_syntax(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn fastd_remotes_on_their_way_through_the_init_script() {
        assert!(fastd_remote("\"gw1.example.org\" port 10000").is_ok());
        // Tabs vanish; here that is harmless.
        assert!(fastd_remote("\"gw1.example.org\"\t port 10000").is_ok());
        let p = fastd_remote("\"gw_1.example.org\" port 10000")
            .expect_err("underscore")
            .to_string();
        assert!(p.contains("removes (`_`)"), "{p}");
        assert!(
            p.contains("fastd reads `\"gw1.example.org\" port 10000`"),
            "{p}"
        );
        let p = fastd_remote("\"gw1.example.org\"\tport 10000")
            .expect_err("tab")
            .to_string();
        assert!(p.contains("which is not in fastd's remote syntax"), "{p}");
        let p = fastd_remote("\"gw1.example.org port 10000")
            .expect_err("one quote")
            .to_string();
        assert!(p.contains("drops it"), "{p}");
        for (bad, why) in [
            ("\"\" port 10000", "empty host name"),
            ("\"[2001:db8::1]\" port 10000", "without quotes"),
            ("\"gw 1\" port 10000", "cannot be resolved"),
        ] {
            let err = fastd_remote(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert_eq!(
            init_script_guard("ipv6 \"gw\" port 1;rm").as_deref(),
            Some("ipv6 \"gw\" port 1rm")
        );
        assert_eq!(init_script_guard("\"gw port 1"), None);
    }

    #[test]
    fn wireguard_endpoints() {
        assert_eq!(
            wireguard_endpoint("GW1.example.org.:51820"),
            Ok(name("gw1.example.org", 51820, None))
        );
        assert_eq!(
            wireguard_endpoint("[2001:db8::1]:65535"),
            Ok(address("2001:db8::1", 65535))
        );
        assert_eq!(wireguard_endpoint("1.2.3.4:1"), Ok(address("1.2.3.4", 1)));
        assert!(wireguard_endpoint("localhost:51820").is_ok());
        for (bad, why) in [
            ("2001:db8::1:51820", "write `[2001:db8::1]:51820`"),
            ("gw1.example.org", "no `:port`"),
            ("gw1.example.org:0", "outside 1–65535"),
            ("gw1.example.org:65536", "outside 1–65535"),
            ("gw1.example.org:port", "not a number"),
            (":51820", "no host"),
            (
                "gw_1.example.org:51820",
                "characters wgpeerselector does not accept",
            ),
            ("300.1.1.1:51820", "not an IPv4 address"),
            ("[::ffff:1.2.3.4]:51820", "hex digits and colons only"),
            ("[fe80::1%eth0]:51820", "hex digits and colons only"),
            ("[2001:db8::1:51820", "unclosed"),
            ("gw1..example.org:51820", "empty label"),
        ] {
            let err = wireguard_endpoint(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn tunneldigger_brokers() {
        assert_eq!(
            tunneldigger_broker("broker.example.org:20004"),
            Ok(name("broker.example.org", 20004, Some(Family::Ipv4)))
        );
        assert_eq!(
            tunneldigger_broker("192.0.2.1:20004").map(|e| e.literal()),
            Ok(Some("192.0.2.1".parse().expect("address")))
        );
        for v6 in [
            "[2001:db8::1]:8942",
            "2001:db8::1:8942",
            "2001:db8::1",
            "[fd00::1]",
        ] {
            assert!(
                matches!(tunneldigger_broker(v6), Err(AddressError::Ipv6(_))),
                "{v6}"
            );
        }
        for (bad, why) in [
            ("broker.example.org", "no `:port`"),
            ("broker.example.org:x", "not a number"),
            ("a:b:c", "not a number"),
            (":1", "no host"),
            (
                "[td.example.org]:1",
                "neither an IPv4 address nor a host name",
            ),
            ("td_1.example.org:1", "neither"),
        ] {
            let err = tunneldigger_broker(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn literals() {
        assert_eq!(
            literal("198.18.0.1"),
            Some("198.18.0.1".parse().expect("address"))
        );
        assert_eq!(
            literal("fd00::1%veth0"),
            Some("fd00::1".parse().expect("address"))
        );
        assert_eq!(literal("ntp.example.org"), None);
        assert_eq!(literal("host%x"), None);
    }
}
