//! `--format sarif`: valid against the official SARIF 2.1.0 JSON schema, and
//! saying what `--format json` says, for a clean site, a site with many
//! problems, multidomain sites and a problem without a place.
//!
//! The schema is not in the repository: `.ci/test-tools` fetches it from a
//! package registry into target/ci/ (see there for where it comes from), and
//! CI always runs it. Without it the schema checks are skipped loudly (and
//! fail under CI=true); everything else here runs anyway.

#[path = "support/tools.rs"]
mod tools;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs gluonvpn; returns stdout as JSON and the exit status.
fn run(args: &[&str], cwd: &Path) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("runs gluonvpn");
    let status = out.status.code().expect("exit status");
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, status)
}

fn sarif_and_json(args: &[&str], cwd: &Path) -> (Value, Value, i32) {
    let mut sarif_args = args.to_vec();
    sarif_args.extend(["--format", "sarif"]);
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (sarif, status) = run(&sarif_args, cwd);
    let (json, json_status) = run(&json_args, cwd);
    assert_eq!(
        status, json_status,
        "exit status differs from --format json"
    );
    (sarif, json, status)
}

fn schema_path() -> PathBuf {
    std::env::var_os("GLUONVPN_SARIF_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("target/ci/sarif-schema-2.1.0.json"))
}

/// The official schema as a validator, or `None` (with a loud message) when
/// it has not been fetched.
fn validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let path = schema_path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                assert!(
                    !tools::in_ci(),
                    "{} is missing: CI must run .ci/test-tools first",
                    path.display()
                );
                tools::loud(&format!(
                    "\n*** SKIPPING SARIF SCHEMA VALIDATION: {} is missing; run .ci/test-tools to fetch it ***\n",
                    path.display()
                ));
                return None;
            };
            let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
            assert_eq!(
                schema["id"],
                "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
                "not the official SARIF 2.1.0 schema"
            );
            Some(
                jsonschema::draft4::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .expect("the schema compiles"),
            )
        })
        .as_ref()
}

/// Every way `log` breaks the schema.
fn schema_errors(log: &Value) -> Option<Vec<String>> {
    validator().map(|v| {
        v.iter_errors(log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    })
}

fn assert_valid(log: &Value) {
    if let Some(errors) = schema_errors(log) {
        assert!(
            errors.is_empty(),
            "not valid SARIF 2.1.0:\n{}",
            errors.join("\n")
        );
    }
    assert_uris_valid(log);
}

/// The schema is draft 4, which has no `uri-reference` format, so neither
/// validator checks an artifact location's `uri` (and Python's checks no
/// `uri` without an extra package): check them as RFC 3986 URIs here, with
/// the draft 7 formats.
fn assert_uris_valid(log: &Value) {
    let format = |name: &str| {
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&serde_json::json!({ "type": "string", "format": name }))
            .expect("compiles")
    };
    let (uri, reference) = (format("uri"), format("uri-reference"));
    let run = &log["runs"][0];
    for base in run["originalUriBaseIds"]
        .as_object()
        .expect("bases")
        .values()
    {
        assert!(uri.is_valid(&base["uri"]), "{base}");
    }
    for result in run["results"].as_array().expect("results") {
        for location in result["locations"].as_array().into_iter().flatten() {
            let artifact = &location["physicalLocation"]["artifactLocation"];
            let target = &artifact["uri"];
            assert!(reference.is_valid(target), "{target}");
            // relative to its base, or absolute when it has none
            assert_eq!(
                uri.is_valid(target),
                artifact.get("uriBaseId").is_none(),
                "{target}"
            );
        }
    }
    assert!(!uri.is_valid(&"file:///a b/".into()), "the check works");
    assert!(!reference.is_valid(&"a b".into()), "the check works");
}

