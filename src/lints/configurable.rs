//! fastd's configurable method ("performance mode").
//!
//! With `mesh_vpn.fastd.configurable = true` and the web-mesh-vpn-fastd
//! feature, a node's owner chooses between security mode (the site's
//! methods without the null methods) and performance mode (`null@l2tp`,
//! `null`, then the site's other methods). Which mode a new node starts in
//! depends on whether the site lists a null method. (The web feature
//! without `configurable = true` is already an error of Gluon's own check.)

use super::fastd_methods::{configurable, methods, protection, Protection};
use super::{Lint, LintContext};
use crate::diagnostics::{CodeInfo, Origin};
use crate::diagnostics::{Diagnostic, Severity};

fn configurable_without_web_ui(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !context.has_package("gluon-mesh-vpn-fastd")
        || context.has_package("gluon-web-mesh-vpn-fastd")
    {
        return;
    }
    for view in &context.domains {
        if !configurable(view) {
            continue;
        }
        let Some(at) = view
            .mesh_vpn
            .fastd
            .as_ref()
            .and_then(|f| f.configurable.as_ref())
            .map(|c| &c.at)
        else {
            continue;
        };
        out.push(context.diagnostic_for(
            &CONFIGURABLE_WITHOUT_WEB_UI.info,
            view,
            at,
            "`configurable = true` without the web-mesh-vpn-fastd feature: nobody can switch the mode; nodes keep whichever mode the site's methods imply".into(),
        ));
    }
}

fn performance_mode_default(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !context.has_package("gluon-mesh-vpn-fastd") {
        return;
    }
    for view in &context.domains {
        if !configurable(view) {
            continue;
        }
        let list = methods(view);
        let Some(null) = list
            .iter()
            .find(|m| protection(&m.value) == Some(Protection::None))
        else {
            continue;
        };
        // Only-null lists are GV104's business (security mode breaks).
        if list
            .iter()
            .all(|m| protection(&m.value) == Some(Protection::None))
        {
            continue;
        }
        out.push(context.diagnostic_for(
            &PERFORMANCE_MODE_DEFAULT.info,
            view,
            &null.at,
            format!(
                "`{}` in the methods of a configurable site makes performance mode (unencrypted) the default of every node",
                null.value
            ),
        ));
    }
}

pub static CONFIGURABLE_WITHOUT_WEB_UI: Lint = Lint {
    info: CodeInfo {
        code: "GV131",
        name: "configurable-without-web-ui",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "`mesh_vpn.fastd.configurable = true` without the web-mesh-vpn-fastd feature.",
        explanation: "The mode switch lives in the config mode page of the web-mesh-vpn-fastd \
            feature (package gluon-web-mesh-vpn-fastd). Without it nobody can switch, and \
            `configurable = true` only makes Gluon reorder the methods on the node: a null \
            method anywhere in the site's list moves `null@l2tp` and `null` to the front. Add \
            the feature, or drop `configurable`.",
    },
    example: "fastd = { configurable = true, methods = { 'salsa2012+umac' }, ... }\n-- image-customization.lua without 'web-mesh-vpn-fastd'",
    seen_in: &["ffh", "ffmwu"],
    other_severities: &[],
    check: configurable_without_web_ui,
};

pub static PERFORMANCE_MODE_DEFAULT: Lint = Lint {
    info: CodeInfo {
        code: "GV132",
        name: "performance-mode-default",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary:
            "A null method in a configurable site's methods makes performance mode the default.",
        explanation: "With `configurable = true`, Gluon starts every node in performance mode \
            (`null@l2tp`, `null` first: unencrypted and unauthenticated) as soon as the site \
            lists any null method, and in security mode otherwise. Gluon's documentation \
            calls performance mode as the default \"not recommended\". Leave the null methods \
            out of the list; owners who want performance mode can still choose it.",
    },
    example: "fastd = { configurable = true, methods = { 'null@l2tp', 'salsa2012+umac' } }",
    seen_in: &["ffggrz@v2022.1"],
    other_severities: &[],
    check: performance_mode_default,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[&CONFIGURABLE_WITHOUT_WEB_UI, &PERFORMANCE_MODE_DEFAULT];

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::V2025_1;
    use crate::lints::testing::{fastd, site_conf, TestSite};

    const WEB: &[&str] = &["mesh-batman-adv-15", "mesh-vpn-fastd", "web-mesh-vpn-fastd"];
    const NO_WEB: &[&str] = &["mesh-batman-adv-15", "mesh-vpn-fastd"];

    fn site(methods: &str, more: &str, features: &[&str]) -> TestSite {
        TestSite::new(&site_conf(&fastd(methods, more)), features)
    }

    #[test]
    fn configurable_needs_the_web_ui() {
        let found =
            site("'salsa2012+umac'", ", configurable = true", NO_WEB).findings(V2025_1, "GV131");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(site("'salsa2012+umac'", ", configurable = true", WEB)
            .findings(V2025_1, "GV131")
            .is_empty());
        assert!(site("'salsa2012+umac'", "", NO_WEB)
            .findings(V2025_1, "GV131")
            .is_empty());
    }

    #[test]
    fn a_null_method_makes_performance_mode_the_default() {
        let found = site(
            "'salsa2012+umac', 'null@l2tp'",
            ", configurable = true",
            WEB,
        )
        .findings(V2025_1, "GV132");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.methods.2")
        );
        assert!(site("'salsa2012+umac'", ", configurable = true", WEB)
            .findings(V2025_1, "GV132")
            .is_empty());
        assert!(site(
            "'salsa2012+umac', 'null@l2tp'",
            "",
            WEB.get(..2).unwrap_or_default()
        )
        .findings(V2025_1, "GV132")
        .is_empty());
    }

    #[test]
    fn the_web_ui_without_configurable_is_gluons_own_error() {
        let found = site("'salsa2012+umac'", "", WEB).findings(V2025_1, "GL003");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.configurable")
        );
    }
}
