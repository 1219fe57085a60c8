//! The kernel module over generic netlink (family "wireguard", version 1):
//! `WG_CMD_GET_DEVICE` as a dump, `WG_CMD_SET_DEVICE` with an ack, through
//! a blocking `netlink-sys` socket.
//!
//! The kernel splits a device with many peers (or a peer with many allowed
//! IPs) over several dump messages; a peer continued in the next message
//! comes again with its public key and the rest of its allowed IPs. Large
//! changes are split the same way when sent, as `wg` does: the device
//! attributes and `WGDEVICE_F_REPLACE_PEERS` only in the first message, a
//! continued peer with only its public key and further allowed IPs.

use crate::{invalid_data, AllowedIp, Device, DeviceConfig, Key, Peer, PeerConfig};
use netlink_packet_core::{parse_u16, DecodeError, DefaultNla, NetlinkHeader, NlasIterator};
use netlink_packet_core::{
    Emitable, NetlinkDeserializable, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::GenlMessage;
use netlink_packet_wireguard::{
    WireguardAddressFamily, WireguardAllowedIp, WireguardAllowedIpAttr, WireguardAttribute,
    WireguardCmd, WireguardDeviceFlags, WireguardMessage, WireguardPeer, WireguardPeerAttribute,
    WireguardPeerFlags, WireguardTimeSpec,
};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::io;
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

/// The largest message sent. The kernel takes bigger ones, but `wg` stays
/// near a page too, and a failure then names a smaller part of the change.
const MAX_MESSAGE: usize = 16 * 1024;

/// Receive buffer: the kernel's dump messages stay below 32 KiB.
const RECV_BUFFER: usize = 64 * 1024;

/// The generic netlink controller's `CTRL_CMD_GETFAMILY` for "wireguard"
/// and the family id in its reply: all this backend asks the controller.
/// (netlink-packet-generic's `GenlCtrl` parses every attribute of the
/// reply — operations, policies, multicast groups — into the binary.)
#[derive(Debug)]
enum Ctrl {
    /// The family's name, NUL-terminated.
    GetFamily(&'static [u8]),
    FamilyId(Option<u16>),
}

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

fn family_name_nla(name: &[u8]) -> DefaultNla {
    DefaultNla::new(CTRL_ATTR_FAMILY_NAME, name.to_vec())
}

impl NetlinkSerializable for Ctrl {
    fn message_type(&self) -> u16 {
        GENL_ID_CTRL
    }

    fn buffer_len(&self) -> usize {
        match self {
            Ctrl::GetFamily(name) => 4 + family_name_nla(name).buffer_len(),
            Ctrl::FamilyId(_) => 0,
        }
    }

    fn serialize(&self, buffer: &mut [u8]) {
        if let Ctrl::GetFamily(name) = self {
            // genlmsghdr: command, version 2, reserved
            buffer[..4].copy_from_slice(&[CTRL_CMD_GETFAMILY, 2, 0, 0]);
            family_name_nla(name).emit(&mut buffer[4..]);
        }
    }
}

impl NetlinkDeserializable for Ctrl {
    type Error = DecodeError;

    fn deserialize(_: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        let mut id = None;
        for nla in NlasIterator::new(payload.get(4..).unwrap_or_default()) {
            let nla = nla?;
            if nla.kind() == CTRL_ATTR_FAMILY_ID {
                id = Some(parse_u16(nla.value())?);
            }
        }
        Ok(Ctrl::FamilyId(id))
    }
}

pub(crate) struct Genl {
    socket: Socket,
    family: Option<u16>,
    seq: u32,
    buf: Vec<u8>,
}

impl Genl {
    pub(crate) fn new() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Genl {
            socket,
            family: None,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUFFER),
        })
    }

    /// Sends `msg` and collects the replies: up to `NLMSG_DONE` for a dump,
    /// up to the ack otherwise.
    fn request<I>(&mut self, mut msg: NetlinkMessage<I>) -> io::Result<Vec<I>>
    where
        I: NetlinkSerializable + NetlinkDeserializable + std::fmt::Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let dump = msg.header.flags & NLM_F_DUMP == NLM_F_DUMP;
        msg.header.sequence_number = seq;
        msg.finalize();
        let mut out = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut out);
        self.socket.send(&out, 0)?;

        let mut replies = Vec::new();
        loop {
            self.buf.clear();
            // MSG_TRUNC: recv returns the datagram's real length, so a
            // truncated reply is noticed
            let n = self.socket.recv(&mut self.buf, libc::MSG_TRUNC)?;
            if n > self.buf.len() {
                return Err(invalid_data("netlink: a reply did not fit the buffer"));
            }
            let mut offset = 0;
            while offset < n {
                let bytes = &self.buf[offset..n];
                let reply = NetlinkMessage::<I>::deserialize(bytes)
                    .map_err(|e| invalid_data(format!("netlink: {e}")))?;
                let len = reply.header.length as usize;
                if len == 0 {
                    return Err(invalid_data("netlink: a message of length 0"));
                }
                offset += (len + 3) & !3;
                if reply.header.sequence_number != seq {
                    continue; // a late reply to an earlier request
                }
                match reply.payload {
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(e) => match e.code {
                        None if !dump => return Ok(replies),
                        None => {}
                        Some(_) => return Err(e.to_io()),
                    },
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    _ => {}
                }
            }
        }
    }

    /// The id of the "wireguard" generic netlink family, asked once.
    fn family(&mut self) -> io::Result<u16> {
        if let Some(id) = self.family {
            return Ok(id);
        }
        let id = self.family_id(b"wireguard\0")?;
        self.family = Some(id);
        Ok(id)
    }

    /// Asks the controller for the id of the family `name` (NUL-terminated).
    fn family_id(&mut self, name: &'static [u8]) -> io::Result<u16> {
        let mut nl = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(Ctrl::GetFamily(name)),
        );
        nl.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        let replies = self.request(nl).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOENT) {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "the kernel has no WireGuard (no generic netlink family \"wireguard\"), \
                     and there is no UAPI socket",
                )
            } else {
                e
            }
        })?;
        replies
            .iter()
            .find_map(|m| match m {
                Ctrl::FamilyId(id) => *id,
                Ctrl::GetFamily(_) => None,
            })
            .ok_or_else(|| invalid_data("netlink: no family id in the controller's reply"))
    }

    fn wg_message(
        &mut self,
        cmd: WireguardCmd,
        attributes: Vec<WireguardAttribute>,
        flags: u16,
    ) -> io::Result<NetlinkMessage<GenlMessage<WireguardMessage>>> {
        let family = self.family()?;
        let mut msg = GenlMessage::from_payload(WireguardMessage { cmd, attributes });
        msg.set_resolved_family_id(family);
        let mut nl = NetlinkMessage::from(msg);
        nl.header.flags = flags;
        Ok(nl)
    }

    pub(crate) fn get_device(&mut self, ifname: &str) -> io::Result<Device> {
        let nl = self.wg_message(
            WireguardCmd::GetDevice,
            vec![WireguardAttribute::IfName(ifname.to_string())],
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let replies = self.request(nl).map_err(|e| no_such_device(e, ifname))?;
        device_from_dump(ifname, replies.into_iter().map(|m| m.payload))
    }

    pub(crate) fn set_device(&mut self, ifname: &str, config: &DeviceConfig) -> io::Result<()> {
        for attributes in set_messages(ifname, config, MAX_MESSAGE) {
            let nl = self.wg_message(
                WireguardCmd::SetDevice,
                attributes,
                NLM_F_REQUEST | NLM_F_ACK,
            )?;
            self.request(nl).map_err(|e| no_such_device(e, ifname))?;
        }
        Ok(())
    }
}

