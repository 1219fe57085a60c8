//! The selector against real WireGuard (wireguard-go) in network namespaces
//! made by the tests: a node namespace with a wireguard-go interface, and a
//! gateway namespace with up to four wireguard-go gateways, one veth pair
//! between them. Four gateways are configured on the node:
//!
//! | peer | endpoint | when offline |
//! |---|---|---|
//! | gw1 | 198.18.0.2:51001 (IPv4) | nothing listens on the port |
//! | gw2 | [fd00::2]:51002 (IPv6) | nothing listens on the port |
//! | gw3 | gw3.gvt.test:51003, a name with an A and an AAAA record | nothing listens |
//! | gw4 | 198.18.0.9:51004 | the address does not exist (ARP unanswered) |
//!
//! Names come from a hosts file that `ip netns exec` puts over /etc/hosts
//! (/etc/netns/<namespace>/hosts), with nsswitch.conf set to `hosts: files`,
//! so no lookup leaves the namespace. Addresses are from 198.18.0.0/15 and
//! fd00::/8 only. Every namespace, process and file is removed when the
//! test ends, also when it fails (TestNet's `Drop`).
//!
//! Needs root, iproute2, wireguard-go, wireguard-tools, ping and (for the
//! time test) chrony; .ci/run installs them.

mod common;

use common::{unix_now, Lab, GW_LL};
use gluonvpn_testnet::{prerequisites_met, run};
use std::fs;
use std::time::{Duration, Instant};

#[test]
fn connects_to_the_live_gateway_survives_interface_loss_and_cleans_up() {
    let Some(mut lab) = Lab::new("connects_to_the_live_gateway") else {
        return;
    };
    lab.start_gateway(2);
    // an NTP server that never answers: the selector must not wait long
    fs::write(
        &lab.system,
        "config timeserver 'ntp'\n\tlist server '198.18.0.9'\n",
    )
    .unwrap();
    let pid_file = lab.net.dir().join("selector.pid");
    let started = Instant::now();
    let sel = lab.start_selector(&[
        "--ntp-timeout",
        "0.5",
        "--no-set-time",
        "--group",
        "nogroup",
        "--pid-file",
        pid_file.to_str().unwrap(),
    ]);
    lab.wait_log(
        sel,
        "Connection established with gw2",
        1,
        Duration::from_secs(10),
    );
    let took = started.elapsed();
    let log = lab.log(sel);
    assert!(log.contains("Loaded 4 peers."), "{log}");
    assert!(log.contains("Time synchronization failed"), "{log}");
    // 0.5 s for the NTP server, at most 3 × 0.2 s before gw2, process start
    assert!(took < Duration::from_secs(3), "took {took:?}\n{log}");

    // exactly gw2, with the allowed IP, no keepalive, and its route
    let peers = lab.node_peers();
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(lab.gw_name_of(&peers[0].0), 2);
    assert_eq!(peers[0].1, format!("{GW_LL}/128"));
    assert_eq!(peers[0].2, "off");
    assert!(lab.node_routes().contains(GW_LL), "{}", lab.node_routes());
    // traffic flows through it
    lab.ping().expect("ping through the tunnel");

    // status: the original's document
    let status = lab.status();
    assert!(
        status.starts_with("{\"peers\":{\"gw1\":[],\"gw2\":{\"established\":"),
        "{status}"
    );
    assert!(status.contains("\"gw3\":[],\"gw4\":[]}}"), "{status}");

    // --pid-file and --group
    let pid = lab.net.proc(sel).pid();
    assert_eq!(fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    let proc_status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let gid_line = proc_status.lines().find(|l| l.starts_with("Gid:")).unwrap();
    let nogroup = run(&["getent", "group", "nogroup"]);
    let gid = nogroup.split(':').nth(2).unwrap();
    assert!(
        gid_line.split_whitespace().skip(1).all(|g| g == gid),
        "{gid_line} (nogroup is {gid})"
    );

    // the interface goes away and comes back: the selector waits and
    // starts over
    lab.stop_node_interface();
    lab.wait_log(
        sel,
        "not present. Waiting for iface.",
        1,
        Duration::from_secs(5),
    );
    lab.start_node_interface();
    lab.wait_log(
        sel,
        "Connection established with gw2",
        2,
        Duration::from_secs(10),
    );
    let peers = lab.node_peers();
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(lab.gw_name_of(&peers[0].0), 2);
    assert!(lab.node_routes().contains(GW_LL), "{}", lab.node_routes());
    lab.ping().expect("ping through the new interface");

    lab.stop_selector_and_check_cleanup(sel);
    assert!(!pid_file.exists(), "pid file left");
}

#[test]
fn moves_to_another_gateway_when_its_gateway_goes_away() {
    let Some(mut lab) = Lab::new("moves_to_another_gateway") else {
        return;
    };
    lab.start_gateway(2);
    let sel = lab.start_selector(&[]);
    lab.wait_log(
        sel,
        "Connection established with gw2",
        1,
        Duration::from_secs(10),
    );
    lab.start_traffic();
    lab.ping().expect("ping through gw2");

    // gw2 goes away, gw3 (a name with two addresses) comes up
    lab.stop_gateway(2);
    let gone = Instant::now();
    lab.start_gateway(3);
    // the handshake with gw2 turns 150 s old, then the selector moves
    lab.wait_log(
        sel,
        "Connection established with gw3",
        1,
        Duration::from_secs(175),
    );
    let moved = gone.elapsed();
    let log = lab.log(sel);
    assert!(
        log.contains("Connection to gw2 lost: no handshake for 15"),
        "{log}"
    );
    // the handshake was made just before the gateway went away
    assert!(
        moved > Duration::from_secs(140),
        "moved after {moved:?}\n{log}"
    );
    assert!(log.contains("gw3.gvt.test:51003 resolves to"), "{log}");
    let peers = lab.node_peers();
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(lab.gw_name_of(&peers[0].0), 3);
    assert_eq!(peers[0].1, format!("{GW_LL}/128"));
    lab.ping().expect("ping through gw3");
    lab.stop_selector_and_check_cleanup(sel);
}

#[test]
fn stays_established_with_traffic_every_5_s_and_no_keepalive() {
    let Some(mut lab) = Lab::new("stays_established") else {
        return;
    };
    lab.start_gateway(1);
    let sel = lab.start_selector(&[]);
    lab.wait_log(
        sel,
        "Connection established with gw1",
        1,
        Duration::from_secs(10),
    );
    let established = Instant::now();
    let established_unix = unix_now();
    lab.start_traffic();
    // past WireGuard's rekey (120 s) and the 150 s rule
    std::thread::sleep(Duration::from_secs(170));
    let log = lab.log(sel);
    assert!(!log.contains("lost"), "{log}");
    assert_eq!(log.matches("Connection established").count(), 1, "{log}");
    let peers = lab.node_peers();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].2, "off", "no keepalive on the chosen peer");
    // the handshake was renewed by traffic alone
    let out = lab.net.exec(
        &lab.node,
        &["wg", "show", &lab.node_if, "latest-handshakes"],
    );
    let latest: u64 = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    // WireGuard renews the session when it sends 120 s after the handshake
    assert!(
        latest >= established_unix + 100,
        "latest handshake {} s after the connection",
        latest as i64 - established_unix as i64
    );
    let status = lab.status();
    let secs: u64 = status
        .split("\"established\":")
        .nth(1)
        .and_then(|r| r.split('}').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        secs + 2 >= established.elapsed().as_secs(),
        "{status} after {:?}",
        established.elapsed()
    );
    lab.stop_selector_and_check_cleanup(sel);
}

