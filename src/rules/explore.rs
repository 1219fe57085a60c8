//! What each package checks, for the book's reference: a package's check
//! runs in recording mode against a configuration that grows, round by
//! round, to hold a value at every path the check looked at, so that checks
//! of nested tables (peer groups, branches) are reached too. Table keys the
//! site chooses appear as `<name>`, array items as `[]`.
//!
//! This is documentation, not checking: a branch taken only for some
//! particular value may stay unexplored.

use super::lua_pattern::LuaPatterns;
use super::vocabulary::{CheckInput, Checker, DomainInput, Recording};
use super::PackageRules;
use crate::gluon_version::GluonVersion;
use crate::site::value::{Key, Node, Value};
use crate::source::FileId;
use std::collections::BTreeSet;

/// Where a key may be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Anywhere,
    SiteOnly,
    DomainOnly,
}

/// One requirement on one key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyRequirement {
    /// Dotted, with `<name>` for keys the site chooses and `[]` for items.
    pub path: String,
    /// Gluon's wording, e.g. `be a string`.
    pub requirement: String,
    pub required: bool,
    pub scope: Scope,
}

const NAME: &str = "<name>";
const MAX_ROUNDS: usize = 8;

/// The requirements a package's check places, in the order it checks them.
pub fn explore(rules: &PackageRules, version: GluonVersion) -> Vec<KeyRequirement> {
    // A Lua state per thread, not per package: starting one costs more than
    // most explorations.
    thread_local! {
        static PATTERNS: Option<LuaPatterns> = LuaPatterns::new().ok();
    }
    PATTERNS.with(|patterns| match patterns {
        Some(patterns) => explore_with(rules, version, patterns),
        None => Vec::new(),
    })
}

fn explore_with(
    rules: &PackageRules,
    version: GluonVersion,
    patterns: &LuaPatterns,
) -> Vec<KeyRequirement> {
    let empty = Node::new(Value::Object(Vec::new()), None);
    let mut conf = Node::new(Value::Object(Vec::new()), None);
    let mut known: BTreeSet<(Vec<Key>, String)> = BTreeSet::new();
    let mut found: Vec<KeyRequirement> = Vec::new();
    let no_names = BTreeSet::new();
    let no_packages = BTreeSet::new();
    for _ in 0..MAX_ROUNDS {
        let mut recordings: Vec<Recording> = Vec::new();
        // Single-domain and multidomain: some checks differ (this_domain()).
        for multidomain in [false, true] {
            let input = CheckInput {
                version,
                site: &conf,
                site_file: FileId(0),
                domain: multidomain.then_some(DomainInput {
                    name: "<domain>",
                    file: FileId(0),
                    config: &empty,
                }),
                conf: &conf,
                domain_names: &no_names,
                image_packages: &no_packages,
                build_vars: &[],
                patterns,
            };
            let mut checker = Checker::recording(&input, rules.package);
            (rules.check)(&mut checker);
            recordings.extend(checker.into_recording());
        }
        let before = known.len();
        for recording in &recordings {
            for r in &recording.requirements {
                // A table that contains tables of its own kind (fastd's nested
                // groups) is shown one level deep, not followed forever.
                if !recursive(&r.path) {
                    grow(&mut conf, &r.path, &r.text);
                }
                if known.insert((r.path.clone(), r.text.clone())) {
                    let scope = if recording.site_only.contains(&r.path) {
                        Scope::SiteOnly
                    } else if recording.domain_only.contains(&r.path) {
                        Scope::DomainOnly
                    } else {
                        Scope::Anywhere
                    };
                    found.push(KeyRequirement {
                        path: display(&r.path),
                        requirement: r.text.clone(),
                        required: r.required,
                        scope,
                    });
                }
            }
        }
        if known.len() == before {
            break;
        }
    }
    // A pattern implies "be a string": keep the more telling requirement.
    let patterned: BTreeSet<String> = found
        .iter()
        .filter(|r| r.requirement.contains("match pattern"))
        .map(|r| r.path.clone())
        .collect();
    found.retain(|r| !(r.requirement.ends_with("be a string") && patterned.contains(&r.path)));
    found
}

