//! The mesh VPN's MTU: what fits into the uplink, and what the mesh can
//! carry without fragmenting.
//!
//! In every Gluon release the site's `mtu` becomes the MTU of the node's
//! `mesh_vpn` interface (gluon-mesh-vpn-core, upgrade script `500-mesh-vpn`),
//! which is batman-adv's hard interface: fastd's TAP device, Tunneldigger's
//! L2TP device, or for WireGuard the VXLAN device `mesh-vpn` on top of
//! `wg_mesh`. What the value means for WireGuard's own interface changed:
//! up to v2023.2, `wg_mesh` gets no MTU and keeps the kernel's default
//! (1420); from v2025.1 on (Gluon PR #3258, "fixed setting MTU configured in
//! site.conf"), `wg_mesh` is `mtu + 70`, room for the VXLAN frame over IPv6
//! (gluon-mesh-vpn-wireguard, upgrade script `400-mesh-vpn-wireguard`).
//! Gluon's docs/user/mtu.rst still calls 1376 the recommended WireGuard
//! value; it took the site's mtu for the WireGuard interface's.

use super::{DomainView, Lint, LintContext};
use crate::diagnostics::{CodeInfo, Diagnostic, Origin, Severity};
use crate::gluon_version::GluonVersion;
use crate::site::mesh_vpn::address::{Endpoint, Family};
use crate::site::mesh_vpn::{Location, Provider};

/// Header sizes in bytes, as docs/user/mtu.rst lists them ("VPN Protocol
/// Overhead (IPv4)" and "Intermediate Layer Overhead"), and the sizes they
/// add up to.
pub mod overhead {
    /// The outer IPv4 header.
    pub const IPV4: u32 = 20;
    /// An IPv6 header: the outer one over IPv6 uplinks, and the one VXLAN
    /// uses inside WireGuard (to `fe80::1`).
    pub const IPV6: u32 = 40;
    pub const UDP: u32 = 8;
    /// fastd's packet header and authentication tag (mtu.rst: 24).
    pub const FASTD: u32 = 24;
    /// Tunneldigger's L2TPv3 header (mtu.rst: 8).
    pub const L2TP: u32 = 8;
    /// WireGuard's data message header and authentication tag (mtu.rst: 32).
    pub const WIREGUARD: u32 = 32;
    /// The VXLAN header.
    pub const VXLAN: u32 = 8;
    /// The Ethernet header of each tunnelled frame (mtu.rst's "TAP" and
    /// "Ethernet").
    pub const ETHERNET: u32 = 14;
    /// batman-adv v15's unicast header (mtu.rst: "Batman v15", 18).
    pub const BATMAN_ADV: u32 = 18;

    /// From the mesh VPN interface's MTU to the outer IPv4 packet, fastd:
    /// IPv4, UDP, fastd, TAP (mtu.rst: 66).
    pub const FASTD_IPV4: u32 = IPV4 + UDP + FASTD + ETHERNET;
    /// The same for Tunneldigger: IPv4, UDP, L2TPv3, Ethernet (mtu.rst: 50),
    /// and for fastd's `null@l2tp`, which the kernel carries as L2TPv3
    /// (docs/features/vpn.rst: 82 with the mesh's 32).
    pub const TUNNELDIGGER_IPV4: u32 = IPV4 + UDP + L2TP + ETHERNET;
    pub const NULL_L2TP_IPV4: u32 = TUNNELDIGGER_IPV4;
    /// From `wg_mesh`'s MTU to the outer IPv4 packet: IPv4, UDP, WireGuard
    /// (mtu.rst: 60).
    pub const WIREGUARD_IPV4: u32 = IPV4 + UDP + WIREGUARD;
    /// What VXLAN over IPv6 adds to a mesh frame inside WireGuard: IPv6,
    /// UDP, VXLAN, Ethernet — the 70 Gluon v2025.1 adds to the site's mtu
    /// for `wg_mesh`.
    pub const VXLAN_IPV6: u32 = IPV6 + UDP + VXLAN + ETHERNET;
    /// What batman-adv adds to a packet of the client network: its header
    /// and the client frame's Ethernet header (mtu.rst: 32).
    pub const MESH: u32 = BATMAN_ADV + ETHERNET;
    /// Over an IPv6 uplink the outer header is this much larger.
    pub const IPV6_EXTRA: u32 = IPV6 - IPV4;
}

