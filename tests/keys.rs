//! fastd → WireGuard keys and Gluon's derivations, checked against the real
//! tools: fresh key pairs from `fastd --generate-key`, `wg pubkey`, fastd's
//! own verdict on public keys (`fastd --verify-config`), an independent
//! Python implementation of the derivations, and `wg addconf` on a
//! wireguard-go interface in a network namespace (gluonvpn-testnet) for the
//! peers file.
//!
//! Where a tool is missing these tests say so and pass, except in CI
//! (`CI` set), where .ci/run installs every tool and a missing one fails.

#[path = "support/tools.rs"]
mod tools;

use gluonvpn::derive::{domain_seed_bytes, vxlan_vni, wireguard_link_local};
use gluonvpn::keys::{FastdPublicKey, KeyError, Secret, WgPublicKey};
use gluonvpn_testnet::TestNet;
use std::io::{Read, Write};
use std::net::Ipv6Addr;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("/dev/urandom");
    buf
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a command with `input` on stdin.
fn run_with_input(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

struct FastdPair {
    secret: String,
    public: String,
}

fn fastd_generate_key() -> FastdPair {
    let out = Command::new("fastd")
        .arg("--generate-key")
        .output()
        .expect("fastd --generate-key");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in fastd's output"))
            .trim()
            .to_string()
    };
    FastdPair {
        secret: field("Secret:"),
        public: field("Public:"),
    }
}

