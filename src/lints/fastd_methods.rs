//! fastd's method list: order, null methods, duplicates.
//!
//! fastd uses the first method in a node's list that the gateway supports
//! too, so the order of `mesh_vpn.fastd.methods` is a security decision.
//! With `configurable = true` Gluon reorders the list on the node (null
//! methods first in performance mode, dropped in security mode), so the
//! order lints do not apply there; see the configurable lints instead.

use super::{DomainView, Lint, LintContext};
use crate::diagnostics::{CodeInfo, Diagnostic, Origin, Severity};
use crate::site::mesh_vpn::methods::{negotiated, node_classes};
use crate::site::mesh_vpn::{Fastd, Located, FASTD_L2TP_PACKAGE};
use crate::site::value::p;

/// How much a method protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protection {
    /// null, null@l2tp: anyone on the path can read and inject.
    None,
    /// null+salsa2012+umac: authenticated, not encrypted.
    Authenticated,
    /// salsa2012+umac: encrypted and authenticated.
    Encrypted,
}

pub fn protection(method: &str) -> Option<Protection> {
    match method {
        "null" | "null@l2tp" => Some(Protection::None),
        "null+salsa2012+umac" => Some(Protection::Authenticated),
        "salsa2012+umac" => Some(Protection::Encrypted),
        _ => None,
    }
}

/// The method list of a domain, in order (empty without fastd).
pub fn methods<'v>(view: &'v DomainView<'_>) -> &'v [Located<String>] {
    view.mesh_vpn
        .fastd
        .as_ref()
        .map_or(&[], |fastd| fastd.methods.as_slice())
}

/// Whether the site lets users switch between security and performance mode.
pub fn configurable(view: &DomainView<'_>) -> bool {
    view.mesh_vpn
        .fastd
        .as_ref()
        .is_some_and(Fastd::is_configurable)
}

/// A finding about the whole method list: at the list, or where it would
/// be written.
pub fn at_methods(
    context: &LintContext<'_>,
    info: &'static CodeInfo,
    view: &DomainView<'_>,
    message: String,
) -> Diagnostic {
    match view
        .mesh_vpn
        .fastd
        .as_ref()
        .and_then(|f| f.methods_at.as_ref())
    {
        Some(at) => context.diagnostic_for(info, view, at, message),
        None => {
            let path = p!["mesh_vpn", "fastd", "methods"];
            context.diagnostic_at(info, view, None, &path, message)
        }
    }
}

fn uses_fastd(context: &LintContext<'_>) -> bool {
    context.has_package("gluon-mesh-vpn-fastd")
}

fn null_before_null_l2tp(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !uses_fastd(context) {
        return;
    }
    for view in &context.domains {
        if configurable(view) {
            continue;
        }
        let list = methods(view);
        let null = list.iter().position(|m| m.value == "null");
        let l2tp = list.iter().position(|m| m.value == "null@l2tp");
        if let (Some(null), Some(l2tp)) = (null, l2tp) {
            if null < l2tp {
                out.push(context.diagnostic_for(
                    &NULL_BEFORE_NULL_L2TP.info,
                    view,
                    &list[null].at,
                    "`null` comes before `null@l2tp`: fastd picks `null`, so the L2TP offload is never used".into(),
                ));
            }
        }
    }
}

fn null_without_null_l2tp(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !uses_fastd(context) {
        return;
    }
    for view in &context.domains {
        // With configurable = true Gluon's upgrade script puts null@l2tp in
        // front of null on the node itself.
        if configurable(view) {
            continue;
        }
        let list = methods(view);
        if list.iter().any(|m| m.value == "null@l2tp") {
            continue;
        }
        if let Some(null) = list.iter().find(|m| m.value == "null") {
            out.push(context.diagnostic_for(
                &NULL_WITHOUT_NULL_L2TP.info,
                view,
                &null.at,
                "`null` without `null@l2tp`: the newer `null@l2tp` is as unprotected and can be offloaded to the kernel".into(),
            ));
        }
    }
}