/// Link sizes in bytes.
pub mod link {
    /// IPv6's minimum link MTU (RFC 8200): every IPv6 link must carry
    /// 1280-byte packets, and Linux turns IPv6 off on an interface below it.
    pub const IPV6_MINIMUM: u32 = 1280;
    /// The MTU Linux gives a new WireGuard interface (1500 minus the 80
    /// bytes of IPv6, UDP and WireGuard): `wg_mesh` up to Gluon v2023.2.
    pub const WIREGUARD_DEFAULT: u32 = 1420;
    /// The uplinks mtu.rst reasons about, largest first: plain Ethernet,
    /// PPPoE (DSL), and DS-Lite's IPv4 tunnel (mtu.rst: 1436, its worst
    /// case).
    pub const UPLINKS: [(&str, u32); 3] = [("Ethernet", 1500), ("PPPoE", 1492), ("DS-Lite", 1436)];
}

/// Whether the images carry the provider: Gluon's package, or for
/// Tunneldigger also the community feed's ff-mesh-vpn-tunneldigger.
fn in_images(provider: Provider, context: &LintContext<'_>) -> bool {
    match provider {
        Provider::Tunneldigger => context
            .packages
            .iter()
            .any(|p| p.ends_with("mesh-vpn-tunneldigger")),
        _ => context.has_package(provider.package()),
    }
}

/// A domain's VPN MTU.
struct VpnMtu<'v> {
    protocol: Provider,
    mtu: u32,
    at: &'v Location,
}

/// The MTUs of the VPNs that are in the images and configured in a domain.
fn mtus<'v>(context: &LintContext<'_>, view: &'v DomainView<'_>) -> Vec<VpnMtu<'v>> {
    Provider::ALL
        .into_iter()
        .filter(|p| in_images(*p, context))
        .filter_map(|protocol| {
            let mtu = view.mesh_vpn.mtu(protocol)?;
            let n = mtu.value;
            // Gluon's check wants a number; fractions and nonsense are for
            // Gluon's own message or the node to reject.
            if n.fract() != 0.0 || !(1.0..=65535.0).contains(&n) {
                return None;
            }
            Some(VpnMtu {
                protocol,
                mtu: n as u32,
                at: &mtu.at,
            })
        })
        .collect()
}

/// How a domain's VPN packets travel: what the tunnel adds to the mtu over
/// IPv4, and whether nodes may reach a gateway over IPv6 (20 bytes more).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tunnel {
    overhead_ipv4: u32,
    ipv6: bool,
}

impl Tunnel {
    /// The domain's tunnel for `protocol`; `None` where the site's mtu does
    /// not decide the outer packets (WireGuard before v2025.1: `wg_mesh`
    /// keeps 1420).
    fn of(protocol: Provider, view: &DomainView<'_>, version: GluonVersion) -> Option<Tunnel> {
        let vpn = &view.mesh_vpn;
        match protocol {
            Provider::Fastd => {
                let fastd = vpn.fastd.as_ref()?;
                // The largest of the methods a node may use with some gateway:
                // null@l2tp travels as L2TPv3, the others in fastd's own frames.
                let only_l2tp = !fastd.methods.is_empty()
                    && fastd.methods.iter().all(|m| m.value == "null@l2tp");
                let remotes = fastd
                    .all_peers()
                    .into_iter()
                    .flat_map(|(_, p)| p.remotes.iter().flat_map(|r| r.value.iter()))
                    .filter_map(|r| r.endpoint.as_ref().ok())
                    .collect::<Vec<_>>();
                Some(Tunnel {
                    overhead_ipv4: if only_l2tp {
                        overhead::NULL_L2TP_IPV4
                    } else {
                        overhead::FASTD_IPV4
                    },
                    ipv6: remotes.is_empty() || remotes.iter().any(|e| may_use_ipv6(e)),
                })
            }
            // tunneldigger's client resolves brokers for IPv4 only.
            Provider::Tunneldigger => Some(Tunnel {
                overhead_ipv4: overhead::TUNNELDIGGER_IPV4,
                ipv6: false,
            }),
            Provider::WireGuard if version >= GluonVersion::V2025_1 => {
                let endpoints = vpn.wireguard.as_ref().map(|w| {
                    w.peers
                        .iter()
                        .filter_map(|p| p.endpoint.as_ref()?.endpoint.as_ref().ok())
                        .collect::<Vec<_>>()
                });
                let endpoints = endpoints.unwrap_or_default();
                Some(Tunnel {
                    overhead_ipv4: overhead::VXLAN_IPV6 + overhead::WIREGUARD_IPV4,
                    ipv6: endpoints.is_empty() || endpoints.iter().any(|e| may_use_ipv6(e)),
                })
            }
            Provider::WireGuard => None,
        }
    }

