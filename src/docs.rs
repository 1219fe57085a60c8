//! The book's reference pages, generated from the registries so they cannot
//! drift from the code: `book/src/reference/codes.md` from every code in
//! [`crate::catalog::all`] and `book/src/reference/gluon-checks.md` from
//! [`crate::rules::PACKAGES`]. A test compares the files with these functions
//! (and rewrites them with `GLUONVPN_BLESS=1`).

use crate::catalog;
use crate::diagnostics::Origin;
use crate::gluon_version::GluonVersion;
use crate::lints::{self, Lint};
use crate::rules::explore::{explore, KeyRequirement, Scope};
use crate::rules::PACKAGES;
use std::fmt::Write;

const GENERATED: &str = "<!-- Generated from gluonvpn's catalogue of codes by `GLUONVPN_BLESS=1 cargo test --test book`; do not edit. -->\n\n";

/// The page listing every diagnostic code.
pub fn codes_page() -> String {
    let mut page = String::from(GENERATED);
    page.push_str("# Diagnostic codes\n\n");
    page.push_str(
        "Every diagnostic carries a stable code. `GS` codes come from loading the site as Gluon's \
         build does, `GL` codes from Gluon's package checks (check_site.lua), `GV` codes \
         are gluonvpn's own findings: its [lints](../lints/index.md), each on a page of its \
         own, and, from GV501 on, the network probes of `check --online`. \
         `gluonvpn explain CODE` prints an entry on the terminal.\n\n",
    );
    page.push_str("| code | name | severity | reported by | summary |\n|---|---|---|---|---|\n");
    for c in catalog::all() {
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
    for c in catalog::all() {
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
    page.push_str(
        "\nBelow, per package, the keys each check looks at and what it requires of them, in \
         Gluon's words (\"expected X to …\"). `<name>` stands for a key the site chooses (a \
         peer, a branch), `[]` for each item of an array. *site.conf only* and *domain files \
         only* are Gluon's `in_site` and `in_domain` (they matter in multidomain sites). The \
         list is found by running each check in a recording mode; a requirement that applies \
         only for particular values may be missing.\n",
    );
    for p in PACKAGES {
        let _ = write!(page, "\n## {}\n\n{}.\n\n", p.package, capitalise(p.summary));
        // Requirement → the releases that place it, in first-seen order.
        let mut rows: Vec<(KeyRequirement, Vec<GluonVersion>)> = Vec::new();
        for &version in p.versions {
            for r in explore(p, version) {
                match rows.iter_mut().find(|(known, _)| *known == r) {
                    Some((_, versions)) => versions.push(version),
                    None => rows.push((r, vec![version])),
                }
            }
        }
        if rows.is_empty() {
            page.push_str("Its check_site.lua checks nothing.\n");
            continue;
        }
        page.push_str("| key | must | | set in | releases |\n|---|---|---|---|---|\n");
        for (r, versions) in rows {
            let releases = if versions.len() == p.versions.len() {
                "all".to_string()
            } else {
                versions
                    .iter()
                    .map(|v| v.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let scope = match r.scope {
                Scope::Anywhere => "",
                Scope::SiteOnly => "site.conf only",
                Scope::DomainOnly => "domain files only",
            };
            let _ = writeln!(
                page,
                "| `{}` | {} | {} | {} | {} |",
                r.path,
                escape_cell(&r.requirement),
                if r.required { "required" } else { "optional" },
                scope,
                releases
            );
        }
    }
    page
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Markdown table cells: pipes would end the cell.
fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The file name of a lint's page in book/src/lints/.
pub fn lint_page_name(lint: &Lint) -> String {
    format!("{}-{}.md", lint.info.code.to_lowercase(), lint.info.name)
}

/// A lint's severities: the default, then the others with when they apply
/// (`warning; error when …`).
pub fn lint_severities(lint: &Lint) -> String {
    let mut text = lint.info.severity.as_str().to_string();
    for (severity, when) in lint.other_severities {
        let _ = write!(text, "; {} {when}", severity.as_str());
    }
    text
}

/// One lint's page: what it does, why it matters, how to configure it, an
/// example, and corpus sites that show it.
pub fn lint_page(lint: &Lint) -> String {
    let info = &lint.info;
    let mut page = String::from(GENERATED);
    let _ = write!(
        page,
        "# {code} {name}\n\n**Severity:** {severity}\n\n## What it does\n\n{summary}\n\n## Why this is bad\n\n{why}\n\n## Configuration\n\nChange its severity for one run with `--deny {code}`, `--warn {code}` or `--allow {code}`, or for the site in `gluonvpn.toml`:\n\n```toml\n[lints]\nallow = [\"{code}\"]\n```\n\n## Example\n\n```lua\n{example}\n```\n",
        code = info.code,
        name = info.name,
        severity = lint_severities(lint),
        summary = info.summary,
        why = info.explanation,
        example = lint.example,
    );
    if !lint.seen_in.is_empty() {
        page.push_str("\n## Seen in\n\nCommunity sites of the shared corpus that show it:\n\n");
        for site in lint.seen_in {
            let _ = writeln!(page, "- `{site}`");
        }
    }
    page
}

/// The lint overview page.
pub fn lints_index() -> String {
    let mut page = String::from(GENERATED);
    page.push_str("# Lints\n\n");
    page.push_str(
        "Beyond Gluon's own checks, gluonvpn knows the mesh-VPN rules that Gluon's \
         documentation only describes in prose. Lints never change Gluon's verdict \
         (`gluon_ok`); errors among them make `gluonvpn check` exit with 1, warnings and \
         notes do not, unless raised with `--deny` (see [Checking a site](../check.md)). \
         `--gluon-only` turns them off.\n\n",
    );
    page.push_str("| code | name | severity | summary |\n|---|---|---|---|\n");
    for lint in lints::all() {
        let _ = writeln!(
            page,
            "| [{code}]({file}) | `{name}` | {severity} | {summary} |",
            code = lint.info.code,
            file = lint_page_name(lint),
            name = lint.info.name,
            severity = lint_severities(lint),
            summary = lint.info.summary,
        );
    }
    page
}

/// The lines of SUMMARY.md that list the lint pages.
pub fn summary_lint_entries() -> String {
    let mut lines = String::from("- [Lints](lints/index.md)\n");
    for lint in lints::all() {
        let _ = writeln!(
            lines,
            "  - [{} {}](lints/{})",
            lint.info.code,
            lint.info.name,
            lint_page_name(lint)
        );
    }
    lines
}

/// The rewrites of `gluonvpn migrate`, for book/src/upgrading.md (between
/// its `rewrites` markers).
pub fn rewrites_section() -> String {
    let mut out = String::from("| code | name | what it does | in Gluon |\n|---|---|---|---|\n");
    for rewrite in crate::migrate::REWRITES {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            rewrite.code, rewrite.name, rewrite.summary, rewrite.source
        ));
    }
    out
}
