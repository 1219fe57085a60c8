//! The daemon's work: read each WireGuard interface's peers, work out which
//! have a recent handshake, and reconcile the VXLAN's FDB and the routes to
//! them; log what changed.

use crate::lladdr::link_local;
use crate::reconcile::{is_live, plan, Plan, RT_PROTO};
use crate::rtnl::{ifindex, Op, Rtnl};
use gluonvpn_wg::{Key, WireGuard};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Where the original names protocol 129 for `ip route`.
pub const PROTO_NAME_FILE: &str = "/etc/iproute2/rt_protos.d/wireguard-vxlan-glue.conf";

/// What [`reconcile`] did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub plan: Plan,
    /// The changes the kernel refused.
    pub failed: Vec<(Op, io::Error)>,
}

/// Brings the FDB of the VXLAN `vxlan` and the glue's routes out of the
/// WireGuard interface `wg` to exactly the addresses in `live`: reads both
/// from the kernel, computes the difference and applies it in batches.
pub fn reconcile(
    rtnl: &mut Rtnl,
    wg: u32,
    vxlan: u32,
    live: &BTreeSet<Ipv6Addr>,
) -> io::Result<Outcome> {
    let fdb = rtnl.fdb(vxlan)?;
    let routes = rtnl.routes(true, RT_PROTO, Some(wg))?;
    let plan = plan(live, &fdb, &routes, wg);
    if plan.is_empty() {
        return Ok(Outcome::default());
    }
    // removals first: an entry replaced by a plain one must go before the
    // new one is appended
    let mut ops = Vec::with_capacity(
        plan.add_fdb.len() + plan.del_fdb.len() + plan.add_route.len() + plan.del_route.len(),
    );
    ops.extend(plan.del_fdb.iter().map(|e| Op::DelFdb { vxlan, entry: *e }));
    ops.extend(plan.del_route.iter().map(|r| Op::DelRoute { route: *r }));
    ops.extend(plan.add_fdb.iter().map(|d| Op::AddFdb { vxlan, dst: *d }));
    ops.extend(
        plan.add_route
            .iter()
            .map(|d| Op::AddRoute { dst: *d, oif: wg }),
    );
    let failed = rtnl.apply(&ops)?;
    let mut failed_ops = Vec::with_capacity(failed.len());
    for (i, e) in failed {
        failed_ops.push((ops[i].clone(), e));
    }
    Ok(Outcome {
        plan,
        failed: failed_ops,
    })
}

/// Deletes every route of protocol 129, IPv6 and IPv4, in every table (as
/// the original does at start); how many.
pub fn flush_routes(rtnl: &mut Rtnl) -> io::Result<usize> {
    let mut routes = rtnl.routes(true, RT_PROTO, None)?;
    routes.extend(rtnl.routes(false, RT_PROTO, None)?);
    let ops: Vec<Op> = routes
        .into_iter()
        .map(|route| Op::DelRoute { route })
        .collect();
    let failed = rtnl.apply(&ops)?;
    for (i, e) in &failed {
        if let Op::DelRoute { route } = &ops[*i] {
            log_err(&format!(
                "Deleting route {}/{} with proto 129 failed: {e}",
                route.dst, route.prefix_len
            ));
        }
    }
    Ok(ops.len() - failed.len())
}

/// Writes `129\twg-vxlan-glue` to [`PROTO_NAME_FILE`] if it is not there,
/// so that `ip route` shows the glue's routes as `proto wg-vxlan-glue`.
pub fn ensure_proto_name(path: &Path) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::write(path, format!("{RT_PROTO}\twg-vxlan-glue\n"))
}

/// Checks that `iface` exists and, where the kernel says its type, that it
/// is `devtype` (a wireguard-go interface is a tun device without type).
pub fn check_iface(iface: &str, devtype: &str) -> Result<(), String> {
    let dir = Path::new("/sys/class/net").join(iface);
    if iface.is_empty() || iface.contains('/') || !dir.exists() {
        return Err(format!("Iface {iface} does not exist! Exiting..."));
    }
    let uevent = std::fs::read_to_string(dir.join("uevent")).unwrap_or_default();
    for line in uevent.lines() {
        if let Some(t) = line.strip_prefix("DEVTYPE=") {
            if t != devtype {
                return Err(format!(
                    "Iface {iface} is wrong type! Should be {devtype}, but is {t}. Exiting..."
                ));
            }
        }
    }
    Ok(())
}

