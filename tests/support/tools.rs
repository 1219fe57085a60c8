//! The test tools that .ci/test-tools installs (check-jsonschema, from
//! PyPI, into target/ci/venv), shared by the tests that use them.
//!
//! A missing tool skips the check with a loud message, and fails under
//! CI=true, where .ci/run installs it first.

// each test target uses a part of it
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the tests run in CI (`CI` set and not empty).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// A message on the test's standard error, past the test harness' capture.
pub fn loud(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// check-jsonschema from target/ci/venv or PATH; `None` when missing, after
/// saying loudly that `what` is skipped (under CI=true: a failure).
pub fn check_jsonschema(what: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci/venv/bin/check-jsonschema");
    if venv.is_file() {
        return Some(venv);
    }
    let on_path = Command::new("check-jsonschema")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path {
        return Some(PathBuf::from("check-jsonschema"));
    }
    assert!(
        !in_ci(),
        "check-jsonschema is missing: CI must run .ci/test-tools first"
    );
    loud(&format!(
        "\n*** SKIPPING {what}: check-jsonschema is not installed; run .ci/test-tools ***\n"
    ));
    None
}

/// A linter .ci/test-tools installs into target/ci/venv (actionlint,
/// zizmor); `None` when missing, after saying loudly that `what` is skipped
/// (under CI=true: a failure).
pub fn venv_tool(program: &str, what: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/ci/venv/bin")
        .join(program);
    if venv.is_file() {
        return Some(venv);
    }
    assert!(
        !in_ci(),
        "{program} is missing: CI must run .ci/test-tools first"
    );
    loud(&format!(
        "\n*** SKIPPING {what}: {program} is not installed; run .ci/test-tools ***\n"
    ));
    None
}

/// Whether `program` is on PATH; when not, says the test is skipped (under
/// CI=true: a failure, .ci/run installs it).
pub fn installed(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(!in_ci(), "{program} is missing; .ci/run installs it");
        loud(&format!("skipped: {program} is not installed"));
    }
    found
}

/// check-jsonschema's built-in schema `schema` (e.g. `vendor.github-workflows`)
/// on a YAML document: `Err` with check-jsonschema's report when it rejects
/// it.
pub fn builtin_schema_accepts(check: &Path, schema: &str, yaml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("document.yml");
    std::fs::write(&file, yaml).expect("write");
    verdict(
        Command::new(check)
            .args(["--builtin-schema", schema])
            .arg(&file),
    )
}

/// A checker's verdict: `Ok` when `command` exits 0, else what it printed.
pub fn verdict(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("runs {program}: {e}"));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
