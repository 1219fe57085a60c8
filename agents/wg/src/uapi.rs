//! The cross-platform userspace API of WireGuard implementations
//! (wireguard-go, boringtun, …): a Unix socket speaking `key=value` lines.
//!
//! * `get=1\n\n` → the device's `key=value` lines, then `errno=N\n\n`.
//! * `set=1\n` + `key=value` lines + `\n` → `errno=N\n\n`.
//!
//! Keys are hex. Device keys come first; each `public_key=` starts a peer
//! and the keys after it belong to that peer. wireguard-go answers errors
//! with negative numbers (`errno=-22`), the documentation with positive
//! ones: both are accepted. Unknown keys in a reply are skipped, so newer
//! implementations stay readable.

use crate::{invalid_data, AllowedIp, Device, DeviceConfig, Key, Peer, SecretKey};
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

/// How long to wait for a reply: a daemon that hangs must not hang its
/// callers forever. Reading 10,000 peers from wireguard-go takes well under
/// a second.
const TIMEOUT: Duration = Duration::from_secs(10);

fn connect(path: &Path) -> io::Result<UnixStream> {
    let stream = UnixStream::connect(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::ConnectionRefused {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no WireGuard daemon at {}: {e}", path.display()),
            )
        } else {
            e
        }
    })?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}

/// `errno=N` → `Ok` for 0, the OS error otherwise.
fn check_errno(value: &str) -> io::Result<()> {
    let n: i32 = value
        .parse()
        .map_err(|_| invalid_data(format!("UAPI: bad errno {value:?}")))?;
    match n {
        0 => Ok(()),
        n => Err(io::Error::from_raw_os_error(n.saturating_abs())),
    }
}

fn num<T: std::str::FromStr>(key: &str, value: &str) -> io::Result<T> {
    value
        .parse()
        .map_err(|_| invalid_data(format!("UAPI: bad {key} {value:?}")))
}

/// An endpoint as the UAPI prints it: `198.18.0.1:51820`, `[fd00::1]:51820`,
/// `[fe80::1%eth0]:51820` (a named zone is dropped: `SocketAddr` holds only
/// numeric scope ids).
fn parse_endpoint(value: &str) -> io::Result<SocketAddr> {
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    if let (Some(pct), Some(close)) = (value.find('%'), value.find(']')) {
        if pct < close {
            let without_zone = format!("{}{}", &value[..pct], &value[close..]);
            if let Ok(addr) = without_zone.parse() {
                return Ok(addr);
            }
        }
    }
    Err(invalid_data(format!("UAPI: bad endpoint {value:?}")))
}

/// Reads the reply to `get=1` from `reader`, line by line (10,000 peers are
/// about 4 MB of text; they are never held as text at once).
pub(crate) fn parse_get(reader: &mut impl BufRead, ifname: &str) -> io::Result<Device> {
    let mut device = Device::new(ifname);
    // seconds and nanoseconds of the current peer's handshake
    let mut hs: (u64, u32) = (0, 0);
    let finish = |peer: Option<&mut Peer>, hs: &mut (u64, u32)| {
        if let Some(peer) = peer {
            if *hs != (0, 0) {
                peer.latest_handshake = Some(UNIX_EPOCH + Duration::new(hs.0, hs.1));
            }
        }
        *hs = (0, 0);
    };
    let mut line = String::new();
    let mut errno_seen = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "UAPI: the reply ended early",
            ));
        }
        let l = line.strip_suffix('\n').unwrap_or(&line);
        if l.is_empty() {
            break;
        }
        let (key, value) = l
            .split_once('=')
            .ok_or_else(|| invalid_data(format!("UAPI: bad line {l:?}")))?;
        if key == "errno" {
            check_errno(value)?;
            errno_seen = true;
            continue;
        }
        if key == "public_key" {
            finish(device.peers.last_mut(), &mut hs);
            let k = Key::from_hex(value).map_err(|e| invalid_data(format!("UAPI: {e}")))?;
            device.peers.push(Peer::new(k));
            continue;
        }
        match device.peers.last_mut() {
            None => match key {
                "private_key" => {
                    let k = SecretKey::from_hex(value)
                        .map_err(|e| invalid_data(format!("UAPI: {e}")))?;
                    device.has_private_key = k.as_bytes() != &[0; 32];
                }
                "listen_port" => device.listen_port = num(key, value)?,
                "fwmark" => device.fwmark = num(key, value)?,
                _ => {}
            },
            Some(peer) => match key {
                "preshared_key" => {
                    let k = SecretKey::from_hex(value)
                        .map_err(|e| invalid_data(format!("UAPI: {e}")))?;
                    peer.has_preshared_key = k.as_bytes() != &[0; 32];
                }
                "endpoint" => peer.endpoint = Some(parse_endpoint(value)?),
                "last_handshake_time_sec" => hs.0 = num(key, value)?,
                "last_handshake_time_nsec" => {
                    let ns: u32 = num(key, value)?;
                    hs.1 = ns.min(999_999_999);
                }
                "tx_bytes" => peer.tx_bytes = num(key, value)?,
                "rx_bytes" => peer.rx_bytes = num(key, value)?,
                "persistent_keepalive_interval" => {
                    let s: u16 = num(key, value)?;
                    peer.persistent_keepalive = (s != 0).then_some(s);
                }
                "allowed_ip" => peer.allowed_ips.push(
                    value
                        .parse::<AllowedIp>()
                        .map_err(|_| invalid_data(format!("UAPI: bad allowed_ip {value:?}")))?,
                ),
                "protocol_version" => peer.protocol_version = num(key, value)?,
                _ => {}
            },
        }
    }
    finish(device.peers.last_mut(), &mut hs);
    if !errno_seen {
        return Err(invalid_data("UAPI: the reply has no errno"));
    }
    Ok(device)
}

