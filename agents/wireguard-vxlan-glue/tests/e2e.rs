//! The glue binary on a gateway with wireguard-go and Gluon-like nodes in
//! network namespaces (see common/mod.rs): entries appear after a
//! handshake, carry traffic over the VXLAN, vanish when the peer goes
//! stale, leftovers of an earlier run are removed, and SIGTERM/SIGINT
//! remove everything. All namespaces and processes go when a test ends,
//! also when it fails.

mod common;

use common::{glue, Testbed};
use gluonvpn_testnet::wait_for;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant, SystemTime};

/// A Gluon-form address no node has: what an earlier run left behind.
const LEFTOVER: &str = "fe80::211:22ff:fe33:4455";
/// An all-zero FDB entry that is not the glue's (not of a node's form).
const FOREIGN: &str = "fe80::1234";

fn ll(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Waits until `f` holds, at most `timeout`; how long that took.
fn until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    wait_for(timeout, || f().then_some(()))
        .unwrap_or_else(|| panic!("{what}: not within {timeout:?}"));
    start.elapsed()
}

fn age(t: SystemTime) -> Duration {
    SystemTime::now().duration_since(t).unwrap_or_default()
}

fn add_leftovers(tb: &Testbed) {
    for dst in [LEFTOVER, FOREIGN] {
        tb.net.ip(
            &tb.gw,
            &[
                "-6",
                "route",
                "add",
                &format!("{dst}/128"),
                "dev",
                &tb.gw_wg,
                "proto",
                "129",
            ],
        );
        tb.net.exec(
            &tb.gw,
            &[
                "bridge",
                "fdb",
                "append",
                "00:00:00:00:00:00",
                "dev",
                &tb.vx,
                "dst",
                dst,
            ],
        );
    }
    // a route of another protocol to a node's form of address stays
    tb.net.ip(
        &tb.gw,
        &[
            "-6",
            "route",
            "add",
            "fe80::2aa:bbff:fecc:ddee/128",
            "dev",
            &tb.gw_wg,
            "proto",
            "static",
        ],
    );
}

