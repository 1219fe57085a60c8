//! The book's reference pages, generated from the registries so they cannot
//! drift from the code: `book/src/reference/codes.md` from
//! [`crate::registry::CODES`] and `book/src/reference/gluon-checks.md` from
//! [`crate::rules::PACKAGES`]. A test compares the files with these functions
//! (and rewrites them with `GLUONVPN_BLESS=1`).

use crate::gluon_version::GluonVersion;
use crate::registry::{Origin, CODES};
use crate::rules::PACKAGES;
use std::fmt::Write;

const GENERATED: &str = "<!-- Generated from gluonvpn's registry by `GLUONVPN_BLESS=1 cargo test --test book`; do not edit. -->\n\n";

/// The page listing every diagnostic code.
pub fn codes_page() -> String {
    let mut page = String::from(GENERATED);
    page.push_str("# Diagnostic codes\n\n");
    page.push_str(
        "Every diagnostic carries a stable code. `GS` codes come from loading the site as Gluon's \
         build does, `GL` codes from Gluon's package checks (check_site.lua). \
         `gluonvpn explain CODE` prints an entry on the terminal.\n\n",
    );
    page.push_str("| code | name | severity | reported by | summary |\n|---|---|---|---|---|\n");
    for c in CODES {
        let _ = writeln!(
            page,
            "| [{code}](#{anchor}) | `{name}` | {severity} | {origin} | {summary} |",
            code = c.code,
            anchor = c.code.to_lowercase(),
            name = c.name,
            severity = c.severity.as_str(),
            origin = origin_short(c.origin),
            summary = c.summary,
        );
    }
    for c in CODES {
        let _ = write!(
            page,
            "\n## {code}\n\n**{name}** · {severity} · reported by {origin}\n\n{summary}\n\n{explanation}\n",
            code = c.code,
            name = c.name,
            severity = c.severity.as_str(),
            origin = c.origin.describe(),
            summary = c.summary,
            explanation = c.explanation,
        );
    }
    page
}

fn origin_short(origin: Origin) -> &'static str {
    match origin {
        Origin::GluonCheck => "Gluon check",
        Origin::GluonBuild => "Gluon build",
        Origin::Gluonvpn => "gluonvpn",
    }
}

/// The page listing the Gluon packages whose checks gluonvpn runs.
pub fn checks_page() -> String {
    let mut page = String::from(GENERATED);
    page.push_str("# Gluon's package checks\n\n");
    page.push_str(
        "gluonvpn runs the check_site.lua of every Gluon package that ends up in an image, \
         for the Gluon release given with `--gluon-version`. These are the packages with \
         checks, and the releases in which they have them.\n\n",
    );
    page.push_str("| package | ");
    for v in GluonVersion::ALL {
        let _ = write!(page, "{} | ", v.label());
    }
    page.push_str("what it checks |\n|---|");
    for _ in GluonVersion::ALL {
        page.push_str("---|");
    }
    page.push_str("---|\n");
    for p in PACKAGES {
        let _ = write!(page, "| `{}` | ", p.package);
        for v in GluonVersion::ALL {
            page.push_str(if p.versions.contains(&v) {
                "✓ | "
            } else {
                " | "
            });
        }
        let _ = writeln!(page, "{} |", p.summary);
    }
    page
}
