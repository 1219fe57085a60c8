//! GM010: site.mk's feature and package variables, as evaluated by make for
//! Gluon v2023.1 (without a target, and per target where site.mk looks at
//! it), moved into a new image-customization.lua; their assignments removed
//! from site.mk line by line.

use super::lua_edit::{lua_string, Edit};
use super::{MigrateError, Step, FEATURES_TO_IMAGE_CUSTOMIZATION};
use crate::gluon_data;
use crate::gluon_version::GluonVersion;
use crate::site::load::{self, LoadOptions};
use crate::site::site_mk::{self, Vars};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The releases whose site.mk variables are read: the last that reads them.
const READ_WITH: GluonVersion = GluonVersion::V2023_1;

/// What one selection adds and takes away, by device class.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Selection {
    /// By class: "" for every device, "standard", "tiny".
    features: BTreeMap<String, Vec<String>>,
    packages: BTreeMap<String, Vec<String>>,
}

fn words(vars: &Vars, name: &str) -> Vec<String> {
    vars.words(name)
}

fn selection(vars: &Vars) -> Selection {
    let mut s = Selection::default();
    for class in ["", "standard", "tiny"] {
        let suffix = if class.is_empty() {
            String::new()
        } else {
            format!("_{class}")
        };
        let features = words(vars, &format!("GLUON_FEATURES{suffix}"));
        let packages = words(vars, &format!("GLUON_SITE_PACKAGES{suffix}"));
        if !features.is_empty() {
            s.features.insert(class.to_string(), features);
        }
        if !packages.is_empty() {
            s.packages.insert(class.to_string(), packages);
        }
    }
    s
}

/// Per-device packages: `GLUON_<device>_SITE_PACKAGES`.
fn device_packages(vars: &Vars) -> BTreeMap<String, Vec<String>> {
    vars.iter()
        .filter_map(|(name, _)| {
            let device = name
                .strip_prefix("GLUON_")?
                .strip_suffix("_SITE_PACKAGES")?;
            if device.is_empty() || matches!(device, "standard" | "tiny") {
                return None;
            }
            Some((device.to_string(), words(vars, name)))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect()
}

/// A list in the image-customization DSL: `features {` … `}`.
fn call(out: &mut String, indent: &str, function: &str, items: &[String]) {
    out.push_str(&format!("{indent}{function} {{\n"));
    for item in items {
        out.push_str(&format!("{indent}\t{},\n", lua_string(item)));
    }
    out.push_str(&format!("{indent}}}\n"));
}

fn write_selection(out: &mut String, indent: &str, selection: &Selection) {
    for class in ["", "standard", "tiny"] {
        let features = selection.features.get(class);
        let packages = selection.packages.get(class);
        if features.is_none() && packages.is_none() {
            continue;
        }
        let inner = if class.is_empty() {
            indent.to_string()
        } else {
            out.push_str(&format!("\n{indent}if device_class('{class}') then\n"));
            format!("{indent}\t")
        };
        if let Some(features) = features {
            call(out, &inner, "features", features);
        }
        if let Some(packages) = packages {
            call(out, &inner, "packages", packages);
        }
        if !class.is_empty() {
            out.push_str(&format!("{indent}end\n"));
        }
    }
}

/// What a target's selection adds to the global one (`+`) and takes from
/// it (packages as `-pkg`; features cannot be taken away in
/// image-customization.lua: they are returned apart).
fn target_delta(global: &Selection, target: &Selection) -> (Selection, Vec<String>) {
    let mut delta = Selection::default();
    let mut lost_features = Vec::new();
    for class in ["", "standard", "tiny"] {
        let empty = Vec::new();
        let (g, t) = (
            global.features.get(class).unwrap_or(&empty),
            target.features.get(class).unwrap_or(&empty),
        );
        let added: Vec<String> = t.iter().filter(|f| !g.contains(f)).cloned().collect();
        lost_features.extend(g.iter().filter(|f| !t.contains(f)).cloned());
        if !added.is_empty() {
            delta.features.insert(class.to_string(), added);
        }
        let (g, t) = (
            global.packages.get(class).unwrap_or(&empty),
            target.packages.get(class).unwrap_or(&empty),
        );
        let mut changed: Vec<String> = t.iter().filter(|p| !g.contains(p)).cloned().collect();
        for removed in g.iter().filter(|p| !t.contains(p)) {
            // A removal of a removal is an addition.
            match removed.strip_prefix('-') {
                Some(pkg) => changed.push(pkg.to_string()),
                None => changed.push(format!("-{removed}")),
            }
        }
        if !changed.is_empty() {
            delta.packages.insert(class.to_string(), changed);
        }
    }
    (delta, lost_features)
}

/// The image-customization.lua for site.mk's selection.
fn image_customization(
    global: &Selection,
    targets: &BTreeMap<Selection, Vec<(String, String)>>,
    devices: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut out = String::from(
        "-- The features and packages of the images: moved here from site.mk\n\
         -- (GLUON_FEATURES, GLUON_SITE_PACKAGES) by gluonvpn migrate, for Gluon\n\
         -- v2023.2 and later.\n\n",
    );
    write_selection(&mut out, "", global);
    for (delta, boards) in targets {
        let condition: Vec<String> = boards
            .iter()
            .map(|(board, subtarget)| {
                format!("target({}, {})", lua_string(board), lua_string(subtarget))
            })
            .collect();
        out.push_str(&format!("\nif {} then\n", condition.join(" or ")));
        write_selection(&mut out, "\t", delta);
        out.push_str("end\n");
    }
    for (device, packages) in devices {
        out.push_str(&format!("\nif device({{ {} }}) then\n", lua_string(device)));
        call(&mut out, "\t", "packages", packages);
        out.push_str("end\n");
    }
    out
}

/// Whether a logical site.mk line assigns one of the variables that move.
fn assigns_moved(line: &str) -> bool {
    let mut rest = line.trim_start();
    for prefix in ["override ", "export "] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
        }
    }
    let name_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .unwrap_or(rest.len());
    let (name, after) = rest.split_at(name_end);
    let after = after.trim_start();
    let is_assignment = ["::=", ":=", "?=", "+=", "!=", "="]
        .iter()
        .any(|op| after.starts_with(op));
    let moved = site_mk::FEATURE_VARIABLES.contains(&name)
        || (name.starts_with("GLUON_") && name.ends_with("_SITE_PACKAGES"));
    moved && is_assignment
}

