//! GM011: packages Gluon renamed or folded into others, as its release
//! notes say, where a site still names them (in image-customization.lua,
//! or in site.mk for a target before v2023.2).

use super::lua_edit::Edit;
use super::{Outcome, Step, RENAMED_PACKAGES};
use crate::diagnostics::Diagnostic;
use crate::gluon_data;
use crate::site::codes;
use std::collections::BTreeMap;

/// What became of a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Renamed: the new name.
    Renamed(String),
    /// Part of what every image has now: nothing to select.
    Merged,
}

/// The packages Gluon's release notes rename (`Some(new name)`) or fold
/// away (`None`), with the release whose notes say so. `gluon-luci-*`
/// packages follow the rule of v2017.1 besides these ([`fate`]).
pub const PACKAGES: &[(&str, Option<&str>, &str)] = &[
    ("gluon-announced", Some("gluon-respondd"), "v2016.1"),
    ("gluon-cron", Some("micrond"), "v2016.1"),
    ("gluon-simple-tc", Some("simple-tc"), "v2016.1"),
    (
        "gluon-luci-portconfig",
        Some("gluon-web-network"),
        "v2017.1",
    ),
    ("gluon-next-node", None, "v2017.1"),
    ("haveged", None, "v2020.2"),
];

/// What became of a package, and which release notes say so.
pub fn fate(package: &str) -> Option<(Fate, &'static str)> {
    if let Some((_, new, release)) = PACKAGES.iter().find(|(p, _, _)| *p == package) {
        let fate = match new {
            Some(new) => Fate::Renamed((*new).to_string()),
            None => Fate::Merged,
        };
        return Some((fate, release));
    }
    // "All gluon-luci-* packages have been renamed to gluon-web-*" (v2017.1).
    let rest = package.strip_prefix("gluon-luci-")?;
    Some((Fate::Renamed(format!("gluon-web-{rest}")), "v2017.1"))
}

/// The package a GS014 names.
fn named_package(d: &Diagnostic) -> Option<&str> {
    d.message
        .strip_prefix("unable to enable package '")?
        .strip_suffix('\'')
}

/// The removal of a list item at `range` (a word, quoted in Lua): with its
/// quotes and separator, and its line when it stands alone there.
fn remove_item(file: &str, text: &str, range: std::ops::Range<usize>) -> Edit {
    let mut start = range.start;
    let mut end = range.end;
    let bytes = text.as_bytes();
    if start > 0
        && end < bytes.len()
        && matches!(bytes[start - 1], b'\'' | b'"')
        && bytes[end] == bytes[start - 1]
    {
        start -= 1;
        end += 1;
    }
    while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
        end += 1;
    }
    if end < bytes.len() && bytes[end] == b',' {
        end += 1;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    if text[line_start..start].trim().is_empty() && text[end..line_end].trim().is_empty() {
        return Edit {
            file: file.to_string(),
            range: line_start..(line_end + 1).min(text.len()),
            text: String::new(),
        };
    }
    // Within a line: the word and the blanks after it.
    while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
        end += 1;
    }
    Edit {
        file: file.to_string(),
        range: start..end,
        text: String::new(),
    }
}

/// The GM011 steps for the unknown packages Gluon's build reported.
pub fn steps(outcome: &Outcome, files: &BTreeMap<String, String>) -> Vec<Step> {
    let version = outcome.release.version;
    let data = gluon_data::embedded(version.label());
    let mut steps = Vec::new();
    for d in &outcome.report.diagnostics {
        if !std::ptr::eq(d.info, codes::UNKNOWN_PACKAGE) {
            continue;
        }
        let (Some(package), Some(span)) = (named_package(d), d.span) else {
            continue;
        };
        let Some((fate, release)) = fate(package) else {
            continue;
        };
        let source = outcome.site.sources.get(span.file);
        let Some(text) = files.get(&source.name) else {
            continue;
        };
        let range = span.start as usize..span.end as usize;
        let Some(word) = text.get(range.clone()) else {
            continue;
        };
        // The word is the package, or a feature selecting `gluon-<word>`.
        let as_feature = word != package;
        if as_feature && package.strip_prefix("gluon-") != Some(word) {
            continue;
        }
        let line = source.line_col(range.start).0;
        let file = source.name.clone();
        let (what, edit) = match fate {
            Fate::Renamed(new) => {
                // Only to a name this release has (Gluon's packages are
                // known; others come from the feeds).
                if new.starts_with("gluon-") && !data.is_some_and(|d| d.has_package(&new)) {
                    continue;
                }
                let replacement = if as_feature {
                    match new.strip_prefix("gluon-") {
                        Some(feature) => feature,
                        None => continue,
                    }
                } else {
                    new.as_str()
                };
                (
                    format!("{file}:{line}: {word} became {replacement} (Gluon {release})"),
                    Edit {
                        file: file.clone(),
                        range,
                        text: replacement.to_string(),
                    },
                )
            }
            Fate::Merged => (
                format!(
                    "{file}:{line}: removed {word}, which every image has since Gluon {release}"
                ),
                remove_item(&file, text, range),
            ),
        };
        steps.push(Step {
            rewrite: &RENAMED_PACKAGES,
            what,
            edits: vec![edit],
            warning: None,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luci_packages_became_web_packages() {
        assert_eq!(
            fate("gluon-luci-admin"),
            Some((Fate::Renamed("gluon-web-admin".into()), "v2017.1"))
        );
        assert_eq!(
            fate("gluon-luci-portconfig"),
            Some((Fate::Renamed("gluon-web-network".into()), "v2017.1"))
        );
        assert_eq!(fate("gluon-web-admin"), None);
    }

    #[test]
    fn every_rename_names_a_package_of_the_newer_releases() {
        for release in ["v2023.2", "v2025.1"] {
            let data = gluon_data::embedded(release).expect("data");
            for (_, new, _) in PACKAGES {
                if let Some(new) = new {
                    assert!(
                        !new.starts_with("gluon-") || data.has_package(new),
                        "{new} in {release}"
                    );
                }
            }
        }
    }

    #[test]
    fn items_go_with_their_line_or_their_separator() {
        let text = "packages {\n\t'a',\n\t'gluon-next-node',\n}\n";
        let at = text.find("gluon-next-node").unwrap();
        let edit = remove_item("f", text, at..at + "gluon-next-node".len());
        assert_eq!(&text[edit.range.clone()], "\t'gluon-next-node',\n");
        let text = "GLUON_SITE_PACKAGES := haveged iwinfo\n";
        let at = text.find("haveged").unwrap();
        let edit = remove_item("f", text, at..at + 7);
        assert_eq!(&text[edit.range.clone()], "haveged ");
    }
}
