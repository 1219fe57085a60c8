//! What to change: the addresses of the peers with a recent handshake (the
//! desired state) against the FDB entries and routes the kernel has (the
//! present state). Pure, so it is tested without a network.
//!
//! An FDB entry is the glue's when its MAC is all zero (the dump is
//! filtered to those) and its destination has the form of a node's
//! link-local address ([`crate::lladdr::is_node_link_local`]); it counts
//! as installed when it uses the VXLAN's own port and VNI and no other
//! interface — anything else towards such an address is removed and
//! installed anew. A route is the glue's when it has protocol 129 and goes
//! out of the WireGuard interface; it counts as installed when it is the
//! `/128` host route in the main table.

use crate::lladdr::is_node_link_local;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, SystemTime};

/// The routing protocol number of the glue's routes (`proto 129`, named
/// `wg-vxlan-glue` in /etc/iproute2/rt_protos.d by the original).
pub const RT_PROTO: u8 = 129;

/// The main routing table.
pub const RT_TABLE_MAIN: u32 = 254;

/// An all-zero-MAC FDB entry of a VXLAN interface, as the kernel dumps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FdbEntry {
    pub dst: IpAddr,
    /// `NDA_PORT`: only dumped when it differs from the VXLAN's port.
    pub port: Option<u16>,
    /// `NDA_VNI`: only dumped when it differs from the VXLAN's VNI.
    pub vni: Option<u32>,
    /// `NDA_IFINDEX`: an outgoing interface of its own.
    pub ifindex: Option<u32>,
}

impl FdbEntry {
    /// An entry towards `dst` with the VXLAN's defaults.
    pub fn new(dst: Ipv6Addr) -> Self {
        FdbEntry {
            dst: IpAddr::V6(dst),
            port: None,
            vni: None,
            ifindex: None,
        }
    }

    fn node(&self) -> Option<Ipv6Addr> {
        match self.dst {
            IpAddr::V6(a) if is_node_link_local(&a) => Some(a),
            _ => None,
        }
    }

    fn is_plain(&self) -> bool {
        self.port.is_none() && self.vni.is_none() && self.ifindex.is_none()
    }
}

/// A route as the kernel dumps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    pub dst: IpAddr,
    pub prefix_len: u8,
    pub table: u32,
    pub protocol: u8,
    pub oif: Option<u32>,
    pub metric: Option<u32>,
}

impl Route {
    /// The glue's host route towards `dst` out of `oif`.
    pub fn host(dst: Ipv6Addr, oif: u32) -> Self {
        Route {
            dst: IpAddr::V6(dst),
            prefix_len: 128,
            table: RT_TABLE_MAIN,
            protocol: RT_PROTO,
            oif: Some(oif),
            metric: None,
        }
    }
}

/// The changes for one pair of interfaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub add_fdb: Vec<Ipv6Addr>,
    pub del_fdb: Vec<FdbEntry>,
    pub add_route: Vec<Ipv6Addr>,
    pub del_route: Vec<Route>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.add_fdb.is_empty()
            && self.del_fdb.is_empty()
            && self.add_route.is_empty()
            && self.del_route.is_empty()
    }
}

/// Whether a peer whose latest handshake was at `handshake` counts as live
/// at `now`: younger than `stale_after` (the original: 3 minutes). A peer
/// without handshake is not; a handshake "in the future" (the clock went
/// back) is.
pub fn is_live(handshake: Option<SystemTime>, now: SystemTime, stale_after: Duration) -> bool {
    match handshake {
        None => false,
        Some(t) => now.duration_since(t).map_or(true, |age| age < stale_after),
    }
}

