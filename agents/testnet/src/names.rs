//! The names of what test networks make, and the removal of what a run that
//! was killed before its `Drop` ran left behind.
//!
//! Every name carries the id of the [`crate::TestNet`] that made it, and
//! the id starts with the id of the process in six hex digits (enough for
//! Linux's largest pid_max, 2^22): a later run tells the names of a process
//! that is gone from those of runs still going on, in parallel or not.
//!
//! | what | name |
//! |---|---|
//! | namespace, its /etc/netns dir | `gvt<id><short>` |
//! | wireguard-go interface, its socket in /var/run/wireguard | `gvw<id><short>`, at most 15 characters |
//! | temp dir | `$TMPDIR/gvt-<id>` |
//!
//! `<id>` is 8 hex digits: the process id and a counter.

use crate::{etc_netns, loud, try_run};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

pub(crate) const NETNS_PREFIX: &str = "gvt";
pub(crate) const WG_PREFIX: &str = "gvw";
const TEMP_DIR_PREFIX: &str = "gvt-";
/// Where wireguard-go puts its UAPI sockets, whatever the namespace.
pub(crate) const WG_RUN: &str = "/var/run/wireguard";
/// Where `ip netns` keeps the namespaces it names.
const NETNS_RUN: &str = "/var/run/netns";
/// An id: the process id, then a counter, in hex digits.
const PID_DIGITS: usize = 6;
const ID_DIGITS: usize = PID_DIGITS + 2;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// An id for a new test network. Names of a run that was killed with the
/// same (reused) process id are still there: their ids are skipped.
pub(crate) fn unused_id() -> String {
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:06x}{:02x}", std::process::id(), n & 0xff);
        debug_assert_eq!(id.len(), ID_DIGITS);
        let taken = has_entry(NETNS_RUN, &format!("{NETNS_PREFIX}{id}"))
            || has_entry(WG_RUN, &format!("{WG_PREFIX}{id}"));
        if !taken {
            return id;
        }
    }
}

/// A test network's temp dir.
pub(crate) fn temp_dir(id: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{TEMP_DIR_PREFIX}{id}"))
}

/// Whether `dir` has an entry whose name starts with `prefix`.
fn has_entry(dir: &str, prefix: &str) -> bool {
    fs::read_dir(dir).is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(prefix)))
    })
}

/// The id of the process that made a name with `prefix`.
fn maker(name: &str, prefix: &str) -> Option<u32> {
    let id = name.strip_prefix(prefix)?.get(..ID_DIGITS)?;
    if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(&id[..PID_DIGITS], 16).ok()
}

/// Whether a name with `prefix` belongs to a run that has ended.
pub(crate) fn stale(name: &str, prefix: &str) -> bool {
    maker(name, prefix).is_some_and(|pid| {
        pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists()
    })
}

/// [`reap_stale_runs`], once per process: what it finds of other processes
/// stays stale while this one runs.
pub(crate) fn reap_stale_runs_once() {
    static REAPED: Once = Once::new();
    REAPED.call_once(reap_stale_runs);
}

/// Removes what runs that were killed before their `Drop` ran left behind:
/// their namespaces with the processes in them, the sockets of their
/// wireguard-go, their /etc/netns dirs and their temp dirs. Names of
/// processes that still run are left alone.
pub fn reap_stale_runs() {
    let list = try_run(&["ip", "netns", "list"]).unwrap_or_default();
    let namespaces = list
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| stale(name, NETNS_PREFIX));
    for ns in namespaces {
        loud(&format!(
            "removing namespace {ns}, left behind by a killed run"
        ));
        // A namespace lives on as long as a process is in it.
        let pids = try_run(&["ip", "netns", "pids", ns]).unwrap_or_default();
        for pid in pids.split_whitespace().filter_map(|p| p.parse().ok()) {
            // SAFETY: kill has no memory preconditions; the process is in a
            // namespace of a run that has ended.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = try_run(&["ip", "netns", "del", ns]);
    }
    // wireguard-go removes its socket on SIGTERM, not on SIGKILL.
    remove_stale_entries(Path::new(WG_RUN), WG_PREFIX);
    remove_stale_entries(&std::env::temp_dir(), TEMP_DIR_PREFIX);
    etc_netns::reap();
}

/// Removes the entries of `dir` named with `prefix` by a run that has
/// ended; whether there were any.
pub(crate) fn remove_stale_entries(dir: &Path, prefix: &str) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        if !entry.file_name().to_str().is_some_and(|n| stale(n, prefix)) {
            continue;
        }
        let path = entry.path();
        loud(&format!(
            "removing {}, left behind by a killed run",
            path.display()
        ));
        let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed = true;
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maker_is_read_back_from_every_kind_of_name() {
        let id = format!("{:06x}2a", 0x3f_ffff);
        for (name, prefix) in [
            (format!("gvt{id}node"), NETNS_PREFIX),
            (format!("gvw{id}g1.sock"), WG_PREFIX),
            (format!("gvt-{id}"), TEMP_DIR_PREFIX),
        ] {
            assert_eq!(maker(&name, prefix), Some(0x3f_ffff), "{name}");
        }
    }

    #[test]
    fn foreign_names_have_no_maker() {
        for (name, prefix) in [
            ("wg0.sock", WG_PREFIX),
            ("gvw12.sock", WG_PREFIX),
            ("gvt-1234567", TEMP_DIR_PREFIX),
            ("gvt+12345node", NETNS_PREFIX),
            ("gvtabcdefgh", NETNS_PREFIX),
            ("systemd-private-0123456789", TEMP_DIR_PREFIX),
        ] {
            assert_eq!(maker(name, prefix), None, "{name}");
        }
    }

    #[test]
    fn only_names_of_ended_processes_are_stale() {
        let own = format!("gvt{:06x}00node", std::process::id());
        assert!(!stale(&own, NETNS_PREFIX));
        // pid 1 always runs
        assert!(!stale("gvt00000100node", NETNS_PREFIX));
        // above any pid_max: no such process
        assert!(stale("gvtffffff00node", NETNS_PREFIX));
    }

    #[test]
    fn ids_are_unique_and_leave_room_in_interface_names() {
        let (a, b) = (unused_id(), unused_id());
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.len(), ID_DIGITS, "{id}");
            assert_eq!(
                maker(&format!("gvw{id}"), WG_PREFIX),
                Some(std::process::id())
            );
        }
    }
}
