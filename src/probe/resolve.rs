//! Name resolution with the system's resolver (`getaddrinfo` through std's
//! `ToSocketAddrs`): /etc/hosts, DNS, whatever nsswitch.conf says, A and
//! AAAA records alike.

use super::pool;
use crate::site::mesh_vpn::address;
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// What a host name resolved to.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    /// Its addresses, in the resolver's order, without repetitions (port 0).
    Addresses(Vec<SocketAddr>),
    /// The resolver's answer when the name does not resolve.
    Failed(String),
    /// The lookup had not returned when the time for lookups was up.
    TimedOut(Duration),
}

/// Looks a host up: an address literal stands for itself; a name goes to
/// the system's resolver.
pub fn resolve(host: &str) -> Resolution {
    if let Some(ip) = address::literal(host) {
        if !host.contains('%') {
            return Resolution::Addresses(vec![SocketAddr::new(ip, 0)]);
        }
    }
    match (host, 0u16).to_socket_addrs() {
        Ok(found) => {
            let mut addresses: Vec<SocketAddr> = Vec::new();
            for address in found {
                if !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
            if addresses.is_empty() {
                Resolution::Failed("the name has no addresses".into())
            } else {
                Resolution::Addresses(addresses)
            }
        }
        Err(e) => {
            let text = e.to_string();
            let text = text
                .strip_prefix("failed to lookup address information: ")
                .unwrap_or(&text);
            Resolution::Failed(text.to_string())
        }
    }
}

/// Resolves every host side by side; lookups still running after `budget`
/// are [`Resolution::TimedOut`].
pub fn resolve_all(
    hosts: Vec<String>,
    workers: usize,
    budget: Duration,
) -> BTreeMap<String, Resolution> {
    let deadline = Instant::now() + budget;
    let results = pool::run_all(hosts.clone(), workers, deadline, |host: String| {
        resolve(&host)
    });
    hosts
        .into_iter()
        .zip(results)
        .map(|(host, result)| (host, result.unwrap_or(Resolution::TimedOut(budget))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_to_themselves_without_a_lookup() {
        assert_eq!(
            resolve("198.18.0.1"),
            Resolution::Addresses(vec!["198.18.0.1:0".parse().unwrap()])
        );
        assert_eq!(
            resolve("fd00::1"),
            Resolution::Addresses(vec!["[fd00::1]:0".parse().unwrap()])
        );
    }

    #[test]
    fn every_host_gets_an_answer() {
        let found = resolve_all(
            // Literals only: unit tests send no lookup anywhere (tests/online.rs
            // resolves names, in network namespaces of its own).
            vec!["192.0.2.1".into(), "2001:db8::1".into()],
            4,
            Duration::from_secs(5),
        );
        assert_eq!(found.len(), 2);
        assert!(matches!(found["192.0.2.1"], Resolution::Addresses(_)));
        assert!(matches!(found["2001:db8::1"], Resolution::Addresses(_)));
    }
}
