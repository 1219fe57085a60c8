//! rtnetlink, blocking: dumps of a VXLAN's FDB and of routes, and batches of
//! changes — many requests in one `send`, then their acks — through
//! `netlink-sys` with the message types of `netlink-packet-route`.
//!
//! The message headers (`ndmsg`, `rtmsg`) are netlink-packet-route's; of
//! the attributes only the few the glue uses are read and written here.
//! The crate's full attribute types would put the code of every routing
//! feature (MPLS, SRv6, lightweight tunnels, …) into the binary — about
//! 30 KiB of the agent — and a dump would fail as a whole on any attribute
//! they misread. Dumps ask the kernel to filter (`NETLINK_GET_STRICT_CHK`:
//! the FDB of one device; the routes of one protocol and interface), and
//! are filtered here again for kernels that do not.

use crate::reconcile::{FdbEntry, Route};
use netlink_packet_core::{
    emit_u16_be, emit_u32, parse_u16_be, parse_u32, DecodeError, Emitable, NetlinkDeserializable,
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable, Nla, NlasIterator,
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourHeader, NeighbourState};
use netlink_packet_route::route::{RouteHeader, RouteProtocol, RouteScope, RouteType};
use netlink_packet_route::AddressFamily;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;

/// `sizeof(struct ndmsg)`, `sizeof(struct rtmsg)`
const NDMSG_LEN: usize = 12;
const RTMSG_LEN: usize = 12;

// neighbour attributes (linux/neighbour.h)
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NDA_PORT: u16 = 6;
const NDA_VNI: u16 = 7;
const NDA_IFINDEX: u16 = 8;
// route attributes (linux/rtnetlink.h)
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_PRIORITY: u16 = 6;
const RTA_TABLE: u16 = 15;

/// Requests per `send`: their acks must fit the socket's receive buffer
/// (each ack is a buffer of its own in the kernel's accounting, about
/// 1 KiB).
const BATCH: usize = 200;

/// Receive buffer: the kernel's dump messages stay below 32 KiB.
const RECV_BUFFER: usize = 64 * 1024;

/// The attributes the glue writes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attr {
    /// `NDA_LLADDR`
    Lladdr([u8; 6]),
    /// `NDA_DST` or `RTA_DST`
    Dst(u16, IpAddr),
    /// `NDA_PORT` (network byte order)
    Port(u16),
    /// `NDA_VNI`, `NDA_IFINDEX`, `RTA_OIF`, `RTA_PRIORITY`, `RTA_TABLE`
    U32(u16, u32),
}

impl Nla for Attr {
    fn value_len(&self) -> usize {
        match self {
            Attr::Lladdr(_) => 6,
            Attr::Dst(_, IpAddr::V4(_)) => 4,
            Attr::Dst(_, IpAddr::V6(_)) => 16,
            Attr::Port(_) => 2,
            Attr::U32(..) => 4,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Attr::Lladdr(_) => NDA_LLADDR,
            Attr::Dst(kind, _) | Attr::U32(kind, _) => *kind,
            Attr::Port(_) => NDA_PORT,
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Attr::Lladdr(mac) => buffer.copy_from_slice(mac),
            Attr::Dst(_, IpAddr::V4(a)) => buffer.copy_from_slice(&a.octets()),
            Attr::Dst(_, IpAddr::V6(a)) => buffer.copy_from_slice(&a.octets()),
            Attr::Port(p) => {
                let _ = emit_u16_be(buffer, *p);
            }
            Attr::U32(_, v) => {
                let _ = emit_u32(buffer, *v);
            }
        }
    }
}

/// A request: a header and attributes.
#[derive(Debug, Clone)]
enum Header {
    Neigh(NeighbourHeader),
    Route(RouteHeader),
}

