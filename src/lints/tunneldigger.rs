//! Tunneldigger: deprecated in Gluon v2023.2, removed in v2025.1, and
//! without IPv6.
//!
//! Gluon v2023.2's release notes deprecate Tunneldigger ("set to be removed
//! from the Gluon base repository in the next major Gluon release. It is
//! recommended to migrate to fastd or WireGuard"); v2025.1 dropped
//! gluon-mesh-vpn-tunneldigger (Gluon PR #3109) and the package lives on in
//! the community-packages feed as `ff-mesh-vpn-tunneldigger`, which a site
//! selects as a package (not as the `mesh-vpn-tunneldigger` feature). The
//! broker lint applies to both packages: they share the broker list
//! `mesh_vpn.tunneldigger.brokers`.

use super::{DomainView, Lint, LintContext};
use crate::diagnostics::{CodeInfo, Diagnostic, Origin, Severity};
use crate::gluon_version::GluonVersion;
use crate::site::mesh_vpn::address::AddressError;
use crate::site::mesh_vpn::Address;
use crate::source::Span;

/// Gluon's package, up to v2023.2.
const GLUON_PACKAGE: &str = "gluon-mesh-vpn-tunneldigger";

/// Whether an image has Gluon's Tunneldigger package or a feed package
/// built from it (`ff-mesh-vpn-tunneldigger`).
fn has_tunneldigger(context: &LintContext<'_>) -> bool {
    context
        .packages
        .iter()
        .any(|p| p.ends_with("mesh-vpn-tunneldigger"))
}

fn tunneldigger_domains<'c, 'a>(context: &'c LintContext<'a>) -> Vec<&'c DomainView<'a>> {
    if !has_tunneldigger(context) {
        return Vec::new();
    }
    context.domains_with_table(&["mesh_vpn", "tunneldigger"])
}

/// Where the site selects Tunneldigger: the package or the feature name in
/// image-customization.lua (or site.mk), standing on its own.
fn selection_span(context: &LintContext<'_>) -> Option<Span> {
    let sources = &context.site.sources;
    let files: Vec<_> = ["image-customization.lua", "site.mk"]
        .iter()
        .filter_map(|n| sources.find_name(n))
        .collect();
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    for word in [GLUON_PACKAGE, "mesh-vpn-tunneldigger"] {
        for &file in &files {
            let text = &sources.get(file).text;
            let found = text.match_indices(word).find(|(i, _)| {
                !text[..*i].chars().next_back().is_some_and(is_name)
                    && !text[i + word.len()..].chars().next().is_some_and(is_name)
            });
            if let Some((i, _)) = found {
                return Some(Span::new(file, i, i + word.len()));
            }
        }
    }
    None
}

fn removed(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if context.version < GluonVersion::V2025_1 || !context.has_package(GLUON_PACKAGE) {
        return;
    }
    let feeds = &context.site.site_feeds;
    let (message, severity) = if feeds.is_empty() {
        (
            format!(
                "Gluon {} no longer has Tunneldigger: nothing defines {GLUON_PACKAGE} and the build stops; migrate to fastd or WireGuard, or add the community-packages feed and select its `ff-mesh-vpn-tunneldigger` package instead of the feature",
                context.version
            ),
            Severity::Error,
        )
    } else {
        (
            format!(
                "Gluon {} no longer has Tunneldigger: the build stops unless one of the site's feeds ({}) defines {GLUON_PACKAGE}; the community-packages feed calls it `ff-mesh-vpn-tunneldigger`, selected as a package instead of the feature",
                context.version,
                feeds.join(" ")
            ),
            Severity::Warning,
        )
    };
    let mut d = Diagnostic::new(&TUNNELDIGGER_REMOVED.info, message, selection_span(context));
    d.severity = severity;
    out.push(d);
}

fn deprecated(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if context.version != GluonVersion::V2023_2 || !context.has_package(GLUON_PACKAGE) {
        return;
    }
    out.push(Diagnostic::new(
        &TUNNELDIGGER_DEPRECATED.info,
        format!(
            "Tunneldigger is deprecated in Gluon {} and removed in v2025.1: migrate to fastd or WireGuard, or to the community package `ff-mesh-vpn-tunneldigger`",
            context.version
        ),
        selection_span(context),
    ));
}

/// The brokers of the domains that configure Tunneldigger, where an image
/// carries it.
fn brokers<'c, 'a>(context: &'c LintContext<'a>) -> Vec<(&'c DomainView<'a>, &'c Address)> {
    tunneldigger_domains(context)
        .into_iter()
        .filter_map(|view| Some((view, view.mesh_vpn.tunneldigger.as_ref()?)))
        .flat_map(|(view, td)| td.brokers.iter().map(move |b| (view, b)))
        .collect()
}

fn ipv6_broker(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, broker) in brokers(context) {
        if !matches!(broker.endpoint, Err(AddressError::Ipv6(_))) {
            continue;
        }
        out.push(context.diagnostic_for(
            &TUNNELDIGGER_IPV6_BROKER.info,
            view,
            &broker.at,
            format!(
                "broker `{}` is an IPv6 address, but Tunneldigger has no IPv6 support: nodes can never reach this broker",
                broker.text
            ),
        ));
    }
}

