//! What a test network leaves on the machine: nothing once it is dropped,
//! and what a killed run left is removed by the next one. Real namespaces,
//! wireguard-go and /etc/netns; needs what [`TestNet::new`] needs.

use gluonvpn_testnet::{reap_stale_runs, run, wait_for, TestNet, WIREGUARD_TOOLS};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Where [`killed_run`] writes down what it made, for [`a_killed_run_is_reaped`].
const KILLED_RUN_REPORT: &str = "GLUONVPN_TESTNET_KILLED_RUN_REPORT";

/// Taken by the tests that look at /etc/netns, which they share.
fn etc_netns_to_myself() -> MutexGuard<'static, ()> {
    static ETC_NETNS: Mutex<()> = Mutex::new(());
    ETC_NETNS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn namespace_exists(ns: &str) -> bool {
    run(&["ip", "netns", "list"])
        .lines()
        .any(|l| l.split_whitespace().next() == Some(ns))
}

/// Whether a process runs (a zombie has ended: only its parent's wait is
/// missing).
fn running(pid: &str) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

#[test]
fn everything_is_removed_on_drop() {
    let Some(mut net) = TestNet::new("everything_is_removed_on_drop") else {
        return;
    };
    let _etc_netns = etc_netns_to_myself();
    let etc_netns_existed = Path::new("/etc/netns").exists();
    let a = net.netns("a");
    let b = net.netns("b");
    net.veth(&a, "va", &b, "vb");
    net.netns_file(&a, "hosts", "198.18.0.2 b.gvt.test\n");
    assert!(
        net.exec(&a, &["cat", "/etc/hosts"])
            .contains("198.18.0.2 b.gvt.test"),
        "ip netns exec puts the file over /etc/hosts"
    );
    let ifname = net.wg_name("a");
    let wireguard_go = net.wireguard_go(&a, &ifname);
    let wireguard_go_pid = net.proc(wireguard_go).pid().to_string();
    let sleeper = net.spawn(&b, "sleep", &["sleep", "600"], false);
    let sleeper_pid = net.proc(sleeper).pid().to_string();
    let dir = net.dir().to_path_buf();
    let socket = PathBuf::from(format!("/var/run/wireguard/{ifname}.sock"));
    assert!(socket.exists() && dir.is_dir());
    let mut namespaces = net.namespaces();
    namespaces.sort();
    assert_eq!(namespaces, [a.clone(), b.clone()]);

    drop(net);
    for ns in [&a, &b] {
        assert!(!namespace_exists(ns), "{ns} is left");
        assert!(
            !Path::new("/etc/netns").join(ns).exists(),
            "{ns}'s /etc/netns dir is left"
        );
    }
    assert!(!socket.exists(), "{} is left", socket.display());
    assert!(!dir.exists(), "{} is left", dir.display());
    for pid in [wireguard_go_pid, sleeper_pid] {
        assert!(!running(&pid), "process {pid} runs on");
    }
    assert_eq!(
        Path::new("/etc/netns").exists(),
        etc_netns_existed,
        "/etc/netns is removed only by the run that made it"
    );
}

#[test]
fn names_are_unique_and_fit_interfaces() {
    let (Some(mut one), Some(mut two)) = (
        TestNet::new("names_are_unique_and_fit_interfaces"),
        TestNet::new("names_are_unique_and_fit_interfaces"),
    ) else {
        return;
    };
    assert_ne!(one.id(), two.id());
    assert_ne!(one.netns("x"), two.netns("x"));
    assert_ne!(one.wg_name("x"), two.wg_name("x"));
    assert_ne!(one.dir(), two.dir());
    assert!(one.wg_name("n100").len() <= 15);
}

/// Not a test of its own: the run that [`a_killed_run_is_reaped`] starts
/// and kills. It makes one of everything, says so, and waits.
#[test]
#[ignore = "started and killed by a_killed_run_is_reaped"]
fn killed_run() {
    let Some(report) = std::env::var_os(KILLED_RUN_REPORT) else {
        return;
    };
    let mut net = TestNet::new("killed_run").expect("the prerequisites, as the starting test has");
    let ns = net.netns("k");
    net.netns_file(&ns, "hosts", "198.18.0.1 k.gvt.test\n");
    let ifname = net.wg_name("k");
    net.wireguard_go(&ns, &ifname);
    net.spawn(&ns, "sleep", &["sleep", "600"], false);
    let made = format!("{ns}\n{ifname}\n{}\n", net.dir().display());
    fs::write(report, made).expect("write the report");
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn a_killed_run_is_reaped() {
    if !gluonvpn_testnet::prerequisites_met("a_killed_run_is_reaped", WIREGUARD_TOOLS) {
        return;
    }
    let _etc_netns = etc_netns_to_myself();
    let etc_netns_existed = Path::new("/etc/netns").exists();
    let report = std::env::temp_dir().join(format!(
        "gluonvpn-testnet-killed-run-{}",
        std::process::id()
    ));
    let _ = fs::remove_file(&report);
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["killed_run", "--exact", "--ignored", "--nocapture"])
        .env(KILLED_RUN_REPORT, &report)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the run to kill");
    let made = wait_for(Duration::from_secs(30), || {
        fs::read_to_string(&report)
            .ok()
            .filter(|r| r.lines().count() == 3)
    });
    child.kill().expect("kill the run");
    child.wait().expect("reap the run");
    let _ = fs::remove_file(&report);
    let made = made.expect("the run to kill reports what it made");
    let [ns, ifname, dir]: [&str; 3] = made
        .lines()
        .collect::<Vec<_>>()
        .try_into()
        .expect("three lines");
    let socket = PathBuf::from(format!("/var/run/wireguard/{ifname}.sock"));
    let etc_dir = Path::new("/etc/netns").join(ns);
    let pids = run(&["ip", "netns", "pids", ns]);
    assert_eq!(
        pids.split_whitespace().count(),
        2,
        "wireguard-go and sleep: {pids}"
    );
    assert!(socket.exists() && etc_dir.is_dir() && Path::new(dir).is_dir());

    reap_stale_runs();
    assert!(!namespace_exists(ns), "{ns} is left");
    for pid in pids.split_whitespace() {
        assert!(
            wait_for(Duration::from_secs(5), || (!running(pid)).then_some(())).is_some(),
            "process {pid} of the killed run runs on"
        );
    }
    assert!(!socket.exists(), "{} is left", socket.display());
    assert!(!etc_dir.exists(), "{} is left", etc_dir.display());
    assert!(!Path::new(dir).exists(), "{dir} is left");
    if !etc_netns_existed {
        assert!(!Path::new("/etc/netns").exists(), "/etc/netns is left");
    }
}
