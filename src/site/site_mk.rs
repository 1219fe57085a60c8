//! site.mk, evaluated by GNU make the way Gluon's Makefile includes it.
//!
//! Gluon includes `$(GLUON_SITEDIR)/site.mk` from its top-level Makefile, run
//! in the Gluon tree with `GLUON_TARGET` on make's command line, and (up to
//! v2023.1) evaluates it again per target to read the feature and package
//! lists. gluonvpn runs one make process that includes site.mk once without a
//! target and then once per target (or once per group of targets site.mk
//! cannot tell apart, [`evaluate_distinct`]), clearing what site.mk defined
//! between rounds, and reads back the expanded variables. Make runs in a scratch
//! directory standing in for the Gluon tree, so a relative `include` fails
//! as it does in Gluon; the site is `site` in there (a symbolic link to it,
//! or with `--untrusted` a copy of its text files), so that make never sees
//! the site's own path (which may have spaces, which make cannot quote).
//!
//! Make runs in a process group of its own with a wall-clock and a memory
//! limit ([`super::process`]), confined as far as the kernel allows
//! ([`super::confine`]); with `--untrusted` no command of site.mk runs: each
//! `$(shell …)` expands to nothing and is reported where it is.

use super::confine::{Applied, ConfineError, Mode, Prepared};
use super::process::{self, Ended};
use super::target_rounds::TargetTests;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The variables gluonvpn reads from site.mk, besides [`FEATURE_VARIABLES`].
pub const VARIABLES: &[&str] = &[
    "GLUON_RELEASE",
    "GLUON_MULTIDOMAIN",
    "GLUON_LANGS",
    "GLUON_REGION",
    "GLUON_PRIORITY",
    "GLUON_DEPRECATED",
    "GLUON_BRANCH",
    "GLUON_AUTOUPDATER_BRANCH",
    "GLUON_AUTOUPDATER_ENABLED",
];

/// The feature and package lists: read up to v2023.1, an error from v2023.2
/// on (Gluon's Makefile rejects them).
pub const FEATURE_VARIABLES: [&str; 6] = [
    "GLUON_FEATURES",
    "GLUON_FEATURES_standard",
    "GLUON_FEATURES_tiny",
    "GLUON_SITE_PACKAGES",
    "GLUON_SITE_PACKAGES_standard",
    "GLUON_SITE_PACKAGES_tiny",
];

/// A target as site.mk sees it.
#[derive(Clone, Debug)]
pub struct TargetEnv {
    pub name: String,
    pub board: String,
    pub subtarget: String,
}

/// One evaluation of site.mk: expanded values of the variables that are
/// defined (plus per-device `GLUON_<image>_SITE_PACKAGES`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn is_defined(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Whitespace-separated words of a variable (make's word lists).
    pub fn words(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl FromIterator<(String, String)> for Vars {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Vars {
        Vars {
            values: pairs.into_iter().collect(),
        }
    }
}

/// What make made of site.mk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// Without GLUON_TARGET.
    pub global: Vars,
    /// Per target name, when targets were asked for.
    pub per_target: BTreeMap<String, Vars>,
    /// Files make read besides the wrapper (site.mk and what it includes).
    pub makefiles: Vec<PathBuf>,
}

impl Evaluation {
    /// The variables for a target (the global ones when site.mk was not
    /// evaluated per target).
    pub fn for_target(&self, target: &str) -> &Vars {
        self.per_target.get(target).unwrap_or(&self.global)
    }
}

/// make's error, with the file and line it names where it names one.
#[derive(Clone, Debug, PartialEq)]
pub struct MakeError {
    pub message: String,
    /// Path as make printed it (relative to the site for the site's files),
    /// and line.
    pub location: Option<(PathBuf, usize)>,
    /// The complete line make printed.
    pub raw: String,
    pub kind: ErrorKind,
}

/// Who stopped make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// make itself, on site.mk: so would Gluon's build.
    Make,
    /// gluonvpn: the time or memory limit, an interrupt, or the confinement
    /// denied what site.mk does (a Gluon build would not stop there).
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot run GNU make (`make`): {0}")]
    Spawn(std::io::Error),
    #[error("cannot create a scratch directory for make: {0}")]
    Scratch(std::io::Error),
    #[error("cannot evaluate site.mk: {0}")]
    Confine(#[from] ConfineError),
}

