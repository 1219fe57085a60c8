//! Test networks for gluonvpn's agents: network namespaces, veth pairs,
//! wireguard-go interfaces and processes run inside them — all removed when
//! the [`TestNet`] is dropped, also when the test fails.
//!
//! Names are unique per test run and per `TestNet` (the process id and a
//! counter), so tests run in parallel, and a second run does not trip over
//! a first one. wireguard-go's UAPI sockets all live in `/var/run/wireguard`
//! whatever the namespace, so its interface names are unique too.
//!
//! Needs root, iproute2, wireguard-go and wireguard-tools. Without them
//! [`TestNet::new`] returns `None` and the test skips, loudly — except under
//! CI (`CI` set), where that is a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn in_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// A process started in a namespace.
pub struct Proc {
    pub name: String,
    child: Child,
    /// Where its standard output goes, if it was captured.
    pub stdout: Option<PathBuf>,
}

/// Namespaces and processes of one test, removed on drop.
pub struct TestNet {
    id: String,
    namespaces: Vec<String>,
    procs: Vec<Proc>,
    sockets: Vec<PathBuf>,
    dir: PathBuf,
}

impl TestNet {
    /// A new, empty test network; `None` (and a message) where it cannot be
    /// made, which fails the test under CI.
    pub fn new(test: &str) -> Option<TestNet> {
        let mut missing = Vec::new();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            missing.push("root".to_string());
        }
        for tool in ["ip", "bridge", "wg", "wireguard-go", "ping"] {
            if !in_path(tool) {
                missing.push(tool.to_string());
            }
        }
        if !missing.is_empty() {
            let msg = format!("{test}: needs {}", missing.join(", "));
            if std::env::var_os("CI").is_some() {
                panic!("{msg} (CI installs them: .ci/run)");
            }
            eprintln!("SKIPPED {msg}");
            return None;
        }
        // the whole process id (up to 6 hex digits with Linux's largest
        // pid_max) and a counter: short enough for 15-character interface
        // names with a prefix and a suffix of 3; names still in use (by a
        // run that was killed before it could clean up) are skipped
        let id = loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let id = format!("{:x}{:02x}", std::process::id(), n & 0xff);
            let taken = has_entry("/var/run/netns", &format!("gvt{id}"))
                || has_entry("/var/run/wireguard", &format!("wg{id}"));
            if !taken {
                break id;
            }
        };
        let dir = std::env::temp_dir().join(format!("gvt-{id}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        Some(TestNet {
            id,
            namespaces: Vec::new(),
            procs: Vec::new(),
            sockets: Vec::new(),
            dir,
        })
    }

    /// This network's unique id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A directory for this network's files, removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates a namespace; its name is unique and returned.
    pub fn netns(&mut self, short: &str) -> String {
        let name = format!("gvt{}{short}", self.id);
        run(&["ip", "netns", "add", &name]);
        self.namespaces.push(name.clone());
        self.ip(&name, &["link", "set", "lo", "up"]);
        name
    }

    /// A name for a wireguard-go interface, unique on the machine.
    pub fn wg_name(&self, short: &str) -> String {
        let name = format!("wg{}{short}", self.id);
        assert!(name.len() <= 15, "interface name {name} too long");
        name
    }

    /// Runs a command in a namespace; its standard output. Panics with the
    /// command's error output if it fails.
    pub fn exec(&self, ns: &str, args: &[&str]) -> String {
        self.try_exec(ns, args)
            .unwrap_or_else(|e| panic!("ip netns exec {ns} {}: {e}", args.join(" ")))
    }

    /// Runs a command in a namespace: its standard output, or its error
    /// output if it fails.
    pub fn try_exec(&self, ns: &str, args: &[&str]) -> Result<String, String> {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(args);
        try_run(&full)
    }

    /// `ip -n NS ARGS…`.
    pub fn ip(&self, ns: &str, args: &[&str]) -> String {
        let mut full = vec!["ip", "-n", ns];
        full.extend_from_slice(args);
        run(&full)
    }

    /// A veth pair between two namespaces.
    pub fn veth(&self, ns_a: &str, a: &str, ns_b: &str, b: &str) {
        run(&[
            "ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", b, "netns", ns_b,
        ]);
        self.ip(ns_a, &["link", "set", a, "up"]);
        self.ip(ns_b, &["link", "set", b, "up"]);
    }

    /// Starts a process in a namespace; its standard output goes to a file
    /// when `capture`, else nowhere. Returns its index for [`Self::proc`].
    pub fn spawn(&mut self, ns: &str, name: &str, args: &[&str], capture: bool) -> usize {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).args(args);
        cmd.stdin(Stdio::null());
        let stdout = if capture {
            let path = self.dir.join(format!("{name}.out"));
            cmd.stdout(fs::File::create(&path).expect("output file"));
            cmd.stderr(fs::File::create(self.dir.join(format!("{name}.err"))).expect("err file"));
            Some(path)
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            None
        };
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {args:?}: {e}"));
        self.procs.push(Proc {
            name: name.to_string(),
            child,
            stdout,
        });
        self.procs.len() - 1
    }

    /// A process started by [`Self::spawn`].
    pub fn proc(&mut self, index: usize) -> &mut Proc {
        &mut self.procs[index]
    }

    /// Starts wireguard-go for `ifname` in `ns` and waits for its UAPI
    /// socket. The interface is left down.
    pub fn wireguard_go(&mut self, ns: &str, ifname: &str) -> usize {
        let socket = PathBuf::from(format!("/var/run/wireguard/{ifname}.sock"));
        self.sockets.push(socket.clone());
        let index = self.spawn(ns, ifname, &["wireguard-go", "-f", ifname], false);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "wireguard-go {ifname} did not start"
            );
            sleep(Duration::from_millis(10));
        }
        index
    }

    /// Namespaces that exist now (`ip netns list`) and belong to this network.
    pub fn namespaces(&self) -> Vec<String> {
        let list = run(&["ip", "netns", "list"]);
        list.lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| self.namespaces.iter().any(|m| m == n))
            .map(str::to_string)
            .collect()
    }
}