/// The byte ranges of site.mk to remove: the moved assignments (with their
/// continuation lines), and the conditional blocks that held nothing else.
fn site_mk_removals(text: &str) -> Vec<std::ops::Range<usize>> {
    // Physical lines with their byte ranges (newline included).
    let mut lines: Vec<std::ops::Range<usize>> = Vec::new();
    let mut at = 0;
    for piece in text.split_inclusive('\n') {
        lines.push(at..at + piece.len());
        at += piece.len();
    }
    let line_text = |i: usize| text[lines[i].clone()].trim_end_matches(['\n', '\r']);
    let mut removed = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        // A logical line: continued while it ends in a backslash.
        let first = i;
        while line_text(i).ends_with('\\') && i + 1 < lines.len() {
            i += 1;
        }
        let logical: String = (first..=i)
            .map(|j| line_text(j).trim_end_matches('\\'))
            .collect::<Vec<_>>()
            .join(" ");
        if assigns_moved(&logical) {
            for flag in &mut removed[first..=i] {
                *flag = true;
            }
        }
        i += 1;
    }
    // Conditional blocks emptied by the removal go too, innermost first.
    let keyword = |i: usize| {
        let t = line_text(i).trim_start();
        t.split_whitespace().next().unwrap_or("").to_string()
    };
    let mut open: Vec<usize> = Vec::new();
    for i in 0..lines.len() {
        if removed[i] {
            continue;
        }
        match keyword(i).as_str() {
            "ifeq" | "ifneq" | "ifdef" | "ifndef" => open.push(i),
            "endif" => {
                let Some(start) = open.pop() else { continue };
                let inside = start + 1..i;
                let ours = removed[inside.clone()].iter().any(|r| *r);
                let nothing_else = inside.clone().all(|j| {
                    removed[j] || {
                        let t = line_text(j).trim();
                        t.is_empty() || t.starts_with('#') || t.starts_with("else")
                    }
                });
                if ours && nothing_else {
                    for flag in &mut removed[start..=i] {
                        *flag = true;
                    }
                }
            }
            _ => {}
        }
    }
    // Runs of removed lines as ranges.
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, r) in removed.iter().enumerate() {
        if !*r {
            continue;
        }
        match ranges.last_mut() {
            Some(last) if last.end == lines[i].start => last.end = lines[i].end,
            _ => ranges.push(lines[i].clone()),
        }
    }
    ranges
}

