//! The userspace backend against the real wireguard-go, in network
//! namespaces, checked against what `wg show IF dump` (wireguard-tools, an
//! independent UAPI client) reports; and the kernel backend's errors where
//! the kernel has no WireGuard.

use gluonvpn_testnet::{wait_for, wg_keypair, TestNet};
use gluonvpn_wg::{
    AllowedIp, Backend, BackendKind, DeviceConfig, Key, PeerConfig, SecretKey, WireGuard,
};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::time::{Duration, SystemTime};

fn genkey() -> (SecretKey, Key) {
    let (private, public) = wg_keypair();
    (
        SecretKey::from_base64(&private).unwrap(),
        public.parse().unwrap(),
    )
}

/// One peer line of `wg show IF dump`.
#[derive(Debug, PartialEq)]
struct DumpPeer {
    endpoint: String,
    allowed_ips: Vec<String>,
    latest_handshake: u64,
    rx: u64,
    tx: u64,
    keepalive: String,
}

/// `wg show IF dump`: the interface line (private key, public key, port,
/// fwmark) and the peers by public key.
fn wg_dump(net: &TestNet, ns: &str, ifname: &str) -> (Vec<String>, BTreeMap<String, DumpPeer>) {
    let out = net.exec(ns, &["wg", "show", ifname, "dump"]);
    let mut lines = out.lines();
    let iface = lines
        .next()
        .unwrap()
        .split('\t')
        .map(str::to_string)
        .collect();
    let peers = lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let mut ips: Vec<String> = if f[3] == "(none)" {
                vec![]
            } else {
                f[3].split(',').map(str::to_string).collect()
            };
            ips.sort();
            (
                f[0].to_string(),
                DumpPeer {
                    endpoint: f[2].to_string(),
                    allowed_ips: ips,
                    latest_handshake: f[4].parse().unwrap(),
                    rx: f[5].parse().unwrap(),
                    tx: f[6].parse().unwrap(),
                    keepalive: f[7].to_string(),
                },
            )
        })
        .collect();
    (iface, peers)
}

/// Our view of the peers, in the shape of `wg show dump`.
fn our_dump(wg: &mut WireGuard) -> BTreeMap<String, DumpPeer> {
    wg.peers()
        .unwrap()
        .into_iter()
        .map(|p| {
            let mut ips: Vec<String> = p.allowed_ips.iter().map(|ip| ip.to_string()).collect();
            ips.sort();
            (
                p.public_key.to_string(),
                DumpPeer {
                    endpoint: p.endpoint.map_or("(none)".to_string(), |e| e.to_string()),
                    allowed_ips: ips,
                    latest_handshake: p.latest_handshake_secs(),
                    rx: p.rx_bytes,
                    tx: p.tx_bytes,
                    keepalive: p
                        .persistent_keepalive
                        .map_or("off".to_string(), |s| s.to_string()),
                },
            )
        })
        .collect()
}

fn ips(list: &[&str]) -> Vec<AllowedIp> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

#[test]
fn peers_are_managed_as_wg_sees_them() {
    let Some(mut net) = TestNet::new("peers_are_managed_as_wg_sees_them") else {
        return;
    };
    let ns = net.netns("p");
    let ifname = net.wg_name("p");
    net.wireguard_go(&ns, &ifname);

    let mut wg = WireGuard::open(&ifname).unwrap();
    assert_eq!(wg.backend(), BackendKind::Userspace);

    let (private, public) = genkey();
    wg.set_private_key(&private).unwrap();
    wg.set_listen_port(51820).unwrap();
    let device = wg.device().unwrap();
    assert!(device.has_private_key);
    assert_eq!(device.listen_port, 51820);
    assert!(device.peers.is_empty());
    let (iface, _) = wg_dump(&net, &ns, &ifname);
    assert_eq!(iface[1], public.to_string());
    assert_eq!(iface[2], "51820");

    let (_, k1) = genkey();
    let (_, k2) = genkey();
    wg.add_peer(
        k1,
        Some("198.18.0.2:51820".parse().unwrap()),
        ips(&["fe80::211:22ff:fe33:4455/128"]),
        25,
    )
    .unwrap();
    wg.set_peer(
        &PeerConfig::new(k2)
            .endpoint("[fd00::2]:4242".parse().unwrap())
            .add_allowed_ips(ips(&["198.18.4.0/24", "fd00:1::/64"])),
    )
    .unwrap();
    let (_, theirs) = wg_dump(&net, &ns, &ifname);
    let ours = our_dump(&mut wg);
    assert_eq!(ours, theirs);
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[&k1.to_string()].keepalive, "25");
    assert_eq!(ours[&k2.to_string()].endpoint, "[fd00::2]:4242");

    // replacing allowed IPs, adding some, and update_only on a missing peer
    wg.replace_allowed_ips(&k1, ips(&["fd00::2/128"])).unwrap();
    wg.set_peer(&PeerConfig::new(k2).add_allowed_ips(ips(&["198.18.5.1/32"])))
        .unwrap();
    let (_, missing) = genkey();
    wg.replace_allowed_ips(&missing, ips(&["fd00::3/128"]))
        .unwrap();
    let (_, theirs) = wg_dump(&net, &ns, &ifname);
    assert_eq!(our_dump(&mut wg), theirs);
    assert_eq!(theirs[&k1.to_string()].allowed_ips, vec!["fd00::2/128"]);
    assert_eq!(
        theirs[&k2.to_string()].allowed_ips,
        vec!["198.18.4.0/24", "198.18.5.1/32", "fd00:1::/64"]
    );
    assert!(!theirs.contains_key(&missing.to_string()));

    // keepalive off, then removal (twice: removing a missing peer is fine)
    wg.set_peer(&PeerConfig::new(k1).persistent_keepalive(0))
        .unwrap();
    wg.remove_peer(&k2).unwrap();
    wg.remove_peer(&k2).unwrap();
    let (_, theirs) = wg_dump(&net, &ns, &ifname);
    assert_eq!(our_dump(&mut wg), theirs);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[&k1.to_string()].keepalive, "off");

    // many peers in one request, replacing the others
    let many: Vec<Key> = (0..1000u32)
        .map(|i| {
            let mut b = [0u8; 32];
            b[..4].copy_from_slice(&i.to_be_bytes());
            b[31] = 0x42;
            Key(b)
        })
        .collect();
    wg.configure(&DeviceConfig {
        replace_peers: true,
        peers: many
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let ip = format!("fd00:2::{:x}/128", i + 1);
                PeerConfig::new(*k).replace_allowed_ips(ips(&[&ip]))
            })
            .collect(),
        ..DeviceConfig::default()
    })
    .unwrap();
    let (_, theirs) = wg_dump(&net, &ns, &ifname);
    assert_eq!(theirs.len(), 1000);
    assert!(!theirs.contains_key(&k1.to_string()));
    assert_eq!(our_dump(&mut wg), theirs);

    // a request wireguard-go refuses comes back as its errno
    let e = wg
        .set_peer(&PeerConfig::new(k1).replace_allowed_ips(vec![AllowedIp {
            addr: "198.18.0.1".parse().unwrap(),
            prefix_len: 33,
        }]))
        .unwrap_err();
    assert!(e.raw_os_error().is_some(), "{e}");
}

