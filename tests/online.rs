//! `gluonvpn check --online` against a real network: two network namespaces
//! made by the test (gluonvpn-testnet) and joined by a veth pair, a real
//! chrony NTP server in one, gluonvpn in the other, names from a hosts file
//! that `ip netns exec` puts over /etc/hosts (/etc/netns/<namespace>/hosts),
//! nsswitch.conf set to `hosts: files` so that no lookup goes to DNS.
//!
//! Addresses are from 198.18.0.0/15 and fd00::/8 only, and exist only inside
//! the namespaces: nothing reaches the host's network. Every namespace,
//! process and file the test makes is removed by the `TestNet`'s `Drop`,
//! also when an assertion fails.
//!
//! Needs root, iproute2 (`ip`, `ss`) and chrony (`chronyd`); .ci/run installs
//! them. Elsewhere the tests say why they skip; under CI (`CI` set) a missing
//! prerequisite fails them instead.

use gluonvpn_testnet::TestNet;
use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

const SERVER_V4: &str = "198.18.0.1";
const CLIENT_V4: &str = "198.18.0.2";
/// In the subnet, but nobody has it: ARP goes unanswered.
const NOBODY_V4: &str = "198.18.0.3";
const SERVER_V6: &str = "fd00:6c::1";
const CLIENT_V6: &str = "fd00:6c::2";

const TOOLS: &[&str] = &["ip", "ss", "chronyd"];

/// A server namespace and a client namespace joined by a veth pair, the
/// client's name service files, and optionally chronyd in the server.
struct Lab {
    net: TestNet,
    server: String,
    client: String,
    chronyd: Option<usize>,
}

impl Lab {
    /// `hosts`: the client's /etc/hosts; `extra_server`: more addresses of
    /// the server (CIDR); `ntp`: start chronyd. `None` where `test` cannot
    /// run.
    fn new(test: &str, hosts: &str, extra_server: &[&str], ntp: bool) -> Option<Lab> {
        let mut net = TestNet::with_tools(test, TOOLS)?;
        let server = net.netns("s");
        let client = net.netns("c");
        net.veth(&server, "v0", &client, "v1");
        let (s, c) = (server.as_str(), client.as_str());
        net.ip(s, &["addr", "add", &format!("{SERVER_V4}/24"), "dev", "v0"]);
        net.ip(c, &["addr", "add", &format!("{CLIENT_V4}/24"), "dev", "v1"]);
        for (ns, dev, address) in [(s, "v0", SERVER_V6), (c, "v1", CLIENT_V6)] {
            net.ip(
                ns,
                &["addr", "add", &format!("{address}/64"), "dev", dev, "nodad"],
            );
        }
        for address in extra_server {
            let mut args = vec!["addr", "add", address, "dev", "v0"];
            if address.contains(':') {
                args.push("nodad");
            }
            net.ip(s, &args);
        }

        // Name service of the client: the hosts file only; the resolver, were
        // it asked, would ask the server namespace (where nothing listens).
        net.netns_file(c, "hosts", hosts);
        net.netns_file(
            c,
            "nsswitch.conf",
            "passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nprotocols: files\nservices: files\n",
        );
        net.netns_file(
            c,
            "resolv.conf",
            &format!("nameserver {SERVER_V4}\noptions timeout:1 attempts:1\n"),
        );
        let chronyd = ntp.then(|| net.chrony_ntp_server(&server));
        Some(Lab {
            net,
            server,
            client,
            chronyd,
        })
    }

    fn chronyd_log(&mut self) -> String {
        let index = self.chronyd.expect("chronyd runs");
        self.net.proc(index).log()
    }

    /// Runs gluonvpn in the client namespace; returns its output and how
    /// long it took.
    fn gluonvpn(&self, args: &[&str]) -> (Output, Duration) {
        let started = Instant::now();
        let out = self
            .net
            .command(&self.client, env!("CARGO_BIN_EXE_gluonvpn"), args)
            .env_remove("NO_COLOR")
            .output()
            .expect("runs gluonvpn");
        let elapsed = started.elapsed();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "gluonvpn {}: {:?}\n{}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out, elapsed)
    }

