//! How fast, how small, how much memory: the selector built with the
//! workspace's `agent` profile (statically for x86_64-unknown-linux-musl
//! where that target is installed, else for the host), started again and
//! again on a node with 4 configured gateways of which 3 are offline (the
//! network of tests/netns.rs, wireguard-go on both sides).
//!
//! ```sh
//! cargo bench -p gluonvpn-wgpeerselector --bench startup            # 20 runs
//! cargo bench -p gluonvpn-wgpeerselector --bench startup -- 50      # 50 runs
//! cargo bench -p gluonvpn-wgpeerselector --bench startup -- 20 --nightly
//! ```
//!
//! `--nightly` also builds with `cargo +nightly -Zbuild-std` and
//! `-Cpanic=immediate-abort` (std without its panic and backtrace
//! machinery) and reports that binary's size.
//!
//! Not a test: it prints figures (for the book's performance page) and only
//! fails if something does not work at all. Needs root, iproute2,
//! wireguard-go and wireguard-tools.

#[path = "../tests/common/mod.rs"]
mod common;

use common::Lab;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Builds the selector with the agent profile; the binary and its target.
fn build(target_dir: &Path, nightly: bool) -> Option<(PathBuf, String)> {
    let musl = "x86_64-unknown-linux-musl";
    let targets: &[Option<&str>] = &[Some(musl), None];
    for target in targets {
        let mut cmd = if nightly {
            let mut c = Command::new("cargo");
            c.arg("+nightly");
            c
        } else {
            Command::new(cargo())
        };
        cmd.current_dir(workspace())
            .args(["build", "--quiet", "--profile", "agent", "-p"])
            .args(["gluonvpn-wgpeerselector", "--bin", "wgpeerselector"])
            .arg("--target-dir")
            .arg(target_dir);
        if nightly {
            cmd.args(["-Zbuild-std=std,panic_abort"])
                .env("RUSTFLAGS", "-Zunstable-options -Cpanic=immediate-abort")
                .env_remove("RUSTUP_TOOLCHAIN")
                .env_remove("CARGO");
        }
        if let Some(t) = target {
            cmd.args(["--target", t]);
        } else if nightly {
            return None;
        }
        let ok = cmd.status().is_ok_and(|s| s.success());
        if ok {
            let dir = match target {
                Some(t) => target_dir.join(t).join("agent"),
                None => target_dir.join("agent"),
            };
            let name = target.map_or("host (dynamically linked)".to_string(), |t| {
                format!("{t} (static)")
            });
            return Some((dir.join("wgpeerselector"), name));
        }
        eprintln!("building for {target:?} failed; trying the next target");
    }
    None
}

/// Whether an ELF file has no program interpreter (statically linked).
fn is_static(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(32), u16_at(54), u16_at(56));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) != 3 // PT_INTERP
    })
}

struct Run {
    took: Duration,
    peak_kib: u64,
}

/// Starts the selector, waits for the connection, reads its peak RSS,
/// stops it and checks that it left no peer behind.
fn one_run(lab: &mut Lab, extra: &[&str]) -> Run {
    let started = Instant::now();
    let sel = lab.start_selector(extra);
    let deadline = started + Duration::from_secs(60);
    loop {
        if lab.log(sel).contains("Connection established") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no connection:\n{}",
            lab.log(sel)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = started.elapsed();
    // let it settle into watching, and ask for its status once
    std::thread::sleep(Duration::from_millis(300));
    let _ = lab.status();
    let peak_kib = lab.net.proc(sel).peak_rss_kib().unwrap_or(0);
    let p = lab.net.proc(sel);
    p.signal(15);
    let status = p.wait(Duration::from_secs(10)).expect("selector exits");
    assert!(status.success());
    assert!(lab.node_peers().is_empty(), "peers left behind");
    Run { took, peak_kib }
}

fn summary(runs: &[Run]) -> (Duration, Duration, Duration, u64) {
    let mut t: Vec<Duration> = runs.iter().map(|r| r.took).collect();
    t.sort();
    let mean = t.iter().sum::<Duration>() / t.len() as u32;
    let median = t[t.len() / 2];
    let max = *t.last().unwrap();
    let peak = runs.iter().map(|r| r.peak_kib).max().unwrap_or(0);
    (mean, median, max, peak)
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // cargo bench passes --bench
    let runs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(20);
    let nightly = args.iter().any(|a| a == "--nightly");

    let target_dir = workspace().join("target/agent-bench");
    let Some((binary, target)) = build(&target_dir, false) else {
        panic!("cannot build the selector with the agent profile");
    };
    let size = std::fs::metadata(&binary).expect("binary").len();
    let nightly_size = if nightly {
        build(&workspace().join("target/agent-bench-nightly"), true)
            .and_then(|(b, _)| std::fs::metadata(b).ok())
            .map(|m| m.len())
    } else {
        None
    };

    let Some(mut lab) = Lab::new("startup_bench") else {
        eprintln!("cannot build the test network here (root, wireguard-go, …)");
        return;
    };
    lab.selector_bin = vec![binary.display().to_string()];
    // gw2 is up; gw1, gw3 (a name) and gw4 are not. The selector's order is
    // random, so the live one is first, second, third or last.
    lab.start_gateway(2);
    let ours: Vec<Run> = (0..runs).map(|_| one_run(&mut lab, &[])).collect();
    let one_by_one: Vec<Run> = (0..runs.min(8))
        .map(|_| one_run(&mut lab, &["--parallel", "1"]))
        .collect();

    let (mean, median, max, peak) = summary(&ours);
    let (mean1, median1, max1, peak1) = summary(&one_by_one);
    println!("wgpeerselector start → \"Connection established\", 4 gateways of which 3 offline (wireguard-go):\n");
    println!("| | runs | mean | median | max | peak RSS (VmHWM) |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| Rust, default (probing 4 at once, 200 ms apart) | {runs} | {} | {} | {} | {peak} KiB |",
        ms(mean),
        ms(median),
        ms(max)
    );
    println!(
        "| Rust, `--parallel 1` (one at a time, as the original) | {} | {} | {} | {} | {peak1} KiB |",
        one_by_one.len(),
        ms(mean1),
        ms(median1),
        ms(max1)
    );
    println!("| Lua original (GLUON-FACTS: measured) | | 12050 ms | | 20080 ms | |");
    println!();
    println!(
        "binary: {} bytes ({} KiB), stripped, {target}, {}",
        size,
        size / 1024,
        if is_static(&binary) {
            "statically linked"
        } else {
            "dynamically linked"
        }
    );
    if let Some(n) = nightly_size {
        println!(
            "binary with nightly -Zbuild-std and -Cpanic=immediate-abort: {n} bytes ({} KiB)",
            n / 1024
        );
    }
}