#[test]
fn entries_follow_handshakes() {
    let Some(mut tb) = Testbed::new("entries_follow_handshakes", 2) else {
        return;
    };
    add_leftovers(&tb);
    assert!(tb.fdb().contains(&ll(LEFTOVER)));
    let interval = Duration::from_secs(1);
    let stale_after = Duration::from_secs(6);
    let glue = tb.start_glue(&["--interval", "1", "--stale-after", "6"]);

    // at start: proto-129 routes flushed, leftover FDB entries of the
    // glue's kind removed, everything else kept
    if wait_for(Duration::from_secs(3), || {
        (!tb.fdb().contains(&ll(LEFTOVER)) && tb.glue_routes().is_empty()).then_some(())
    })
    .is_none()
    {
        panic!(
            "leftovers not removed: fdb {:?}, routes {:?}, log:\n{}\n{}",
            tb.fdb(),
            tb.glue_routes(),
            tb.net.proc(glue).output(),
            tb.net.proc(glue).errors()
        );
    }
    assert!(tb.fdb().contains(&ll(FOREIGN)));
    let other = tb
        .net
        .ip(&tb.gw, &["-6", "route", "show", "proto", "static"]);
    assert!(other.contains("fe80::2aa:bbff:fecc:ddee"), "{other}");
    assert!(!tb.net.proc(glue).output().is_empty());
    assert!(tb
        .net
        .proc(glue)
        .output()
        .contains("Initial cleanup: Deleted 2 route(s) with proto wg-vxlan-glue."));

    // no handshake, no entries
    assert_eq!(tb.installed(0), (false, false));

    // a handshake: both appear within the poll interval
    tb.poke(0);
    let hs0 = wait_for(Duration::from_secs(5), || tb.handshake(0)).expect("handshake");
    until(
        interval + Duration::from_secs(2),
        "entries of node 1",
        || tb.installed(0) == (true, true),
    );
    let latency = age(hs0);
    assert!(
        latency < interval + Duration::from_millis(700),
        "handshake to entries took {latency:?}"
    );
    assert_eq!(tb.installed(1), (false, false));

    // traffic over the VXLAN, both ways
    let n0 = &tb.nodes[0];
    tb.net.exec(
        &n0.ns,
        &["ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "fd00::1"],
    );
    tb.net.exec(
        &tb.gw,
        &["ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", &n0.ula],
    );

    // the second node
    tb.poke(1);
    let hs1 = wait_for(Duration::from_secs(5), || tb.handshake(1)).expect("handshake");
    until(
        interval + Duration::from_secs(2),
        "entries of node 2",
        || tb.installed(1) == (true, true),
    );
    assert!(age(hs1) < interval + Duration::from_millis(700));
    assert_eq!(tb.installed(0), (true, true));

    // an entry removed behind the glue's back comes back
    let lladdr1 = tb.nodes[1].lladdr.to_string();
    tb.net.exec(
        &tb.gw,
        &[
            "bridge",
            "fdb",
            "del",
            "00:00:00:00:00:00",
            "dev",
            &tb.vx,
            "dst",
            &lladdr1,
        ],
    );
    until(interval + Duration::from_secs(1), "repaired entry", || {
        tb.installed(1) == (true, true)
    });

    // node 1 goes stale stale_after after its handshake (no new one: the
    // session lasts two minutes), node 2 a little later
    until(Duration::from_secs(15), "node 1 stale", || {
        tb.installed(0) == (false, false)
    });
    let gone = age(hs0);
    assert!(
        gone >= stale_after && gone < stale_after + interval + Duration::from_millis(700),
        "node 1 removed {gone:?} after its handshake"
    );
    until(Duration::from_secs(15), "node 2 stale", || {
        tb.installed(1) == (false, false)
    });
    assert!(age(hs1) >= stale_after);

    // SIGINT ends it like SIGTERM
    let p = tb.net.proc(glue);
    p.signal(libc::SIGINT);
    let status = p.wait(Duration::from_secs(5)).expect("exit after SIGINT");
    assert!(status.success(), "{status:?}");
    let log = p.output();
    let key0 = &tb.nodes[0].public_key;
    for line in [
        format!(
            "Installed route and fdb entry for {key0} ({}, {})",
            tb.gw_wg, tb.vx
        ),
        format!(
            "Removed route and fdb entry for {key0} ({}, {}).",
            tb.gw_wg, tb.vx
        ),
        format!(
            "Removed fdb entry for {LEFTOVER} ({}, {}).",
            tb.gw_wg, tb.vx
        ),
        "Received SIGINT. Exiting...".to_string(),
    ] {
        assert!(log.lines().any(|l| l == line), "no line {line:?} in\n{log}");
    }
    assert_eq!(p.errors(), "", "errors logged");
    // the foreign entry is untouched to the end
    assert!(tb.fdb().contains(&ll(FOREIGN)));
}

#[test]
fn sigterm_removes_everything() {
    let Some(mut tb) = Testbed::new("sigterm_removes_everything", 2) else {
        return;
    };
    add_leftovers(&tb);
    // started from a config file in the original's format
    let config = tb.net.dir().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"interfaces": {{"wireguard": ["{}"], "vxlan": ["{}"]}}}}"#,
            tb.gw_wg, tb.vx
        ),
    )
    .unwrap();
    let gw = tb.gw.clone();
    let glue = tb.net.spawn(
        &gw,
        "glue",
        &[
            glue().iter().map(String::as_str).collect(),
            vec!["-c", config.to_str().unwrap(), "--no-proto-name"],
        ]
        .concat(),
        true,
    );
    tb.poke(0);
    tb.poke(1);
    until(Duration::from_secs(5), "entries of both nodes", || {
        tb.installed(0) == (true, true) && tb.installed(1) == (true, true)
    });
    assert_eq!(tb.fdb().len(), 3, "two nodes and the foreign entry");

    let p = tb.net.proc(glue);
    p.signal(libc::SIGTERM);
    let status = p.wait(Duration::from_secs(5)).expect("exit after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert_eq!(tb.fdb(), vec![ll(FOREIGN)]);
    assert_eq!(tb.glue_routes(), vec![]);
    let log = tb.net.proc(glue).output();
    assert!(log.contains("Received SIGTERM. Exiting..."), "{log}");
    for n in &tb.nodes {
        let line = format!(
            "Removed route and fdb entry for {} ({}, {}).",
            n.public_key, tb.gw_wg, tb.vx
        );
        assert!(log.lines().any(|l| l == line), "no line {line:?} in\n{log}");
    }
}

#[test]
fn interfaces_are_checked_at_start() {
    let Some(tb) = Testbed::new("interfaces_are_checked_at_start", 0) else {
        return;
    };
    let run = |args: &[&str]| {
        let glue = glue();
        let mut full = vec!["ip", "netns", "exec", tb.gw.as_str()];
        full.extend(glue.iter().map(String::as_str));
        full.extend_from_slice(args);
        let out = std::process::Command::new(full[0])
            .args(&full[1..])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = run(&["-w", "nosuchwg", "-x", &tb.vx, "--no-proto-name"]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("Iface nosuchwg does not exist! Exiting..."),
        "{out}"
    );
    // a VXLAN where a WireGuard interface belongs
    let (code, out) = run(&["-w", &tb.vx, "-x", &tb.vx, "--no-proto-name"]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains(&format!(
            "Iface {} is wrong type! Should be wireguard, but is vxlan. Exiting...",
            tb.vx
        )),
        "{out}"
    );
    let (code, out) = run(&["-w", &tb.gw_wg]);
    assert_eq!(code, Some(1));
    assert!(out.contains("equal amount"), "{out}");
    let (code, _) = run(&["--bogus"]);
    assert_eq!(code, Some(2));
    let (code, out) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("--stale-after"));
}