/// The `set=1` request for `config`, with its terminating empty line.
pub(crate) fn format_set(config: &DeviceConfig) -> String {
    let mut out = String::from("set=1\n");
    // writing to a String cannot fail
    if let Some(k) = &config.private_key {
        let _ = writeln!(out, "private_key={}", k.to_hex());
    }
    if let Some(port) = config.listen_port {
        let _ = writeln!(out, "listen_port={port}");
    }
    if let Some(mark) = config.fwmark {
        let _ = writeln!(out, "fwmark={mark}");
    }
    if config.replace_peers {
        out.push_str("replace_peers=true\n");
    }
    for peer in &config.peers {
        let _ = writeln!(out, "public_key={}", peer.public_key.to_hex());
        if peer.remove {
            out.push_str("remove=true\n");
            continue;
        }
        if peer.update_only {
            out.push_str("update_only=true\n");
        }
        if let Some(k) = &peer.preshared_key {
            let _ = writeln!(out, "preshared_key={}", k.to_hex());
        }
        if let Some(endpoint) = peer.endpoint {
            let _ = writeln!(out, "endpoint={endpoint}");
        }
        if let Some(secs) = peer.persistent_keepalive {
            let _ = writeln!(out, "persistent_keepalive_interval={secs}");
        }
        if peer.replace_allowed_ips {
            out.push_str("replace_allowed_ips=true\n");
        }
        for ip in &peer.allowed_ips {
            let _ = writeln!(out, "allowed_ip={ip}");
        }
    }
    out.push('\n');
    out
}

/// Reads the reply to `set=1`: `errno=N` and an empty line.
fn read_set_reply(reader: &mut impl BufRead) -> io::Result<()> {
    let mut line = String::new();
    let mut result = Err(invalid_data("UAPI: the reply has no errno"));
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            // some implementations close right after errno=
            return result;
        }
        let l = line.strip_suffix('\n').unwrap_or(&line);
        if l.is_empty() {
            return result;
        }
        if let Some(value) = l.strip_prefix("errno=") {
            result = check_errno(value);
        }
    }
}

pub(crate) fn get_device(path: &Path, ifname: &str) -> io::Result<Device> {
    let mut stream = connect(path)?;
    stream.write_all(b"get=1\n\n")?;
    parse_get(&mut BufReader::new(stream), ifname)
}

