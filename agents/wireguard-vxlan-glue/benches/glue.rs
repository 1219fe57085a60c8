//! Figures for book/src/performance.md ("Agents"):
//!
//! ```sh
//! cargo bench -p wireguard-vxlan-glue --bench glue
//! ```
//!
//! 1. latency from a node's handshake to its FDB entry and route, with the
//!    glue binary polling every second (the original: every 10 s), over
//!    wireguard-go nodes in network namespaces;
//! 2. reconciling 10,000 peers: the diff alone, and diff plus netlink
//!    batches on a VXLAN in a namespace (all new, nothing to do, 10 %
//!    churn, all gone);
//! 3. reading 10,000 peers from wireguard-go, and the glue's CPU time per
//!    round and peak RSS with them;
//! 4. the size of the agent binaries, where they were built.
//!
//! Needs root, iproute2, wireguard-go, wireguard-tools and python3 (as the
//! tests); prints what it skips otherwise. Not a test: it asserts nothing.

#[path = "../tests/common/mod.rs"]
mod common;

use common::Testbed;
use gluonvpn_testnet::{wait_for, TestNet};
use gluonvpn_wg::{AllowedIp, Backend, DeviceConfig, Key, PeerConfig, WireGuard};
use std::collections::BTreeSet;
use std::fs::File;
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};
use wireguard_vxlan_glue::glue::reconcile;
use wireguard_vxlan_glue::lladdr::link_local;
use wireguard_vxlan_glue::reconcile::{plan, FdbEntry, Route};
use wireguard_vxlan_glue::rtnl::{ifindex, Rtnl};

/// Runs `f` on a thread inside the network namespace `ns`.
fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = File::open(format!("/var/run/netns/{ns}")).expect("netns");
            // SAFETY: a valid descriptor of a network namespace; setns
            // changes only this thread's namespace.
            let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("thread")
    })
}

/// CPU time of the calling thread: (user, system).
fn thread_cpu() -> (Duration, Duration) {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: a valid pointer to a rusage to fill.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_THREAD, ru.as_mut_ptr());
        ru.assume_init()
    };
    let d = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (d(ru.ru_utime), d(ru.ru_stime))
}

/// Wall, user and system time of `f`.
#[derive(Clone, Copy)]
struct Timing {
    wall: Duration,
    user: Duration,
    sys: Duration,
}

fn timed(f: impl FnOnce()) -> Timing {
    let (u0, s0) = thread_cpu();
    let t = Instant::now();
    f();
    let wall = t.elapsed();
    let (u1, s1) = thread_cpu();
    Timing {
        wall,
        user: u1 - u0,
        sys: s1 - s0,
    }
}

