//! `check --format gitlab`: a GitLab code quality report (the Code Climate
//! subset GitLab documents) whose fingerprints survive unrelated edits.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mixed-errors"
    ))
}

/// A copy of the fixture as `site/` in a repository directory, with `edit`
/// applied to its site.conf.
fn repository(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("tempdir");
    let site = repo.path().join("site");
    std::fs::create_dir_all(&site).expect("mkdir");
    for entry in std::fs::read_dir(fixture()).expect("fixture") {
        let entry = entry.expect("entry");
        let text = std::fs::read_to_string(entry.path()).expect("read");
        let text = if entry.file_name() == "site.conf" {
            edit(text)
        } else {
            text
        };
        std::fs::write(site.join(entry.file_name()), text).expect("write");
    }
    repo
}

fn report(repo: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .current_dir(repo)
        .args([
            "check",
            "site",
            "--format",
            "gitlab",
            "--gluon-version",
            "v2025.1",
        ])
        .output()
        .expect("gluonvpn");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    doc.as_array().expect("an array").clone()
}

/// Every issue has GitLab's fields with their documented types, and
/// nothing GitLab does not know.
#[test]
fn issues_have_gitlabs_fields() {
    let repo = repository(|t| t);
    let issues = report(repo.path());
    assert!(issues.len() >= 3, "{issues:#?}");
    let mut fingerprints = BTreeSet::new();
    for issue in &issues {
        let object = issue.as_object().expect("an object");
        let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "check_name",
                "description",
                "fingerprint",
                "location",
                "severity"
            ]
            .into_iter()
            .collect(),
            "{issue}"
        );
        assert!(!issue["description"].as_str().expect("text").is_empty());
        let code = issue["check_name"].as_str().expect("text");
        assert!(code.len() == 5 && code.starts_with('G'), "{code}");
        let fingerprint = issue["fingerprint"].as_str().expect("text");
        assert!(
            fingerprint.len() == 32 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()),
            "{fingerprint}"
        );
        assert!(
            fingerprints.insert(fingerprint.to_string()),
            "unique: {fingerprint}"
        );
        let severity = issue["severity"].as_str().expect("text");
        assert!(
            ["info", "minor", "major", "critical", "blocker"].contains(&severity),
            "{severity}"
        );
        let path = issue["location"]["path"].as_str().expect("a path");
        assert!(path.starts_with("site/") && !path.contains(".."), "{path}");
        let begin = issue["location"]["lines"]["begin"]
            .as_u64()
            .expect("a line");
        let end = issue["location"]["lines"]["end"].as_u64().expect("a line");
        assert!(begin >= 1 && end >= begin, "{issue}");
    }
}

/// Lines added above the findings move them, and change no fingerprint.
#[test]
fn fingerprints_survive_lines_added_above() {
    let before = report(repository(|t| t).path());
    let after = report(repository(|t| format!("-- a comment\n-- and another\n\n{t}")).path());
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a["fingerprint"], b["fingerprint"], "{a} / {b}");
        let (la, lb) = (
            a["location"]["lines"]["begin"].as_u64().unwrap(),
            b["location"]["lines"]["begin"].as_u64().unwrap(),
        );
        if a["location"]["path"] == "site/site.conf" && la > 1 {
            assert_eq!(lb, la + 3, "{a} / {b}");
        }
    }
}