fn weaker_method_first(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !uses_fastd(context) {
        return;
    }
    let offload = context.has_package(FASTD_L2TP_PACKAGE);
    for view in &context.domains {
        if configurable(view) {
            continue;
        }
        let list = methods(view);
        // null@l2tp first with the offload in the images is the documented
        // way to get kernel forwarding: the order is the intent.
        if offload && list.first().is_some_and(|m| m.value == "null@l2tp") {
            continue;
        }
        // The first method that is weaker than one listed after it.
        for (i, method) in list.iter().enumerate() {
            let Some(level) = protection(&method.value) else {
                continue;
            };
            let stronger = list[i + 1..]
                .iter()
                .find(|later| protection(&later.value).is_some_and(|l| l > level));
            if let Some(better) = stronger {
                let effect = match level {
                    Protection::None => "unencrypted and unauthenticated",
                    _ => "unencrypted",
                };
                let (method, better) = (&method.value, &better.value);
                out.push(context.diagnostic_for(
                    &WEAKER_METHOD_FIRST.info,
                    view,
                    &list[i].at,
                    format!(
                        "`{method}` comes before `{better}`: every node uses {effect} transport whenever its gateway offers `{method}`; `{better}` is only a fallback"
                    ),
                ));
                break;
            }
        }
    }
}

fn only_null_methods(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !uses_fastd(context) {
        return;
    }
    for view in &context.domains {
        let list = methods(view);
        if list.is_empty()
            || list
                .iter()
                .any(|m| protection(&m.value) != Some(Protection::None))
        {
            continue;
        }
        let message = if configurable(view) {
            "only null methods with `configurable = true`: fresh nodes run in performance mode (null@l2tp, null), but Gluon keeps a node's own choice, and a node whose stored method list has no null method (security mode, chosen in the config mode or kept from an earlier firmware) is left without any method and does not connect"
        } else {
            "only null methods: the VPN has neither encryption nor authentication, anyone on the path can read and inject mesh traffic (a trade-off for throughput)"
        };
        let mut d = at_methods(context, &ONLY_NULL_METHODS.info, view, message.into());
        if configurable(view) {
            d.severity = Severity::Warning;
        }
        out.push(d);
    }
}

fn duplicate_method(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !uses_fastd(context) {
        return;
    }
    for view in &context.domains {
        let list = methods(view);
        for (i, method) in list.iter().enumerate() {
            if list[..i]
                .iter()
                .any(|earlier| earlier.value == method.value)
            {
                out.push(context.diagnostic_for(
                    &DUPLICATE_METHOD.info,
                    view,
                    &method.at,
                    format!("`{}` is listed twice", method.value),
                ));
            }
        }
    }
}

/// With `check --inventory`: each gateway whose `fastd_methods` leave a
/// kind of node of a domain it serves without a method in common.
fn gateway_methods_leave_nodes_out(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    let Some(inventory) = context.inventory else {
        return;
    };
    if !uses_fastd(context) {
        return;
    }
    for (name, gateway) in &inventory.gateways {
        // A domain table naming no domain is render's error; the gateway's
        // own settings apply here then.
        let gateway = gateway
            .for_site(name, context.site)
            .unwrap_or_else(|_| gateway.clone());
        for view in &context.domains {
            let Some(fastd) = view.mesh_vpn.fastd.as_ref() else {
                continue;
            };
            if fastd.peer(name).is_none() {
                continue;
            }
            let settings = gateway.resolve(view.name.unwrap_or("default"));
            if settings.fastd_methods.is_none() {
                continue;
            }
            let site_methods = fastd.method_names();
            let configurable = fastd.is_configurable();
            let offered = settings.offered_methods(&site_methods, configurable);
            let classes = node_classes(&site_methods, configurable);
            for (class, method) in negotiated(&classes, &offered) {
                if method.is_none() {
                    out.push(at_methods(
                        context,
                        &GATEWAY_METHODS_LEAVE_NODES_OUT.info,
                        view,
                        format!(
                            "gateway {} offers {} (fastd_methods in the inventory), none of the methods {} propose ({}): they cannot connect to it",
                            crate::site::inventory::shown(name),
                            offered.join(", "),
                            class.name,
                            class.proposes.join(", ")
                        ),
                    ));
                }
            }
        }
    }
}

