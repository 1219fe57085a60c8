//! Network namespaces for the end-to-end tests (tests/e2e_render.rs): a
//! "node" and a "gateway" namespace joined by a veth pair, the daemons the
//! test starts in them, and a temp dir for their files — all removed by
//! [`Lab`]'s `Drop`, also when an assertion fails.
//!
//! Names are unique per run: namespaces are `gve2e-<pid>-<n>-node|gw`,
//! interfaces that leave a socket in the shared /var/run/wireguard are
//! `ge<pid><role><n>`. A later run removes what a killed run (whose pid is
//! gone) left behind. Addresses are from 198.18.0.0/15 and fd00::/8 and exist
//! only inside the namespaces.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Namespace and temp dir names start with this, then the test process's id.
const PREFIX: &str = "gve2e";
/// Interface names of wireguard-go (whose control sockets are shared
/// between all namespaces) start with this, then the test process's id.
const IF_PREFIX: &str = "ge";
/// Where wireguard-go puts its control sockets, whatever the namespace.
pub const WG_RUN: &str = "/var/run/wireguard";

/// The gateway's end of the veth pair.
pub const GATEWAY_V4: &str = "198.18.0.1";
/// The node's end of the veth pair.
pub const NODE_V4: &str = "198.18.0.2";

/// `PATH` for every command the tests run: the caller's, plus the sbin
/// directories where Debian keeps `ip`, `bridge` and `fastd`.
pub fn path_env() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{path}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

/// Where `program` is on [`path_env`], if it is anywhere.
pub fn find_program(program: &str) -> Option<PathBuf> {
    path_env()
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// iproute2's `ip`, by its path: a test may put another `ip` first on
/// the `PATH` of the commands it runs.
fn ip_program() -> PathBuf {
    find_program("ip").unwrap_or_else(|| "ip".into())
}

/// Why the tests cannot run here, if they cannot: not root, or a tool is
/// missing (`(program, Debian package)`).
fn missing_prerequisite(tools: &[(&str, &str)]) -> Option<String> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(str::to_string));
    if euid.as_deref() != Some("0") {
        return Some("not running as root (network namespaces need it)".into());
    }
    for (program, package) in tools {
        if find_program(program).is_none() {
            return Some(format!(
                "`{program}` is missing (apt-get install {package})"
            ));
        }
    }
    None
}

/// `true` when the test may run; otherwise says why not — and under CI
/// (`CI` set), where .ci/run installs every tool, fails instead.
pub fn prerequisites_met(what: &str, tools: &[(&str, &str)]) -> bool {
    let Some(reason) = missing_prerequisite(tools) else {
        return true;
    };
    if std::env::var_os("CI").is_some() {
        panic!("{what} must run in CI, but {reason}; .ci/run installs what it needs");
    }
    eprintln!("skipping {what}: {reason}");
    false
}

/// Polls `probe` every 50 ms until it returns something or `timeout` has
/// passed.
pub fn wait_for<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if started.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The id of the test process that made a namespace, temp dir or
/// interface, from its name (`gve2e-<pid>-…`, `ge<pid>…`).
fn maker(name: &str) -> Option<&str> {
    let digits = if let Some(rest) = name.strip_prefix(PREFIX) {
        rest.strip_prefix('-')?.split('-').next()?
    } else {
        let rest = name.strip_prefix(IF_PREFIX)?;
        &rest[..rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len())]
    };
    Some(digits).filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a name belongs to a run of these tests that has ended: it was
/// killed before its cleanup ran.
fn stale(name: &str) -> bool {
    maker(name).is_some_and(|pid| {
        pid != std::process::id().to_string() && !Path::new("/proc").join(pid).exists()
    })
}