/// The rtnetlink messages the glue sends and reads.
#[derive(Debug, Clone)]
enum Rt {
    Request {
        message_type: u16,
        header: Header,
        attrs: Vec<Attr>,
    },
    /// An FDB entry of a device (`RTM_NEWNEIGH` in a dump): the device's
    /// index and the entry if its MAC is all zero.
    Fdb(u32, Option<FdbEntry>),
    /// A route (`RTM_NEWROUTE` in a dump).
    Route(Route),
    /// Any other message type, skipped.
    Other(u16),
}

impl NetlinkSerializable for Rt {
    fn message_type(&self) -> u16 {
        match self {
            Rt::Request { message_type, .. } => *message_type,
            Rt::Fdb(..) => RTM_NEWNEIGH,
            Rt::Route(_) => RTM_NEWROUTE,
            Rt::Other(t) => *t,
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            Rt::Request { header, attrs, .. } => {
                let h = match header {
                    Header::Neigh(h) => h.buffer_len(),
                    Header::Route(h) => h.buffer_len(),
                };
                h + attrs.as_slice().buffer_len()
            }
            _ => 0,
        }
    }

    fn serialize(&self, buffer: &mut [u8]) {
        if let Rt::Request { header, attrs, .. } = self {
            let h = match header {
                Header::Neigh(h) => {
                    h.emit(buffer);
                    h.buffer_len()
                }
                Header::Route(h) => {
                    h.emit(buffer);
                    h.buffer_len()
                }
            };
            attrs.as_slice().emit(&mut buffer[h..]);
        }
    }
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?))),
        _ => None,
    }
}

/// An `RTM_NEWNEIGH` of a dump: the device and, for an all-zero MAC with
/// a destination, the entry.
fn parse_fdb(payload: &[u8]) -> Result<Rt, DecodeError> {
    let header = NeighbourHeader::parse(payload)?;
    let mut zero_mac = false;
    let mut dst = None;
    let mut entry = FdbEntry::new(Ipv6Addr::UNSPECIFIED);
    for nla in NlasIterator::new(&payload[NDMSG_LEN..]) {
        let nla = nla?;
        let v = nla.value();
        match nla.kind() {
            NDA_LLADDR => zero_mac = v.len() == 6 && v.iter().all(|&b| b == 0),
            NDA_DST => dst = ip_from_bytes(v),
            NDA_PORT => entry.port = Some(parse_u16_be(v)?),
            NDA_VNI => entry.vni = Some(parse_u32(v)?),
            NDA_IFINDEX => entry.ifindex = Some(parse_u32(v)?),
            _ => {}
        }
    }
    let entry = match dst {
        Some(dst) if zero_mac => Some(FdbEntry { dst, ..entry }),
        _ => None,
    };
    Ok(Rt::Fdb(header.ifindex, entry))
}

/// An `RTM_NEWROUTE` of a dump.
fn parse_route(payload: &[u8]) -> Result<Rt, DecodeError> {
    let header = RouteHeader::parse(payload)?;
    let mut route = Route {
        // a default route has no RTA_DST
        dst: match header.address_family {
            AddressFamily::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            _ => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        },
        prefix_len: header.destination_prefix_length,
        table: u32::from(header.table),
        protocol: u8::from(header.protocol),
        oif: None,
        metric: None,
    };
    for nla in NlasIterator::new(&payload[RTMSG_LEN..]) {
        let nla = nla?;
        let v = nla.value();
        match nla.kind() {
            RTA_DST => {
                if let Some(ip) = ip_from_bytes(v) {
                    route.dst = ip;
                }
            }
            RTA_OIF => route.oif = Some(parse_u32(v)?),
            RTA_PRIORITY => route.metric = Some(parse_u32(v)?),
            RTA_TABLE => route.table = parse_u32(v)?,
            _ => {}
        }
    }
    Ok(Rt::Route(route))
}

impl NetlinkDeserializable for Rt {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        match header.message_type {
            RTM_NEWNEIGH if payload.len() >= NDMSG_LEN => parse_fdb(payload),
            RTM_NEWROUTE if payload.len() >= RTMSG_LEN => parse_route(payload),
            t => Ok(Rt::Other(t)),
        }
    }
}