#[test]
fn asks_ntp_before_connecting() {
    if !prerequisites_met("asks_ntp_before_connecting", &["chronyd", "ss"]) {
        return;
    }
    let Some(mut lab) = Lab::new("asks_ntp_before_connecting") else {
        return;
    };
    // chrony serving its local clock at stratum 8, never touching the host's
    // clock, in the gateway namespace
    let gw = lab.gw.clone();
    lab.net.chrony_ntp_server(&gw);
    let dir = lab.net.dir().to_path_buf();
    lab.start_gateway(1);
    // a name for chrony from the system config, a dead address from the
    // command line: asked at the same time, the answer wins
    fs::write(
        &lab.system,
        "config timeserver 'ntp'\n\toption enabled '1'\n\tlist server 'ntp.gvt.test'\n",
    )
    .unwrap();
    let script = dir.join("settime");
    let record = dir.join("settime.out");
    fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" > {}\n", record.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let sel = lab.start_selector(&[
        "--ntp-server",
        "198.18.0.9",
        "--ntp-timeout",
        "2",
        "--set-time-command",
        script.to_str().unwrap(),
    ]);
    lab.wait_log(
        sel,
        "Connection established with gw1",
        1,
        Duration::from_secs(10),
    );
    let log = lab.log(sel);
    let synced = log
        .find("Time synchronization was successful (198.18.0.2, offset ")
        .unwrap_or_else(|| panic!("{log}"));
    let connected = log.find("Connection established").unwrap();
    assert!(synced < connected, "{log}");
    // the clock-setting command got the time
    let text = fs::read_to_string(&record).unwrap();
    let secs: i64 = text.trim().strip_prefix('@').unwrap().parse().unwrap();
    assert!((secs - unix_now() as i64).abs() < 5, "{text}");
    // SIGINT cleans up as SIGTERM does
    lab.stop_selector_with(sel, 2, "SIGINT");
}