/// Removes what an earlier, killed run left behind: its namespaces with
/// the processes in them (and the control sockets of its wireguard-go), and
/// its temp dirs.
fn reap_stale_labs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(list) = Command::new("ip").args(["netns", "list"]).output() else {
            return;
        };
        for line in text(&list.stdout).lines() {
            let Some(name) = line.split_whitespace().next().filter(|n| stale(n)) else {
                continue;
            };
            eprintln!("removing namespace {name}, left behind by a killed run");
            if let Ok(pids) = Command::new("ip").args(["netns", "pids", name]).output() {
                for pid in text(&pids.stdout).split_whitespace() {
                    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                    let args: Vec<String> = cmdline.split(|b| *b == 0).map(text).collect();
                    if args.first().is_some_and(|a| a.ends_with("wireguard-go")) {
                        for ifname in args.iter().skip(1).filter(|a| stale(a)) {
                            let _ =
                                fs::remove_file(Path::new(WG_RUN).join(format!("{ifname}.sock")));
                        }
                    }
                }
            }
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
        if let Ok(entries) = fs::read_dir(std::env::temp_dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_str().is_some_and(stale) {
                    eprintln!(
                        "removing {}, left behind by a killed run",
                        entry.path().display()
                    );
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
    });
}

/// A daemon the test started, with its log file.
struct Daemon {
    label: String,
    child: Child,
}

/// A node and a gateway namespace joined by a veth pair (the gateway
/// 198.18.0.1/24, the node 198.18.0.2/24), the daemons started in them and
/// a temp dir. `Drop` stops the daemons, deletes the namespaces (and with
/// them every interface in them), removes the control sockets of the
/// wireguard-go interfaces named by [`Lab::wg_ifname`] and the temp dir.
pub struct Lab {
    pub node: String,
    pub gateway: String,
    namespaces: Vec<String>,
    daemons: Vec<Daemon>,
    wg_ifnames: Vec<String>,
    n: usize,
    dir: tempfile::TempDir,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Lab {
    pub fn new() -> Lab {
        reap_stale_labs();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = format!("{PREFIX}-{}-{n}", std::process::id());
        let mut lab = Lab {
            node: format!("{base}-node"),
            gateway: format!("{base}-gw"),
            namespaces: Vec::new(),
            daemons: Vec::new(),
            wg_ifnames: Vec::new(),
            n,
            // Named like the namespaces, so that a later run can tell it is
            // left over from a killed one.
            dir: tempfile::Builder::new()
                .prefix(&format!("{base}-"))
                .tempdir()
                .expect("tempdir"),
        };
        for ns in [lab.gateway.clone(), lab.node.clone()] {
            lab.host_ip(&["netns", "add", &ns]);
            lab.namespaces.push(ns);
        }
        let (gw, node) = (lab.gateway.clone(), lab.node.clone());
        // Made inside the gateway namespace with the node's end moved at
        // once: no interface ever appears in the host's namespace.
        lab.ip(
            &gw,
            &[
                "link",
                "add",
                "veth-gw",
                "type",
                "veth",
                "peer",
                "name",
                "veth-node",
                "netns",
                &node,
            ],
        );
        for (ns, dev, address) in [(&gw, "veth-gw", GATEWAY_V4), (&node, "veth-node", NODE_V4)] {
            lab.ip(ns, &["link", "set", "lo", "up"]);
            lab.ip(
                ns,
                &["address", "add", &format!("{address}/24"), "dev", dev],
            );
            lab.ip(ns, &["link", "set", dev, "up"]);
        }
        lab
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new directory in the temp dir.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let dir = self.dir().join(name);
        fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    fn host_ip(&self, args: &[&str]) -> Output {
        let out = Command::new(ip_program())
            .args(args)
            .output()
            .expect("runs ip");
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            text(&out.stderr)
        );
        out
    }

    /// `ip -n NS ARGS`, which must succeed.
    pub fn ip(&self, ns: &str, args: &[&str]) -> Output {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        self.host_ip(&all)
    }

    /// A command run inside a namespace (`ip netns exec`). `wg` there never
    /// retries resolving an endpoint (the tests use addresses only).
    pub fn command(&self, ns: &str, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(ip_program());
        command
            .args(["netns", "exec", ns, program])
            .args(args)
            .env("PATH", path_env())
            .env("WG_ENDPOINT_RESOLUTION_RETRIES", "0")
            .stdin(Stdio::null());
        command
    }

    /// Runs a command inside a namespace; it must succeed.
    pub fn exec(&self, ns: &str, program: &str, args: &[&str]) -> Output {
        let out = self
            .command(ns, program, args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "in {ns}: {program} {}: {:?}\n{}{}",
            args.join(" "),
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    }

    /// Starts a daemon with `command`, its output going to `<label>.log` in
    /// the temp dir; `Drop` stops it.
    pub fn spawn(&mut self, label: &str, mut command: Command) {
        let log = fs::File::create(self.log_path(label)).expect("log file");
        let child = command
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {label}: {e}"));
        self.daemons.push(Daemon {
            label: label.into(),
            child,
        });
    }

    fn log_path(&self, label: &str) -> PathBuf {
        self.dir().join(format!("{label}.log"))
    }

    /// What a daemon has logged so far.
    pub fn log(&self, label: &str) -> String {
        fs::read_to_string(self.log_path(label)).unwrap_or_default()
    }

    /// Every daemon's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for daemon in &self.daemons {
            all.push_str(&format!(
                "\n--- {} ---\n{}",
                daemon.label,
                self.log(&daemon.label)
            ));
        }
        all
    }

