//! gluon-autoupdater: the update branches (name, mirrors, signing keys and
//! how many signatures a firmware needs), the default branch in site.conf and
//! the GLUON_AUTOUPDATER_BRANCH build variable.

use crate::gluon_version::GluonVersion::*;
use crate::rules::vocabulary::{Checker, Lit, Path, Subject};
use crate::site::value::p;
use crate::site::value::{Key, Value};

pub const SUMMARY: &str = "autoupdater branches (name, mirrors, public keys, good_signatures), \
     autoupdater.branch and GLUON_AUTOUPDATER_BRANCH";

pub fn check(c: &mut Checker<'_>) {
    // HTTPS mirrors (v2025.1 on) need the 'tls' feature, which the gluon-tls
    // package provides.
    let has_tls = c.image_has_package("gluon-tls");

    let mut renamed = false;
    let branches = c.need_table(
        p!["autoupdater", "branches"],
        Some(&mut |c: &mut Checker<'_>, branch: Path| {
            renamed |= !valid_key(branch.last());
            check_branch(c, branch, has_tls);
        }),
        true,
    );
    // Without the branches table Gluon stops here, and after a branch key is
    // fixed the list of names is a different one: either way there is nothing
    // to compare the default branches with yet.
    let Some(branches) = branches.filter(|_| !renamed) else {
        return;
    };
    let names: Vec<Lit> = c
        .table_keys(Some(branches))
        .into_iter()
        .map(key_lit)
        .collect();

    let default_branch = c.in_site(p!["autoupdater", "branch"]);
    c.need_one_of(default_branch, &names, false);

    // An empty GLUON_AUTOUPDATER_BRANCH installs no default_branch file, so
    // the check sees nothing.
    let build_branch = c.build_var("GLUON_AUTOUPDATER_BRANCH");
    let empty = matches!(
        &build_branch,
        Subject::Value { node: Some(node), .. } if matches!(&node.value, Value::String(s) if s.is_empty())
    );
    if !empty {
        c.need_one_of(build_branch, &names, false);
    }
}

fn check_branch(c: &mut Checker<'_>, branch: Path, has_tls: bool) {
    c.need_alphanumeric_key(&branch);
    // A branch that is not a table fails every lookup below with this same
    // message; Gluon reports it once and stops.
    if c.need_table(branch.clone(), None, true).is_none() {
        return;
    }

    let name = c.in_site(c.extend(&branch, &[Key::from("name")]));
    c.need_string(name, true);

    let mirrors = c.extend(&branch, &[Key::from("mirrors")]);
    if c.version() >= V2025_1 {
        c.need_array(
            mirrors,
            Some(&mut |c: &mut Checker<'_>, mirror: Path| check_mirror(c, &mirror, has_tls)),
            true,
        );
    } else {
        c.need_string_array_match(mirrors, "^http://", true);
    }

    let pubkeys = c.in_site(c.extend(&branch, &[Key::from("pubkeys")]));
    let pubkeys = c.need_string_array_match(pubkeys, "^%x+$", true);
    let good_signatures = c.in_site(c.extend(&branch, &[Key::from("good_signatures")]));
    if c.need_number(good_signatures.clone(), true).is_some() {
        // The comparison needs the keys; without them Gluon has stopped.
        if let Some(pubkeys) = pubkeys {
            let count = pubkeys.len();
            c.need(
                good_signatures,
                |v| {
                    v.and_then(|n| n.as_f64())
                        .is_some_and(|n| n <= count as f64)
                },
                true,
                &format!("be less than or equal to the number of public keys ({count})"),
            );
        }
    }

    let probability = c.extend(&branch, &[Key::from("probability")]);
    let probability = if c.version() >= V2025_1 {
        probability
    } else {
        c.in_site(probability)
    };
    c.obsolete(probability, Some("Use GLUON_PRIORITY in site.mk instead."));
}

/// v2025.1: a mirror is a plain HTTP URL, an HTTPS URL when the image can
/// speak TLS, or a protocol-relative URL.
fn check_mirror(c: &mut Checker<'_>, mirror: &Path, has_tls: bool) {
    c.alternatives(&mut [
        &mut |c: &mut Checker<'_>| {
            c.need_string_match(mirror.clone(), "http://", true);
        },
        &mut |c: &mut Checker<'_>| {
            if c.need_string_match(mirror.clone(), "https://", true)
                .is_some()
            {
                c.need(
                    mirror.clone(),
                    |_| has_tls,
                    true,
                    "use HTTPS only if the 'tls' feature is enabled",
                );
            }
        },
        &mut |c: &mut Checker<'_>| {
            c.need_string_match(mirror.clone(), "^//", true);
        },
    ]);
}

