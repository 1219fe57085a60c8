//! fastd remotes and WireGuard endpoints: one grammar each
//! (`gluonvpn::site::mesh_vpn::address`), fastd's judged against the real
//! fastd, and one verdict for every command.
//!
//! [`REMOTES`] is fastd's table, [`ENDPOINTS`] WireGuard's. `real_fastd_reads_what_the_model_reads` writes
//! each remote into a peer file, as OpenWrt's init script does (after its
//! character filter), and asks `fastd --verify-config` about a config that
//! includes it. `check_online_and_render_agree` puts every remote into one
//! site and runs `check`, `check --online` (in an empty network namespace:
//! names fail to resolve and nothing leaves the machine) and
//! `render gateway` for each peer.

#[path = "support/tools.rs"]
mod tools;

use gluonvpn::site::mesh_vpn::address::{fastd_remote, fastd_syntax, init_script_guard};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// What happens to a remote on its way to fastd, and what fastd makes of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// fastd reads it; the model gives the endpoint.
    Reads,
    /// fastd's parser rejects it.
    FastdRejects,
    /// The init script drops it (unbalanced quotes).
    Dropped,
    /// The init script removes characters; the model reports that, and
    /// fastd's verdict on what is left must match the model's grammar.
    Altered,
    /// fastd reads it, but the quoted host can never resolve.
    NeverResolves,
}

use Fate::*;

const REMOTES: &[(&str, Fate)] = &[
    ("\"gw1.example.org\" port 10000", Reads),
    ("ipv4 \"gw1.example.org\" port 10000", Reads),
    ("ipv6 \"gw1.example.org\" port 10000", Reads),
    ("192.0.2.1:10000", Reads),
    ("192.0.2.1 port 10000", Reads),
    ("[2001:db8::1]:10000", Reads),
    ("[2001:db8::1] port 10000", Reads),
    ("[2001:DB8::1]:1", Reads),
    ("\"gw1.example.org\":10000", Reads),
    ("ipv4 \"h.example.org\":1", Reads),
    ("ipv6 [::1]:1", Reads),
    ("ipv4 192.0.2.1 port 1", Reads),
    ("[fe80::1%eth0]:10000", Reads),
    ("\"gw1.example.org\" port 010000", Reads),
    ("\"gw1.example.org\"  :  1", Reads),
    ("192.0.2.1: 1", Reads),
    ("192.0.2.1 :1", Reads),
    ("\"gw1.example.org\" port 65535", Reads),
    ("\"2001:db8::1\" port 10000", Reads),
    ("\"gw1.example.org\"\t port 10000", Reads),
    ("gw1.example.org:10000", FastdRejects),
    ("\"gw1.example.org\" port 0", FastdRejects),
    ("\"gw1.example.org\" port 65536", FastdRejects),
    ("\"gw1.example.org\" port 99999999999", FastdRejects),
    ("\"gw1.example.org\" port 10000.5", FastdRejects),
    ("\"gw1.example.org\" port 1.0", FastdRejects),
    ("\"gw1.example.org\"", FastdRejects),
    ("192.0.2.1", FastdRejects),
    ("2001:db8::1:10000", FastdRejects),
    ("\"gw1.example.org\" port 10000 float", FastdRejects),
    ("192.0.2.1:0", FastdRejects),
    ("300.1.1.1:10000", FastdRejects),
    ("01.2.3.4:10000", FastdRejects),
    ("1.2.3.04:1", FastdRejects),
    ("[::ffff:1.2.3.4]:10000", FastdRejects),
    ("[1:2:3:4:5:6:7:8:9]:1", FastdRejects),
    ("[:::1]:1", FastdRejects),
    ("[gg::1]:1", FastdRejects),
    ("\"h.example.org\"port 1", FastdRejects),
    ("[::1]port 1", FastdRejects),
    ("192.0.2.1port 1", FastdRejects),
    ("\"h.example.org\" port1", FastdRejects),
    ("\"h.example.org\":port 1", FastdRejects),
    ("ipv4 [::1]:1", FastdRejects),
    ("ipv6 192.0.2.1:10000", FastdRejects),
    ("\"h.example.org\" PORT 1", FastdRejects),
    ("\"h.example.org\" port -1", FastdRejects),
    ("\"gw1.example.org\" port 10000 port 1", FastdRejects),
    ("gw1.example.org port 10000", FastdRejects),
    ("\"gw1.example.org port 10000", Dropped),
    ("\"gw1.example.org\" port 10000 \"", Dropped),
    ("\"gw_1.example.org\" port 10000", Altered),
    ("\"gw1.example.org\" port 10000;", Altered),
    ("\"gw1.example.org\"\tport 10000", Altered),
    ("\"gw1.example.org\" port 10000 # backup", Altered),
    ("\"\" port 10000", NeverResolves),
    ("\"gw 1.example.org\" port 10000", NeverResolves),
    ("\"[2001:db8::1]\" port 10000", NeverResolves),
    ("\"gw1..example.org\" port 10000", NeverResolves),
];

