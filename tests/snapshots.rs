//! Golden tests: what a user sees for the fixture sites in tests/fixtures,
//! rendered through the real human renderer with colour off, and the
//! GitHub Actions workflow commands for them. Review changes with
//! `cargo insta review` (or set INSTA_UPDATE=always and read the diff).

use gluonvpn::check::{check, CheckOptions};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::output::{self, Format, Run};
use std::path::Path;

/// A fixture's check in one format, through the one entry of the formats.
fn rendered(fixture: &str, format: Format) -> String {
    // A relative path, so the output does not depend on the checkout's place.
    let dir = Path::new("tests/fixtures").join(fixture);
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd");
    let outcome = check(&dir, &CheckOptions::new(GluonVersion::V2025_1)).expect("check runs");
    let mut out = termcolor::NoColor::new(Vec::new());
    let run = Run::new(&outcome, false);
    output::write(format, &run, &mut out).expect("renders");
    String::from_utf8(out.into_inner()).expect("utf-8")
}

fn render(fixture: &str) -> String {
    rendered(fixture, Format::Human)
}

/// `--format github` output, as a workflow running `gluonvpn check
/// tests/fixtures/<fixture> --format github` at the repository root sees it.
fn render_github(fixture: &str) -> String {
    rendered(fixture, Format::Github)
}

#[test]
fn mixed_errors_github() {
    insta::assert_snapshot!(render_github("mixed-errors"));
}

#[test]
fn domain_scope_github() {
    insta::assert_snapshot!(render_github("domain-scope"));
}

#[test]
fn syntax_error_github() {
    insta::assert_snapshot!(render_github("syntax-error"));
}

#[test]
fn mixed_errors() {
    insta::assert_snapshot!(render("mixed-errors"));
}

#[test]
fn domain_scope() {
    insta::assert_snapshot!(render("domain-scope"));
}

#[test]
fn syntax_error() {
    insta::assert_snapshot!(render("syntax-error"));
}