impl Proc {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory preconditions; the pid is our child's,
        // not yet reaped (reaping happens only in `wait`/`Drop`).
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// Waits up to `timeout` for the process to end.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            sleep(Duration::from_millis(10));
        }
    }

    /// What it wrote to standard output so far.
    pub fn output(&self) -> String {
        self.stdout
            .as_ref()
            .map(|p| fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_default()
    }

    /// What it wrote to standard error so far.
    pub fn errors(&self) -> String {
        self.stdout
            .as_ref()
            .map(|p| fs::read_to_string(p.with_extension("err")).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The peak resident set size (`VmHWM`) in KiB, while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        // processes first (wireguard-go removes its socket and interface on
        // SIGTERM), then the namespaces with whatever is left in them
        for p in &self.procs {
            p.signal(libc::SIGTERM);
        }
        for p in &mut self.procs {
            if p.wait(Duration::from_secs(3)).is_none() {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
        for ns in &self.namespaces {
            let _ = try_run(&["ip", "netns", "del", ns]);
        }
        for s in &self.sockets {
            let _ = fs::remove_file(s);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Whether `dir` has an entry whose name starts with `prefix`.
fn has_entry(dir: &str, prefix: &str) -> bool {
    fs::read_dir(dir).is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(prefix)))
    })
}

/// Runs a command; its standard output, or a panic with its error output.
pub fn run(args: &[&str]) -> String {
    try_run(args).unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

/// Runs a command: its standard output, or its error output.
pub fn try_run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", args[0]))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

/// A WireGuard key pair from wireguard-tools (`wg genkey`, `wg pubkey`):
/// (private, public), base64.
pub fn wg_keypair() -> (String, String) {
    use std::io::Write;
    let private = run(&["wg", "genkey"]).trim().to_string();
    let mut child = Command::new("wg")
        .arg("pubkey")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs wg pubkey");
    child
        .stdin
        .take()
        .expect("wg pubkey's stdin")
        .write_all(private.as_bytes())
        .expect("writes to wg pubkey");
    let out = child.wait_with_output().expect("wg pubkey");
    let public = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (private, public)
}

/// Polls `f` every 10 ms until it returns `Some`, at most `timeout`.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        sleep(Duration::from_millis(10));
    }
}
