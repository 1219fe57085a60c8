//! WireGuard access for gluonvpn's agents (wireguard-vxlan-glue on gateways,
//! wgpeerselector on nodes): read a device and its peers, add, update and
//! remove peers, set the private key — with the kernel module (generic
//! netlink) and with userspace implementations such as wireguard-go (the
//! UAPI socket `/var/run/wireguard/<ifname>.sock`), blocking, without an
//! async runtime.
//!
//! ```no_run
//! use gluonvpn_wg::{AllowedIp, PeerConfig, WireGuard};
//! # fn main() -> std::io::Result<()> {
//! let mut wg = WireGuard::open("wg_mesh")?; // the UAPI socket if present, else the kernel
//! for peer in wg.peers()? {
//!     println!("{} {:?}", peer.public_key, peer.latest_handshake_secs());
//! }
//! let key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=".parse().unwrap();
//! wg.set_peer(
//!     &PeerConfig::new(key)
//!         .endpoint("198.18.0.1:51820".parse().unwrap())
//!         .replace_allowed_ips(vec!["fe80::1/128".parse().unwrap()]),
//! )?;
//! wg.remove_peer(&key)?;
//! # Ok(())
//! # }
//! ```
//!
//! Errors are `std::io::Error`s: what the kernel or the userspace daemon
//! answered (`errno`), `NotFound` when there is no such WireGuard interface,
//! `InvalidData` for a reply that does not parse.

#[cfg(not(any(feature = "kernel", feature = "userspace")))]
compile_error!("gluonvpn-wg needs the `kernel` or the `userspace` feature, or both");

mod key;
#[cfg(feature = "kernel")]
mod netlink;
#[cfg(feature = "userspace")]
mod uapi;

pub use key::{Key, KeyError, SecretKey, KEY_LEN};

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where userspace implementations put their UAPI sockets (wireguard-go,
/// boringtun, `wg` all agree on it).
pub const UAPI_DIR: &str = "/var/run/wireguard";

/// An allowed IP: an address and a prefix length, like `fe80::1/128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AllowedIp {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl AllowedIp {
    /// An allowed IP, if the prefix length fits the address family.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Option<Self> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix_len <= max).then_some(AllowedIp { addr, prefix_len })
    }

    /// A host route: `/32` or `/128`.
    pub fn host(addr: IpAddr) -> Self {
        let prefix_len = if addr.is_ipv4() { 32 } else { 128 };
        AllowedIp { addr, prefix_len }
    }
}

impl fmt::Display for AllowedIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// Why an allowed IP did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedIpError;

impl fmt::Display for AllowedIpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected an address and a prefix length, like fe80::1/128")
    }
}

impl std::error::Error for AllowedIpError {}

impl FromStr for AllowedIp {
    type Err = AllowedIpError;

    /// `ADDRESS/PREFIX` or a bare address (a host route), as `wg` accepts.
    fn from_str(s: &str) -> Result<Self, AllowedIpError> {
        match s.split_once('/') {
            Some((addr, len)) => {
                let addr: IpAddr = addr.parse().map_err(|_| AllowedIpError)?;
                if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AllowedIpError);
                }
                let len: u8 = len.parse().map_err(|_| AllowedIpError)?;
                AllowedIp::new(addr, len).ok_or(AllowedIpError)
            }
            None => s.parse().map(AllowedIp::host).map_err(|_| AllowedIpError),
        }
    }
}

/// A peer as the device reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub public_key: Key,
    /// Whether a preshared key is set (its value is not returned).
    pub has_preshared_key: bool,
    pub endpoint: Option<SocketAddr>,
    pub allowed_ips: Vec<AllowedIp>,
    /// When the latest handshake completed; `None` if there was none yet.
    pub latest_handshake: Option<SystemTime>,
    /// Persistent keepalive interval in seconds; `None` when off.
    pub persistent_keepalive: Option<u16>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub protocol_version: u32,
}

impl Peer {
    /// A peer with nothing but its key, to be filled in from a device's
    /// report.
    pub fn new(public_key: Key) -> Peer {
        Peer {
            public_key,
            has_preshared_key: false,
            endpoint: None,
            allowed_ips: Vec::new(),
            latest_handshake: None,
            persistent_keepalive: None,
            rx_bytes: 0,
            tx_bytes: 0,
            protocol_version: 0,
        }
    }

