//! The layers of the library, as README's layout section documents them:
//! data flows one way, so no top-level module may `use` one in its own or a
//! higher layer. Code under `#[cfg(test)]` may use anything (as integration
//! tests do).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top; a module may only use modules of lower layers.
const LAYERS: &[&[&str]] = &[
    &["source", "gluon_version", "input", "writing", "parallel"],
    &["diagnostics"],
    &["gluon_data", "keys", "fastd_conf", "templates"],
    &["derive"],
    &["site"],
    &["rules", "lints", "probe"],
    &["release"],
    &["catalog"],
    &["severity"],
    &["check"],
    &["output"],
    &["render", "peers", "build", "ci", "migrate"],
    &["cli", "docs"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Rust source with comments, string and char literals blanked out, so that
/// braces and `crate::` inside them count for nothing.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, b: u8| out.push(if b == b'\n' { b'\n' } else { b' ' });
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                blank(&mut out, bytes[i]);
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
        } else if rest.starts_with(b"r#") || rest.starts_with(b"r\"") {
            // a raw string: r"…", r#"…"#, …
            let hashes = rest[1..].iter().take_while(|b| **b == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            let mut end = b"\"".to_vec();
            end.extend(std::iter::repeat_n(b'#', hashes));
            let start = i + 2 + hashes;
            let close = bytes[start..]
                .windows(end.len())
                .position(|w| w == end.as_slice())
                .map_or(bytes.len(), |p| start + p + end.len());
            for &b in &bytes[i..close] {
                blank(&mut out, b);
            }
            i = close;
        } else if bytes[i] == b'"' {
            blank(&mut out, bytes[i]);
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
                if i < bytes.len() {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
            if i < bytes.len() {
                blank(&mut out, bytes[i]);
                i += 1;
            }
        } else if bytes[i] == b'\'' {
            // a char literal ('x', '\n', '\u{7f}') or a lifetime ('a)
            let literal_end = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|b| *b == b'\'').map(|p| p + 3)
            } else {
                let width = std::str::from_utf8(&rest[1..rest.len().min(5)])
                    .ok()
                    .or_else(|| {
                        (1..5)
                            .rev()
                            .find_map(|n| std::str::from_utf8(rest.get(1..1 + n)?).ok())
                    })
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (rest.get(1 + width) == Some(&b'\'')).then_some(width + 2)
            };
            match literal_end {
                Some(len) => {
                    for &b in &bytes[i..i + len] {
                        blank(&mut out, b);
                    }
                    i += len;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8 (only ASCII is replaced)")
}

/// The code without items under `#[cfg(test)]` (a `mod … { … }` block or a
/// `mod …;` declaration), and the names of file modules declared that way.
fn without_test_code(code: &str) -> (String, Vec<String>) {
    let mut kept = String::with_capacity(code.len());
    let mut test_files = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        let item = item.strip_prefix("pub ").unwrap_or(item).trim_start();
        let Some(module) = item.strip_prefix("mod ") else {
            // another item under cfg(test): only modules are skipped
            kept.push_str("#[cfg(test)]");
            rest = after;
            continue;
        };
        let name: String = module
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after_name = module[name.len()..].trim_start();
        if let Some(after_declaration) = after_name.strip_prefix(';') {
            test_files.push(name);
            rest = after_declaration;
            continue;
        }
        assert!(after_name.starts_with('{'), "mod {name} without a body");
        let mut depth = 0usize;
        let mut end = after_name.len();
        for (i, c) in after_name.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after_name[end..];
    }
    kept.push_str(rest);
    (kept, test_files)
}

/// The top-level modules named by `crate::…` paths (including the groups
/// of `use crate::{a, b::c};`).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut top_items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => top_items.push(std::mem::take(&mut item)),
                    _ if depth == 1 => item.push(c),
                    _ => {}
                }
            }
            top_items.push(item);
            for item in top_items {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Every `.rs` file under `dir`, skipping files of modules declared under
/// `#[cfg(test)]`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(module, file)` → the top-level modules the file's non-test code uses.
fn edges() -> BTreeMap<String, BTreeMap<PathBuf, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    let mut parsed = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let (code, test_modules) = without_test_code(&code_only(&text));
        let dir = if file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            file.parent().expect("in src").to_path_buf()
        } else {
            file.with_extension("")
        };
        for module in test_modules {
            test_only.insert(dir.join(format!("{module}.rs")));
            test_only.insert(dir.join(&module));
        }
        parsed.push((file.clone(), code));
    }
    let mut out: BTreeMap<String, BTreeMap<PathBuf, BTreeSet<String>>> = BTreeMap::new();
    for (file, code) in parsed {
        if test_only.iter().any(|t| file == *t || file.starts_with(t)) {
            continue;
        }
        let relative = file.strip_prefix(src()).expect("under src");
        let first = relative
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if first == "lib" || first == "main" {
            continue;
        }
        out.entry(first)
            .or_default()
            .insert(relative.to_path_buf(), crate_paths(&code));
    }
    out
}

#[test]
fn every_module_is_in_a_layer() {
    let modules = edges();
    for module in modules.keys() {
        assert!(
            layer_of(module).is_some(),
            "src/{module} is in no layer: add it to LAYERS here and to README's layout section"
        );
    }
    for layer in LAYERS {
        for module in *layer {
            assert!(
                modules.contains_key(*module),
                "LAYERS names `{module}`, which is not a module of src/"
            );
        }
    }
}

#[test]
fn no_module_uses_one_above_or_beside_it() {
    let mut violations = Vec::new();
    for (module, files) in edges() {
        let Some(own) = layer_of(&module) else {
            continue;
        };
        for (file, used) in files {
            for other in used.iter().filter(|o| **o != module) {
                match layer_of(other) {
                    Some(layer) if layer < own => {}
                    Some(layer) => violations.push(format!(
                        "src/{} ({module}, layer {own}) uses crate::{other} (layer {layer})",
                        file.display()
                    )),
                    None => violations.push(format!(
                        "src/{} uses crate::{other}, which is in no layer",
                        file.display()
                    )),
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "data flows one way (README, Layout); these edges point up or sideways:\n{}",
        violations.join("\n")
    );
}

#[test]
fn readme_lists_the_layers_in_this_order() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("## Layout")
        .nth(1)
        .expect("README has a Layout section");
    let mut position = 0;
    for (number, layer) in LAYERS.iter().enumerate() {
        let line = section
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{}. ", number + 1)))
            .unwrap_or_else(|| panic!("README's layer list has no item {}", number + 1));
        for module in *layer {
            assert!(
                line.contains(&format!("`{module}`")),
                "README's layer {} should name `{module}`: {line}",
                number + 1
            );
        }
        let at = section.find(line).expect("line is in the section");
        assert!(
            at >= position,
            "README lists layer {} out of order",
            number + 1
        );
        position = at;
    }
}

#[test]
fn the_scanner_sees_through_literals_and_test_modules() {
    let code = code_only(
        "use crate::site::x; // crate::cli\nlet s = \"crate::build {\"; let c = '{';\n\
         fn f<'a>(x: &'a str) {}\n#[cfg(test)]\nmod tests { use crate::check; fn g() { let _ = '}'; } }\n\
         use crate::{diagnostics::D, source, self};\n#[cfg(test)]\npub mod testing;\n",
    );
    let (kept, test_files) = without_test_code(&code);
    assert_eq!(
        crate_paths(&kept),
        ["diagnostics", "site", "source"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    assert_eq!(test_files, ["testing"]);
}