fn median_timing(mut v: Vec<Timing>) -> Timing {
    v.sort_by_key(|t| t.wall);
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A tiny generator for the pauses between handshakes (so that they fall
/// anywhere in the glue's polling interval).
struct Lcg(u64);

impl Lcg {
    fn next_ms(&mut self, max: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % max
    }
}

fn latency(nodes: usize) {
    println!("## handshake → FDB entry and route ({nodes} nodes, --interval 1)");
    let Some(mut tb) = Testbed::new("bench latency", nodes) else {
        return;
    };
    let glue = tb.start_glue(&[]);
    std::thread::sleep(Duration::from_millis(500));
    let vx = tb.vx.clone();
    let wg = tb.gw_wg.clone();
    let mut lcg = Lcg(SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64);
    let mut latencies = Vec::new();
    for i in 0..nodes {
        std::thread::sleep(Duration::from_millis(lcg.next_ms(1000)));
        tb.poke(i);
        let hs = wait_for(Duration::from_secs(5), || tb.handshake(i)).expect("handshake");
        let ll = tb.nodes[i].lladdr;
        let seen = in_netns(&tb.gw, || {
            let mut rtnl = Rtnl::new().unwrap();
            let (vxi, wgi) = (ifindex(&vx).unwrap(), ifindex(&wg).unwrap());
            wait_for(Duration::from_secs(5), || {
                let fdb = rtnl.fdb(vxi).unwrap();
                let routes = rtnl.routes(true, 129, Some(wgi)).unwrap();
                (fdb.contains(&FdbEntry::new(ll)) && routes.iter().any(|r| r.dst == ll))
                    .then(SystemTime::now)
            })
        })
        .expect("entries");
        latencies.push(seen.duration_since(hs).unwrap_or_default());
    }
    let rss = tb.net.proc(glue).peak_rss_kib();
    let mut sorted = latencies.clone();
    let med = median(&mut sorted);
    let max = *sorted.last().unwrap();
    let mean = sorted.iter().sum::<Duration>() / sorted.len() as u32;
    println!(
        "latency: median {}, mean {}, max {} (goal < 1.5 s)",
        ms(med),
        ms(mean),
        ms(max)
    );
    println!("glue peak RSS with {nodes} peers: {} KiB", rss.unwrap_or(0));
}

/// Gluon-form addresses of `n` made-up keys.
fn addresses(n: u32, salt: u8) -> Vec<Ipv6Addr> {
    (0..n)
        .map(|i| {
            let mut b = [salt; 32];
            b[..4].copy_from_slice(&i.to_be_bytes());
            link_local(&Key(b))
        })
        .collect()
}

fn reconcile_10k() {
    const N: u32 = 10_000;
    println!("## reconciling {N} peers");
    let t = Instant::now();
    let all = addresses(N, 1);
    println!(
        "link-local addresses of {N} keys (MD5): {}",
        ms(t.elapsed())
    );

    // the diff alone: all new, nothing to do
    let desired: BTreeSet<Ipv6Addr> = all.iter().copied().collect();
    let present: Vec<FdbEntry> = all.iter().map(|a| FdbEntry::new(*a)).collect();
    let routes: Vec<Route> = all.iter().map(|a| Route::host(*a, 7)).collect();
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let p = plan(&desired, &[], &[], 7);
            assert_eq!(p.add_fdb.len(), N as usize);
            t.elapsed()
        })
        .collect();
    println!("diff, all new: {}", ms(median(&mut runs)));
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let p = plan(&desired, &present, &routes, 7);
            assert!(p.is_empty());
            t.elapsed()
        })
        .collect();
    println!("diff, nothing to do: {}", ms(median(&mut runs)));

    let Some(mut net) = TestNet::new("bench reconcile") else {
        return;
    };
    let ns = net.netns("r");
    // the WireGuard interface's stand-in (routes need a device; this
    // kernel has no dummy driver)
    net.ip(
        &ns,
        &["link", "add", "wgd", "type", "veth", "peer", "name", "wgd2"],
    );
    net.ip(&ns, &["link", "set", "wgd2", "up"]);
    net.ip(
        &ns,
        &["-6", "addr", "add", "fe80::1/64", "dev", "wgd", "nodad"],
    );
    net.ip(&ns, &["link", "set", "wgd", "up"]);
    net.ip(
        &ns,
        &[
            "link", "add", "vx0", "type", "vxlan", "id", "4242", "local", "fe80::1", "dev", "wgd",
            "dstport", "4789",
        ],
    );
    net.ip(&ns, &["link", "set", "vx0", "up"]);
    let churned: BTreeSet<Ipv6Addr> = all
        .iter()
        .skip(N as usize / 10)
        .copied()
        .chain(addresses(N / 10, 2))
        .collect();
    let results = in_netns(&ns, || {
        use wireguard_vxlan_glue::rtnl::Op;
        let mut rtnl = Rtnl::new().unwrap();
        let (wg, vx) = (ifindex("wgd").unwrap(), ifindex("vx0").unwrap());
        let empty = BTreeSet::new();
        let mut rows: Vec<(&str, Vec<Timing>)> = vec![
            ("all new (10,000 FDB entries and routes added)", vec![]),
            ("nothing to do (both dumps and the diff)", vec![]),
            ("10 % churn (1,000 out, 1,000 in)", vec![]),
            ("all gone (10,000 of each removed)", vec![]),
            ("of which: 10,000 FDB appends alone", vec![]),
            ("of which: 10,000 route adds alone", vec![]),
        ];
        let fdb_ops: Vec<Op> = desired
            .iter()
            .map(|d| Op::AddFdb { vxlan: vx, dst: *d })
            .collect();
        let route_ops: Vec<Op> = desired
            .iter()
            .map(|d| Op::AddRoute { dst: *d, oif: wg })
            .collect();
        for _ in 0..3 {
            let mut run = |set: &BTreeSet<Ipv6Addr>| {
                timed(|| {
                    let outcome = reconcile(&mut rtnl, wg, vx, set).unwrap();
                    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed.first());
                })
            };
            rows[0].1.push(run(&desired));
            rows[1].1.push(run(&desired));
            rows[2].1.push(run(&churned));
            run(&desired);
            rows[3].1.push(run(&empty));
            rows[4].1.push(timed(|| {
                assert!(rtnl.apply(&fdb_ops).unwrap().is_empty());
            }));
            rows[5].1.push(timed(|| {
                assert!(rtnl.apply(&route_ops).unwrap().is_empty());
            }));
            reconcile(&mut rtnl, wg, vx, &empty).unwrap();
        }
        rows.into_iter()
            .map(|(what, v)| (what, median_timing(v)))
            .collect::<Vec<_>>()
    });
    println!("diff + netlink batches on a VXLAN (wall; the glue's user CPU; kernel CPU):");
    for (what, t) in results {
        println!(
            "  {what}: {} ({} user, {} system)",
            ms(t.wall),
            ms(t.user),
            ms(t.sys)
        );
    }
}