    /// UDP and TCP packets that arrived in the server namespace: from
    /// /proc/net/snmp and /proc/net/snmp6, which are per namespace.
    fn server_transport_packets(&self) -> u64 {
        let read = |file: &str| self.net.exec(&self.server, &["cat", file]);
        let snmp = read("/proc/net/snmp");
        let mut total = 0;
        let lines: Vec<&str> = snmp.lines().collect();
        for pair in lines.chunks(2) {
            let [header, values] = pair else { continue };
            let (Some((table, names)), Some((same, numbers))) =
                (header.split_once(": "), values.split_once(": "))
            else {
                continue;
            };
            if table != same || !matches!(table, "Udp" | "Tcp") {
                continue;
            }
            for (name, number) in names.split_whitespace().zip(numbers.split_whitespace()) {
                if matches!(name, "InDatagrams" | "NoPorts" | "InErrors" | "InSegs") {
                    total += number.parse::<u64>().unwrap_or(0);
                }
            }
        }
        for line in read("/proc/net/snmp6").lines() {
            let mut words = line.split_whitespace();
            if let (Some("Udp6InDatagrams" | "Udp6NoPorts" | "Udp6InErrors"), Some(n)) =
                (words.next(), words.next())
            {
                total += n.parse::<u64>().unwrap_or(0);
            }
        }
        total
    }
}

/// A site written by the test into the lab's temp dir: `extra` spliced into
/// site.conf, the features selected in image-customization.lua.
fn site(lab: &Lab, name: &str, extra: &str, features: &[&str]) -> PathBuf {
    let dir = lab.net.dir().join(name);
    fs::create_dir(&dir).expect("site dir");
    let conf = format!(
        "{{\n  site_code = 'fft', site_name = 'Test', timezone = 'UTC',\n  domain_seed = '{seed}',\n  prefix4 = '10.0.0.0/16', prefix6 = 'fd00::/64',\n  mesh = {{ vxlan = true, batman_adv = {{ routing_algo = 'BATMAN_IV' }} }},\n{extra}\n}}\n",
        seed = "ab".repeat(32)
    );
    fs::write(dir.join("site.conf"), conf).expect("write");
    fs::write(dir.join("site.mk"), "GLUON_RELEASE := 1.0\n").expect("write");
    let list: Vec<String> = features.iter().map(|f| format!("'{f}'")).collect();
    fs::write(
        dir.join("image-customization.lua"),
        format!("features {{ {} }}\n", list.join(", ")),
    )
    .expect("write");
    dir
}

fn fastd_section(remotes: &[&str]) -> String {
    let list: Vec<String> = remotes.iter().map(|r| format!("'{r}'")).collect();
    format!(
        "  mesh_vpn = {{ fastd = {{ mtu = 1312, methods = {{ 'salsa2012+umac' }}, groups = {{ backbone = {{ limit = 1, peers = {{ gw1 = {{ key = '{key}', remotes = {{ {} }} }} }} }} }} }} }},",
        list.join(", "),
        key = "0a".repeat(32)
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The one diagnostic at a configuration path with a GV5xx code.
fn probe_finding<'d>(doc: &'d serde_json::Value, path: &str) -> &'d serde_json::Value {
    let found: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["path"] == path && d["code"].as_str().is_some_and(|c| c.starts_with("GV5")))
        .collect();
    assert_eq!(found.len(), 1, "{path}: {found:#?}\n{doc:#}");
    found[0]
}

/// Every diagnostic at a configuration path, whatever its code.
fn findings_at<'d>(doc: &'d serde_json::Value, path: &str) -> Vec<&'d serde_json::Value> {
    doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["path"] == path)
        .collect()
}

fn probe_codes(doc: &serde_json::Value) -> Vec<String> {
    doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .filter(|c| c.starts_with("GV5"))
        .map(str::to_string)
        .collect()
}

