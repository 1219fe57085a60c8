//! Hostile inventories and output paths (issue 12), each as a regression
//! test, in three layers:
//!
//! 1. every attack value is refused when the inventory is read (or, for a
//!    domain table, when it is resolved against the site), with a message
//!    naming the table, the key, the value escaped and the rule;
//! 2. with validation bypassed (an `Inventory` built by hand), the escaping
//!    of each rendered file still keeps the value one value, or refuses to
//!    render: the files are read back by fastd itself, run by `sh` with
//!    stub commands, parsed by gluonvpn's readers;
//! 3. writing never follows or replaces a link: `--out FILE` refuses a
//!    symbolic link, `render --out DIR` stays inside `DIR`.

#[path = "support/tools.rs"]
mod tools;

use gluonvpn::check::{self, CheckOptions};
use gluonvpn::fastd_conf::{self, Includes};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::render::gateway::{self, GatewayOptions};
use gluonvpn::render::inventory::{Interfaces, Inventory, Peers, Settings};
use gluonvpn::render::{files, formats, Format, Tree};
use gluonvpn::templates::escape;
use std::os::unix::fs::{symlink, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    repo().join("site-examples").join(name)
}

fn render(site: &Path, name: &str, inventory: &Inventory) -> Result<Tree, String> {
    let outcome = check::check(site, &CheckOptions::new(GluonVersion::NEWEST)).expect("site loads");
    gateway::render(
        &outcome.site,
        inventory,
        &GatewayOptions {
            version: GluonVersion::NEWEST,
            gateway: name.into(),
            domain: None,
        },
    )
    .map_err(|e| e.to_string())
}

/// An inventory with one gateway, bypassing every check of
/// `Inventory::parse`.
fn bypassed(name: &str, settings: Settings) -> Inventory {
    let mut inventory = Inventory::default();
    inventory.gateways.insert(name.into(), settings);
    inventory
}

fn parse_error(text: &str) -> String {
    Inventory::parse(text).expect_err("refused when read")
}

