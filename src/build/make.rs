//! Running make in a Gluon tree: the whole output into a log file, progress
//! lines to a callback, a clean stop on Ctrl-C, and what to show when it
//! fails.
//!
//! make runs in a process group of its own, so that stopping a build stops
//! everything make started (OpenWrt's recursive makes, compilers, cargo),
//! whether the interrupt came from a terminal (which signals gluonvpn's
//! group only) or from `kill -INT` to gluonvpn alone.

use crate::site::process::{kill_group, merged_pipe};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // A second Ctrl-C ends gluonvpn at once.
    // SAFETY: signal() is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}

/// From now on SIGINT and SIGTERM only set [`interrupted`]; the build stops
/// its makes and finishes its output tree and report.
pub fn catch_interrupts() {
    // SAFETY: the handler only stores to an atomic and resets handlers.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// How make's parallelism is set.
#[derive(Clone, Debug)]
pub enum Jobs {
    /// `-jN` on the command line.
    Flag(usize),
    /// A jobserver shared with the other makes running at the same time.
    Shared(jobserver::Client),
}

/// One make run.
pub struct Run<'a> {
    pub dir: &'a Path,
    pub args: Vec<String>,
    pub jobs: Option<&'a Jobs>,
    pub log: &'a Path,
}

#[derive(Debug)]
pub enum Outcome {
    Success,
    Failed(Option<i32>),
    Interrupted,
}

/// Runs make, writing everything it prints to the log (created anew) and
/// handing each line to `on_line`. Returns when make ends, or stops it
/// when gluonvpn is interrupted.
pub fn run(run: &Run, mut on_line: impl FnMut(&str)) -> std::io::Result<Outcome> {
    if let Some(parent) = run.log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut log = File::create(run.log)?;
    writeln!(
        log,
        "# gluonvpn: make {} (in {})",
        run.args.join(" "),
        run.dir.display()
    )?;
    let (reader, out, err) = merged_pipe()?;
    let mut cmd = Command::new("make");
    cmd.current_dir(run.dir)
        .args(&run.args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .process_group(0);
    match run.jobs {
        Some(Jobs::Flag(n)) => {
            cmd.arg(format!("-j{n}"));
        }
        Some(Jobs::Shared(client)) => client.configure_make(&mut cmd),
        None => {}
    }
    let mut child = cmd.spawn()?;
    // Our copies of the write end are gone with `cmd`: the reader sees EOF
    // when make and everything it started have exited.
    drop(cmd);
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader_thread = std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut stopped_at: Option<Instant> = None;
    let status = loop {
        while let Ok(line) = rx.try_recv() {
            log.write_all(line.as_bytes())?;
            on_line(line.trim_end());
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if interrupted() {
            match stopped_at {
                None => {
                    // SAFETY: signalling the process group make leads.
                    unsafe { libc::kill(-pid, libc::SIGINT) };
                    stopped_at = Some(Instant::now());
                }
                Some(t) if t.elapsed() > Duration::from_secs(10) => kill_group(pid),
                Some(_) => {}
            }
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                log.write_all(line.as_bytes())?;
                on_line(line.trim_end());
            }
            Err(_) => continue,
        }
    };
    // Whatever make left running in its group goes too: a stopped build
    // must not keep compiling behind gluonvpn's back, and nothing may keep
    // the pipe open. The group is usually gone already.
    kill_group(pid);
    let _ = reader_thread.join();
    while let Ok(line) = rx.try_recv() {
        log.write_all(line.as_bytes())?;
        on_line(line.trim_end());
    }
    writeln!(log, "# gluonvpn: make exited with {status}")?;
    Ok(if stopped_at.is_some() {
        Outcome::Interrupted
    } else if status.success() {
        Outcome::Success
    } else {
        Outcome::Failed(status.code())
    })
}

/// A progress line worth showing from make's output: OpenWrt's ` make[2]
/// -C package/… compile` steps, Gluon's own messages.
pub fn progress_line(line: &str) -> Option<String> {
    let t = line.trim();
    if t.starts_with("make[") && t.contains(" -C ") {
        return Some(t.split_once(' ').map_or(t, |(_, rest)| rest).to_string());
    }
    if t.starts_with("--- ") || t.starts_with("Checking module") || t.starts_with("ERROR:") {
        return Some(t.to_string());
    }
    None
}

/// Why a log says a build failed: the lines around the first error, and
/// the download it stopped at, if that is what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based line number of the first error in the log, if one was found.
    pub line: Option<usize>,
    pub excerpt: Vec<String>,
    /// A source that could not be downloaded (`dl/<file>`).
    pub download: Option<String>,
}