/// Whether the test runs as root (network namespaces need it); when not,
/// says what is skipped (under CI=true: a failure).
fn is_root(what: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0");
    if !root {
        assert!(!tools::in_ci(), "{what} must run in CI, as root");
        tools::loud(&format!("\n*** SKIPPING {what}: not running as root ***\n"));
    }
    root
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("the program ends")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_table_is_big_enough_and_covers_every_fate() {
    assert!(REMOTES.len() >= 30, "{}", REMOTES.len());
    for fate in [Reads, FastdRejects, Dropped, Altered, NeverResolves] {
        assert!(REMOTES.iter().any(|(_, f)| *f == fate), "{fate:?}");
    }
    let distinct: BTreeSet<&str> = REMOTES.iter().map(|(r, _)| *r).collect();
    assert_eq!(distinct.len(), REMOTES.len(), "a remote twice in the table");
}

#[test]
fn the_model_gives_each_remote_its_fate() {
    for (remote, fate) in REMOTES {
        let verdict = fastd_remote(remote);
        let message = verdict
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        match fate {
            Reads => assert!(verdict.is_ok(), "{remote}: {message}"),
            FastdRejects => {
                assert!(
                    message.contains("fastd's remote syntax")
                        || message.contains("outside 1–65535"),
                    "{remote}: {message}"
                );
            }
            Dropped => assert!(message.contains("drops it"), "{remote}: {message}"),
            Altered => assert!(
                message.contains("init script removes"),
                "{remote}: {message}"
            ),
            NeverResolves => {
                assert!(
                    message.contains("resolved") || message.contains("empty host name"),
                    "{remote}: {message}"
                );
            }
        }
    }
}

/// fastd's verdict on one remote, written into a peer file the way
/// OpenWrt's init script writes it, the peer file included by a config.
struct RealFastd {
    secret: String,
    key: String,
    dir: tempfile::TempDir,
}

impl RealFastd {
    fn new() -> RealFastd {
        let generate = || {
            let out = run("fastd", &["--generate-key", "--machine-readable"], None);
            assert!(out.status.success(), "fastd --generate-key");
            stdout(&out)
        };
        let secret = generate();
        // The peer needs a real public key: fastd rejects 32 bytes that are
        // not one.
        let other = generate();
        let out = run(
            "fastd",
            &["--config", "-", "--show-key", "--machine-readable"],
            Some(&format!("secret \"{other}\";\n")),
        );
        let key = stdout(&out);
        assert_eq!(key.len(), 64, "{key}");
        RealFastd {
            secret,
            key,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Whether `fastd --verify-config` accepts a peer file with this
    /// (already filtered) remote.
    fn accepts(&self, remote: &str) -> bool {
        self.accepts_peer(&self.key, remote)
    }

    fn accepts_peer(&self, key: &str, remote: &str) -> bool {
        let peer = self.dir.path().join("gw1");
        std::fs::write(&peer, format!("key \"{key}\";\nremote {remote};\n")).expect("peer file");
        let config = self.dir.path().join("fastd.conf");
        std::fs::write(
            &config,
            format!(
                "secret \"{}\";\nmode tap;\ninterface \"x\";\nmethod \"salsa2012+umac\";\ninclude peer \"{}\" as \"gw1\";\n",
                self.secret,
                peer.display()
            ),
        )
        .expect("config");
        let config = config.to_str().expect("UTF-8 path");
        run("fastd", &["--verify-config", "-c", config], None)
            .status
            .success()
    }
}

#[test]
fn real_fastd_reads_what_the_model_reads() {
    if !tools::installed("fastd") {
        return;
    }
    let fastd = RealFastd::new();
    // The harness itself: a good remote passes, a bad one fails.
    let good = "\"gw1.example.org\" port 10000";
    assert!(fastd.accepts(good));
    assert!(!fastd.accepts("gw1.example.org:10000"));
    // Keys, as GV150 reads them: exactly 64 hex digits, either case.
    assert!(fastd.accepts_peer(&fastd.key.to_uppercase(), good));
    assert!(!fastd.accepts_peer(&fastd.key[..63], good));
    assert!(!fastd.accepts_peer(&format!("{}00", fastd.key), good));
    for (remote, fate) in REMOTES {
        let Some(seen) = init_script_guard(remote) else {
            assert_eq!(*fate, Dropped, "{remote}: the init script drops it");
            continue;
        };
        let accepted = fastd.accepts(&seen);
        match fate {
            Reads | NeverResolves => assert!(accepted, "fastd rejects {remote:?}"),
            FastdRejects => assert!(!accepted, "fastd accepts {remote:?}"),
            Altered => assert_eq!(
                accepted,
                fastd_syntax(&seen).is_ok(),
                "{remote:?} reaches fastd as {seen:?}"
            ),
            Dropped => panic!("{remote:?} is not dropped: {seen:?}"),
        }
        // Where the model reads a remote, fastd does; where fastd's parser
        // is what rejects it, the model rejects it.
        if fastd_remote(remote).is_ok() {
            assert!(accepted, "{remote:?}");
        }
        assert_eq!(accepted, fastd_syntax(&seen).is_ok(), "{seen:?}");
    }
}

/// One of the example sites with its peer list replaced (each peer one
/// line of Lua); `indent` is the indentation of its `peers = {`.
fn example_with_peers(example: &str, indent: &str, peers: Vec<String>) -> tempfile::TempDir {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("site-examples")
        .join(example);
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["site.mk", "image-customization.lua"] {
        std::fs::copy(example.join(file), dir.path().join(file)).expect("copy");
    }
    let conf = std::fs::read_to_string(example.join("site.conf")).expect("site.conf");
    let start = conf
        .find(&format!("{indent}peers = {{"))
        .expect("the example's peers");
    let end = start
        + conf[start..]
            .find(&format!("\n{indent}}},"))
            .expect("their end");
    let conf = format!(
        "{}{indent}peers = {{\n{}{}",
        &conf[..start],
        peers.join("\n"),
        &conf[end..]
    );
    std::fs::write(dir.path().join("site.conf"), conf).expect("site.conf");
    dir
}

/// A site with one fastd peer `gw<i>` per remote of the table.
fn site_with_every_remote() -> tempfile::TempDir {
    let peers = REMOTES
        .iter()
        .enumerate()
        .map(|(i, (remote, _))| {
            format!(
                "            gw{i} = {{ key = '{:064x}', remotes = {{ [==[{remote}]==] }} }},",
                i + 1
            )
        })
        .collect();
    example_with_peers("fastd", "          ", peers)
}

fn remote_path(i: usize) -> String {
    format!("mesh_vpn.fastd.groups.backbone.peers.gw{i}.remotes.1")
}

/// `(path, code)` of every diagnostic of a JSON report.
fn findings(out: &Output) -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap_or_default().to_string(),
                d["code"].as_str().expect("code").to_string(),
            )
        })
        .collect()
}

