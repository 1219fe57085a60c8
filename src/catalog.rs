//! The catalogue of every diagnostic code gluonvpn can report: loading a site
//! ([`crate::site::codes`]), Gluon's checks ([`crate::rules::codes`]), the
//! lints ([`crate::lints`]) and the online probes ([`crate::probe::codes`]).
//!
//! It sits above the stages that report, for what needs all codes at once:
//! `gluonvpn explain`, the severity settings, the book's reference (a test
//! fails when `book/src/reference/codes.md` is stale) and SARIF's rule list.

use crate::diagnostics::CodeInfo;

/// Every code: loading, Gluon's checks, then the lints, then the online
/// probes.
pub fn all() -> impl Iterator<Item = &'static CodeInfo> {
    crate::site::codes::CODES
        .iter()
        .copied()
        .chain(crate::rules::codes::CODES.iter().copied())
        .chain(crate::lints::all().map(|l| &l.info))
        .chain(crate::probe::codes::CODES.iter().copied())
}

/// The code with this code (any case) or name.
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
        for c in all() {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(seen.insert(c.name), "duplicate name {}", c.name);
            assert!(c.code.len() == 5 && c.code.is_ascii(), "{}", c.code);
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                c.name
            );
            assert!(c.summary.ends_with('.'), "{}", c.code);
        }
    }

    #[test]
    fn each_stage_has_its_own_prefix() {
        for (codes, prefix) in [
            (crate::site::codes::CODES, "GS"),
            (crate::rules::codes::CODES, "GL"),
            (crate::probe::codes::CODES, "GV5"),
        ] {
            assert!(codes.iter().all(|c| c.code.starts_with(prefix)), "{prefix}");
        }
        assert!(crate::lints::all()
            .all(|l| l.info.code.starts_with("GV") && !l.info.code.starts_with("GV5")));
    }
}
