//! Routes for the chosen peer's allowed IPs, as the original adds them with
//! `ip route add <allowed ip> dev <interface>` (and deletes them with the
//! peer): one rtnetlink request each, to the main table, protocol `boot`,
//! scope `link` for IPv4 — what `ip route add` sends.

use gluonvpn_wg::AllowedIp;
use std::io;
use std::net::IpAddr;

// rtnetlink constants (linux/netlink.h, linux/rtnetlink.h): stable ABI
const NETLINK_ROUTE: libc::c_int = 0;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_NOWHERE: u8 = 255;
const RTN_UNICAST: u8 = 1;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;

/// The network address of a prefix (host bits cleared): the kernel refuses
/// IPv4 routes with host bits set.
fn network(ip: AllowedIp) -> Vec<u8> {
    let mut bytes = match ip.addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let len = usize::from(ip.prefix_len);
    for (i, b) in bytes.iter_mut().enumerate() {
        let keep = len.saturating_sub(i * 8).min(8);
        *b &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
    }
    bytes
}

fn attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

/// The request for adding or deleting `ip` via interface `ifindex`.
fn message(add: bool, ifindex: u32, ip: AllowedIp, seq: u32) -> Vec<u8> {
    let v4 = ip.addr.is_ipv4();
    let (kind, flags) = if add {
        (
            RTM_NEWROUTE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
    } else {
        (RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK)
    };
    let scope = match (add, v4) {
        (true, true) => RT_SCOPE_LINK,
        (false, true) => RT_SCOPE_NOWHERE,
        (_, false) => RT_SCOPE_UNIVERSE,
    };
    let mut buf = Vec::with_capacity(64);
    // struct nlmsghdr: length (filled in below), type, flags, seq, pid
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    // struct rtmsg
    let family = if v4 { libc::AF_INET } else { libc::AF_INET6 } as u8;
    buf.extend_from_slice(&[
        family,
        ip.prefix_len,
        0, // src_len
        0, // tos
        RT_TABLE_MAIN,
        if add { RTPROT_BOOT } else { 0 },
        scope,
        if add { RTN_UNICAST } else { 0 },
    ]);
    buf.extend_from_slice(&0u32.to_ne_bytes()); // rtm_flags
    attr(&mut buf, RTA_DST, &network(ip));
    attr(&mut buf, RTA_OIF, &ifindex.to_ne_bytes());
    let len = buf.len() as u32;
    buf[..4].copy_from_slice(&len.to_ne_bytes());
    buf
}

/// Sends one request and waits for the kernel's acknowledgement.
fn request(msg: &[u8], seq: u32) -> io::Result<()> {
    // SAFETY: plain socket calls on a descriptor this function owns and
    // closes; buffers are valid for the lengths given.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_ROUTE,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let result = (|| {
            let mut addr: libc::sockaddr_nl = std::mem::zeroed();
            addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            let sent = libc::sendto(
                fd,
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            );
            if sent < 0 {
                return Err(io::Error::last_os_error());
            }
            let timeout = libc::timeval {
                tv_sec: 5,
                tv_usec: 0,
            };
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
            let mut buf = [0u8; 1024];
            loop {
                let n = libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0);
                if n < 0 {
                    return Err(io::Error::last_os_error());
                }
                let reply = &buf[..n as usize];
                // struct nlmsghdr, then for NLMSG_ERROR the error code
                if reply.len() < 20 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "short rtnetlink reply",
                    ));
                }
                let kind = u16::from_ne_bytes([reply[4], reply[5]]);
                let rseq = u32::from_ne_bytes([reply[8], reply[9], reply[10], reply[11]]);
                if kind != NLMSG_ERROR || rseq != seq {
                    continue;
                }
                let code = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
                return if code == 0 {
                    Ok(())
                } else {
                    Err(io::Error::from_raw_os_error(-code))
                };
            }
        })();
        libc::close(fd);
        result
    }
}

fn seq() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(1);
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// `ip route add IP dev IFINDEX`; an existing route is `AlreadyExists`.
pub fn add(ifindex: u32, ip: AllowedIp) -> io::Result<()> {
    let seq = seq();
    request(&message(true, ifindex, ip, seq), seq)
}

/// `ip route del IP dev IFINDEX`; a missing route is an error with ESRCH.
pub fn del(ifindex: u32, ip: AllowedIp) -> io::Result<()> {
    let seq = seq();
    request(&message(false, ifindex, ip, seq), seq)
}

/// Whether an error from [`del`] only says there was no such route.
pub fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ESRCH) | Some(libc::ENOENT) | Some(libc::ENODEV)
    )
}

/// An interface's index, `None` if there is no such interface (in this
/// network namespace).
pub fn if_index(ifname: &str) -> Option<u32> {
    let name = std::ffi::CString::new(ifname).ok()?;
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gluonvpn_testnet::host_order::{u16_bytes as host16, u32_bytes as host32};

    #[test]
    fn prefixes_lose_their_host_bits() {
        assert_eq!(network("198.18.5.77/24".parse().unwrap()), [198, 18, 5, 0]);
        assert_eq!(network("198.18.5.77/15".parse().unwrap()), [198, 18, 0, 0]);
        assert_eq!(network("198.18.5.77/0".parse().unwrap()), [0, 0, 0, 0]);
        assert_eq!(
            network("fe80::1/128".parse().unwrap()),
            "fe80::1".parse::<std::net::Ipv6Addr>().unwrap().octets()
        );
        assert_eq!(
            network("fd00:1:2:3::1/52".parse().unwrap())[..8],
            [0xfd, 0, 0, 1, 0, 2, 0, 0]
        );
    }

    #[test]
    fn requests_are_laid_out_like_ip_route() {
        let m = message(true, 7, "fe80::1/128".parse().unwrap(), 42);
        // what `ip -6 route add fe80::1/128 dev <ifindex 7> proto boot`
        // sends: nlmsghdr 16, rtmsg 12, RTA_DST 20, RTA_OIF 8
        let expected = [
            host32(56),
            host16(RTM_NEWROUTE),
            host16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
            host32(42),
            host32(0),
            vec![libc::AF_INET6 as u8, 128, 0, 0],
            vec![RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST],
            host32(0),
            host16(20),
            host16(RTA_DST),
            "fe80::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
                .to_vec(),
            host16(8),
            host16(RTA_OIF),
            host32(7),
        ]
        .concat();
        assert_eq!(m, expected);
        let d = message(false, 7, "198.18.0.0/16".parse().unwrap(), 43);
        assert_eq!(d.len(), 16 + 12 + 8 + 8);
        assert_eq!(d[..4], host32(44)[..]);
        assert_eq!(d[22], RT_SCOPE_NOWHERE);
        assert_eq!(d[32..36], [198, 18, 0, 0]);
    }
}
