//! Mesh VPN providers: which of fastd, WireGuard and tunneldigger a node
//! runs.
//!
//! Gluon installs one provider per package (gluon-mesh-vpn-fastd, -wireguard,
//! -tunneldigger) and, on the node, uses the first installed provider (in
//! file name order: fastd, tunneldigger, wireguard) whose section exists in
//! the domain's configuration. A provider without its section is an error of
//! the provider's own check (its `mtu` is required).

use super::{Lint, LintContext};
use crate::diagnostics::{CodeInfo, Diagnostic, Origin, Severity};
use crate::site::mesh_vpn::Provider;
use crate::site::value::Key;

/// Whether an image's packages include the provider: Gluon's package, or a
/// site-feed package that provides it under another name
/// (`ff-mesh-vpn-tunneldigger`).
fn provides<'p>(mut packages: impl Iterator<Item = &'p str>, provider: Provider) -> bool {
    let marker = format!("mesh-vpn-{}", provider.key());
    packages.any(|p| p == provider.package() || p.contains(&marker))
}

fn section_path(provider: Provider) -> Vec<Key> {
    vec![Key::from("mesh_vpn"), Key::from(provider.key())]
}

fn several_providers_in_domain(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    for view in &context.domains {
        let active: Vec<Provider> = Provider::ALL
            .into_iter()
            .filter(|p| {
                provides(context.packages.iter().copied(), *p) && view.mesh_vpn.configures(*p)
            })
            .collect();
        if let [used, ignored @ ..] = active.as_slice() {
            for other in ignored {
                let path = section_path(*other);
                let (used, other) = (used.key(), other.key());
                out.push(context.diagnostic(
                    &SEVERAL_VPN_PROVIDERS_IN_DOMAIN.info,
                    view,
                    format!("both mesh_vpn.{used} and mesh_vpn.{other} are configured and their packages installed: nodes use {used} and ignore {other}"),
                    context.locate(view, &path),
                    &path,
                ));
            }
        }
    }
}

fn section_without_provider(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if !context.selection_known {
        return;
    }
    for provider in Provider::ALL {
        if provides(context.packages.iter().copied(), provider) {
            continue;
        }
        let (section, package) = (provider.key(), provider.package());
        // One finding per provider, at the first domain that configures it,
        // naming every domain: the same leftover repeated in each domain
        // file is one mistake.
        let path = section_path(provider);
        let mut configured = context
            .domains
            .iter()
            .filter(|v| v.mesh_vpn.configures(provider));
        let Some(first) = configured.next() else {
            continue;
        };
        let mut d = context.diagnostic(
            &VPN_SECTION_WITHOUT_PROVIDER.info,
            first,
            format!("mesh_vpn.{section} is configured, but no image contains {package}: the section is ignored"),
            context.locate(first, &path),
            &path,
        );
        for view in configured {
            if let Some(name) = view.name {
                d = d.with_domain(name);
            }
        }
        out.push(d);
    }
}

fn several_providers_in_image(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    let mut reported = std::collections::BTreeSet::new();
    for image in &context.site.images {
        let installed: Vec<&str> = Provider::ALL
            .into_iter()
            .filter(|p| provides(image.packages.iter().map(String::as_str), *p))
            .map(Provider::key)
            .collect();
        if installed.len() > 1 && reported.insert(installed.clone()) {
            let file = context
                .site
                .sources
                .find_name("image-customization.lua")
                .or(context.site.site_mk_file);
            out.push(Diagnostic::new(
                &SEVERAL_VPN_PROVIDERS_IN_IMAGE.info,
                format!(
                    "images carry {} mesh VPN providers ({}): each domain uses only one, the others cost flash",
                    installed.len(),
                    installed.join(", ")
                ),
                file.map(crate::source::Span::file_start),
            ));
        }
    }
}