/// The changes that turn `fdb` and `routes` (what the kernel has on the
/// VXLAN and out of the WireGuard interface `oif`) into exactly one FDB
/// entry and one host route per address in `desired`, leaving everything
/// that is not the glue's alone.
pub fn plan(desired: &BTreeSet<Ipv6Addr>, fdb: &[FdbEntry], routes: &[Route], oif: u32) -> Plan {
    let mut p = Plan::default();

    let mut have_fdb = BTreeSet::new();
    for e in fdb {
        let Some(node) = e.node() else { continue };
        if e.is_plain() && desired.contains(&node) && have_fdb.insert(node) {
            continue;
        }
        p.del_fdb.push(*e);
    }
    p.add_fdb = desired.difference(&have_fdb).copied().collect();

    let mut have_route = BTreeSet::new();
    for r in routes {
        if r.protocol != RT_PROTO || r.oif != Some(oif) {
            continue;
        }
        let host = match r.dst {
            IpAddr::V6(a) if r.prefix_len == 128 && r.table == RT_TABLE_MAIN => Some(a),
            _ => None,
        };
        match host {
            Some(a) if desired.contains(&a) && have_route.insert(a) => {}
            _ => p.del_route.push(*r),
        }
    }
    p.add_route = desired.difference(&have_route).copied().collect();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const WG: u32 = 7;

    fn node(n: u8) -> Ipv6Addr {
        Ipv6Addr::from([
            0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, n, 0xff, 0xfe, 0x33, 0x44, n,
        ])
    }

    fn set(nodes: &[u8]) -> BTreeSet<Ipv6Addr> {
        nodes.iter().map(|&n| node(n)).collect()
    }

    fn fdb(nodes: &[u8]) -> Vec<FdbEntry> {
        nodes.iter().map(|&n| FdbEntry::new(node(n))).collect()
    }

    fn routes(nodes: &[u8]) -> Vec<Route> {
        nodes.iter().map(|&n| Route::host(node(n), WG)).collect()
    }

    #[test]
    fn nothing_to_do_when_the_kernel_matches() {
        let p = plan(&set(&[1, 2, 3]), &fdb(&[3, 1, 2]), &routes(&[2, 3, 1]), WG);
        assert!(p.is_empty(), "{p:?}");
        assert!(plan(&set(&[]), &[], &[], WG).is_empty());
    }

    #[test]
    fn only_the_difference_is_applied() {
        let p = plan(&set(&[1, 2, 4]), &fdb(&[1, 2, 3]), &routes(&[2, 3, 5]), WG);
        assert_eq!(p.add_fdb, vec![node(4)]);
        assert_eq!(p.del_fdb, fdb(&[3]));
        assert_eq!(p.add_route, vec![node(1), node(4)]);
        assert_eq!(p.del_route, routes(&[3, 5]));
    }

    #[test]
    fn an_empty_desired_state_removes_everything_of_the_glue() {
        let mut present = fdb(&[1, 2]);
        // not the glue's: another form of address, IPv4, the VXLAN's remote
        for dst in ["fe80::1", "fd00::211:22ff:fe33:4455", "198.18.0.1"] {
            present.push(FdbEntry {
                dst: dst.parse().unwrap(),
                port: None,
                vni: None,
                ifindex: None,
            });
        }
        let mut r = routes(&[1]);
        // other protocols, other interfaces
        r.push(Route {
            protocol: 3,
            ..Route::host(node(2), WG)
        });
        r.push(Route::host(node(3), WG + 1));
        let p = plan(&set(&[]), &present, &r, WG);
        assert_eq!(p.del_fdb, fdb(&[1, 2]));
        assert_eq!(p.del_route, routes(&[1]));
        assert!(p.add_fdb.is_empty() && p.add_route.is_empty());
    }

    #[test]
    fn odd_entries_towards_nodes_are_replaced() {
        let odd_port = FdbEntry {
            port: Some(8472),
            ..FdbEntry::new(node(1))
        };
        let odd_vni = FdbEntry {
            vni: Some(42),
            ..FdbEntry::new(node(2))
        };
        let other_table = Route {
            table: 100,
            ..Route::host(node(1), WG)
        };
        let wider = Route {
            prefix_len: 64,
            ..Route::host(node(2), WG)
        };
        let p = plan(
            &set(&[1, 2]),
            &[odd_port, odd_vni],
            &[other_table, wider],
            WG,
        );
        assert_eq!(p.del_fdb, vec![odd_port, odd_vni]);
        assert_eq!(p.add_fdb, vec![node(1), node(2)]);
        assert_eq!(p.del_route, vec![other_table, wider]);
        assert_eq!(p.add_route, vec![node(1), node(2)]);
    }

    #[test]
    fn duplicates_are_removed() {
        let p = plan(&set(&[1]), &fdb(&[1, 1]), &routes(&[1, 1]), WG);
        assert_eq!(p.del_fdb, fdb(&[1]));
        assert_eq!(p.del_route, routes(&[1]));
        assert!(p.add_fdb.is_empty() && p.add_route.is_empty());
    }

    #[test]
    fn liveness_is_a_strict_threshold() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let three_minutes = Duration::from_secs(180);
        assert!(!is_live(None, now, three_minutes));
        assert!(is_live(
            Some(now - Duration::from_secs(179)),
            now,
            three_minutes
        ));
        assert!(!is_live(Some(now - three_minutes), now, three_minutes));
        assert!(is_live(
            Some(now + Duration::from_secs(5)),
            now,
            three_minutes
        ));
    }

    #[test]
    fn ten_thousand_peers_plan_quickly() {
        // the shape of the benchmark: half the peers change
        let desired: BTreeSet<Ipv6Addr> = (0..10_000u32).map(|i| big(i, 0)).collect();
        let present: Vec<FdbEntry> = (5_000..15_000u32)
            .map(|i| FdbEntry::new(big(i, 0)))
            .collect();
        let r: Vec<Route> = (5_000..15_000u32)
            .map(|i| Route::host(big(i, 0), WG))
            .collect();
        let p = plan(&desired, &present, &r, WG);
        assert_eq!(p.add_fdb.len(), 5_000);
        assert_eq!(p.del_fdb.len(), 5_000);
        assert_eq!(p.add_route.len(), 5_000);
        assert_eq!(p.del_route.len(), 5_000);
    }

    fn big(i: u32, salt: u8) -> Ipv6Addr {
        let b = i.to_be_bytes();
        Ipv6Addr::from([
            0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, salt, b[0], 0xff, 0xfe, b[1], b[2], b[3],
        ])
    }
}
