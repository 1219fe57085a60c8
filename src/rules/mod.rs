//! Gluon's own site checks: the validator vocabulary and, per package, the
//! checks of its check_site.lua.

pub mod codes;
pub mod explore;
pub mod lua_pattern;
pub mod packages;
#[cfg(test)]
pub mod testing;
pub mod vocabulary;

use crate::gluon_version::GluonVersion;
use vocabulary::Checker;

/// The checks of one Gluon package.
pub struct PackageRules {
    pub package: &'static str,
    /// One line: what the package's check covers.
    pub summary: &'static str,
    /// The releases in which the package exists with a check_site.lua.
    pub versions: &'static [GluonVersion],
    pub check: fn(&mut Checker<'_>),
}

use GluonVersion::*;

/// Every package's checks, in one place.
pub static PACKAGES: &[PackageRules] = &[
    PackageRules {
        package: "gluon-authorized-keys",
        summary: packages::gluon_authorized_keys::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_authorized_keys::check,
    },
    PackageRules {
        package: "gluon-autoupdater",
        summary: packages::gluon_autoupdater::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_autoupdater::check,
    },
    PackageRules {
        package: "gluon-client-bridge",
        summary: packages::gluon_client_bridge::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_client_bridge::check,
    },
    PackageRules {
        package: "gluon-config-mode-contact-info",
        summary: packages::gluon_config_mode_contact_info::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_config_mode_contact_info::check,
    },
    PackageRules {
        package: "gluon-config-mode-domain-select",
        summary: packages::gluon_config_mode_domain_select::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_config_mode_domain_select::check,
    },
    PackageRules {
        package: "gluon-config-mode-geo-location",
        summary: packages::gluon_config_mode_geo_location::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_config_mode_geo_location::check,
    },
    PackageRules {
        package: "gluon-config-mode-geo-location-osm",
        summary: packages::gluon_config_mode_geo_location_osm::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_config_mode_geo_location_osm::check,
    },
    PackageRules {
        package: "gluon-config-mode-hostname",
        summary: packages::gluon_config_mode_hostname::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_config_mode_hostname::check,
    },
    PackageRules {
        package: "gluon-core",
        summary: packages::gluon_core::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_core::check,
    },
    PackageRules {
        package: "gluon-ebtables",
        summary: packages::gluon_ebtables::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_ebtables::check,
    },
    PackageRules {
        package: "gluon-hoodselector",
        summary: packages::gluon_hoodselector::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_hoodselector::check,
    },
    PackageRules {
        package: "gluon-l3roamd",
        summary: packages::gluon_l3roamd::SUMMARY,
        versions: &[V2022_1],
        check: packages::gluon_l3roamd::check,
    },
    PackageRules {
        package: "gluon-logging",
        summary: packages::gluon_logging::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_logging::check,
    },
    PackageRules {
        package: "gluon-mesh-babel",
        summary: packages::gluon_mesh_babel::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2],
        check: packages::gluon_mesh_babel::check,
    },
    PackageRules {
        package: "gluon-mesh-batman-adv-15",
        summary: packages::gluon_mesh_batman_adv_15::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_mesh_batman_adv_15::check,
    },
    PackageRules {
        package: "gluon-mesh-batman-adv-brmldproxy",
        summary: packages::gluon_mesh_batman_adv_brmldproxy::SUMMARY,
        versions: &[V2025_1],
        check: packages::gluon_mesh_batman_adv_brmldproxy::check,
    },
    PackageRules {
        package: "gluon-mesh-layer3-common",
        summary: packages::gluon_mesh_layer3_common::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_mesh_layer3_common::check,
    },
    PackageRules {
        package: "gluon-mesh-olsrd",
        summary: packages::gluon_mesh_olsrd::SUMMARY,
        versions: &[V2023_1, V2023_2, V2025_1],
        check: packages::gluon_mesh_olsrd::check,
    },
    PackageRules {
        package: "gluon-mesh-vpn-core",
        summary: packages::gluon_mesh_vpn_core::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_mesh_vpn_core::check,
    },
    PackageRules {
        package: "gluon-mesh-vpn-fastd",
        summary: packages::gluon_mesh_vpn_fastd::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_mesh_vpn_fastd::check,
    },
    PackageRules {
        package: "gluon-mesh-vpn-tunneldigger",
        summary: packages::gluon_mesh_vpn_tunneldigger::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2],
        check: packages::gluon_mesh_vpn_tunneldigger::check,
    },
    PackageRules {
        package: "gluon-mesh-vpn-wireguard",
        summary: packages::gluon_mesh_vpn_wireguard::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_mesh_vpn_wireguard::check,
    },
    PackageRules {
        package: "gluon-mesh-wireless-sae",
        summary: packages::gluon_mesh_wireless_sae::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_mesh_wireless_sae::check,
    },
    PackageRules {
        package: "gluon-node-info",
        summary: packages::gluon_node_info::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_node_info::check,
    },
    PackageRules {
        package: "gluon-radv-filterd",
        summary: packages::gluon_radv_filterd::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_radv_filterd::check,
    },
    PackageRules {
        package: "gluon-radvd",
        summary: packages::gluon_radvd::SUMMARY,
        versions: &[V2025_1],
        check: packages::gluon_radvd::check,
    },
    PackageRules {
        package: "gluon-scheduled-domain-switch",
        summary: packages::gluon_scheduled_domain_switch::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_scheduled_domain_switch::check,
    },
    PackageRules {
        package: "gluon-setup-mode",
        summary: packages::gluon_setup_mode::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_setup_mode::check,
    },
    PackageRules {
        package: "gluon-web-admin",
        summary: packages::gluon_web_admin::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_web_admin::check,
    },
    PackageRules {
        package: "gluon-web-mesh-vpn-fastd",
        summary: packages::gluon_web_mesh_vpn_fastd::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_web_mesh_vpn_fastd::check,
    },
    PackageRules {
        package: "gluon-web-node-role",
        summary: packages::gluon_web_node_role::SUMMARY,
        versions: &[V2022_1, V2023_1, V2023_2, V2025_1],
        check: packages::gluon_web_node_role::check,
    },
];

/// The checks a package runs in a release, if it has any there.
pub fn for_package(package: &str, version: GluonVersion) -> Option<&'static PackageRules> {
    PACKAGES
        .iter()
        .find(|r| r.package == package && r.versions.contains(&version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry has checks for exactly the packages that ship a
    /// check_site.lua in each release (from the extracted Gluon data).
    #[test]
    fn registry_matches_gluons_packages() {
        for version in GluonVersion::ALL {
            let data = crate::gluon_data::embedded(version.label()).expect("data");
            let mut expected: Vec<&str> = data
                .packages
                .iter()
                .filter(|p| p.check_site)
                .map(|p| p.name.as_str())
                .collect();
            expected.sort_unstable();
            let mut registered: Vec<&str> = PACKAGES
                .iter()
                .filter(|r| r.versions.contains(&version))
                .map(|r| r.package)
                .collect();
            registered.sort_unstable();
            assert_eq!(registered, expected, "{version}");
        }
    }
}