    /// The latest handshake in whole seconds since the Unix epoch, 0 if
    /// there was none — what `wg show IF latest-handshakes` prints.
    pub fn latest_handshake_secs(&self) -> u64 {
        self.latest_handshake
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs())
    }

    /// How long ago the latest handshake was, seen from `now`; `None` if
    /// there was none. A handshake "in the future" (the clock was set back)
    /// counts as just now.
    pub fn handshake_age(&self, now: SystemTime) -> Option<Duration> {
        let t = self.latest_handshake?;
        Some(now.duration_since(t).unwrap_or(Duration::ZERO))
    }
}

/// A device as it reports itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub ifname: String,
    /// The device's public key; the kernel reports it, the UAPI does not
    /// (it has only the private key, which this crate never returns).
    pub public_key: Option<Key>,
    /// Whether a private key is set.
    pub has_private_key: bool,
    pub listen_port: u16,
    pub fwmark: u32,
    pub peers: Vec<Peer>,
}

impl Device {
    /// A device with nothing but its name, to be filled in from its report.
    pub fn new(ifname: &str) -> Device {
        Device {
            ifname: ifname.to_string(),
            public_key: None,
            has_private_key: false,
            listen_port: 0,
            fwmark: 0,
            peers: Vec::new(),
        }
    }
}

/// A change to one peer: creates it, updates it, or removes it. Fields left
/// at `None` (and an empty `allowed_ips` without `replace_allowed_ips`)
/// leave the peer's current value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    pub public_key: Key,
    /// Remove the peer (every other field is ignored).
    pub remove: bool,
    /// Only change an existing peer; never create one.
    pub update_only: bool,
    /// `Some(key)` sets the preshared key; an all-zero key removes it.
    pub preshared_key: Option<SecretKey>,
    pub endpoint: Option<SocketAddr>,
    /// Seconds; `Some(0)` turns persistent keepalive off.
    pub persistent_keepalive: Option<u16>,
    /// Replace the peer's allowed IPs by `allowed_ips` (instead of adding
    /// them to the ones it has).
    pub replace_allowed_ips: bool,
    pub allowed_ips: Vec<AllowedIp>,
}

impl PeerConfig {
    /// A change that creates the peer if it does not exist and changes
    /// nothing else yet.
    pub fn new(public_key: Key) -> Self {
        PeerConfig {
            public_key,
            remove: false,
            update_only: false,
            preshared_key: None,
            endpoint: None,
            persistent_keepalive: None,
            replace_allowed_ips: false,
            allowed_ips: Vec::new(),
        }
    }

    /// Removing the peer.
    pub fn remove(public_key: Key) -> Self {
        PeerConfig {
            remove: true,
            ..PeerConfig::new(public_key)
        }
    }

    /// Sets the endpoint.
    pub fn endpoint(mut self, endpoint: SocketAddr) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Sets the persistent keepalive interval (0: off).
    pub fn persistent_keepalive(mut self, seconds: u16) -> Self {
        self.persistent_keepalive = Some(seconds);
        self
    }

    /// Sets the preshared key.
    pub fn preshared_key(mut self, key: SecretKey) -> Self {
        self.preshared_key = Some(key);
        self
    }

    /// Makes `ips` the peer's allowed IPs (an empty list removes them all).
    pub fn replace_allowed_ips(mut self, ips: Vec<AllowedIp>) -> Self {
        self.replace_allowed_ips = true;
        self.allowed_ips = ips;
        self
    }

    /// Adds `ips` to the peer's allowed IPs.
    pub fn add_allowed_ips(mut self, ips: impl IntoIterator<Item = AllowedIp>) -> Self {
        self.allowed_ips.extend(ips);
        self
    }

    /// Only changes the peer if it exists.
    pub fn update_only(mut self) -> Self {
        self.update_only = true;
        self
    }
}

/// A change to a device: keys, port, mark and any number of peers, applied
/// in one request where the backend allows (the kernel splits large
/// changes over several netlink messages).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceConfig {
    pub private_key: Option<SecretKey>,
    pub listen_port: Option<u16>,
    /// `Some(0)` removes the mark.
    pub fwmark: Option<u32>,
    /// Remove every peer not in `peers`.
    pub replace_peers: bool,
    pub peers: Vec<PeerConfig>,
}