fn codes_at(findings: &[(String, String)], path: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|(p, _)| p == path)
        .map(|(_, c)| c.clone())
        .collect()
}

/// `check --format json` of a site: `(path, code)` of its findings. With
/// `online`, `--online` runs in an empty network namespace of its own, so
/// that names fail to resolve and nothing leaves the machine; `None` where
/// that cannot be made.
fn check_findings(site: &str, online: bool) -> Option<Vec<(String, String)>> {
    let gluonvpn = env!("CARGO_BIN_EXE_gluonvpn");
    let out = if online {
        if !(tools::installed("unshare") && is_root("check --online in an empty network namespace"))
        {
            return None;
        }
        let args = [
            "--net", "--", gluonvpn, "check", site, "--online", "--format", "json",
        ];
        run("unshare", &args, None)
    } else {
        run(gluonvpn, &["check", site, "--format", "json"], None)
    };
    Some(findings(&out))
}

/// An inventory with gateways `gw0` … `gw<count-1>`, each binding `any`.
fn inventory_of_every_gateway(site: &Path, count: usize) -> String {
    let inventory = site.join("inventory.toml");
    let gateways: String = (0..count)
        .map(|i| format!("[gateways.gw{i}]\nbind = [\"any\"]\noffload = false\n\n"))
        .collect();
    std::fs::write(&inventory, gateways).expect("inventory");
    inventory.to_str().expect("UTF-8 path").to_string()
}

