//! `--format json` against its published JSON Schema
//! (book/src/schema/check-output.schema.json): the schema forbids fields it
//! does not describe, so output and documentation cannot drift apart.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("book/src/schema/check-output.schema.json"))
        .expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft7::new(&schema).expect("a valid draft-07 schema")
}

fn json_of(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .args(["--format", "json"])
        .current_dir(root())
        .output()
        .expect("runs gluonvpn");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn outputs_follow_the_published_schema() {
    let validator = validator();
    let mut codes = std::collections::BTreeSet::new();
    let mut sites: Vec<String> = [
        "site-examples/fastd",
        "site-examples/wireguard",
        "site-examples/multidomain",
        "tests/fixtures/mixed-errors",
        "tests/fixtures/domain-scope",
        "tests/fixtures/syntax-error",
    ]
    .map(String::from)
    .into();
    if corpus::corpus("THE SCHEMA CHECK OF CORPUS SITES' OUTPUT").is_some() {
        let real = ["ffa", "ffmwu", "ffnw", "ffh-wg"];
        sites.extend(real.map(|name| format!("{}/{name}", corpus::CORPUS)));
    }
    for site in &sites {
        for version in ["v2022.1", "v2025.1", "all"] {
            let doc = json_of(&["check", site, "--gluon-version", version]);
            assert_valid(&validator, &doc, &format!("{site} {version}"));
            for d in doc["diagnostics"].as_array().into_iter().flatten() {
                codes.insert(d["code"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    // the sample covers loading, Gluon's checks and lints
    for prefix in ["GS", "GL", "GV"] {
        assert!(
            codes.iter().any(|c| c.starts_with(prefix)),
            "no {prefix} code in {codes:?}"
        );
    }
}

#[test]
fn probe_objects_follow_the_published_schema() {
    // An NTP server on loopback that is not there: refused at once, and the
    // finding carries a probe object. Nothing leaves the machine.
    let dir = tempfile::tempdir().expect("tempdir");
    let conf =
        std::fs::read_to_string(root().join("site-examples/wireguard/site.conf")).expect("example");
    let conf = conf.replace(
        "ntp_servers = { '0.de.pool.ntp.org', '1.de.pool.ntp.org' },",
        "ntp_servers = { '127.0.0.1' },",
    );
    assert!(conf.contains("'127.0.0.1'"));
    for name in ["site.mk", "image-customization.lua"] {
        std::fs::copy(
            root().join("site-examples/wireguard").join(name),
            dir.path().join(name),
        )
        .expect("copy");
    }
    std::fs::write(dir.path().join("site.conf"), conf).expect("write");
    let doc = json_of(&["check", dir.path().to_str().expect("utf-8"), "--online"]);
    assert_valid(&validator(), &doc, "online");
    let probed = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d.get("probe").is_some())
        .unwrap_or_else(|| panic!("no probe object in {doc:#}"));
    assert_eq!(probed["probe"]["kind"], "ntp-server");
}

#[test]
fn the_schema_rejects_what_it_does_not_describe() {
    let validator = validator();
    let mut doc = json_of(&["check", "tests/fixtures/mixed-errors"]);
    assert!(validator.is_valid(&doc));
    doc["diagnostics"][0]["undocumented"] = Value::Bool(true);
    assert!(
        !validator.is_valid(&doc),
        "an undocumented field must fail the schema"
    );
}