    fn outer_ipv4(self, mtu: u32) -> u32 {
        mtu + self.overhead_ipv4
    }

    /// The outer packet over IPv6, where nodes may use it.
    fn outer_ipv6(self, mtu: u32) -> Option<u32> {
        self.ipv6
            .then_some(mtu + self.overhead_ipv4 + overhead::IPV6_EXTRA)
    }

    /// The largest mtu whose packets fit a link of `size` bytes over every
    /// family nodes may use.
    fn fitting_mtu(self, size: u32) -> u32 {
        let extra = if self.ipv6 { overhead::IPV6_EXTRA } else { 0 };
        size.saturating_sub(self.overhead_ipv4 + extra)
    }
}

/// Whether a node may reach this endpoint over IPv6: an IPv6 address, or a
/// name not pinned to IPv4 (it may have AAAA records).
fn may_use_ipv6(endpoint: &Endpoint) -> bool {
    match (endpoint.family, endpoint.literal()) {
        (Some(family), _) => family == Family::Ipv6,
        (None, Some(ip)) => ip.is_ipv6(),
        (None, None) => true,
    }
}

fn below_ipv6_minimum(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    // The 32 bytes are batman-adv's; other routing protocols carry IPv6
    // directly.
    if !context.has_package("gluon-mesh-batman-adv-15") {
        return;
    }
    let needed = link::IPV6_MINIMUM + overhead::MESH;
    for view in &context.domains {
        for vpn in mtus(context, view) {
            if vpn.mtu >= needed {
                continue;
            }
            let (severity, note) = if vpn.protocol == Provider::WireGuard {
                (
                    Severity::Info,
                    "; Gluon's documentation accepts this for WireGuard so that the packets fit DS-Lite",
                )
            } else {
                (Severity::Warning, "")
            };
            let mut d = context.diagnostic_for(
                &VPN_MTU_BELOW_IPV6_MINIMUM.info,
                view,
                vpn.at,
                format!(
                    "{} mtu {} leaves {} bytes for packets in the mesh (batman-adv adds {}): batman-adv fragments every packet of IPv6's minimum size {} and up; {needed} carries them whole{note}",
                    vpn.protocol.name(),
                    vpn.mtu,
                    vpn.mtu.saturating_sub(overhead::MESH),
                    overhead::MESH,
                    link::IPV6_MINIMUM,
                ),
            );
            d.severity = severity;
            out.push(d);
        }
    }
}

fn exceeds_uplinks(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    let version = context.version;
    let (ethernet, pppoe, ds_lite) = (link::UPLINKS[0].1, link::UPLINKS[1].1, link::UPLINKS[2].1);
    for view in &context.domains {
        for vpn in mtus(context, view) {
            let Some(tunnel) = Tunnel::of(vpn.protocol, view, version) else {
                continue;
            };
            let (v4, v6) = (tunnel.outer_ipv4(vpn.mtu), tunnel.outer_ipv6(vpn.mtu));
            let larger = |size: u32| v4 > size || v6.is_some_and(|v6| v6 > size);
            let (effect, severity) = if v4 > ethernet {
                (
                    format!("larger than {ethernet}-byte Ethernet, so fragmented on every uplink"),
                    Severity::Error,
                )
            } else if larger(ethernet) {
                (
                    format!("over IPv6 larger than {ethernet}-byte Ethernet, so fragmented on every uplink of a node that reaches its gateway over IPv6"),
                    Severity::Error,
                )
            } else if larger(pppoe) {
                let ds = if v4 > ds_lite {
                    format!(" and DS-Lite ({ds_lite})")
                } else {
                    String::new()
                };
                (
                    format!("fragmented on PPPoE ({pppoe}){ds} uplinks"),
                    Severity::Warning,
                )
            } else if v4 > ds_lite {
                if tunnel.ipv6 {
                    (
                        format!("fragmented on DS-Lite ({ds_lite}) uplinks when nodes there use IPv4 (over IPv6 they reach the gateways natively)"),
                        Severity::Info,
                    )
                } else {
                    (
                        format!("fragmented on DS-Lite ({ds_lite}) uplinks: the site reaches its gateways over IPv4 only, so nodes behind DS-Lite use its IPv4 tunnel"),
                        Severity::Warning,
                    )
                }
            } else {
                continue;
            };
            let interface = if vpn.protocol == Provider::WireGuard {
                format!(" wg_mesh {} and", vpn.mtu + overhead::VXLAN_IPV6)
            } else {
                String::new()
            };
            let over_ipv6 = v6
                .map(|v6| format!(" ({v6} over IPv6)"))
                .unwrap_or_default();
            let l2tp = if vpn.protocol == Provider::Fastd
                && tunnel.overhead_ipv4 == overhead::NULL_L2TP_IPV4
            {
                " (null@l2tp, as L2TPv3)"
            } else {
                ""
            };
            let fits: Vec<String> = link::UPLINKS
                .iter()
                .filter_map(|&(name, size)| {
                    let mtu = if size == ds_lite {
                        Tunnel {
                            ipv6: false,
                            ..tunnel
                        }
                        .fitting_mtu(size)
                    } else {
                        tunnel.fitting_mtu(size)
                    };
                    (mtu < vpn.mtu).then(|| format!("{mtu} fits {name}"))
                })
                .collect();
            let mut d = context.diagnostic_for(
                &VPN_PACKETS_EXCEED_UPLINK_MTU.info,
                view,
                vpn.at,
                format!(
                    "{} mtu {} makes{interface} outer IPv4 packets of {v4} bytes{l2tp}{over_ipv6}: {effect} ({})",
                    vpn.protocol.name(),
                    vpn.mtu,
                    fits.join(", "),
                ),
            );
            d.severity = severity;
            out.push(d);
        }
    }
}

