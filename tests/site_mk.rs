//! site.mk's make, run by gluonvpn: `--untrusted` runs none of site.mk's
//! commands and keeps make away from everything but a copy of the site
//! (every escape tried here leaves its marker file unwritten); the trusted
//! make is stopped with everything it started on timeout, on running out of
//! memory and on SIGTERM or SIGINT to gluonvpn, and is confined where the
//! kernel allows (no writes outside its scratch directory, no network).
//!
//! The untrusted tests need Landlock (they say so and pass without it); the
//! network namespace needs root.

use gluonvpn::site::confine::{self, Network};
use gluonvpn::site::site_mk::{self, ErrorKind, MakeOptions, Outcome, SkippedShell};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A site directory with this site.mk (and the WireGuard example's other
/// files), inside a directory that also holds the markers.
struct Site {
    root: tempfile::TempDir,
    dir: PathBuf,
}

impl Site {
    fn new(site_mk: &str) -> Site {
        Site::named("site", site_mk)
    }

    fn named(name: &str, site_mk: &str) -> Site {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).expect("site dir");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/wireguard");
        for file in ["site.conf", "image-customization.lua"] {
            std::fs::copy(example.join(file), dir.join(file)).expect("copy");
        }
        std::fs::write(dir.join("site.mk"), site_mk).expect("site.mk");
        Site { root, dir }
    }

    /// An absolute path next to the site, for a marker file.
    fn marker(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    fn markers(&self) -> Vec<String> {
        std::fs::read_dir(self.root.path())
            .expect("read dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("MARKER"))
            .collect()
    }

    fn evaluate(&self, options: &MakeOptions) -> Outcome {
        site_mk::evaluate(&self.dir, &[], options).expect("make runs")
    }
}

fn untrusted() -> MakeOptions {
    MakeOptions {
        untrusted: true,
        ..MakeOptions::default()
    }
}

/// Whether the untrusted tests can run here.
fn landlock(test: &str) -> bool {
    let abi = confine::landlock_abi();
    if abi.is_none() {
        eprintln!("{test}: SKIPPED: this kernel offers no Landlock, which --untrusted needs");
    }
    abi.is_some()
}

/// A word no other process on the machine has in its command line.
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{tag}{}{nanos}", std::process::id())
}

/// The processes whose command line contains `word`.
fn processes_with(word: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == std::process::id().to_string() {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(word) {
            found.push(format!("{name}: {cmdline}"));
        }
    }
    found
}

/// Waits up to `limit` for `done`.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

fn shell_at(line: usize) -> SkippedShell {
    SkippedShell {
        location: Some((PathBuf::from("site.mk"), line)),
        variable: None,
    }
}

#[test]
fn untrusted_runs_no_command_of_site_mk() {
    if !landlock("untrusted_runs_no_command_of_site_mk") {
        return;
    }
    let site = Site::new("");
    let m = |n: &str| site.marker(n).display().to_string();
    let site_mk = format!(
        "GLUON_RELEASE := 1.0$(shell touch {m1} 2>/dev/null || :; echo -x)\n\
         X != touch {m2}\n\
         override SHELL := /bin/sh\n\
         override .SHELLFLAGS := -c\n\
         GLUON_REGION := eu$(shell touch {m3})\n\
         $(eval GLUON_LANGS := $$(shell touch {m4}) de)\n\
         GLUON_BRANCH = $(shell touch {m5})stable\n\
         export PATH := /nonexistent\n\
         GLUON_PRIORITY := $(shell /bin/touch {m6})0\n",
        m1 = m("MARKER1"),
        m2 = m("MARKER2"),
        m3 = m("MARKER3"),
        m4 = m("MARKER4"),
        m5 = m("MARKER5"),
        m6 = m("MARKER6"),
    );
    std::fs::write(site.dir.join("site.mk"), site_mk).expect("site.mk");
    let outcome = site.evaluate(&untrusted());
    assert_eq!(site.markers(), Vec::<String>::new(), "a command ran");
    assert_eq!(outcome.error, None);
    let global = &outcome.evaluation.global;
    assert_eq!(global.get("GLUON_RELEASE"), Some("1.0"));
    assert_eq!(global.get("GLUON_REGION"), Some("eu"));
    assert_eq!(global.get("GLUON_LANGS"), Some(" de"));
    assert_eq!(global.get("GLUON_BRANCH"), Some("stable"));
    assert_eq!(global.get("GLUON_PRIORITY"), Some("0"));
    // Each place once: where make read it, or the variable gluonvpn asked
    // for (GLUON_BRANCH is recursively expanded).
    let mut expected = vec![
        shell_at(1),
        shell_at(2),
        shell_at(5),
        shell_at(6),
        shell_at(9),
        SkippedShell {
            location: None,
            variable: Some("GLUON_BRANCH".into()),
        },
    ];
    expected.sort();
    assert_eq!(outcome.skipped_shells, expected);
    let applied = outcome.confinement.expect("confined");
    assert!(applied.seccomp && applied.landlock.is_some(), "{applied:?}");
    assert_eq!(applied.network, Network::NoSockets);

    // The same site, trusted: the commands run (in the scratch directory
    // they may write to; the markers outside it stay unwritten there too
    // when Landlock confines the trusted make).
    let outcome = site.evaluate(&MakeOptions::default());
    assert_eq!(
        outcome.evaluation.global.get("GLUON_RELEASE"),
        Some("1.0-x")
    );
    assert!(outcome.skipped_shells.is_empty());
}

#[test]
fn untrusted_refuses_what_reaches_outside_the_site() {
    if !landlock("untrusted_refuses_what_reaches_outside_the_site") {
        return;
    }
    let outside = tempfile::tempdir().expect("tempdir");
    let secret = outside.path().join("secret.mk");
    std::fs::write(&secret, "GLUON_RELEASE := secret\n").expect("secret");
    let cases: Vec<(&str, String, usize)> = vec![
        ("writes a file", "$(file >{MARKER},x)".into(), 2),
        ("appends to a file", "$(file >>{MARKER},x)".into(), 2),
        (
            "reads a file",
            format!("GLUON_RELEASE := $(file <{})", secret.display()),
            2,
        ),
        ("includes a file", format!("include {}", secret.display()), 2),
        (
            "runs a rule's recipe",
            "include $(GLUON_SITEDIR)/generated.mk\n$(GLUON_SITEDIR)/generated.mk: ; touch {MARKER}"
                .into(),
            3,
        ),
        ("loads an object", "load {OUTSIDE}/outside.so".into(), 2),
        (
            "starts a job server",
            "MAKEFLAGS += -j2\nall: a b\na b: ; touch {MARKER}".into(),
            0,
        ),
    ];
    for (what, text, line) in cases {
        let site = Site::new("");
        let marker = site.marker("MARKER");
        std::fs::write(site.root.path().join("outside.so"), "not an object\n").expect("so");
        let text = text
            .replace("{MARKER}", &marker.display().to_string())
            .replace("{OUTSIDE}", &site.root.path().display().to_string());
        std::fs::write(
            site.dir.join("site.mk"),
            format!("GLUON_REGION := eu\n{text}\n"),
        )
        .expect("site.mk");
        let outcome = site.evaluate(&untrusted());
        assert_eq!(site.markers(), Vec::<String>::new(), "{what}");
        assert_ne!(
            outcome.evaluation.global.get("GLUON_RELEASE"),
            Some("secret"),
            "{what}"
        );
        if line == 0 {
            // make ignores it or stops: either way nothing ran.
            continue;
        }
        let error = outcome.error.unwrap_or_else(|| panic!("{what}: no error"));
        assert_eq!(error.kind, ErrorKind::Stopped, "{what}: {error:?}");
        assert_eq!(
            error.location.as_ref().map(|(_, l)| *l),
            Some(line),
            "{what}: {error:?}"
        );
        assert!(error.message.contains("--untrusted"), "{what}: {error:?}");
    }
}

/// A real shared object whose constructor writes a variable into the file
/// gluonvpn reads them from: trusted make loads it (so the object works),
/// the untrusted one cannot, neither from the site nor from outside it.
#[test]
fn untrusted_loads_no_object() {
    if !landlock("untrusted_loads_no_object") {
        return;
    }
    let Ok(cc) = which("cc") else {
        eprintln!("untrusted_loads_no_object: SKIPPED: no C compiler (cc)");
        return;
    };
    let site = Site::new("GLUON_RELEASE := 1\nload $(GLUON_SITEDIR)/evil.so\n");
    let source = site.root.path().join("evil.c");
    std::fs::write(
        &source,
        "#include <stdio.h>\n\
         int plugin_is_GPL_compatible;\n\
         __attribute__((constructor)) static void run(void) {\n\
           FILE *f = fopen(\"vars.out\", \"a\");\n\
           if (f) { fputs(\"@@var GLUON_REGION\\nloaded\\n\", f); fclose(f); }\n\
         }\n\
         int evil_gmk_setup(void) { return 1; }\n",
    )
    .expect("evil.c");
    let object = site.dir.join("evil.so");
    let status = Command::new(cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&object)
        .arg(&source)
        .status()
        .expect("cc runs");
    assert!(status.success());
    let trusted = site.evaluate(&MakeOptions::default());
    assert_eq!(trusted.error, None);
    assert_eq!(
        trusted.evaluation.global.get("GLUON_REGION"),
        Some("loaded"),
        "the object does not work, so this test proves nothing"
    );
    // From the copy of the site (the object is not copied: it has NUL
    // bytes) and by the site's real path (not readable).
    for load in [
        "load $(GLUON_SITEDIR)/evil.so".to_string(),
        format!("load {}", object.display()),
        format!("-load {}", object.display()),
    ] {
        std::fs::write(
            site.dir.join("site.mk"),
            format!("GLUON_RELEASE := 1\n{load}\n"),
        )
        .expect("site.mk");
        let outcome = site.evaluate(&untrusted());
        assert_eq!(
            outcome.evaluation.global.get("GLUON_REGION"),
            None,
            "{load}: the object ran"
        );
        if !load.starts_with('-') {
            let error = outcome.error.expect("error");
            assert_eq!(error.kind, ErrorKind::Stopped, "{load}: {error:?}");
            assert_eq!(error.location.map(|(_, l)| l), Some(2));
        }
    }
}

fn which(program: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn untrusted_sees_only_the_sites_text_files() {
    if !landlock("untrusted_sees_only_the_sites_text_files") {
        return;
    }
    let site = Site::new(concat!(
        "include $(GLUON_SITEDIR)/extra/release.mk\n",
        "GLUON_REGION := $(file <$(GLUON_SITEDIR)/binary)|$(wildcard $(GLUON_SITEDIR)/.git/*)|$(wildcard /etc/*)\n",
    ));
    std::fs::create_dir(site.dir.join("extra")).expect("extra");
    std::fs::write(site.dir.join("extra/release.mk"), "GLUON_RELEASE := 7\n").expect("mk");
    std::fs::write(site.dir.join("binary"), b"a\0b").expect("binary");
    std::fs::create_dir(site.dir.join(".git")).expect(".git");
    std::fs::write(site.dir.join(".git/config"), "x").expect("config");
    let outcome = site.evaluate(&untrusted());
    assert_eq!(outcome.error, None);
    let global = &outcome.evaluation.global;
    assert_eq!(global.get("GLUON_RELEASE"), Some("7"));
    assert_eq!(global.get("GLUON_REGION"), Some("||"));
}

#[test]
fn a_site_path_with_spaces_is_no_make_error() {
    for options in [MakeOptions::default(), untrusted()] {
        if options.untrusted && !landlock("a_site_path_with_spaces_is_no_make_error") {
            continue;
        }
        let site = Site::named(
            "my site #1",
            "include $(GLUON_SITEDIR)/more.mk\nGLUON_RELEASE := 1\n",
        );
        std::fs::write(site.dir.join("more.mk"), "GLUON_REGION := eu\n").expect("more.mk");
        let outcome = site.evaluate(&options);
        assert_eq!(outcome.error, None, "untrusted: {}", options.untrusted);
        assert_eq!(outcome.evaluation.global.get("GLUON_REGION"), Some("eu"));
        assert!(
            outcome
                .evaluation
                .makefiles
                .iter()
                .any(|f| f == &site.dir.join("more.mk")),
            "{:?}",
            outcome.evaluation.makefiles
        );
    }
}

#[test]
fn a_command_that_hangs_is_killed_with_everything_it_started() {
    let word = unique("3600.");
    let site = Site::new(&format!(
        "A := $(shell sleep {word})\nB := $(shell (sleep {word}1 &); echo started)\n"
    ));
    let options = MakeOptions {
        wall_time: Duration::from_secs(2),
        ..MakeOptions::default()
    };
    let started = Instant::now();
    let outcome = site.evaluate(&options);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let error = outcome.error.expect("timeout");
    assert_eq!(error.kind, ErrorKind::Stopped);
    assert!(
        error.message.contains("did not finish within 2 s"),
        "{error:?}"
    );
    assert!(
        wait_for(Duration::from_secs(2), || processes_with(&word).is_empty()),
        "left behind: {:?}",
        processes_with(&word)
    );

    // A background command holding make's pipe open, after a quick one.
    let site = Site::new(&format!(
        "GLUON_RELEASE := $(shell (sleep {word}2 >&2 &); echo 1)\n"
    ));
    let outcome = site.evaluate(&options);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.evaluation.global.get("GLUON_RELEASE"), Some("1"));
    assert!(
        wait_for(Duration::from_secs(2), || processes_with(&word).is_empty()),
        "left behind: {:?}",
        processes_with(&word)
    );
}

#[test]
fn a_command_that_eats_memory_is_stopped() {
    let word = unique("gluonvpn-yes-");
    let site = Site::new(&format!("GLUON_RELEASE := $(shell yes {word})\n"));
    let started = Instant::now();
    let outcome = site.evaluate(&MakeOptions::default());
    let error = outcome.error.expect("stopped");
    eprintln!("{error:?} after {:?}", started.elapsed());
    assert_eq!(error.kind, ErrorKind::Stopped, "{error:?}");
    assert!(
        error.message.contains("out of memory") || error.message.contains("did not finish"),
        "{error:?}"
    );
    assert!(started.elapsed() < site_mk::TIMEOUT + Duration::from_secs(5));
    assert!(
        wait_for(Duration::from_secs(2), || processes_with(&word).is_empty()),
        "left behind: {:?}",
        processes_with(&word)
    );
}

/// SIGTERM and SIGINT to `gluonvpn check` (not to its process group, as a
/// terminal would) stop make and the command it runs, and end gluonvpn as
/// the signal does.
#[test]
fn a_signal_to_gluonvpn_kills_make_and_its_commands() {
    use std::os::unix::process::ExitStatusExt as _;
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let word = unique("3600.");
        let site = Site::new(&format!("GLUON_RELEASE := $(shell sleep {word})\n"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_gluonvpn"));
        command
            .arg("check")
            .arg(&site.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // As from a terminal: a test run in the background may have been
        // started with SIGINT ignored, which gluonvpn leaves ignored.
        // SAFETY: signal() is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = command.spawn().expect("gluonvpn runs");
        assert!(
            wait_for(Duration::from_secs(10), || !processes_with(&word)
                .is_empty()),
            "make never ran the command"
        );
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let status = child.wait().expect("gluonvpn ends");
        assert_eq!(status.signal(), Some(signal), "{status:?}");
        assert!(
            wait_for(Duration::from_secs(2), || processes_with(&word).is_empty()),
            "left behind: {:?}",
            processes_with(&word)
        );
    }
}

/// Without --untrusted, where the kernel allows: make and its commands may
/// write only in the scratch directory, and have no network.
#[test]
fn the_trusted_make_is_confined_where_the_kernel_allows() {
    let site = Site::new("");
    let marker = site.marker("MARKER");
    std::fs::write(
        site.dir.join("site.mk"),
        format!(
            "GLUON_RELEASE := $(shell touch {m} 2>/dev/null || echo denied)\n\
             GLUON_REGION := $(shell echo x > $$TMPDIR/f && cat $$TMPDIR/f)\n\
             GLUON_LANGS := $(shell cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d ' ' | sort | tr '\\n' ' ')\n",
            m = marker.display()
        ),
    )
    .expect("site.mk");
    let outcome = site.evaluate(&MakeOptions::default());
    assert_eq!(outcome.error, None);
    let applied = outcome.confinement.expect("applied");
    let global = &outcome.evaluation.global;
    assert_eq!(
        global.get("GLUON_REGION"),
        Some("x"),
        "the scratch directory"
    );
    if applied.landlock.is_some() {
        assert_eq!(global.get("GLUON_RELEASE"), Some("denied"));
        assert!(site.markers().is_empty());
    } else {
        eprintln!("the_trusted_make_is_confined_where_the_kernel_allows: no Landlock here");
    }
    if applied.network == Network::Namespace {
        assert_eq!(global.get("GLUON_LANGS"), Some("lo "), "only loopback");
    } else {
        eprintln!(
            "the_trusted_make_is_confined_where_the_kernel_allows: no network namespace here"
        );
    }
}

/// Without a network namespace, Landlock (ABI 4 and later) denies TCP.
#[test]
fn the_trusted_make_without_a_namespace_has_no_tcp() {
    if confine::landlock_abi().is_none_or(|abi| abi < 4) || which("bash").is_err() {
        eprintln!("the_trusted_make_without_a_namespace_has_no_tcp: SKIPPED: needs Landlock ABI 4 and bash");
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let bash = which("bash")
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let site = Site::new(&format!(
        "SHELL := {bash}\nGLUON_RELEASE := $(shell (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo connected || echo refused)\n"
    ));
    // The listener works: a trusted make in the network namespace cannot
    // see it either, so compare with an unconfined connection first.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let options = MakeOptions {
        network_namespace: false,
        ..MakeOptions::default()
    };
    let outcome = site.evaluate(&options);
    assert_eq!(outcome.error, None);
    assert_eq!(
        outcome.confinement.map(|a| a.network),
        Some(Network::TcpDenied)
    );
    assert_eq!(
        outcome.evaluation.global.get("GLUON_RELEASE"),
        Some("refused")
    );
}

/// `check --untrusted` reports each command not run as a note at its line.
#[test]
fn check_untrusted_notes_each_command_at_its_line() {
    if !landlock("check_untrusted_notes_each_command_at_its_line") {
        return;
    }
    let site = Site::new("");
    let m = site.marker("MARKER").display().to_string();
    std::fs::write(
        site.dir.join("site.mk"),
        format!(
            "GLUON_RELEASE ?= 1\n\
             GLUON_REGION := eu\n\
             ifeq ($(GLUON_TARGET),x86-64)\n\
             X := $(shell touch {m})\n\
             endif\n\
             GLUON_AUTOUPDATER_BRANCH = $(shell touch {m})stable\n"
        ),
    )
    .expect("site.mk");
    let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .arg("check")
        .arg(&site.dir)
        .args([
            "--untrusted",
            "--gluon-version",
            "v2022.1",
            "--format",
            "json",
        ])
        .output()
        .expect("gluonvpn runs");
    assert!(site.markers().is_empty());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let notes: Vec<(String, u64)> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "GS018")
        .map(|d| {
            assert_eq!(d["severity"], "info");
            assert_eq!(d["name"], "site-mk-shell-skipped");
            (
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // Line 4 once, though make read it for the x86-64 round only; line 6
    // for the variable gluonvpn read.
    assert_eq!(
        notes,
        [("site.mk".to_string(), 4), ("site.mk".to_string(), 6)],
        "{doc:#}"
    );
    assert_eq!(doc["gluon_ok"], true);
}

/// `render node --untrusted` runs none of site.mk's commands either; a
/// site.mk that gluonvpn had to stop is not rendered, and `--gluon-only`
/// still says so.
#[test]
fn render_untrusted_and_a_stopped_site_mk() {
    if !landlock("render_untrusted_and_a_stopped_site_mk") {
        return;
    }
    let site = Site::new("");
    let m = site.marker("MARKER").display().to_string();
    std::fs::write(
        site.dir.join("site.mk"),
        format!("GLUON_RELEASE := 1$(shell touch {m})\nGLUON_REGION := eu\n"),
    )
    .expect("site.mk");
    let gluonvpn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
            .args(args)
            .arg(&site.dir)
            .output()
            .expect("gluonvpn runs")
    };
    let out = gluonvpn(&["render", "node", "--untrusted"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(site.markers().is_empty());

    std::fs::write(
        site.dir.join("site.mk"),
        format!("GLUON_RELEASE := 1\n$(file >{m},x)\n"),
    )
    .expect("site.mk");
    let out = gluonvpn(&["render", "node", "--untrusted"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GS019"), "{stderr}");
    assert!(
        stderr.contains("not rendering: make on site.mk was stopped"),
        "{stderr}"
    );
    let out = gluonvpn(&["check", "--untrusted", "--gluon-only", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let stopped = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "GS019")
        .unwrap_or_else(|| panic!("no GS019: {doc:#}"));
    assert_eq!(stopped["line"], 2);
    assert!(site.markers().is_empty());
}

fn target(name: &str, board: &str, subtarget: &str) -> site_mk::TargetEnv {
    site_mk::TargetEnv {
        name: name.into(),
        board: board.into(),
        subtarget: subtarget.into(),
    }
}

/// Targets that site.mk compares with names, and some it does not.
fn some_targets() -> Vec<site_mk::TargetEnv> {
    vec![
        target("x86-64", "x86", "64"),
        target("ath79-generic", "ath79", "generic"),
        target("ath79-nand", "ath79", "nand"),
        target("ramips-mt7621", "ramips", "mt7621"),
        target("mvebu-cortexa9", "mvebu", "cortexa9"),
    ]
}

fn evaluate_both(site: &Site, targets: &[site_mk::TargetEnv]) -> (Outcome, Outcome) {
    let text = std::fs::read_to_string(site.dir.join("site.mk")).expect("site.mk");
    let options = MakeOptions::default();
    let distinct =
        site_mk::evaluate_distinct(&site.dir, &text, targets, &options).expect("make runs");
    let every = site_mk::evaluate(&site.dir, targets, &options).expect("make runs");
    (distinct, every)
}

fn value<'o>(outcome: &'o Outcome, target: &str, name: &str) -> Option<&'o str> {
    outcome.evaluation.per_target.get(target)?.get(name)
}

#[test]
fn targets_site_mk_cannot_tell_apart_share_one_round() {
    // Each round's `date` is its own nanosecond: equal values mean one round.
    let site = Site::new(
        "GLUON_RELEASE := $(shell date +%s%N)\n\
         ifeq ($(GLUON_TARGET),x86-64)\nGLUON_SITE_PACKAGES += x86pkg\nendif\n\
         ifneq ($(BOARD),ath79)\nelse\nGLUON_FEATURES += ath\nendif\n",
    );
    let targets = some_targets();
    let (distinct, every) = evaluate_both(&site, &targets);
    assert!(distinct.error.is_none() && every.error.is_none());
    for t in &targets {
        for name in ["GLUON_SITE_PACKAGES", "GLUON_FEATURES"] {
            assert_eq!(
                value(&distinct, &t.name, name),
                value(&every, &t.name, name),
                "{} {name}",
                t.name
            );
        }
    }
    assert_eq!(
        value(&distinct, "x86-64", "GLUON_SITE_PACKAGES"),
        Some("x86pkg")
    );
    assert_eq!(
        value(&distinct, "ath79-nand", "GLUON_FEATURES"),
        Some("ath")
    );
    let release = |outcome: &Outcome, target: &str| {
        value(outcome, target, "GLUON_RELEASE")
            .expect("GLUON_RELEASE")
            .to_string()
    };
    assert_eq!(
        release(&distinct, "ath79-generic"),
        release(&distinct, "ath79-nand")
    );
    assert_eq!(
        release(&distinct, "ramips-mt7621"),
        release(&distinct, "mvebu-cortexa9")
    );
    let rounds: std::collections::BTreeSet<String> = targets
        .iter()
        .map(|t| release(&distinct, &t.name))
        .collect();
    assert_eq!(rounds.len(), 3, "x86-64, ath79 and the rest: {rounds:?}");
    let rounds: std::collections::BTreeSet<String> =
        targets.iter().map(|t| release(&every, &t.name)).collect();
    assert_eq!(
        rounds.len(),
        targets.len(),
        "one round per target: {rounds:?}"
    );
}

#[test]
fn a_site_mk_that_may_see_the_target_otherwise_gets_every_round() {
    for site_mk in [
        "GLUON_RELEASE := $(shell date +%s%N)\nX := $(GLUON_TARGET)\n",
        "GLUON_RELEASE := $(shell date +%s%N)\nifneq ($(filter-out $(GLUON_TARGET),x86-64),)\nendif\n",
        "GLUON_RELEASE := $(shell date +%s%N)\nV := $($(NAME))\nifeq ($(GLUON_TARGET),x86-64)\nendif\n",
    ] {
        let site = Site::new(site_mk);
        let targets = some_targets();
        let (distinct, _) = evaluate_both(&site, &targets);
        let rounds: std::collections::BTreeSet<&str> = targets
            .iter()
            .filter_map(|t| value(&distinct, &t.name, "GLUON_RELEASE"))
            .collect();
        assert_eq!(rounds.len(), targets.len(), "{site_mk}");
    }
}

#[test]
fn when_make_fails_every_target_gets_its_round_as_without_groups() {
    let site = Site::new(
        "ifeq ($(GLUON_TARGET),ramips-mt7621)\n$(error no ramips)\nendif\nGLUON_FEATURES := a\n",
    );
    let (distinct, every) = evaluate_both(&site, &some_targets());
    assert!(distinct.error.is_some());
    assert_eq!(distinct.error, every.error);
    assert_eq!(distinct.evaluation, every.evaluation);
}

/// Where gluonvpn may not create a network namespace (not root), the first
/// make run finds out, and make runs again kept off TCP by Landlock: the
/// check goes through, site.mk's commands ran, and they could not connect.
#[test]
fn without_the_right_to_a_namespace_make_runs_confined_by_landlock() {
    let test = "without_the_right_to_a_namespace_make_runs_confined_by_landlock";
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || which("setpriv").is_err() || which("bash").is_err() {
        eprintln!("{test}: SKIPPED: needs root (to become nobody), setpriv and bash");
        return;
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_gluonvpn"));
    let nobody_can_run = binary.ancestors().skip(1).all(|dir| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    });
    if !nobody_can_run {
        eprintln!("{test}: SKIPPED: nobody cannot reach {}", binary.display());
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let tcp_denied = confine::landlock_abi().is_some_and(|abi| abi >= 4);
    let bash = which("bash")
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut site_mk = format!(
        "SHELL := {bash}\nGLUON_RELEASE := 1\nifneq ($(shell echo ran),ran)\n$(error the shell did not run)\nendif\n"
    );
    if tcp_denied {
        site_mk.push_str(&format!(
            "ifeq ($(shell (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo connected),connected)\n$(error make reached the network)\nendif\n"
        ));
    }
    let site = Site::new(&site_mk);
    {
        use std::os::unix::fs::PermissionsExt as _;
        for dir in [site.root.path(), site.dir.as_path()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        for entry in std::fs::read_dir(&site.dir)
            .expect("site")
            .filter_map(Result::ok)
        {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
        }
    }
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(binary)
        .args(["check", "--gluon-only", "--format", "json"])
        .arg(&site.dir)
        .env("TMPDIR", "/tmp")
        .output()
        .expect("gluonvpn runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{stdout}");
    if !tcp_denied {
        eprintln!("{test}: no Landlock ABI 4 here: TCP not tried");
    }
}
