//! Hostile files (issue 12): what a pull request can put into a site —
//! symbolic links out of the repository or to devices, FIFOs, huge files,
//! terminal escapes — and what a pipe reader can do to the output. Each
//! case is a regression test of a crash, hang, leak or lost status seen
//! with an earlier gluonvpn.

use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("site-examples")
        .join(name)
}

/// A copy of an example site in a temporary directory.
fn site_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&example(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("example") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Runs gluonvpn, killing it after `limit`: a hang fails the test instead
/// of blocking it.
fn gluonvpn_within(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gluonvpn starts");
    let pid = child.id();
    // The output is drained on another thread, so a full pipe never stalls
    // the program; this thread watches the clock.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(limit) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            // SAFETY: kill(2) on the child's pid; it is not reaped yet.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("gluonvpn {args:?} did not finish within {limit:?}");
        }
    }
}

fn gluonvpn(args: &[&str]) -> Output {
    gluonvpn_within(args, &[], Duration::from_secs(30))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A site file replaced by something else is refused: exit 1, one GS007
/// naming the file, the verdict unknown rather than "would pass".
fn assert_refused(site: &Path, file: &str, what: &str) {
    let out = gluonvpn(&["check", site.to_str().expect("path"), "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{file} as {what}: {}",
        text(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let refused: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "GS007")
        .collect();
    assert_eq!(refused.len(), 1, "{file} as {what}: {doc:#}");
    let message = refused[0]["message"].as_str().expect("message");
    assert!(message.starts_with(&format!("`{file}`")), "{message}");
    assert_eq!(doc["gluon_ok"], serde_json::Value::Null, "{file} as {what}");
}

#[test]
fn site_files_in_place_of_regular_ones_are_refused() {
    let files = [
        "site.conf",
        "site.mk",
        "image-customization.lua",
        "domains/nord.conf",
    ];
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("secret"), "{ not = 'yours' }").expect("write");
    for file in files {
        type Make = fn(&Path, &Path);
        let cases: [(&str, Make); 7] = [
            ("FIFO", |p, _| mkfifo(p)),
            ("link to /dev/zero", |p, _| {
                symlink("/dev/zero", p).expect("link")
            }),
            ("link to /dev/urandom", |p, _| {
                symlink("/dev/urandom", p).expect("link")
            }),
            ("link out of the site", |p, outside| {
                symlink(outside.join("secret"), p).expect("link")
            }),
            ("dangling link", |p, _| symlink("nowhere", p).expect("link")),
            ("directory", |p, _| std::fs::create_dir(p).expect("mkdir")),
            ("link loop", |p, _| {
                symlink(p.file_name().expect("name"), p).expect("link")
            }),
        ];
        for (what, make) in cases {
            let site = site_copy("multidomain");
            let path = site.path().join(file);
            std::fs::remove_file(&path).expect("remove");
            make(&path, outside.path());
            assert_refused(site.path(), file, what);
        }
    }
}

#[test]
fn the_environment_never_reaches_the_output() {
    let site = site_copy("fastd");
    let conf = site.path().join("site.conf");
    std::fs::remove_file(&conf).expect("remove");
    symlink("/proc/self/environ", &conf).expect("link");
    let secret = "gluonvpn-test-secret-7f3a";
    let out = gluonvpn_within(
        &["check", site.path().to_str().expect("path")],
        &[("GLUONVPN_TEST_SECRET", secret)],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains(secret), "{all}");
    assert!(all.contains("GS007"), "{all}");
    assert!(
        all.contains("whether a Gluon build would pass is unknown"),
        "{all}"
    );
}

#[test]
fn included_files_stay_inside_the_site() {
    let site = site_copy("fastd");
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("passwd"), "root:x:0:0:secret-line").expect("write");
    symlink(outside.path().join("passwd"), site.path().join("extra.lua")).expect("link");
    let custom = site.path().join("image-customization.lua");
    let text_before = std::fs::read_to_string(&custom).expect("read");
    std::fs::write(&custom, format!("include('extra.lua')\n{text_before}")).expect("write");
    let out = gluonvpn(&["check", site.path().to_str().expect("path")]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("gluonvpn does not include `extra.lua`"),
        "{all}"
    );
    assert!(!all.contains("secret-line"), "{all}");
}

#[test]
fn files_larger_than_their_cap_are_not_read() {
    let site = site_copy("fastd");
    // Sparse: 17 MiB without writing them.
    let conf = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(site.path().join("site.conf"))
        .expect("open");
    conf.set_len(17 << 20).expect("grow");
    let out = gluonvpn(&["check", site.path().to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("larger than the 16 MiB gluonvpn reads"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn inventories_and_keys_are_regular_files_of_bounded_size() {
    let site = site_copy("fastd");
    let dir = site.path().to_str().expect("path");
    let fifo = site.path().join("inventory.toml");
    mkfifo(&fifo);
    let out = gluonvpn(&[
        "render",
        "gateway",
        dir,
        "--gateway",
        "gw1",
        "--inventory",
        fifo.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is a FIFO, not a regular file"));
    let out = gluonvpn(&[
        "keys",
        "translate",
        "--private",
        "--private-file",
        "/dev/zero",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("character device"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_secret_on_standard_input_is_read_up_to_its_cap() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(["keys", "translate", "--private"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gluonvpn starts");
    let mut stdin = child.stdin.take().expect("stdin");
    // Up to a gigabyte of zeros: gluonvpn stops reading long before, and the
    // writer sees the pipe close.
    let writer = std::thread::spawn(move || {
        let block = vec![b'0'; 1 << 20];
        let mut written = 0usize;
        while written < 1 << 30 {
            if stdin.write_all(&block).is_err() {
                break;
            }
            written += block.len();
        }
        written
    });
    let out = child.wait_with_output().expect("output");
    let written = writer.join().expect("writer");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("larger than the 64 KiB"),
        "{}",
        text(&out.stderr)
    );
    assert!(written < 1 << 30, "gluonvpn read all {written} bytes");
}

/// A reader that closes the pipe at once (`| head -c 0`) does not turn a
/// failed check into a passed one, in any format.
#[test]
fn a_closed_pipe_keeps_the_exit_status() {
    let site = site_copy("fastd");
    let conf = site.path().join("site.conf");
    let broken = std::fs::read_to_string(&conf)
        .expect("read")
        .replace("mtu = 1312", "mtu = 'x'");
    std::fs::write(&conf, broken).expect("write");
    for format in ["human", "json", "sarif", "github"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
            .args([
                "check",
                site.path().to_str().expect("path"),
                "--format",
                format,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gluonvpn starts");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("output");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn terminal_escapes_from_the_site_are_shown_not_sent() {
    let site = site_copy("fastd");
    let conf = site.path().join("site.conf");
    let hostile = std::fs::read_to_string(&conf).expect("read").replace(
        "remotes = { '\"gw2.example.org\" port 10000' },",
        "remotes = { '\\27]8;;http://evil\\7click\\27]8;;\\7 \\27[31mred' },",
    );
    assert!(hostile.contains("\\27[31m"));
    std::fs::write(&conf, hostile).expect("write");
    for format in ["human", "github"] {
        let out = gluonvpn(&[
            "check",
            site.path().to_str().expect("path"),
            "--format",
            format,
        ]);
        let shown = text(&out.stdout);
        assert!(shown.contains("GV152"), "{format}: {shown}");
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{format}: {shown:?}"
        );
        assert!(shown.contains("\\u{1b}[31mred"), "{format}: {shown}");
    }
}

#[test]
fn long_lines_and_values_are_cut_in_the_output() {
    let site = site_copy("fastd");
    let conf = site.path().join("site.conf");
    let long = std::fs::read_to_string(&conf)
        .expect("read")
        .replace("mtu = 1312", &format!("mtu = '{}'", "x".repeat(5_000_000)));
    std::fs::write(&conf, long).expect("write");
    let short = site_copy("fastd");
    for format in ["human", "github", "json", "sarif"] {
        let size = |site: &Path| {
            let out = gluonvpn(&["check", site.to_str().expect("path"), "--format", format]);
            out.stdout.len()
        };
        let (usual, with_long) = (size(short.path()), size(site.path()));
        // A few kilobytes for the diagnostic, not the 5 MB line.
        assert!(
            with_long < usual + 20_000,
            "{format}: {usual} → {with_long} bytes"
        );
    }
    let out = gluonvpn(&["check", site.path().to_str().expect("path")]);
    assert!(
        text(&out.stdout).contains("bytes (not shown)"),
        "{}",
        text(&out.stdout)
    );
}