fn gluonvpn(args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gluonvpn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

// 1. Refused when the inventory is read ------------------------------------

#[test]
fn a_fastd_directive_in_log_level_is_refused() {
    let e = parse_error("[gateways.gw1]\nlog_level = \"info; on up \\\"id\\\"\"\n");
    assert_eq!(
        e,
        "gateways.gw1: log_level = \"info; on up \\\"id\\\"\": expected one of fastd's log levels: fatal, error, warn, info, verbose, debug, debug2"
    );
}

#[test]
fn shell_words_in_paths_are_refused() {
    for key in [
        "fastd_secret",
        "wireguard_private_key",
        "peers_dir",
        "config_dir",
    ] {
        for attack in [
            "/etc/k; touch /tmp/pwned",
            "/etc/$(id)",
            "/etc/`id`",
            "/etc/k\n",
            "../k",
            "/etc/../k",
        ] {
            let toml_value = format!("{attack:?}");
            let e = parse_error(&format!("[gateways.gw1]\n{key} = {toml_value}\n"));
            assert!(
                e.starts_with(&format!(
                    "gateways.gw1: {key} = {toml_value}: expected an absolute path"
                )),
                "{key} = {attack:?}: {e}"
            );
        }
    }
}

#[test]
fn a_section_in_a_bridge_name_is_refused() {
    let e = parse_error(
        "[gateways.gw2]\ninterfaces = \"systemd-networkd\"\nbridge = \"br\\n[Network]\\nAddress=192.0.2.1/24\"\n",
    );
    assert!(
        e.starts_with(
            "gateways.gw2: bridge = \"br\\n[Network]\\nAddress=192.0.2.1/24\": expected an interface name"
        ),
        "{e}"
    );
    assert!(!e.contains('\n'), "the value is escaped: {e}");
}

#[test]
fn instances_outside_the_tree_are_refused() {
    for attack in ["../../x", "..", ".", "a/b", "/etc"] {
        let e = parse_error(&format!(
            "[gateways.gw1.domains.default]\ninstance = {attack:?}\n"
        ));
        assert!(
            e.starts_with(&format!(
                "gateways.gw1.domains.default: instance = {attack:?}: expected an instance name"
            )),
            "{e}"
        );
    }
}

#[test]
fn an_empty_bind_list_is_refused() {
    let e = parse_error("[gateways.gw1]\nbind = []\n");
    assert!(
        e.starts_with("gateways.gw1: bind = []: expected at least one address"),
        "{e}"
    );
}

#[test]
fn unknown_keys_name_the_nearest() {
    let e = parse_error("[gateways.gw1]\nwireguard_privatekey = \"/k\"\n");
    assert_eq!(
        e,
        "gateways.gw1: unknown key `wireguard_privatekey` (did you mean `wireguard_private_key`?)"
    );
}

#[test]
fn domain_tables_must_name_a_domain_of_the_site() {
    let site = example("multidomain");
    let e = render(
        &site,
        "gw_nord",
        &Inventory::parse("[gateways.gw_nord.domains.nrod]\nbatman = \"bat-x\"\n").expect("reads"),
    )
    .unwrap_err();
    assert_eq!(
        e,
        "gateways.gw_nord.domains.nrod: the site has no domain \"nrod\" (did you mean `nord`?)"
    );
    // An alias (domain_names) stands for its domain.
    let tree = render(
        &site,
        "gw_nord",
        &Inventory::parse("[gateways.gw_nord.domains.north]\nbatman = \"bat-north\"\n")
            .expect("reads"),
    )
    .expect("renders");
    assert!(
        tree.get("fastd/nord/fastd.conf")
            .expect("fastd.conf")
            .contains("master bat-north"),
        "{:?}",
        tree.get("fastd/nord/fastd.conf")
    );
    let e = render(
        &site,
        "gw_nord",
        &Inventory::parse(
            "[gateways.gw_nord.domains.north]\nbatman = \"bat-n\"\n[gateways.gw_nord.domains.nord]\nbatman = \"bat-m\"\n",
        )
        .expect("reads"),
    )
    .unwrap_err();
    assert!(e.contains("two of its names"), "{e}");
    // A site without domains has one: `default`.
    let e = render(
        &example("fastd"),
        "gw1",
        &Inventory::parse("[gateways.gw1.domains.nord]\noffload = true\n").expect("reads"),
    )
    .unwrap_err();
    assert!(
        e.contains("the site has no domain \"nord\" (a site without domains has one, `default`)"),
        "{e}"
    );
}

#[test]
fn cli_refuses_a_hostile_inventory_before_rendering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        "[gateways.gw1]\nconfig_dir = \"/etc/gluonvpn\\u001b]8;;x\\u0007$(id)\"\n",
    )
    .expect("write");
    let out = dir.path().join("out");
    let o = gluonvpn(
        &[
            "render",
            "gateway",
            example("wireguard").to_str().expect("path"),
            "--gateway",
            "gw1",
            "--inventory",
            inventory.to_str().expect("path"),
            "--out",
            out.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("gateways.gw1: config_dir = \"/etc/gluonvpn\\u{1b}]8;;x\\u{7}$(id)\": expected an absolute path"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "no escape reaches the terminal");
    assert!(!out.exists(), "nothing written");
}

// 2. Escaped in every file, even with validation bypassed ------------------

/// A fastd secret file and its public key.
fn fastd_secret(path: &Path) -> String {
    let secret = Command::new("fastd")
        .args(["--generate-key", "--machine-readable"])
        .output()
        .expect("fastd --generate-key");
    assert!(secret.status.success());
    std::fs::write(
        path,
        format!("secret \"{}\";\n", text(&secret.stdout).trim()),
    )
    .expect("write");
    let public = Command::new("fastd")
        .arg("--config")
        .arg(path)
        .args(["--show-key", "--machine-readable"])
        .output()
        .expect("fastd --show-key");
    let public = text(&public.stdout).trim().to_string();
    assert_eq!(public.len(), 64, "{public}");
    public
}

/// The fastd example site with gw1's key replaced.
fn fastd_site_with_key(key: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["site.conf", "site.mk", "image-customization.lua"] {
        let text = std::fs::read_to_string(example("fastd").join(file)).expect("read");
        let text = text.replace(
            "9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f",
            key,
        );
        std::fs::write(dir.path().join(file), text).expect("write");
    }
    dir
}

/// A site's fastd peer whose peer file fastd would skip (a key that is no
/// key, a remote fastd cannot read) gets no peer file from `render node`,
/// and a note says which and why; the other peer's file is written.
#[test]
fn render_node_leaves_out_peer_files_fastd_would_skip() {
    use gluonvpn::render::node::{self, NodeOptions};
    let bad_remote =
        fastd_site_with_key("9f0b3e7a1c5d2f8e4a6b0c9d7e1f3a5b8c2d4e6f0a1b3c5d7e9f1a2b4c6d8e0f");
    let conf = bad_remote.path().join("site.conf");
    let text = std::fs::read_to_string(&conf).expect("read");
    std::fs::write(
        &conf,
        text.replace("'\"gw2.example.org\" port 10000'", "'192.0.2.1:10:.x'"),
    )
    .expect("write");
    for (site, peer, why) in [
        (
            fastd_site_with_key("abc"),
            "gw1",
            "its key is not 64 hex digits",
        ),
        (bad_remote, "gw2", "the remote `192.0.2.1:10:.x`"),
    ] {
        let outcome = check::check(site.path(), &CheckOptions::new(GluonVersion::NEWEST))
            .expect("site loads");
        let tree = node::render(&outcome.site, &NodeOptions::new(GluonVersion::NEWEST))
            .expect("renders, with a note");
        let peer_files: Vec<&str> = tree
            .entries
            .iter()
            .map(|e| e.path())
            .filter(|p| p.starts_with("fastd/peers/") && p.contains("_peer_"))
            .collect();
        assert_eq!(peer_files.len(), 1, "{peer_files:?}");
        assert!(
            !peer_files[0].ends_with(&format!("_peer_{peer}")),
            "{peer_files:?}"
        );
        let note = tree
            .notes
            .iter()
            .find(|n| n.contains("no peer file"))
            .expect("a note");
        assert!(
            note.contains(&format!("_peer_{peer} (")) && note.contains(why),
            "{note}"
        );
    }
}

/// fastd reads a rendered config whose secret file and peer directory
/// have names full of fastd and shell syntax: the strings reach fastd as
/// the names they are (it opens exactly those), and nothing else does.
#[test]
fn fastd_strings_hold_any_path() {
    if !tools::installed("fastd") {
        tools::loud("skipped: fastd is not installed");
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let attack = "x\"; on up \"touch pwned\"; #\\ $(id) `id`";
    let secret = work.path().join(format!("secret {attack}.conf"));
    let public = fastd_secret(&secret);
    let peers = work.path().join(format!("peers {attack}"));
    std::fs::create_dir(&peers).expect("mkdir");
    let site = fastd_site_with_key(&public);
    let settings = Settings {
        fastd_secret: Some(secret.to_str().expect("path").into()),
        peers: Some(Peers::Directory),
        peers_dir: Some(peers.to_str().expect("path").into()),
        offload: Some(false),
        ..Settings::default()
    };
    let tree = render(site.path(), "gw1", &bypassed("gw1", settings)).expect("renders");
    assert!(
        !tree.notes.iter().any(|n| n.contains("not checked")),
        "the secret was read through its name: {:?}",
        tree.notes
    );
    let conf = tree.get("fastd/ffbsp/fastd.conf").expect("fastd.conf");
    // Read back with fastd's lexical rules: the one include is the path.
    let conf_without_peers: String = conf
        .lines()
        .filter(|l| !l.starts_with("include peers from"))
        .map(|l| format!("{l}\n"))
        .collect();
    let includes = fastd_conf::string_statements(&conf_without_peers, "include", Includes::Skip)
        .expect("lexes");
    assert_eq!(includes.len(), 1);
    assert_eq!(includes[0].value, secret.to_str().expect("path"));
    assert_eq!(conf.matches("\non up ").count(), 1, "{conf}");
    // fastd itself: it reads the secret from that file and the peer
    // directory by that name.
    let file = work.path().join("fastd.conf");
    std::fs::write(&file, conf).expect("write");
    let o = Command::new("fastd")
        .args(["--verify-config", "-c"])
        .arg(&file)
        .current_dir(work.path())
        .output()
        .expect("fastd");
    assert!(
        o.status.success(),
        "{}{}\n{conf}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(!work.path().join("pwned").exists());
}

#[test]
fn a_log_level_that_is_no_keyword_is_not_rendered() {
    let settings = Settings {
        log_level: Some("info; on up \"id\"".into()),
        ..Settings::default()
    };
    let e = render(&example("fastd"), "gw1", &bypassed("gw1", settings)).unwrap_err();
    assert!(
        e.contains("\"info; on up \\\"id\\\"\" is not a fastd keyword"),
        "{e}"
    );
    assert!(!e.contains("internal error"), "{e}");
}

/// The hook scripts with paths made of shell syntax, run by `sh` with
/// stub `ip` and `wg` commands that log their arguments: each path arrives
/// as one argument, exactly, and no command in it runs.
#[test]
fn shell_hooks_quote_every_word() {
    let work = tempfile::tempdir().expect("tempdir");
    let key = "/k; touch pwned1 $(touch pwned2) `touch pwned3` 'q' \"d\" \\";
    let config_dir = "/c$(touch pwned4);touch pwned5";
    let settings = Settings {
        wireguard_private_key: Some(key.into()),
        config_dir: Some(config_dir.into()),
        interfaces: Some(Interfaces::Hooks),
        ..Settings::default()
    };
    let tree = render(&example("wireguard"), "gw1", &bypassed("gw1", settings)).expect("renders");
    let up = tree.get("wireguard/wg-mesh-up.sh").expect("up script");
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    for tool in ["ip", "wg"] {
        let path = bin.join(tool);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '{tool} [%s]\\n' \"$a\"; done >> \"$LOG\"\n"
            ),
        )
        .expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let script = work.path().join("up.sh");
    std::fs::write(&script, up).expect("write");
    let log = work.path().join("log");
    let o = Command::new("sh")
        .arg(&script)
        .current_dir(work.path())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("LOG", &log)
        .output()
        .expect("sh");
    assert!(o.status.success(), "{}\n{up}", text(&o.stderr));
    let log = std::fs::read_to_string(&log).expect("log");
    assert!(log.contains(&format!("wg [{key}]\n")), "{log}\n{up}");
    assert!(
        log.contains(&format!("wg [{config_dir}/wireguard/wg-mesh.conf]\n")),
        "{log}\n{up}"
    );
    for n in 1..=5 {
        assert!(!work.path().join(format!("pwned{n}")).exists(), "{up}");
    }
    // The same words in the systemd-networkd units: refused, not written.
    let settings = Settings {
        wireguard_private_key: Some("/k\n[WireGuard]\nPrivateKeyFile=/other".into()),
        interfaces: Some(Interfaces::SystemdNetworkd),
        ..Settings::default()
    };
    let e = render(&example("wireguard"), "gw1", &bypassed("gw1", settings)).unwrap_err();
    assert!(e.contains("cannot be a value in a systemd unit"), "{e}");
}

#[test]
fn unit_files_take_no_new_lines() {
    let settings = Settings {
        interfaces: Some(Interfaces::SystemdNetworkd),
        bridge: Some("br\n[Network]\nAddress=192.0.2.1/24".into()),
        ..Settings::default()
    };
    // The name is checked as an interface name before any unit is written.
    let e = render(&example("fastd"), "gw1", &bypassed("gw1", settings)).unwrap_err();
    assert!(
        e.contains("bridge \"br\\n[Network]\\nAddress=192.0.2.1/24\" is not usable: expected an interface name"),
        "{e}"
    );
}

#[test]
fn names_made_from_hostile_values_are_checked_when_rendering() {
    // an instance that leaves the tree
    let settings = Settings {
        instance: Some("../../x".into()),
        ..Settings::default()
    };
    let e = render(&example("fastd"), "gw1", &bypassed("gw1", settings)).unwrap_err();
    assert!(
        e.contains("instance \"../../x\"") && e.contains("expected an instance name"),
        "{e}"
    );
    // an interface name with shell syntax
    let settings = Settings {
        batman: Some("bat0; touch pwned".into()),
        ..Settings::default()
    };
    let e = render(&example("fastd"), "gw1", &bypassed("gw1", settings)).unwrap_err();
    assert!(e.contains("expected an interface name"), "{e}");
    // no address to bind to
    let settings = Settings {
        bind: Some(Vec::new()),
        ..Settings::default()
    };
    let e = render(&example("fastd"), "gw1", &bypassed("gw1", settings)).unwrap_err();
    assert!(e.contains("bind is empty"), "{e}");
    // a domain table the site does not have
    let mut settings = Settings::default();
    settings.domains.insert("nrod".into(), Settings::default());
    let e = render(
        &example("multidomain"),
        "gw_nord",
        &bypassed("gw_nord", settings),
    )
    .unwrap_err();
    assert!(e.contains("did you mean `nord`?"), "{e}");
}

/// The escaping functions on the attack values, read back by the reader of
/// each syntax.
#[test]
fn escapes_read_back_as_the_value() {
    let attacks = [
        "info; on up \"id\"",
        "/k; touch /tmp/pwned",
        "/c/$(id)",
        "`id`",
        "it's \"quoted\" \\ and\nnew lines\r\n",
        "../../x",
        "br\n[Network]\nAddress=192.0.2.1/24",
        "%n %% 100%",
    ];
    for attack in attacks {
        // sh: one word, exactly the value
        let word = escape::shell_word(attack).expect("a shell word");
        let o = Command::new("sh")
            .args(["-c", &format!("printf '%s' {word}")])
            .output()
            .expect("sh");
        assert_eq!(text(&o.stdout), attack, "{word}");
        // fastd: one string, exactly the value
        let statement = format!(
            "include {};\n",
            escape::fastd_string(attack).expect("fastd")
        );
        let found =
            fastd_conf::string_statements(&statement, "include", Includes::Skip).expect("lexes");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, attack);
        // comments: one line
        assert_eq!(
            format!("# {}\n", escape::comment(attack)).lines().count(),
            1
        );
        // systemd units, WireGuard: refused when it would not stay one value
        if let Ok(value) = escape::unit_value(attack) {
            let unit = formats::parse_ini(&format!("[Match]\nName={value}\n")).expect("ini");
            assert_eq!(unit[0].1, [("Name".to_string(), attack.to_string())]);
        }
        if let Ok(value) = escape::wg_value(attack) {
            let conf = formats::parse_wg(&format!("[Peer]\nEndpoint = {value}\n")).expect("wg");
            assert_eq!(conf[0].1[0].1, attack);
        }
    }
    assert!(escape::unit_value("br\n[Network]").is_err());
    assert!(escape::fastd_word("info; on up \"id\"").is_err());
    // configparser: as Python reads it, `%%` included
    let python = Command::new("python3").arg("--version").output();
    if python.is_ok_and(|o| o.status.success()) {
        for attack in ["/etc/gluonvpn%(x)s/session-up.sh", "100%", "eth0"] {
            let value = escape::configparser_value(attack).expect("ini");
            let o = Command::new("python3")
                .args([
                    "-c",
                    "import configparser, sys\nc = configparser.ConfigParser()\nc.read_string(sys.argv[1])\nsys.stdout.write(c.get('hooks', 'session.up'))",
                    &format!("[hooks]\nsession.up={value}\n"),
                ])
                .output()
                .expect("python3");
            assert_eq!(text(&o.stdout), attack, "{}", text(&o.stderr));
        }
    }
    assert!(escape::configparser_value("eth0\nport=1").is_err());
}

// 3. Writing never follows or replaces a link ------------------------------

/// A secret from `fastd --generate-key` (as in tests/keys.rs).
const SECRET: &str = "50500d2f0dae0a4b9fb291c1823762de53230fe2c28a42b17abc264edd97727c";

fn translate_private(out: &Path) -> Output {
    gluonvpn(
        &[
            "keys",
            "translate",
            "--private",
            "--out",
            out.to_str().expect("path"),
        ],
        &format!("{SECRET}\n"),
    )
}

#[test]
fn keys_translate_refuses_a_link_at_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    // a file standing for what /dev/stdout leads to, and a link standing
    // for /dev/stdout
    let target = dir.path().join("terminal");
    std::fs::write(&target, "keep\n").expect("write");
    let stdout_link = dir.path().join("stdout");
    symlink(&target, &stdout_link).expect("symlink");
    let o = translate_private(&stdout_link);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "{} is a symbolic link (to {}); gluonvpn does not write through links, give the target itself",
            stdout_link.display(),
            target.display()
        )),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep\n");
    assert!(std::fs::symlink_metadata(&stdout_link)
        .expect("lstat")
        .file_type()
        .is_symlink());
    // a dangling link: no file appears where it points
    let dangling = dir.path().join("dangling");
    symlink(dir.path().join("elsewhere"), &dangling).expect("symlink");
    assert_eq!(translate_private(&dangling).status.code(), Some(2));
    assert!(!dir.path().join("elsewhere").exists());
    // a FIFO is not a file to replace (and is not opened)
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let o = translate_private(&fifo);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("is a FIFO"), "{}", text(&o.stderr));
    // no temporary file left anywhere
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["dangling", "fifo", "stdout", "terminal"]);
}

