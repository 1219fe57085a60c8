//! Test networks for gluonvpn's tests, the agents' and the CLI's: network
//! namespaces, veth pairs, wireguard-go interfaces, processes run inside
//! them (chrony as an NTP server among them) and /etc/netns files — all
//! removed when the [`TestNet`] is dropped, also when the test fails.
//!
//! Names are unique per test run and per `TestNet`, so tests run in
//! parallel, and a second run does not trip over a first one; wireguard-go's
//! UAPI sockets all live in /var/run/wireguard whatever the namespace, so
//! its interface names are unique too. A run that is killed cannot clean
//! up: the first `TestNet` of a later run removes what it left behind (see
//! [`reap_stale_runs`]).
//!
//! Needs root and the tools a test names (by default iproute2,
//! wireguard-go, wireguard-tools and ping). Without them [`TestNet::new`]
//! returns `None` after saying which Debian packages are missing, and the
//! test skips — except under CI (`CI` set), where that is a failure.

mod agent;
mod etc_netns;
pub mod host_order;
mod names;
mod prerequisites;

pub use agent::agent_command;
pub use names::reap_stale_runs;
pub use prerequisites::{find_program, path_env, prerequisites_met};

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// What [`TestNet::new`] needs: namespaces with wireguard-go interfaces.
pub const WIREGUARD_TOOLS: &[&str] = &["ip", "bridge", "wg", "wireguard-go", "ping"];

