//! The network of the end-to-end tests (tests/e2e_render.rs), on
//! gluonvpn-testnet: a "node" and a "gateway" namespace joined by a veth
//! pair (the gateway 198.18.0.1/24, the node 198.18.0.2/24). The daemons
//! the tests start in them, their files and what a killed run left behind
//! are the [`TestNet`]'s to remove.

use gluonvpn_testnet::TestNet;

/// The gateway's end of the veth pair.
pub const GATEWAY_V4: &str = "198.18.0.1";
/// The node's end of the veth pair.
pub const NODE_V4: &str = "198.18.0.2";

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub struct Lab {
    pub net: TestNet,
    pub node: String,
    pub gateway: String,
}

impl Lab {
    /// `None` where `what` cannot run: not root, or one of `tools` is
    /// missing (see [`gluonvpn_testnet::prerequisites_met`]).
    pub fn new(what: &str, tools: &[&str]) -> Option<Lab> {
        let mut net = TestNet::with_tools(what, tools)?;
        let gateway = net.netns("gw");
        let node = net.netns("node");
        net.veth(&gateway, "veth-gw", &node, "veth-node");
        for (ns, dev, address) in [
            (&gateway, "veth-gw", GATEWAY_V4),
            (&node, "veth-node", NODE_V4),
        ] {
            net.ip(
                ns,
                &["address", "add", &format!("{address}/24"), "dev", dev],
            );
        }
        Some(Lab { net, node, gateway })
    }

    /// `ip -d -j link show dev DEV` in a namespace, if it exists.
    pub fn link(&self, ns: &str, dev: &str) -> Option<serde_json::Value> {
        let json =
            gluonvpn_testnet::try_run(&["ip", "-n", ns, "-d", "-j", "link", "show", "dev", dev])
                .ok()?;
        let list: serde_json::Value = serde_json::from_str(&json).expect("ip -j");
        list.get(0).cloned()
    }

    /// The names of the interfaces in a namespace that are ports of
    /// `master`.
    pub fn ports(&self, ns: &str, master: &str) -> Vec<String> {
        let json = self.net.ip(ns, &["-j", "link", "show", "master", master]);
        let list: serde_json::Value = serde_json::from_str(&json).expect("ip -j");
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

// ------------------------------------------------- shared by the e2e tests

/// Runs a tool on the host (key generation only) with `stdin` as its
/// input, which must succeed; its output, trimmed.
pub fn host_tool(program: &str, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child =
        std::process::Command::new(gluonvpn_testnet::find_program(program).expect(program))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_string()
}

/// Writes a file only root can read (keys).
pub fn write_secret(path: &std::path::Path, content: &str) {
    std::fs::write(path, "").expect("create");
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    std::fs::write(path, content).expect("write");
}

/// Writes a fresh fastd secret to `path` (a config file with `secret
/// "…";`); returns its public key.
pub fn fastd_secret(path: &std::path::Path) -> String {
    let secret = host_tool("fastd", &["--generate-key", "--machine-readable"], None);
    write_secret(path, &format!("secret \"{secret}\";\n"));
    let public = host_tool(
        "fastd",
        &[
            "--config",
            path.to_str().expect("path"),
            "--show-key",
            "--machine-readable",
        ],
        None,
    );
    assert_eq!(public.len(), 64, "{public}");
    public
}

pub fn replace_all(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the example no longer contains {from:?}: update this test"
    );
    text.replace(from, to)
}

/// The value of a top-level statement `KEY VALUE;` of a fastd config
/// (quotes removed).
pub fn fastd_statement(conf: &str, key: &str) -> Option<String> {
    conf.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(' ')?;
        Some(value.trim_end_matches(';').trim_matches('"').to_string())
    })
}

/// Starts a daemon in a namespace with its own /run: a directory of the
/// test's is bound there in a private mount namespace, so that the path a
/// rendered config names for its socket (/run/…, /var/run/…) is used as it
/// is, and appears in that directory for the test to read. Returns its
/// index in the lab's `TestNet`.
pub fn spawn_with_own_run(
    lab: &mut Lab,
    ns: &str,
    label: &str,
    run: &std::path::Path,
    argv: &[&str],
) -> usize {
    std::fs::create_dir_all(run).expect("mkdir");
    let mut args = vec![
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount --bind \"$0\" /run && exec \"$@\"",
        run.to_str().expect("path"),
    ];
    args.extend_from_slice(argv);
    lab.net.spawn(ns, label, &args, true)
}

/// Where a socket that a daemon of [`spawn_with_own_run`] makes at `path`
/// is seen from the host.
pub fn in_own_run(run: &std::path::Path, path: &str) -> std::path::PathBuf {
    let relative = path
        .strip_prefix("/var/run/")
        .or_else(|| path.strip_prefix("/run/"))
        .unwrap_or_else(|| panic!("{path} is not below /run"));
    run.join(relative)
}

/// fastd's status (JSON) from its status socket, if it answers.
pub fn fastd_status(socket: &std::path::Path) -> Option<serde_json::Value> {
    use std::io::Read;
    let mut stream = std::os::unix::net::UnixStream::connect(socket).ok()?;
    let mut json = String::new();
    stream.read_to_string(&mut json).ok()?;
    serde_json::from_str(&json).ok()
}