#[test]
fn ntp_servers_are_asked_for_the_time() {
    let hosts = format!(
        "127.0.0.1 localhost\n::1 localhost\n\
         {SERVER_V4} ntp.gluonvpn.test\n{SERVER_V6} ntp.gluonvpn.test\n\
         {NOBODY_V4} dual.gluonvpn.test\n{SERVER_V6} dual.gluonvpn.test\n\
         {SERVER_V4} gw.gluonvpn.test\n"
    );
    let Some(mut lab) = Lab::new("ntp_servers_are_asked_for_the_time", &hosts, &[], true) else {
        return;
    };
    let ntp = format!(
        "  ntp_servers = {{ '{SERVER_V4}', '{NOBODY_V4}', 'ntp.gluonvpn.test', 'dual.gluonvpn.test', 'missing.gluonvpn.test', '{SERVER_V6}' }},\n{}",
        fastd_section(&["\"gw.gluonvpn.test\" port 10000"])
    );
    let site = site(&lab, "ntp", &ntp, &["mesh-batman-adv-15", "mesh-vpn-fastd"]);
    let path = site.to_str().expect("path");

    // Offline, nothing changes: no probe, no GV5xx.
    let (offline, _) = lab.gluonvpn(&["check", path, "--format", "json"]);
    let offline = json(&offline);
    assert_eq!(offline["online"], false);
    assert!(probe_codes(&offline).is_empty(), "{offline:#}");

    let before = lab.server_transport_packets();
    let (out, elapsed) = lab.gluonvpn(&["check", path, "--online", "--format", "json"]);
    let doc = json(&out);
    assert_eq!(doc["online"], true);
    // Two requests of 2 s to the silent address bound the run.
    assert!(
        elapsed < Duration::from_secs(8),
        "took {elapsed:?}; chronyd: {}",
        lab.chronyd_log()
    );
    assert!(
        lab.server_transport_packets() > before,
        "chrony received nothing"
    );

    // The chrony server, as an IPv4 literal: chrony's `local stratum 8`
    // serves stratum 8 (measured: the stratum is not raised by one).
    let d = probe_finding(&doc, "ntp_servers.1");
    assert_eq!(d["code"], "GV501", "{d:#}");
    assert_eq!(d["severity"], "info");
    assert_eq!(d["file"], "site.conf");
    let probe = &d["probe"];
    assert_eq!(probe["kind"], "ntp-server");
    assert_eq!(probe["answered_by"], SERVER_V4);
    assert_eq!(probe["stratum"], 8);
    let delay = probe["delay_ms"].as_f64().expect("delay");
    assert!((0.0..500.0).contains(&delay), "delay {delay} ms");
    let offset = probe["offset_ms"].as_f64().expect("offset");
    assert!(offset.abs() < 500.0, "offset {offset} ms (same clock)");
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("stratum 8") && m.contains("delay")),
        "{d:#}"
    );

    // An address in the subnet that nobody has: no reply.
    let d = probe_finding(&doc, "ntp_servers.2");
    assert_eq!(d["code"], "GV502", "{d:#}");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["probe"]["ntp"][0]["answered"], false);

    // A name with an A and an AAAA record, both chrony: both asked.
    let d = probe_finding(&doc, "ntp_servers.3");
    assert_eq!(d["code"], "GV501", "{d:#}");
    let addresses = d["probe"]["addresses"].as_array().expect("addresses");
    assert!(
        addresses.contains(&SERVER_V4.into()) && addresses.contains(&SERVER_V6.into()),
        "{d:#}"
    );
    assert!(
        d["probe"]["ntp"]
            .as_array()
            .is_some_and(|r| r.len() == 2 && r.iter().all(|a| a["answered"] == true)),
        "{d:#}"
    );

    // A name whose IPv4 address is dead and whose IPv6 address answers:
    // reachable, and the dead address is named.
    let d = probe_finding(&doc, "ntp_servers.4");
    assert_eq!(d["code"], "GV501", "{d:#}");
    assert_eq!(d["probe"]["answered_by"], SERVER_V6);
    assert!(
        d["notes"].as_array().is_some_and(|notes| notes
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.starts_with(NOBODY_V4)))),
        "{d:#}"
    );

    // A name the hosts file does not have.
    let d = probe_finding(&doc, "ntp_servers.5");
    assert_eq!(d["code"], "GV503", "{d:#}");
    assert!(d["probe"]["resolve_error"].is_string());

    // The chrony server over IPv6.
    let d = probe_finding(&doc, "ntp_servers.6");
    assert_eq!(d["code"], "GV501", "{d:#}");
    assert_eq!(d["probe"]["stratum"], 8);

    // The fastd remote resolves: nothing to report.
    assert_eq!(probe_codes(&doc).len(), 6, "{doc:#}");

    // The human output shows what was measured.
    let small = self::site(
        &lab,
        "small",
        "  ntp_servers = { 'ntp.gluonvpn.test' },\n",
        &["mesh-batman-adv-15"],
    );
    let (out, elapsed) = lab.gluonvpn(&["check", small.to_str().expect("path"), "--online"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("GV501/ntp-server-answered") && text.contains("stratum 8"),
        "{text}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn vpn_endpoints_are_resolved_and_not_contacted() {
    // The gateways' addresses exist, on the server side: any packet sent to
    // them would be counted there.
    let hosts = "127.0.0.1 localhost\n::1 localhost\n\
                 198.18.0.10 gw4.gluonvpn.test\n\
                 fd00:6c::10 gw6.gluonvpn.test\n\
                 198.18.0.11 gw46.gluonvpn.test\nfd00:6c::11 gw46.gluonvpn.test\n";
    let Some(lab) = Lab::new(
        "vpn_endpoints_are_resolved_and_not_contacted",
        hosts,
        &[
            "198.18.0.10/24",
            "198.18.0.11/24",
            "fd00:6c::10/64",
            "fd00:6c::11/64",
        ],
        false,
    ) else {
        return;
    };
    let before = lab.server_transport_packets();

    let fastd = site(
        &lab,
        "fastd",
        &fastd_section(&[
            "\"gw4.gluonvpn.test\" port 10000",
            "ipv6 \"gw4.gluonvpn.test\" port 10000",
            "ipv4 \"gw6.gluonvpn.test\" port 10000",
            "ipv6 \"gw46.gluonvpn.test\" port 10000",
            "\"nogw.gluonvpn.test\" port 10000",
            "198.18.0.10:10000",
            "[fd00:6c::10]:10000",
            "gw4.gluonvpn.test:10000",
        ]),
        &["mesh-batman-adv-15", "mesh-vpn-fastd"],
    );
    let (out, elapsed) = lab.gluonvpn(&[
        "check",
        fastd.to_str().expect("path"),
        "--online",
        "--format",
        "json",
    ]);
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    let doc = json(&out);
    let remotes = "mesh_vpn.fastd.groups.backbone.peers.gw1.remotes";
    let d = probe_finding(&doc, &format!("{remotes}.2"));
    assert_eq!(d["code"], "GV506", "{d:#}");
    assert_eq!(d["probe"]["family"], "ipv6");
    assert_eq!(d["probe"]["addresses"], serde_json::json!(["198.18.0.10"]));
    let d = probe_finding(&doc, &format!("{remotes}.3"));
    assert_eq!(d["code"], "GV506", "{d:#}");
    let d = probe_finding(&doc, &format!("{remotes}.5"));
    assert_eq!(d["code"], "GV505", "{d:#}");
    assert_eq!(d["severity"], "warning");
    // fastd cannot read .8 (an unquoted name): the lint says so, once, and
    // nothing is looked up for it.
    let at = findings_at(&doc, &format!("{remotes}.8"));
    assert_eq!(at.len(), 1, "{at:#?}");
    let d = at[0];
    assert_eq!(d["code"], "GV152", "{d:#}");
    // .1, .4, .6 and .7 are fine.
    assert_eq!(probe_codes(&doc).len(), 3, "{doc:#}");
    // The finding points at the value in site.conf.
    let line = d["line"].as_u64().expect("line");
    let conf = fs::read_to_string(fastd.join("site.conf")).expect("site.conf");
    let written = conf.lines().nth(line as usize - 1).expect("line");
    let column = d["column"].as_u64().expect("column") as usize;
    assert!(
        written
            .chars()
            .skip(column - 1)
            .collect::<String>()
            .starts_with("'gw4.gluonvpn.test:10000'"),
        "{written}"
    );

    let wireguard = site(
        &lab,
        "wireguard",
        "  mesh_vpn = { wireguard = { mtu = 1370, peers = {\n\
         \x20   gw1 = { public_key = 'Ty8tNHcdSPVOe1F2DwLLjzqVYqHsP2yJ5iwR2Qc2PnI=', endpoint = 'gw46.gluonvpn.test:51820' },\n\
         \x20   gw2 = { public_key = 'ZQ3ZpXbqJ1vQ9mK5cT7yW2rN8sL4dF6hA0gE3uB1oIk=', endpoint = 'nogw.gluonvpn.test:51820' },\n\
         \x20   gw3 = { public_key = 'Ty8tNHcdSPVOe1F2DwLLjzqVYqHsP2yJ5iwR2Qc2PnI=', endpoint = '[fd00:6c::10]:51820' },\n\
         \x20   gw4 = { public_key = 'ZQ3ZpXbqJ1vQ9mK5cT7yW2rN8sL4dF6hA0gE3uB1oIk=', endpoint = 'gw6.gluonvpn.test' },\n\
         \x20 } } },",
        &["mesh-batman-adv-15", "mesh-vpn-wireguard"],
    );
    let (out, _) = lab.gluonvpn(&[
        "check",
        wireguard.to_str().expect("path"),
        "--online",
        "--format",
        "json",
    ]);
    let doc = json(&out);
    let d = probe_finding(&doc, "mesh_vpn.wireguard.peers.gw2.endpoint");
    assert_eq!(d["code"], "GV505", "{d:#}");
    assert_eq!(d["probe"]["host"], "nogw.gluonvpn.test");
    assert_eq!(d["probe"]["port"], 51820);
    let at = findings_at(&doc, "mesh_vpn.wireguard.peers.gw4.endpoint");
    assert_eq!(at.len(), 1, "{at:#?}");
    assert_eq!(at[0]["code"], "GV145", "{:#}", at[0]);
    assert_eq!(probe_codes(&doc).len(), 1, "{doc:#}");

    // tunneldigger exists up to Gluon v2023.2.
    let tunneldigger = site(
        &lab,
        "tunneldigger",
        "  mesh_vpn = { tunneldigger = { mtu = 1364, brokers = { 'gw4.gluonvpn.test:20004', 'gw6.gluonvpn.test:20004', 'gw46.gluonvpn.test:20004', 'nogw.gluonvpn.test:20004', '[fd00:6c::10]:20004' } } },",
        &["mesh-batman-adv-15", "mesh-vpn-tunneldigger"],
    );
    let (out, _) = lab.gluonvpn(&[
        "check",
        tunneldigger.to_str().expect("path"),
        "--gluon-version",
        "v2023.2",
        "--online",
        "--format",
        "json",
    ]);
    let doc = json(&out);
    let brokers = "mesh_vpn.tunneldigger.brokers";
    let d = probe_finding(&doc, &format!("{brokers}.2"));
    assert_eq!(d["code"], "GV507", "{d:#}");
    assert_eq!(d["probe"]["addresses"], serde_json::json!(["fd00:6c::10"]));
    let d = probe_finding(&doc, &format!("{brokers}.4"));
    assert_eq!(d["code"], "GV505", "{d:#}");
    // An IPv6 address as broker: the lint's, without a lookup.
    let at = findings_at(&doc, &format!("{brokers}.5"));
    assert_eq!(at.len(), 1, "{at:#?}");
    assert_eq!(at[0]["code"], "GV162", "{:#}", at[0]);
    assert_eq!(probe_codes(&doc).len(), 2, "{doc:#}");

    // Resolution only: not one UDP or TCP packet reached the gateways.
    assert_eq!(lab.server_transport_packets(), before);
}