fn no_such_device(e: io::Error, ifname: &str) -> io::Error {
    match e.raw_os_error() {
        Some(libc::ENODEV) => {
            io::Error::new(io::ErrorKind::NotFound, format!("no interface {ifname:?}"))
        }
        Some(libc::EOPNOTSUPP) => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{ifname:?} is not a WireGuard interface"),
        ),
        _ => e,
    }
}

fn allowed_ip_from(attrs: &[WireguardAllowedIpAttr]) -> Option<AllowedIp> {
    let mut addr = None;
    let mut cidr = None;
    for a in attrs {
        match a {
            WireguardAllowedIpAttr::IpAddr(ip) => addr = Some(*ip),
            WireguardAllowedIpAttr::Cidr(c) => cidr = Some(*c),
            _ => {}
        }
    }
    AllowedIp::new(addr?, cidr?)
}

fn peer_from(attrs: Vec<WireguardPeerAttribute>) -> io::Result<Peer> {
    let mut key = None;
    let mut peer = Peer::new(Key([0; 32]));
    for a in attrs {
        match a {
            WireguardPeerAttribute::PublicKey(k) => key = Some(Key(k)),
            WireguardPeerAttribute::PresharedKey(mut k) => {
                peer.has_preshared_key = k != [0; 32];
                wipe(&mut k);
            }
            WireguardPeerAttribute::Endpoint(e) => peer.endpoint = Some(e),
            WireguardPeerAttribute::PersistentKeepalive(s) => {
                peer.persistent_keepalive = (s != 0).then_some(s)
            }
            // all zero: no handshake yet
            WireguardPeerAttribute::LastHandshake(WireguardTimeSpec {
                seconds,
                nano_seconds,
            }) if (seconds, nano_seconds) != (0, 0) && seconds >= 0 => {
                let nanos = nano_seconds.clamp(0, 999_999_999) as u32;
                peer.latest_handshake = Some(UNIX_EPOCH + Duration::new(seconds as u64, nanos));
            }
            WireguardPeerAttribute::RxBytes(n) => peer.rx_bytes = n,
            WireguardPeerAttribute::TxBytes(n) => peer.tx_bytes = n,
            WireguardPeerAttribute::AllowedIps(ips) => peer
                .allowed_ips
                .extend(ips.iter().filter_map(|ip| allowed_ip_from(&ip.0))),
            WireguardPeerAttribute::ProtocolVersion(v) => peer.protocol_version = v,
            _ => {}
        }
    }
    peer.public_key = key.ok_or_else(|| invalid_data("netlink: a peer without public key"))?;
    Ok(peer)
}

