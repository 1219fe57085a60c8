//! ../shared/corpus, the real community sites (with Gluon's own verdicts in
//! MANIFEST.json) that some tests read. It lies beside the repository in
//! the project's checkouts and in CI; a fresh clone has none.
//!
//! Without it those tests skip with a loud banner, and fail under CI. A test
//! that includes this file includes tools.rs as `tools` too.

// each test target uses a part of it
#![allow(dead_code)]

use super::tools::{in_ci, loud};
use std::path::{Path, PathBuf};

/// Where the corpus is looked for.
pub const CORPUS: &str = "../shared/corpus";

/// The corpus directory, when it is there; otherwise `None` after a banner
/// that `what` is skipped — and under CI, a panic.
pub fn corpus(what: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !in_ci(),
        "{what}: {CORPUS} must be there under CI, and {} is not",
        dir.display()
    );
    loud(&format!(
        "\n*** SKIPPING {what}: {CORPUS} is not there ***\n"
    ));
    None
}

/// The names of the corpus's sites, sorted.
pub fn site_names(corpus: &Path) -> Vec<String> {
    let entries =
        std::fs::read_dir(corpus).unwrap_or_else(|e| panic!("reading {}: {e}", corpus.display()));
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// MANIFEST.json: per site, where it comes from and Gluon's own verdicts.
pub fn manifest(corpus: &Path) -> serde_json::Value {
    let path = corpus.join("MANIFEST.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
