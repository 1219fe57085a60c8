//! GM010: site.mk's feature and package variables, as evaluated by make for
//! Gluon v2023.1 (without a target, and per target where site.mk looks at
//! it), moved into a new image-customization.lua; their assignments removed
//! from site.mk line by line.

use super::lua_edit::{lua_string, Edit};
use super::{MigrateError, Step, FEATURES_TO_IMAGE_CUSTOMIZATION};
use crate::gluon_data;
use crate::gluon_version::GluonVersion;
use crate::site::load::{self, LoadOptions};
use crate::site::packages;
use crate::site::site_mk::{self, Vars};
use std::collections::BTreeMap;
use std::path::Path;

/// The releases whose site.mk variables are read: the last that reads them.
const READ_WITH: GluonVersion = GluonVersion::V2023_1;

/// The lists site.mk selects with, by device class: `""` for every device,
/// `"standard"`, `"tiny"`.
const CLASSES: [&str; 3] = ["", "standard", "tiny"];

/// One list of site.mk as Gluon reads it: its words, each name once (a
/// later word replaces an earlier one naming the same package).
fn list(vars: &Vars, kind: Kind, class: &str) -> Vec<String> {
    let base = match kind {
        Kind::Features => "GLUON_FEATURES",
        Kind::Packages => "GLUON_SITE_PACKAGES",
    };
    let name = if class.is_empty() {
        base.to_string()
    } else {
        format!("{base}_{class}")
    };
    // Features cannot be taken away; Gluon drops such words.
    packages::compact_list(&vars.words(&name), kind == Kind::Packages)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Features,
    Packages,
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
            Some((device.to_string(), vars.words(name)))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect()
}

/// Which targets select a word: all of them, only these, or all but these.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Where {
    Everywhere,
    Only(Vec<(String, String)>),
    AllBut(Vec<(String, String)>),
}

impl Where {
    fn condition(&self) -> Option<String> {
        let any = |targets: &[(String, String)]| {
            targets
                .iter()
                .map(|(board, subtarget)| {
                    format!("target({}, {})", lua_string(board), lua_string(subtarget))
                })
                .collect::<Vec<_>>()
                .join(" or ")
        };
        match self {
            Where::Everywhere => None,
            Where::Only(targets) => Some(any(targets)),
            Where::AllBut(targets) => Some(format!("not ({})", any(targets))),
        }
    }
}

/// A list in the image-customization DSL: `features {` … `}`.
fn call(out: &mut String, indent: &str, function: &str, items: &[String]) {
    out.push_str(&format!("{indent}{function} {{\n"));
    for item in items {
        out.push_str(&format!("{indent}\t{},\n", lua_string(item)));
    }
    out.push_str(&format!("{indent}}}\n"));
}

