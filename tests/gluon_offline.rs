//! `gluonvpn build` against a real Gluon v2025.1.3 tree, offline. Opt-in:
//!
//! ```sh
//! S=/var/tmp/gluon-offline ../shared/gluon-offline/setup.sh tree update
//! GLUONVPN_GLUON_OFFLINE=/var/tmp/gluon-offline cargo test --test gluon_offline -- --nocapture
//! ```
//!
//! The directory is one prepared by ../shared/gluon-offline/setup.sh (its
//! `tree` and `update` steps): a Gluon checkout at `gluon/` whose modules
//! were updated from local mirrors, and a site whose `modules` points Gluon
//! at those mirrors (`site/modules`). The test builds the WireGuard example
//! site with that `modules` file for x86-64 and ath79-generic with the agents
//! feed of a gluonvpn-like workspace:
//!
//! 1. The real `make update` runs with the generated feed and modules
//!    overlay, and the build stops at the first source download (there is no
//!    network): gluonvpn's report and message name the file.
//! 2. With Debian's lua5.1 standing in for OpenWrt's host Lua (setup.sh's
//!    `config-lua` step does the same), Gluon's config step completes: the
//!    agent package is in openwrt/.config as a module and in the device's
//!    package list, and Gluon's Lua wgpeerselector is not selected.
//!
//! The tree and the workdir (`gluonvpn-test/` in the prepared directory)
//! are kept between runs; the first run takes a few minutes (`make update`
//! scans all feeds).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Seeds a module of the build tree from the prepared tree's module, as
/// setup.sh does: its OpenWrt mirror is a shallow repository, which Gluon's
/// update.sh cannot fetch from, so the module is given the pinned commit
/// beforehand and update.sh finds it.
fn seed(prepared: &Path, tree: &Path, module: &str) {
    let src = prepared.join(module);
    let commit = git(&src, &["rev-parse", "base"]);
    let dest = tree.join(module);
    if dest.join(".git").exists()
        && Command::new("git")
            .current_dir(&dest)
            .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .status()
            .is_ok_and(|s| s.success())
    {
        return;
    }
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).unwrap();
    git(&dest, &["init", "-q"]);
    git(
        &dest,
        &[
            "fetch",
            "-q",
            "--depth=1",
            "--upload-pack=git -c uploadpack.allowAnySHA1InWant=true upload-pack",
            &format!("file://{}", src.display()),
            &commit,
        ],
    );
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

struct Offline {
    root: PathBuf,
    work: PathBuf,
    site: PathBuf,
    agents: PathBuf,
    out: PathBuf,
}