fn wg_pubkey(private_b64: &str) -> String {
    let out = run_with_input(
        Command::new("wg").arg("pubkey"),
        &format!("{private_b64}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

const KEY_PAIRS: usize = 256;

#[test]
fn fresh_fastd_key_pairs_translate_to_wireguard_key_pairs() {
    if !tools::installed("fastd") || !tools::installed("wg") {
        return;
    }
    let start = Instant::now();
    for n in 0..KEY_PAIRS {
        let pair = fastd_generate_key();
        let public = FastdPublicKey::from_hex(&pair.public)
            .unwrap_or_else(|e| panic!("fastd's own public key {}: {e}", pair.public));
        let wg_public = public.to_wireguard();
        let secret = Secret::from_fastd_hex(&pair.secret).expect("fastd's own secret");
        let private = secret.expose_wireguard_base64();
        assert_eq!(
            wg_pubkey(&private),
            wg_public.to_base64(),
            "pair {n}: fastd public {}",
            pair.public
        );
        // curve25519-dalek's X25519 agrees with wg
        assert_eq!(secret.wireguard_public_key(), wg_public);
        // and the secret is the same 32 bytes (fastd prints lower case)
        assert_eq!(*secret.expose_fastd_hex(), pair.secret);
    }
    eprintln!(
        "{KEY_PAIRS} fastd key pairs checked with wg pubkey in {:.2} s",
        start.elapsed().as_secs_f64()
    );
}

/// fastd's verdict on a peer key: does `fastd --verify-config` accept a
/// peer with it?
fn fastd_accepts(own: &FastdPair, key_hex: &str) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("fastd.conf");
    std::fs::write(
        &conf,
        format!(
            "mode tap;\ninterface \"gvpt\";\nmethod \"salsa2012+umac\";\nsecret \"{}\";\nbind 127.0.0.1:10000;\npeer \"x\" {{ key \"{key_hex}\"; }}\n",
            own.secret
        ),
    )
    .expect("write");
    Command::new("fastd")
        .args(["--verify-config", "-c"])
        .arg(&conf)
        .output()
        .expect("fastd --verify-config")
        .status
        .success()
}

#[test]
fn fastd_and_gluonvpn_agree_on_which_bytes_are_points() {
    if !tools::installed("fastd") {
        return;
    }
    let own = fastd_generate_key();
    // x = 2 is no point: the key the unit tests use for "not on the curve"
    let two = format!("02{}", "0".repeat(62));
    assert_eq!(
        FastdPublicKey::from_hex(&two).unwrap_err(),
        KeyError::NotOnCurve
    );
    assert!(!fastd_accepts(&own, &two));
    // random bytes: about half are points
    let (mut on, mut off) = (0, 0);
    while on < 12 || off < 12 {
        let candidate = hex(&random_bytes::<32>());
        let ours = FastdPublicKey::from_hex(&candidate);
        assert!(
            !matches!(ours, Err(KeyError::SmallOrder)),
            "random bytes of small order?"
        );
        assert_eq!(
            ours.is_ok(),
            fastd_accepts(&own, &candidate),
            "{candidate}: gluonvpn says {ours:?}"
        );
        if ours.is_ok() {
            on += 1;
        } else {
            off += 1;
        }
    }
}

/// The independent implementation: Python's hashlib and ipaddress,
/// following Gluon's description (md5 hex chaining; MAC 02 + 5 digest
/// bytes; fe80:: with ff:fe in the middle and the 02 kept).
const PYTHON: &str = r#"
import hashlib, ipaddress, sys
def md5hex(s): return hashlib.md5(s.encode()).hexdigest()
def seed_bytes(seed, key, n):
    out, v, i = "", "", 0
    while len(out) < 2 * n:
        i += 1
        v = md5hex(v + key + seed.lower() + str(i))
        out += v
    return out[:2 * n]
for line in sys.stdin:
    kind, *args = line.split()
    if kind == "vni":
        print(int(seed_bytes(args[0], "gluon-mesh-vxlan", 3), 16))
    elif kind == "bytes":
        print(seed_bytes(args[0], args[1], int(args[2])))
    elif kind == "lladdr":
        d = hashlib.md5(args[0].encode()).hexdigest()
        m = ["02", d[0:2], d[2:4], d[4:6], d[6:8], d[8:10]]
        text = "fe80::%s%s:%sff:fe%s:%s%s" % tuple(m)
        print(ipaddress.IPv6Address(text))
"#;

fn python(requests: &[String]) -> Vec<String> {
    let out = run_with_input(
        Command::new("python3").args(["-c", PYTHON]),
        &(requests.join("\n") + "\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), requests.len());
    lines
}

fn random_seed(n: usize) -> String {
    let s = hex(&random_bytes::<32>());
    match n % 3 {
        0 => s,
        1 => s.to_uppercase(),
        // mixed case
        _ => s
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
    }
}

#[test]
fn vxlan_ids_agree_with_an_independent_implementation() {
    if !tools::installed("python3") {
        return;
    }
    let seeds: Vec<String> = (0..300).map(random_seed).collect();
    let requests: Vec<String> = seeds.iter().map(|s| format!("vni {s}")).collect();
    for (seed, expected) in seeds.iter().zip(python(&requests)) {
        assert_eq!(vxlan_vni(seed).to_string(), expected, "seed {seed}");
    }
    // several blocks, other keys (the brmldproxy and layer-3 packages use 4 and 7 bytes)
    let mut requests = Vec::new();
    let mut ours = Vec::new();
    for (n, seed) in seeds.iter().take(40).enumerate() {
        for key in [
            "gluon-mesh-vxlan",
            "gluon-mesh-batman-adv-brmldproxy.gluon-all-mc-routers-group",
        ] {
            let length = n + 1;
            requests.push(format!("bytes {seed} {key} {length}"));
            ours.push(domain_seed_bytes(seed, key, length));
        }
    }
    assert_eq!(ours, python(&requests));
}

#[test]
fn link_local_addresses_agree_with_an_independent_implementation() {
    if !tools::installed("python3") {
        return;
    }
    let mut keys: Vec<WgPublicKey> = (0..200)
        .map(|_| WgPublicKey::from_bytes(random_bytes::<32>()))
        .collect();
    // and translated fastd keys, as a gateway computes them
    keys.push(
        FastdPublicKey::from_hex(
            "d3ac6266452a01a771e3c06b3b285d3dc04fe5be266f70392463497ae283a70b",
        )
        .expect("key")
        .to_wireguard(),
    );
    let requests: Vec<String> = keys
        .iter()
        .map(|k| format!("lladdr {}", k.to_base64()))
        .collect();
    for (key, expected) in keys.iter().zip(python(&requests)) {
        let expected: Ipv6Addr = expected.parse().expect("python's address");
        assert_eq!(wireguard_link_local(key), expected, "key {key}");
    }
}

// ---- the command line -------------------------------------------------

fn gluonvpn(args: &[&str], stdin: &str) -> Output {
    run_with_input(
        Command::new(env!("CARGO_BIN_EXE_gluonvpn")).args(args),
        stdin,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SECRET: &str = "50500d2f0dae0a4b9fb291c1823762de53230fe2c28a42b17abc264edd97727c";
const PUBLIC: &str = "d3ac6266452a01a771e3c06b3b285d3dc04fe5be266f70392463497ae283a70b";
/// Another key from `fastd --generate-key`.
const PUBLIC_B: &str = "0c8407bfee07298b3f8d6acd10eb3a761581f75703c2225e78e445c3782439a2";

fn expected_wg_public() -> String {
    FastdPublicKey::from_hex(PUBLIC)
        .expect("key")
        .to_wireguard()
        .to_base64()
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn cli_translates_a_public_key() {
    let out = gluonvpn(&["keys", "translate", PUBLIC], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{}\n", expected_wg_public()));
    // upper case too
    let out = gluonvpn(&["keys", "translate", &PUBLIC.to_uppercase()], "");
    assert_eq!(text(&out.stdout), format!("{}\n", expected_wg_public()));
}

#[test]
fn cli_bad_public_keys_exit_two_with_a_reason() {
    for (key, reason) in [
        ("abc", "is 3 characters long"),
        (
            &format!("{}x", &PUBLIC[..63]) as &str,
            "has 'x' at position 64",
        ),
        (&format!("02{}", "0".repeat(62)), "not a point on the curve"),
    ] {
        let out = gluonvpn(&["keys", "translate", key], "");
        assert_eq!(out.status.code(), Some(2), "{key}");
        assert!(text(&out.stderr).contains(reason), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    }
    let out = gluonvpn(&["keys", "translate"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nothing to translate"));
}

#[test]
fn cli_translates_a_secret_from_stdin() {
    let out = gluonvpn(&["keys", "translate", "--private"], &format!("{SECRET}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let private = text(&out.stdout);
    let secret = Secret::from_wireguard_base64(private.trim()).expect("base64 key");
    assert_eq!(*secret.expose_fastd_hex(), SECRET);
    assert_eq!(
        secret.wireguard_public_key().to_base64(),
        expected_wg_public()
    );
    if tools::installed("wg") {
        assert_eq!(wg_pubkey(private.trim()), expected_wg_public());
    }
    // a gateway's fastd.conf (one fastd itself accepts) works too
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("peers")).expect("mkdir");
    std::fs::write(
        dir.path().join("peers/node-a"),
        format!("key \"{PUBLIC_B}\";\n"),
    )
    .expect("write");
    let conf = dir.path().join("fastd.conf");
    std::fs::write(&conf, GATEWAY_CONF.replace("SECRET", SECRET)).expect("write");
    if tools::installed("fastd") {
        let verify = Command::new("fastd")
            .args(["--verify-config", "-c"])
            .arg(&conf)
            .current_dir(dir.path())
            .output()
            .expect("fastd");
        assert!(verify.status.success(), "{}", text(&verify.stderr));
    }
    let out = gluonvpn(
        &[
            "keys",
            "translate",
            "--private-file",
            conf.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), private);
}

const GATEWAY_CONF: &str = r#"# a gateway
log to syslog level info;
interface "mesh-vpn";
method "salsa2012+umac";
method "null@l2tp";
bind 0.0.0.0:10000;
bind [::]:10000;
mtu 1406;
secret "SECRET";
status socket "/run/fastd-mesh.sock";
on up "
  ip link set up $INTERFACE
";
/* the nodes */
include peers from "peers";
peer group "backbone" {
  peer limit 1;
}
"#;

#[test]
fn cli_never_takes_a_secret_from_argv() {
    let out = gluonvpn(&["keys", "translate", "--private", SECRET], "");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("standard input"), "{err}");
    assert!(!err.contains(&SECRET[..16]), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn cli_secret_errors_do_not_show_the_secret() {
    let mut bad = SECRET.to_string();
    bad.replace_range(20..21, "q");
    let unclamped = format!("51{}", &SECRET[2..]);
    for (input, reason) in [
        (bad.as_str(), "at position 21"),
        (&SECRET[..60], "60 characters long"),
        (unclamped.as_str(), "not clamped"),
    ] {
        let out = gluonvpn(&["keys", "translate", "--private"], &format!("{input}\n"));
        assert_eq!(out.status.code(), Some(2), "{input}");
        let err = text(&out.stderr);
        assert!(err.contains(reason), "{err}");
        assert!(!err.contains(&SECRET[2..10]), "{err}");
        assert!(!err.contains('q'), "{err}");
    }
    // in a config file: the line and column, not the value
    let out = gluonvpn(
        &["keys", "translate", "--private"],
        &format!("mode tap;\n  secret \"{bad}\";\n"),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("2:10:"), "{err}");
    assert!(!err.contains(&SECRET[2..10]), "{err}");
}

#[test]
fn cli_writes_private_keys_0600_and_public_files_0644() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).expect("write");
    let key_file = dir.path().join("wg.key");
    // a file that was world-readable before is replaced by a 0600 one
    std::fs::write(&key_file, "old\n").expect("write");
    let out = gluonvpn(
        &[
            "keys",
            "translate",
            "--private-file",
            secret_file.to_str().expect("path"),
            "--out",
            key_file.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the key went to the file only");
    assert_eq!(mode(&key_file), 0o600);
    let written = std::fs::read_to_string(&key_file).expect("read");
    let secret = Secret::from_wireguard_base64(written.trim()).expect("key");
    assert_eq!(*secret.expose_fastd_hex(), SECRET);

    let pub_file = dir.path().join("wg.pub");
    let out = gluonvpn(
        &[
            "keys",
            "translate",
            PUBLIC,
            "--out",
            pub_file.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(mode(&pub_file), 0o644);
    // no temporary files left behind
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["secret", "wg.key", "wg.pub"]);
}

#[test]
fn cli_lladdr_accepts_wireguard_and_fastd_keys() {
    let wg = expected_wg_public();
    let expected = wireguard_link_local(&WgPublicKey::from_base64(&wg).expect("key")).to_string();
    for key in [wg.as_str(), PUBLIC] {
        let out = gluonvpn(&["keys", "lladdr", key], "");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("{expected}\n"));
    }
    let out = gluonvpn(&["keys", "lladdr", "not-a-key"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not base64 of 32 bytes"));
}

/// A peer directory with good files, bad files and files fastd skips.
fn peer_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write =
        |name: &str, body: &str| std::fs::write(dir.path().join(name), body).expect("write");
    write("node-a", &format!("# Node A\nkey \"{PUBLIC}\";\n"));
    write(
        "node-b",
        &format!("/* Node B */\nremote \"b.example\" port 10000;\n  key \"{PUBLIC_B}\";  // ok\n"),
    );
    write(
        "broken-hex",
        &format!("# bad\n\nkey \"{}zz\";\n", &PUBLIC[..62]),
    );
    write("no-key", "# nothing here\nfloat yes;\n");
    write(
        "same-as-a",
        &format!("key \"{}\";\n", PUBLIC.to_uppercase()),
    );
    write(".hidden", "not a peer");
    write("node-a~", "a backup");
    std::fs::create_dir(dir.path().join("subdir")).expect("mkdir");
    dir
}

#[test]
fn cli_translates_a_peer_directory_and_reports_bad_files() {
    let dir = peer_dir();
    let d = dir.path().to_str().expect("path");
    let out = gluonvpn(&["keys", "translate", "--peers-dir", d], "");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{d}/broken-hex:3:5: the fastd public key has 'z' at position 63"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{d}/no-key:1:1: no `key")), "{err}");
    assert!(
        err.contains(&format!("{d}/same-as-a: the same key as peer 'node-a'")),
        "{err}"
    );
    assert!(
        err.contains("2 peers translated, 3 files failed, 3 skipped"),
        "{err}"
    );

    let conf = text(&out.stdout);
    let entries = gluonvpn::peers::parse(&conf).expect("parses");
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["node-a", "node-b"]);
    assert_eq!(entries[0].public_key.to_base64(), expected_wg_public());
    assert_eq!(
        entries[0].link_local,
        wireguard_link_local(&entries[0].public_key)
    );
    assert!(conf.contains(&format!(
        "\n[Peer]\n# node-a\nPublicKey = {}\nAllowedIPs = {}/128\n",
        expected_wg_public(),
        entries[0].link_local
    )));

    // to a file: 0644, same text
    let file = dir.path().join("out").with_extension("conf");
    let out = gluonvpn(
        &[
            "keys",
            "translate",
            "--peers-dir",
            d,
            "--out",
            file.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), conf);
    assert_eq!(mode(&file), 0o644);

    let missing = dir.path().join("missing");
    let out = gluonvpn(
        &[
            "keys",
            "translate",
            "--peers-dir",
            missing.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
}

/// `wg addconf` on a wireguard-go interface (in a network namespace of the
/// test's own) takes the peers file, and `wg show` lists each node with
/// its link-local address.
#[test]
fn wireguard_loads_the_translated_peers() {
    let test = "wireguard_loads_the_translated_peers";
    let Some(mut net) = TestNet::with_tools(test, &["ip", "wg", "wireguard-go"]) else {
        return;
    };
    let dir = peer_dir();
    std::fs::remove_file(dir.path().join("same-as-a")).expect("rm");
    let file = dir.path().join("peers.conf");
    let out = gluonvpn(
        &[
            "keys",
            "translate",
            "--peers-dir",
            dir.path().to_str().expect("path"),
            "--out",
            file.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "broken-hex and no-key remain");
    let ns = net.netns("k");
    let ifname = net.wg_name("k");
    net.wireguard_go(&ns, &ifname);
    let file_arg = file.to_str().expect("path");
    if let Err(e) = net.try_exec(&ns, &["wg", "addconf", &ifname, file_arg]) {
        panic!("wg addconf: {e}");
    }
    let shown = net.exec(&ns, &["wg", "show", &ifname, "allowed-ips"]);
    let entries =
        gluonvpn::peers::parse(&std::fs::read_to_string(&file).expect("read")).expect("parse");
    assert_eq!(entries.len(), 2);
    for e in entries {
        assert!(
            shown.contains(&format!("{}\t{}/128", e.public_key, e.link_local)),
            "{shown}"
        );
    }
}

/// The console examples and the peers file in book/src/keys.md are what
/// gluonvpn prints.
#[test]
fn the_book_page_shows_real_output() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/keys.md"),
    )
    .expect("book/src/keys.md");
    let mut checked = 0;
    let mut lines = page.lines().peekable();
    while let Some(line) = lines.next() {
        if line == "```console" {
            while let Some(line) = lines.next() {
                if line == "```" {
                    break;
                }
                let Some(command) = line.strip_prefix("$ gluonvpn ") else {
                    continue;
                };
                let mut expected = String::new();
                while let Some(next) = lines.peek() {
                    if next.starts_with("$ ") || *next == "```" {
                        break;
                    }
                    expected.push_str(lines.next().expect("peeked"));
                    expected.push('\n');
                }
                if command.contains('|') || command.contains('<') {
                    continue;
                }
                let args: Vec<&str> = command.split_whitespace().collect();
                let out = gluonvpn(&args, "");
                assert_eq!(text(&out.stdout), expected, "$ gluonvpn {command}");
                checked += 1;
            }
        } else if line == "```ini" {
            let mut block = String::new();
            for line in lines.by_ref() {
                if line == "```" {
                    break;
                }
                block.push_str(line);
                block.push('\n');
            }
            let entries = gluonvpn::peers::parse(&block).expect("the example parses");
            assert_eq!(entries.len(), 1);
            let expected = gluonvpn::peers::PeerEntry::from_fastd(
                "node-a",
                &FastdPublicKey::from_hex(PUBLIC).expect("key"),
            );
            assert_eq!(entries[0], expected);
            let rendered = gluonvpn::peers::render(&[expected], "/etc/fastd/mesh/peers");
            assert_eq!(block, rendered);
            checked += 1;
        }
    }
    assert_eq!(checked, 3, "examples found in the page");
}