pub static NULL_BEFORE_NULL_L2TP: Lint = Lint {
    info: CodeInfo {
        code: "GV101",
        name: "null-before-null-l2tp",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "`null` is listed before `null@l2tp` in the fastd methods.",
        explanation: "fastd uses the first method in the node's list that the gateway also \
            supports. Gluon's documentation says `null@l2tp` must come before `null` when both \
            are listed: otherwise every node and gateway agree on `null`, and the L2TP kernel \
            offload — the reason to offer unencrypted transport at all — is never used. Move \
            `null@l2tp` in front of `null`.",
    },
    example: "methods = { 'null', 'null@l2tp', 'salsa2012+umac' }",
    seen_in: &[],
    other_severities: &[],
    check: null_before_null_l2tp,
};

pub static NULL_WITHOUT_NULL_L2TP: Lint = Lint {
    info: CodeInfo {
        code: "GV102",
        name: "null-without-null-l2tp",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "The old `null` method is listed without the newer `null@l2tp`.",
        explanation: "`null@l2tp` (fastd v22 and later) is exactly as unprotected as `null`, \
            but nodes with the `mesh-vpn-fastd-l2tp` feature and gateways with `offload l2tp \
            yes;` hand its packets to the kernel, which is much faster, while the speed-up of \
            `null` over the encrypted methods is small. Gluon's documentation recommends \
            `null@l2tp` over `null`; list it before `null`.",
    },
    example: "methods = { 'null', 'salsa2012+umac' }",
    seen_in: &["ffoh@v2022.1"],
    other_severities: &[],
    check: null_without_null_l2tp,
};

pub static WEAKER_METHOD_FIRST: Lint = Lint {
    info: CodeInfo {
        code: "GV103",
        name: "weaker-method-first",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A less protected fastd method is listed before a more protected one.",
        explanation: "The first method both sides support wins. With `null` or `null@l2tp` \
            before `salsa2012+umac`, every node talks unencrypted and unauthenticated to every \
            gateway that offers the null method, and the encrypted method is only a fallback; \
            `null+salsa2012+umac` before `salsa2012+umac` likewise gives up encryption. If \
            that is the intent (throughput over privacy), the order is right; if users should \
            choose, use `configurable = true` and the web-mesh-vpn-fastd feature instead.",
    },
    example: "methods = { 'null@l2tp', 'salsa2012+umac' }",
    seen_in: &["ffoh@v2022.1"],
    other_severities: &[],
    check: weaker_method_first,
};

pub static ONLY_NULL_METHODS: Lint = Lint {
    info: CodeInfo {
        code: "GV104",
        name: "only-null-methods",
        severity: Severity::Info,
        origin: Origin::Gluonvpn,
        summary: "Every fastd method is a null method.",
        explanation: "With only `null` and `null@l2tp`, the mesh VPN has neither encryption nor \
            authentication: anyone on the path between a node and a gateway can read and inject \
            mesh traffic, and anyone can connect to the gateways that accept unknown peers. \
            Communities choose this for throughput (with the L2TP offload, forwarding in the \
            kernel), so on its own it is a note. With `configurable = true` it is a warning: \
            Gluon's upgrade script (gluon-mesh-vpn-fastd, `400-mesh-vpn-fastd`) starts fresh \
            nodes in performance mode (`null@l2tp`, `null`), but keeps the mode a node had: a \
            node whose stored method list has no null method (security mode, chosen in the \
            config mode or kept from a firmware whose site listed encrypted methods) gets the \
            site's methods without the null ones, which is none, and fastd does not start.",
    },
    example: "methods = { 'null@l2tp', 'null' }",
    seen_in: &["ffda", "ffp", "ffrn"],
    other_severities: &[(
        Severity::Warning,
        "with `configurable = true`, where nodes in security mode are left without a method",
    )],
    check: only_null_methods,
};

pub static DUPLICATE_METHOD: Lint = Lint {
    info: CodeInfo {
        code: "GV105",
        name: "duplicate-method",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A fastd method is listed twice.",
        explanation: "The second entry can never be chosen; it only hides what the list means.",
    },
    example: "methods = { 'salsa2012+umac', 'null@l2tp', 'salsa2012+umac' }",
    seen_in: &[],
    other_severities: &[],
    check: duplicate_method,
};