/// A message on the test's standard error, past the test harness' capture.
fn loud(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// A process started in a namespace.
pub struct Proc {
    pub name: String,
    child: Child,
    /// Where its standard output goes, if it was captured.
    pub stdout: Option<PathBuf>,
}

/// Namespaces, processes and files of one test, removed on drop.
pub struct TestNet {
    id: String,
    namespaces: Vec<String>,
    procs: Vec<Proc>,
    sockets: Vec<PathBuf>,
    etc_netns_dirs: Vec<PathBuf>,
    dir: PathBuf,
}

impl TestNet {
    /// A new, empty test network for wireguard-go ([`WIREGUARD_TOOLS`]);
    /// `None` (and a message) where it cannot be made, which fails the test
    /// under CI.
    pub fn new(test: &str) -> Option<TestNet> {
        TestNet::with_tools(test, WIREGUARD_TOOLS)
    }

    /// A new, empty test network for a test that runs `tools` (see
    /// [`prerequisites_met`]).
    pub fn with_tools(test: &str, tools: &[&str]) -> Option<TestNet> {
        if !prerequisites_met(test, tools) {
            return None;
        }
        names::reap_stale_runs_once();
        let id = names::unused_id();
        let dir = names::temp_dir(&id);
        // a run killed with the same (reused) process id may have left it
        let _ = fs::remove_dir_all(&dir);
        // private: the tests keep their keys in it
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        Some(TestNet {
            id,
            namespaces: Vec::new(),
            procs: Vec::new(),
            sockets: Vec::new(),
            etc_netns_dirs: Vec::new(),
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

    /// Creates a namespace with its loopback up; its name is unique and
    /// returned.
    pub fn netns(&mut self, short: &str) -> String {
        let name = format!("{}{}{short}", names::NETNS_PREFIX, self.id);
        run(&["ip", "netns", "add", &name]);
        self.namespaces.push(name.clone());
        self.ip(&name, &["link", "set", "lo", "up"]);
        name
    }

    /// A name for a wireguard-go interface, unique on the machine; `short`
    /// has at most 4 characters.
    pub fn wg_name(&self, short: &str) -> String {
        let name = format!("{}{}{short}", names::WG_PREFIX, self.id);
        assert!(name.len() <= 15, "interface name {name} too long");
        name
    }

    /// Writes a file that `ip netns exec` puts over the host's /etc in a
    /// namespace of this network (/etc/netns/<ns>/<name>): a hosts file,
    /// nsswitch.conf, resolv.conf. Removed on drop.
    pub fn netns_file(&mut self, ns: &str, name: &str, text: &str) {
        assert!(
            self.namespaces.iter().any(|n| n == ns),
            "{ns} is not a namespace of this network"
        );
        let dir = etc_netns::write(ns, name, text);
        if !self.etc_netns_dirs.contains(&dir) {
            self.etc_netns_dirs.push(dir);
        }
    }

    /// A command run in a namespace (`ip netns exec`), with the sbin
    /// directories on its PATH and no standard input. `wg` there never
    /// retries resolving an endpoint: test networks have no DNS server to
    /// wait for.
    pub fn command(&self, ns: &str, program: &str, args: &[&str]) -> Command {
        // `ip` by its path: a test may put another `ip` first on the PATH
        // of the command
        let mut command = Command::new(find_program("ip").unwrap_or_else(|| "ip".into()));
        command
            .args(["netns", "exec", ns, program])
            .args(args)
            .env("PATH", path_env())
            .env("WG_ENDPOINT_RESOLUTION_RETRIES", "0")
            .stdin(Stdio::null());
        command
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
        output(self.command(ns, args[0], &args[1..]), args[0])
    }

    /// `ip -n NS ARGS…`.
    pub fn ip(&self, ns: &str, args: &[&str]) -> String {
        let mut full = vec!["ip", "-n", ns];
        full.extend_from_slice(args);
        run(&full)
    }

    /// A veth pair between two namespaces, both ends up. Made in them at
    /// once: no interface ever appears in the host's namespace.
    pub fn veth(&self, ns_a: &str, a: &str, ns_b: &str, b: &str) {
        run(&[
            "ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", b, "netns", ns_b,
        ]);
        self.ip(ns_a, &["link", "set", a, "up"]);
        self.ip(ns_b, &["link", "set", b, "up"]);
    }

    /// Starts a process in a namespace; its standard output and error go
    /// to files when `capture` (see [`Proc::log`]), else nowhere. Returns
    /// its index for [`Self::proc`].
    pub fn spawn(&mut self, ns: &str, name: &str, args: &[&str], capture: bool) -> usize {
        let command = self.command(ns, args[0], &args[1..]);
        self.start(name, command, capture)
    }

    /// Starts `command` as [`Self::spawn`] does.
    fn start(&mut self, name: &str, mut command: Command, capture: bool) -> usize {
        let stdout = if capture {
            let path = self.dir.join(format!("{name}.out"));
            command.stdout(fs::File::create(&path).expect("output file"));
            command
                .stderr(fs::File::create(self.dir.join(format!("{name}.err"))).expect("err file"));
            Some(path)
        } else {
            command.stdout(Stdio::null()).stderr(Stdio::null());
            None
        };
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
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

    /// Panics, with the process's log, when it has ended.
    pub fn assert_running(&mut self, index: usize) {
        let p = &mut self.procs[index];
        if let Some(status) = p.exited() {
            panic!("{} exited ({status}):\n{}", p.name, p.log());
        }
    }

    /// The logs of every process whose output is captured, for failure
    /// messages.
    pub fn logs(&self) -> String {
        self.procs
            .iter()
            .filter(|p| p.stdout.is_some())
            .map(|p| format!("\n--- {} ---\n{}", p.name, p.log()))
            .collect()
    }

    /// Starts wireguard-go for `ifname` in `ns` and waits for its UAPI
    /// socket. The interface is left down.
    pub fn wireguard_go(&mut self, ns: &str, ifname: &str) -> usize {
        let socket = Path::new(names::WG_RUN).join(format!("{ifname}.sock"));
        self.sockets.push(socket.clone());
        let mut command = self.command(ns, "wireguard-go", &["-f", ifname]);
        // it warns, at length, that Linux has a kernel module
        command.env("WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD", "1");
        let index = self.start(ifname, command, true);
        wait_for(Duration::from_secs(10), || {
            self.assert_running(index);
            socket.exists().then_some(())
        })
        .unwrap_or_else(|| panic!("wireguard-go {ifname} did not start{}", self.logs()));
        index
    }

    /// chronyd as an NTP server in `ns` on UDP port 123, for clients in
    /// 198.18.0.0/15 and fd00::/8: its local clock is the reference, at
    /// stratum 8; it never sets the host's clock (`-x`), has no command
    /// socket and keeps its files in [`Self::dir`]. Returns once it
    /// listens.
    pub fn chrony_ntp_server(&mut self, ns: &str) -> usize {
        let name = format!("chronyd-{ns}");
        let file = |extension: &str| self.dir.join(format!("{name}.{extension}"));
        let conf = file("conf");
        fs::write(
            &conf,
            format!(
                "local stratum 8\nallow 198.18.0.0/15\nallow fd00::/8\nport 123\ncmdport 0\nbindcmdaddress /\npidfile {}\ndriftfile {}\n",
                file("pid").display(),
                file("drift").display()
            ),
        )
        .expect("write chrony.conf");
        let conf = conf.to_str().expect("a UTF-8 temp dir");
        let index = self.spawn(
            ns,
            &name,
            &["chronyd", "-f", conf, "-d", "-x", "-u", "root"],
            true,
        );
        wait_for(Duration::from_secs(10), || {
            self.assert_running(index);
            self.exec(ns, &["ss", "-Hlun", "sport = :123"])
                .contains(":123")
                .then_some(())
        })
        .unwrap_or_else(|| panic!("chronyd does not listen after 10 s{}", self.logs()));
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

    /// Sends a signal, while the process runs.
    pub fn signal(&mut self, signal: i32) {
        // once reaped, its pid may be another process's
        if self.exited().is_none() {
            // SAFETY: kill has no memory preconditions; the pid is our
            // child's, not reaped (an ended child stays a zombie until then).
            unsafe { libc::kill(self.child.id() as i32, signal) };
        }
    }

    /// `None` while the process runs, its exit status once it has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the process to end.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_for(timeout, || self.exited())
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

    /// Its standard output, then its standard error.
    pub fn log(&self) -> String {
        format!("{}{}", self.output(), self.errors())
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
        // SIGTERM, fastd its status socket), then the namespaces with
        // whatever is left in them
        for p in &mut self.procs {
            p.signal(libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for p in &mut self.procs {
            if p.wait(deadline.saturating_duration_since(Instant::now()))
                .is_none()
            {
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
        etc_netns::remove(&self.etc_netns_dirs);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs a command (the program found on [`path_env`]); its standard output,
/// or a panic with its error output.
pub fn run(args: &[&str]) -> String {
    try_run(args).unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

/// Runs a command (the program found on [`path_env`]): its standard output,
/// or its error output.
pub fn try_run(args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(find_program(args[0]).unwrap_or_else(|| args[0].into()));
    command.args(&args[1..]).stdin(Stdio::null());
    output(command, args[0])
}

/// Runs `command`: its standard output, or its error output.
fn output(mut command: Command, program: &str) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
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
    let mut child = Command::new(find_program("wg").unwrap_or_else(|| "wg".into()))
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