#[test]
fn keys_translate_out_writes_new_files_0600_and_dash_is_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("wg.key");
    let o = translate_private(&key);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(mode(&key), 0o600);
    let written = std::fs::read_to_string(&key).expect("read");
    let o = translate_private(Path::new("-"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), written);
    assert!(!Path::new("-").exists());
}

fn render_gateway_cli(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "render".to_string(),
        "gateway".into(),
        example("fastd").to_str().expect("path").into(),
        "--gateway".into(),
        "gw1".into(),
        "--inventory".into(),
        example("inventory.toml").to_str().expect("path").into(),
        "--out".into(),
        out.to_str().expect("path").into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    gluonvpn(&args, "")
}

/// `render --out DIR` with links inside `DIR`: a directory leading out is
/// refused, a file that is a link is never written through or replaced
/// (not even with --force), a directory link inside is followed.
#[test]
fn render_out_stays_inside_the_directory() {
    let root = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");

    // fastd/ leads out
    symlink(outside.path(), out.join("fastd")).expect("symlink");
    for extra in [&[][..], &["--force"]] {
        let o = render_gateway_cli(&out, extra);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(
            err.contains(&format!(
                "{} is a symbolic link to {}, outside {}",
                out.join("fastd").display(),
                outside.path().display(),
                out.display()
            )),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("dir").count(),
        0,
        "nothing written outside"
    );
    // --check and --diff do not read through it either
    assert_eq!(
        render_gateway_cli(&out, &["--check"]).status.code(),
        Some(2)
    );

    // fastd/ leads to a directory inside: followed
    std::fs::remove_file(out.join("fastd")).expect("rm");
    std::fs::create_dir(out.join("real-fastd")).expect("mkdir");
    symlink("real-fastd", out.join("fastd")).expect("symlink");
    let o = render_gateway_cli(&out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let conf = out.join("real-fastd/ffbsp/fastd.conf");
    assert!(conf.is_file());
    assert_eq!(mode(&conf), 0o644);
    assert_eq!(
        render_gateway_cli(&out, &["--check"]).status.code(),
        Some(0)
    );

    // fastd.conf is a link to a file outside: reported, never replaced
    let target = outside.path().join("fastd.conf");
    std::fs::write(&target, "keep\n").expect("write");
    std::fs::remove_file(&conf).expect("rm");
    symlink(&target, &conf).expect("symlink");
    let o = render_gateway_cli(&out, &["--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains(&format!("a symbolic link to {}", target.display())),
        "{}",
        text(&o.stdout)
    );
    let o = render_gateway_cli(&out, &["--diff"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!text(&o.stdout).contains("keep"), "{}", text(&o.stdout));
    for extra in [&[][..], &["--force"]] {
        let o = render_gateway_cli(&out, extra);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("does not write through symbolic links or replace them"),
            "{}",
            text(&o.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep\n");
    assert!(std::fs::symlink_metadata(&conf)
        .expect("lstat")
        .file_type()
        .is_symlink());
}

/// A tree built by hand with paths that leave the directory is refused
/// before anything is written.
#[test]
fn hand_built_trees_cannot_leave_the_directory() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("out");
    for path in [
        "../escape.conf",
        "/tmp/escape.conf",
        "a/../../escape.conf",
        "a//b",
    ] {
        let mut tree = Tree::default();
        tree.file("fine.conf", "x\n".into(), Format::KeyValue);
        tree.file(path, "x\n".into(), Format::KeyValue);
        let e = files::write(&tree, &out, true).unwrap_err().to_string();
        assert!(
            e.contains("is not a path inside the output directory"),
            "{e}"
        );
        assert!(files::compare(&tree, &out).is_err());
        assert!(formats::reparse_tree(&tree).is_err());
    }
    assert!(!root.path().join("escape.conf").exists());
    assert!(!out.join("fine.conf").exists(), "nothing at all written");
}