/// How surely a line is the build's error, most sure first: OpenWrt's
/// verdict on a package step, Gluon's own checks, make giving up, then
/// anything that says error (Kconfig and compilers say `error:` about
/// things that do not stop the build, so they count last).
fn error_class(line: &str) -> Option<u8> {
    let t = line.trim_start();
    if t.starts_with("ERROR: ") && t.contains("failed to build") {
        Some(0)
    } else if t.contains("did not pass validation")
        || t.contains("unable to enable package")
        || t.starts_with("ERROR:")
    {
        Some(1)
    } else if t.starts_with("make") && t.contains("*** ") {
        Some(2)
    } else if t.contains("error:") || t.starts_with("Error:") {
        Some(3)
    } else {
        None
    }
}

/// `dl/<file>` in a line that says a download failed.
fn failed_download(line: &str) -> Option<String> {
    let lower = line.to_lowercase();
    let failing = lower.contains("error") || lower.contains("failed") || lower.contains("refus");
    if !failing {
        return None;
    }
    let at = line.find("/dl/").map(|i| i + 1).or_else(|| {
        line.find(" dl/")
            .map(|i| i + 1)
            .or_else(|| line.starts_with("dl/").then_some(0))
    })?;
    let rest = &line[at + 3..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ']' | '\'' | '"' | ':' | ','))
        .unwrap_or(rest.len());
    let file = &rest[..end];
    (!file.is_empty()).then(|| format!("dl/{file}"))
}

/// OpenWrt's log of a failed step (`ERROR: tools/libdeflate failed to
/// build.` → the newest file below `logs/tools/libdeflate/`, as BUILD_LOG=1
/// writes them).
fn step_log(openwrt_logs: &Path, line: &str) -> Option<PathBuf> {
    let path = line
        .trim()
        .strip_prefix("ERROR: ")?
        .strip_suffix(" failed to build.")?;
    let dir = openwrt_logs.join(path);
    std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// Reads the log of a failed run: up to 20 lines before the first error
/// and 10 from it, or the last 30 lines when no line looks like an error.
/// With OpenWrt's per-step logs (`openwrt_logs`), the end of the failed
/// step's log follows.
pub fn failure(log: &Path, openwrt_logs: Option<&Path>) -> Failure {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("# gluonvpn: "))
        .collect();
    let mut download = lines.iter().find_map(|l| failed_download(l));
    let first = (0..4).find_map(|class| lines.iter().position(|l| error_class(l) == Some(class)));
    let (from, to) = match first {
        Some(i) => (i.saturating_sub(20), (i + 10).min(lines.len())),
        None => (lines.len().saturating_sub(30), lines.len()),
    };
    let mut excerpt: Vec<String> = lines[from..to].iter().map(|s| s.to_string()).collect();
    let step = openwrt_logs
        .zip(first)
        .and_then(|(dir, i)| step_log(dir, lines[i]).map(|p| (dir, p)));
    if let Some((dir, path)) = step {
        let step_text = std::fs::read(&path).unwrap_or_default();
        let step_text = String::from_utf8_lossy(&step_text);
        let step_lines: Vec<&str> = step_text.lines().collect();
        download = download.or_else(|| step_lines.iter().find_map(|l| failed_download(l)));
        let shown = dir
            .parent()
            .and_then(|openwrt| path.strip_prefix(openwrt.parent()?).ok())
            .unwrap_or(&path);
        excerpt.push(format!("--- the end of {}:", shown.display()));
        excerpt.extend(
            step_lines[step_lines.len().saturating_sub(15)..]
                .iter()
                .map(|s| s.to_string()),
        );
    }
    Failure {
        // The log starts with gluonvpn's own header line.
        line: first.map(|i| i + 2),
        excerpt,
        download,
    }
}