/// The selection of site.mk's lists as image-customization.lua: each word
/// under the condition of the targets whose list has it, so that every
/// target gets what site.mk gave it — nothing more (a word site.mk leaves
/// out for a target is not turned into a removal) — and targets site.mk
/// was not evaluated for (new in the release) what most targets get.
fn image_customization(
    global: &Vars,
    per_target: &[(&Vars, (String, String))],
    devices: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut out = String::from(
        "-- The features and packages of the images: moved here from site.mk\n\
         -- (GLUON_FEATURES, GLUON_SITE_PACKAGES) by gluonvpn migrate, for Gluon\n\
         -- v2023.2 and later.\n",
    );
    // (condition, class) -> (features, packages), in first-seen order.
    type Lists = (Vec<String>, Vec<String>);
    let mut groups: Vec<((Where, &str), Lists)> = Vec::new();
    for class in CLASSES {
        for kind in [Kind::Features, Kind::Packages] {
            let lists: Vec<(Vec<String>, &(String, String))> = per_target
                .iter()
                .map(|(vars, board)| (list(vars, kind, class), board))
                .collect();
            let mut words: Vec<String> = list(global, kind, class);
            for (l, _) in &lists {
                for w in l {
                    if !words.contains(w) {
                        words.push(w.clone());
                    }
                }
            }
            for word in words {
                let place = if lists.is_empty() {
                    Where::Everywhere
                } else {
                    let with: Vec<(String, String)> = lists
                        .iter()
                        .filter(|(l, _)| l.contains(&word))
                        .map(|(_, b)| (*b).clone())
                        .collect();
                    let without: Vec<(String, String)> = lists
                        .iter()
                        .filter(|(l, _)| !l.contains(&word))
                        .map(|(_, b)| (*b).clone())
                        .collect();
                    if without.is_empty() {
                        Where::Everywhere
                    } else if with.len() <= without.len() {
                        Where::Only(with)
                    } else {
                        Where::AllBut(without)
                    }
                };
                let key = (place, class);
                let index = match groups.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        groups.push((key, Default::default()));
                        groups.len() - 1
                    }
                };
                let entry = &mut groups[index].1;
                match kind {
                    Kind::Features => entry.0.push(word),
                    Kind::Packages => entry.1.push(word),
                }
            }
        }
    }
    for ((place, class), (features, packages)) in &groups {
        let mut conditions: Vec<String> = Vec::new();
        if !class.is_empty() {
            conditions.push(format!("device_class('{class}')"));
        }
        if let Some(c) = place.condition() {
            conditions.push(if class.is_empty() {
                c
            } else {
                format!("({c})")
            });
        }
        out.push('\n');
        let indent = if conditions.is_empty() { "" } else { "\t" };
        if !conditions.is_empty() {
            out.push_str(&format!("if {} then\n", conditions.join(" and ")));
        }
        if !features.is_empty() {
            call(&mut out, indent, "features", features);
        }
        if !packages.is_empty() {
            call(&mut out, indent, "packages", packages);
        }
        if !conditions.is_empty() {
            out.push_str("end\n");
        }
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
    // A removal between two blank lines takes one of them along, so that
    // no gap of blank lines is left behind.
    let blank = |i: usize| line_text(i).trim().is_empty();
    for i in 0..lines.len() {
        let run_end = i + removed[i..].iter().take_while(|r| **r).count();
        if run_end > i
            && (i == 0 || !removed[i - 1])
            && (i == 0 || blank(i - 1))
            && run_end < lines.len()
            && blank(run_end)
        {
            removed[run_end] = true;
        }
    }
    // Two blank lines that a removal brought together become one.
    let mut last_kept_blank = false;
    let mut removal_since = false;
    for (i, gone) in removed.iter_mut().enumerate() {
        if *gone {
            removal_since = true;
            continue;
        }
        if blank(i) && last_kept_blank && removal_since {
            *gone = true;
            continue;
        }
        last_kept_blank = blank(i);
        removal_since = false;
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
    let data = gluon_data::embedded(READ_WITH.label());
    let per_target: Vec<(&Vars, (String, String))> = evaluation
        .per_target
        .iter()
        .filter_map(|(name, vars)| {
            let target = data?.target(name)?;
            Some((vars, (target.board.clone(), target.subtarget.clone())))
        })
        .collect();
    // A device's own list, as Gluon read it: from its target's round where
    // site.mk was evaluated per target (a list set only without a target —
    // under a `GLUON_TARGET ?=` default — reached no image), else from the
    // evaluation without one.
    let devices = if evaluation.per_target.is_empty() {
        device_packages(&evaluation.global)
    } else {
        let mut devices = BTreeMap::new();
        for (name, vars) in &evaluation.per_target {
            let Some(target) = data.and_then(|d| d.target(name)) else {
                continue;
            };
            for (device, packages) in device_packages(vars) {
                if target.devices.iter().any(|d| d.image == device) {
                    devices.entry(device).or_insert(packages);
                }
            }
        }
        devices
    };
    let lua = image_customization(&evaluation.global, &per_target, &devices);
    let conditional = lua.matches("target(").count();
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
    Ok(vec![Step {
        rewrite: &FEATURES_TO_IMAGE_CUSTOMIZATION,
        what: format!(
            "site.mk: features and packages moved to a new image-customization.lua ({conditional} target condition(s), {} device block(s))",
            devices.len()
        ),
        edits,
        warning: None,
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
    fn every_target_gets_what_site_mk_gave_it() {
        let vars = |features: &str, packages: &str| -> Vars {
            [
                ("GLUON_FEATURES".to_string(), features.to_string()),
                ("GLUON_SITE_PACKAGES".to_string(), packages.to_string()),
            ]
            .into_iter()
            .collect()
        };
        let global = vars("a b", "p -q");
        let x = vars("a b", "p -q");
        let y = vars("a b", "p -q");
        let z = vars("a c", "r");
        let board = |b: &str| (b.to_string(), "generic".to_string());
        let lua = image_customization(
            &global,
            &[(&x, board("x")), (&y, board("y")), (&z, board("z"))],
            &BTreeMap::new(),
        );
        let body: String = lua
            .lines()
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            body,
            "\nfeatures {\n\t'a',\n}\n\nif not (target('z', 'generic')) then\n\tfeatures {\n\t\t'b',\n\t}\n\tpackages {\n\t\t'p',\n\t\t'-q',\n\t}\nend\n\nif target('z', 'generic') then\n\tfeatures {\n\t\t'c',\n\t}\n\tpackages {\n\t\t'r',\n\t}\nend"
        );
    }
}
