//! A gateway's fastd instances, and the methods they offer.
//!
//! fastd answers a node's handshake with the first method *in the node's
//! list* that it supports itself, so the gateway's order decides nothing
//! for nodes; what matters is which methods it has. By default a gateway
//! offers every method a node of the site may propose
//! ([`default_gateway_methods`](crate::site::mesh_vpn::methods::default_gateway_methods)):
//! the site's list, and on `configurable` sites what performance mode
//! proposes — `null@l2tp` and `null` since Gluon v2022.1
//! (gluon-web-mesh-vpn-fastd), `null` before. `fastd_methods` in the
//! inventory replaces that list (a community that serves no unencrypted
//! connections), `fastd_legacy_methods` adds to it; the notes say which
//! kind of node then negotiates what, or cannot connect.

use super::layout::{FastdInstance, Layout, Served};
use crate::render::inventory::{Interfaces, Peers, Resolved};
use crate::render::{invalid, templates, Format, RenderError, Tree};
use crate::site::mesh_vpn::methods::{negotiated, node_classes};
use crate::site::mesh_vpn::Fastd;

/// The methods the gateway offers in a domain (policy, then legacy
/// methods), with notes where the policy changes what nodes negotiate.
pub fn offered_methods(
    tree: &mut Tree,
    label: &str,
    config: &Fastd,
    settings: &Resolved,
) -> Vec<String> {
    let site_methods = config.method_names();
    let configurable = config.is_configurable();
    let methods = settings.offered_methods(&site_methods, configurable);
    if settings.fastd_methods.is_some() {
        let classes = node_classes(&site_methods, configurable);
        for (class, method) in negotiated(&classes, &methods) {
            let first = class.proposes.first().map(String::as_str);
            match method {
                None => tree.note(format!(
                    "warning: {label}{} propose {} and this gateway offers none of them (fastd_methods): they cannot connect",
                    class.name,
                    class.proposes.join(", ")
                )),
                Some(m) if Some(m) != first => tree.note(format!(
                    "{label}{} propose {} first; this gateway does not offer it (fastd_methods), so they use {m}",
                    class.name,
                    first.unwrap_or("nothing")
                )),
                Some(_) => {}
            }
        }
    }
    if settings.offload && !methods.iter().any(|m| m == "null@l2tp") {
        tree.note(format!(
            "{label}offload is on, but no method is null@l2tp: no connection will be offloaded"
        ));
    }
    methods
}

/// A static peer as the template writes it.
#[derive(serde::Serialize)]
struct PeerCtx {
    name: String,
    key: String,
    remotes: Vec<String>,
}

/// A remote in fastd's syntax, rebuilt from what the inventory's text
/// parsed to (so nothing but host, port and family reaches the file).
fn remote_statement(text: &str) -> Result<String, RenderError> {
    use crate::site::mesh_vpn::address::{fastd_syntax, Family, Host};
    let endpoint = fastd_syntax(text)
        .map_err(|e| invalid(format!("fastd_static_peers: remote `{text}` {e}")))?;
    let family = match endpoint.family {
        Some(Family::Ipv4) => "ipv4 ",
        Some(Family::Ipv6) => "ipv6 ",
        None => "",
    };
    let host = match &endpoint.host {
        Host::Name(name) => crate::templates::fastd_string(name),
        Host::Address {
            ip: std::net::IpAddr::V4(ip),
            ..
        } => ip.to_string(),
        Host::Address { ip, zone: None } => format!("[{ip}]"),
        Host::Address {
            ip,
            zone: Some(zone),
        } => format!("[{ip}%{zone}]"),
    };
    Ok(format!("{family}{host} port {}", endpoint.port))
}