fn decode_percent(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// The SARIF log says what the JSON document says, the way SARIF says it.
fn assert_agrees(sarif: &Value, json: &Value) {
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "one run");
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "gluonvpn");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    // a rule for every code, in the catalogue's order
    let rules = driver["rules"].as_array().expect("rules");
    let catalog: Vec<_> = gluonvpn::catalog::all().collect();
    assert_eq!(rules.len(), catalog.len());
    for (rule, info) in rules.iter().zip(&catalog) {
        assert_eq!(rule["id"], info.code);
        assert_eq!(rule["name"], info.name);
        assert_eq!(rule["shortDescription"]["text"], info.summary);
        assert_eq!(rule["fullDescription"]["text"], info.explanation);
        assert_eq!(rule["help"]["markdown"], info.explanation);
        let level = match info.severity.as_str() {
            "info" => "note",
            other => other,
        };
        assert_eq!(
            rule["defaultConfiguration"]["level"], level,
            "{}",
            info.code
        );
    }

    // the working directory (the repository root in CI), absolute, as the
    // base of relative locations
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT%");
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let root = PathBuf::from(decode_percent(&base["file://".len()..]));
    assert_eq!(
        root,
        std::fs::canonicalize(manifest_dir()).expect("manifest dir")
    );

    assert_eq!(run["properties"]["gluonVersion"], json["gluon_version"]);
    assert_eq!(run["properties"]["gluonOk"], json["gluon_ok"]);
    assert_eq!(
        run["properties"]["checkedPackages"],
        json["checked_packages"]
    );
    assert_eq!(run["properties"]["domains"], json["domains"]);

    // a result for every diagnostic, in the same order
    let results = run["results"].as_array().expect("results");
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(results.len(), diagnostics.len());
    for (r, d) in results.iter().zip(diagnostics) {
        assert_eq!(r["ruleId"], d["code"]);
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let level = match d["severity"].as_str().expect("severity") {
            "info" => "note",
            other => other,
        };
        assert_eq!(r["level"], level);
        assert_eq!(r["properties"]["gluonVersions"], d["gluon_versions"]);
        let text = r["message"]["text"].as_str().expect("message");
        assert!(
            text.starts_with(d["message"].as_str().expect("message")),
            "{text}"
        );
        for note in d["notes"].as_array().expect("notes") {
            assert!(text.contains(note.as_str().expect("note")), "{text}");
        }
        match d["file"].as_str() {
            None => assert!(r.get("locations").is_none(), "{r:#}"),
            Some(file) => {
                let locations = r["locations"].as_array().expect("locations");
                assert_eq!(locations.len(), 1);
                let physical = &locations[0]["physicalLocation"];
                let artifact = &physical["artifactLocation"];
                let uri = artifact["uri"].as_str().expect("uri");
                // relative to the working directory, or an absolute file URI
                // for a site outside it
                let path = match artifact["uriBaseId"].as_str() {
                    Some(base_id) => {
                        assert_eq!(base_id, "%SRCROOT%");
                        root.join(decode_percent(uri))
                    }
                    None => PathBuf::from(decode_percent(
                        uri.strip_prefix("file://").expect("file URI"),
                    )),
                };
                assert!(path.ends_with(file), "{uri} is not {file}");
                assert!(path.is_file(), "{uri}");
                let region = &physical["region"];
                assert_eq!(region["startLine"], d["line"]);
                assert_eq!(region["startColumn"], d["column"]);
                assert_eq!(region["endLine"], d["end_line"]);
                assert_eq!(region["endColumn"], d["end_column"]);
            }
        }
        let properties = &r["properties"];
        let or_null = |v: &Value| if v.is_null() { Value::Null } else { v.clone() };
        assert_eq!(or_null(&properties["configPath"]), d["path"]);
        assert_eq!(or_null(&properties["gluonMessage"]), d["gluon_message"]);
        for (key, field) in [("domains", "domains"), ("packages", "packages")] {
            let expected = d[field].as_array().expect("list");
            match properties.get(key) {
                Some(list) => assert_eq!(list.as_array().expect("list"), expected),
                None => assert!(expected.is_empty()),
            }
        }
    }
}

