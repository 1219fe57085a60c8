//! Every diagnostic code gluonvpn can report, in one table.
//!
//! A code never changes meaning once released. The book's reference page
//! (`book/src/reference/codes.md`) is generated from this table and a test
//! fails when it is stale, so the two cannot drift apart.

use crate::diagnostics::Severity;

pub type Code = &'static str;

/// Where the rule behind a code comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A package's check_site.lua: Gluon reports this at image assembly.
    GluonCheck,
    /// Gluon's build scripts (Makefile, site_config.lua, target config):
    /// Gluon reports this before compiling.
    GluonBuild,
    /// gluonvpn's own finding; Gluon does not report it.
    Gluonvpn,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::GluonCheck => "Gluon's package checks (check_site.lua)",
            Origin::GluonBuild => "Gluon's build scripts",
            Origin::Gluonvpn => "gluonvpn",
        }
    }
}

#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    /// A kebab-case name that says what is wrong.
    pub name: &'static str,
    pub severity: Severity,
    pub origin: Origin,
    /// One line.
    pub summary: &'static str,
    /// Markdown: why it matters and how to fix it.
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($code:literal $name:literal $severity:ident $origin:ident $summary:literal $explanation:literal)*) => {
        pub static CODES: &[CodeInfo] = &[
            $(CodeInfo {
                code: $code,
                name: $name,
                severity: Severity::$severity,
                origin: Origin::$origin,
                summary: $summary,
                explanation: $explanation,
            },)*
        ];
    };
}