pub static GATEWAY_METHODS_LEAVE_NODES_OUT: Lint = Lint {
    info: CodeInfo {
        code: "GV106",
        name: "gateway-methods-leave-nodes-out",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A gateway's fastd methods in the inventory leave some nodes without a method in common.",
        explanation: "Checked with `check --inventory FILE`. fastd answers a node's handshake with \
            the first method of the node's list that the gateway supports; a node whose list \
            has none of the gateway's methods cannot connect to it. Nodes propose the site's \
            methods when fresh; on a `configurable` site the config mode makes them propose \
            the site's methods without the null ones (secure mode) or `null@l2tp`, `null` and \
            then those (performance mode; before Gluon v2022.1 `null` and then those). \
            `render gateway` offers all of them by default; an inventory's `fastd_methods` \
            replaces that list, and this warns for each kind of node it leaves out — say, \
            a gateway offering only `null@l2tp` to a site whose fresh nodes propose \
            `salsa2012+umac`. Add a method those nodes propose, or `fastd_legacy_methods`.",
    },
    example: "methods = { 'salsa2012+umac' }, configurable = true\n-- inventory.toml: [gateways.gw1] fastd_methods = [\"null@l2tp\", \"null\"]",
    seen_in: &[],
    other_severities: &[],
    check: gateway_methods_leave_nodes_out,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[
    &NULL_BEFORE_NULL_L2TP,
    &NULL_WITHOUT_NULL_L2TP,
    &WEAKER_METHOD_FIRST,
    &ONLY_NULL_METHODS,
    &DUPLICATE_METHOD,
    &GATEWAY_METHODS_LEAVE_NODES_OUT,
];

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::V2025_1;
    use crate::lints::testing::{fastd, site_conf, TestSite};

    fn site(methods: &str, more: &str) -> TestSite {
        TestSite::new(
            &site_conf(&fastd(methods, more)),
            &["mesh-batman-adv-15", "mesh-vpn-fastd"],
        )
    }

    /// GV106: only with an inventory, only for a policy that leaves some
    /// kind of node without a common method.
    #[test]
    fn an_inventory_policy_that_leaves_nodes_out() {
        use crate::check::{check, CheckOptions};
        use crate::site::inventory::Inventory;
        let s = site("'salsa2012+umac'", ", configurable = true");
        let findings = |inventory: Option<&str>| {
            let mut options = CheckOptions::new(V2025_1);
            options.inventory = inventory.map(|text| Inventory::parse(text).expect("inventory"));
            check(s.dir.path(), &options)
                .expect("check runs")
                .report
                .diagnostics
                .into_iter()
                .filter(|d| d.code() == "GV106")
                .map(|d| d.message)
                .collect::<Vec<_>>()
        };
        assert!(findings(None).is_empty());
        assert!(findings(Some("[gateways.gw1]\n")).is_empty());
        assert!(findings(Some(
            "[gateways.gw1]\nfastd_methods = [\"salsa2012+umac\"]\n"
        ))
        .is_empty());
        // a gateway the site does not name is none of its business
        assert!(findings(Some("[gateways.gw9]\nfastd_methods = [\"null\"]\n")).is_empty());
        let found = findings(Some(
            "[gateways.gw1]\nfastd_methods = [\"null@l2tp\", \"null\"]\n",
        ));
        assert_eq!(
            found,
            ["gateway \"gw1\" offers null@l2tp, null (fastd_methods in the inventory), none of the methods fresh nodes and nodes in secure mode propose (salsa2012+umac): they cannot connect to it"]
        );
        // legacy methods count
        assert!(findings(Some("[gateways.gw1]\nfastd_methods = [\"null\"]\nfastd_legacy_methods = [\"salsa2012+umac\"]\n")).is_empty());
    }

    #[test]
    fn null_must_follow_null_l2tp() {
        let bad = site("'null', 'null@l2tp', 'salsa2012+umac'", "");
        let found = bad.findings(V2025_1, "GV101");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.fastd.methods.1")
        );
        assert!(site("'null@l2tp', 'null', 'salsa2012+umac'", "")
            .findings(V2025_1, "GV101")
            .is_empty());
        // configurable: Gluon reorders the list on the node
        assert!(site(
            "'null', 'null@l2tp', 'salsa2012+umac'",
            ", configurable = true"
        )
        .findings(V2025_1, "GV101")
        .is_empty());
    }

    #[test]
    fn null_alone_suggests_null_l2tp() {
        assert_eq!(
            site("'salsa2012+umac', 'null'", "")
                .findings(V2025_1, "GV102")
                .len(),
            1
        );
        // Configurable: the node puts null@l2tp first itself
        // (400-mesh-vpn-fastd).
        assert!(site("'salsa2012+umac', 'null'", ", configurable = true")
            .findings(V2025_1, "GV102")
            .is_empty());
        assert!(site("'salsa2012+umac', 'null@l2tp', 'null'", "")
            .findings(V2025_1, "GV102")
            .is_empty());
        assert!(site("'salsa2012+umac'", "")
            .findings(V2025_1, "GV102")
            .is_empty());
    }

    #[test]
    fn weaker_methods_first_name_the_effect() {
        let found = site("'null@l2tp', 'salsa2012+umac'", "").findings(V2025_1, "GV103");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("unencrypted and unauthenticated"),
            "{}",
            found[0].message
        );
        let found = site("'null+salsa2012+umac', 'salsa2012+umac'", "").findings(V2025_1, "GV103");
        assert_eq!(found.len(), 1);
        assert!(
            site("'salsa2012+umac', 'null+salsa2012+umac', 'null@l2tp'", "")
                .findings(V2025_1, "GV103")
                .is_empty()
        );
        assert!(
            site("'null@l2tp', 'salsa2012+umac'", ", configurable = true")
                .findings(V2025_1, "GV103")
                .is_empty()
        );
        // null@l2tp first with the offload in the images is the intent
        // (docs/features/vpn.rst: "add these methods to the front").
        let offload = TestSite::new(
            &site_conf(&fastd("'null@l2tp', 'salsa2012+umac'", "")),
            &[
                "mesh-batman-adv-15",
                "mesh-vpn-fastd",
                "mesh-vpn-fastd-l2tp",
            ],
        );
        assert!(offload.findings(V2025_1, "GV103").is_empty());
        // … but not `null` first, which is never offloaded.
        let offload = TestSite::new(
            &site_conf(&fastd("'null', 'null@l2tp', 'salsa2012+umac'", "")),
            &[
                "mesh-batman-adv-15",
                "mesh-vpn-fastd",
                "mesh-vpn-fastd-l2tp",
            ],
        );
        assert_eq!(offload.findings(V2025_1, "GV103").len(), 1);
    }

    #[test]
    fn only_null_methods_and_with_configurable() {
        use crate::diagnostics::Severity;
        // A trade-off: a note.
        let found = site("'null@l2tp', 'null'", "").findings(V2025_1, "GV104");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        // Configurable: fresh nodes work (performance mode), nodes that kept
        // security mode have no method: a warning, not an error.
        let found = site("'null@l2tp'", ", configurable = true").findings(V2025_1, "GV104");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("stored method list"));
        assert!(site("'null@l2tp', 'salsa2012+umac'", "")
            .findings(V2025_1, "GV104")
            .is_empty());
    }

    #[test]
    fn duplicates() {
        assert_eq!(
            site("'salsa2012+umac', 'salsa2012+umac'", "")
                .findings(V2025_1, "GV105")
                .len(),
            1
        );
        assert!(site("'salsa2012+umac', 'null@l2tp'", "")
            .findings(V2025_1, "GV105")
            .is_empty());
    }

    #[test]
    fn sites_without_fastd_are_left_alone() {
        let wg = TestSite::new(
            &site_conf(&fastd("'null', 'null@l2tp'", "")),
            &["mesh-batman-adv-15"],
        );
        assert!(wg
            .check(V2025_1)
            .iter()
            .all(|d| !d.code().starts_with("GV10")));
    }
}