/// The log of a target below the workdir.
pub fn log_path(workdir: &Path, name: &str) -> PathBuf {
    workdir.join("logs").join(format!("{name}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_named_in_failures() {
        assert_eq!(
            failed_download(
                "make[3]: *** [Makefile:42: /g/openwrt/dl/libdeflate-1.22.tar.gz] Error 1"
            ),
            Some("dl/libdeflate-1.22.tar.gz".into())
        );
        assert_eq!(
            failed_download("Download failed: dl/foo-1.0.tar.xz"),
            Some("dl/foo-1.0.tar.xz".into())
        );
        assert_eq!(failed_download("Downloading dl/foo.tar.xz"), None);
        assert_eq!(failed_download("error: nothing here"), None);
    }

    #[test]
    fn the_excerpt_is_around_the_first_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let mut text = String::from("# gluonvpn: make x\n");
        for i in 1..=50 {
            if i == 10 {
                // Says error, but does not stop the build.
                text.push_str("tmp/.config-package.in:7:error: recursive dependency detected!\n");
            } else {
                text.push_str(&format!("line {i}\n"));
            }
        }
        text.push_str("    ERROR: tools/libdeflate failed to build.\n");
        for i in 52..=100 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str("make: *** [all] Error 2\n");
        std::fs::write(&log, text).unwrap();
        let f = failure(&log, None);
        assert_eq!(f.line, Some(52));
        assert_eq!(f.excerpt.first().unwrap(), "line 31");
        assert_eq!(
            f.excerpt[20],
            "    ERROR: tools/libdeflate failed to build."
        );
        assert_eq!(f.excerpt.len(), 30);
        assert_eq!(f.download, None);

        // OpenWrt's log of the failed step (BUILD_LOG=1) names the download.
        let logs = dir.path().join("openwrt/logs");
        std::fs::create_dir_all(logs.join("tools/libdeflate")).unwrap();
        std::fs::write(
            logs.join("tools/libdeflate/compile.txt"),
            "Download failed.\nNo more mirrors to try - giving up.\n\
             make[3]: *** [Makefile:40: /g/openwrt/dl/libdeflate-1.22.tar.gz] Error 2\n",
        )
        .unwrap();
        let f = failure(&log, Some(&logs));
        assert_eq!(f.download.as_deref(), Some("dl/libdeflate-1.22.tar.gz"));
        assert_eq!(
            f.excerpt[30],
            "--- the end of openwrt/logs/tools/libdeflate/compile.txt:"
        );
        assert_eq!(f.excerpt.len(), 34);
    }

    #[test]
    fn make_output_is_logged_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Makefile"),
            "all:\n\t@echo out; echo err >&2; echo ' make[1] -C package/x compile'\n",
        )
        .unwrap();
        let log = dir.path().join("log");
        let mut seen = Vec::new();
        let outcome = run(
            &Run {
                dir: dir.path(),
                args: vec![],
                jobs: Some(&Jobs::Flag(2)),
                log: &log,
            },
            |l| seen.push(l.to_string()),
        )
        .unwrap();
        assert!(matches!(outcome, Outcome::Success));
        assert_eq!(seen, ["out", "err", " make[1] -C package/x compile"]);
        assert_eq!(
            progress_line(&seen[2]).as_deref(),
            Some("-C package/x compile")
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("out\nerr\n"), "{text}");
    }
}