/// `render gateway` for `gw<i>`: the run, its standard output and error.
fn render_gateway(site: &str, inventory: &str, i: usize) -> (Output, String, String) {
    let gateway = format!("gw{i}");
    let out = run(
        env!("CARGO_BIN_EXE_gluonvpn"),
        &[
            "render",
            "gateway",
            site,
            "--gateway",
            &gateway,
            "--inventory",
            inventory,
        ],
        None,
    );
    let (text, errors) = (
        stdout(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    (out, text, errors)
}

#[test]
fn check_online_and_render_agree() {
    let site = site_with_every_remote();
    let site_path = site.path().to_str().expect("UTF-8 path");

    // check: one GV152 at each remote the model rejects, none elsewhere.
    let checked = check_findings(site_path, false).expect("check runs");
    for (i, (remote, _)) in REMOTES.iter().enumerate() {
        let expected: Vec<String> = match fastd_remote(remote) {
            Ok(_) => vec![],
            Err(_) => vec!["GV152".into()],
        };
        assert_eq!(codes_at(&checked, &remote_path(i)), expected, "{remote:?}");
    }

    // check --online, in a network namespace of its own: a name is looked
    // up (and fails: GV505), an address is not; remotes the model rejects
    // are left to the lint, once.
    if let Some(online) = check_findings(site_path, true) {
        assert!(online.iter().all(|(_, c)| c != "GV508"), "GV508 is retired");
        for (i, (remote, _)) in REMOTES.iter().enumerate() {
            let codes = codes_at(&online, &remote_path(i));
            let expected: Vec<String> = match fastd_remote(remote) {
                Err(_) => vec!["GV152".into()],
                Ok(endpoint) if endpoint.literal().is_some() => vec![],
                Ok(_) => vec!["GV505".into()],
            };
            assert_eq!(codes, expected, "{remote:?}");
        }
    }

    // render gateway: a remote the model reads gives fastd its port; one it
    // rejects stops the render, naming the remote.
    let inventory = inventory_of_every_gateway(site.path(), REMOTES.len());
    let mut outcomes = BTreeMap::new();
    for (i, (remote, _)) in REMOTES.iter().enumerate() {
        let (out, text, errors) = render_gateway(site_path, &inventory, i);
        match fastd_remote(remote) {
            Ok(endpoint) => {
                assert!(out.status.success(), "{remote:?}: {errors}");
                assert!(
                    text.contains(&format!("bind any:{};", endpoint.port)),
                    "{remote:?}: {text}"
                );
            }
            Err(problem) => {
                assert!(!out.status.success(), "{remote:?} rendered:\n{text}");
                assert!(
                    errors.contains("fastd cannot read the site's remotes")
                        && errors.contains(&problem.to_string()),
                    "{remote:?}: {errors}"
                );
            }
        }
        outcomes.insert(*remote, out.status.success());
    }
    assert_eq!(outcomes.len(), REMOTES.len());
}

/// WireGuard endpoints: `Some(port)` where wgpeerselector reads them.
const ENDPOINTS: &[(&str, Option<u16>)] = &[
    ("gw1.example.org:51820", Some(51820)),
    ("GW2.Example.org.:51821", Some(51821)),
    ("192.0.2.1:51822", Some(51822)),
    ("[2001:db8::1]:51823", Some(51823)),
    ("localhost:1", Some(1)),
    ("[::1]:65535", Some(65535)),
    ("gw-3.example.org:51824", Some(51824)),
    ("2001:db8::2:51820", None),
    ("gw4.example.org", None),
    ("gw5.example.org:0", None),
    ("gw6.example.org:65536", None),
    ("gw7.example.org:port", None),
    (":51820", None),
    ("gw_8.example.org:51820", None),
    ("300.1.1.1:51820", None),
    ("[::ffff:1.2.3.4]:51820", None),
    ("[fe80::1%eth0]:51820", None),
    ("[2001:db8::3:51820", None),
    ("gw9..example.org:51820", None),
    ("gw10.example.org:51820.5", None),
    (" gw11.example.org:51820", None),
];

/// A WireGuard site with one peer `gw<i>` per endpoint of the table, each
/// with its own public key.
fn site_with_every_endpoint() -> tempfile::TempDir {
    let peers = ENDPOINTS
        .iter()
        .enumerate()
        .map(|(i, (endpoint, _))| {
            // 42 base64 digits, then one of the last digit's 16 values.
            let key = format!("{:A>40}{i:02}Q=", "");
            format!("        gw{i} = {{ public_key = '{key}', endpoint = [==[{endpoint}]==] }},")
        })
        .collect();
    example_with_peers("wireguard", "      ", peers)
}

#[test]
fn wireguard_endpoints_agree_too() {
    use gluonvpn::site::mesh_vpn::address::wireguard_endpoint;
    for (endpoint, port) in ENDPOINTS {
        assert_eq!(
            wireguard_endpoint(endpoint).ok().map(|e| e.port),
            *port,
            "{endpoint:?}"
        );
    }
    let gluonvpn = env!("CARGO_BIN_EXE_gluonvpn");
    let site = site_with_every_endpoint();
    let site_path = site.path().to_str().expect("UTF-8 path");
    let path = |i: usize| format!("mesh_vpn.wireguard.peers.gw{i}.endpoint");
    let checked = findings(&run(
        gluonvpn,
        &["check", site_path, "--format", "json"],
        None,
    ));
    assert!(
        checked.iter().all(|(_, c)| c != "GL001" && c != "GL002"),
        "the keys pass Gluon's check: {checked:?}"
    );
    for (i, (endpoint, port)) in ENDPOINTS.iter().enumerate() {
        let expected: Vec<String> = match port {
            Some(_) => vec![],
            None => vec!["GV145".into()],
        };
        assert_eq!(codes_at(&checked, &path(i)), expected, "{endpoint:?}");
    }
    if let Some(online) = check_findings(site_path, true) {
        for (i, (endpoint, _)) in ENDPOINTS.iter().enumerate() {
            let expected: Vec<String> = match wireguard_endpoint(endpoint) {
                Err(_) => vec!["GV145".into()],
                Ok(e) if e.literal().is_some() => vec![],
                // localhost is in /etc/hosts
                Ok(e) if e.host.text() == "localhost" => vec![],
                Ok(_) => vec!["GV505".into()],
            };
            assert_eq!(codes_at(&online, &path(i)), expected, "{endpoint:?}");
        }
    }
    let inventory = inventory_of_every_gateway(site.path(), ENDPOINTS.len());
    for (i, (endpoint, port)) in ENDPOINTS.iter().enumerate() {
        let (out, text, errors) = render_gateway(site_path, &inventory, i);
        match port {
            Some(port) => {
                assert!(out.status.success(), "{endpoint:?}: {errors}");
                assert!(
                    text.lines().any(|l| l == format!("ListenPort = {port}")),
                    "{endpoint:?}: {text}"
                );
            }
            None => {
                assert!(!out.status.success(), "{endpoint:?} rendered:\n{text}");
                assert!(
                    errors.contains("wgpeerselector cannot read this gateway's WireGuard endpoint"),
                    "{endpoint:?}: {errors}"
                );
            }
        }
    }
}
