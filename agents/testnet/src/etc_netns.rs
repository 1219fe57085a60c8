//! Files that `ip netns exec` puts over the host's /etc for one namespace,
//! /etc/netns/<namespace>/<file>: a hosts file, nsswitch.conf, resolv.conf.
//!
//! /etc/netns itself is shared by every namespace on the machine and by
//! runs in parallel: it is made where it is missing, and removed again only
//! by the process that made it, and only once it is empty.

use crate::names::{remove_stale_entries, NETNS_PREFIX};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

const ETC_NETNS: &str = "/etc/netns";

/// Whether this process made /etc/netns. The lock also keeps the test
/// networks of this process from removing it while another one writes.
static MADE_HERE: Mutex<bool> = Mutex::new(false);

/// Writes /etc/netns/`ns`/`name`; returns /etc/netns/`ns`.
pub(crate) fn write(ns: &str, name: &str, text: &str) -> PathBuf {
    let root = Path::new(ETC_NETNS);
    let dir = root.join(ns);
    let mut made_here = MADE_HERE.lock().unwrap_or_else(PoisonError::into_inner);
    // Another run may remove an empty /etc/netns between the two steps.
    for attempt in 0.. {
        match fs::create_dir(root) {
            Ok(()) => *made_here = true,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => panic!("creating {ETC_NETNS}: {e}"),
        }
        match fs::create_dir(&dir) {
            Ok(()) => break,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => break,
            Err(e) if e.kind() == ErrorKind::NotFound && attempt < 5 => continue,
            Err(e) => panic!("creating {}: {e}", dir.display()),
        }
    }
    let file = dir.join(name);
    fs::write(&file, text).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
    dir
}

/// Removes the dirs of [`write`], then /etc/netns if this process made it
/// and nothing else is in it.
pub(crate) fn remove(dirs: &[PathBuf]) {
    let mut made_here = MADE_HERE.lock().unwrap_or_else(PoisonError::into_inner);
    for dir in dirs {
        let _ = fs::remove_dir_all(dir);
    }
    // remove_dir fails while other namespaces have files there
    if *made_here && fs::remove_dir(ETC_NETNS).is_ok() {
        *made_here = false;
    }
}

/// Removes the /etc/netns dirs of runs that have ended, and /etc/netns
/// with them when nothing else is in it: such a run made it, or it held
/// nothing before.
pub(crate) fn reap() {
    let _lock = MADE_HERE.lock().unwrap_or_else(PoisonError::into_inner);
    if remove_stale_entries(Path::new(ETC_NETNS), NETNS_PREFIX) {
        let _ = fs::remove_dir(ETC_NETNS);
    }
}