/// One change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `bridge fdb append 00:00:00:00:00:00 dev VXLAN dst ADDR`
    AddFdb { vxlan: u32, dst: Ipv6Addr },
    /// `bridge fdb del 00:00:00:00:00:00 dev VXLAN dst ADDR [port/vni/via]`
    DelFdb { vxlan: u32, entry: FdbEntry },
    /// `ip -6 route add ADDR/128 dev WG proto 129`
    AddRoute { dst: Ipv6Addr, oif: u32 },
    /// `ip route del` of exactly this route
    DelRoute { route: Route },
}

fn invalid_data(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// The interface index of `name`, if it exists.
pub fn ifindex(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

fn set_int_opt(socket: &Socket, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: the pointer and length describe `value`, alive for the call.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// An rtnetlink socket.
pub struct Rtnl {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

/// An FDB request for the all-zero MAC towards `dst` on `vxlan`.
fn fdb_request(message_type: u16, vxlan: u32, entry: &FdbEntry) -> Rt {
    let header = NeighbourHeader {
        family: AddressFamily::Bridge,
        ifindex: vxlan,
        // NUD_NOARP | NUD_PERMANENT and NTF_SELF: what `bridge fdb append`
        // sends; without NTF_SELF the kernel would look for a bridge master
        state: NeighbourState::Other(0x40 | 0x80),
        flags: NeighbourFlags::Own,
        ..NeighbourHeader::default()
    };
    let mut attrs = vec![Attr::Lladdr([0; 6]), Attr::Dst(NDA_DST, entry.dst)];
    if let Some(p) = entry.port {
        attrs.push(Attr::Port(p));
    }
    if let Some(v) = entry.vni {
        attrs.push(Attr::U32(NDA_VNI, v));
    }
    if let Some(i) = entry.ifindex {
        attrs.push(Attr::U32(NDA_IFINDEX, i));
    }
    Rt::Request {
        message_type,
        header: Header::Neigh(header),
        attrs,
    }
}

fn route_request(message_type: u16, route: &Route) -> Rt {
    let header = RouteHeader {
        address_family: match route.dst {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        },
        destination_prefix_length: route.prefix_len,
        // RT_TABLE_COMPAT for tables past 255: the real one is in RTA_TABLE
        table: u8::try_from(route.table).unwrap_or(252),
        protocol: RouteProtocol::from(route.protocol),
        scope: RouteScope::Universe,
        kind: RouteType::Unicast,
        ..RouteHeader::default()
    };
    let mut attrs = vec![Attr::Dst(RTA_DST, route.dst)];
    if let Some(oif) = route.oif {
        attrs.push(Attr::U32(RTA_OIF, oif));
    }
    attrs.push(Attr::U32(RTA_TABLE, route.table));
    if let Some(metric) = route.metric {
        attrs.push(Attr::U32(RTA_PRIORITY, metric));
    }
    Rt::Request {
        message_type,
        header: Header::Route(header),
        attrs,
    }
}

fn op_message(op: &Op) -> (Rt, u16) {
    match op {
        Op::AddFdb { vxlan, dst } => (
            fdb_request(RTM_NEWNEIGH, *vxlan, &FdbEntry::new(*dst)),
            NLM_F_CREATE | NLM_F_APPEND,
        ),
        Op::DelFdb { vxlan, entry } => (fdb_request(RTM_DELNEIGH, *vxlan, entry), 0),
        Op::AddRoute { dst, oif } => (
            route_request(RTM_NEWROUTE, &Route::host(*dst, *oif)),
            NLM_F_CREATE | NLM_F_EXCL,
        ),
        Op::DelRoute { route } => (route_request(RTM_DELROUTE, route), 0),
    }
}

/// Whether an error of `op` means it is done anyway: adding what is there,
/// removing what is gone.
fn harmless(op: &Op, e: &io::Error) -> bool {
    matches!(
        (op, e.raw_os_error()),
        (Op::AddFdb { .. } | Op::AddRoute { .. }, Some(libc::EEXIST))
            | (
                Op::DelFdb { .. } | Op::DelRoute { .. },
                Some(libc::ENOENT) | Some(libc::ESRCH)
            )
    )
}

impl Rtnl {
    pub fn new() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // filtered dumps (Linux 4.20); without, everything is filtered here
        let _ = socket.set_netlink_get_strict_chk(true);
        // acks without the request copied into them
        let _ = socket.set_cap_ack(true);
        // room for the acks of a batch; past rmem_max only as root
        let want = 4 << 20;
        if set_int_opt(&socket, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, want).is_err() {
            let _ = set_int_opt(&socket, libc::SOL_SOCKET, libc::SO_RCVBUF, want);
        }
        Ok(Rtnl {
            socket,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUFFER),
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn serialize(&mut self, msg: Rt, flags: u16, out: &mut Vec<u8>) -> u32 {
        let seq = self.next_seq();
        let mut nl =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(msg));
        nl.header.flags = NLM_F_REQUEST | flags;
        nl.header.sequence_number = seq;
        nl.finalize();
        let start = out.len();
        out.resize(start + nl.buffer_len(), 0);
        nl.serialize(&mut out[start..]);
        seq
    }

    /// Reads one datagram and hands each message in it to `f`.
    fn recv_each(
        &mut self,
        mut f: impl FnMut(NetlinkMessage<Rt>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.buf.clear();
        // MSG_TRUNC: recv returns the real length, so truncation is noticed
        let n = self.socket.recv(&mut self.buf, libc::MSG_TRUNC)?;
        if n > self.buf.len() {
            return Err(invalid_data("netlink: a reply did not fit the buffer"));
        }
        let mut offset = 0;
        while offset < n {
            let msg = NetlinkMessage::<Rt>::deserialize(&self.buf[offset..n])
                .map_err(|e| invalid_data(format!("netlink: {e}")))?;
            let len = msg.header.length as usize;
            if len == 0 {
                return Err(invalid_data("netlink: a message of length 0"));
            }
            offset += (len + 3) & !3;
            f(msg)?;
        }
        Ok(())
    }

    fn dump(&mut self, request: Rt) -> io::Result<Vec<Rt>> {
        let mut out = Vec::new();
        let seq = self.serialize(request, NLM_F_DUMP, &mut out);
        self.socket.send(&out, 0)?;
        let mut replies = Vec::new();
        let mut done = false;
        while !done {
            self.recv_each(|msg| {
                if msg.header.sequence_number != seq {
                    return Ok(());
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => done = true,
                    NetlinkPayload::Error(e) if e.code.is_some() => return Err(e.to_io()),
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    _ => {}
                }
                Ok(())
            })?;
        }
        Ok(replies)
    }

    /// The all-zero-MAC FDB entries of the VXLAN interface `vxlan`.
    pub fn fdb(&mut self, vxlan: u32) -> io::Result<Vec<FdbEntry>> {
        let request = Rt::Request {
            message_type: RTM_GETNEIGH,
            header: Header::Neigh(NeighbourHeader {
                family: AddressFamily::Bridge,
                ifindex: vxlan,
                ..NeighbourHeader::default()
            }),
            attrs: Vec::new(),
        };
        let replies = self.dump(request)?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                Rt::Fdb(ifindex, entry) if ifindex == vxlan => entry,
                _ => None,
            })
            .collect())
    }

    /// The routes of `protocol` in all tables, of one address family, out
    /// of `oif` if given.
    pub fn routes(&mut self, ipv6: bool, protocol: u8, oif: Option<u32>) -> io::Result<Vec<Route>> {
        let header = RouteHeader {
            address_family: if ipv6 {
                AddressFamily::Inet6
            } else {
                AddressFamily::Inet
            },
            protocol: RouteProtocol::from(protocol),
            ..RouteHeader::default()
        };
        let request = Rt::Request {
            message_type: RTM_GETROUTE,
            header: Header::Route(header),
            attrs: oif.map(|i| Attr::U32(RTA_OIF, i)).into_iter().collect(),
        };
        let replies = self.dump(request)?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                Rt::Route(r) => Some(r),
                _ => None,
            })
            .filter(|r| r.protocol == protocol && (oif.is_none() || r.oif == oif))
            .collect())
    }

    /// Applies `ops` in batches; the index and error of each that failed
    /// (adding what exists and removing what is gone are no failures).
    pub fn apply(&mut self, ops: &[Op]) -> io::Result<Vec<(usize, io::Error)>> {
        let mut failed = Vec::new();
        let mut out = Vec::with_capacity(BATCH * 64);
        for (chunk_no, chunk) in ops.chunks(BATCH).enumerate() {
            out.clear();
            let base = chunk_no * BATCH;
            let first_seq = self.seq.wrapping_add(1);
            for op in chunk {
                let (msg, flags) = op_message(op);
                self.serialize(msg, flags | NLM_F_ACK, &mut out);
            }
            self.socket.send(&out, 0)?;
            let mut acked = 0;
            while acked < chunk.len() {
                self.recv_each(|msg| {
                    let i = msg.header.sequence_number.wrapping_sub(first_seq) as usize;
                    if i >= chunk.len() {
                        return Ok(()); // not of this batch
                    }
                    if let NetlinkPayload::Error(e) = msg.payload {
                        acked += 1;
                        if e.code.is_some() {
                            let err = e.to_io();
                            if !harmless(&chunk[i], &err) {
                                failed.push((base + i, err));
                            }
                        }
                    }
                    Ok(())
                })?;
            }
        }
        Ok(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::RT_TABLE_MAIN;
    use gluonvpn_testnet::host_order::{u16_bytes, u32_bytes};

    fn bytes(msg: Rt, flags: u16) -> Vec<u8> {
        let mut nl =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(msg));
        nl.header.flags = NLM_F_REQUEST | flags;
        nl.finalize();
        let mut out = vec![0; nl.buffer_len()];
        nl.serialize(&mut out);
        out
    }

    /// The request as the kernel would dump it back.
    fn as_dumped(msg: Rt) -> Rt {
        let mut b = bytes(msg, 0);
        // RTM_DEL*/RTM_NEW* → RTM_NEW*
        let t = u16::from_ne_bytes([b[4], b[5]]);
        let new = if t == RTM_DELNEIGH || t == RTM_NEWNEIGH {
            RTM_NEWNEIGH
        } else {
            RTM_NEWROUTE
        };
        b[4..6].copy_from_slice(&new.to_ne_bytes());
        match NetlinkMessage::<Rt>::deserialize(&b).unwrap().payload {
            NetlinkPayload::InnerMessage(m) => m,
            other => panic!("{other:?}"),
        }
    }

    /// A netlink attribute header as the kernel reads it: length and type,
    /// each a u16 in the host's byte order (big-endian on mips_24kc).
    fn nla(len: u16, kind: u16) -> Vec<u8> {
        [u16_bytes(len), u16_bytes(kind)].concat()
    }

    /// A u32 attribute: its header, then the value in the host's order.
    fn nla_u32(kind: u16, value: u32) -> Vec<u8> {
        [nla(8, kind), u32_bytes(value)].concat()
    }

    #[test]
    fn fdb_append_is_what_bridge_sends() {
        let dst: Ipv6Addr = "fe80::211:22ff:fe33:4455".parse().unwrap();
        let (msg, flags) = op_message(&Op::AddFdb { vxlan: 5, dst });
        let b = bytes(msg, flags);
        // nlmsghdr: type RTM_NEWNEIGH, flags REQUEST|CREATE|APPEND
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), RTM_NEWNEIGH);
        assert_eq!(u16::from_ne_bytes([b[6], b[7]]), 0x1 | 0x400 | 0x800);
        // ndmsg: AF_BRIDGE, ifindex 5, NUD_NOARP|NUD_PERMANENT, NTF_SELF
        assert_eq!(b[16], libc::AF_BRIDGE as u8);
        assert_eq!(u32::from_ne_bytes([b[20], b[21], b[22], b[23]]), 5);
        assert_eq!(u16::from_ne_bytes([b[24], b[25]]), 0xc0);
        assert_eq!(b[26], 0x02);
        // NDA_LLADDR (6 zero bytes, padded), NDA_DST (16 bytes)
        assert_eq!(&b[28..32], nla(10, 2).as_slice());
        assert_eq!(&b[32..38], &[0; 6]);
        assert_eq!(&b[40..44], nla(20, 1).as_slice());
        assert_eq!(&b[44..60], &dst.octets());
        assert_eq!(b.len(), 60);
    }

    #[test]
    fn route_add_is_what_ip_route_sends() {
        let dst: Ipv6Addr = "fe80::211:22ff:fe33:4455".parse().unwrap();
        let (msg, flags) = op_message(&Op::AddRoute { dst, oif: 9 });
        let b = bytes(msg, flags);
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), RTM_NEWROUTE);
        assert_eq!(u16::from_ne_bytes([b[6], b[7]]), 0x1 | 0x400 | 0x200);
        // rtmsg: AF_INET6, /128, no src, tos 0, main, proto 129, universe, unicast
        assert_eq!(&b[16..24], &[10, 128, 0, 0, 254, 129, 0, 1]);
        // RTA_DST, RTA_OIF 9, RTA_TABLE 254
        assert_eq!(&b[28..32], nla(20, 1).as_slice());
        assert_eq!(&b[32..48], &dst.octets());
        assert_eq!(&b[48..56], nla_u32(4, 9).as_slice());
        assert_eq!(&b[56..64], nla_u32(15, 254).as_slice());
        // On this host, as `ip route` writes it:
        if cfg!(target_endian = "little") {
            assert_eq!(&b[48..56], &[8, 0, 4, 0, 9, 0, 0, 0]);
        } else {
            assert_eq!(&b[48..56], &[0, 8, 0, 4, 0, 0, 0, 9]);
        }
        assert_eq!(b.len(), 64);
    }

    #[test]
    fn dumped_entries_are_read_back() {
        let dst: Ipv6Addr = "fe80::211:22ff:fe33:4455".parse().unwrap();
        let entry = FdbEntry {
            dst: IpAddr::V6(dst),
            port: Some(8472),
            vni: Some(99),
            ifindex: Some(3),
        };
        let (msg, _) = op_message(&Op::DelFdb { vxlan: 5, entry });
        let Rt::Fdb(5, Some(back)) = as_dumped(msg) else {
            panic!("not read back")
        };
        assert_eq!(back, entry);
        // a MAC other than all-zero is not an entry of the glue's kind
        let mut other = fdb_request(RTM_NEWNEIGH, 5, &entry);
        if let Rt::Request { attrs, .. } = &mut other {
            attrs[0] = Attr::Lladdr([2, 0, 0, 0, 0, 1]);
        }
        assert!(matches!(as_dumped(other), Rt::Fdb(5, None)));

        let route = Route {
            table: 1000,
            metric: Some(1024),
            ..Route::host(dst, 9)
        };
        let (msg, _) = op_message(&Op::DelRoute { route });
        let b = bytes(msg.clone(), 0);
        assert_eq!(b[20], 252, "RT_TABLE_COMPAT in the header");
        let Rt::Route(back) = as_dumped(msg) else {
            panic!()
        };
        assert_eq!(back, route);
        let (msg, _) = op_message(&Op::AddRoute { dst, oif: 9 });
        let Rt::Route(back) = as_dumped(msg) else {
            panic!()
        };
        assert_eq!(back, Route::host(dst, 9));
        assert_eq!(back.table, RT_TABLE_MAIN);
    }
}
