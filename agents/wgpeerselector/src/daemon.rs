//! The daemon: one thread with a `poll(2)` loop over the signals
//! (signalfd), the status socket and a wake-up socket for the helper
//! threads (name resolution, time synchronisation); the selector's
//! decisions run against the WireGuard interface through `gluonvpn-wg`
//! (the kernel's netlink, or wireguard-go's UAPI socket).
//!
//! Like the original it waits for the interface, removes its peers if it
//! finds any (left over from an unclean exit), synchronises the time,
//! connects, and starts over when the interface goes away and comes back.
//! On SIGINT or SIGTERM it removes every configured peer from the interface
//! (with the routes) and exits.
//!
//! With the `ubus` feature the loop also polls the connection to ubusd and
//! answers `ubus call wgpeerselector.<ifname> status` in it (see
//! [`crate::selector::Status`] and the `ubus` module: no uloop, no thread).

use crate::cli::Options;
use crate::config::{self, PeerSpec};
use crate::ntp::{self, TimeSync};
use crate::rng::OsRng;
use crate::route;
use crate::selector::{Link, Params, Selector};
use crate::{debug, error, info, warn};
use gluonvpn_wg::{Key, PeerConfig, WireGuard};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

/// What the helper threads report.
enum Event {
    Resolved(usize, io::Result<Vec<SocketAddr>>),
    /// The first time synchronisation attempt is over.
    TimeAttempted,
}

/// The channel back to the main thread, and the socket that wakes it.
#[derive(Clone)]
struct Notifier {
    events: mpsc::Sender<Event>,
    waker: std::sync::Arc<UnixStream>,
}

impl Notifier {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
        let _ = (&*self.waker).write(&[1]);
    }
}

/// The selector's view of the interface.
struct WgLink<'a> {
    wg: &'a mut WireGuard,
    ifname: &'a str,
    ifindex: u32,
    notifier: &'a Notifier,
}

impl Link for WgLink<'_> {
    fn handshakes(&mut self) -> io::Result<Vec<(Key, Option<SystemTime>)>> {
        Ok(self
            .wg
            .peers()?
            .into_iter()
            .map(|p| (p.public_key, p.latest_handshake))
            .collect())
    }

    fn probe(&mut self, peer: &PeerSpec, endpoint: SocketAddr, keepalive: u16) -> io::Result<()> {
        self.wg.set_peer(
            &PeerConfig::new(peer.public_key)
                .endpoint(endpoint)
                .persistent_keepalive(keepalive)
                .replace_allowed_ips(Vec::new()),
        )
    }

    fn promote(&mut self, peer: &PeerSpec) -> io::Result<()> {
        self.wg.set_peer(
            &PeerConfig::new(peer.public_key)
                .update_only()
                .persistent_keepalive(peer.persistent_keepalive)
                .replace_allowed_ips(peer.allowed_ips.clone()),
        )?;
        for ip in &peer.allowed_ips {
            match route::add(self.ifindex, *ip) {
                Ok(()) => debug!("Added route {ip} to {}.", self.ifname),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    debug!("Route {ip} to {} was there already.", self.ifname)
                }
                Err(e) => warn!("Couldn't add route {ip} to {}: {e}", self.ifname),
            }
        }
        Ok(())
    }

    fn remove(&mut self, peer: &PeerSpec, promoted: bool) -> io::Result<()> {
        self.wg.remove_peer(&peer.public_key)?;
        if promoted {
            remove_routes(self.ifindex, self.ifname, peer);
        }
        Ok(())
    }

    fn resolve(&mut self, index: usize, host: &str, port: u16) {
        let notifier = self.notifier.clone();
        let host = host.to_string();
        debug!("Resolving {host}.");
        let spawned = std::thread::Builder::new()
            .name("resolve".into())
            .stack_size(256 * 1024)
            .spawn({
                let notifier = notifier.clone();
                move || {
                    let result = (host.as_str(), port)
                        .to_socket_addrs()
                        .map(|addrs| addrs.collect());
                    notifier.send(Event::Resolved(index, result));
                }
            });
        if let Err(e) = spawned {
            notifier.send(Event::Resolved(index, Err(e)));
        }
    }
}

