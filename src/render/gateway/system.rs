//! What a gateway needs around the VPN daemons: systemd units that create
//! the batman-adv and WireGuard interfaces before the daemons need them
//! (with `interfaces = "hooks"`), a drop-in that runs each fastd instance
//! from the rendered file, the wireguard-vxlan-glue service, and the
//! nftables definitions of the ports the gateway serves.
//!
//! The tree is installed in `config_dir` (default `/etc/gluonvpn`); the
//! files under `systemd/system/` go to `/etc/systemd/system/`, those under
//! `systemd/network/` to `/etc/systemd/network/`.

use super::layout::{Layout, Served};
use crate::render::inventory::Interfaces;
use crate::render::{templates, Format, RenderError, Tree};

/// Where the glue binary is installed (the agents' `make install`).
pub const GLUE_BINARY: &str = "/usr/local/bin/wireguard-vxlan-glue";

/// systemd's name for the device unit of a network interface
/// (`systemd-escape --path /sys/subsystem/net/devices/NAME` + `.device`):
/// `/` becomes `-`, and what is not a letter, digit, `:`, `_` or a `.` not
/// in front becomes `\xNN`.
pub fn device_unit(interface: &str) -> String {
    let mut escaped = String::new();
    for (i, b) in interface.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b':' || b == b'_' || (b == b'.' && i > 0) {
            escaped.push(char::from(b));
        } else {
            escaped.push_str(&format!("\\x{b:02x}"));
        }
    }
    format!("sys-subsystem-net-devices-{escaped}.device")
}

fn batman_unit(batman: &str) -> String {
    format!("gluonvpn-batman-{batman}.service")
}

fn wireguard_unit(name: &str) -> String {
    format!("gluonvpn-wireguard-{name}.service")
}

/// A oneshot unit that runs `SCRIPT-up.sh` at start and `SCRIPT-down.sh` at
/// stop (the interface hooks).
fn oneshot_unit(
    tree: &mut Tree,
    header: &str,
    unit: &str,
    description: &str,
    script: &str,
    requires: &[String],
    before: &[String],
) -> Result<(), RenderError> {
    tree.file(
        format!("systemd/system/{unit}"),
        templates::render(
            "gateway/oneshot.service.j2",
            minijinja::context! {
                header,
                description,
                up => format!("{script}-up.sh"),
                down => format!("{script}-down.sh"),
                requires,
                before,
            },
        )?,
        Format::Ini,
    );
    Ok(())
}

pub fn render(
    tree: &mut Tree,
    served: &[Served<'_, '_>],
    layout: &Layout,
    header: &str,
) -> Result<(), RenderError> {
    let lead_settings = |domains: &[usize]| &served[domains[0]].settings;
    for mesh in &layout.meshes {
        let settings = lead_settings(&mesh.domains);
        if settings.interfaces == Interfaces::Hooks {
            oneshot_unit(
                tree,
                header,
                &batman_unit(&mesh.batman),
                &format!("batman-adv mesh {}", mesh.batman),
                &format!("{}/batman/{}", settings.config_dir, mesh.batman),
                &[],
                &[],
            )?;
        }
    }
    for instance in &layout.fastd {
        let settings = lead_settings(&instance.domains);
        let mesh = &layout.meshes[instance.mesh];
        let requires: Vec<String> = (settings.interfaces == Interfaces::Hooks)
            .then(|| batman_unit(&mesh.batman))
            .into_iter()
            .collect();
        tree.file(
            format!(
                "systemd/system/fastd@{}.service.d/gluonvpn.conf",
                instance.name
            ),
            templates::render(
                "gateway/fastd-dropin.conf.j2",
                minijinja::context! {
                    header,
                    config => format!("{}/fastd/{}/fastd.conf", settings.config_dir, instance.name),
                    requires,
                },
            )?,
            Format::Ini,
        );
    }
    let mut glue_after = Vec::new();
    for iface in &layout.wireguard {
        let mut requires: Vec<String> = Vec::new();
        for vx in &iface.vxlans {
            let unit = batman_unit(&vx.batman);
            if !requires.contains(&unit) {
                requires.push(unit);
            }
        }
        match iface.interfaces {
            Interfaces::Hooks => {
                oneshot_unit(
                    tree,
                    header,
                    &wireguard_unit(&iface.name),
                    &format!("WireGuard interface {} and its VXLANs", iface.name),
                    &format!("{}/wireguard/{}", iface.config_dir, iface.name),
                    &requires,
                    &["wireguard-vxlan-glue.service".to_string()],
                )?;
                glue_after.push(wireguard_unit(&iface.name));
            }
            Interfaces::SystemdNetworkd => {
                glue_after.push(device_unit(&iface.name));
                glue_after.extend(iface.vxlans.iter().map(|v| device_unit(&v.name)));
            }
        }
    }
    if let Some(first) = layout.wireguard.first() {
        tree.file(
            "systemd/system/wireguard-vxlan-glue.service",
            templates::render(
                "gateway/glue.service.j2",
                minijinja::context! {
                    header,
                    binary => GLUE_BINARY,
                    config => format!("{}/wireguard-vxlan-glue/config.json", first.config_dir),
                    after => &glue_after,
                },
            )?,
            Format::Ini,
        );
    }
    nftables(tree, layout, &served[0].settings.config_dir, header)
}

/// `nftables/gluonvpn.nft`: the UDP ports the gateway serves, and the
/// WireGuard interfaces VXLAN arrives on, as `define`s for the
/// administrator's own input chain.
fn nftables(
    tree: &mut Tree,
    layout: &Layout,
    config_dir: &str,
    header: &str,
) -> Result<(), RenderError> {
    let mut ports: Vec<(u16, String)> = Vec::new();
    for instance in &layout.fastd {
        ports.push((instance.port, format!("fastd {}", instance.name)));
    }
    for iface in &layout.wireguard {
        ports.push((iface.port, format!("WireGuard {}", iface.name)));
    }
    for broker in &layout.brokers {
        ports.push((broker.port, format!("tunneldigger {}", broker.name)));
    }
    ports.sort();
    ports.dedup_by(|a, b| a.0 == b.0);
    let wireguard: Vec<&str> = layout.wireguard.iter().map(|w| w.name.as_str()).collect();
    let text = templates::render(
        "gateway/gluonvpn.nft.j2",
        minijinja::context! {
            header,
            path => format!("{config_dir}/nftables/gluonvpn.nft"),
            ports => &ports,
            wireguard => &wireguard,
            vxlan_port => crate::render::node::VXLAN_PORT,
        },
    )?;
    tree.file("nftables/gluonvpn.nft", text, Format::Nft);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_units_are_escaped_as_systemd_does() {
        // `systemd-escape --path /sys/subsystem/net/devices/vx-nord`
        assert_eq!(
            device_unit("vx-nord"),
            "sys-subsystem-net-devices-vx\\x2dnord.device"
        );
        assert_eq!(device_unit("bat0"), "sys-subsystem-net-devices-bat0.device");
        assert_eq!(
            device_unit("wg_1.2"),
            "sys-subsystem-net-devices-wg_1.2.device"
        );
    }
}