fn invalid_broker(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for (view, broker) in brokers(context) {
        let Err(AddressError::Invalid(problem)) = &broker.endpoint else {
            continue;
        };
        out.push(context.diagnostic_for(
            &INVALID_TUNNELDIGGER_BROKER.info,
            view,
            &broker.at,
            format!(
                "broker `{}` {problem}: the node's tunneldigger cannot use it",
                broker.text
            ),
        ));
    }
}

pub static TUNNELDIGGER_REMOVED: Lint = Lint {
    info: CodeInfo {
        code: "GV160",
        name: "tunneldigger-removed",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary:
            "The site selects Gluon's Tunneldigger package, which Gluon v2025.1 no longer has.",
        explanation: "Gluon v2025.1 dropped gluon-mesh-vpn-tunneldigger (\"Tunneldigger Mesh VPN \
            support has been dropped\", after its deprecation in v2023.2). The \
            `mesh-vpn-tunneldigger` feature now names a package nothing defines, and the build \
            stops with \"unable to enable package\". The package lives on in the \
            community-packages feed as `ff-mesh-vpn-tunneldigger`: add that feed to `modules`, \
            drop the feature and select `packages { 'ff-mesh-vpn-tunneldigger' }` (plus the \
            `config-mode-mesh-vpn` feature for the config mode) — or migrate to fastd or \
            WireGuard, as Gluon recommends. When the site has feeds, one of them might still \
            define the old name, so this is a warning then.",
    },
    example: "features { 'mesh-batman-adv-15', 'mesh-vpn-tunneldigger' }",
    seen_in: &[],
    other_severities: &[(
        Severity::Warning,
        "when the site has feeds, one of which may still define the package",
    )],
    check: removed,
};

pub static TUNNELDIGGER_DEPRECATED: Lint = Lint {
    info: CodeInfo {
        code: "GV161",
        name: "tunneldigger-deprecated",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "Gluon's Tunneldigger package is deprecated in v2023.2.",
        explanation: "Gluon v2023.2's release notes: \"Tunneldigger is set to be removed from the \
            Gluon base repository in the next major Gluon release. It is recommended to migrate \
            to fastd or WireGuard.\" v2025.1 removed it. Communities that keep Tunneldigger use \
            the community package `ff-mesh-vpn-tunneldigger` from the community-packages feed \
            instead of the `mesh-vpn-tunneldigger` feature.",
    },
    example: "features { 'mesh-batman-adv-15', 'mesh-vpn-tunneldigger' }",
    seen_in: &[],
    other_severities: &[],
    check: deprecated,
};

pub static TUNNELDIGGER_IPV6_BROKER: Lint = Lint {
    info: CodeInfo {
        code: "GV162",
        name: "tunneldigger-ipv6-broker",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "A Tunneldigger broker is given as an IPv6 address.",
        explanation: "Gluon's documentation names the lack of IPv6 support as Tunneldigger's \
            primary drawback: nodes reach brokers over IPv4 only, so a broker written as an IPv6 \
            address (`[2001:db8::1]:8942`) is never reachable. Use the broker's IPv4 address or \
            a host name with an A record. Whether a host name resolves to an IPv4 address cannot \
            be known offline; the online probe (`--online`) checks that.",
    },
    example: "brokers = { '[2001:db8::1]:8942' }",
    seen_in: &[],
    other_severities: &[],
    check: ipv6_broker,
};

