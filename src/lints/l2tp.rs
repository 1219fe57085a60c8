//! fastd's L2TP offload: the mesh-vpn-fastd-l2tp feature and the
//! `null@l2tp` method it needs.
//!
//! With the gluon-mesh-vpn-fastd-l2tp package, nodes run fastd in multitap
//! mode and hand `null@l2tp` sessions to the kernel's L2TP implementation.
//! Only that method is offloaded: with any other method the feature costs
//! flash and changes nothing.

use super::fastd_methods::{at_methods, configurable, methods, Protection};
use super::{DomainView, Lint, LintContext};
use crate::diagnostics::{CodeInfo, Diagnostic, Origin, Severity};
use crate::site::mesh_vpn::FASTD_L2TP_PACKAGE;
use crate::site::value::p;

/// The config-mode page that switches a node between security and
/// performance mode (performance: `null@l2tp`, `null`, then the rest).
const WEB_UI_PACKAGE: &str = "gluon-web-mesh-vpn-fastd";

/// Whether a domain's nodes may run `null@l2tp`: the site lists it, or
/// `configurable = true` gives performance mode (`null@l2tp` first), by
/// default when the site lists a null method (400-mesh-vpn-fastd) or by the
/// owner's choice in the config mode (web-mesh-vpn-fastd).
fn may_run_null_l2tp(context: &LintContext<'_>, view: &DomainView<'_>) -> bool {
    let list = methods(view);
    list.iter().any(|m| m.value == "null@l2tp")
        || (configurable(view)
            && (context.has_package(WEB_UI_PACKAGE)
                || list
                    .iter()
                    .any(|m| super::fastd_methods::protection(&m.value) == Some(Protection::None))))
}

/// The domains with a fastd section.
fn fastd_domains<'c, 'a>(context: &'c LintContext<'a>) -> Vec<&'c DomainView<'a>> {
    context
        .domains
        .iter()
        .filter(|v| v.mesh_vpn.fastd.is_some())
        .collect()
}

/// One finding for the whole site: the images are the same for every
/// domain, so the offload is wasted only when no domain can use it.
fn offload_without_null_l2tp(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !context.has_package(FASTD_L2TP_PACKAGE) {
        return;
    }
    let domains = fastd_domains(context);
    if domains.iter().any(|v| may_run_null_l2tp(context, v)) {
        return;
    }
    let Some(first) = domains.first() else { return };
    let what = if domains.len() > 1 {
        "no domain's methods have `null@l2tp`"
    } else {
        "no method is `null@l2tp`"
    };
    let mut d = at_methods(
        context,
        &L2TP_OFFLOAD_WITHOUT_NULL_L2TP.info,
        first,
        format!("the L2TP offload (mesh-vpn-fastd-l2tp) is in the images, but {what}: nothing is ever offloaded"),
    );
    for view in &domains[1..] {
        if let Some(name) = view.name {
            d = d.with_domain(name);
        }
    }
    out.push(d);
}

/// What gateways need for `null@l2tp`: a fact about the site, said once.
fn null_l2tp_gateways(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !context.has_package("gluon-mesh-vpn-fastd") {
        return;
    }
    let mut found: Option<Diagnostic> = None;
    for view in &context.domains {
        let list = methods(view);
        let Some(null_l2tp) = list.iter().find(|m| m.value == "null@l2tp") else {
            continue;
        };
        match &mut found {
            Some(d) => {
                if let Some(name) = view.name {
                    d.domains.push(name.to_string());
                }
            }
            None => {
                // At the method, about the whole list.
                let path = p!["mesh_vpn", "fastd", "methods"];
                found = Some(context.diagnostic(
                    &NULL_L2TP_GATEWAY_REQUIREMENTS.info,
                    view,
                    "`null@l2tp` needs fastd v22 or newer on the gateways, with `null@l2tp` in their method list (and `offload l2tp yes;` to offload there too)".into(),
                    null_l2tp.at.span,
                    &path,
                ));
            }
        }
    }
    out.extend(found);
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
    use crate::lints::testing::{domain_conf, fastd, multidomain_site_conf, site_conf, TestSite};

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
        // performance mode (the config-mode page) puts null@l2tp first
        let web = [
            "mesh-batman-adv-15",
            "mesh-vpn-fastd-l2tp",
            "web-mesh-vpn-fastd",
        ];
        assert!(site("'salsa2012+umac'", ", configurable = true", &web)
            .findings(V2025_1, "GV121")
            .is_empty());
        // … and so does a fresh node when the site lists a null method
        assert!(
            site("'salsa2012+umac', 'null'", ", configurable = true", OFFLOAD)
                .findings(V2025_1, "GV121")
                .is_empty()
        );
        // configurable without the page and without a null method: nothing
        // ever runs null@l2tp
        assert_eq!(
            site("'salsa2012+umac'", ", configurable = true", OFFLOAD)
                .findings(V2025_1, "GV121")
                .len(),
            1
        );
        // no offload, no finding
        assert!(site(
            "'salsa2012+umac'",
            "",
            &["mesh-batman-adv-15", "mesh-vpn-fastd"]
        )
        .findings(V2025_1, "GV121")
        .is_empty());
    }

    /// The images are shared: one domain with null@l2tp makes the offload
    /// worth it; a site without any gets one finding, not one per domain.
    #[test]
    fn the_offload_is_judged_for_the_whole_site() {
        let site_conf = multidomain_site_conf(
            "a",
            "  mesh_vpn = { fastd = { mtu = 1312, groups = { backbone = {} } } },",
        );
        let domain = |code: &str, n: u8, methods: &str| {
            domain_conf(
                code,
                n,
                &format!("  mesh_vpn = {{ fastd = {{ methods = {{ {methods} }} }} }},"),
            )
        };
        let site_of = |second: &str| {
            TestSite::multidomain(
                &site_conf,
                OFFLOAD,
                &[
                    ("a", &domain("a", 1, "'salsa2012+umac'")),
                    ("b", &domain("b", 2, second)),
                ],
            )
        };
        assert!(site_of("'null@l2tp', 'salsa2012+umac'")
            .findings(V2025_1, "GV121")
            .is_empty());
        let found = site_of("'salsa2012+umac'").findings(V2025_1, "GV121");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].domains, ["a", "b"]);
        // GV122, a fact about the gateways, once for the site.
        let both = TestSite::multidomain(
            &site_conf,
            OFFLOAD,
            &[
                ("a", &domain("a", 1, "'null@l2tp'")),
                ("b", &domain("b", 2, "'null@l2tp'")),
            ],
        );
        let found = both.findings(V2025_1, "GV122");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].domains, ["a", "b"]);
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