/// How long make may run before gluonvpn gives up on it.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The address space make and every command it starts may use (RLIMIT_AS).
pub const MEMORY_LIMIT: u64 = 1 << 30;

/// How make runs on site.mk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MakeOptions {
    /// `--untrusted`: no command of site.mk runs, and make sees nothing but
    /// a copy of the site's text files ([`super::confine`]).
    pub untrusted: bool,
    /// Wall-clock limit of each make process.
    pub wall_time: Duration,
    /// Address-space limit of make and each command it starts, in bytes.
    pub memory: u64,
    /// Without `--untrusted`: give make a network namespace of its own where
    /// gluonvpn may create one (root); otherwise, or when this is off,
    /// Landlock denies TCP (ABI 4 and later).
    pub network_namespace: bool,
}

impl Default for MakeOptions {
    fn default() -> MakeOptions {
        MakeOptions {
            untrusted: false,
            wall_time: TIMEOUT,
            memory: MEMORY_LIMIT,
            network_namespace: true,
        }
    }
}

/// Like [`evaluate`], with one round per group of targets that site.mk
/// (its text is `text`) cannot tell apart ([`TargetTests`]); each target
/// gets its group's variables. When make fails, every target gets its round
/// after all: which rounds make reached before it stopped depends on them.
pub fn evaluate_distinct(
    site_dir: &Path,
    text: &str,
    targets: &[TargetEnv],
    options: &MakeOptions,
) -> Result<Outcome, RunError> {
    let Some(tests) = TargetTests::read(text, exports_reach_shell) else {
        return evaluate(site_dir, targets, options);
    };
    // One round per key, run for the first target with that key.
    let mut keys = Vec::new();
    let mut distinct: Vec<TargetEnv> = Vec::new();
    let mut round_of: Vec<usize> = Vec::with_capacity(targets.len());
    for target in targets {
        let key = tests.key(target);
        match keys.iter().position(|k| *k == key) {
            Some(index) => round_of.push(index),
            None => {
                round_of.push(keys.len());
                keys.push(key);
                distinct.push(target.clone());
            }
        }
    }
    if distinct.len() == targets.len() {
        return evaluate(site_dir, targets, options);
    }
    let mut outcome = evaluate(site_dir, &distinct, options)?;
    if outcome.error.is_some() {
        return evaluate(site_dir, targets, options);
    }
    for (target, &round) in targets.iter().zip(&round_of) {
        let from = &distinct[round].name;
        if *from != target.name {
            if let Some(vars) = outcome.evaluation.per_target.get(from).cloned() {
                outcome
                    .evaluation
                    .per_target
                    .insert(target.name.clone(), vars);
            }
        }
    }
    Ok(outcome)
}

/// Whether make passes exported variables to `$(shell …)`: GNU make does
/// from 4.4 on. Asked once per process (`make --version`); when the answer
/// cannot be read, it is taken to be yes.
fn exports_reach_shell() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        let Ok(make) = find_make() else {
            return true;
        };
        let output = Command::new(make)
            .arg("--version")
            .env_clear()
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        let Ok(output) = output else {
            return true;
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let version = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("GNU Make "))
            .and_then(|v| {
                let mut parts = v.trim().split('.').map(|p| p.parse::<u32>().ok());
                Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
            });
        version.is_none_or(|version| version >= (4, 4))
    })
}

/// Whether site.mk (or a file it includes) refers to the target, so that it
/// has to be evaluated per target.
pub fn mentions_target(texts: &[&str]) -> bool {
    texts.iter().any(|t| {
        ["GLUON_TARGET", "BOARD", "SUBTARGET"]
            .iter()
            .any(|name| t.contains(name))
    })
}

/// A `$(shell …)` (or `!=`) that `--untrusted` did not run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SkippedShell {
    /// Where make was reading when it expanded it: a site file (relative to
    /// the site) and line. `None` when make expanded it for gluonvpn, after
    /// site.mk was read (a recursively expanded variable).
    pub location: Option<(PathBuf, usize)>,
    /// The variable gluonvpn was reading when make expanded it (`location`
    /// is `None` then).
    pub variable: Option<String>,
}