/// An error for the journal: priority 3 ("err") as a `<3>` prefix, as the
/// original writes them.
pub fn log_err(msg: &str) {
    for line in msg.lines() {
        eprintln!("<3>{line}");
    }
}

/// One WireGuard interface and its VXLAN.
pub struct Pair {
    pub wireguard: String,
    pub vxlan: String,
    wg: Option<WireGuard>,
    /// Each peer's link-local address, computed once per key.
    lladdr: HashMap<Key, Ipv6Addr>,
    /// The last problem, logged once until it changes.
    problem: Option<String>,
}

impl Pair {
    pub fn new(wireguard: &str, vxlan: &str) -> Self {
        Pair {
            wireguard: wireguard.to_string(),
            vxlan: vxlan.to_string(),
            wg: None,
            lladdr: HashMap::new(),
            problem: None,
        }
    }

    fn report(&mut self, problem: Option<String>) {
        if problem != self.problem {
            match &problem {
                Some(p) => log_err(p),
                None => println!("{} and {} work again.", self.wireguard, self.vxlan),
            }
            self.problem = problem;
        }
    }

    fn indexes(&mut self) -> Option<(u32, u32)> {
        let wg = ifindex(&self.wireguard);
        let vx = ifindex(&self.vxlan);
        match (wg, vx) {
            (Some(wg), Some(vx)) => Some((wg, vx)),
            _ => {
                let missing = if wg.is_none() {
                    &self.wireguard
                } else {
                    &self.vxlan
                };
                self.report(Some(format!("Iface {missing} does not exist.")));
                None
            }
        }
    }

    /// The addresses of the peers with a recent handshake, and the public
    /// key of every peer's address (for the log).
    fn read_peers(
        &mut self,
        now: SystemTime,
        stale_after: Duration,
    ) -> io::Result<(BTreeSet<Ipv6Addr>, HashMap<Ipv6Addr, Key>)> {
        if self.wg.is_none() {
            self.wg = Some(WireGuard::open(&self.wireguard)?);
        }
        let peers = match self.wg.as_mut().map(WireGuard::peers) {
            Some(Ok(peers)) => peers,
            Some(Err(e)) => {
                // open anew next time: wireguard-go may have been restarted,
                // or the kernel module loaded
                self.wg = None;
                return Err(e);
            }
            None => unreachable!("opened above"),
        };
        if self.lladdr.len() > 2 * peers.len() + 64 {
            // forget removed peers now and then
            let keys: std::collections::HashSet<Key> = peers.iter().map(|p| p.public_key).collect();
            self.lladdr.retain(|k, _| keys.contains(k));
        }
        let mut live = BTreeSet::new();
        let mut names = HashMap::with_capacity(peers.len());
        for p in &peers {
            let addr = *self
                .lladdr
                .entry(p.public_key)
                .or_insert_with(|| link_local(&p.public_key));
            names.insert(addr, p.public_key);
            if is_live(p.latest_handshake, now, stale_after) {
                live.insert(addr);
            }
        }
        Ok((live, names))
    }

    /// One round: read, reconcile, log.
    pub fn cycle(&mut self, rtnl: &mut Rtnl, now: SystemTime, stale_after: Duration) {
        let Some((wg, vx)) = self.indexes() else {
            return;
        };
        let (live, names) = match self.read_peers(now, stale_after) {
            Ok(x) => x,
            Err(e) => {
                self.report(Some(format!(
                    "Reading the peers of {} failed: {e}",
                    self.wireguard
                )));
                return;
            }
        };
        match reconcile(rtnl, wg, vx, &live) {
            Ok(outcome) => {
                self.report(None);
                self.log(&outcome, &names);
            }
            Err(e) => self.report(Some(format!(
                "Reconciling {} and {} failed: {e}",
                self.wireguard, self.vxlan
            ))),
        }
    }

    /// Removes all of the glue's entries and routes of this pair.
    pub fn clear(&mut self, rtnl: &mut Rtnl) {
        let Some((wg, vx)) = self.indexes() else {
            return;
        };
        let names = self
            .lladdr
            .iter()
            .map(|(k, a)| (*a, *k))
            .collect::<HashMap<_, _>>();
        match reconcile(rtnl, wg, vx, &BTreeSet::new()) {
            Ok(outcome) => self.log(&outcome, &names),
            Err(e) => log_err(&format!(
                "Cleaning up {} and {} failed: {e}",
                self.wireguard, self.vxlan
            )),
        }
    }