pub(crate) fn set_device(path: &Path, config: &DeviceConfig) -> io::Result<()> {
    let mut stream = connect(path)?;
    let request = format_set(config);
    stream.write_all(request.as_bytes())?;
    // the request holds the private key in hex: clear it
    let mut bytes = request.into_bytes();
    for b in bytes.iter_mut() {
        // SAFETY: a valid exclusive reference; volatile so the write stays.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    read_set_reply(&mut BufReader::new(stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PeerConfig;

    // What wireguard-go v0.0.20220316 answers (captured with `get=1`), with a
    // second peer after a handshake.
    const REPLY: &str =
        "private_key=58fe3444fa8ae8aebb134181fcdd4882c88f18ff7f9f1cb464b86de61c7ca34a
listen_port=51820
public_key=2b427f727a1c47cb5db18887a7c840a9d392ab5ec2fcb61b3daaf967456c1659
preshared_key=0000000000000000000000000000000000000000000000000000000000000000
protocol_version=1
endpoint=198.18.0.2:1234
last_handshake_time_sec=0
last_handshake_time_nsec=0
tx_bytes=0
rx_bytes=0
persistent_keepalive_interval=25
allowed_ip=fe80::1/128
allowed_ip=198.18.0.0/16
public_key=c53201039adba14be71f886da1d8dbe9eebded08cb111b75340078999aa9f038
preshared_key=0101010101010101010101010101010101010101010101010101010101010101
protocol_version=1
endpoint=[fe80::1%veth0]:51820
last_handshake_time_sec=1700000000
last_handshake_time_nsec=250000000
tx_bytes=1184
rx_bytes=92
persistent_keepalive_interval=0
a_future_key=whatever
errno=0

";

    #[test]
    fn parses_a_wireguard_go_reply() {
        let d = parse_get(&mut REPLY.as_bytes(), "wg0").unwrap();
        assert_eq!(d.ifname, "wg0");
        assert!(d.has_private_key);
        assert_eq!(d.listen_port, 51820);
        assert_eq!(d.public_key, None);
        assert_eq!(d.peers.len(), 2);
        let p = &d.peers[0];
        assert_eq!(
            p.public_key.to_string(),
            "K0J/cnocR8tdsYiHp8hAqdOSq17C/LYbPar5Z0VsFlk="
        );
        assert!(!p.has_preshared_key);
        assert_eq!(p.endpoint, Some("198.18.0.2:1234".parse().unwrap()));
        assert_eq!(p.latest_handshake, None);
        assert_eq!(p.persistent_keepalive, Some(25));
        assert_eq!(
            p.allowed_ips,
            vec![
                "fe80::1/128".parse().unwrap(),
                "198.18.0.0/16".parse().unwrap()
            ]
        );
        let p = &d.peers[1];
        assert!(p.has_preshared_key);
        assert_eq!(p.endpoint, Some("[fe80::1]:51820".parse().unwrap()));
        assert_eq!(
            p.latest_handshake,
            Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_250))
        );
        assert_eq!(p.latest_handshake_secs(), 1_700_000_000);
        assert_eq!((p.tx_bytes, p.rx_bytes), (1184, 92));
        assert_eq!(p.persistent_keepalive, None);
        assert!(p.allowed_ips.is_empty());
    }

    #[test]
    fn errors_are_os_errors() {
        for reply in ["errno=-22\n\n", "errno=22\n\n"] {
            let e = parse_get(&mut reply.as_bytes(), "wg0").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(22));
            let e = read_set_reply(&mut reply.as_bytes()).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(22));
        }
        assert!(read_set_reply(&mut "errno=0\n\n".as_bytes()).is_ok());
        assert!(read_set_reply(&mut "errno=0\n".as_bytes()).is_ok());
        assert!(read_set_reply(&mut "".as_bytes()).is_err());
        // cut short, or without errno
        assert!(parse_get(&mut "listen_port=1\n".as_bytes(), "wg0").is_err());
        assert!(parse_get(&mut "listen_port=1\n\n".as_bytes(), "wg0").is_err());
        assert!(parse_get(&mut "listen_port=x\nerrno=0\n\n".as_bytes(), "wg0").is_err());
    }

    #[test]
    fn formats_a_set_request() {
        let key: Key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
            .parse()
            .unwrap();
        let gone = Key([7; 32]);
        let config = DeviceConfig {
            private_key: Some(SecretKey::from_bytes([1; 32])),
            listen_port: Some(51820),
            fwmark: None,
            replace_peers: true,
            peers: vec![
                PeerConfig::new(key)
                    .endpoint("[fd00::1]:51820".parse().unwrap())
                    .persistent_keepalive(0)
                    .replace_allowed_ips(vec!["fe80::1/128".parse().unwrap()]),
                PeerConfig::remove(gone),
                PeerConfig::new(key)
                    .update_only()
                    .add_allowed_ips(["198.18.0.1/32".parse().unwrap()]),
            ],
        };
        assert_eq!(
            format_set(&config),
            format!(
                "set=1\nprivate_key={}\nlisten_port=51820\nreplace_peers=true\n\
                 public_key={k}\nendpoint=[fd00::1]:51820\npersistent_keepalive_interval=0\n\
                 replace_allowed_ips=true\nallowed_ip=fe80::1/128\n\
                 public_key={g}\nremove=true\n\
                 public_key={k}\nupdate_only=true\nallowed_ip=198.18.0.1/32\n\n",
                "01".repeat(32),
                k = key.to_hex(),
                g = gone.to_hex(),
            )
        );
    }
}