pub static SEVERAL_VPN_PROVIDERS_IN_DOMAIN: Lint = Lint {
    info: CodeInfo {
        code: "GV171",
        name: "several-vpn-providers-in-domain",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A domain configures more than one installed mesh VPN provider.",
        explanation: "On the node, Gluon takes the first installed provider, in the order \
            fastd, tunneldigger, wireguard, whose section exists in the domain's configuration, \
            and ignores the others. A domain that configures two of them therefore only ever \
            uses the first; during a migration, give each domain only the section of the \
            provider it should use.",
    },
    example: "mesh_vpn = { fastd = { ... }, wireguard = { ... } }",
    seen_in: &["ffa@v2022.1"],
    other_severities: &[],
    check: several_providers_in_domain,
};

pub static VPN_SECTION_WITHOUT_PROVIDER: Lint = Lint {
    info: CodeInfo {
        code: "GV172",
        name: "vpn-section-without-provider",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "A mesh VPN section is configured for a provider that no image contains.",
        explanation: "`mesh_vpn.fastd`, `mesh_vpn.wireguard` and `mesh_vpn.tunneldigger` are \
            read only by their provider's package. Without the matching feature \
            (mesh-vpn-fastd, mesh-vpn-wireguard, mesh-vpn-tunneldigger) the section is ignored \
            — often a leftover of a migration, or a feature missing from \
            image-customization.lua.",
    },
    example: "mesh_vpn = { fastd = { ... } }\n-- image-customization.lua: features { 'mesh-vpn-wireguard' }",
    seen_in: &["ffh-wg"],
    other_severities: &[],
    check: section_without_provider,
};

pub static SEVERAL_VPN_PROVIDERS_IN_IMAGE: Lint = Lint {
    info: CodeInfo {
        code: "GV173",
        name: "several-vpn-providers-in-image",
        severity: Severity::Info,
        origin: Origin::Gluonvpn,
        summary: "Images contain more than one mesh VPN provider.",
        explanation: "Each domain uses one provider; the others only take flash, which small \
            devices lack. Carrying two providers is right while domains migrate from one to the \
            other; otherwise select only the one in use.",
    },
    example: "features { 'mesh-vpn-fastd', 'mesh-vpn-wireguard' }",
    seen_in: &["ffa@v2022.1"],
    other_severities: &[],
    check: several_providers_in_image,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[
    &SEVERAL_VPN_PROVIDERS_IN_DOMAIN,
    &VPN_SECTION_WITHOUT_PROVIDER,
    &SEVERAL_VPN_PROVIDERS_IN_IMAGE,
];

#[cfg(test)]
mod tests {
    use crate::gluon_version::GluonVersion::V2025_1;
    use crate::lints::testing::{fastd, site_conf, TestSite};

    fn both_sections() -> String {
        let key = format!("{}A=", "A".repeat(42));
        format!(
            "  mesh_vpn = {{ fastd = {{ mtu = 1312, methods = {{ 'salsa2012+umac' }}, groups = {{}} }}, wireguard = {{ mtu = 1370, peers = {{ gw1 = {{ public_key = '{key}', endpoint = 'gw1.example.org:51820' }} }} }} }},"
        )
    }

    #[test]
    fn two_configured_providers_in_a_domain() {
        let site = TestSite::new(
            &site_conf(&both_sections()),
            &["mesh-batman-adv-15", "mesh-vpn-fastd", "mesh-vpn-wireguard"],
        );
        let found = site.findings(V2025_1, "GV171");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].config_path.as_deref(), Some("mesh_vpn.wireguard"));
        assert_eq!(site.findings(V2025_1, "GV173").len(), 1);
    }

    #[test]
    fn a_section_without_its_provider_is_ignored() {
        let site = TestSite::new(
            &site_conf(&both_sections()),
            &["mesh-batman-adv-15", "mesh-vpn-fastd"],
        );
        let found = site.findings(V2025_1, "GV172");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].config_path.as_deref(), Some("mesh_vpn.wireguard"));
        assert!(site.findings(V2025_1, "GV171").is_empty());
        let fastd_only = TestSite::new(
            &site_conf(&fastd("'salsa2012+umac'", "")),
            &["mesh-batman-adv-15", "mesh-vpn-fastd"],
        );
        assert!(fastd_only.findings(V2025_1, "GV172").is_empty());
        assert!(fastd_only.findings(V2025_1, "GV173").is_empty());
    }
}
