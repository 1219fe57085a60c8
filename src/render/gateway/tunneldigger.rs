//! A gateway's tunneldigger brokers: `broker.cfg` and the session hooks
//! that put each L2TP session into the mesh's batman-adv interface.

use super::layout::{Broker, Layout, Served};
use crate::render::{templates, Format, RenderError, Tree};
use crate::site::value::lua_number_to_string;

/// The tunnels of one broker: `max_tunnels` in the template.
const MAX_TUNNELS: u32 = 1024;

// Each broker's tunnel IDs start 100,000 above the previous one's.
const _: () = assert!(MAX_TUNNELS < 100_000);

pub fn render(
    tree: &mut Tree,
    served: &[Served<'_, '_>],
    layout: &Layout,
    broker: &Broker,
    header: &str,
) -> Result<(), RenderError> {
    let lead = &served[broker.domains[0]];
    let settings = &lead.settings;
    let config = lead
        .broker
        .as_ref()
        .expect("a broker serves tunneldigger")
        .config;
    let instance = &broker.name;
    let batman = &layout.meshes[broker.mesh].batman;
    let tunnel_id_base = 100 + broker.index * 100_000;
    let mtu = config.mtu.as_ref().map(|m| lua_number_to_string(m.value));
    let dir = format!("{}/tunneldigger/{instance}", settings.config_dir);
    let ctx = minijinja::context! {
        header, instance, port => broker.port, address => &broker.address,
        uplink => &settings.uplink, mtu, batman, dir,
        tunnel_id_base, max_tunnels => MAX_TUNNELS,
    };
    tree.file(
        format!("tunneldigger/{instance}/broker.cfg"),
        templates::render("gateway/broker.cfg.j2", &ctx)?,
        Format::Ini,
    );
    for (file, up) in [("session-up.sh", true), ("session-down.sh", false)] {
        tree.file(
            format!("tunneldigger/{instance}/{file}"),
            templates::render(
                "gateway/td-session.sh.j2",
                minijinja::context! { header, up, mtu, batman },
            )?,
            Format::Shell,
        );
    }
    Ok(())
}