    fn daemon(&mut self, label: &str) -> &mut Daemon {
        self.daemons
            .iter_mut()
            .find(|d| d.label == label)
            .unwrap_or_else(|| panic!("no daemon {label}"))
    }

    /// `None` while the daemon runs, its exit status once it has ended.
    pub fn exited(&mut self, label: &str) -> Option<std::process::ExitStatus> {
        self.daemon(label).child.try_wait().expect("try_wait")
    }

    /// Panics (with the daemon's log) when the daemon has ended.
    pub fn assert_running(&mut self, label: &str) {
        if let Some(status) = self.exited(label) {
            panic!("{label} exited ({status}):\n{}", self.log(label));
        }
    }

    /// A name for a wireguard-go interface, unique on this machine (its
    /// control socket is /var/run/wireguard/<name>.sock, shared by every
    /// namespace); `Drop` removes the socket if wireguard-go leaves it.
    pub fn wg_ifname(&mut self, role: char) -> String {
        let name = format!(
            "{IF_PREFIX}{}{role}{}",
            std::process::id(),
            self.n * 10 + self.wg_ifnames.len()
        );
        assert!(name.len() <= 15, "{name} is too long for an interface");
        self.wg_ifnames.push(name.clone());
        name
    }

    /// `ip -d -j link show dev DEV` in a namespace, if it exists.
    pub fn link(&self, ns: &str, dev: &str) -> Option<serde_json::Value> {
        let out = Command::new(ip_program())
            .args(["-n", ns, "-d", "-j", "link", "show", "dev", dev])
            .output()
            .expect("ip");
        if !out.status.success() {
            return None;
        }
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j");
        list.get(0).cloned()
    }

    /// The names of the interfaces in a namespace that are ports of
    /// `master`.
    pub fn ports(&self, ns: &str, master: &str) -> Vec<String> {
        let out = self.ip(ns, &["-j", "link", "show", "master", master]);
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j");
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["ifname"].as_str().map(str::to_string))
            .collect()
    }
}

/// Whether a link from [`Lab::link`] is administratively up.
pub fn is_up(link: &serde_json::Value) -> bool {
    link["flags"]
        .as_array()
        .is_some_and(|flags| flags.iter().any(|f| f == "UP"))
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Ask every daemon to stop (fastd removes its status socket,
        // wireguard-go its control socket), then make sure.
        for daemon in &self.daemons {
            let _ = Command::new("kill")
                .args(["-TERM", &daemon.child.id().to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        for daemon in &mut self.daemons {
            while matches!(daemon.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = daemon.child.kill();
            let _ = daemon.child.wait();
        }
        for ns in self.namespaces.drain(..).rev() {
            // Deleting a namespace deletes every interface in it: the veth
            // pair, taps, bridges, VXLANs and wireguard-go's TUNs.
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        for name in &self.wg_ifnames {
            let _ = fs::remove_file(Path::new(WG_RUN).join(format!("{name}.sock")));
        }
    }
}
