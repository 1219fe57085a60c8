//! One file per Gluon package with a check_site.lua: that package's checks,
//! for every Gluon release gluonvpn models (differences between releases are
//! written where they happen, as `c.version()` conditions).

pub mod gluon_authorized_keys;
pub mod gluon_autoupdater;
pub mod gluon_client_bridge;
pub mod gluon_config_mode_contact_info;
pub mod gluon_config_mode_domain_select;
pub mod gluon_config_mode_geo_location;
pub mod gluon_config_mode_geo_location_osm;
pub mod gluon_config_mode_hostname;
pub mod gluon_core;
pub mod gluon_ebtables;
pub mod gluon_hoodselector;
pub mod gluon_l3roamd;
pub mod gluon_logging;
pub mod gluon_mesh_babel;
pub mod gluon_mesh_batman_adv_15;
pub mod gluon_mesh_batman_adv_brmldproxy;
pub mod gluon_mesh_layer3_common;
pub mod gluon_mesh_olsrd;
pub mod gluon_mesh_vpn_core;
pub mod gluon_mesh_vpn_fastd;
pub mod gluon_mesh_vpn_tunneldigger;
pub mod gluon_mesh_vpn_wireguard;
pub mod gluon_mesh_wireless_sae;
pub mod gluon_node_info;
pub mod gluon_radv_filterd;
pub mod gluon_radvd;
pub mod gluon_scheduled_domain_switch;
pub mod gluon_setup_mode;
pub mod gluon_web_admin;
pub mod gluon_web_mesh_vpn_fastd;
pub mod gluon_web_node_role;