fn wipe(key: &mut [u8; 32]) {
    for b in key.iter_mut() {
        // SAFETY: a valid exclusive reference; volatile so the write stays.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
}

/// Puts the messages of a `WG_CMD_GET_DEVICE` dump together.
pub(crate) fn device_from_dump(
    ifname: &str,
    messages: impl IntoIterator<Item = WireguardMessage>,
) -> io::Result<Device> {
    let mut device = Device::new(ifname);
    for message in messages {
        let mut first_peer_of_message = true;
        for attribute in message.attributes {
            match attribute {
                WireguardAttribute::IfName(name) => device.ifname = name,
                WireguardAttribute::PrivateKey(mut k) => {
                    device.has_private_key = k != [0; 32];
                    wipe(&mut k);
                }
                WireguardAttribute::PublicKey(k) => {
                    device.public_key = (k != [0; 32]).then_some(Key(k))
                }
                WireguardAttribute::ListenPort(p) => device.listen_port = p,
                WireguardAttribute::Fwmark(m) => device.fwmark = m,
                WireguardAttribute::Peers(peers) => {
                    for p in peers {
                        let peer = peer_from(p.0)?;
                        // a peer continued from the previous message
                        if first_peer_of_message {
                            first_peer_of_message = false;
                            if let Some(last) = device.peers.last_mut() {
                                if last.public_key == peer.public_key {
                                    last.allowed_ips.extend(peer.allowed_ips);
                                    continue;
                                }
                            }
                        }
                        device.peers.push(peer);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(device)
}

fn allowed_ip_attr(ip: &AllowedIp) -> WireguardAllowedIp {
    let family = match ip.addr {
        IpAddr::V4(_) => WireguardAddressFamily::Ipv4,
        IpAddr::V6(_) => WireguardAddressFamily::Ipv6,
    };
    WireguardAllowedIp(vec![
        WireguardAllowedIpAttr::Family(family),
        WireguardAllowedIpAttr::IpAddr(ip.addr),
        WireguardAllowedIpAttr::Cidr(ip.prefix_len),
    ])
}

/// The attributes of a peer's first (or only) fragment, without allowed IPs.
fn peer_head(peer: &PeerConfig) -> Vec<WireguardPeerAttribute> {
    let mut attrs = vec![WireguardPeerAttribute::PublicKey(peer.public_key.0)];
    let mut flags = WireguardPeerFlags::empty();
    if peer.remove {
        flags |= WireguardPeerFlags::RemoveMe;
    } else {
        if peer.update_only {
            flags |= WireguardPeerFlags::UpdateOnly;
        }
        if peer.replace_allowed_ips {
            flags |= WireguardPeerFlags::ReplaceAllowedIps;
        }
        if let Some(k) = &peer.preshared_key {
            attrs.push(WireguardPeerAttribute::PresharedKey(*k.as_bytes()));
        }
        if let Some(e) = peer.endpoint {
            attrs.push(WireguardPeerAttribute::Endpoint(e));
        }
        if let Some(s) = peer.persistent_keepalive {
            attrs.push(WireguardPeerAttribute::PersistentKeepalive(s));
        }
    }
    if !flags.is_empty() {
        attrs.push(WireguardPeerAttribute::Flags(flags));
    }
    attrs
}

/// Netlink and generic netlink headers.
const HEADERS: usize = 16 + 4;
/// An attribute header; also the header of an attribute that nests others.
const NLA: usize = 4;

/// The attribute lists of the `WG_CMD_SET_DEVICE` messages for `config`,
/// none longer than `max` bytes.
pub(crate) fn set_messages(
    ifname: &str,
    config: &DeviceConfig,
    max: usize,
) -> Vec<Vec<WireguardAttribute>> {
    let name = WireguardAttribute::IfName(ifname.to_string());
    let mut device = vec![name.clone()];
    if let Some(k) = &config.private_key {
        device.push(WireguardAttribute::PrivateKey(*k.as_bytes()));
    }
    if let Some(p) = config.listen_port {
        device.push(WireguardAttribute::ListenPort(p));
    }
    if let Some(m) = config.fwmark {
        device.push(WireguardAttribute::Fwmark(m));
    }
    if config.replace_peers {
        device.push(WireguardAttribute::Flags(
            WireguardDeviceFlags::ReplacePeers,
        ));
    }

    let mut messages = Vec::new();
    let mut head = device;
    let mut peers: Vec<WireguardPeer> = Vec::new();
    // bytes of the message so far, with the header of the peers attribute
    let mut used = HEADERS + head.as_slice().buffer_len() + NLA;
    let flush = |messages: &mut Vec<Vec<WireguardAttribute>>,
                 head: &mut Vec<WireguardAttribute>,
                 peers: &mut Vec<WireguardPeer>,
                 used: &mut usize| {
        let mut attrs = std::mem::replace(head, vec![name.clone()]);
        if !peers.is_empty() {
            attrs.push(WireguardAttribute::Peers(std::mem::take(peers)));
        }
        messages.push(attrs);
        *used = HEADERS + name.buffer_len() + NLA;
    };

    for peer in &config.peers {
        let ips: Vec<WireguardAllowedIp> = if peer.remove {
            Vec::new()
        } else {
            peer.allowed_ips.iter().map(allowed_ip_attr).collect()
        };
        let mut next = 0;
        let mut first = true;
        loop {
            let mut attrs = if first {
                peer_head(peer)
            } else {
                vec![WireguardPeerAttribute::PublicKey(peer.public_key.0)]
            };
            let attrs_len = NLA + attrs.as_slice().buffer_len();
            let ips_header = if next < ips.len() { NLA } else { 0 };
            let one_ip = ips.get(next).map_or(0, |ip| ip.buffer_len());
            if used + attrs_len + ips_header + one_ip > max && !peers.is_empty() {
                flush(&mut messages, &mut head, &mut peers, &mut used);
            }
            let mut len = used + attrs_len + ips_header;
            let start = next;
            while next < ips.len() && (next == start || len + ips[next].buffer_len() <= max) {
                len += ips[next].buffer_len();
                next += 1;
            }
            if next > start {
                attrs.push(WireguardPeerAttribute::AllowedIps(
                    ips[start..next].to_vec(),
                ));
            }
            peers.push(WireguardPeer(attrs));
            used = len;
            first = false;
            if next == ips.len() {
                break;
            }
            flush(&mut messages, &mut head, &mut peers, &mut used);
        }
    }
    if !peers.is_empty() || messages.is_empty() {
        flush(&mut messages, &mut head, &mut peers, &mut used);
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use netlink_packet_core::{Nla, NLA_F_NESTED};

    fn key(n: u8) -> Key {
        Key([n; 32])
    }

    fn ip(n: u16) -> AllowedIp {
        AllowedIp::host(IpAddr::V6(std::net::Ipv6Addr::new(
            0xfd00, 0, 0, 0, 0, 0, 0, n,
        )))
    }

    fn message_len(attrs: &[WireguardAttribute]) -> usize {
        HEADERS + attrs.buffer_len()
    }

    /// What the kernel makes of the messages: the peers in order, fragments
    /// of one peer put together.
    fn reassemble(messages: &[Vec<WireguardAttribute>]) -> Vec<(Key, Vec<AllowedIp>, bool)> {
        let mut out: Vec<(Key, Vec<AllowedIp>, bool)> = Vec::new();
        for m in messages {
            for a in m {
                if let WireguardAttribute::Peers(peers) = a {
                    for p in peers {
                        let mut k = None;
                        let mut ips = Vec::new();
                        let mut replace = false;
                        for pa in &p.0 {
                            match pa {
                                WireguardPeerAttribute::PublicKey(b) => k = Some(Key(*b)),
                                WireguardPeerAttribute::AllowedIps(list) => {
                                    ips.extend(list.iter().filter_map(|i| allowed_ip_from(&i.0)))
                                }
                                WireguardPeerAttribute::Flags(f) => {
                                    replace = f.contains(WireguardPeerFlags::ReplaceAllowedIps)
                                }
                                _ => {}
                            }
                        }
                        let k = k.unwrap();
                        match out.last_mut() {
                            Some(last) if last.0 == k && !replace => last.1.extend(ips),
                            _ => out.push((k, ips, replace)),
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    #[cfg_attr(
        gluonvpn_qemu_user,
        ignore = "qemu-user carries no NETLINK_GENERIC socket (EPROTONOSUPPORT)"
    )]
    fn the_controller_answers_with_family_ids() {
        // the controller itself is a family on every kernel, with a fixed id
        let mut genl = Genl::new().unwrap();
        assert_eq!(genl.family_id(b"nlctrl\0").unwrap(), GENL_ID_CTRL);
        let e = genl.family_id(b"gvnosuchfamily\0").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
    }

    #[test]
    fn a_small_change_is_one_message() {
        let config = DeviceConfig {
            private_key: Some(SecretKey::from_bytes([9; 32])),
            listen_port: Some(51820),
            replace_peers: true,
            peers: vec![
                PeerConfig::new(key(1))
                    .endpoint("198.18.0.1:51820".parse().unwrap())
                    .persistent_keepalive(25)
                    .replace_allowed_ips(vec![ip(1)]),
                PeerConfig::remove(key(2)),
            ],
            ..DeviceConfig::default()
        };
        let messages = set_messages("wg0", &config, MAX_MESSAGE);
        assert_eq!(messages.len(), 1);
        let m = &messages[0];
        assert_eq!(m[0], WireguardAttribute::IfName("wg0".into()));
        assert!(m.contains(&WireguardAttribute::ListenPort(51820)));
        assert!(m.contains(&WireguardAttribute::Flags(
            WireguardDeviceFlags::ReplacePeers
        )));
        let WireguardAttribute::Peers(peers) = m.last().unwrap() else {
            panic!("no peers")
        };
        assert_eq!(
            peers[0].0,
            vec![
                WireguardPeerAttribute::PublicKey([1; 32]),
                WireguardPeerAttribute::Endpoint("198.18.0.1:51820".parse().unwrap()),
                WireguardPeerAttribute::PersistentKeepalive(25),
                WireguardPeerAttribute::Flags(WireguardPeerFlags::ReplaceAllowedIps),
                WireguardPeerAttribute::AllowedIps(vec![allowed_ip_attr(&ip(1))]),
            ]
        );
        assert_eq!(
            peers[1].0,
            vec![
                WireguardPeerAttribute::PublicKey([2; 32]),
                WireguardPeerAttribute::Flags(WireguardPeerFlags::RemoveMe),
            ]
        );
        // an empty change still names the device
        assert_eq!(
            set_messages("wg0", &DeviceConfig::default(), MAX_MESSAGE),
            vec![vec![WireguardAttribute::IfName("wg0".into())]]
        );
    }

    #[test]
    fn large_changes_are_split_like_wg_does() {
        let config = DeviceConfig {
            replace_peers: true,
            peers: (1..=40)
                .map(|n| {
                    PeerConfig::new(key(n)).replace_allowed_ips(
                        (0..u16::from(n) * 3)
                            .map(|i| ip(i + 100 * u16::from(n)))
                            .collect(),
                    )
                })
                .collect(),
            ..DeviceConfig::default()
        };
        for max in [400, 1000, 4096] {
            let messages = set_messages("wg0", &config, max);
            assert!(messages.len() > 1, "{max}");
            for (i, m) in messages.iter().enumerate() {
                assert!(
                    message_len(m) <= max,
                    "message {i} is {} > {max}",
                    message_len(m)
                );
                assert_eq!(
                    m.contains(&WireguardAttribute::Flags(
                        WireguardDeviceFlags::ReplacePeers
                    )),
                    i == 0
                );
            }
            let peers = reassemble(&messages);
            assert_eq!(peers.len(), 40, "{max}");
            for (n, (k, ips, replace)) in peers.iter().enumerate() {
                let n = n as u8 + 1;
                assert_eq!(*k, key(n));
                assert!(replace);
                let want: Vec<AllowedIp> = (0..u16::from(n) * 3)
                    .map(|i| ip(i + 100 * u16::from(n)))
                    .collect();
                assert_eq!(ips, &want);
            }
        }
    }

    #[test]
    fn a_dump_split_inside_a_peer_is_put_together() {
        let peer = |k: u8, ips: &[u16], more: Vec<WireguardPeerAttribute>| {
            let mut attrs = vec![WireguardPeerAttribute::PublicKey([k; 32])];
            attrs.extend(more);
            attrs.push(WireguardPeerAttribute::AllowedIps(
                ips.iter().map(|&n| allowed_ip_attr(&ip(n))).collect(),
            ));
            WireguardPeer(attrs)
        };
        let first = WireguardMessage {
            cmd: WireguardCmd::GetDevice,
            attributes: vec![
                WireguardAttribute::IfIndex(7),
                WireguardAttribute::IfName("wg0".into()),
                WireguardAttribute::PrivateKey([5; 32]),
                WireguardAttribute::PublicKey([6; 32]),
                WireguardAttribute::ListenPort(51820),
                WireguardAttribute::Fwmark(0),
                WireguardAttribute::Peers(vec![
                    peer(1, &[1], vec![]),
                    peer(
                        2,
                        &[2, 3],
                        vec![
                            WireguardPeerAttribute::LastHandshake(WireguardTimeSpec {
                                seconds: 1_700_000_000,
                                nano_seconds: 5,
                            }),
                            WireguardPeerAttribute::PersistentKeepalive(0),
                            WireguardPeerAttribute::RxBytes(10),
                            WireguardPeerAttribute::TxBytes(20),
                        ],
                    ),
                ]),
            ],
        };
        let second = WireguardMessage {
            cmd: WireguardCmd::GetDevice,
            attributes: vec![
                WireguardAttribute::IfIndex(7),
                WireguardAttribute::IfName("wg0".into()),
                WireguardAttribute::Peers(vec![peer(2, &[4], vec![]), peer(3, &[], vec![])]),
            ],
        };
        let d = device_from_dump("wg0", [first, second]).unwrap();
        assert!(d.has_private_key);
        assert_eq!(d.public_key, Some(Key([6; 32])));
        assert_eq!(d.listen_port, 51820);
        assert_eq!(d.peers.len(), 3);
        assert_eq!(d.peers[1].allowed_ips, vec![ip(2), ip(3), ip(4)]);
        assert_eq!(d.peers[1].latest_handshake_secs(), 1_700_000_000);
        assert_eq!((d.peers[1].rx_bytes, d.peers[1].tx_bytes), (10, 20));
        assert_eq!(d.peers[1].persistent_keepalive, None);
        assert_eq!(d.peers[0].latest_handshake, None);
        assert!(d.peers[2].allowed_ips.is_empty());
    }

    /// qemu-user carries no generic netlink, so on the big-endian targets
    /// this is what checks the requests the kernel's WireGuard reads: a
    /// WG_CMD_SET_DEVICE laid out byte by byte in the target's byte order
    /// (include/uapi/linux/wireguard.h; the endpoint a `struct sockaddr_in`,
    /// its family in host order, its port and address in network order).
    #[test]
    fn a_set_request_is_laid_out_as_the_kernel_reads_it() {
        use gluonvpn_testnet::host_order::{u16_bytes as host16, u32_bytes as host32};
        let attrs = vec![
            WireguardAttribute::IfName("wg0".into()),
            WireguardAttribute::ListenPort(51820),
            WireguardAttribute::Peers(vec![WireguardPeer(vec![
                WireguardPeerAttribute::PublicKey([1; 32]),
                WireguardPeerAttribute::Endpoint("198.18.0.1:51820".parse().unwrap()),
            ])]),
        ];
        let mut msg = GenlMessage::from_payload(WireguardMessage {
            cmd: WireguardCmd::SetDevice,
            attributes: attrs,
        });
        msg.set_resolved_family_id(0x1234);
        let mut nl = NetlinkMessage::from(msg);
        nl.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        nl.header.sequence_number = 7;
        nl.finalize();
        let mut bytes = vec![0; nl.buffer_len()];
        nl.serialize(&mut bytes);
        let nested = 0x8000;
        let expected = [
            // struct nlmsghdr
            host32(100),
            host16(0x1234),
            host16(NLM_F_REQUEST | NLM_F_ACK),
            host32(7),
            host32(0),
            // struct genlmsghdr: WG_CMD_SET_DEVICE, WG_GENL_VERSION
            vec![1, 1, 0, 0],
            // WGDEVICE_A_IFNAME, WGDEVICE_A_LISTEN_PORT (padded to 4)
            host16(8),
            host16(2),
            b"wg0\0".to_vec(),
            host16(6),
            host16(6),
            host16(51820),
            vec![0, 0],
            // WGDEVICE_A_PEERS, nested: peer 0, nested
            host16(64),
            host16(8 | nested),
            host16(60),
            host16(nested),
            // WGPEER_A_PUBLIC_KEY, WGPEER_A_ENDPOINT
            host16(36),
            host16(1),
            vec![1; 32],
            host16(20),
            host16(4),
            host16(libc::AF_INET as u16),
            vec![0xca, 0x6c, 198, 18, 0, 1],
            vec![0; 8],
        ]
        .concat();
        assert_eq!(bytes, expected);
    }

    #[test]
    fn messages_round_trip_through_the_wire_format() {
        // what the kernel parses is what was meant: emit, then parse back
        let config = DeviceConfig {
            fwmark: Some(3),
            peers: vec![PeerConfig::new(key(1))
                .endpoint("[fd00::1]:51820".parse().unwrap())
                .replace_allowed_ips(vec![ip(1), "198.18.0.0/15".parse().unwrap()])],
            ..DeviceConfig::default()
        };
        let attrs = set_messages("wg0", &config, MAX_MESSAGE).remove(0);
        let mut msg = GenlMessage::from_payload(WireguardMessage {
            cmd: WireguardCmd::SetDevice,
            attributes: attrs.clone(),
        });
        msg.set_resolved_family_id(0x1234);
        let mut nl = NetlinkMessage::from(msg);
        nl.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        nl.finalize();
        let mut bytes = vec![0; nl.buffer_len()];
        nl.serialize(&mut bytes);
        assert_eq!(u16::from_ne_bytes([bytes[4], bytes[5]]), 0x1234);
        // the peers attribute is nested, as the kernel requires
        let back = NetlinkMessage::<GenlMessage<WireguardMessage>>::deserialize(&bytes).unwrap();
        let NetlinkPayload::InnerMessage(back) = back.payload else {
            panic!("not a message")
        };
        assert_eq!(back.header.cmd, 1);
        assert_eq!(back.payload.attributes, attrs);
        assert_ne!(WireguardAttribute::Peers(vec![]).kind() & NLA_F_NESTED, 0);
    }
}
