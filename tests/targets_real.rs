//! Opt-in: gluonvpn's target data against the real `make list-targets` of
//! every Gluon release it models, from a git repository of Gluon (a bare
//! mirror will do):
//!
//! GLUONVPN_GLUON_REPO=/path/to/gluon.git cargo test --test targets_real -- --nocapture

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The names gluonvpn lists for a release, with `--broken` or without.
fn gluonvpn_targets(version: &str, broken: bool) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gluonvpn"));
    cmd.args(["targets", "--gluon-version", version, "--format", "json"]);
    if broken {
        cmd.arg("--broken");
    }
    let list: Value = serde_json::from_str(&run(&mut cmd)).expect("json");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect()
}

/// `make list-targets` of Gluon at `tag`, in a tree extracted from `repo`.
fn make_list_targets(repo: &Path, tag: &str, broken: bool) -> Vec<String> {
    let tree = tempfile::tempdir().expect("tempdir");
    let archive = Command::new("git")
        .args(["--git-dir"])
        .arg(repo)
        .args(["archive", tag])
        .output()
        .expect("git archive");
    assert!(archive.status.success(), "git archive {tag}");
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(tree.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("tar");
    std::io::Write::write_all(tar.stdin.as_mut().expect("stdin"), &archive.stdout).expect("write");
    assert!(tar.wait().expect("tar").success());
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/fastd");
    let mut make = Command::new("make");
    make.arg("--no-print-directory")
        .arg("list-targets")
        .arg(format!("GLUON_SITEDIR={}", site.display()))
        .current_dir(tree.path())
        .env_remove("MAKEFLAGS");
    if broken {
        make.arg("BROKEN=1");
    }
    run(&mut make)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn targets_match_make_list_targets_at_every_release() {
    let Some(repo) = std::env::var_os("GLUONVPN_GLUON_REPO").map(PathBuf::from) else {
        eprintln!("skipped: set GLUONVPN_GLUON_REPO to a git repository of Gluon");
        return;
    };
    for (version, tag) in [
        ("v2022.1", "v2022.1.4"),
        ("v2023.1", "v2023.1.2"),
        ("v2023.2", "v2023.2.6"),
        ("v2025.1", "v2025.1.3"),
    ] {
        for broken in [false, true] {
            let expected = make_list_targets(&repo, tag, broken);
            let actual = gluonvpn_targets(version, broken);
            println!(
                "{tag}{}: {} targets",
                if broken { " BROKEN=1" } else { "" },
                expected.len()
            );
            assert_eq!(actual, expected, "{tag}, broken: {broken}");
        }
    }
}
