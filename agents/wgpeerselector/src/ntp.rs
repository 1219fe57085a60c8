//! Setting the clock before connecting, as the original does with
//! `ntpd -n -N -q -p <servers>`.
//!
//! WireGuard refuses a handshake whose timestamp is not newer than the last
//! one it accepted from the same peer. A router without a real-time clock
//! boots with an old time, so a gateway it talked to before the reboot
//! ignores it until its clock has caught up. The selector therefore asks
//! the system's NTP servers (`system.ntp.server`, plus `--ntp-server`) for
//! the time first: one SNTP request (through the `rsntp` crate) to every
//! address of every server at once; the first valid answer sets the clock.
//!
//! The first attempt holds back the first connection for at most
//! `--ntp-timeout` (plus a second for the names). Gluon sites often name
//! NTP servers that are only reachable through the mesh, so a failure does
//! not stop the selector: it connects anyway (a gateway that never saw the
//! node accepts it) and keeps asking in the background, every 5 s at first
//! and then less often, until an answer comes — as the original retries on
//! every turn of its main loop.

use crate::{debug, info, warn};
use rsntp::{Config, SntpClient, SynchronizationError};
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How the clock is set once the time is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetTime {
    /// `clock_settime(CLOCK_REALTIME)` when off by at least
    /// [`STEP_THRESHOLD`] and running as root (as `ntpd -q` steps).
    Clock,
    /// Runs this command (split on whitespace, no shell) with `@SECONDS`
    /// (the time in whole seconds since the Unix epoch) appended — `date
    /// -s` takes that — after every successful synchronisation, however
    /// small the offset: the command decides.
    Command(String),
    /// Only ask (for tests and for systems whose clock is set otherwise).
    Off,
}

/// `ntpd -q` steps the clock when it is off by more than 125 ms and slews
/// it otherwise; slewing a few milliseconds is the system ntpd's job, not
/// the selector's, so smaller offsets are left alone (microseconds).
pub const STEP_THRESHOLD_US: i64 = 125_000;

/// The NTP port.
pub const PORT: u16 = 123;

/// What the time synchronisation needs.
#[derive(Clone, Debug)]
pub struct TimeSync {
    pub servers: Vec<String>,
    /// How long to wait for an answer.
    pub timeout: Duration,
    pub set_time: SetTime,
}

/// The outcome of one attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// The server's clock minus ours, in microseconds.
    Synced {
        server: SocketAddr,
        offset_us: i64,
    },
    Failed(String),
}

/// Every address of every server (a name may have several), in order,
/// without duplicates; names that do not resolve are reported.
fn resolve(servers: &[String]) -> (Vec<SocketAddr>, Vec<String>) {
    let mut addrs = Vec::new();
    let mut problems = Vec::new();
    for server in servers {
        match (server.as_str(), PORT).to_socket_addrs() {
            Ok(found) => {
                for a in found {
                    if !addrs.contains(&a) {
                        addrs.push(a);
                    }
                }
            }
            Err(e) => problems.push(format!("DNS resolution of NTP server {server} failed: {e}")),
        }
    }
    (addrs, problems)
}

/// Asks all addresses at once; the first valid answer.
fn ask(addrs: &[SocketAddr], timeout: Duration) -> Result<(SocketAddr, i64), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for &addr in addrs {
            let tx = tx.clone();
            scope.spawn(move || {
                let bind: IpAddr = match addr {
                    SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
                    SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
                };
                let client = SntpClient::with_config(
                    Config::default()
                        .bind_address(SocketAddr::new(bind, 0))
                        .timeout(timeout),
                );
                let result = client
                    .synchronize(addr)
                    .map(|r| (r.clock_offset().as_secs_f64() * 1e6).round() as i64)
                    .map_err(|e| match e {
                        SynchronizationError::IOError(io)
                            if matches!(io.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            format!("{addr}: no answer")
                        }
                        e => format!("{addr}: {e}"),
                    });
                let _ = tx.send((addr, result));
            });
        }
        drop(tx);
        // the first success wins; the others finish on their own
        let mut errors = Vec::new();
        for (addr, result) in rx {
            match result {
                Ok(offset) => return Ok((addr, offset)),
                Err(e) => {
                    debug!("No time from {e}.");
                    errors.push(addr.ip().to_string());
                }
            }
        }
        Err(format!(
            "no answer from {} within {}",
            errors.join(", "),
            crate::log::duration(timeout)
        ))
    })
}

