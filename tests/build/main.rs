//! `gluonvpn build` end to end against a Gluon-like repository made by the
//! test (see fake_gluon.rs): the first build, skipping unchanged targets,
//! rebuilding after a site change, a failing target, Ctrl-C, wrong refs and
//! unreachable repositories, the agents feed and the site overlay, and
//! several targets at once.

mod fake_gluon;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Setup {
    _tmp: tempfile::TempDir,
    gluon: PathBuf,
    agents: PathBuf,
    site: PathBuf,
    workdir: PathBuf,
    out: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let gluon = root.join("gluon");
        fake_gluon::create(&gluon);
        let agents = root.join("gluonvpn");
        fake_gluon::agents_workspace(&agents);
        let site = root.join("site");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/wireguard"),
            &site,
        );
        Setup {
            _tmp: tmp,
            gluon,
            agents,
            site,
            workdir: root.join("work"),
            out: root.join("out"),
        }
    }

    fn command(&self, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gluonvpn"));
        cmd.arg("build")
            .arg("--site")
            .arg(&self.site)
            .arg("--gluon-repo")
            .arg(&self.gluon)
            .arg("--workdir")
            .arg(&self.workdir)
            .arg("--out")
            .arg(&self.out)
            .arg("--agents-src")
            .arg(&self.agents)
            .args(extra)
            .env_remove("FAKE_FAIL")
            .env("NO_COLOR", "1");
        cmd
    }

    fn build(&self, extra: &[&str]) -> Output {
        self.command(extra).output().expect("runs gluonvpn")
    }

    fn release_dir(&self) -> PathBuf {
        self.out.join("2025.1.3+md1")
    }

    fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.release_dir().join("build-report.json"))
            .expect("a report");
        serde_json::from_str(&text).expect("JSON")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn status_of(report: &Value, target: &str) -> String {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == target)
        .unwrap_or_else(|| panic!("{target} in the report"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn target<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()
}

fn site_hash(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

/// No staging or moved-aside directories next to the release directory.
fn assert_no_leftovers(out: &Path) {
    let names: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "leftovers in {}: {names:?}",
        out.display()
    );
}

#[test]
fn first_build_skip_and_rebuild_after_a_site_change() {
    let s = Setup::new();
    let site_before = site_hash(&s.site);
    let started = Instant::now();
    let o = s.build(&[
        "--target",
        "x86-64,ath79-generic,mpc85xx-p1010",
        "--autoupdater-branch",
        "stable",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(report["schema"], 1);
    assert_eq!(report["status"], "complete");
    assert_eq!(report["release"], "2025.1.3+md1");
    assert_eq!(report["gluon"]["ref"], "v2025.1.3");
    assert_eq!(report["gluon"]["describe"], "v2025.1.3");
    assert_eq!(report["gluon"]["version"], "v2025.1");
    assert_eq!(report["gluon"]["dirty"], false);
    assert_eq!(report["gluon"]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(report["site"]["content_sha256"].as_str().unwrap().len(), 64);
    assert!(
        report["site"].get("commit").is_none(),
        "the site is in no repository"
    );
    for t in ["x86-64", "ath79-generic", "mpc85xx-p1010"] {
        assert_eq!(status_of(&report, t), "built", "{t}");
    }
    // The user's site is untouched; the build used a copy with the overlay.
    assert_eq!(site_hash(&s.site), site_before);

    // Images per kind, with size and checksum.
    let x86 = target(&report, "x86-64");
    assert_eq!(x86["agents"], "rust");
    let images = x86["images"].as_array().unwrap();
    let paths: Vec<&str> = images.iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "images/factory/gluon-ffmd-2025.1.3+md1-x86-64.bin",
            "images/sysupgrade/gluon-ffmd-2025.1.3+md1-x86-64-alias-sysupgrade.bin",
            "images/sysupgrade/gluon-ffmd-2025.1.3+md1-x86-64-sysupgrade.bin",
        ]
    );
    assert_eq!(
        images[1]["alias_of"],
        "gluon-ffmd-2025.1.3+md1-x86-64-sysupgrade.bin"
    );
    for image in images {
        let path = s.release_dir().join(image["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(image["size"], bytes.len() as u64);
        assert_eq!(image["sha256"].as_str().unwrap().len(), 64);
    }
    assert_eq!(
        x86["packages"]["path"],
        "packages/gluon-ffmd-2025.1.3+md1/x86/64"
    );
    assert!(x86["duration_seconds"].as_f64().is_some());
    assert!(x86["log"].as_str().unwrap().ends_with("logs/x86-64.log"));

    // What the fake Gluon saw: the agents feed as a site feed, its package
    // Makefiles and features, and the image-customization overlay.
    let image = std::fs::read_to_string(
        s.release_dir()
            .join("images/factory/gluon-ffmd-2025.1.3+md1-x86-64.bin"),
    )
    .unwrap();
    assert!(image.contains("GLUON_SITE_FEEDS=gluonvpn\n"), "{image}");
    assert!(
        image.contains("packages/gluonvpn/net/gluonvpn-wgpeerselector/Makefile\n"),
        "{image}"
    );
    assert!(!image.contains("wireguard-vxlan-glue"), "{image}");
    assert!(image.contains(
        "when(_'gluonvpn-agents' and _'mesh-vpn-wireguard', {'gluonvpn-wgpeerselector'})"
    ));
    assert!(image.contains("--- image-customization.lua\n-- Generated by gluonvpn"));
    assert!(image.contains("--- gluonvpn-site-image-customization.lua\nfeatures {\n"));
    assert!(image.contains(
        "if not (target('mpc85xx', 'p1010') or target('mpc85xx', 'p1020')) then\n\tfeatures({'gluonvpn-agents'})\nend"
    ), "{image}");
    assert_eq!(target(&report, "mpc85xx-p1010")["agents"], "gluon");
    let agents = &report["agents"];
    assert_eq!(
        agents["packages"],
        serde_json::json!(["gluonvpn-wgpeerselector"])
    );
    assert_eq!(agents["gluon_agents"][0]["target"], "mpc85xx-p1010");
    assert_eq!(agents["feed_commit"].as_str().unwrap().len(), 40);
    assert!(
        stderr(&o).contains("mpc85xx-p1010: Gluon's own agents"),
        "{}",
        stderr(&o)
    );

    // The manifest lists the sysupgrade images of all targets.
    assert_eq!(report["manifest"]["status"], "written");
    let manifest =
        std::fs::read_to_string(s.release_dir().join("images/sysupgrade/stable.manifest")).unwrap();
    assert!(manifest.starts_with("BRANCH=stable\n"));
    assert_eq!(
        manifest.matches("-sysupgrade.bin 2025.1.3+md1 ").count(),
        5 + 1
    );
    assert_no_leftovers(&s.out);
    let first = started.elapsed();

    // Unchanged inputs: every target is skipped, the images stay.
    let mtime = |p: &str| {
        std::fs::metadata(s.release_dir().join(p))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = mtime("images/factory/gluon-ffmd-2025.1.3+md1-x86-64.bin");
    let o = s.build(&[
        "--target",
        "x86-64,ath79-generic,mpc85xx-p1010",
        "--autoupdater-branch",
        "stable",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    for t in ["x86-64", "ath79-generic", "mpc85xx-p1010"] {
        assert_eq!(status_of(&report, t), "skipped", "{t}");
    }
    assert_eq!(
        mtime("images/factory/gluon-ffmd-2025.1.3+md1-x86-64.bin"),
        before
    );
    assert_eq!(
        target(&report, "x86-64")["images"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(stderr(&o).contains("0 built, 3 skipped"), "{}", stderr(&o));
    // The manifest is written again (over the same images).
    assert_eq!(report["manifest"]["status"], "written");
    assert!(s
        .release_dir()
        .join("images/sysupgrade/stable.manifest")
        .is_file());

    // A missing image makes its target build again.
    std::fs::remove_file(
        s.release_dir()
            .join("images/sysupgrade/gluon-ffmd-2025.1.3+md1-ath79-generic-two-sysupgrade.bin"),
    )
    .unwrap();
    let o = s.build(&[
        "--target",
        "x86-64,ath79-generic",
        "--autoupdater-branch",
        "stable",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(status_of(&report, "x86-64"), "skipped");
    assert_eq!(status_of(&report, "ath79-generic"), "built");

    // A site change rebuilds.
    let conf = s.site.join("site.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, format!("{text}\n-- changed\n")).unwrap();
    let o = s.build(&["--target", "x86-64,ath79-generic"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(status_of(&report, "x86-64"), "built");
    assert_eq!(status_of(&report, "ath79-generic"), "built");
    // A target not built this time keeps its images, but is not in the report.
    assert!(s
        .release_dir()
        .join("images/factory/gluon-ffmd-2025.1.3+md1-mpc85xx-p1010-one.bin")
        .is_file());
    assert_no_leftovers(&s.out);
    eprintln!("first build took {first:?}");
}

#[test]
fn a_failing_target_among_good_ones() {
    let s = Setup::new();
    let o = s
        .command(&[
            "--target",
            "x86-64,ath79-generic,ramips-mt7621",
            "--autoupdater-branch",
            "stable",
            "--jobs",
            "3",
        ])
        .env("FAKE_FAIL", "ath79-generic")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("gluonvpn: ath79-generic failed: make exited with status 2"),
        "{err}"
    );
    assert!(
        err.contains("logs/ath79-generic.log (first error on line"),
        "{err}"
    );
    assert!(
        err.contains("  | ERROR: package/feeds/gluonvpn/gluonvpn-wgpeerselector failed to build."),
        "{err}"
    );
    assert!(
        err.contains("2 built, 0 skipped (unchanged), 1 failed"),
        "{err}"
    );
    let report = s.report();
    assert_eq!(report["status"], "failed");
    assert_eq!(status_of(&report, "x86-64"), "built");
    assert_eq!(status_of(&report, "ramips-mt7621"), "built");
    let failed = target(&report, "ath79-generic");
    assert_eq!(failed["status"], "failed");
    let excerpt: Vec<&str> = failed["error"]["excerpt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(excerpt.contains(&"compiling step 5"), "{excerpt:?}");
    assert!(
        excerpt.contains(&"ERROR: package/feeds/gluonvpn/gluonvpn-wgpeerselector failed to build.")
    );
    // One target at a time gets all the jobs.
    let x86_log = std::fs::read_to_string(s.workdir.join("logs/x86-64.log")).unwrap();
    assert!(x86_log.contains("MAKEFLAGS= -j3 "), "{x86_log}");
    let log = failed["log"].as_str().unwrap();
    let line = failed["error"]["line"].as_u64().unwrap() as usize;
    let log_text = std::fs::read_to_string(log).unwrap();
    assert!(log_text
        .lines()
        .nth(line - 1)
        .unwrap()
        .starts_with("ERROR: "));
    assert!(failed.get("images").is_none());
    // No manifest over an incomplete set of images.
    assert_eq!(report["manifest"]["status"], "not-run");

    // The failed target is built again next time, the others are skipped.
    let o = s.build(&[
        "--target",
        "x86-64,ath79-generic,ramips-mt7621",
        "--autoupdater-branch",
        "stable",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(status_of(&report, "ath79-generic"), "built");
    assert_eq!(status_of(&report, "x86-64"), "skipped");
    assert_eq!(report["manifest"]["status"], "written");
}

#[test]
fn ctrl_c_stops_cleanly() {
    let s = Setup::new();
    // A first build, so that the stopped one has something to keep.
    let o = s.build(&["--target", "ramips-mt7621"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let pids = s._tmp.path().join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let site_conf = s.site.join("site.conf");
    let text = std::fs::read_to_string(&site_conf).unwrap();
    std::fs::write(&site_conf, format!("{text}\n-- changed\n")).unwrap();
    let child = s
        .command(&["--target", "x86-64,ath79-generic,ramips-mt7621"])
        .env("FAKE_SLEEP_ath79_generic", "60")
        .env("FAKE_PIDS", &pids)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until x86-64 is done and ath79-generic is running.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pids.join("ath79-generic").exists() {
        assert!(Instant::now() < deadline, "ath79-generic never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let sleeping: i32 = std::fs::read_to_string(pids.join("ath79-generic"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SIGINT to gluonvpn alone (not its process group), as `kill -INT` does.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    // The make that was running is gone, with what it started.
    let alive = Command::new("kill")
        .args(["-0", &sleeping.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(!alive, "the stopped build's shell is still running");

    let report = s.report();
    assert_eq!(report["status"], "interrupted");
    assert_eq!(status_of(&report, "x86-64"), "built");
    assert_eq!(status_of(&report, "ath79-generic"), "interrupted");
    let ramips = target(&report, "ramips-mt7621");
    assert_eq!(ramips["status"], "not-started");
    assert_no_leftovers(&s.out);
    // x86-64's images are complete; ramips keeps the earlier build's.
    assert!(s
        .release_dir()
        .join("images/factory/gluon-ffmd-2025.1.3+md1-x86-64.bin")
        .is_file());
    assert!(s
        .release_dir()
        .join("images/factory/gluon-ffmd-2025.1.3+md1-ramips-mt7621-one.bin")
        .is_file());
    assert!(!s
        .release_dir()
        .join("images/factory/gluon-ffmd-2025.1.3+md1-ath79-generic-one.bin")
        .exists());
    let err = stderr(&out);
    assert!(
        err.contains("1 built, 0 skipped (unchanged), 0 failed, 2 stopped or not started"),
        "{err}"
    );
}

#[test]
fn a_wrong_ref_writes_nothing() {
    let s = Setup::new();
    let o = s.build(&["--target", "x86-64", "--gluon-ref", "v2025.1.9"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("has no tag, branch or commit 'v2025.1.9' (similar tags: v2025.1.3)"),
        "{err}"
    );
    assert!(!s.workdir.exists());
    assert!(!s.out.exists());

    // A branch gluonvpn cannot place needs --gluon-version.
    let o = s.build(&["--target", "x86-64", "--gluon-ref", "main"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot tell which Gluon release 'main' is"),
        "{}",
        stderr(&o)
    );
    assert!(!s.workdir.exists());
    let o = s.build(&[
        "--target",
        "x86-64",
        "--gluon-ref",
        "main",
        "--gluon-version",
        "v2025.1",
        "--agents",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(report["gluon"]["ref"], "main");
    assert!(report.get("agents").is_none());
    let image = std::fs::read_to_string(
        s.release_dir()
            .join("images/factory/gluon-ffmd-2025.1.3+md1-x86-64.bin"),
    )
    .unwrap();
    assert!(image.contains("GLUON_SITE_FEEDS=\n"), "{image}");
    assert!(
        image.contains("--- image-customization.lua\nfeatures {"),
        "{image}"
    );

    // A version that contradicts the ref is refused.
    let o = s.build(&["--target", "x86-64", "--gluon-version", "v2023.2"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_unreachable_repository_writes_nothing() {
    let mut s = Setup::new();
    for repo in [
        s._tmp
            .path()
            .join("no-such-repository")
            .display()
            .to_string(),
        "https://127.0.0.1:9/gluon.git".to_string(),
    ] {
        s.gluon = PathBuf::from(&repo);
        let o = s.build(&["--target", "x86-64"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("cannot reach the Gluon repository {repo}")),
            "{}",
            stderr(&o)
        );
        assert!(!s.workdir.exists());
        assert!(!s.out.exists());
    }
}

#[test]
fn a_site_with_errors_stops_before_any_clone() {
    let s = Setup::new();
    let conf = s.site.join("site.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replacen("channel = ", "channel = 15 + 0 * ", 1)).unwrap();
    let o = s.build(&["--target", "x86-64"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("would reject this site"),
        "{}",
        stderr(&o)
    );
    assert!(!s.workdir.exists());
    assert!(!s.out.exists());
}

#[test]
fn several_targets_at_once_share_the_jobs() {
    let s = Setup::new();
    let timeline = s._tmp.path().join("timeline");
    let o = s
        .command(&[
            "--target",
            "ath79-generic,ramips-mt7621",
            "--parallel-targets",
            "2",
            "--jobs",
            "4",
        ])
        .env("FAKE_SLEEP_ath79_generic", "2")
        .env("FAKE_SLEEP_ramips_mt7621", "2")
        .env("FAKE_TIMELINE", &timeline)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&timeline).unwrap();
    let time = |what: &str, t: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(&format!("{what} {t} ")))
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // They overlap: each starts before the other ends.
    assert!(
        time("start", "ath79-generic") < time("end", "ramips-mt7621"),
        "{text}"
    );
    assert!(
        time("start", "ramips-mt7621") < time("end", "ath79-generic"),
        "{text}"
    );
    // In separate trees, with one jobserver between them.
    assert!(s.workdir.join("trees/0/.git").exists());
    assert!(s.workdir.join("trees/1/.git").exists());
    for t in ["ath79-generic", "ramips-mt7621"] {
        let log = std::fs::read_to_string(s.workdir.join(format!("logs/{t}.log"))).unwrap();
        // A jobserver client: `-j` without a number, the fds of gluonvpn's
        // jobserver.
        assert!(
            log.contains("MAKEFLAGS= -j --jobserver-auth="),
            "{t}: {log}"
        );
    }
    let report = s.report();
    assert_eq!(report["options"]["parallel_targets"], 2);
    assert_eq!(status_of(&report, "ath79-generic"), "built");
    assert_eq!(status_of(&report, "ramips-mt7621"), "built");
}

#[test]
fn a_dirty_gluon_tree_is_refused_unless_allowed() {
    let s = Setup::new();
    let o = s.build(&["--target", "x86-64"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let modules = s.workdir.join("trees/0/modules");
    std::fs::write(&modules, "# local change\n").unwrap();
    // Something else changed too, so that the target is not just skipped.
    let conf = s.site.join("site.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, format!("{text}\n-- changed\n")).unwrap();
    let o = s.build(&["--target", "x86-64"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("has local changes (modules)"),
        "{}",
        stderr(&o)
    );
    let o = s.build(&["--target", "x86-64", "--allow-dirty"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(report["gluon"]["dirty"], true);
    assert_eq!(report["gluon"]["describe"], "v2025.1.3+");
    assert_eq!(
        std::fs::read_to_string(&modules).unwrap(),
        "# local change\n"
    );
}

#[test]
fn explicit_agents_and_the_site_repository() {
    let s = Setup::new();
    fake_gluon::git(&s.site, &["init", "-q"]);
    fake_gluon::git(&s.site, &["add", "-A"]);
    fake_gluon::git(&s.site, &["commit", "-q", "-m", "site"]);
    let o = s.build(&[
        "--target",
        "x86-64",
        "--agents",
        "wgpeerselector,wireguard-vxlan-glue",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(report["site"]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(report["site"]["dirty"], false);
    assert_eq!(
        report["agents"]["packages"],
        serde_json::json!(["gluonvpn-wgpeerselector", "gluonvpn-wireguard-vxlan-glue"])
    );
    let image = std::fs::read_to_string(
        s.release_dir()
            .join("images/factory/gluon-ffmd-2025.1.3+md1-x86-64.bin"),
    )
    .unwrap();
    assert!(image.contains("packages/gluonvpn/net/gluonvpn-wireguard-vxlan-glue/Makefile\n"));
    assert!(image.contains("when(_'gluonvpn-agents', {'gluonvpn-wireguard-vxlan-glue'})"));
    // The site version Gluon's getversion.sh would print, for the copy.
    let scm = std::fs::read_to_string(s.workdir.join("site/.scmversion")).unwrap();
    assert_eq!(scm.trim().len(), 7, "{scm}");
    // The feed repository holds the workspace copy and the agent's files.
    let feed = s.workdir.join("feed/net/gluonvpn-wgpeerselector");
    assert!(feed.join("src/Cargo.lock").is_file());
    assert!(feed
        .join("files/lib/netifd/proto/wgpeerselector.sh")
        .is_file());
    let makefile = std::fs::read_to_string(feed.join("Makefile")).unwrap();
    assert!(makefile.contains("\t$(CP) ./files/. $(1)/\n"), "{makefile}");

    let o = s.build(&["--target", "x86-64", "--agents", "nonesuch"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown agent 'nonesuch'"));
    // A workspace without the agent is an error when the agent is asked for.
    std::fs::remove_dir_all(s.agents.join("agents/wireguard-vxlan-glue")).unwrap();
    let o = s.build(&["--target", "x86-64", "--agents", "wireguard-vxlan-glue"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no agents/wireguard-vxlan-glue/Cargo.toml"),
        "{}",
        stderr(&o)
    );
}

/// What the generated CI pipelines do: one job per target, each with its
/// own workdir and output, their outputs merged without the runs' reports,
/// and a last run over all targets that skips them all and writes the
/// report and the manifest.
#[test]
fn per_target_jobs_assemble_into_one_release() {
    let mut s = Setup::new();
    let merged = s._tmp.path().join("merged");
    for (i, t) in ["x86-64", "ath79-generic"].iter().enumerate() {
        s.workdir = s._tmp.path().join(format!("work-{i}"));
        s.out = s._tmp.path().join(format!("out-{i}"));
        let o = s.build(&["--target", t, "--autoupdater-branch", "stable"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        merge(&s.out, &merged);
    }
    assert!(merged.join("2025.1.3+md1/reports/x86-64.json").is_file());
    assert!(merged
        .join("2025.1.3+md1/reports/ath79-generic.json")
        .is_file());
    assert!(!merged.join("2025.1.3+md1/build-report.json").exists());

    s.workdir = s._tmp.path().join("work-release");
    s.out = merged;
    let o = s.build(&[
        "--target",
        "x86-64,ath79-generic",
        "--autoupdater-branch",
        "stable",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = s.report();
    assert_eq!(status_of(&report, "x86-64"), "skipped");
    assert_eq!(status_of(&report, "ath79-generic"), "skipped");
    assert_eq!(report["manifest"]["status"], "written");
    let manifest =
        std::fs::read_to_string(s.release_dir().join("images/sysupgrade/stable.manifest")).unwrap();
    assert!(
        manifest.contains("ath79-generic-two-sysupgrade.bin"),
        "{manifest}"
    );
    assert!(manifest.contains("x86-64-sysupgrade.bin"), "{manifest}");
}

/// Copies `from` into `to` as an artifact download would (symlinks become
/// files), leaving out the runs' build-report.json.
fn merge(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        let meta = std::fs::metadata(entry.path()).unwrap();
        if meta.is_dir() {
            merge(&entry.path(), &dest);
        } else if entry.file_name() != "build-report.json" {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A tag the workdir's cache has is built without asking the repository:
/// a rebuild works offline.
#[test]
fn a_cached_tag_needs_no_repository() {
    let mut s = Setup::new();
    let o = s.build(&["--target", "x86-64"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    s.gluon = s._tmp.path().join("gone");
    let conf = s.site.join("site.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, format!("{text}\n-- changed\n")).unwrap();
    let o = s.build(&["--target", "x86-64"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("fetching"), "{}", stderr(&o));
    assert_eq!(status_of(&s.report(), "x86-64"), "built");
    // A branch is always fetched: without the repository it is an error.
    let o = s.build(&[
        "--target",
        "x86-64",
        "--gluon-ref",
        "main",
        "--gluon-version",
        "v2025.1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot reach the Gluon repository"));
}

/// The packages feeds of Gluon v2022.1 and v2023.1 have no Rust support:
/// the agents are left out unless asked for, and asked for, a tree without
/// lang/rust is an error before any target is built.
#[test]
fn releases_without_rust_in_their_packages_feed() {
    let s = Setup::new();
    let o = s.build(&[
        "--target",
        "x86-64",
        "--gluon-ref",
        "main",
        "--gluon-version",
        "v2023.1",
        "--agents",
        "wgpeerselector",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("pins has no Rust support"),
        "{}",
        stderr(&o)
    );
    // Gluon v2023.1 takes features from site.mk.
    let site_mk = std::fs::read_to_string(s.workdir.join("site/site.mk")).unwrap();
    assert!(
        site_mk.contains("GLUON_FEATURES += gluonvpn-agents"),
        "{site_mk}"
    );

    let conf = s.site.join("site.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, format!("{text}\n-- changed\n")).unwrap();
    let o = s
        .command(&[
            "--target",
            "x86-64",
            "--gluon-ref",
            "main",
            "--gluon-version",
            "v2023.1",
            "--agents",
            "wgpeerselector",
        ])
        .env("FAKE_NO_RUST", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("packages/packages/lang/rust/rust-package.mk is missing after `make update`"),
        "{}",
        stderr(&o)
    );
}
