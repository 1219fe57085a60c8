//! The binary's command line, without root or network: help, mistakes,
//! configurations without peers, and `status` without a selector.

use std::process::{Command, Output};

fn selector(args: &[&str]) -> Output {
    let command = gluonvpn_testnet::agent_command(env!("CARGO_BIN_EXE_wgpeerselector"));
    Command::new(&command[0])
        .args(&command[1..])
        .args(args)
        .output()
        .expect("runs wgpeerselector")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A file in this test process's own directory (removed by the test).
fn temp(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wgps-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn help_lists_the_originals_options() {
    let out = selector(&["--help"]);
    assert!(out.status.success());
    let help = text(&out);
    for option in [
        "-i, --interface",
        "-v, --verbose",
        "--group GROUP",
        "-p, --pid-file",
    ] {
        assert!(help.contains(option), "{option}:\n{help}");
    }
    assert!(selector(&["-h"]).status.success());
    let version = selector(&["--version"]);
    assert!(text(&version).starts_with("wgpeerselector "));
}

#[test]
fn mistakes_exit_with_2() {
    for args in [&["--frobnicate"][..], &["-i"], &["--parallel", "none"]] {
        let out = selector(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).starts_with("wgpeerselector: "), "{}", text(&out));
    }
}

#[test]
fn no_peers_for_the_interface_exits_with_1() {
    let config = temp(
        "peers",
        "config peer 'gw1'\n\toption enabled '1'\n\toption ifname 'other'\n\toption public_key 'mIDOdscl2R3Dq+YthxdTvvtH4D53VhawzEnmet+E7W0='\n\toption endpoint '198.18.0.1:1'\n",
    );
    let socket = config.with_file_name("s.sock");
    let out = selector(&[
        "-i",
        "wg_mesh",
        "--config",
        config.to_str().unwrap(),
        "--status-socket",
        socket.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("No peers defined. Exiting!"),
        "{}",
        text(&out)
    );

    let broken = temp("broken", "config peer 'gw1\n");
    let out = selector(&["--config", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("line 1"), "{}", text(&out));

    let out = selector(&["--config", "/nonexistent/wgpeerselector"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("cannot read /nonexistent/wgpeerselector"));
    std::fs::remove_dir_all(config.parent().unwrap()).unwrap();
}

#[test]
fn status_without_a_selector_fails() {
    let out = selector(&["status", "--status-socket", "/nonexistent/x.sock"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("cannot read the status from /nonexistent/x.sock"));
}
