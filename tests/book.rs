//! The book: generated reference pages are up to date with the registries,
//! every page in SUMMARY.md exists, check.md names every output format, and
//! (where mdbook is installed, as in CI) the book builds.

#[path = "support/tools.rs"]
mod tools;

use std::path::{Path, PathBuf};

fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book")
}

fn compare_or_bless(path: &Path, expected: &str) {
    if std::env::var_os("GLUONVPN_BLESS").is_some() {
        std::fs::write(path, expected).expect("write generated page");
        return;
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is out of date with the catalogue of codes; regenerate it with `GLUONVPN_BLESS=1 cargo test --test book`",
        path.display()
    );
}

#[test]
fn generated_reference_pages_are_current() {
    compare_or_bless(
        &book().join("src/reference/codes.md"),
        &gluonvpn::docs::codes_page(),
    );
    compare_or_bless(
        &book().join("src/reference/gluon-checks.md"),
        &gluonvpn::docs::checks_page(),
    );
}

/// The rewrite list of "Upgrading Gluon" is migrate's registry.
#[test]
fn the_upgrading_page_lists_every_rewrite() {
    let path = book().join("src/upgrading.md");
    let page = std::fs::read_to_string(&path).expect("upgrading.md");
    let (start, end) = ("<!-- rewrites:start -->\n", "<!-- rewrites:end -->");
    let from = page.find(start).expect("start marker") + start.len();
    let to = page.find(end).expect("end marker");
    let expected = format!(
        "{}{}{}",
        &page[..from],
        gluonvpn::docs::rewrites_section(),
        &page[to..]
    );
    compare_or_bless(&path, &expected);
}

#[test]
fn lint_pages_are_current() {
    let dir = book().join("src/lints");
    std::fs::create_dir_all(&dir).expect("lints dir");
    compare_or_bless(&dir.join("index.md"), &gluonvpn::docs::lints_index());
    let mut expected = vec!["index.md".to_string()];
    for lint in gluonvpn::lints::all() {
        let name = gluonvpn::docs::lint_page_name(lint);
        compare_or_bless(&dir.join(&name), &gluonvpn::docs::lint_page(lint));
        expected.push(name);
    }
    // no pages of lints that no longer exist
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .expect("read lints dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    expected.sort();
    assert_eq!(present, expected, "stale pages in book/src/lints");

    // SUMMARY.md lists them between its markers
    let summary_path = book().join("src/SUMMARY.md");
    let summary = std::fs::read_to_string(&summary_path).expect("SUMMARY.md");
    let (before, rest) = summary
        .split_once("<!-- lints:start -->\n")
        .expect("start marker");
    let (_, after) = rest.split_once("<!-- lints:end -->").expect("end marker");
    let wanted = format!(
        "{before}<!-- lints:start -->\n{}<!-- lints:end -->{after}",
        gluonvpn::docs::summary_lint_entries()
    );
    compare_or_bless(&summary_path, &wanted);
}

#[test]
fn every_code_has_a_reference_entry() {
    // The generated page; that the file equals it is checked above.
    let page = gluonvpn::docs::codes_page();
    for code in gluonvpn::catalog::all() {
        assert!(
            page.contains(&format!("## {}", code.code)),
            "{} missing",
            code.code
        );
    }
}

#[test]
fn summary_links_point_at_pages() {
    let summary = std::fs::read_to_string(book().join("src/SUMMARY.md")).expect("SUMMARY.md");
    let mut links = 0;
    for line in summary.lines() {
        if let Some(start) = line.find("](") {
            let rest = &line[start + 2..];
            let target = &rest[..rest.find(')').expect("closing paren")];
            assert!(
                book().join("src").join(target).is_file(),
                "SUMMARY.md links to missing {target}"
            );
            links += 1;
        }
    }
    assert!(links >= 8, "only {links} pages in SUMMARY.md");
}

#[test]
fn the_book_builds_with_mdbook() {
    let Ok(status) = std::process::Command::new("mdbook")
        .arg("--version")
        .output()
    else {
        eprintln!("mdbook is not installed; skipping the build (CI installs it)");
        return;
    };
    assert!(status.status.success());
    let out = tempfile::tempdir().expect("tempdir");
    let build = std::process::Command::new("mdbook")
        .args(["build", "--dest-dir"])
        .arg(out.path())
        .arg(book())
        .output()
        .expect("runs mdbook");
    assert!(
        build.status.success(),
        "mdbook build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(out.path().join("reference/codes.html").is_file());
}

/// check.md names every output format, in its synopsis and its `--format`
/// row, so that a new format is documented where `check` is.
#[test]
fn the_check_page_names_every_output_format() {
    use clap::ValueEnum as _;
    let page = std::fs::read_to_string(book().join("src/check.md")).expect("check.md");
    let names: Vec<String> = gluonvpn::output::Format::value_variants()
        .iter()
        .filter_map(|format| format.to_possible_value())
        .map(|value| value.get_name().to_owned())
        .collect();
    let synopsis = format!("[--format {}]", names.join("|"));
    assert!(
        page.contains(&synopsis),
        "check.md's synopsis should say {synopsis}"
    );
    let row = page
        .lines()
        .find(|line| line.starts_with("| `--format` |"))
        .expect("check.md has a --format row");
    for name in &names {
        assert!(
            row.contains(&format!("`{name}`")),
            "check.md's --format row should name `{name}`: {row}"
        );
    }
}

/// The CI examples of book/src/ci.md are valid for GitHub and GitLab, as
/// check-jsonschema's built-in schemas (SchemaStore's, vendored) say. Each
/// example is the YAML block after a `<!-- check-jsonschema: SCHEMA -->`
/// comment. check-jsonschema comes from .ci/test-tools; without it this is
/// skipped loudly (and fails under CI=true).
#[test]
fn ci_examples_are_valid_workflows() {
    let page = std::fs::read_to_string(book().join("src/ci.md")).expect("ci.md");
    let marker = "<!-- check-jsonschema: ";
    let mut examples = Vec::new();
    for (at, _) in page.match_indices(marker) {
        let rest = &page[at + marker.len()..];
        let schema = &rest[..rest.find(" -->").expect("end of comment")];
        let block = rest
            .split_once("```yaml\n")
            .expect("a yaml block follows")
            .1;
        let yaml = &block[..block.find("\n```").expect("end of block") + 1];
        examples.push((schema.to_owned(), yaml.to_owned()));
    }
    let schemas: Vec<&str> = examples.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        schemas,
        ["vendor.github-workflows", "vendor.gitlab-ci"],
        "ci.md's examples"
    );
    assert!(examples[0].1.contains("github/codeql-action/upload-sarif@"));
    assert!(examples[0].1.contains("--format sarif"));
    assert!(examples[0].1.contains("--format github"));

    let Some(check) = tools::check_jsonschema("THE CI EXAMPLES' VALIDATION") else {
        return;
    };
    for (schema, yaml) in &examples {
        if let Err(report) = tools::builtin_schema_accepts(&check, schema, yaml) {
            panic!("the {schema} example in ci.md is not valid:\n{report}\n{yaml}");
        }
    }
}