/// One attempt: resolve, ask, set the clock.
pub fn attempt(sync: &TimeSync) -> Attempt {
    let (addrs, problems) = resolve(&sync.servers);
    for p in &problems {
        warn!("{p}");
    }
    if addrs.is_empty() {
        return Attempt::Failed("no (valid) DNS result for the NTP servers".into());
    }
    match ask(&addrs, sync.timeout) {
        Ok((server, offset_us)) => {
            apply(&sync.set_time, offset_us);
            Attempt::Synced { server, offset_us }
        }
        Err(e) => Attempt::Failed(e),
    }
}

fn apply(set_time: &SetTime, offset_us: i64) {
    let offset = crate::log::seconds(offset_us, 3, true);
    match set_time {
        SetTime::Off => debug!("Not setting the clock (--no-set-time)."),
        SetTime::Command(cmd) => {
            let mut words = cmd.split_whitespace();
            let Some(program) = words.next() else { return };
            let now_us = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros() as i64;
            let target = (now_us + offset_us + 500_000).div_euclid(1_000_000);
            let status = Command::new(program)
                .args(words)
                .arg(format!("@{target}"))
                .status();
            match status {
                Ok(s) if s.success() => debug!("{cmd} @{target}: done."),
                Ok(s) => warn!("{cmd} @{target}: {s}"),
                Err(e) => warn!("{cmd}: {e}"),
            }
        }
        SetTime::Clock => {
            if offset_us.abs() < STEP_THRESHOLD_US {
                debug!("The clock is right to {offset} s; not setting it.");
                return;
            }
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                warn!("Not root: cannot set the clock (off by {offset} s).");
                return;
            }
            match step_clock(offset_us) {
                Ok(()) => info!("Clock stepped by {offset} s."),
                Err(e) => warn!("Cannot set the clock: {e}"),
            }
        }
    }
}

/// Moves the wall clock by `offset_us` microseconds.
fn step_clock(offset_us: i64) -> std::io::Result<()> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid pointers to a timespec.
    unsafe {
        if libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let total_ns =
            now.tv_sec as i128 * 1_000_000_000 + now.tv_nsec as i128 + offset_us as i128 * 1000;
        let target = libc::timespec {
            tv_sec: total_ns.div_euclid(1_000_000_000) as _,
            tv_nsec: total_ns.rem_euclid(1_000_000_000) as _,
        };
        if libc::clock_settime(libc::CLOCK_REALTIME, &target) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs attempts until one succeeds: `first` is told when the first one is
/// over (whatever its outcome), so that the first connection can wait for
/// it. Meant for its own thread.
pub fn run(sync: TimeSync, first: impl FnOnce()) {
    let mut first = Some(first);
    let mut pause = Duration::from_secs(5);
    let mut failures = 0u32;
    loop {
        match attempt(&sync) {
            Attempt::Synced { server, offset_us } => {
                info!(
                    "Time synchronization was successful ({}, offset {} s).",
                    server.ip(),
                    crate::log::seconds(offset_us, 3, true)
                );
                if let Some(f) = first.take() {
                    f();
                }
                return;
            }
            Attempt::Failed(why) => {
                failures += 1;
                // the first failure is news; the retries only with -v
                if failures == 1 {
                    warn!("Time synchronization failed: {why}; trying again in the background.");
                } else {
                    debug!("Time synchronization failed again: {why}.");
                }
                if let Some(f) = first.take() {
                    f();
                }
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(60));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_literals_and_bad_names() {
        let (addrs, problems) = resolve(&[
            "198.18.0.1".into(),
            "fd00::123".into(),
            "198.18.0.1".into(),
            "bad name".into(),
        ]);
        assert_eq!(
            addrs,
            vec![
                "198.18.0.1:123".parse::<SocketAddr>().unwrap(),
                "[fd00::123]:123".parse().unwrap()
            ]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn nothing_to_ask_fails_at_once() {
        let sync = TimeSync {
            servers: vec![],
            timeout: Duration::from_millis(100),
            set_time: SetTime::Off,
        };
        assert!(matches!(attempt(&sync), Attempt::Failed(_)));
    }

    #[test]
    fn the_command_gets_the_time() {
        let dir = std::env::temp_dir().join(format!("wgps-ntp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("settime");
        let out = dir.join("out");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$@\" > {}\n", out.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        apply(
            &SetTime::Command(format!("{} -s", script.display())),
            3_600_500_000,
        );
        let text = std::fs::read_to_string(&out).unwrap();
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(words[0], "-s");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let target: i64 = words[1].strip_prefix('@').unwrap().parse().unwrap();
        assert!((target - now - 3600).abs() <= 2, "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