/// What a make run gave: the variables it got to (make parses the whole
/// file before it fails on a missing include, as in Gluon) and its error.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub evaluation: Evaluation,
    pub error: Option<MakeError>,
    /// With `--untrusted`: the commands not run, each place once.
    pub skipped_shells: Vec<SkippedShell>,
    /// What confined make (the first process's, when there were two).
    pub confinement: Option<Applied>,
}

/// Runs make on `site_dir/site.mk`, once without a target and once per
/// target in `targets`. `Err(_)` means make could not run at all; make's own
/// failures (problems in the site) are in the outcome.
///
/// Each round re-runs site.mk's `$(shell …)` calls (a `date` per round is
/// common), so many targets are split over two make processes.
pub fn evaluate(
    site_dir: &Path,
    targets: &[TargetEnv],
    options: &MakeOptions,
) -> Result<Outcome, RunError> {
    if targets.len() < 8 {
        return evaluate_rounds(site_dir, targets, options);
    }
    let (first, second) = targets.split_at(targets.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let other = scope.spawn(|| evaluate_rounds(site_dir, second, options));
        let a = evaluate_rounds(site_dir, first, options);
        (
            a,
            other
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    });
    let (mut a, b) = (a?, b?);
    a.evaluation.per_target.extend(b.evaluation.per_target);
    a.error = a.error.or(b.error);
    a.skipped_shells.extend(b.skipped_shells);
    a.skipped_shells.sort();
    a.skipped_shells.dedup();
    Ok(a)
}

/// The wrapper makefile's name in the scratch directory.
const WRAPPER: &str = "gluonvpn.mk";
/// The file the wrapper writes the variables to.
const OUT_FILE: &str = "vars.out";
/// The site in the scratch directory.
const SITE: &str = "site";
/// How much of the variables' file gluonvpn reads.
const OUT_LIMIT: u64 = 64 << 20;

/// GNU make on PATH, as an absolute path (Landlock rules name files).
fn find_make() -> Result<PathBuf, RunError> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("make"))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| RunError::Spawn(std::io::Error::from(std::io::ErrorKind::NotFound)))
}

/// Whether a path can stand in a make assignment and an `include` as it is.
fn plain_path(path: &Path) -> bool {
    path.to_str().is_some_and(|s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+'))
    })
}