codes! {
    "GS001" "lua-syntax-error" Error GluonBuild
        "A site file is not valid Lua 5.1."
        "Gluon evaluates `site.conf` and `domains/*.conf` as the Lua expression `return <file>`; \
        a syntax error stops `make` before anything is built (\"Your site configuration (site.conf) \
        did not pass validation\"). Template placeholders that a script replaces before the build \
        (`%A`, `@VAR@`) are the usual cause. The line is Lua's own."
    "GS002" "lua-runtime-error" Error GluonBuild
        "Evaluating a site file raised a Lua error."
        "Site files run with an empty environment: there are no globals such as `string`, `os` or \
        `print`. Only string methods (`('x'):rep(3)`) and code written in the file itself work. \
        A bare identifier such as `True` is a global and evaluates to nil, which is not an error; \
        indexing or calling it is."
    "GS003" "lua-resource-limit" Error Gluonvpn
        "Evaluating a site file ran too long or used too much memory."
        "gluonvpn runs site files in a sandbox with an instruction, memory and time budget far \
        above what any real site needs, so that an endless loop or a runaway allocation ends in \
        this error instead of a hang. Gluon itself would hang or run out of memory."
    "GS004" "config-not-a-table" Error GluonBuild
        "A site file does not evaluate to a table."
        "`site.conf` and each domain file must be one Lua table constructor (`{ ... }`), or an \
        expression that returns a table. A file that returns nil or false fails Gluon's \
        `assert` in scripts/site_config.lua; any other value fails every check."
    "GS005" "config-not-serialisable" Error GluonBuild
        "A site file's value cannot be turned into JSON."
        "Gluon serialises the evaluated configuration to JSON. A table that contains itself, or \
        tables nested deeper than 64 levels, cannot be serialised (Gluon's serialiser recurses \
        without end)."
    "GS006" "missing-site-file" Error GluonBuild
        "A file every Gluon site needs is missing or unreadable."
        "A site directory needs `site.conf` and `site.mk`; without `site.mk` Gluon's Makefile \
        stops with \"No site configuration was found\". From Gluon v2023.2 on, \
        `image-customization.lua` is required too (see GS012)."
    "GS010" "site-mk-error" Error GluonBuild
        "GNU make failed on site.mk."
        "Gluon's Makefile includes `site.mk`, so any make error in it (a missing include, a \
        recipe line outside a rule, an `$(error …)`) stops the build at once. gluonvpn runs GNU \
        make on site.mk the way Gluon does and reports make's own message."
    "GS011" "obsolete-site-mk-variable" Error GluonBuild
        "site.mk sets GLUON_FEATURES or GLUON_SITE_PACKAGES, which Gluon v2023.2 and later reject."
        "From v2023.2 on, features and packages are selected in `image-customization.lua` \
        (`features { ... }`, `packages { ... }`); Gluon's Makefile stops with an error when \
        `GLUON_FEATURES`, `GLUON_FEATURES_standard`, `GLUON_FEATURES_tiny`, `GLUON_SITE_PACKAGES` \
        or its `_standard`/`_tiny` variants are set. v2023.1 and older still read them."
    "GS012" "missing-image-customization" Error GluonBuild
        "image-customization.lua is missing; Gluon v2023.2 and later require it."
        "From v2023.2 on, Gluon loads `image-customization.lua` from the site directory to select \
        features and packages, and the build stops (\"cannot open image-customization.lua\") \
        without it. Before v2023.2 the file is ignored."
    "GS013" "image-customization-error" Error GluonBuild
        "image-customization.lua failed to evaluate or misuses the DSL."
        "The file runs once per device with the functions `features`, `packages`, `broken`, \
        `disable`, `disable_factory`, `device`, `target`, `device_class` and `include` and no \
        other globals. Gluon stops the build at the first wrong call, e.g. `features('x')` \
        instead of `features({'x'})`."
    "GS014" "unknown-package" Error GluonBuild
        "A selected package exists neither in Gluon nor in the site's feeds."
        "A feature without a mapping in `package/features` becomes the package `gluon-<feature>`; \
        that, or a package named directly, must be defined by a Makefile in Gluon or in a feed \
        listed in the site's `modules`. Otherwise OpenWrt drops it and Gluon's \
        target_config_check stops with \"unable to enable package 'X'\". gluonvpn reports \
        `gluon-*` names that this Gluon release does not define when the site has no feeds."
    "GS015" "domain-name-conflict" Error GluonBuild
        "Two domains, or a domain and an alias, claim the same name."
        "Each domain is installed as `<code>.json` and each key of its `domain_names` as an alias \
        of it. A name taken twice fails the gluon-site package build (\"Failed to alias domain \
        … name already taken by domain …\")."
    "GS016" "release-not-set" Warning GluonBuild
        "GLUON_RELEASE is not set."
        "Gluon needs a release name for every image; set `GLUON_RELEASE` in site.mk or on make's \
        command line."
    "GS017" "no-domains" Error GluonBuild
        "A multidomain site without domain files."
        "With `GLUON_MULTIDOMAIN=1`, Gluon reads every `domains/*.conf`; with none, every check \
        fails with \"site error: no domain configurations found\"."
    "GS020" "unchecked-feed-package" Info Gluonvpn
        "A selected package comes from a site feed whose checks gluonvpn cannot run."
        "Packages from the site's own feeds (`modules`) may have a check_site.lua of their own, \
        which gluonvpn does not have. They are listed so that nobody mistakes a clean result for \
        a full one."
    "GS021" "invalid-config" Error Gluonvpn
        "The site's gluonvpn.toml is not valid."
        "`gluonvpn.toml` in the site directory may change the severity of gluonvpn's own \
        findings: a `[lints]` table with `allow`, `warn` and `deny` lists of codes (and \
        `\"warnings\"` in `deny`). Unknown keys, unknown codes, and attempts to allow or lower one \
        of Gluon's own checks are errors; the file's settings are then ignored."
    "GL001" "wrong-type" Error GluonCheck
        "A key is unset or has the wrong type."
        "Gluon's `need_string`, `need_number`, `need_boolean`, `need_table`, `need_array` and \
        their relatives: the key must be present (unless optional) and of the given Lua type. \
        After the JSON round trip, `{}` is an (empty) array and a table with holes is not an \
        array."
    "GL002" "pattern-mismatch" Error GluonCheck
        "A string does not match the Lua pattern Gluon requires."
        "Gluon's `need_string_match` and `need_string_array_match` match with Lua 5.1 patterns, \
        not regular expressions: `%x` is a hex digit, `.` any character, and an unanchored \
        pattern may match anywhere in the string."
    "GL003" "value-not-allowed" Error GluonCheck
        "A value is not one of those Gluon allows."
        "Gluon's `need_one_of`, `need_value`, `need_array_of`, `need_chanlist` and \
        `need_array_elements_exclusive`: the message lists the allowed values."
    "GL004" "out-of-range" Error GluonCheck
        "A number lies outside the range Gluon allows."
        "Gluon's `need_number_range`."
    "GL005" "site-only-key" Error GluonCheck
        "A domain file sets a key that belongs in site.conf."
        "Some keys apply to the whole site and may not differ between domains (`in_site` in \
        check_site.lua). Move the key from the domain file to site.conf."
    "GL006" "domain-only-key" Error GluonCheck
        "site.conf sets a key that belongs in each domain file."
        "Some keys are per domain (`in_domain` in check_site.lua), e.g. `domain_seed`, `prefix6` \
        and the mesh VPN peers. In a multidomain site they must be set in `domains/*.conf`, not \
        in site.conf."
    "GL007" "obsolete-key" Error GluonCheck
        "A key that this Gluon release no longer supports is set."
        "The message says what replaces it."
    "GL008" "no-alternative-matched" Error GluonCheck
        "A value fits none of the forms Gluon accepts."
        "Gluon's `alternatives`: every accepted form was tried and each failed; the message lists \
        why, form by form."
    "GL009" "failed-requirement" Error GluonCheck
        "A value fails a requirement of a package's own."
        "Checks written out in a package's check_site.lua, such as the number of good signatures \
        of an autoupdater branch against its public keys."
    "GL010" "invalid-key" Error GluonCheck
        "A table key is not a string of letters, digits and underscores."
        "Gluon's `need_alphanumeric_key`, e.g. for autoupdater branch names and domain names."
    "GL011" "unknown-domain" Error GluonCheck
        "A domain name does not name a domain of the site."
        "Gluon's `need_domain_name`: `default_domain` must be the code of a file in `domains/` \
        or one of the names in some domain's `domain_names`."
}

