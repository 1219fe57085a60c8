//! Each mesh's batman-adv interface: routing algorithm from the site,
//! gateway mode (Gluon nodes are gateway clients: they send their clients'
//! DHCP requests only to a gateway in server mode), bandwidth, hop penalty
//! and OGM interval from the inventory — as a systemd-networkd `.netdev`
//! (`[BatmanAdvanced]`), or as scripts with `ip` and `batctl` when the
//! inventory says `interfaces = "hooks"`.

use super::layout::{Mesh, Served};
use crate::render::inventory::{rules::Bandwidth, Interfaces};
use crate::render::{templates, Format, RenderError, Tree};

/// The batman-adv settings as both kinds of file write them.
#[derive(serde::Serialize)]
struct BatmanCtx<'a> {
    name: &'a str,
    /// `batman-iv` / `batman-v` (systemd-networkd).
    algo: &'a str,
    /// `BATMAN_IV` / `BATMAN_V` (iproute2, batctl).
    algo_kernel: &'static str,
    gw_mode: &'static str,
    /// batctl's `DOWN/UP`.
    bandwidth: Option<String>,
    bandwidth_down: Option<String>,
    bandwidth_up: Option<String>,
    hop_penalty: Option<u8>,
    ogm_interval: Option<u32>,
    bridge: Option<&'a str>,
}

pub fn render(
    tree: &mut Tree,
    served: &[Served<'_, '_>],
    mesh: &Mesh,
    header: &str,
) -> Result<(), RenderError> {
    let settings = &served[mesh.domains[0]].settings;
    let bandwidth = settings.batman_gateway_bandwidth;
    let ctx = BatmanCtx {
        name: &mesh.batman,
        algo: mesh.routing_algo,
        algo_kernel: if mesh.routing_algo == "batman-v" {
            "BATMAN_V"
        } else {
            "BATMAN_IV"
        },
        gw_mode: settings.batman_gateway_mode.word(),
        bandwidth: bandwidth.map(|b| b.batctl()),
        bandwidth_down: bandwidth.map(|b| Bandwidth::networkd(b.down_kbit)),
        bandwidth_up: bandwidth.map(|b| Bandwidth::networkd(b.up_kbit)),
        hop_penalty: settings.batman_hop_penalty,
        ogm_interval: settings.batman_ogm_interval,
        bridge: settings.bridge.as_deref(),
    };
    let batman = &mesh.batman;
    // Named in comments where the site has domains.
    let domains: Vec<&str> = mesh
        .domains
        .iter()
        .filter(|&&i| served[i].plan.name().is_some())
        .map(|&i| served[i].code.as_str())
        .collect();
    let context = minijinja::context! { header, bat => &ctx, domains => &domains };
    match settings.interfaces {
        Interfaces::SystemdNetworkd => {
            tree.file(
                format!("systemd/network/30-{batman}.netdev"),
                templates::render("gateway/batman.netdev.j2", &context)?,
                Format::Ini,
            );
            if ctx.bridge.is_some() {
                tree.file(
                    format!("systemd/network/30-{batman}.network"),
                    templates::render("gateway/batman.network.j2", &context)?,
                    Format::Ini,
                );
            }
        }
        Interfaces::Hooks => {
            for (file, up) in [("up", true), ("down", false)] {
                tree.file(
                    format!("batman/{batman}-{file}.sh"),
                    templates::render(
                        "gateway/batman.sh.j2",
                        minijinja::context! { header, bat => &ctx, domains => &domains, up },
                    )?,
                    Format::Shell,
                );
            }
        }
    }
    Ok(())
}