pub static INVALID_TUNNELDIGGER_BROKER: Lint = Lint {
    info: CodeInfo {
        code: "GV163",
        name: "invalid-tunneldigger-broker",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "A Tunneldigger broker is not in the `host:port` form the client reads.",
        explanation: "Gluon hands each entry of `mesh_vpn.tunneldigger.brokers` to the \
            tunneldigger client as `-b`, which splits it at the first colon into a host and a \
            port and resolves the host for IPv4. An entry without `:port`, with a port that is \
            not a number from 1 to 65535, or with a host that is neither an IPv4 address nor a \
            host name is a broker the node never reaches; Gluon's check only asks for strings. \
            Write `broker.example.org:20004` or `192.0.2.1:20004`.",
    },
    example: "brokers = { 'broker.example.org' }",
    seen_in: &[],
    other_severities: &[],
    check: invalid_broker,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[
    &TUNNELDIGGER_REMOVED,
    &TUNNELDIGGER_DEPRECATED,
    &TUNNELDIGGER_IPV6_BROKER,
    &INVALID_TUNNELDIGGER_BROKER,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gluon_version::GluonVersion::*;
    use crate::lints::testing::{domain_conf, multidomain_site_conf, site_conf, TestSite};

    fn conf(brokers: &str) -> String {
        site_conf(&format!(
            "  mesh_vpn = {{ tunneldigger = {{ mtu = 1312, brokers = {{ {brokers} }} }} }},"
        ))
    }

    const FEATURES: &[&str] = &["mesh-batman-adv-15", "mesh-vpn-tunneldigger"];

    #[test]
    fn removed_in_v2025_1() {
        let site = TestSite::new(&conf("'td.example.org:8942'"), FEATURES);
        let found = site.findings(V2025_1, "GV160");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("ff-mesh-vpn-tunneldigger"));
        let span = found[0].span.expect("span");
        let text =
            std::fs::read_to_string(site.dir.path().join("image-customization.lua")).expect("read");
        assert_eq!(
            &text[span.start as usize..span.end as usize],
            "mesh-vpn-tunneldigger"
        );
        for version in [V2022_1, V2023_1, V2023_2] {
            assert!(site.findings(version, "GV160").is_empty(), "{version}");
        }
    }

    #[test]
    fn removed_but_a_feed_may_have_it() {
        let site = TestSite::new(&conf("'td.example.org:8942'"), FEATURES);
        site.write(
            "modules",
            "GLUON_SITE_FEEDS='tdfeed'\nPACKAGES_TDFEED_REPO=https://example.org/td.git\n",
        );
        let found = site.findings(V2025_1, "GV160");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0].message.contains("(tdfeed)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn the_community_package_is_neither_removed_nor_deprecated() {
        let site = TestSite::new(&conf("'td.example.org:8942'"), &["mesh-batman-adv-15"]);
        site.write(
            "image-customization.lua",
            "features { 'mesh-batman-adv-15' }\npackages { 'ff-mesh-vpn-tunneldigger' }\n",
        );
        site.write("modules", "GLUON_SITE_FEEDS='community'\n");
        for version in [V2023_2, V2025_1] {
            assert!(site.findings(version, "GV160").is_empty());
            assert!(site.findings(version, "GV161").is_empty());
        }
        // Its brokers are still checked.
        let site = TestSite::new(&conf("'[2001:db8::1]:8942'"), &["mesh-batman-adv-15"]);
        site.write(
            "image-customization.lua",
            "packages { 'ff-mesh-vpn-tunneldigger' }\n",
        );
        site.write("modules", "GLUON_SITE_FEEDS='community'\n");
        assert_eq!(site.findings(V2025_1, "GV162").len(), 1);
    }

    #[test]
    fn deprecated_in_v2023_2() {
        let site = TestSite::legacy(&conf("'td.example.org:8942'"), FEATURES);
        let found = site.findings(V2023_2, "GV161");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("deprecated in Gluon v2023.2"));
        for version in [V2022_1, V2023_1, V2025_1] {
            assert!(site.findings(version, "GV161").is_empty(), "{version}");
        }
    }

    #[test]
    fn ipv6_brokers() {
        let site = TestSite::legacy(
            &conf("'td1.example.org:8942', '[2001:db8::1]:8942'"),
            FEATURES,
        );
        for version in [V2022_1, V2023_1, V2023_2] {
            let found = site.findings(version, "GV162");
            assert_eq!(found.len(), 1, "{version}");
            assert_eq!(
                found[0].config_path.as_deref(),
                Some("mesh_vpn.tunneldigger.brokers.2")
            );
            assert!(found[0].message.contains("`[2001:db8::1]:8942`"));
            assert!(site.findings(version, "GV163").is_empty(), "one finding");
        }
    }

    #[test]
    fn brokers_the_client_cannot_read() {
        let site = TestSite::legacy(
            &conf("'td1.example.org:8942', 'td2.example.org', 'td3.example.org:x'"),
            FEATURES,
        );
        let found = site.findings(V2023_2, "GV163");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.tunneldigger.brokers.2")
        );
        assert!(found[0]
            .message
            .contains("`td2.example.org` has no `:port`"));
        assert!(found[1].message.contains("`x` as port"));
        assert!(TestSite::legacy(&conf("'td1.example.org:8942'"), FEATURES)
            .findings(V2023_2, "GV163")
            .is_empty());
    }

    #[test]
    fn brokers_are_per_domain() {
        let site_conf =
            multidomain_site_conf("one", "  mesh_vpn = { tunneldigger = { mtu = 1312 } },");
        let domain = |code: &str, n: u8, broker: &str| {
            domain_conf(
                code,
                n,
                &format!("  mesh_vpn = {{ tunneldigger = {{ brokers = {{ '{broker}' }} }} }},"),
            )
        };
        let site = TestSite::multidomain(
            &site_conf,
            FEATURES,
            &[
                ("one", &domain("one", 1, "td.example.org:8942")),
                ("two", &domain("two", 2, "[2001:db8::2]:8942")),
            ],
        );
        site.write(
            "site.mk",
            "GLUON_RELEASE := 1.0\nGLUON_MULTIDOMAIN := 1\nGLUON_FEATURES := mesh-batman-adv-15 mesh-vpn-tunneldigger\n",
        );
        let found = site.findings(V2022_1, "GV162");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].domains, ["two"]);
    }

    #[test]
    fn sites_without_tunneldigger_are_left_alone() {
        let site = TestSite::new(&conf("'[2001:db8::1]:8942'"), &["mesh-batman-adv-15"]);
        assert!(site
            .check(V2025_1)
            .iter()
            .all(|d| !d.code().starts_with("GV16")));
    }
}