fn exceeds_default_wireguard_mtu(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if context.version >= GluonVersion::V2025_1 {
        return;
    }
    let largest = link::WIREGUARD_DEFAULT - overhead::VXLAN_IPV6;
    for view in &context.domains {
        for vpn in mtus(context, view) {
            if vpn.protocol != Provider::WireGuard || vpn.mtu <= largest {
                continue;
            }
            let next = vpn.mtu + overhead::VXLAN_IPV6 + overhead::WIREGUARD_IPV4;
            out.push(context.diagnostic_for(
                &WIREGUARD_MTU_EXCEEDS_WG_INTERFACE.info,
                view,
                vpn.at,
                format!(
                    "WireGuard mtu {} is the VXLAN interface's in Gluon {}: its packets of up to {} bytes exceed wg_mesh's default MTU of {}, so large mesh frames do not fit into the tunnel and are fragmented or lost ({largest} or less fits); from v2025.1 on wg_mesh is mtu + {} and this mtu makes outer IPv4 packets of {next} bytes",
                    vpn.mtu,
                    context.version,
                    vpn.mtu + overhead::VXLAN_IPV6,
                    link::WIREGUARD_DEFAULT,
                    overhead::VXLAN_IPV6,
                ),
            ));
        }
    }
}

fn wireguard_below_ipv6_minimum(context: &LintContext<'_>, out: &mut Vec<Diagnostic>) {
    if context.version < GluonVersion::V2025_1 {
        return;
    }
    for view in &context.domains {
        for vpn in mtus(context, view) {
            let wg_mesh = vpn.mtu + overhead::VXLAN_IPV6;
            if vpn.protocol != Provider::WireGuard || wg_mesh >= link::IPV6_MINIMUM {
                continue;
            }
            out.push(context.diagnostic_for(
                &WIREGUARD_INTERFACE_BELOW_IPV6_MINIMUM.info,
                view,
                vpn.at,
                format!(
                    "WireGuard mtu {} makes wg_mesh {wg_mesh}, below IPv6's minimum MTU of {}: Linux turns IPv6 off on it, and the VXLAN to the gateway runs over IPv6, so the mesh VPN carries nothing ({} is the least that works)",
                    vpn.mtu,
                    link::IPV6_MINIMUM,
                    link::IPV6_MINIMUM - overhead::VXLAN_IPV6,
                ),
            ));
        }
    }
}

pub static VPN_MTU_BELOW_IPV6_MINIMUM: Lint = Lint {
    info: CodeInfo {
        code: "GV180",
        name: "vpn-mtu-below-ipv6-minimum",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "The mesh VPN's mtu is too small to carry 1280-byte IPv6 packets unfragmented.",
        explanation: "The site's `mtu` is the MTU of batman-adv's interface over the VPN; \
            batman-adv v15 adds 18 bytes and the client frame's Ethernet header 14. Gluon's \
            documentation (docs/user/mtu.rst): allow for IPv6's minimum MTU of 1280 bytes, so \
            the lowest recommended value is 1280 + 32 = 1312 — below it batman-adv fragments \
            every packet of 1280 bytes and more, which costs throughput on small routers. For \
            WireGuard from v2025.1 on, a value this low is the price of fitting DS-Lite uplinks, \
            which the documentation accepts (\"batman-adv will fragment larger packets \
            transparently\"); that is a note.",
    },
    example: "fastd = { mtu = 1280, … }",
    seen_in: &["ffhb"],
    other_severities: &[(
        Severity::Info,
        "for WireGuard, where Gluon's documentation accepts it to fit DS-Lite",
    )],
    check: below_ipv6_minimum,
};