/// `on verify`: the command as one shell line (literal words are of
/// characters a shell does not act on; fastd's variables are quoted).
fn verify_command(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if w.starts_with('$') {
                format!("\"{w}\"")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn render(
    tree: &mut Tree,
    served: &[Served<'_, '_>],
    layout: &Layout,
    instance: &FastdInstance,
    header: &str,
) -> Result<(), RenderError> {
    let lead = &served[instance.domains[0]];
    let settings = &lead.settings;
    let config = lead.fastd.as_ref().expect("a fastd instance serves fastd");
    let mesh = &layout.meshes[instance.mesh];
    let domains: Vec<&str> = instance
        .domains
        .iter()
        .map(|&i| served[i].code.as_str())
        .collect();
    let binds: Vec<String> = instance
        .binds
        .iter()
        .map(|b| format!("{b}:{}", instance.port))
        .collect();
    let secret_file = settings
        .fastd_secret
        .clone()
        .unwrap_or_else(|| format!("/etc/fastd/{}/secret.conf", instance.name));
    let peers_dir = match settings.peers {
        Peers::Any => None,
        Peers::Directory => Some(
            settings
                .peers_dir
                .clone()
                .unwrap_or_else(|| format!("/etc/fastd/{}/peers", instance.name)),
        ),
    };
    let static_peers = if instance.extra.is_none() {
        settings
            .fastd_static_peers
            .iter()
            .map(|p| {
                Ok(PeerCtx {
                    name: p.name.clone(),
                    key: p.key.to_ascii_lowercase(),
                    remotes: p
                        .remotes
                        .iter()
                        .map(|r| remote_statement(r))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, RenderError>>()?
    } else {
        Vec::new()
    };
    let offload = settings.offload && instance.interface.contains('%');
    let hooks = settings.interfaces == Interfaces::Hooks;
    let site_methods = config.config.method_names();
    let text = templates::render(
        "gateway/fastd.conf.j2",
        minijinja::context! {
            header,
            instance => &instance.name,
            domains => &domains,
            extra => instance.extra.as_ref().map(|e| &e.name),
            policy => settings.fastd_methods.is_some(),
            site_methods => &site_methods,
            configurable => config.config.is_configurable(),
            methods => &instance.methods,
            mtu => &instance.mtu,
            secret_file => &secret_file,
            binds => &binds,
            log_level => &settings.log_level,
            hide_ip => settings.fastd_hide_ip_addresses,
            hide_mac => settings.fastd_hide_mac_addresses,
            peer_limit => settings.fastd_peer_limit,
            on_verify => settings.fastd_on_verify.as_deref().map(verify_command),
            offload,
            interface => &instance.interface,
            batman => &mesh.batman,
            hooks,
            peers_dir => &peers_dir,
            static_peers => &static_peers,
        },
    )?;
    tree.file(
        format!("fastd/{}/fastd.conf", instance.name),
        text,
        Format::Fastd,
    );
    if !hooks {
        let matched = instance.interface.replace("%k", "*").replace("%n", "*");
        tree.file(
            format!("systemd/network/50-{}-fastd.network", instance.name),
            templates::render(
                "gateway/fastd-peers.network.j2",
                minijinja::context! {
                    header,
                    instance => &instance.name,
                    matched,
                    batman => &mesh.batman,
                    offload,
                },
            )?,
            Format::Ini,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn remotes_are_rebuilt() {
        assert_eq!(
            remote_statement("\"sn01.example.org\" port 10010").unwrap(),
            "\"sn01.example.org\" port 10010"
        );
        assert_eq!(
            remote_statement("ipv6 \"gw\" port 1").unwrap(),
            "ipv6 \"gw\" port 1"
        );
        assert_eq!(
            remote_statement("192.0.2.1:10000").unwrap(),
            "192.0.2.1 port 10000"
        );
        assert_eq!(
            remote_statement("[2001:db8::1]:10000").unwrap(),
            "[2001:db8::1] port 10000"
        );
        assert!(remote_statement("gw port 1; on up \"id\"").is_err());
    }

    #[test]
    fn verify_commands_quote_variables() {
        assert_eq!(
            verify_command(&v(&["/usr/local/bin/fastd-limiter", "verify", "$PEER_KEY"])),
            "/usr/local/bin/fastd-limiter verify \"$PEER_KEY\""
        );
    }
}