fn uapi_10k() {
    const N: u32 = 10_000;
    println!("## {N} peers on wireguard-go");
    let Some(mut tb) = Testbed::new("bench uapi", 0) else {
        return;
    };
    let mut wg = WireGuard::open_with(&tb.gw_wg, Backend::Userspace).unwrap();
    let peers: Vec<PeerConfig> = (0..N)
        .map(|i| {
            let mut b = [3u8; 32];
            b[..4].copy_from_slice(&i.to_be_bytes());
            let key = Key(b);
            PeerConfig::new(key).replace_allowed_ips(vec![AllowedIp::host(link_local(&key).into())])
        })
        .collect();
    let t = Instant::now();
    wg.configure(&DeviceConfig {
        peers,
        ..DeviceConfig::default()
    })
    .unwrap();
    println!("adding {N} peers in one UAPI request: {}", ms(t.elapsed()));
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(wg.peers().unwrap().len(), N as usize);
            t.elapsed()
        })
        .collect();
    println!("reading {N} peers (get=1): {}", ms(median(&mut runs)));

    let glue = tb.start_glue(&[]);
    std::thread::sleep(Duration::from_millis(1500));
    let cpu0 = cpu_ticks(tb.net.proc(glue).pid());
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    let cpu = cpu_ticks(tb.net.proc(glue).pid()) - cpu0;
    let wall = t.elapsed();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let rounds = wall.as_secs_f64(); // one per second
    println!(
        "glue CPU per round with {N} (stale) peers: {:.1} ms ({:.1} % of one core)",
        cpu as f64 / hz / rounds * 1000.0,
        cpu as f64 / hz / wall.as_secs_f64() * 100.0
    );
    println!(
        "glue peak RSS with {N} peers: {} KiB",
        tb.net.proc(glue).peak_rss_kib().unwrap_or(0)
    );
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // the fields after the command name, which is in parentheses
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn sizes() {
    println!("## binary sizes (built with --profile agent, stripped)");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    for (what, path) in [
        (
            "x86_64-unknown-linux-musl, static",
            "x86_64-unknown-linux-musl/agent",
        ),
        ("host (glibc, dynamic)", "agent"),
        (
            "x86_64-unknown-linux-musl, nightly -Zbuild-std, -Cpanic=immediate-abort",
            "nightly-size/x86_64-unknown-linux-musl/agent",
        ),
    ] {
        let file = target.join(path).join("wireguard-vxlan-glue");
        match std::fs::metadata(&file) {
            Ok(m) => println!("{what}: {} bytes ({} KiB)", m.len(), m.len() / 1024),
            Err(_) => println!("{what}: not built ({})", file.display()),
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; a filter picks parts
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if run("latency") {
        latency(20);
    }
    if run("reconcile") {
        reconcile_10k();
    }
    if run("uapi") {
        uapi_10k();
    }
    if run("sizes") {
        sizes();
    }
}