/// The GM010 step for the site at `dir`, if its site.mk sets feature or
/// package variables and it has no image-customization.lua yet.
pub fn steps(
    dir: &Path,
    files: &BTreeMap<String, String>,
    untrusted: bool,
) -> Result<Vec<Step>, MigrateError> {
    let Some(site_mk_text) = files.get("site.mk") else {
        return Ok(Vec::new());
    };
    if files.contains_key("image-customization.lua") {
        return Ok(Vec::new());
    }
    let mut options = LoadOptions::new(READ_WITH);
    options.make.untrusted = untrusted;
    let site = load::load(dir, &options).map_err(crate::check::CheckError::from)?;
    let Some(evaluation) = &site.site_mk else {
        return Ok(Vec::new());
    };
    let set_anywhere = std::iter::once(&evaluation.global)
        .chain(evaluation.per_target.values())
        .any(|vars| {
            site_mk::FEATURE_VARIABLES
                .iter()
                .any(|v| vars.get(v).is_some_and(|x| !x.trim().is_empty()))
                || !device_packages(vars).is_empty()
        });
    if !set_anywhere {
        return Ok(Vec::new());
    }
    let global = selection(&evaluation.global);
    let data = gluon_data::embedded(READ_WITH.label());
    let mut targets: BTreeMap<Selection, Vec<(String, String)>> = BTreeMap::new();
    let mut lost: BTreeSet<String> = BTreeSet::new();
    for (name, vars) in &evaluation.per_target {
        let (delta, lost_features) = target_delta(&global, &selection(vars));
        lost.extend(
            lost_features
                .into_iter()
                .map(|f| format!("{f} (target {name})")),
        );
        if delta == Selection::default() {
            continue;
        }
        let Some(target) = data.and_then(|d| d.target(name)) else {
            continue;
        };
        targets
            .entry(delta)
            .or_default()
            .push((target.board.clone(), target.subtarget.clone()));
    }
    let devices = device_packages(&evaluation.global);
    let lua = image_customization(&global, &targets, &devices);
    let mut edits = vec![Edit {
        file: "image-customization.lua".into(),
        range: 0..0,
        text: lua,
    }];
    edits.extend(
        site_mk_removals(site_mk_text)
            .into_iter()
            .map(|range| Edit {
                file: "site.mk".into(),
                range,
                text: String::new(),
            }),
    );
    let warning = (!lost.is_empty()).then(|| {
        format!(
            "site.mk leaves out features for some targets, which image-customization.lua cannot express (features are only added): {}",
            lost.into_iter().collect::<Vec<_>>().join(", ")
        )
    });
    Ok(vec![Step {
        rewrite: &FEATURES_TO_IMAGE_CUSTOMIZATION,
        what: format!(
            "site.mk: features and packages moved to a new image-customization.lua ({} target block(s), {} device block(s))",
            targets.len(),
            devices.len()
        ),
        edits,
        warning,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_and_emptied_blocks_are_removed() {
        let text = "GLUON_RELEASE := 1\n\
                    GLUON_FEATURES := \\\n\tautoupdater \\\n\tebtables-filter-multicast\n\
                    # the packages\n\
                    GLUON_SITE_PACKAGES += iwinfo\n\
                    ifeq ($(GLUON_TARGET),x86-generic)\n\
                    GLUON_SITE_PACKAGES += kmod-usb-hid\n\
                    endif\n\
                    ifeq ($(GLUON_TARGET),x86-64)\n\
                    GLUON_SITE_PACKAGES += kmod-igb\n\
                    GLUON_REGION := eu\n\
                    endif\n";
        let ranges = site_mk_removals(text);
        let mut kept = String::new();
        let mut at = 0;
        for r in &ranges {
            kept.push_str(&text[at..r.start]);
            at = r.end;
        }
        kept.push_str(&text[at..]);
        assert_eq!(
            kept,
            "GLUON_RELEASE := 1\n# the packages\nifeq ($(GLUON_TARGET),x86-64)\nGLUON_REGION := eu\nendif\n"
        );
    }

    #[test]
    fn a_target_adds_and_takes_away() {
        let g = Selection {
            features: [(String::new(), vec!["a".into(), "b".into()])].into(),
            packages: [(String::new(), vec!["p".into(), "-q".into()])].into(),
        };
        let t = Selection {
            features: [(String::new(), vec!["a".into(), "c".into()])].into(),
            packages: [(String::new(), vec!["r".into()])].into(),
        };
        let (delta, lost) = target_delta(&g, &t);
        assert_eq!(delta.features[""], ["c"]);
        assert_eq!(delta.packages[""], ["r", "-p", "q"]);
        assert_eq!(lost, ["b"]);
    }
}