fn remove_routes(ifindex: u32, ifname: &str, peer: &PeerSpec) {
    for ip in &peer.allowed_ips {
        if let Err(e) = route::del(ifindex, *ip) {
            if !route::is_missing(&e) {
                warn!("Couldn't delete route {ip} from {ifname}: {e}");
            }
        }
    }
}

/// Removes every configured peer that is on the interface, with its routes.
fn cleanup(wg: &mut WireGuard, ifindex: u32, ifname: &str, peers: &[PeerSpec]) -> io::Result<()> {
    let present = wg.peers()?;
    for peer in peers {
        if present.iter().any(|p| p.public_key == peer.public_key) {
            info!("Removing peer {} from {ifname}.", peer.name);
            wg.remove_peer(&peer.public_key)?;
            remove_routes(ifindex, ifname, peer);
        }
    }
    Ok(())
}

/// SIGINT and SIGTERM, blocked and readable from a descriptor. Done before
/// any thread starts, so that every thread has them blocked.
fn signal_fd() -> io::Result<RawFd> {
    // SAFETY: sigset operations on a zeroed set we own; signalfd returns a
    // new descriptor or -1.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(fd)
    }
}

fn read_signal(fd: RawFd) -> Option<i32> {
    // SAFETY: reading one signalfd_siginfo into a zeroed struct of that size.
    unsafe {
        let mut info: libc::signalfd_siginfo = std::mem::zeroed();
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        let n = libc::read(fd, (&mut info as *mut libc::signalfd_siginfo).cast(), size);
        (n as usize == size).then_some(info.ssi_signo as i32)
    }
}