    fn log(&self, outcome: &Outcome, names: &HashMap<Ipv6Addr, Key>) {
        let who = |addr: &IpAddr| match addr {
            IpAddr::V6(a) => names
                .get(a)
                .map_or_else(|| a.to_string(), |k| k.to_string()),
            IpAddr::V4(a) => a.to_string(),
        };
        for (op, e) in &outcome.failed {
            let (what, addr) = match op {
                Op::AddFdb { dst, .. } => ("Inserting fdb entry", IpAddr::V6(*dst)),
                Op::DelFdb { entry, .. } => ("Deleting fdb entry", entry.dst),
                Op::AddRoute { dst, .. } => ("Inserting route", IpAddr::V6(*dst)),
                Op::DelRoute { route } => ("Deleting route", route.dst),
            };
            log_err(&format!(
                "{what} failed for {} ({}, {}): {e}",
                who(&addr),
                self.wireguard,
                self.vxlan
            ));
        }
        // what the kernel refused is not logged as done
        let mut refused_fdb_del = BTreeSet::new();
        let mut refused_route_del = BTreeSet::new();
        let mut refused_fdb_add = BTreeSet::new();
        let mut refused_route_add = BTreeSet::new();
        for (op, _) in &outcome.failed {
            match op {
                Op::DelFdb { entry, .. } => refused_fdb_del.insert(*entry),
                Op::DelRoute { route } => refused_route_del.insert(*route),
                Op::AddFdb { dst, .. } => refused_fdb_add.insert(*dst),
                Op::AddRoute { dst, .. } => refused_route_add.insert(*dst),
            };
        }
        // per address: (fdb entry, route)
        let mut removed: BTreeMap<IpAddr, (bool, bool)> = BTreeMap::new();
        let mut installed: BTreeMap<IpAddr, (bool, bool)> = BTreeMap::new();
        for e in outcome
            .plan
            .del_fdb
            .iter()
            .filter(|e| !refused_fdb_del.contains(*e))
        {
            removed.entry(e.dst).or_default().0 = true;
        }
        for r in outcome
            .plan
            .del_route
            .iter()
            .filter(|r| !refused_route_del.contains(*r))
        {
            removed.entry(r.dst).or_default().1 = true;
        }
        for d in outcome
            .plan
            .add_fdb
            .iter()
            .filter(|d| !refused_fdb_add.contains(*d))
        {
            installed.entry(IpAddr::V6(*d)).or_default().0 = true;
        }
        for d in outcome
            .plan
            .add_route
            .iter()
            .filter(|d| !refused_route_add.contains(*d))
        {
            installed.entry(IpAddr::V6(*d)).or_default().1 = true;
        }
        let what = |(fdb, route): (bool, bool)| match (fdb, route) {
            (true, true) => "route and fdb entry",
            (true, false) => "fdb entry",
            _ => "route",
        };
        for (addr, kinds) in removed {
            println!(
                "Removed {} for {} ({}, {}).",
                what(kinds),
                who(&addr),
                self.wireguard,
                self.vxlan
            );
        }
        for (addr, kinds) in installed {
            println!(
                "Installed {} for {} ({}, {})",
                what(kinds),
                who(&addr),
                self.wireguard,
                self.vxlan
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_name_is_written_once() {
        let dir = std::env::temp_dir().join(format!("wvg-proto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wireguard-vxlan-glue.conf");
        ensure_proto_name(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "129\twg-vxlan-glue\n"
        );
        // an existing file is left as it is
        std::fs::write(&path, "129\tmine\n").unwrap();
        ensure_proto_name(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "129\tmine\n");
        std::fs::remove_dir_all(&dir).unwrap();
        // a missing directory is an error to report, not a crash
        assert!(ensure_proto_name(&dir.join("x.conf")).is_err());
    }

    #[test]
    fn interfaces_are_checked_like_the_original() {
        // lo has no DEVTYPE: accepted, as wireguard-go's tun devices are
        assert_eq!(check_iface("lo", "wireguard"), Ok(()));
        assert_eq!(
            check_iface("gvtnosuchif0", "vxlan"),
            Err("Iface gvtnosuchif0 does not exist! Exiting...".to_string())
        );
        assert!(check_iface("../lo", "vxlan").is_err());
    }
}
