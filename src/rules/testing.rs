//! Running one package's checks on site text, for the rule tests.

use super::lua_pattern::LuaPatterns;
use super::vocabulary::{CheckInput, Checker, DomainInput};
use crate::diagnostics::Diagnostic;
use crate::gluon_version::GluonVersion;
use crate::site::config::evaluate;
use crate::site::lua::{Limits, Sandbox};
use crate::site::merge::merge;
use crate::site::value::{Node, Value};
use crate::source::SourceMap;
use std::collections::BTreeSet;

/// What a test sets up besides the configuration files.
#[derive(Default)]
pub struct Setup<'s> {
    /// `(code, text)` of each `domains/<code>.conf`; empty for a
    /// single-domain site.
    pub domains: Vec<(&'s str, &'s str)>,
    /// Packages in the image besides the one under test (e.g. `gluon-tls`).
    pub packages: Vec<&'s str>,
    /// Build variables such as GLUON_AUTOUPDATER_BRANCH.
    pub build_vars: Vec<(&'s str, &'s str)>,
}

/// Runs `package`'s checks of `version` on `site` (site.conf text), in a
/// single-domain site or per domain, and returns every diagnostic (not
/// deduplicated across domains, so tests see each domain's findings).
///
/// # Panics
/// When the package has no checks in that version or a file fails to
/// evaluate: both are mistakes in the test.
pub fn check(
    package: &str,
    version: GluonVersion,
    site: &str,
    setup: &Setup<'_>,
) -> Vec<Diagnostic> {
    let rules = super::for_package(package, version)
        .unwrap_or_else(|| panic!("{package} has no checks in {version}"));
    let sandbox = Sandbox::new(Limits::default()).expect("lua");
    let patterns = LuaPatterns::new().expect("lua");
    let mut sources = SourceMap::default();
    let site_file = sources.add("site.conf".into(), "site.conf".into(), site.to_string());
    let site_node = evaluate(&sandbox, &sources, site_file).expect("site.conf evaluates");
    let mut domains = Vec::new();
    for (code, text) in &setup.domains {
        let name = format!("domains/{code}.conf");
        let file = sources.add(name.clone(), name.into(), text.to_string());
        let node = evaluate(&sandbox, &sources, file).expect("domain evaluates");
        domains.push((code.to_string(), file, node));
    }
    let mut names: BTreeSet<String> = BTreeSet::new();
    for (code, _, node) in &domains {
        names.insert(code.clone());
        if let Some(aliases) = node.get_name("domain_names") {
            for (key, _) in aliases.entries() {
                names.insert(key.to_string());
            }
        }
    }
    let mut image: BTreeSet<String> = setup.packages.iter().map(|s| s.to_string()).collect();
    image.insert(package.to_string());
    let build_vars: Vec<(String, Node)> = setup
        .build_vars
        .iter()
        .map(|(k, v)| (k.to_string(), Node::new(Value::String(v.to_string()), None)))
        .collect();

    let mut out = Vec::new();
    let run = |conf: &Node, domain: Option<DomainInput<'_>>, out: &mut Vec<Diagnostic>| {
        let input = CheckInput {
            version,
            site: &site_node,
            site_file,
            domain,
            conf,
            domain_names: &names,
            image_packages: &image,
            build_vars: &build_vars,
            patterns: &patterns,
        };
        let mut checker = Checker::new(&input, rules.package);
        (rules.check)(&mut checker);
        out.extend(checker.into_diagnostics());
    };
    if domains.is_empty() {
        run(&site_node, None, &mut out);
    } else {
        for (code, file, node) in &domains {
            let conf = merge(&site_node, node);
            run(
                &conf,
                Some(DomainInput {
                    name: code,
                    file: *file,
                    config: node,
                }),
                &mut out,
            );
        }
    }
    out
}

/// The Gluon messages of a list of diagnostics, for compact assertions.
pub fn messages(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d.gluon_message.clone().unwrap_or_else(|| d.message.clone()))
        .collect()
}

/// A minimal valid single-domain site.conf for gluon-core at every release,
/// for tests of other packages to extend: `{ <extra> }` is spliced in.
pub fn minimal_site(extra: &str) -> String {
    format!(
        "{{
  site_code = 'ffx', site_name = 'Freifunk X', timezone = 'CET-1CEST,M3.5.0,M10.5.0/3',
  domain_seed = '{seed}',
  prefix6 = 'fd00::/64',
  {extra}
}}",
        seed = "ab".repeat(32)
    )
}

/// Gluon's messages for one package's check of `site` (and domain files,
/// `(code, text)`) in one release.
pub fn run(
    package: &str,
    version: GluonVersion,
    site: &str,
    domains: Vec<(&str, &str)>,
) -> Vec<String> {
    let setup = Setup {
        domains,
        ..Setup::default()
    };
    messages(&check(package, version, site, &setup))
}

/// The same for a check that is identical in every release this package
/// exists in: asserts that each release says the same, and returns it.
pub fn run_every_release(package: &str, site: &str, domains: Vec<(&str, &str)>) -> Vec<String> {
    let mut found: Option<Vec<String>> = None;
    for version in GluonVersion::ALL {
        if super::for_package(package, version).is_none() {
            continue;
        }
        let here = run(package, version, site, domains.clone());
        if let Some(previous) = &found {
            assert_eq!(&here, previous, "{package} differs in {version}");
        }
        found = Some(here);
    }
    found.unwrap_or_default()
}
