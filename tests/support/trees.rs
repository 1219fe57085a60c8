//! What several tests read out of rendered trees.

// each test target uses a part of it
#![allow(dead_code)]

use gluonvpn::render::{Entry, Format, Tree};

/// The fastd configurations of a rendered tree: (path, text).
pub fn fastd_configs(tree: &Tree) -> Vec<(&str, &str)> {
    tree.entries
        .iter()
        .filter_map(|e| match e {
            Entry::File {
                path,
                content,
                format: Format::Fastd,
                ..
            } => Some((path.as_str(), content.as_str())),
            _ => None,
        })
        .collect()
}

/// Copies a directory tree (an example site) to `to`.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    copy_tree_edited(from, to, |_, text| text);
}

/// Copies a directory tree to `to`, each file's text through `edit` (with
/// the file's name).
pub fn copy_tree_edited(
    from: &std::path::Path,
    to: &std::path::Path,
    edit: impl Fn(&str, String) -> String,
) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let target = to.join(entry.path().strip_prefix(from).expect("inside"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            let text = std::fs::read_to_string(entry.path()).expect("read");
            let name = entry.file_name().to_string_lossy().into_owned();
            std::fs::write(&target, edit(&name, text)).expect("write");
        }
    }
}

/// A fresh fastd secret in `dir/secret.conf` (`fastd --generate-key`).
pub fn secret_file(dir: &std::path::Path) -> std::path::PathBuf {
    let out = std::process::Command::new("fastd")
        .args(["--generate-key", "--machine-readable"])
        .output()
        .expect("fastd --generate-key");
    assert!(out.status.success());
    let path = dir.join("secret.conf");
    let key = String::from_utf8_lossy(&out.stdout);
    std::fs::write(&path, format!("secret \"{}\";\n", key.trim())).expect("write");
    path
}

/// Runs `fastd --verify-config` on a config whose secret include points at
/// `secret`, and with `peers`, whose `include peers from` points there.
pub fn fastd_verifies(
    conf: &str,
    secret: &std::path::Path,
    peers: Option<&std::path::Path>,
    work: &std::path::Path,
) -> Result<(), String> {
    let mut text = String::new();
    for line in conf.lines() {
        match peers {
            Some(dir) if line.trim_start().starts_with("include peers from") => {
                text.push_str(&format!("include peers from \"{}\";\n", dir.display()));
            }
            _ if line.starts_with("include \"") && !line.contains("peers") => {
                text.push_str(&format!("include \"{}\";\n", secret.display()));
            }
            _ => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    let file = work.join("verify.conf");
    std::fs::write(&file, text).expect("write");
    super::tools::verdict(
        std::process::Command::new("fastd")
            .args(["--verify-config", "-c"])
            .arg(&file),
    )
}