/// Which implementation to talk to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The UAPI socket `/var/run/wireguard/<ifname>.sock` if it exists
    /// (as `wg` decides), else the kernel.
    Auto,
    /// The kernel module over generic netlink.
    Kernel,
    /// A userspace implementation at `/var/run/wireguard/<ifname>.sock`.
    Userspace,
    /// A userspace implementation at this UAPI socket.
    UserspaceSocket(PathBuf),
}

/// The backend a [`WireGuard`] handle uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Kernel,
    Userspace,
}

enum Inner {
    #[cfg(feature = "kernel")]
    Kernel(netlink::Genl),
    #[cfg(feature = "userspace")]
    Userspace(PathBuf),
}

/// One WireGuard interface.
pub struct WireGuard {
    ifname: String,
    inner: Inner,
}

#[cfg(not(all(feature = "kernel", feature = "userspace")))]
fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("gluonvpn-wg was built without the {what} backend"),
    )
}

/// The UAPI socket path of an interface.
pub fn uapi_socket_path(ifname: &str) -> PathBuf {
    Path::new(UAPI_DIR).join(format!("{ifname}.sock"))
}

fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

impl WireGuard {
    /// The interface `ifname`, over its UAPI socket if there is one, else
    /// over the kernel's netlink.
    pub fn open(ifname: &str) -> io::Result<Self> {
        WireGuard::open_with(ifname, Backend::Auto)
    }

    /// The interface `ifname` over the given backend. Opening does not
    /// check that the interface exists; the first request does.
    pub fn open_with(ifname: &str, backend: Backend) -> io::Result<Self> {
        if ifname.is_empty() || ifname.len() > 15 || ifname.contains(['/', '\0']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid interface name {ifname:?}"),
            ));
        }
        let backend = match backend {
            Backend::Auto => {
                let path = uapi_socket_path(ifname);
                if is_socket(&path) {
                    Backend::UserspaceSocket(path)
                } else {
                    Backend::Kernel
                }
            }
            Backend::Userspace => Backend::UserspaceSocket(uapi_socket_path(ifname)),
            other => other,
        };
        let inner = match backend {
            #[cfg(feature = "userspace")]
            Backend::UserspaceSocket(path) => Inner::Userspace(path),
            #[cfg(not(feature = "userspace"))]
            Backend::UserspaceSocket(_) => return Err(unsupported("userspace")),
            #[cfg(feature = "kernel")]
            Backend::Kernel => Inner::Kernel(netlink::Genl::new()?),
            #[cfg(not(feature = "kernel"))]
            Backend::Kernel => return Err(unsupported("kernel")),
            Backend::Auto | Backend::Userspace => unreachable!("resolved above"),
        };
        Ok(WireGuard {
            ifname: ifname.to_string(),
            inner,
        })
    }

    /// The interface's name.
    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    /// The backend in use.
    pub fn backend(&self) -> BackendKind {
        match self.inner {
            #[cfg(feature = "kernel")]
            Inner::Kernel(_) => BackendKind::Kernel,
            #[cfg(feature = "userspace")]
            Inner::Userspace(_) => BackendKind::Userspace,
        }
    }

    /// The device and all its peers.
    pub fn device(&mut self) -> io::Result<Device> {
        match &mut self.inner {
            #[cfg(feature = "kernel")]
            Inner::Kernel(genl) => genl.get_device(&self.ifname),
            #[cfg(feature = "userspace")]
            Inner::Userspace(path) => uapi::get_device(path, &self.ifname),
        }
    }

    /// All peers of the device.
    pub fn peers(&mut self) -> io::Result<Vec<Peer>> {
        self.device().map(|d| d.peers)
    }

    /// Applies a change to the device.
    pub fn configure(&mut self, config: &DeviceConfig) -> io::Result<()> {
        match &mut self.inner {
            #[cfg(feature = "kernel")]
            Inner::Kernel(genl) => genl.set_device(&self.ifname, config),
            #[cfg(feature = "userspace")]
            Inner::Userspace(path) => uapi::set_device(path, config),
        }
    }

    /// Creates, updates or removes one peer.
    pub fn set_peer(&mut self, peer: &PeerConfig) -> io::Result<()> {
        self.set_peers(std::slice::from_ref(peer))
    }

    /// Creates, updates or removes several peers in one request.
    pub fn set_peers(&mut self, peers: &[PeerConfig]) -> io::Result<()> {
        self.configure(&DeviceConfig {
            peers: peers.to_vec(),
            ..DeviceConfig::default()
        })
    }

    /// Adds a peer (or updates it if it exists) with an endpoint, allowed
    /// IPs (replacing any it had) and a persistent keepalive (0: off).
    pub fn add_peer(
        &mut self,
        public_key: Key,
        endpoint: Option<SocketAddr>,
        allowed_ips: Vec<AllowedIp>,
        persistent_keepalive: u16,
    ) -> io::Result<()> {
        let mut peer = PeerConfig::new(public_key)
            .replace_allowed_ips(allowed_ips)
            .persistent_keepalive(persistent_keepalive);
        peer.endpoint = endpoint;
        self.set_peer(&peer)
    }

    /// Removes a peer; removing a peer that does not exist is no error.
    pub fn remove_peer(&mut self, public_key: &Key) -> io::Result<()> {
        self.set_peer(&PeerConfig::remove(*public_key))
    }

    /// Replaces an existing peer's allowed IPs (never creates the peer).
    pub fn replace_allowed_ips(
        &mut self,
        public_key: &Key,
        allowed_ips: Vec<AllowedIp>,
    ) -> io::Result<()> {
        self.set_peer(
            &PeerConfig::new(*public_key)
                .update_only()
                .replace_allowed_ips(allowed_ips),
        )
    }

    /// Sets the device's private key.
    pub fn set_private_key(&mut self, key: &SecretKey) -> io::Result<()> {
        self.configure(&DeviceConfig {
            private_key: Some(key.clone()),
            ..DeviceConfig::default()
        })
    }

    /// Sets the UDP port the device listens on (0: a random one).
    pub fn set_listen_port(&mut self, port: u16) -> io::Result<()> {
        self.configure(&DeviceConfig {
            listen_port: Some(port),
            ..DeviceConfig::default()
        })
    }
}

