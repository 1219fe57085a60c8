//! The selector's configuration, from the same UCI files as the original:
//! `peer` sections of /etc/config/wgpeerselector and the NTP servers of
//! /etc/config/system (`system.ntp.server`).

use crate::uci::{self, Package};
use gluonvpn_wg::{AllowedIp, Key};
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// Where a gateway is: an address, or a name to resolve (again and again:
/// the original cycles through the name's addresses, resolving anew when it
/// has tried them all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Addr(SocketAddr),
    Host { host: String, port: u16 },
}

/// Why an endpoint is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointError;

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected ADDRESS:PORT, [IPV6]:PORT or NAME:PORT")
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    /// What the original accepts: `a.b.c.d:port`, `[ipv6]:port`, or a name
    /// of letters, digits, `-` and `.` with a port.
    fn from_str(s: &str) -> Result<Self, EndpointError> {
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(Endpoint::Addr(addr));
        }
        let (host, port) = s.rsplit_once(':').ok_or(EndpointError)?;
        let valid_host = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        let valid_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        if !valid_host || !valid_port {
            return Err(EndpointError);
        }
        let port = port.parse().map_err(|_| EndpointError)?;
        Ok(Endpoint::Host {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Addr(a) => write!(f, "{a}"),
            Endpoint::Host { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// One gateway the selector may connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSpec {
    /// The UCI section's name: what the log and the status document call it.
    pub name: String,
    pub public_key: Key,
    pub endpoint: Endpoint,
    /// Given to the peer once it is chosen (Gluon: `fe80::1/128`), with a
    /// route for each over the interface.
    pub allowed_ips: Vec<AllowedIp>,
    /// The chosen peer's persistent keepalive (Gluon sets none: 0).
    pub persistent_keepalive: u16,
}

/// The peers for one interface, and what was wrong with the sections that
/// were left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peers {
    pub peers: Vec<PeerSpec>,
    pub warnings: Vec<String>,
}

/// The enabled `peer` sections for `ifname`, as the original takes them:
/// `enabled` must be exactly `'1'` (Gluon's simple-uci `get_bool`), `ifname`
/// must be the interface, `public_key` must be set. Sections the original
/// would take but could never install (a key, endpoint, allowed IP or
/// keepalive that `wg` refuses) are left out with a warning instead of
/// failing at every attempt.
pub fn peers(package: &Package, ifname: &str) -> Peers {
    let mut out = Peers::default();
    for section in package.sections_of("peer") {
        if section.option("enabled") != Some("1") || section.option("ifname") != Some(ifname) {
            continue;
        }
        let Some(key) = section.option("public_key") else {
            continue;
        };
        let name = &section.name;
        let mut problems = Vec::new();
        let public_key = key
            .parse::<Key>()
            .map_err(|e| problems.push(format!("public_key: {e}")));
        let endpoint = match section.option("endpoint") {
            None => {
                problems.push("no endpoint".to_string());
                Err(())
            }
            Some(e) => e
                .parse::<Endpoint>()
                .map_err(|err| problems.push(format!("endpoint '{e}': {err}"))),
        };
        let mut allowed_ips = Vec::new();
        for ip in section
            .get("allowed_ips")
            .map(|v| v.values())
            .unwrap_or_default()
        {
            match ip.parse::<AllowedIp>() {
                Ok(ip) => allowed_ips.push(ip),
                Err(e) => problems.push(format!("allowed_ips '{ip}': {e}")),
            }
        }
        let keepalive = match section.option("persistent_keepalive") {
            None => 0,
            Some(k) => k.parse::<u16>().unwrap_or_else(|_| {
                problems.push(format!(
                    "persistent_keepalive '{k}': expected seconds from 0 to 65535"
                ));
                0
            }),
        };
        if let Ok(key) = &public_key {
            if let Some(first) = out.peers.iter().find(|p| p.public_key == *key) {
                // WireGuard has one peer per key: the second would replace
                // the first
                problems.push(format!("the same public_key as peer {}", first.name));
            }
        }
        match (public_key, endpoint) {
            (Ok(public_key), Ok(endpoint)) if problems.is_empty() => out.peers.push(PeerSpec {
                name: name.clone(),
                public_key,
                endpoint,
                allowed_ips,
                persistent_keepalive: keepalive,
            }),
            _ => out
                .warnings
                .push(format!("peer {name} left out: {}", problems.join("; "))),
        }
    }
    out
}

/// `system.ntp.server`: the list of the `timeserver` section named `ntp` in
/// /etc/config/system, as the original reads it.
pub fn ntp_servers(system: &Package) -> Vec<String> {
    system
        .section("ntp")
        .and_then(|s| s.get("server"))
        .map(|v| v.values().into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Reads and parses a UCI file; a missing file is an empty package when
/// `optional`.
pub fn load(path: &std::path::Path, optional: bool) -> Result<Package, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => uci::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => Ok(Package::default()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "mIDOdscl2R3Dq+YthxdTvvtH4D53VhawzEnmet+E7W0=";
    const KEY2: &str = "kQ2V1wL3nAV7tpWDiRspCy1sSYy0xdDm2Jtt+Ub+NmI=";

    #[test]
    fn endpoints() {
        assert_eq!(
            "198.18.0.1:51820".parse(),
            Ok(Endpoint::Addr("198.18.0.1:51820".parse().unwrap()))
        );
        assert_eq!(
            "[fd00::1]:51820".parse(),
            Ok(Endpoint::Addr("[fd00::1]:51820".parse().unwrap()))
        );
        assert_eq!(
            "gw-1.example.org:10000".parse(),
            Ok(Endpoint::Host {
                host: "gw-1.example.org".into(),
                port: 10000
            })
        );
        for bad in [
            "gw.example.org",
            "gw_1.example.org:1",
            ":1",
            "gw:",
            "gw:70000",
            "fd00::1:5",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
        assert_eq!(
            "gw.example.org:1".parse::<Endpoint>().unwrap().to_string(),
            "gw.example.org:1"
        );
    }

    #[test]
    fn peers_as_gluon_writes_them() {
        let text = format!(
            "config peer 'gw01'\n\toption enabled '1'\n\toption endpoint 'gw01.example.org:51820'\n\toption public_key '{KEY}'\n\tlist allowed_ips 'fe80::1/128'\n\toption ifname 'wg_mesh'\n\
             config peer 'off'\n\toption enabled 'true'\n\toption endpoint '198.18.0.1:1'\n\toption public_key '{KEY}'\n\toption ifname 'wg_mesh'\n\
             config peer 'other_if'\n\toption enabled '1'\n\toption endpoint '198.18.0.1:1'\n\toption public_key '{KEY}'\n\toption ifname 'vpn'\n\
             config peer 'no_key'\n\toption enabled '1'\n\toption endpoint '198.18.0.1:1'\n\toption ifname 'wg_mesh'\n\
             config peer 'ka'\n\toption enabled '1'\n\toption endpoint '[fd00::1]:2'\n\toption public_key '{KEY2}'\n\toption allowed_ips '198.18.4.0/24'\n\toption persistent_keepalive '25'\n\toption ifname 'wg_mesh'\n\
             config peer 'twin'\n\toption enabled '1'\n\toption endpoint '198.18.0.7:1'\n\toption public_key '{KEY}'\n\toption ifname 'wg_mesh'\n\
             config peer 'broken'\n\toption enabled '1'\n\toption endpoint 'x'\n\toption public_key 'nope'\n\toption ifname 'wg_mesh'\n\
             config other 'x'\n"
        );
        let got = peers(&uci::parse(&text).unwrap(), "wg_mesh");
        let names: Vec<&str> = got.peers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["gw01", "ka"]);
        assert_eq!(
            got.peers[0].allowed_ips,
            vec!["fe80::1/128".parse().unwrap()]
        );
        assert_eq!(got.peers[0].persistent_keepalive, 0);
        assert_eq!(got.peers[1].persistent_keepalive, 25);
        assert_eq!(
            got.peers[1].allowed_ips,
            vec!["198.18.4.0/24".parse().unwrap()]
        );
        assert_eq!(got.warnings.len(), 2, "{:?}", got.warnings);
        assert_eq!(
            got.warnings[0],
            "peer twin left out: the same public_key as peer gw01"
        );
        assert!(got.warnings[1].starts_with("peer broken left out: public_key"));
        assert!(got.warnings[1].contains("endpoint 'x'"));
    }

    #[test]
    fn ntp_servers_of_the_system_config() {
        let text = "config system\n\toption hostname 'node'\nconfig timeserver 'ntp'\n\toption enabled '1'\n\tlist server '0.openwrt.pool.ntp.org'\n\tlist server 'fd00::123'\n";
        assert_eq!(
            ntp_servers(&uci::parse(text).unwrap()),
            ["0.openwrt.pool.ntp.org", "fd00::123"]
        );
        assert!(ntp_servers(&Package::default()).is_empty());
    }
}
