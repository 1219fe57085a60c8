//! site.mk, evaluated by GNU make the way Gluon's Makefile includes it.
//!
//! Gluon includes `$(GLUON_SITEDIR)/site.mk` from its top-level Makefile, run
//! in the Gluon tree with `GLUON_TARGET` on make's command line, and (up to
//! v2023.1) evaluates it again per target to read the feature and package
//! lists. gluonvpn runs one make process that includes site.mk once without a
//! target and then once per target, clearing what site.mk defined between
//! rounds, and reads back the expanded variables. Make runs in an empty
//! scratch directory standing in for the Gluon tree, so a relative `include`
//! fails as it does in Gluon.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// What make made of site.mk.
#[derive(Clone, Debug, Default)]
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
    /// Path as make printed it, and line.
    pub location: Option<(PathBuf, usize)>,
    /// The complete line make printed.
    pub raw: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot run GNU make (`make`): {0}")]
    Spawn(std::io::Error),
    #[error("cannot create a scratch directory for make: {0}")]
    Scratch(std::io::Error),
}

/// How long make may run before gluonvpn gives up on it.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Whether site.mk (or a file it includes) refers to the target, so that it
/// has to be evaluated per target.
pub fn mentions_target(texts: &[&str]) -> bool {
    texts.iter().any(|t| {
        ["GLUON_TARGET", "BOARD", "SUBTARGET"]
            .iter()
            .any(|name| t.contains(name))
    })
}

/// What a make run gave: the variables it got to (make parses the whole
/// file before it fails on a missing include, as in Gluon) and its error.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub evaluation: Evaluation,
    pub error: Option<MakeError>,
}

/// Runs make on `site_dir/site.mk`, once without a target and once per
/// target in `targets`. `Err(_)` means make could not run at all; make's own
/// failures (problems in the site) are in the outcome.
///
/// Each round re-runs site.mk's `$(shell …)` calls (a `date` per round is
/// common), so many targets are split over two make processes.
pub fn evaluate(site_dir: &Path, targets: &[TargetEnv]) -> Result<Outcome, RunError> {
    if targets.len() < 8 {
        return evaluate_rounds(site_dir, targets);
    }
    let (first, second) = targets.split_at(targets.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let other = scope.spawn(|| evaluate_rounds(site_dir, second));
        let a = evaluate_rounds(site_dir, first);
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
    Ok(a)
}

fn evaluate_rounds(site_dir: &Path, targets: &[TargetEnv]) -> Result<Outcome, RunError> {
    let scratch = tempfile::Builder::new()
        .prefix("gluonvpn-make-")
        .tempdir()
        .map_err(RunError::Scratch)?;
    let out_file = scratch.path().join("vars.out");
    let program = wrapper(site_dir, targets, &out_file);

    let mut child = Command::new("make")
        .args([
            "--no-builtin-rules",
            "--no-builtin-variables",
            "--no-print-directory",
            "-s",
            "-f",
            "-",
            "gluonvpn-done",
        ])
        .current_dir(scratch.path())
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .env("HOME", scratch.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A write error means make exited early; its status says why.
        let _ = stdin.write_all(program.as_bytes());
    }
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => return Err(RunError::Spawn(e)),
        }
    };
    let stderr = reader.join().unwrap_or_default();
    let output = std::fs::read_to_string(&out_file).unwrap_or_default();
    let evaluation = parse_output(&output);
    let error = match status {
        None => Some(MakeError {
            message: format!(
                "make did not finish within {} s (a $(shell …) that hangs?)",
                TIMEOUT.as_secs()
            ),
            location: None,
            raw: String::new(),
        }),
        Some(status) if !status.success() => Some(parse_make_error(&stderr, site_dir)),
        Some(_) => None,
    };
    Ok(Outcome { evaluation, error })
}