fn evaluate_rounds(
    site_dir: &Path,
    targets: &[TargetEnv],
    options: &MakeOptions,
) -> Result<Outcome, RunError> {
    let make = find_make()?;
    let scratch = tempfile::Builder::new()
        .prefix("gluonvpn-make-")
        .tempdir()
        .map_err(RunError::Scratch)?;
    let root = scratch.path();
    let site = root.join(SITE);
    if options.untrusted {
        copy_text_files(site_dir, &site).map_err(RunError::Scratch)?;
    } else {
        std::os::unix::fs::symlink(site_dir, &site).map_err(RunError::Scratch)?;
    }
    let tmp = root.join("tmp");
    std::fs::create_dir(&tmp).map_err(RunError::Scratch)?;
    let out_file = root.join(OUT_FILE);
    std::fs::File::create(&out_file).map_err(RunError::Scratch)?;
    // The site as make names it: absolute as in Gluon where make can take
    // the path as it is, else relative to make's directory.
    let site_name = if plain_path(&site) {
        site.display().to_string()
    } else {
        SITE.to_string()
    };
    let wrapper = wrapper(&site_name, targets);
    std::fs::write(root.join(WRAPPER), &wrapper.text).map_err(RunError::Scratch)?;

    let mode = if options.untrusted {
        Mode::Untrusted
    } else {
        Mode::Trusted {
            network_namespace: options.network_namespace,
        }
    };
    let command = || {
        let mut command = Command::new(&make);
        command
            .args([
                "--no-builtin-rules",
                "--no-builtin-variables",
                "--no-print-directory",
                "-s",
                "-f",
                WRAPPER,
                "gluonvpn-done",
            ])
            .current_dir(root)
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env("LC_ALL", "C")
            .env("LANG", "C")
            .env("HOME", root)
            .env("TMPDIR", &tmp);
        command
    };
    let (finished, confinement) = loop {
        let prepared = Prepared::new(mode, &make, root, &out_file, options.memory)?;
        let confinement = prepared.applied.clone();
        let tried_namespace = prepared.network_namespace();
        match process::run(command(), prepared, options.wall_time) {
            // The child could not enter a network namespace of its own
            // (no CAP_SYS_ADMIN here): run it again, kept off the network by
            // Landlock.
            Err(_) if tried_namespace => super::confine::network_namespace_failed(),
            Err(e) => return Err(RunError::Spawn(e)),
            Ok(finished) => break (finished, confinement),
        }
    };

    let names = Names {
        prefix: format!("{site_name}/"),
        absolute: site_name.starts_with('/'),
    };
    let output = String::from_utf8_lossy(&finished.output).into_owned();
    let mut vars = Vec::new();
    if let Ok(file) = std::fs::File::open(&out_file) {
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(file, OUT_LIMIT), &mut vars);
    }
    let mut evaluation = parse_output(&String::from_utf8_lossy(&vars));
    evaluation.makefiles = evaluation
        .makefiles
        .iter()
        .filter(|f| f.as_os_str() != WRAPPER)
        .map(|f| match names.site_relative(&f.display().to_string()) {
            Some(relative) => site_dir.join(relative),
            None => f.clone(),
        })
        .collect();
    let skipped_shells = if options.untrusted {
        skipped_shells(&output, &wrapper.printed, &names)
    } else {
        Vec::new()
    };
    let error = match finished.ended {
        Ended::TimedOut => Some(stopped(format!(
            "make did not finish within {} s (a $(shell …) that hangs?); gluonvpn stopped it and everything it started",
            options.wall_time.as_secs()
        ))),
        Ended::Interrupted => Some(stopped("make was interrupted".to_string())),
        Ended::Exited(status) if !status.success() => {
            Some(classify(parse_make_error(&output, &names), &output, options, &confinement))
        }
        Ended::Exited(_) => None,
    };
    Ok(Outcome {
        evaluation,
        error,
        skipped_shells,
        confinement: Some(confinement),
    })
}

fn stopped(message: String) -> MakeError {
    MakeError {
        message,
        location: None,
        raw: String::new(),
        kind: ErrorKind::Stopped,
    }
}

/// Tells make's own errors (as Gluon's build would meet them) from those of
/// gluonvpn's limits and confinement.
fn classify(
    mut error: MakeError,
    output: &str,
    options: &MakeOptions,
    applied: &Applied,
) -> MakeError {
    let denied = |line: &str| {
        (line.contains("Permission denied") || line.contains("Operation not permitted"))
            && !is_skipped_shell(line)
    };
    if output
        .lines()
        .any(|l| l.contains("virtual memory exhausted"))
    {
        error.kind = ErrorKind::Stopped;
        error.message = format!(
            "make ran out of memory: gluonvpn limits make and each command it starts to {} MiB of address space",
            options.memory >> 20
        );
    } else if options.untrusted
        && (output.lines().any(denied) || error.message.ends_with("failed to load"))
    {
        error.kind = ErrorKind::Stopped;
        error.message = format!(
            "{} (--untrusted: make may not read or write files outside the site, load objects or start commands)",
            error.message
        );
    } else if applied.landlock.is_some() && error.raw.contains("Permission denied") {
        // make's own error, not a command's complaint on the way.
        error.kind = ErrorKind::Stopped;
        error.message = format!(
            "{} (gluonvpn's make may write only in its scratch directory; Gluon's build may allow this)",
            error.message
        );
    }
    error
}

/// How make names the site's files, in the scratch directory: the prefix
/// of their paths, absolute (`/tmp/gluonvpn-make-…/site/`) or `site/`.
struct Names {
    prefix: String,
    absolute: bool,
}

