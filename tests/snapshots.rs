//! Golden tests: what a user sees for the fixture sites in tests/fixtures,
//! rendered through the real human renderer with colour off, and the
//! GitHub Actions workflow commands for them. Review changes with
//! `cargo insta review` (or set INSTA_UPDATE=always and read the diff).

use gluonvpn::check::{check, CheckOptions};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::output::{github, human};
use std::path::Path;

fn render(fixture: &str) -> String {
    // A relative path, so the output does not depend on the checkout's place.
    let dir = Path::new("tests/fixtures").join(fixture);
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd");
    let outcome = check(&dir, &CheckOptions::new(GluonVersion::V2025_1)).expect("check runs");
    let mut out = termcolor::NoColor::new(Vec::new());
    human::render(
        &mut out,
        &outcome.site.sources,
        &outcome.site.dir,
        &outcome.report,
        &human::Summary {
            site: &outcome.site.dir,
            gluon_version: "v2025.1",
            gluon_ok: outcome.gluon_verdict().passes(),
            checked_packages: outcome.checked_packages.len(),
            domains: outcome.site.domains.len(),
        },
    )
    .expect("renders");
    String::from_utf8(out.into_inner()).expect("utf-8")
}

/// `--format github` output, as a workflow running `gluonvpn check
/// tests/fixtures/<fixture> --format github` at the repository root sees it.
fn render_github(fixture: &str) -> String {
    let dir = Path::new("tests/fixtures").join(fixture);
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd");
    let outcome = check(&dir, &CheckOptions::new(GluonVersion::V2025_1)).expect("check runs");
    let mut out = Vec::new();
    github::render(
        &mut out,
        &outcome.site.sources,
        &github::site_path(&outcome.site.dir),
        &outcome.report,
    )
    .expect("renders");
    String::from_utf8(out).expect("utf-8")
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