fn signal_name(signo: i32) -> &'static str {
    match signo {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Changes the process's group (real, effective, saved) as the original's
/// `--group` does: Gluon runs it as `gluon-mesh-vpn`, whose packets (name
/// lookups, NTP) its firewall sends out over the WAN.
fn set_group(name: &str) -> Result<(), String> {
    let c = std::ffi::CString::new(name).map_err(|_| format!("bad group name {name:?}"))?;
    // SAFETY: getgrnam with a valid string; the result is read at once.
    let gid = unsafe {
        let g = libc::getgrnam(c.as_ptr());
        if g.is_null() {
            return Err(format!("unable to find unix group '{name}'"));
        }
        (*g).gr_gid
    };
    // SAFETY: setgid has no memory preconditions.
    if unsafe { libc::setgid(gid) } != 0 {
        return Err(format!(
            "unable to change unix group: {}",
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

fn poll(fds: &mut [libc::pollfd], until: Instant) {
    let wait = until.saturating_duration_since(Instant::now());
    // round up: waking a millisecond early only means a second poll
    let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: a valid array of pollfd for its length.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            // nothing sensible to do but not spin
            warn!("poll: {e}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Files the daemon made, removed when it exits.
struct Files {
    pid_file: Option<PathBuf>,
    socket: Option<PathBuf>,
}

impl Drop for Files {
    fn drop(&mut self) {
        for path in [&self.pid_file, &self.socket].into_iter().flatten() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn status_listener(path: &Path) -> io::Result<UnixListener> {
    // a socket left by an earlier run that died
    if std::fs::symlink_metadata(path).is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_socket()
    }) {
        let _ = std::fs::remove_file(path);
    }
    let listener = UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    use std::os::unix::fs::PermissionsExt;
    // owner and group (`--group`) may ask
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

fn serve_status(listener: &UnixListener, selector: &Selector) {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let mut doc = selector.status_json(Instant::now());
                doc.push('\n');
                let _ = stream.write_all(doc.as_bytes());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                debug!("status socket: {e}");
                return;
            }
        }
    }
}

/// `wgpeerselector status`: the running selector's status document.
pub fn print_status(socket: &Path) -> i32 {
    let mut text = String::new();
    match UnixStream::connect(socket).and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.read_to_string(&mut text)
    }) {
        Ok(_) => {
            print!("{text}");
            0
        }
        Err(e) => {
            eprintln!(
                "wgpeerselector: cannot read the status from {}: {e}",
                socket.display()
            );
            1
        }
    }
}

/// Runs the selector until a signal; the process's exit code.
pub fn run(options: Options) -> i32 {
    crate::log::set_level(if options.verbose {
        crate::log::DEBUG
    } else {
        crate::log::INFO
    });
    let signals = match signal_fd() {
        Ok(fd) => fd,
        Err(e) => {
            error!("cannot set up signal handling: {e}");
            return 1;
        }
    };
    let mut files = Files {
        pid_file: None,
        socket: None,
    };
    if let Some(path) = &options.pid_file {
        if let Err(e) = std::fs::write(path, std::process::id().to_string()) {
            error!("cannot write the pid file {}: {e}", path.display());
            return 1;
        }
        files.pid_file = Some(path.clone());
    }
    if let Some(group) = &options.group {
        if let Err(e) = set_group(group) {
            error!("{e}");
            return 1;
        }
    }

    let ifname = options.ifname.as_str();
    let package = match config::load(&options.config, false) {
        Ok(p) => p,
        Err(e) => {
            error!("{e}");
            return 1;
        }
    };
    let loaded = config::peers(&package, ifname);
    for w in &loaded.warnings {
        warn!("{w}");
    }
    if loaded.peers.is_empty() {
        error!("No peers defined. Exiting!");
        return 1;
    }
    info!("Loaded {} peers.", loaded.peers.len());
    let peers = loaded.peers;

    let mut ntp_servers = match config::load(&options.system_config, true) {
        Ok(system) => config::ntp_servers(&system),
        Err(e) => {
            warn!("{e}; no NTP servers from it");
            Vec::new()
        }
    };
    ntp_servers.extend(options.ntp_servers.iter().cloned());

    #[cfg(feature = "ubus")]
    let mut ubus = match crate::ubus::Ubus::new(ifname, options.ubus_socket.as_deref()) {
        Ok(u) => u,
        Err(e) => {
            error!("{e}");
            return 1;
        }
    };
    #[cfg(not(feature = "ubus"))]
    if let Some(path) = &options.ubus_socket {
        warn!(
            "Built without the ubus feature: no status on ubus ({} ignored).",
            path.display()
        );
    }

    let socket_path = options.status_socket();
    let listener = match status_listener(&socket_path) {
        Ok(l) => {
            files.socket = Some(socket_path.clone());
            Some(l)
        }
        Err(e) => {
            warn!("No status socket at {}: {e}", socket_path.display());
            None
        }
    };

    let (wake_rx, wake_tx) = match UnixStream::pair() {
        Ok(pair) => pair,
        Err(e) => {
            error!("{e}");
            return 1;
        }
    };
    let _ = wake_rx.set_nonblocking(true);
    let _ = wake_tx.set_nonblocking(true);
    let (events_tx, events) = mpsc::channel();
    let notifier = Notifier {
        events: events_tx,
        waker: std::sync::Arc::new(wake_tx),
    };

    // the time, in the background; the first connection waits for its
    // first attempt (or for the deadline)
    let mut time_pending = !ntp_servers.is_empty();
    let time_deadline = Instant::now() + options.ntp_timeout + Duration::from_secs(1);
    if ntp_servers.is_empty() {
        info!("No NTP servers configured; not synchronizing the time.");
    } else {
        let sync = TimeSync {
            servers: ntp_servers,
            timeout: options.ntp_timeout,
            set_time: options.set_time.clone(),
        };
        let notifier = notifier.clone();
        let spawned = std::thread::Builder::new()
            .name("ntp".into())
            .stack_size(256 * 1024)
            .spawn(move || ntp::run(sync, move || notifier.send(Event::TimeAttempted)));
        if let Err(e) = spawned {
            warn!("Time synchronization not started: {e}");
            time_pending = false;
        }
    }

    let params = Params {
        parallel: options.parallel,
        ..Params::default()
    };
    let mut selector = Selector::new(peers.clone(), params);
    let mut rng = OsRng;
    let mut wg: Option<WireGuard> = None;
    let mut ifindex: Option<u32> = None;
    let mut waiting_logged = false;
    let mut needs_start = true;
    let mut last_error: Option<String> = None;

    loop {
        let now = Instant::now();
        let mut wake = now + Duration::from_secs(1);
        match route::if_index(ifname) {
            None => {
                if ifindex.is_some() || !waiting_logged {
                    warn!("Iface {ifname} not present. Waiting for iface.");
                    waiting_logged = true;
                }
                ifindex = None;
                wg = None;
                selector.reset();
                needs_start = true;
            }
            Some(index) => {
                if ifindex != Some(index) {
                    if waiting_logged {
                        info!("Iface {ifname} found.");
                        waiting_logged = false;
                    }
                    // a new interface: nothing of ours on it, but make sure
                    ifindex = Some(index);
                    wg = None;
                    selector.reset();
                    needs_start = true;
                }
                if wg.is_none() {
                    match WireGuard::open(ifname).and_then(|mut w| {
                        cleanup(&mut w, index, ifname, &peers)?;
                        Ok(w)
                    }) {
                        Ok(w) => {
                            debug!("Using {ifname} over {:?}.", w.backend());
                            wg = Some(w);
                            last_error = None;
                        }
                        Err(e) => {
                            let msg = format!("{ifname}: {e}");
                            if last_error.as_deref() != Some(&msg) {
                                warn!("{msg}");
                                last_error = Some(msg);
                            }
                            wake = now + Duration::from_millis(250);
                        }
                    }
                }
                if let Some(w) = wg.as_mut() {
                    if time_pending && now < time_deadline {
                        wake = time_deadline;
                    } else {
                        if time_pending {
                            info!("Time synchronization is taking long; connecting meanwhile.");
                            time_pending = false;
                        }
                        if needs_start {
                            selector.start(now, &mut rng);
                            needs_start = false;
                        }
                        let mut link = WgLink {
                            wg: w,
                            ifname,
                            ifindex: index,
                            notifier: &notifier,
                        };
                        match selector.step(now, SystemTime::now(), &mut link, &mut rng) {
                            Ok(next) => {
                                wake = next;
                                last_error = None;
                            }
                            Err(e) => {
                                let msg = format!("{ifname}: {e}");
                                if last_error.as_deref() != Some(&msg) {
                                    warn!("{msg}; starting over");
                                    last_error = Some(msg);
                                }
                                // reopened and cleaned up on the next turn
                                wg = None;
                                selector.reset();
                                needs_start = true;
                                wake = now + Duration::from_millis(250);
                            }
                        }
                    }
                }
            }
        }

        #[cfg(feature = "ubus")]
        {
            ubus.tick(Instant::now());
            if let Some(at) = ubus.retry_at() {
                wake = wake.min(at);
            }
        }
        #[cfg(feature = "ubus")]
        let ubus_fd = ubus.fd();
        #[cfg(not(feature = "ubus"))]
        let ubus_fd = -1;

        let mut fds = [
            libc::pollfd {
                fd: signals,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: wake_rx.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: listener.as_ref().map_or(-1, |l| l.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: ubus_fd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        poll(&mut fds, wake);

        if fds[0].revents != 0 {
            if let Some(signo) = read_signal(signals) {
                info!("Received {}. Cleaning up.", signal_name(signo));
                if let (Some(index), true) = (route::if_index(ifname), ifindex.is_some()) {
                    let result = match wg.as_mut() {
                        Some(w) => cleanup(w, index, ifname, &peers),
                        None => WireGuard::open(ifname)
                            .and_then(|mut w| cleanup(&mut w, index, ifname, &peers)),
                    };
                    if let Err(e) = result {
                        warn!("Cleaning up {ifname}: {e}");
                    }
                }
                // closing the connection removes the object
                #[cfg(feature = "ubus")]
                drop(ubus);
                drop(files);
                return 0;
            }
        }
        if fds[1].revents != 0 {
            let mut buf = [0u8; 64];
            while matches!((&wake_rx).read(&mut buf), Ok(n) if n > 0) {}
        }
        while let Ok(event) = events.try_recv() {
            match event {
                Event::Resolved(index, result) => selector.resolved(index, result),
                Event::TimeAttempted => time_pending = false,
            }
        }
        if fds[2].revents != 0 {
            if let Some(l) = &listener {
                serve_status(l, &selector);
            }
        }
        #[cfg(feature = "ubus")]
        if fds[3].revents != 0 {
            let now = Instant::now();
            // an empty reply (status too long for a message) answers "no data"
            let reply = crate::blob::status(&selector.status(now)).unwrap_or_default();
            ubus.handle(&reply, now);
        }
    }
}