/// Whether need_alphanumeric_key accepts a branch key.
fn valid_key(key: Option<&Key>) -> bool {
    matches!(key, Some(Key::Name(name))
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// A table key as the value `table_keys` puts in Gluon's list.
fn key_lit(key: Key) -> Lit {
    match key {
        Key::Name(name) => Lit::Str(name),
        Key::Index(i) => Lit::Num(i as f64),
    }
}

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::{self, *};
    use crate::rules::testing::{check, messages, Setup};

    fn key() -> String {
        "ab".repeat(32)
    }

    /// site.conf with one branch `stable` whose fields are `fields`.
    fn site(fields: &str) -> String {
        format!(
            "{{ autoupdater = {{ branch = 'stable', branches = {{ stable = {{ {fields} }} }} }} }}"
        )
    }

    fn valid_branch(mirrors: &str) -> String {
        format!(
            "name = 'stable', mirrors = {{ {mirrors} }}, pubkeys = {{ '{}' }}, good_signatures = 1",
            key()
        )
    }

    fn run(version: GluonVersion, site: &str, setup: &Setup<'_>) -> Vec<String> {
        messages(&check("gluon-autoupdater", version, site, setup))
    }

    fn single(version: GluonVersion, site: &str) -> Vec<String> {
        run(version, site, &Setup::default())
    }

    #[test]
    fn a_valid_branch_passes_everywhere() {
        let site = site(&valid_branch("'http://update.example.org/stable'"));
        for version in GluonVersion::ALL {
            assert_eq!(single(version, &site), Vec::<String>::new(), "{version}");
        }
    }

    #[test]
    fn branches_are_required() {
        for version in GluonVersion::ALL {
            assert_eq!(
                single(version, "{ autoupdater = { branch = 'stable' } }"),
                ["site.conf error: expected autoupdater.branches to be a table, but it is unset"],
                "{version}"
            );
            assert_eq!(
                single(version, "{ autoupdater = 5 }"),
                ["site.conf error: expected autoupdater to be a table, but it is 5 (a number value)"],
                "{version}"
            );
        }
    }

    #[test]
    fn before_v2025_1_mirrors_must_be_plain_http() {
        let site = site(&valid_branch("'http://a/', 'https://b/', '//c/'"));
        for version in [V2022_1, V2023_1, V2023_2] {
            assert_eq!(
                single(version, &site),
                [
                    "site.conf error: expected autoupdater.branches.stable.mirrors.2 to match pattern '^http://', but it is \"https://b/\" (a string value)",
                    "site.conf error: expected autoupdater.branches.stable.mirrors.3 to match pattern '^http://', but it is \"//c/\" (a string value)",
                ],
                "{version}"
            );
        }
    }

    #[test]
    fn from_v2025_1_mirrors_may_be_https_with_tls_or_protocol_relative() {
        let site = site(&valid_branch("'http://a/', '//c/', 'https://b/'"));
        assert_eq!(
            single(V2025_1, &site),
            ["All of the following alternatives have failed:
        1) site.conf error: expected autoupdater.branches.stable.mirrors.3 to match pattern 'http://', but it is \"https://b/\" (a string value)
        2) site.conf error: expected autoupdater.branches.stable.mirrors.3 to use HTTPS only if the 'tls' feature is enabled, but it is \"https://b/\" (a string value)
        3) site.conf error: expected autoupdater.branches.stable.mirrors.3 to match pattern '^//', but it is \"https://b/\" (a string value)"]
        );
        let tls = Setup {
            packages: vec!["gluon-tls"],
            ..Setup::default()
        };
        assert_eq!(run(V2025_1, &site, &tls), Vec::<String>::new());
    }

    #[test]
    fn from_v2025_1_each_bad_mirror_lists_every_alternative() {
        // 'http://' is not anchored: it may appear anywhere in the string.
        let site = site(&valid_branch("'ftp://x', 5, 'see http://x'"));
        assert_eq!(
            single(V2025_1, &site),
            [
                "All of the following alternatives have failed:
        1) site.conf error: expected autoupdater.branches.stable.mirrors.1 to match pattern 'http://', but it is \"ftp://x\" (a string value)
        2) site.conf error: expected autoupdater.branches.stable.mirrors.1 to match pattern 'https://', but it is \"ftp://x\" (a string value)
        3) site.conf error: expected autoupdater.branches.stable.mirrors.1 to match pattern '^//', but it is \"ftp://x\" (a string value)",
                "All of the following alternatives have failed:
        1) site.conf error: expected autoupdater.branches.stable.mirrors.2 to be a string, but it is 5 (a number value)
        2) site.conf error: expected autoupdater.branches.stable.mirrors.2 to be a string, but it is 5 (a number value)
        3) site.conf error: expected autoupdater.branches.stable.mirrors.2 to be a string, but it is 5 (a number value)",
            ]
        );
    }

    #[test]
    fn mirrors_are_required_and_an_object_counts_as_an_empty_array() {
        let site_without = site(&format!(
            "name = 'stable', pubkeys = {{ '{}' }}, good_signatures = 1",
            key()
        ));
        let site_object = site(&format!(
            "name = 'stable', mirrors = {{ x = 'ftp://' }}, pubkeys = {{ '{}' }}, good_signatures = 1",
            key()
        ));
        for version in GluonVersion::ALL {
            assert_eq!(
                single(version, &site_without),
                ["site.conf error: expected autoupdater.branches.stable.mirrors to be an array, but it is unset"],
                "{version}"
            );
            assert_eq!(
                single(version, &site_object),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn good_signatures_cannot_exceed_the_public_keys() {
        let fields = format!(
            "name = 'stable', mirrors = {{ 'http://a/' }}, pubkeys = {{ '{k}', '{k}' }}, good_signatures = 3",
            k = key()
        );
        for version in GluonVersion::ALL {
            assert_eq!(
                single(version, &site(&fields)),
                ["site.conf error: expected autoupdater.branches.stable.good_signatures to be less than or equal to the number of public keys (2), but it is 3 (a number value)"],
                "{version}"
            );
        }
        let no_keys =
            "name = 'stable', mirrors = { 'http://a/' }, pubkeys = {}, good_signatures = 1";
        assert_eq!(
            single(V2025_1, &site(no_keys)),
            ["site.conf error: expected autoupdater.branches.stable.good_signatures to be less than or equal to the number of public keys (0), but it is 1 (a number value)"]
        );
    }

    #[test]
    fn name_keys_and_signatures_are_required_and_typed() {
        let fields = "mirrors = { 'http://a/' }, pubkeys = { 'xyz' }, good_signatures = '1'";
        assert_eq!(
            single(V2022_1, &site(fields)),
            [
                "site.conf error: expected autoupdater.branches.stable.name to be a string, but it is unset",
                "site.conf error: expected autoupdater.branches.stable.pubkeys.1 to match pattern '^%x+$', but it is \"xyz\" (a string value)",
                "site.conf error: expected autoupdater.branches.stable.good_signatures to be a number, but it is \"1\" (a string value)",
            ]
        );
        // Without pubkeys there is no count to compare good_signatures with.
        let fields = "name = 'stable', mirrors = { 'http://a/' }, good_signatures = 5";
        assert_eq!(
            single(V2025_1, &site(fields)),
            ["site.conf error: expected autoupdater.branches.stable.pubkeys to be an array, but it is unset"]
        );
    }

    #[test]
    fn branch_names_and_values_are_checked() {
        assert_eq!(
            single(V2025_1, "{ autoupdater = { branches = { stable = 'x' } } }"),
            ["site.conf error: expected autoupdater.branches.stable to be a table, but it is \"x\" (a string value)"]
        );
        let site = format!(
            "{{ autoupdater = {{ branches = {{ ['a-b'] = {{ {} }} }} }} }}",
            valid_branch("'http://a/'")
        );
        assert_eq!(
            single(V2025_1, &site),
            ["site.conf error: expected autoupdater.branches.a-b to have a string key using only alphanumeric characters and underscores, but it is \"a-b\" (a string value)"]
        );
        // An array of branches has number keys. Gluon stops at the key; the
        // default branch is compared only once the names are fixed.
        let site = format!(
            "{{ autoupdater = {{ branch = 'stable', branches = {{ {{ {} }} }} }} }}",
            valid_branch("'http://a/'")
        );
        let setup = Setup {
            build_vars: vec![("GLUON_AUTOUPDATER_BRANCH", "stable")],
            ..Setup::default()
        };
        assert_eq!(
            run(V2025_1, &site, &setup),
            ["site.conf error: expected autoupdater.branches.1 to have a string key using only alphanumeric characters and underscores, but it is 1 (a number value)"]
        );
    }

    #[test]
    fn the_default_branch_must_be_a_configured_branch() {
        let branches = format!(
            "stable = {{ {b} }}, beta = {{ {b} }}",
            b = valid_branch("'http://a/'")
        );
        let site =
            format!("{{ autoupdater = {{ branch = 'nightly', branches = {{ {branches} }} }} }}");
        let found = single(V2023_2, &site);
        assert_eq!(found.len(), 1);
        // The list follows Lua's hash order in Gluon: compare its content only.
        let stable_beta = "site.conf error: expected autoupdater.branch to be one of the given array [\"stable\", \"beta\"], but it is \"nightly\" (a string value)";
        let beta_stable = "site.conf error: expected autoupdater.branch to be one of the given array [\"beta\", \"stable\"], but it is \"nightly\" (a string value)";
        assert!(
            found[0] == stable_beta || found[0] == beta_stable,
            "{found:?}"
        );

        // autoupdater.branch is optional
        let site = format!("{{ autoupdater = {{ branches = {{ {branches} }} }} }}");
        assert_eq!(single(V2023_2, &site), Vec::<String>::new());
    }

    #[test]
    fn the_build_branch_must_be_a_configured_branch() {
        let site = site(&valid_branch("'http://a/'"));
        let setup = |branch| Setup {
            build_vars: vec![("GLUON_AUTOUPDATER_BRANCH", branch)],
            ..Setup::default()
        };
        for version in GluonVersion::ALL {
            assert_eq!(
                run(version, &site, &setup("testing")),
                ["Configuration error: expected GLUON_AUTOUPDATER_BRANCH to be one of the given array [\"stable\"], but it is \"testing\" (a string value)"],
                "{version}"
            );
            assert_eq!(
                run(version, &site, &setup("stable")),
                Vec::<String>::new(),
                "{version}"
            );
            // An empty variable installs no default_branch file.
            assert_eq!(
                run(version, &site, &setup("")),
                Vec::<String>::new(),
                "{version}"
            );
        }
    }

    #[test]
    fn probability_is_obsolete() {
        let site = site(&format!(
            "{}, probability = 0.5",
            valid_branch("'http://a/'")
        ));
        for version in GluonVersion::ALL {
            assert_eq!(
                single(version, &site),
                ["site.conf error: autoupdater.branches.stable.probability is obsolete. Use GLUON_PRIORITY in site.mk instead."],
                "{version}"
            );
        }
    }

    #[test]
    fn in_a_domain_probability_is_also_site_only_before_v2025_1() {
        let site = site(&valid_branch("'http://a/'"));
        let domain = "{ autoupdater = { branches = { stable = { probability = 1 } } } }";
        let setup = Setup {
            domains: vec![("one", domain)],
            ..Setup::default()
        };
        for version in [V2022_1, V2023_1, V2023_2] {
            assert_eq!(
                run(version, &site, &setup),
                [
                    "domains/one.conf error: autoupdater.branches.stable.probability is allowed in site configuration only",
                    "domains/one.conf error: autoupdater.branches.stable.probability is obsolete. Use GLUON_PRIORITY in site.mk instead.",
                ],
                "{version}"
            );
        }
        assert_eq!(
            run(V2025_1, &site, &setup),
            ["domains/one.conf error: autoupdater.branches.stable.probability is obsolete. Use GLUON_PRIORITY in site.mk instead."]
        );
    }

    #[test]
    fn domains_may_set_mirrors_but_not_keys_names_or_the_default_branch() {
        let site = site(&valid_branch("'http://a/'"));
        let good = "{ autoupdater = { branches = { stable = { mirrors = { 'http://b/' } } } } }";
        let bad = format!(
            "{{ autoupdater = {{ branch = 'stable', branches = {{ stable = {{ name = 'x', pubkeys = {{ '{}' }}, good_signatures = 1 }} }} }} }}",
            key()
        );
        let setup = Setup {
            domains: vec![("good", good), ("bad", &bad)],
            ..Setup::default()
        };
        for version in GluonVersion::ALL {
            assert_eq!(
                run(version, &site, &setup),
                [
                    "domains/bad.conf error: autoupdater.branches.stable.name is allowed in site configuration only",
                    "domains/bad.conf error: autoupdater.branches.stable.pubkeys is allowed in site configuration only",
                    "domains/bad.conf error: autoupdater.branches.stable.good_signatures is allowed in site configuration only",
                    "domains/bad.conf error: autoupdater.branch is allowed in site configuration only",
                ],
                "{version}"
            );
        }
    }

    #[test]
    fn a_domains_bad_mirror_names_the_domain_file() {
        let site = site(&valid_branch("'http://a/'"));
        let domain = "{ autoupdater = { branches = { stable = { mirrors = { 'https://b/' } } } } }";
        let setup = Setup {
            domains: vec![("one", domain)],
            ..Setup::default()
        };
        assert_eq!(
            run(V2022_1, &site, &setup),
            ["domains/one.conf error: expected autoupdater.branches.stable.mirrors.1 to match pattern '^http://', but it is \"https://b/\" (a string value)"]
        );
    }
}