/// Checks a site given relative to the repository; returns the SARIF log.
fn check_repo_site(site: &str, extra: &[&str], expected_status: i32) -> Value {
    let mut args = vec!["check", site];
    args.extend(extra);
    let (sarif, json, status) = sarif_and_json(&args, manifest_dir());
    assert_eq!(status, expected_status, "{site}");
    assert_valid(&sarif);
    assert_agrees(&sarif, &json);
    sarif
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

#[test]
fn a_clean_site_is_a_log_without_results() {
    let log = check_repo_site("site-examples/fastd", &[], 0);
    assert!(results(&log).is_empty());
}

#[test]
fn a_site_with_many_problems() {
    let log = check_repo_site("tests/fixtures/mixed-errors", &[], 1);
    assert!(results(&log).len() >= 10, "{log:#}");
    // Gluon's findings are errors; GS008 adds that the fixture's obsolete
    // key fits no supported release.
    assert!(results(&log)
        .iter()
        .all(|r| r["level"] == "error" || r["ruleId"] == "GS008"));
}

/// Several releases: one run, one result per finding with its releases,
/// and each release's verdict in the run's properties.
#[test]
fn every_release_at_once() {
    let log = check_repo_site(
        "tests/fixtures/mixed-errors",
        &["--gluon-version", "all"],
        1,
    );
    let releases = log["runs"][0]["properties"]["releases"]
        .as_array()
        .expect("releases");
    assert_eq!(releases.len(), 4);
    assert!(releases.iter().all(|r| r["gluonOk"] == false), "{log:#}");
    assert!(results(&log)
        .iter()
        .all(|r| r["properties"]["gluonVersions"]
            .as_array()
            .is_some_and(|v| !v.is_empty())));
}

#[test]
fn multidomain_sites() {
    let log = check_repo_site("site-examples/multidomain", &[], 0);
    assert!(results(&log).is_empty());
    assert_eq!(
        log["runs"][0]["properties"]["domains"],
        serde_json::json!(["nord", "sued"])
    );
    let log = check_repo_site("tests/fixtures/domain-scope", &[], 1);
    let uris: Vec<&str> = results(&log)
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(
        uris.contains(&"tests/fixtures/domain-scope/domains/ost.conf"),
        "{uris:?}"
    );
    assert!(
        results(&log)
            .iter()
            .any(|r| r["properties"]["domains"] == serde_json::json!(["ost", "west"])),
        "{log:#}"
    );
}

/// A site directory written by the test, with a name that needs
/// percent-encoding in a URI (not a space: GNU make cannot include such a
/// site.mk, in Gluon either).
fn temp_site(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = dir.path().join("site-ä");
    for (name, text) in files {
        let path = site.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    (dir, site)
}

const SITE_CONF: &str = "{\n  site_code = 'fft', site_name = 'Test', timezone = 'UTC',\n  domain_seed = '1f3a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a',\n  prefix6 = 'fd00::/64',\n  mesh = { vxlan = true, batman_adv = { routing_algo = 'BATMAN_IV' } },\n}\n";

/// Like [`check_repo_site`] for a site outside the repository.
fn check_temp_site(site: &Path, extra: &[&str], expected_status: i32) -> Value {
    let mut args = vec!["check", site.to_str().expect("utf-8 path")];
    args.extend(extra);
    let (sarif, json, status) = sarif_and_json(&args, manifest_dir());
    assert_eq!(status, expected_status);
    assert_valid(&sarif);
    assert_agrees(&sarif, &json);
    sarif
}

#[test]
fn a_problem_without_a_place_has_no_locations() {
    let (_dir, site) = temp_site(&[
        ("site.conf", SITE_CONF),
        ("site.mk", "GLUON_RELEASE := 1.0\n"),
    ]);
    let log = check_temp_site(&site, &["--gluon-version", "v2025.1"], 1);
    let missing = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "GS012")
        .unwrap_or_else(|| panic!("no GS012 in {log:#}"));
    assert!(missing.get("locations").is_none(), "{missing:#}");
    assert!(
        results(&log).iter().all(|r| r["ruleId"] != "GS010"),
        "{log:#}"
    );
}

#[test]
fn deny_raises_a_results_level_but_not_the_rules_default() {
    let fastd = std::fs::read_to_string(manifest_dir().join("site-examples/fastd/site.conf"))
        .expect("example");
    let conf = fastd.replace(
        "methods = { 'salsa2012+umac' },",
        "methods = { 'null', 'salsa2012+umac' },",
    );
    assert_ne!(conf, fastd, "the example's method list moved");
    let read = |name: &str| {
        std::fs::read_to_string(manifest_dir().join("site-examples/fastd").join(name))
            .expect("example")
    };
    let (_dir, site) = temp_site(&[
        ("site.conf", &conf),
        ("site.mk", &read("site.mk")),
        ("image-customization.lua", &read("image-customization.lua")),
    ]);
    let log = check_temp_site(&site, &[], 0);
    let warning = results(&log)
        .iter()
        .find(|r| r["level"] == "warning")
        .unwrap_or_else(|| panic!("no warning in {log:#}"))
        .clone();
    let code = warning["ruleId"].as_str().expect("code").to_owned();

    let log = check_temp_site(&site, &["--deny", &code], 1);
    let denied = results(&log)
        .iter()
        .find(|r| r["ruleId"] == code.as_str())
        .expect("still reported");
    assert_eq!(denied["level"], "error");
    let index = denied["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][index]["defaultConfiguration"]["level"],
        "warning"
    );
}

#[test]
fn the_schema_check_catches_broken_logs() {
    let (log, _) = run(
        &["check", "tests/fixtures/mixed-errors", "--format", "sarif"],
        manifest_dir(),
    );
    let Some(errors) = schema_errors(&log) else {
        return;
    };
    assert!(errors.is_empty(), "{errors:?}");
    type Breaking = fn(&mut Value);
    let broken: [(&str, Breaking); 5] = [
        ("no version", |l| {
            l.as_object_mut().expect("object").remove("version");
        }),
        ("level info", |l| {
            l["runs"][0]["results"][0]["level"] = "info".into();
        }),
        ("column 0", |l| {
            l["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
                ["startColumn"] = 0.into();
        }),
        ("unknown column kind", |l| {
            l["runs"][0]["columnKind"] = "characters".into();
        }),
        ("$schema not a URI", |l| {
            l["$schema"] = "not a uri".into();
        }),
    ];
    for (what, breaking) in broken {
        let mut copy = log.clone();
        breaking(&mut copy);
        let errors = schema_errors(&copy).expect("schema");
        assert!(!errors.is_empty(), "{what}: accepted");
    }
}

/// The Python reference implementation of JSON Schema (through
/// check-jsonschema, which .ci/test-tools installs) agrees.
#[test]
fn python_jsonschema_agrees() {
    let Some(check) = tools::check_jsonschema("THE SARIF LOGS' SCHEMA VALIDATION") else {
        return;
    };
    if !schema_path().is_file() {
        assert!(!tools::in_ci(), "{} is missing", schema_path().display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for site in [
        "site-examples/fastd",
        "site-examples/multidomain",
        "tests/fixtures/mixed-errors",
        "tests/fixtures/domain-scope",
        "tests/fixtures/syntax-error",
    ] {
        let (log, _) = run(&["check", site, "--format", "sarif"], manifest_dir());
        let file = dir.path().join(format!("{}.sarif", site.replace('/', "_")));
        std::fs::write(&file, serde_json::to_vec(&log).expect("json")).expect("write");
        files.push(file);
    }
    let out = Command::new(&check)
        .arg("--schemafile")
        .arg(schema_path())
        .args(&files)
        .output()
        .expect("runs check-jsonschema");
    assert!(
        out.status.success(),
        "check-jsonschema rejects the logs:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