pub static VPN_PACKETS_EXCEED_UPLINK_MTU: Lint = Lint {
    info: CodeInfo {
        code: "GV181",
        name: "vpn-packets-exceed-uplink-mtu",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "Full-size mesh VPN packets are larger than common uplinks carry.",
        explanation: "Each VPN packet carries a mesh frame of up to `mtu` bytes plus the \
            tunnel's headers (docs/user/mtu.rst, docs/features/vpn.rst): fastd adds 66 bytes \
            over IPv4 (IPv4 20, UDP 8, fastd 24, TAP 14), but `null@l2tp` travels as L2TPv3 and \
            adds 50, like Tunneldigger (a site whose only method is `null@l2tp` counts 50; with \
            any other method nodes may fall back to, 66); WireGuard from Gluon v2025.1 on adds \
            130 — `wg_mesh` is `mtu + 70` (VXLAN over IPv6) and WireGuard over IPv4 adds 60. \
            Over IPv6 the outer header is 20 bytes larger; nodes may use IPv6 unless every \
            remote or endpoint is an IPv4 address or pinned to `ipv4` (Tunneldigger is IPv4 \
            only). Packets larger than the uplink are fragmented, which costs throughput, and \
            some networks drop fragments. Plain Ethernet carries 1500 bytes, PPPoE (most DSL \
            lines) 1492, DS-Lite's IPv4 tunnel 1436 (its IPv6 is native). An error when the \
            packets exceed 1500 bytes over IPv4, or over IPv6 where nodes may use it (every \
            uplink fragments); a warning above PPPoE's 1492, or above DS-Lite's 1436 when the \
            site reaches its gateways over IPv4 only; a note when only DS-Lite's IPv4 tunnel is \
            too small and its nodes may reach the gateways over IPv6. Up to v2023.2 a WireGuard \
            site's mtu does not change the outer packets (`wg_mesh` keeps 1420); the docs' 1376 \
            assumed it does, and is too large from v2025.1 on: 1370 fits Ethernet, 1362 PPPoE, \
            1306 DS-Lite over IPv4 (20 less each where IPv6 may be used).",
    },
    example: "wireguard = { mtu = 1376, … } -- 1506-byte packets at v2025.1",
    seen_in: &["ffh-wg", "ff3l", "ffmwu"],
    other_severities: &[
        (
            Severity::Error,
            "when the packets exceed 1500 bytes (over IPv6 too, where nodes may use it)",
        ),
        (
            Severity::Info,
            "when only DS-Lite's IPv4 tunnel is too small and nodes there may use IPv6",
        ),
    ],
    check: exceeds_uplinks,
};

pub static WIREGUARD_MTU_EXCEEDS_WG_INTERFACE: Lint = Lint {
    info: CodeInfo {
        code: "GV182",
        name: "wireguard-mtu-exceeds-wg-interface",
        severity: Severity::Warning,
        origin: Origin::Gluonvpn,
        summary: "Up to v2023.2, the WireGuard mtu makes VXLAN packets larger than wg_mesh carries.",
        explanation: "Up to Gluon v2023.2 the site's WireGuard `mtu` only sets the VXLAN \
            interface (`mesh-vpn`); the WireGuard interface `wg_mesh` keeps Linux's default MTU \
            of 1420. VXLAN over IPv6 adds 70 bytes, so with an mtu above 1350 full-size mesh \
            frames no longer fit into `wg_mesh`: the kernel has to fragment the VXLAN packets \
            or drops them (Gluon PR #3258 found this while debugging a fragmentation problem). From v2025.1 on Gluon sets \
            `wg_mesh` to mtu + 70; the message says what the same value does there.",
    },
    example: "wireguard = { mtu = 1406, … } -- up to v2023.2",
    seen_in: &["ffh-wg@v2023.2"],
    other_severities: &[],
    check: exceeds_default_wireguard_mtu,
};