impl Names {
    /// A path make printed, relative to the site if it is one of the site's.
    fn site_relative<'a>(&self, path: &'a str) -> Option<&'a str> {
        path.strip_prefix(&self.prefix)
    }

    /// make's text with the site's files named relative to the site.
    fn relative_text(&self, text: &str) -> String {
        if self.absolute {
            return text.replace(&self.prefix, "");
        }
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let line = line.strip_prefix(&self.prefix).unwrap_or(line);
            let mut line = line.to_string();
            for before in ["'", "[", " "] {
                line = line.replace(&format!("{before}{}", self.prefix), before);
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// Copies the site's regular files that hold text (no NUL byte: no shared
/// object can be among them, for make's `load`) and its symbolic links as
/// they are, skipping `.git` and files over 4 MiB, up to 64 MiB in all.
fn copy_text_files(from: &Path, to: &Path) -> std::io::Result<()> {
    const FILE_LIMIT: u64 = 4 << 20;
    const TOTAL_LIMIT: u64 = 64 << 20;
    std::fs::create_dir(to)?;
    let mut total = 0;
    let walker = walkdir::WalkDir::new(from)
        .follow_links(false)
        .min_depth(1)
        .max_depth(16)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    for entry in walker.filter_map(Result::ok) {
        let Ok(relative) = entry.path().strip_prefix(from) else {
            continue;
        };
        let dest = to.join(relative);
        let kind = entry.file_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else if kind.is_symlink() {
            // Where it points is make's business: outside the copy, the
            // confinement denies it.
            if let Ok(target) = std::fs::read_link(entry.path()) {
                std::os::unix::fs::symlink(target, &dest)?;
            }
        } else if kind.is_file() {
            let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
            if size > FILE_LIMIT || total + size > TOTAL_LIMIT {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            if bytes.contains(&0) {
                continue;
            }
            total += bytes.len() as u64;
            std::fs::write(&dest, bytes)?;
        }
    }
    Ok(())
}

/// The wrapper makefile, and for each of its lines the variable it prints.
struct Wrapper {
    text: String,
    /// By 0-based line: the variable that line prints, if it prints one.
    printed: Vec<Option<String>>,
}

/// The make program: our prelude, then site.mk per round.
fn wrapper(site: &str, targets: &[TargetEnv]) -> Wrapper {
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    let mut line = |text: String, var: Option<String>| lines.push((text, var));
    line("LC_ALL:=C".into(), None);
    line("LANG:=C".into(), None);
    line(".SHELLFLAGS = -ec".into(), None);
    line(format!("GLUONVPN_OUT := {OUT_FILE}"), None);
    line(format!("GLUONVPN_SITEDIR := {}", make_quote(site)), None);
    line(
        "GLUONVPN_BASELINE := $(.VARIABLES) GLUONVPN_BASELINE".into(),
        None,
    );
    // Each defined variable, its expanded value on the following lines; one
    // line per variable, so that make's messages say which one it expanded.
    let mut names: Vec<&str> = VARIABLES
        .iter()
        .chain(FEATURE_VARIABLES.iter())
        .copied()
        .collect();
    names.sort_unstable();
    let print = |v: &str| {
        format!(
            "$(if $(filter undefined,$(origin {v})),,$(file >>$(GLUONVPN_OUT),@@var {v})$(file >>$(GLUONVPN_OUT),$({v})))"
        )
    };
    let rounds = std::iter::once(None).chain(targets.iter().map(Some));
    for target in rounds {
        line("GLUON_SITEDIR := $(GLUONVPN_SITEDIR)".into(), None);
        match target {
            None => line("$(file >>$(GLUONVPN_OUT),@@round)".into(), None),
            Some(t) => {
                line(
                    format!("override GLUON_TARGET := {}", make_quote(&t.name)),
                    None,
                );
                line(format!("BOARD := {}", make_quote(&t.board)), None);
                line(format!("SUBTARGET := {}", make_quote(&t.subtarget)), None);
                line(
                    format!("$(file >>$(GLUONVPN_OUT),@@round {})", t.name),
                    None,
                );
            }
        }
        line("include $(GLUON_SITEDIR)/site.mk".into(), None);
        for name in &names {
            line(print(name), Some(name.to_string()));
        }
        line(
            "$(foreach v,$(sort $(filter GLUON_%_SITE_PACKAGES,$(.VARIABLES))),$(if $(filter undefined,$(origin $(v))),,$(file >>$(GLUONVPN_OUT),@@var $(v))$(file >>$(GLUONVPN_OUT),$($(v)))))".into(),
            Some("GLUON_<device>_SITE_PACKAGES".into()),
        );
        line(
            "$(file >>$(GLUONVPN_OUT),@@makefiles $(MAKEFILE_LIST))".into(),
            None,
        );
        // Forget what site.mk defined before the next round.
        line(
            "$(foreach v,$(filter-out $(GLUONVPN_BASELINE),$(.VARIABLES)),$(eval override undefine $(v)))".into(),
            None,
        );
        line("override undefine GLUON_TARGET".into(), None);
        line("undefine BOARD".into(), None);
        line("undefine SUBTARGET".into(), None);
    }
    line(".PHONY: gluonvpn-done".into(), None);
    line("gluonvpn-done: ; @:".into(), None);
    let mut text = String::new();
    for (l, _) in &lines {
        text.push_str(l);
        text.push('\n');
    }
    Wrapper {
        text,
        printed: lines.into_iter().map(|(_, v)| v).collect(),
    }
}

/// Quotes a value for a make assignment: `$` doubled; other characters are
/// literal on the right of `:=`.
fn make_quote(s: &str) -> String {
    s.replace('$', "$$")
}

/// What make says when a `$(shell …)` or `!=` could not create its pipe:
/// `FILE:LINE: pipe: Operation not permitted`, the place of each.
fn is_skipped_shell(line: &str) -> bool {
    line.ends_with(": pipe: Operation not permitted")
}

fn skipped_shells(output: &str, printed: &[Option<String>], names: &Names) -> Vec<SkippedShell> {
    let mut skipped: Vec<SkippedShell> = output
        .lines()
        .filter(|l| is_skipped_shell(l))
        .map(|line| match split_location(line) {
            (Some((file, number)), _) if file.as_os_str() == WRAPPER => SkippedShell {
                location: None,
                variable: printed.get(number.wrapping_sub(1)).cloned().flatten(),
            },
            (Some((file, number)), _) => {
                let file = file.display().to_string();
                let file = names.site_relative(&file).unwrap_or(&file).to_string();
                SkippedShell {
                    location: Some((PathBuf::from(file), number)),
                    variable: None,
                }
            }
            (None, _) => SkippedShell {
                location: None,
                variable: None,
            },
        })
        .collect();
    skipped.sort();
    skipped.dedup();
    skipped
}

fn parse_output(output: &str) -> Evaluation {
    let mut evaluation = Evaluation::default();
    let mut current: Option<Option<String>> = None;
    let mut vars = Vars::default();
    let mut var: Option<(String, Vec<&str>)> = None;

    fn finish_var(vars: &mut Vars, var: &mut Option<(String, Vec<&str>)>) {
        if let Some((name, lines)) = var.take() {
            vars.values.insert(name, lines.join("\n"));
        }
    }
    let finish_round =
        |evaluation: &mut Evaluation, round: Option<Option<String>>, vars: Vars| match round {
            Some(None) => evaluation.global = vars,
            Some(Some(target)) => {
                evaluation.per_target.insert(target, vars);
            }
            None => {}
        };

    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("@@round") {
            finish_var(&mut vars, &mut var);
            finish_round(&mut evaluation, current.take(), std::mem::take(&mut vars));
            let target = rest.trim();
            current = Some((!target.is_empty()).then(|| target.to_string()));
        } else if let Some(rest) = line.strip_prefix("@@var ") {
            finish_var(&mut vars, &mut var);
            var = Some((rest.trim().to_string(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix("@@makefiles") {
            finish_var(&mut vars, &mut var);
            if evaluation.makefiles.is_empty() {
                evaluation.makefiles = rest
                    .split_whitespace()
                    .filter(|f| *f != "-")
                    .map(PathBuf::from)
                    .collect();
            }
        } else if let Some((_, lines)) = var.as_mut() {
            lines.push(line);
        }
    }
    finish_var(&mut vars, &mut var);
    finish_round(&mut evaluation, current, vars);
    evaluation
}

/// The first error make printed: `FILE:LINE: *** MESSAGE.  Stop.`, or
/// `make: *** MESSAGE.  Stop.` after a `FILE:LINE: …` line that says where,
/// or `make: *** [FILE:LINE: TARGET] Error N` for a rule's recipe.
fn parse_make_error(output: &str, names: &Names) -> MakeError {
    // Name site files relative to the site, as a user reads them.
    let output = names.relative_text(output);
    let mut last_location: Option<(PathBuf, usize)> = None;
    for line in output.lines().filter(|l| !is_skipped_shell(l)) {
        let (location, rest) = split_location(line);
        if let Some(message) = rest.strip_prefix("*** ") {
            let message = message
                .trim_end_matches("  Stop.")
                .trim_end_matches('.')
                .to_string();
            let rule = message.strip_prefix('[').and_then(|m| split_location(m).0);
            return MakeError {
                message,
                location: location.or(rule).or(last_location),
                raw: line.to_string(),
                kind: ErrorKind::Make,
            };
        }
        if location.is_some() && !rest.starts_with("warning:") {
            last_location = location;
        }
    }
    MakeError {
        message: output.lines().last().unwrap_or("make failed").to_string(),
        location: last_location,
        raw: output.trim().to_string(),
        kind: ErrorKind::Make,
    }
}

/// Splits `file:line: rest` (or `make: rest`) into its location and rest.
fn split_location(line: &str) -> (Option<(PathBuf, usize)>, &str) {
    if let Some(rest) = line.strip_prefix("make: ") {
        return (None, rest);
    }
    let mut parts = line.splitn(3, ':');
    if let (Some(file), Some(number), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
        if let Ok(number) = number.parse::<usize>() {
            return (Some((PathBuf::from(file), number)), rest.trim_start());
        }
    }
    (None, line)
}

/// The value site.mk gives `name` when it can be read without make: plain
/// assignments (`=`, `:=`, `::=`, `?=`, optionally `override`) of one word
/// without `$`, outside conditionals. `None` when anything else touches the
/// variable (`+=`, `!=`, a conditional, `define`), or it is not assigned.
pub fn literal_value(text: &str, name: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut value: Option<String> = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let first = line.split_whitespace().next().unwrap_or("");
        match first {
            "ifeq" | "ifneq" | "ifdef" | "ifndef" => depth += 1,
            "endif" => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !line.contains(name) {
            continue;
        }
        let rest = line
            .strip_prefix("override ")
            .or_else(|| line.strip_prefix("export "))
            .unwrap_or(line)
            .trim_start();
        let Some(rest) = rest.strip_prefix(name).map(str::trim_start) else {
            // Mentioned some other way: make would have to tell.
            return None;
        };
        let (conditional, assigned) = if let Some(v) = rest.strip_prefix("?=") {
            (true, v)
        } else if let Some(v) = rest.strip_prefix("::=").or_else(|| rest.strip_prefix(":=")) {
            (false, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (false, v)
        } else {
            return None;
        };
        let assigned = assigned.trim();
        if depth > 0 || assigned.contains('$') || assigned.split_whitespace().count() > 1 {
            return None;
        }
        if !(conditional && value.is_some()) {
            value = Some(assigned.to_string());
        }
    }
    value.filter(|v| !v.is_empty())
}

/// The 1-based line of site.mk text that assigns `name`, if one does.
pub fn assignment_line(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let line = line
                .strip_prefix("override ")
                .or_else(|| line.strip_prefix("export "))
                .unwrap_or(line)
                .trim_start();
            line.strip_prefix(name).is_some_and(|rest| {
                let rest = rest.trim_start();
                ["=", ":=", "::=", "?=", "+=", "!="]
                    .iter()
                    .any(|op| rest.starts_with(op))
            })
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(mk: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("site.mk"), mk).expect("write");
        dir
    }

    fn target(name: &str) -> TargetEnv {
        let (board, subtarget) = name.split_once('-').unwrap_or((name, ""));
        TargetEnv {
            name: name.into(),
            board: board.into(),
            subtarget: subtarget.into(),
        }
    }

    #[test]
    fn reads_variables_and_honours_target_conditionals() {
        let dir = site(concat!(
            "DEFAULT_GLUON_RELEASE := 1.2$(shell echo 3)\n",
            "GLUON_RELEASE ?= $(DEFAULT_GLUON_RELEASE)\n",
            "GLUON_MULTIDOMAIN = 1\n",
            "GLUON_FEATURES := autoupdater \\\n\tebtables-filter-multicast\n",
            "ifeq ($(GLUON_TARGET),x86-64)\nGLUON_SITE_PACKAGES += qemu-ga\nendif\n",
            "GLUON_tp-link-archer-c7-v2_SITE_PACKAGES := extra\n",
        ));
        let outcome = evaluate(
            dir.path(),
            &[target("x86-64"), target("ath79-generic")],
            &MakeOptions::default(),
        )
        .expect("make runs");
        assert_eq!(outcome.error, None);
        let evaluation = outcome.evaluation;
        assert_eq!(evaluation.global.get("GLUON_RELEASE"), Some("1.23"));
        assert_eq!(evaluation.global.get("GLUON_MULTIDOMAIN"), Some("1"));
        assert_eq!(
            evaluation.global.words("GLUON_FEATURES"),
            ["autoupdater", "ebtables-filter-multicast"]
        );
        assert!(!evaluation.global.is_defined("GLUON_SITE_PACKAGES"));
        assert_eq!(
            evaluation.for_target("x86-64").get("GLUON_SITE_PACKAGES"),
            Some("qemu-ga")
        );
        // `+=` from the x86-64 round must not leak into the next one
        assert!(!evaluation
            .for_target("ath79-generic")
            .is_defined("GLUON_SITE_PACKAGES"));
        assert_eq!(
            evaluation
                .global
                .get("GLUON_tp-link-archer-c7-v2_SITE_PACKAGES"),
            Some("extra")
        );
        assert!(evaluation.makefiles.iter().any(|f| f.ends_with("site.mk")));
    }

    #[test]
    fn make_errors_keep_file_and_line() {
        let dir = site("GLUON_RELEASE := 1\n\techo recipe\n");
        let error = evaluate(dir.path(), &[], &MakeOptions::default())
            .expect("make runs")
            .error
            .expect("error");
        assert_eq!(error.message, "recipe commences before first target");
        let (file, line) = error.location.expect("location");
        assert_eq!(file, Path::new("site.mk"));
        assert_eq!(line, 2);

        let dir = site(
            "GLUON_RELEASE := 1\ninclude $(GLUON_SITEDIR)/specific_site.mk\nGLUON_FEATURES := x\n",
        );
        let outcome = evaluate(dir.path(), &[], &MakeOptions::default()).expect("make runs");
        let error = outcome.error.expect("error");
        assert_eq!(error.message, "No rule to make target 'specific_site.mk'");
        assert_eq!(error.location.map(|(_, l)| l), Some(2));
        // make read the whole file before failing, as Gluon's Makefile does
        assert_eq!(outcome.evaluation.global.get("GLUON_FEATURES"), Some("x"));

        let dir = site("$(error custom stop)\n");
        let error = evaluate(dir.path(), &[], &MakeOptions::default())
            .expect("make runs")
            .error
            .expect("error");
        assert_eq!(error.message, "custom stop");
    }

    #[test]
    fn literal_values_only_where_make_is_not_needed() {
        let mk = "GLUON_AUTOUPDATER_BRANCH ?= stable\nGLUON_RELEASE := $(shell date)\n";
        assert_eq!(
            literal_value(mk, "GLUON_AUTOUPDATER_BRANCH").as_deref(),
            Some("stable")
        );
        assert_eq!(literal_value(mk, "GLUON_RELEASE"), None);
        assert_eq!(literal_value(mk, "GLUON_BRANCH"), None);
        let mk = "B ?= a\nB ?= b\noverride B := c # comment\n";
        assert_eq!(literal_value(mk, "B").as_deref(), Some("c"));
        for mk in [
            "ifeq ($(X),1)\nB := a\nendif\n",
            "B := a\nB += b\n",
            "B := a b\n",
            "B := a\n$(eval B := $(shell x))\n",
        ] {
            assert_eq!(literal_value(mk, "B"), None, "{mk}");
        }
    }

    #[test]
    fn finds_assignment_lines() {
        let text = "# GLUON_FEATURES := x\nGLUON_RELEASE ?= 1\n  override GLUON_FEATURES += y\n";
        assert_eq!(assignment_line(text, "GLUON_FEATURES"), Some(3));
        assert_eq!(assignment_line(text, "GLUON_RELEASE"), Some(2));
        assert_eq!(assignment_line(text, "GLUON_LANGS"), None);
    }
}