impl fmt::Debug for WireGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireGuard")
            .field("ifname", &self.ifname)
            .field("backend", &self.backend())
            .finish()
    }
}

/// `InvalidData` with a message, for replies that do not parse.
pub(crate) fn invalid_data(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_ips_parse_like_wg() {
        let ip: AllowedIp = "fe80::1/128".parse().unwrap();
        assert_eq!(ip.to_string(), "fe80::1/128");
        assert_eq!("198.18.0.0/15".parse::<AllowedIp>().unwrap().prefix_len, 15);
        assert_eq!(
            "198.18.0.1".parse::<AllowedIp>().unwrap(),
            AllowedIp::host("198.18.0.1".parse().unwrap())
        );
        for bad in [
            "198.18.0.0/33",
            "fe80::/129",
            "fe80::/",
            "x/1",
            "::/+1",
            "::/0001",
        ] {
            assert!(bad.parse::<AllowedIp>().is_err(), "{bad}");
        }
    }

    #[test]
    fn handshake_times() {
        let mut peer = Peer {
            public_key: Key([1; 32]),
            has_preshared_key: false,
            endpoint: None,
            allowed_ips: vec![],
            latest_handshake: None,
            persistent_keepalive: None,
            rx_bytes: 0,
            tx_bytes: 0,
            protocol_version: 1,
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(peer.latest_handshake_secs(), 0);
        assert_eq!(peer.handshake_age(now), None);
        peer.latest_handshake = Some(UNIX_EPOCH + Duration::from_millis(999_990_500));
        assert_eq!(peer.latest_handshake_secs(), 999_990);
        assert_eq!(peer.handshake_age(now), Some(Duration::from_millis(9_500)));
        assert_eq!(
            peer.handshake_age(now - Duration::from_secs(20)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn interface_names_are_checked() {
        for bad in ["", "a/b", "sixteen-chars-xx"] {
            assert!(WireGuard::open_with(bad, Backend::Userspace).is_err());
        }
        let wg = WireGuard::open_with("wg0", Backend::Userspace).unwrap();
        assert_eq!(wg.backend(), BackendKind::Userspace);
    }
}