pub static WIREGUARD_INTERFACE_BELOW_IPV6_MINIMUM: Lint = Lint {
    info: CodeInfo {
        code: "GV183",
        name: "wireguard-interface-below-ipv6-minimum",
        severity: Severity::Error,
        origin: Origin::Gluonvpn,
        summary: "From v2025.1, the WireGuard mtu makes wg_mesh smaller than IPv6 allows.",
        explanation: "From Gluon v2025.1 on, `wg_mesh` gets the site's mtu + 70. The VXLAN that \
            carries the mesh runs over IPv6 on that interface (to `fe80::1`), and Linux turns \
            IPv6 off on an interface whose MTU is below 1280, IPv6's minimum. With an mtu below \
            1210 the mesh VPN carries nothing.",
    },
    example: "wireguard = { mtu = 1200, … }",
    seen_in: &[],
    other_severities: &[],
    check: wireguard_below_ipv6_minimum,
};

/// The family's lints, in code order.
pub static LINTS: &[&Lint] = &[
    &VPN_MTU_BELOW_IPV6_MINIMUM,
    &VPN_PACKETS_EXCEED_UPLINK_MTU,
    &WIREGUARD_MTU_EXCEEDS_WG_INTERFACE,
    &WIREGUARD_INTERFACE_BELOW_IPV6_MINIMUM,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gluon_version::GluonVersion::*;
    use crate::lints::testing::{fastd, site_conf, wg_key, wg_peer, wireguard, TestSite};

    #[test]
    fn the_overheads_add_up_as_gluon_documents_them() {
        assert_eq!(overhead::FASTD_IPV4, 66);
        assert_eq!(overhead::TUNNELDIGGER_IPV4, 50);
        assert_eq!(overhead::WIREGUARD_IPV4, 60);
        assert_eq!(overhead::VXLAN_IPV6, 70);
        assert_eq!(overhead::MESH, 32);
        // mtu.rst's WireGuard "intermediate layer overhead": 102.
        assert_eq!(overhead::VXLAN_IPV6 + overhead::MESH, 102);
        // GLUON-FACTS: ≤ 1370 fits 1500, ≤ 1362 PPPoE, ≤ 1306 DS-Lite
        // (WireGuard over IPv4).
        let wireguard = Tunnel {
            overhead_ipv4: overhead::VXLAN_IPV6 + overhead::WIREGUARD_IPV4,
            ipv6: false,
        };
        let fits: Vec<u32> = link::UPLINKS
            .iter()
            .map(|(_, size)| wireguard.fitting_mtu(*size))
            .collect();
        assert_eq!(fits, [1370, 1362, 1306]);
        // mtu.rst's fastd MTU_HIGH for DS-Lite: 1370.
        let fastd = Tunnel {
            overhead_ipv4: overhead::FASTD_IPV4,
            ipv6: false,
        };
        assert_eq!(fastd.fitting_mtu(1436), 1370);
        // vpn.rst: null@l2tp and Tunneldigger 82 with the mesh's 32.
        assert_eq!(overhead::NULL_L2TP_IPV4 + overhead::MESH, 82);
        assert_eq!(overhead::FASTD_IPV4 + overhead::MESH, 98);
    }

    fn fastd_site(mtu: u32) -> TestSite {
        let conf = site_conf(&fastd("'salsa2012+umac'", ""))
            .replace("mtu = 1312", &format!("mtu = {mtu}"));
        TestSite::new(&conf, &["mesh-batman-adv-15", "mesh-vpn-fastd"])
    }

    fn wg_site(mtu: u32, version: crate::gluon_version::GluonVersion) -> TestSite {
        let peers = wg_peer("gw1", &wg_key(1), "gw1.example.org:51820");
        let conf = site_conf(&format!(
            "ntp_servers = {{ 'pool.ntp.org' }},\n{}",
            wireguard(&peers, &format!(", mtu = {mtu}"))
        ));
        let features = ["mesh-batman-adv-15", "mesh-vpn-wireguard"];
        if version < V2023_2 {
            TestSite::legacy(&conf, &features)
        } else {
            TestSite::new(&conf, &features)
        }
    }

    #[test]
    fn fastd_below_1312_fragments_ipv6_minimum_packets() {
        let found = fastd_site(1280).findings(V2025_1, "GV180");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].config_path.as_deref(), Some("mesh_vpn.fastd.mtu"));
        assert!(found[0]
            .message
            .contains("fastd mtu 1280 leaves 1248 bytes"));
        assert!(found[0].message.contains("1312 carries them whole"));
        assert!(fastd_site(1312).findings(V2025_1, "GV180").is_empty());
        // Without batman-adv there is no such overhead.
        let conf = site_conf(&fastd("'salsa2012+umac'", "")).replace("mtu = 1312", "mtu = 1280");
        let babel = TestSite::new(&conf, &["mesh-vpn-fastd"]);
        assert!(babel.findings(V2025_1, "GV180").is_empty());
    }

    #[test]
    fn fastd_packets_against_uplinks() {
        // 1312 + 66 = 1378 (1398 over IPv6): fits everything.
        assert!(fastd_site(1312).findings(V2025_1, "GV181").is_empty());
        // 1406 + 66 = 1472 (1492 over IPv6): DS-Lite's IPv4 tunnel only,
        // and nodes there reach IPv6 gateways natively: a note.
        let found = fastd_site(1406).findings(V2025_1, "GV181");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(found[0]
            .message
            .contains("fastd mtu 1406 makes outer IPv4 packets of 1472 bytes (1492 over IPv6): fragmented on DS-Lite (1436) uplinks when nodes there use IPv4"),
            "{}", found[0].message);
        assert!(found[0].message.contains("(1370 fits DS-Lite)"));
        // 1426 + 66 = 1492 fits PPPoE over IPv4, but over IPv6 it is 1512:
        // every uplink of a node using IPv6 fragments.
        let found = fastd_site(1426).findings(V2025_1, "GV181");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0]
            .message
            .contains("over IPv6 larger than 1500-byte Ethernet"));
        assert!(found[0]
            .message
            .contains("1414 fits Ethernet, 1406 fits PPPoE, 1370 fits DS-Lite"));
        // 1440 + 66 = 1506: every uplink.
        let found = fastd_site(1440).findings(V2025_1, "GV181");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("fragmented on every uplink"));
    }

    /// A fastd site whose one gateway has these remotes and methods.
    fn fastd_site_with(mtu: u32, methods: &str, remotes: &str) -> TestSite {
        let conf = site_conf(&fastd(methods, ""))
            .replace("mtu = 1312", &format!("mtu = {mtu}"))
            .replace("'\"gw1.example.org\" port 10000'", remotes);
        TestSite::new(&conf, &["mesh-batman-adv-15", "mesh-vpn-fastd"])
    }

    #[test]
    fn null_l2tp_travels_as_l2tp() {
        // docs/features/vpn.rst: null@l2tp 82 bytes with the mesh's 32, so
        // 1426 + 50 = 1476 over IPv4, 1496 over IPv6: only PPPoE over IPv6
        // is too small.
        let remote = "'\"gw1.example.org\" port 10000'";
        let only = fastd_site_with(1426, "'null@l2tp'", remote).findings(V2025_1, "GV181");
        assert_eq!(only.len(), 1, "{only:#?}");
        assert_eq!(only[0].severity, Severity::Warning);
        assert!(
            only[0]
                .message
                .contains("1476 bytes (null@l2tp, as L2TPv3) (1496 over IPv6)"),
            "{}",
            only[0].message
        );
        // With an encrypted method nodes may fall back to, fastd's frames
        // count: an error.
        let mixed = fastd_site_with(1426, "'null@l2tp', 'salsa2012+umac'", remote)
            .findings(V2025_1, "GV181");
        assert_eq!(mixed[0].severity, Severity::Error);
        // 1406 + 50 + 20 = 1476: fits everything but DS-Lite's IPv4 tunnel
        // (1456 > 1436), a note.
        let fits = fastd_site_with(1370, "'null@l2tp'", remote).findings(V2025_1, "GV181");
        assert!(fits.is_empty(), "{fits:#?}");
    }

    #[test]
    fn ipv4_only_remotes_keep_ds_lite_on_its_tunnel() {
        // 1406 + 66 = 1472: with every remote pinned to IPv4 nodes behind
        // DS-Lite go through its 1436-byte IPv4 tunnel: a warning; and no
        // IPv6 figures.
        for remotes in [
            "'ipv4 \"gw1.example.org\" port 10000'",
            "'192.0.2.1:10000', 'ipv4 \"gw1.example.org\" port 10000'",
        ] {
            let found =
                fastd_site_with(1406, "'salsa2012+umac'", remotes).findings(V2025_1, "GV181");
            assert_eq!(found.len(), 1, "{remotes}");
            assert_eq!(found[0].severity, Severity::Warning, "{remotes}");
            assert!(
                found[0].message.contains("over IPv4 only"),
                "{}",
                found[0].message
            );
            assert!(
                !found[0].message.contains("over IPv6)"),
                "{}",
                found[0].message
            );
        }
        // An IPv6 address among them: DS-Lite nodes may use it, a note.
        let found = fastd_site_with(
            1406,
            "'salsa2012+umac'",
            "'192.0.2.1:10000', '[2001:db8::1]:10000'",
        )
        .findings(V2025_1, "GV181");
        assert_eq!(found[0].severity, Severity::Info);
        // IPv4 only and 1426: 1492 fits PPPoE, nothing over IPv6, so only
        // DS-Lite: a warning, not the IPv6 error.
        let found = fastd_site_with(1426, "'salsa2012+umac'", "'192.0.2.1:10000'")
            .findings(V2025_1, "GV181");
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn tunneldigger_packets_against_uplinks() {
        let conf = site_conf(
            "  mesh_vpn = { tunneldigger = { mtu = 1400, brokers = { 'td.example.org:8942' } } },",
        );
        let site = TestSite::legacy(&conf, &["mesh-batman-adv-15", "mesh-vpn-tunneldigger"]);
        let found = site.findings(V2022_1, "GV181");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("Tunneldigger mtu 1400 makes outer IPv4 packets of 1450 bytes: fragmented on DS-Lite (1436) uplinks"), "{}", found[0].message);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.tunneldigger.mtu")
        );
    }

    #[test]
    fn wireguard_mtu_means_more_from_v2025_1_on() {
        // The value Gluon's documentation recommends.
        let site = wg_site(1376, V2025_1);
        let found = site.findings(V2025_1, "GV181");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].config_path.as_deref(),
            Some("mesh_vpn.wireguard.mtu")
        );
        assert!(
            found[0].message.contains(
                "WireGuard mtu 1376 makes wg_mesh 1446 and outer IPv4 packets of 1506 bytes (1526 over IPv6): larger than 1500-byte Ethernet"
            ),
            "{}",
            found[0].message
        );
        // The endpoint is a name: it may have an IPv6 address.
        assert!(
            found[0]
                .message
                .contains("1350 fits Ethernet, 1342 fits PPPoE, 1306 fits DS-Lite"),
            "{}",
            found[0].message
        );
        // Up to v2023.2 the outer packets do not depend on it.
        let site = wg_site(1376, V2023_2);
        assert!(site.findings(V2023_2, "GV181").is_empty());
        // 1370: exactly Ethernet over IPv4, but 1520 over IPv6, where the
        // endpoint's name may lead: an error.
        let found = wg_site(1370, V2025_1).findings(V2025_1, "GV181");
        assert_eq!(found[0].severity, Severity::Error);
        // With an IPv4 address as the endpoint, PPPoE and DS-Lite are too
        // small: a warning.
        let conf = site_conf(&format!(
            "ntp_servers = {{ 'pool.ntp.org' }},\n{}",
            wireguard(
                &wg_peer("gw1", &wg_key(1), "192.0.2.1:51820"),
                ", mtu = 1370"
            )
        ));
        let site = TestSite::new(&conf, &["mesh-batman-adv-15", "mesh-vpn-wireguard"]);
        let found = site.findings(V2025_1, "GV181");
        assert_eq!(found[0].severity, Severity::Warning, "{found:#?}");
        // 1306: fits all.
        assert!(wg_site(1306, V2025_1).findings(V2025_1, "GV181").is_empty());
    }

    #[test]
    fn wireguard_below_1312_is_a_note() {
        let found = wg_site(1306, V2025_1).findings(V2025_1, "GV180");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(found[0].message.contains("accepts this for WireGuard"));
    }

    #[test]
    fn wireguard_mtu_above_1350_before_v2025_1() {
        for version in [V2022_1, V2023_1, V2023_2] {
            let found = wg_site(1406, version).findings(version, "GV182");
            assert_eq!(found.len(), 1, "{version}");
            assert_eq!(found[0].severity, Severity::Warning);
            assert!(
                found[0]
                    .message
                    .contains("up to 1476 bytes exceed wg_mesh's default MTU of 1420"),
                "{}",
                found[0].message
            );
            assert!(found[0]
                .message
                .contains("outer IPv4 packets of 1536 bytes"));
            assert!(wg_site(1350, version).findings(version, "GV182").is_empty());
        }
        assert!(wg_site(1406, V2025_1).findings(V2025_1, "GV182").is_empty());
    }

    #[test]
    fn wireguard_interface_below_1280_from_v2025_1() {
        let found = wg_site(1200, V2025_1).findings(V2025_1, "GV183");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("makes wg_mesh 1270"));
        assert!(wg_site(1210, V2025_1).findings(V2025_1, "GV183").is_empty());
        assert!(wg_site(1200, V2023_2).findings(V2023_2, "GV183").is_empty());
    }
}