#[test]
fn handshakes_and_transfer_are_reported() {
    let Some(mut net) = TestNet::new("handshakes_and_transfer_are_reported") else {
        return;
    };
    let a = net.netns("a");
    let b = net.netns("b");
    net.veth(&a, "va", &b, "vb");
    net.ip(&a, &["addr", "add", "198.18.0.1/24", "dev", "va"]);
    net.ip(&b, &["addr", "add", "198.18.0.2/24", "dev", "vb"]);
    let wa = net.wg_name("a");
    let wb = net.wg_name("b");
    net.wireguard_go(&a, &wa);
    net.wireguard_go(&b, &wb);
    let (ska, pka) = genkey();
    let (skb, pkb) = genkey();

    let mut ga = WireGuard::open_with(&wa, Backend::Userspace).unwrap();
    let mut gb = WireGuard::open(&wb).unwrap();
    ga.configure(&DeviceConfig {
        private_key: Some(ska),
        listen_port: Some(51820),
        peers: vec![PeerConfig::new(pkb).replace_allowed_ips(ips(&["fd00::2/128"]))],
        ..DeviceConfig::default()
    })
    .unwrap();
    gb.set_private_key(&skb).unwrap();
    gb.add_peer(
        pka,
        Some("198.18.0.1:51820".parse().unwrap()),
        ips(&["fd00::1/128"]),
        0,
    )
    .unwrap();
    net.ip(&a, &["addr", "add", "fd00::1/128", "dev", &wa]);
    net.ip(&b, &["addr", "add", "fd00::2/128", "dev", &wb]);
    net.ip(&a, &["link", "set", &wa, "up"]);
    net.ip(&b, &["link", "set", &wb, "up"]);
    net.ip(&a, &["route", "add", "fd00::2/128", "dev", &wa]);
    net.ip(&b, &["route", "add", "fd00::1/128", "dev", &wb]);

    assert_eq!(ga.peers().unwrap()[0].latest_handshake, None);
    let before = SystemTime::now() - Duration::from_secs(1);
    net.exec(
        &b,
        &["ping", "-6", "-c", "2", "-i", "0.2", "-W", "5", "fd00::1"],
    );
    let peer = wait_for(Duration::from_secs(5), || {
        let p = ga.peers().unwrap().remove(0);
        p.latest_handshake.is_some().then_some(p)
    })
    .expect("a handshake");
    let age = peer.handshake_age(SystemTime::now()).unwrap();
    assert!(age < Duration::from_secs(10), "{age:?}");
    assert!(peer.latest_handshake.unwrap() >= before);
    assert!(peer.rx_bytes > 0 && peer.tx_bytes > 0);
    // the endpoint learnt from the handshake
    assert_eq!(peer.endpoint.unwrap().ip().to_string(), "198.18.0.2");

    let (_, theirs) = wg_dump(&net, &a, &wa);
    assert_eq!(our_dump(&mut ga), theirs);
    let (_, theirs) = wg_dump(&net, &b, &wb);
    assert_eq!(our_dump(&mut gb), theirs);
}

#[test]
fn missing_interfaces_are_not_found() {
    // no UAPI socket: the kernel, which has no such interface (or, as on
    // the test machines, no WireGuard at all)
    let mut wg = WireGuard::open("gvtnosuchwg0").unwrap();
    assert_eq!(wg.backend(), BackendKind::Kernel);
    let e = wg.device().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    let mut wg = WireGuard::open_with("gvtnosuchwg0", Backend::Userspace).unwrap();
    let e = wg.peers().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