impl Offline {
    fn build(&self, target: &str) -> Output {
        let guards =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/gluon-offline/nonet-bin");
        let path = format!(
            "{}:{}",
            guards.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
            .arg("build")
            .arg("--site")
            .arg(&self.site)
            .args([
                "--target",
                target,
                "--gluon-ref",
                "v2025.1.3",
                "--agents",
                "wgpeerselector",
            ])
            .arg("--gluon-repo")
            .arg(self.root.join("gluon"))
            .arg("--workdir")
            .arg(&self.work)
            .arg("--out")
            .arg(&self.out)
            .arg("--agents-src")
            .arg(&self.agents)
            .args(["--jobs", "2"])
            .env("PATH", path)
            .env("OFFLINE_LOG", self.work.join("blocked-downloads.log"))
            // Anything that slips past the guards meets a dead proxy.
            .env("http_proxy", "http://127.0.0.1:9")
            .env("https_proxy", "http://127.0.0.1:9")
            .env("ftp_proxy", "http://127.0.0.1:9")
            .env("all_proxy", "http://127.0.0.1:9")
            .env("no_proxy", "")
            .output()
            .expect("runs gluonvpn");
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        out
    }

    fn report(&self) -> serde_json::Value {
        let path = self.out.join("2025.1.3+md1/build-report.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("a report")).unwrap()
    }
}

#[test]
fn real_gluon_update_config_and_first_download() {
    let Some(root) = std::env::var_os("GLUONVPN_GLUON_OFFLINE").map(PathBuf::from) else {
        eprintln!(
            "skipped: set GLUONVPN_GLUON_OFFLINE to a directory prepared by \
             ../shared/gluon-offline/setup.sh (steps tree update)"
        );
        return;
    };
    let prepared = root.join("gluon");
    assert!(
        prepared.join("openwrt/.git").exists(),
        "{} has no updated Gluon tree: run setup.sh's tree and update steps",
        prepared.display()
    );
    let work = root.join("gluonvpn-test");
    let t = Offline {
        site: work.join("site-src"),
        agents: work.join("agents-src"),
        out: work.join("out"),
        work: work.join("work"),
        root,
    };
    // The WireGuard example site, with the prepared site's `modules` (the
    // offline module sources).
    let _ = std::fs::remove_dir_all(&t.site);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/wireguard"),
        &t.site,
    );
    std::fs::copy(t.root.join("site/modules"), t.site.join("modules")).unwrap();
    // A gluonvpn-like workspace with the agent (not compiled: the build
    // stops long before).
    let _ = std::fs::remove_dir_all(&t.agents);
    write(&t.agents, "Cargo.toml", "[workspace]\nmembers = [\"agents/wgpeerselector\"]\n\n[profile.agent]\ninherits = \"release\"\nopt-level = \"z\"\n");
    write(&t.agents, "Cargo.lock", "version = 4\n");
    write(&t.agents, "agents/wgpeerselector/Cargo.toml", "[package]\nname = \"wgpeerselector\"\nversion = \"0.1.0\"\nlicense = \"GPL-3.0-or-later\"\n\n[features]\nubus = []\n");
    write(
        &t.agents,
        "agents/wgpeerselector/src/main.rs",
        "fn main() {}\n",
    );
    let _ = std::fs::remove_dir_all(&t.out);

    let tree = t.work.join("trees/0");
    for module in [
        "openwrt",
        "packages/packages",
        "packages/routing",
        "packages/gluon",
    ] {
        seed(&prepared, &tree, module);
    }

    // 1. update, then the build stops at the first download.
    let lua = tree.join("openwrt/staging_dir/hostpkg/bin/lua");
    let _ = std::fs::remove_file(&lua);
    let out = t.build("x86-64");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report = t.report();
    let x86 = &report["targets"][0];
    assert_eq!(x86["status"], "failed");
    let download = x86["error"]["download"].as_str().expect("a download named");
    assert!(download.starts_with("dl/"), "{download}");
    assert!(
        stderr.contains(&format!("the build stopped at the download of {download}")),
        "{stderr}"
    );
    // The feed is a module of the tree, its package scanned by OpenWrt.
    assert!(tree
        .join("packages/gluonvpn/net/gluonvpn-wgpeerselector/Makefile")
        .is_file());
    assert!(
        tree.join("openwrt/feeds/gluonvpn.index").is_file()
            || tree
                .join("openwrt/package/feeds/gluonvpn/gluonvpn-wgpeerselector")
                .exists()
    );

    // 2. With a host Lua, Gluon's config step completes, for a 64-bit x86
    // target and for the 32-bit MIPS routers of ath79-generic.
    let system_lua = Command::new("sh")
        .args(["-c", "command -v lua5.1"])
        .output()
        .unwrap();
    assert!(
        system_lua.status.success(),
        "lua5.1 is needed for the config step (apt-get install lua5.1)"
    );
    std::fs::create_dir_all(lua.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(String::from_utf8_lossy(&system_lua.stdout).trim(), &lua).unwrap();
    for (target, device_prefix) in [
        ("x86-64", "CONFIG_TARGET_DEVICE_PACKAGES_x86_64_DEVICE_"),
        (
            "ath79-generic",
            "CONFIG_TARGET_DEVICE_PACKAGES_ath79_generic_DEVICE_",
        ),
    ] {
        let out = t.build(target);
        assert_eq!(out.status.code(), Some(1), "{target}");
        let config = std::fs::read_to_string(tree.join("openwrt/.config")).unwrap();
        assert!(
            config.contains("\nCONFIG_PACKAGE_gluonvpn-wgpeerselector=m\n"),
            "{target}: not selected"
        );
        let devices: Vec<&str> = config
            .lines()
            .filter(|l| l.starts_with(device_prefix))
            .collect();
        assert!(!devices.is_empty(), "{target}: no device package lists");
        let with_agent = devices
            .iter()
            .filter(|l| l.contains("gluonvpn-wgpeerselector"))
            .count();
        eprintln!(
            "{target}: gluonvpn-wgpeerselector in {with_agent} of {} device package lists",
            devices.len()
        );
        assert_eq!(
            with_agent,
            devices.len(),
            "{target}: a device without the agent"
        );
        assert!(
            devices
                .iter()
                .all(|l| l.contains("gluon-mesh-vpn-wireguard")),
            "{target}"
        );
        assert!(
            !config.contains("\nCONFIG_PACKAGE_wgpeerselector=m\n")
                && !config.contains("\nCONFIG_PACKAGE_wgpeerselector=y\n"),
            "{target}: Gluon's Lua wgpeerselector is still selected"
        );
        let report = t.report();
        assert!(
            report["targets"][0]["error"]["download"].as_str().is_some(),
            "{target}"
        );
    }
}