/// The make program: our prelude, then site.mk per round.
fn wrapper(site_dir: &Path, targets: &[TargetEnv], out: &Path) -> String {
    let site_dir = site_dir.display().to_string();
    let mut program = String::new();
    program.push_str("LC_ALL:=C\nLANG:=C\n.SHELLFLAGS = -ec\n");
    program.push_str(&format!(
        "GLUONVPN_OUT := {}\n",
        make_quote(&out.display().to_string())
    ));
    program.push_str(&format!("GLUONVPN_SITEDIR := {}\n", make_quote(&site_dir)));
    program.push_str(&format!(
        "GLUONVPN_VARS := {} {}\n",
        VARIABLES.join(" "),
        FEATURE_VARIABLES.join(" ")
    ));
    // Print each defined variable, its expanded value on the following lines.
    program.push_str(concat!(
        "define gluonvpn_print\n",
        "$(foreach v,$(sort $(GLUONVPN_VARS) $(filter GLUON_%_SITE_PACKAGES,$(.VARIABLES))),",
        "$(if $(filter undefined,$(origin $(v))),,$(file >>$(GLUONVPN_OUT),@@var $(v))$(file >>$(GLUONVPN_OUT),$($(v)))))\n",
        "endef\n",
    ));
    program.push_str("GLUONVPN_BASELINE := $(.VARIABLES) GLUONVPN_BASELINE\n");
    let rounds = std::iter::once(None).chain(targets.iter().map(Some));
    for target in rounds {
        program.push_str("GLUON_SITEDIR := $(GLUONVPN_SITEDIR)\n");
        match target {
            None => program.push_str("$(file >>$(GLUONVPN_OUT),@@round)\n"),
            Some(t) => {
                program.push_str(&format!(
                    "override GLUON_TARGET := {}\n",
                    make_quote(&t.name)
                ));
                program.push_str(&format!(
                    "BOARD := {}\nSUBTARGET := {}\n",
                    make_quote(&t.board),
                    make_quote(&t.subtarget)
                ));
                program.push_str(&format!("$(file >>$(GLUONVPN_OUT),@@round {})\n", t.name));
            }
        }
        program.push_str("include $(GLUON_SITEDIR)/site.mk\n");
        program.push_str("$(eval $(gluonvpn_print))\n");
        program.push_str("$(file >>$(GLUONVPN_OUT),@@makefiles $(MAKEFILE_LIST))\n");
        // Forget what site.mk defined before the next round.
        program.push_str(
            "$(foreach v,$(filter-out $(GLUONVPN_BASELINE),$(.VARIABLES)),$(eval override undefine $(v)))\n",
        );
        program.push_str("override undefine GLUON_TARGET\nundefine BOARD\nundefine SUBTARGET\n");
    }
    program.push_str(".PHONY: gluonvpn-done\ngluonvpn-done: ; @:\n");
    program
}

/// Quotes a value for a make assignment: `$` doubled; other characters are
/// literal on the right of `:=`.
fn make_quote(s: &str) -> String {
    s.replace('$', "$$")
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
/// `make: *** MESSAGE.  Stop.` after a `FILE:LINE: …` line that says where.
fn parse_make_error(stderr: &str, site_dir: &Path) -> MakeError {
    // Name site files relative to the site, as a user reads them.
    let prefix = format!("{}/", site_dir.display());
    let stderr = stderr.replace(&prefix, "");
    let mut last_location: Option<(PathBuf, usize)> = None;
    for line in stderr.lines() {
        let (location, rest) = split_location(line);
        if let Some(message) = rest.strip_prefix("*** ") {
            let message = message
                .trim_end_matches("  Stop.")
                .trim_end_matches('.')
                .to_string();
            return MakeError {
                message,
                location: location.or(last_location),
                raw: line.to_string(),
            };
        }
        if location.is_some() && !rest.starts_with("warning:") {
            last_location = location;
        }
    }
    MakeError {
        message: stderr.lines().last().unwrap_or("make failed").to_string(),
        location: last_location,
        raw: stderr.trim().to_string(),
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
        let outcome =
            evaluate(dir.path(), &[target("x86-64"), target("ath79-generic")]).expect("make runs");
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
        let error = evaluate(dir.path(), &[])
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
        let outcome = evaluate(dir.path(), &[]).expect("make runs");
        let error = outcome.error.expect("error");
        assert_eq!(error.message, "No rule to make target 'specific_site.mk'");
        assert_eq!(error.location.map(|(_, l)| l), Some(2));
        // make read the whole file before failing, as Gluon's Makefile does
        assert_eq!(outcome.evaluation.global.get("GLUON_FEATURES"), Some("x"));

        let dir = site("$(error custom stop)\n");
        let error = evaluate(dir.path(), &[])
            .expect("make runs")
            .error
            .expect("error");
        assert_eq!(error.message, "custom stop");
    }

    #[test]
    fn finds_assignment_lines() {
        let text = "# GLUON_FEATURES := x\nGLUON_RELEASE ?= 1\n  override GLUON_FEATURES += y\n";
        assert_eq!(assignment_line(text, "GLUON_FEATURES"), Some(3));
        assert_eq!(assignment_line(text, "GLUON_RELEASE"), Some(2));
        assert_eq!(assignment_line(text, "GLUON_LANGS"), None);
    }
}