/// Every code: loading and Gluon's checks ([`CODES`]), then the lints, then
/// the online probes.
pub fn all() -> impl Iterator<Item = &'static CodeInfo> {
    CODES
        .iter()
        .chain(crate::lints::all().map(|l| &l.info))
        .chain(crate::probe::CODES.iter())
}

/// The registry entry for a code.
///
/// # Panics
/// When the code is not registered: codes are literals in gluonvpn's own
/// source, so this is a programming error caught by the tests.
pub fn info(code: Code) -> &'static CodeInfo {
    all()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("diagnostic code {code} is not registered"))
}

pub fn lookup(code_or_name: &str) -> Option<&'static CodeInfo> {
    all().find(|c| c.code.eq_ignore_ascii_case(code_or_name) || c.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(seen.insert(c.name), "duplicate name {}", c.name);
            assert!(c.code.len() == 5 && c.code.is_ascii(), "{}", c.code);
            assert!(
                c.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                c.name
            );
            assert!(c.summary.ends_with('.'), "{}", c.code);
        }
    }
}

/// Names for the codes the library emits, so a typo is a compile error.
pub mod codes {
    use super::Code;

    pub const LUA_SYNTAX: Code = "GS001";
    pub const LUA_RUNTIME: Code = "GS002";
    pub const LUA_LIMIT: Code = "GS003";
    pub const NOT_A_TABLE: Code = "GS004";
    pub const NOT_SERIALISABLE: Code = "GS005";
    pub const MISSING_FILE: Code = "GS006";
    pub const SITE_MK: Code = "GS010";
    pub const OBSOLETE_SITE_MK_VAR: Code = "GS011";
    pub const MISSING_IMAGE_CUSTOMIZATION: Code = "GS012";
    pub const IMAGE_CUSTOMIZATION: Code = "GS013";
    pub const UNKNOWN_PACKAGE: Code = "GS014";
    pub const DOMAIN_NAME_CONFLICT: Code = "GS015";
    pub const RELEASE_NOT_SET: Code = "GS016";
    pub const NO_DOMAINS: Code = "GS017";
    pub const UNCHECKED_FEED_PACKAGE: Code = "GS020";
    pub const INVALID_CONFIG: Code = "GS021";
    pub const WRONG_TYPE: Code = "GL001";
    pub const PATTERN: Code = "GL002";
    pub const NOT_ALLOWED: Code = "GL003";
    pub const RANGE: Code = "GL004";
    pub const SITE_ONLY: Code = "GL005";
    pub const DOMAIN_ONLY: Code = "GL006";
    pub const OBSOLETE: Code = "GL007";
    pub const ALTERNATIVES: Code = "GL008";
    pub const REQUIREMENT: Code = "GL009";
    pub const INVALID_KEY: Code = "GL010";
    pub const UNKNOWN_DOMAIN: Code = "GL011";
}
