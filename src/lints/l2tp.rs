//! fastd's L2TP offload: the mesh-vpn-fastd-l2tp feature and the
//! `null@l2tp` method it needs.
//!
//! With the gluon-mesh-vpn-fastd-l2tp package, nodes run fastd in multitap
//! mode and hand `null@l2tp` sessions to the kernel's L2TP implementation.
//! Only that method is offloaded: with any other method the feature costs
//! flash and changes nothing.

use super::fastd_methods::{at_methods, configurable, methods};
use super::{Lint, LintContext};
use crate::diagnostics::{CodeInfo, Origin};
use crate::diagnostics::{Diagnostic, Severity};
use crate::site::value::p;

const OFFLOAD_PACKAGE: &str = "gluon-mesh-vpn-fastd-l2tp";

fn offload_without_null_l2tp(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !context.has_package(OFFLOAD_PACKAGE) {
        return;
    }
    for view in &context.domains {
        // In performance mode Gluon puts null@l2tp first itself.
        if configurable(view) || methods(view).iter().any(|m| m.value == "null@l2tp") {
            continue;
        }
        out.push(at_methods(
            context,
            &L2TP_OFFLOAD_WITHOUT_NULL_L2TP.info,
            view,
            "the L2TP offload (mesh-vpn-fastd-l2tp) is in the images, but no domain method is `null@l2tp`: nothing is ever offloaded".into(),
        ));
    }
}

fn null_l2tp_gateways(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !context.has_package("gluon-mesh-vpn-fastd") {
        return;
    }
    for view in &context.domains {
        let list = methods(view);
        let Some(null_l2tp) = list.iter().find(|m| m.value == "null@l2tp") else {
            continue;
        };
        // At the method, about the whole list.
        let path = p!["mesh_vpn", "fastd", "methods"];
        out.push(context.diagnostic(
            &NULL_L2TP_GATEWAY_REQUIREMENTS.info,
            view,
            "`null@l2tp` needs fastd v22 or newer on the gateways, with `null@l2tp` in their method list (and `offload l2tp yes;` to offload there too)".into(),
            null_l2tp.at.span,
            &path,
        ));
    }
}

pub static L2TP_OFFLOAD_WITHOUT_NULL_L2TP: Lint = Lint {
    info: CodeInfo {
        code: "GV121",
        name: "l2tp-offload-without-null-l2tp",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "The L2TP offload feature is selected, but no fastd method is `null@l2tp`.",
        explanation: "The `mesh-vpn-fastd-l2tp` feature (package gluon-mesh-vpn-fastd-l2tp) \
            switches fastd on the node to multitap mode and lets the kernel carry `null@l2tp` \
            sessions. Only that method is offloaded: without `null@l2tp` in \
            `mesh_vpn.fastd.methods` (or `configurable = true`, whose performance mode adds it) \
            the feature costs flash and changes nothing. Add `null@l2tp`, or drop the feature.",
    },
    example: "-- image-customization.lua: features { 'mesh-vpn-fastd-l2tp' }\nmethods = { 'salsa2012+umac' }",
    seen_in: &[],
    other_severities: &[],
    check: offload_without_null_l2tp,
};

pub static NULL_L2TP_GATEWAY_REQUIREMENTS: Lint = Lint {
    info: CodeInfo {
        code: "GV122",
        name: "null-l2tp-gateway-requirements",
        severity: Severity::Info,
        origin: Origin::Gluonvpn,
        summary: "`null@l2tp` needs fastd v22 or newer on the gateways.",
        explanation: "A node can only use `null@l2tp` with a gateway whose fastd (v22 or newer) \
            also lists it. Gateways need not offload themselves — nodes with the offload can \
            talk to gateways without it — but to offload there too, the gateway's fastd needs \
            `mode multitap;`, `interface \"peer-%k\";`, `offload l2tp yes;` and `persist \
            interface no;`, with the per-peer interfaces set up by `on up`/`on down` hooks \
            (preferably `async`) or systemd-networkd (Gluon's mesh VPN documentation). \
            `gluonvpn render gateway` writes such a configuration.",
    },
    example: "methods = { 'null@l2tp', 'salsa2012+umac' }",
    seen_in: &["ffda", "ffp", "ffrn"],
    other_severities: &[],
    check: null_l2tp_gateways,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[
    &L2TP_OFFLOAD_WITHOUT_NULL_L2TP,
    &NULL_L2TP_GATEWAY_REQUIREMENTS,
];

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::V2025_1;
    use crate::lints::testing::{fastd, site_conf, TestSite};

    fn site(methods: &str, more: &str, features: &[&str]) -> TestSite {
        TestSite::new(&site_conf(&fastd(methods, more)), features)
    }

    const OFFLOAD: &[&str] = &["mesh-batman-adv-15", "mesh-vpn-fastd-l2tp"];

    #[test]
    fn offload_needs_null_l2tp() {
        let found = site("'salsa2012+umac'", "", OFFLOAD).findings(V2025_1, "GV121");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.methods")
        );
        assert!(site("'null@l2tp', 'salsa2012+umac'", "", OFFLOAD)
            .findings(V2025_1, "GV121")
            .is_empty());
        // performance mode adds null@l2tp by itself
        assert!(site("'salsa2012+umac'", ", configurable = true", OFFLOAD)
            .findings(V2025_1, "GV121")
            .is_empty());
        // no offload, no finding
        assert!(site(
            "'salsa2012+umac'",
            "",
            &["mesh-batman-adv-15", "mesh-vpn-fastd"]
        )
        .findings(V2025_1, "GV121")
        .is_empty());
    }

    #[test]
    fn null_l2tp_notes_the_gateway_side() {
        let found = site("'null@l2tp', 'salsa2012+umac'", "", OFFLOAD).findings(V2025_1, "GV122");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, crate::diagnostics::Severity::Info);
        assert!(site(
            "'salsa2012+umac'",
            "",
            &["mesh-batman-adv-15", "mesh-vpn-fastd"]
        )
        .findings(V2025_1, "GV122")
        .is_empty());
    }
}