/// Whether a path names the same key twice (`groups.<name>.groups`).
fn recursive(path: &[Key]) -> bool {
    path.iter().enumerate().any(|(i, key)| {
        matches!(key, Key::Name(name) if name != NAME) && path[i + 1..].contains(key)
    })
}

fn display(path: &[Key]) -> String {
    let mut out = String::new();
    for key in path {
        match key {
            Key::Index(_) => out.push_str("[]"),
            Key::Name(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
        }
    }
    out
}

/// A value of the kind a requirement asks for, to explore below it.
fn placeholder(requirement: &str) -> Value {
    let item = || {
        Node::new(
            Value::Object(vec![(
                NAME.to_string(),
                Node::new(Value::Object(Vec::new()), None),
            )]),
            None,
        )
    };
    if requirement.contains("be a table") {
        Value::Object(vec![(
            NAME.to_string(),
            Node::new(Value::Object(Vec::new()), None),
        )])
    } else if requirement.contains("be an array") {
        Value::Array(vec![item()])
    } else if requirement.contains("be a number") || requirement.contains("be in range") {
        Value::Number(1.0)
    } else if requirement.contains("be a boolean") {
        Value::Bool(true)
    } else {
        Value::String("x".to_string())
    }
}

/// Makes sure `conf` has a value at `path`, creating tables on the way.
fn grow(conf: &mut Node, path: &[Key], requirement: &str) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = conf;
    for key in parents {
        node = child(node, key, &|| Value::Object(Vec::new()));
    }
    child(node, last, &|| placeholder(requirement));
}

fn child<'n>(node: &'n mut Node, key: &Key, make: &dyn Fn() -> Value) -> &'n mut Node {
    match key {
        Key::Index(i) => {
            if !matches!(node.value, Value::Array(_)) {
                node.value = Value::Array(Vec::new());
            }
            let Value::Array(items) = &mut node.value else {
                unreachable!("just made an array")
            };
            while items.len() < *i {
                items.push(Node::new(make(), None));
            }
            &mut items[*i - 1]
        }
        Key::Name(name) => {
            if !matches!(node.value, Value::Object(_)) {
                node.value = Value::Object(Vec::new());
            }
            let Value::Object(fields) = &mut node.value else {
                unreachable!("just made an object")
            };
            let at = match fields.iter().position(|(k, _)| k == name) {
                Some(at) => at,
                None => {
                    fields.push((name.clone(), Node::new(make(), None)));
                    fields.len() - 1
                }
            };
            &mut fields[at].1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'r>(found: &'r [KeyRequirement], path: &str) -> Vec<&'r KeyRequirement> {
        found.iter().filter(|r| r.path == path).collect()
    }

    #[test]
    fn nested_groups_and_scopes_are_found() {
        let rules = super::super::for_package("gluon-mesh-vpn-fastd", GluonVersion::V2025_1)
            .expect("rules");
        let found = explore(rules, GluonVersion::V2025_1);
        let key = find(&found, "mesh_vpn.fastd.groups.<name>.peers.<name>.key");
        assert!(!key.is_empty(), "{found:#?}");
        assert!(key.iter().all(|r| r.scope == Scope::DomainOnly));
        let nested = find(&found, "mesh_vpn.fastd.groups.<name>.groups");
        assert!(!nested.is_empty(), "{found:#?}");
        // nested groups are shown one level deep, not followed forever
        assert!(find(
            &found,
            "mesh_vpn.fastd.groups.<name>.groups.<name>.groups.<name>.limit"
        )
        .is_empty());
        let configurable = find(&found, "mesh_vpn.fastd.configurable");
        assert_eq!(
            configurable.first().map(|r| (r.scope, r.required)),
            Some((Scope::SiteOnly, false))
        );
        assert!(!find(&found, "mesh_vpn.fastd.methods[]").is_empty());
    }
}
