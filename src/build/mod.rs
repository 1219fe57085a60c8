//! `gluonvpn build`: Gluon firmware for a site, with gluonvpn's Rust agents
//! (book: Building firmware).
//!
//! The site has been checked before anything here runs (see the CLI). Then:
//! the Gluon ref is looked up ([`gluon::probe`], nothing written yet), the
//! repository fetched into the workdir's cache and checked out into one tree
//! per target built at a time ([`gluon`]); the agents feed is generated
//! ([`feed`]) and the site copied with the overlay that uses it ([`site`]);
//! `make update` and `make GLUON_TARGET=…` run in the trees ([`make`]); the
//! images of each finished target go into a staging copy of the output tree
//! ([`output`]), which replaces `OUT/<release>` at the end, together with the
//! report ([`report`]).

pub mod feed;
pub mod fsutil;
pub mod gluon;
pub mod make;
pub mod output;
pub mod progress;
pub mod report;
pub mod site;

use crate::gluon_data::{self, arch::RustAgents};
use crate::gluon_version::GluonVersion;
use progress::Ui;
use report::{Report, RunStatus, TargetReport, TargetStatus};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

/// Why a build could not run (exit status 2). Failed targets are not errors:
/// they are in the [`Outcome`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach the Gluon repository {repo}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Unreachable { repo: String, detail: String },
    #[error("{repo} has no tag, branch or commit '{reference}'{}", if similar.is_empty() { String::new() } else { format!(" (similar tags: {})", similar.join(", ")) })]
    UnknownRef {
        reference: String,
        repo: String,
        similar: Vec<String>,
    },
    #[error("the Gluon tree {} has local changes ({}{}); commit or remove them, or pass --allow-dirty", path.display(), files.iter().take(5).cloned().collect::<Vec<_>>().join(", "), if files.len() > 5 { ", …" } else { "" })]
    DirtyTree { path: PathBuf, files: Vec<String> },
    #[error("the agents' source {}: {what}", root.display())]
    AgentsSource { root: PathBuf, what: String },
    #[error("another gluonvpn build is using the workdir {}", .0.display())]
    Locked(PathBuf),
    #[error("`make update` failed in {}; its log: {}\n{}", tree.display(), log.display(), excerpt.join("\n"))]
    Update {
        tree: PathBuf,
        log: PathBuf,
        excerpt: Vec<String>,
    },
    #[error("stopped before any target was built; the output is unchanged")]
    Interrupted,
    #[error("git: {0}")]
    Git(String),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Internal(String),
}

/// The packages feed's Rust packaging, in an updated Gluon tree.
const RUST_PACKAGE_MK: &str = "packages/packages/lang/rust/rust-package.mk";

/// Which agents to build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentsChoice {
    /// wgpeerselector when the site's images use WireGuard, if the source has
    /// it; nothing otherwise.
    Auto,
    None,
    List(Vec<&'static feed::Agent>),
}

/// Everything a build needs, decided by the CLI.
#[derive(Clone, Debug)]
pub struct Options {
    pub site: PathBuf,
    pub version: GluonVersion,
    /// Target names, validated against the release's data.
    pub targets: Vec<String>,
    pub broken: bool,
    pub gluon_ref: String,
    pub gluon_repo: String,
    pub workdir: PathBuf,
    pub jobs: usize,
    pub parallel_targets: usize,
    pub release: String,
    pub autoupdater_branch: Option<String>,
    pub agents: AgentsChoice,
    /// Whether any image of the site has gluon-mesh-vpn-wireguard.
    pub site_uses_wireguard: bool,
    /// The gluonvpn workspace the agents are built from.
    pub agents_src: Option<PathBuf>,
    pub allow_dirty: bool,
    pub out: PathBuf,
    pub verbose: bool,
}

/// How a build went.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub report_path: PathBuf,
    pub release_dir: PathBuf,
}

/// The gluonvpn workspace this binary was built from, when it is still
/// there (the default of `--agents-src`).
pub fn default_agents_src() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.join("Cargo.lock").is_file().then_some(dir)
}

/// The default workdir: `$XDG_CACHE_HOME/gluonvpn` or
/// `~/.cache/gluonvpn`.
pub fn default_workdir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("gluonvpn")
}

fn absolute(path: &Path) -> Result<PathBuf, BuildError> {
    std::path::absolute(path).map_err(|e| BuildError::Io(format!("{}: {e}", path.display())))
}

/// An exclusive lock on the workdir for the build's duration (released when
/// the file is closed).
struct Lock(#[allow(dead_code)] std::fs::File);

impl Lock {
    fn acquire(workdir: &Path) -> Result<Lock, BuildError> {
        let path = workdir.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| BuildError::Io(format!("{}: {e}", path.display())))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(BuildError::Locked(workdir.to_path_buf()));
        }
        Ok(Lock(file))
    }
}

/// What a target's build depends on; its hash decides whether an unchanged
/// target can be skipped.
#[derive(Serialize)]
struct Inputs<'a> {
    gluonvpn: &'a str,
    target: &'a str,
    gluon_version: &'a str,
    gluon_commit: &'a str,
    site_sha256: &'a str,
    /// `git describe` of the site (Gluon's GLUON_SITE_VERSION, in the images).
    site_version: Option<&'a str>,
    agents_sha256: Option<&'a str>,
    agents: Vec<&'a str>,
    release: &'a str,
    autoupdater_branch: Option<&'a str>,
    broken: bool,
}

/// A path component that names the release directory.
fn check_release(release: &str) -> Result<(), BuildError> {
    let ok = !release.is_empty()
        && release != "."
        && release != ".."
        && !release.starts_with('.')
        && !release.contains(['/', '\0'])
        && !release.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(BuildError::Usage(format!(
            "the release {release:?} cannot name a directory (GLUON_RELEASE must be a single word without '/')"
        )))
    }
}

struct Shared<'a> {
    options: &'a Options,
    ui: &'a Ui,
    workdir: &'a Path,
    site_dir: PathBuf,
    previous: BTreeMap<String, TargetReport>,
    staging: output::Staging,
    jobs: Option<make::Jobs>,
    /// Held while a target's files go into the staging directory.
    staging_lock: Mutex<()>,
    results: Mutex<Vec<TargetReport>>,
    queue: Mutex<VecDeque<(String, String, Option<String>)>>,
}

/// Runs the build.
pub fn run(options: &Options, ui: &Ui) -> Result<Outcome, BuildError> {
    let started = SystemTime::now();
    check_release(&options.release)?;
    // From here on Ctrl-C (or SIGTERM) stops the build cleanly: running
    // makes are stopped, finished targets reach the output, the report says
    // what happened.
    make::catch_interrupts();
    let data = gluon_data::embedded(options.version.label())
        .ok_or_else(|| BuildError::Internal(format!("no data for {}", options.version)))?;
    let workdir = absolute(&options.workdir)?;
    if workdir.to_string_lossy().contains(char::is_whitespace) {
        return Err(BuildError::Usage(format!(
            "the workdir {} has whitespace in its path, which Gluon's GLUON_SITEDIR cannot take",
            workdir.display()
        )));
    }
    let out = absolute(&options.out)?;
    let site_path = absolute(&options.site)?;

    // The agents, and their source: settled before anything is written.
    let mut agents: Vec<&'static feed::Agent> = match &options.agents {
        AgentsChoice::None => Vec::new(),
        AgentsChoice::List(list) => list.clone(),
        AgentsChoice::Auto if options.site_uses_wireguard => {
            vec![feed::agent("wgpeerselector").expect("known agent")]
        }
        AgentsChoice::Auto => Vec::new(),
    };
    if !agents.is_empty() && !gluon_data::arch::packages_feed_has_rust(options.version) {
        let why = format!(
            "the packages feed Gluon {} pins has no Rust support (lang/rust), which the agents \
             feed needs",
            options.version
        );
        if options.agents == AgentsChoice::Auto {
            ui.note(&format!("building with Gluon's own agents: {why}"));
            agents.clear();
        } else {
            ui.note(&format!(
                "{why}; going on because --agents asks for them (a site `modules` file may pin \
                 a newer packages feed)"
            ));
        }
    }
    let mut source = None;
    if !agents.is_empty() {
        let root = match options.agents_src.clone().or_else(default_agents_src) {
            Some(root) => Some(root),
            None if options.agents == AgentsChoice::Auto => None,
            None => {
                return Err(BuildError::Usage(
                    "no gluonvpn workspace to build the agents from: pass --agents-src DIR (a \
                     gluonvpn checkout) or --agents none"
                        .into(),
                ))
            }
        };
        match root.map(|r| feed::read_source(&r, &agents)) {
            Some(Ok(s)) => source = Some(s),
            Some(Err(e)) if options.agents != AgentsChoice::Auto => return Err(e),
            Some(Err(e)) => {
                ui.note(&format!("building with Gluon's own agents: {e}"));
                agents.clear();
            }
            None => {
                ui.note("building with Gluon's own agents: no gluonvpn workspace to build gluonvpn's from (--agents-src)");
                agents.clear();
            }
        }
    }
    if let Some(s) = &source {
        for skipped in &s.skipped {
            ui.note(&format!(
                "the agents feed leaves out {} (OpenWrt would scan it as a package)",
                skipped.display()
            ));
        }
    }

    // The Gluon ref: from the cache when it has the tag or commit, else
    // asked of the repository before anything is written.
    let cache = workdir.join("gluon.git");
    let from_cache = gluon::cached(&cache, &options.gluon_ref);
    let probe = match &from_cache {
        Some((probe, _)) => probe.clone(),
        None => gluon::probe(&options.gluon_repo, &options.gluon_ref)?,
    };

    let created_workdir = !workdir.exists();
    std::fs::create_dir_all(&workdir)
        .map_err(|e| BuildError::Io(format!("cannot create {}: {e}", workdir.display())))?;
    let lock = Lock::acquire(&workdir)?;
    let resolved = match from_cache {
        Some((_, oid)) => Ok(oid),
        None => {
            ui.note(&format!("fetching {}", options.gluon_repo));
            gluon::fetch(&cache, &options.gluon_repo).and_then(|()| gluon::resolve(&cache, &probe))
        }
    };
    let commit = match resolved {
        Ok(c) => c,
        Err(e) => {
            if created_workdir {
                drop(lock);
                let _ = fsutil::remove_dir(&workdir);
            }
            return Err(if make::interrupted() {
                BuildError::Interrupted
            } else {
                e
            });
        }
    };
    let _lock = lock;
    if make::interrupted() {
        return Err(BuildError::Interrupted);
    }

    // The first tree tells whether Gluon has local changes.
    let tree_path = |slot: usize| workdir.join("trees").join(slot.to_string());
    let first_tree = gluon::prepare_tree(&cache, &tree_path(0), commit, options.allow_dirty)?;
    if first_tree.dirty {
        ui.note(&format!(
            "building from a Gluon tree with local changes ({})",
            first_tree.path.display()
        ));
    }

    let content = site::read(&site_path, &[workdir.clone(), out.clone()])?;
    let feed_commit;
    let mut fallbacks = Vec::new();
    let overlay = if let Some(source) = &source {
        let rendered = feed::render(source, &agents)?;
        for note in &rendered.notes {
            ui.note(note);
        }
        feed_commit = feed::write(&workdir.join("feed"), source, &rendered)?;
        let mut excluded = Vec::new();
        for t in &data.targets {
            if let RustAgents::Unsupported(reason) =
                gluon_data::arch::rust_agents(&t.board, t.arch.as_ref())
            {
                if options.targets.contains(&t.name) {
                    ui.note(&format!(
                        "{}: Gluon's own agents, not gluonvpn's: {reason}",
                        t.name
                    ));
                    fallbacks.push(report::Fallback {
                        target: t.name.clone(),
                        reason,
                    });
                }
                excluded.push((t.name.clone(), t.board.clone(), t.subtarget.clone()));
            }
        }
        Some(site::Overlay {
            version: options.version,
            feed_repo: workdir.join("feed"),
            feed_commit: feed_commit.clone(),
            excluded,
        })
    } else {
        feed_commit = String::new();
        None
    };
    let site_dir = workdir.join("site");
    site::write(&site_dir, &content, overlay.as_ref())?;
    let listed = list_targets(&first_tree, &site_dir, options.broken)?;
    let unknown: Vec<&str> = options
        .targets
        .iter()
        .filter(|t| !listed.contains(t))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(BuildError::Usage(format!(
            "Gluon at {} ({}) does not build {} (its `make list-targets` has {}); is --gluon-version right?",
            options.gluon_ref,
            first_tree.describe,
            unknown.join(", "),
            listed.join(" ")
        )));
    }

    let commit_text = commit.to_string();
    let agent_names: Vec<&str> = agents.iter().map(|a| a.package).collect();
    let fingerprint = |target: &str| {
        let inputs = Inputs {
            gluonvpn: env!("CARGO_PKG_VERSION"),
            target,
            gluon_version: options.version.label(),
            gluon_commit: &commit_text,
            site_sha256: &content.sha256,
            site_version: content.repo.as_ref().and_then(|r| r.version.as_deref()),
            agents_sha256: source.as_ref().map(|s| s.sha256.as_str()),
            agents: agent_names.clone(),
            release: &options.release,
            autoupdater_branch: options.autoupdater_branch.as_deref(),
            broken: options.broken,
        };
        fsutil::sha256_bytes(&serde_json::to_vec(&inputs).unwrap_or_default())
    };
    let agents_mode = |target: &str| {
        source.as_ref().map(|_| {
            if fallbacks.iter().any(|f| f.target == target) {
                "gluon".to_string()
            } else {
                "rust".to_string()
            }
        })
    };

    let release_dir = out.join(&options.release);
    let previous = report::previous_targets(&release_dir);
    let mut results = Vec::new();
    let mut queue = VecDeque::new();
    for name in &options.targets {
        let inputs = fingerprint(name);
        let earlier = previous.get(name);
        let unchanged = earlier.is_some_and(|e| {
            matches!(e.status, TargetStatus::Built | TargetStatus::Skipped)
                && e.inputs_sha256 == inputs
                && output::present(&release_dir, e)
        });
        if unchanged && !first_tree.dirty {
            let e = earlier.expect("checked");
            ui.note(&format!("{name}: unchanged, skipped"));
            results.push(TargetReport {
                status: TargetStatus::Skipped,
                duration_seconds: None,
                error: None,
                ..e.clone()
            });
        } else {
            queue.push_back((name.clone(), inputs, agents_mode(name)));
        }
    }

    let staging = output::Staging::begin(&release_dir)?;
    let slots = options.parallel_targets.clamp(1, queue.len().max(1));
    let mut trees = vec![first_tree.clone()];
    let mut update_error = None;
    let updated = !queue.is_empty();
    if updated {
        for slot in 1..slots {
            match gluon::prepare_tree(&cache, &tree_path(slot), commit, options.allow_dirty) {
                Ok(t) => trees.push(t),
                Err(e) => {
                    update_error = Some(e);
                    break;
                }
            }
        }
        if update_error.is_none() && make::interrupted() {
            update_error = Some(BuildError::Interrupted);
        }
        if update_error.is_none() {
            update_error = update_trees(&trees, &workdir, &site_dir, ui).err();
        }
        let rust = trees[0].path.join(RUST_PACKAGE_MK);
        if update_error.is_none() && source.is_some() && !rust.is_file() {
            update_error = Some(BuildError::Usage(format!(
                "the agents feed needs the packages feed's Rust support, and {} is missing after \
                 `make update`: build with --agents none, or with a Gluon whose packages feed has \
                 lang/rust (v2023.2 or later)",
                rust.display()
            )));
        }
    }
    if let Some(e) = update_error {
        staging.abandon();
        return Err(e);
    }

    let jobs = if slots > 1 && options.jobs > slots {
        Some(make::Jobs::Shared(
            jobserver::Client::new(options.jobs - slots)
                .map_err(|e| BuildError::Io(format!("cannot create a jobserver: {e}")))?,
        ))
    } else if slots > 1 {
        Some(make::Jobs::Flag(1))
    } else {
        Some(make::Jobs::Flag(options.jobs.max(1)))
    };
    let shared = Shared {
        options,
        ui,
        workdir: &workdir,
        site_dir,
        previous,
        staging,
        jobs,
        staging_lock: Mutex::new(()),
        results: Mutex::new(Vec::new()),
        queue: Mutex::new(queue),
    };
    std::thread::scope(|scope| {
        for tree in &trees {
            let shared = &shared;
            scope.spawn(move || worker(shared, tree));
        }
    });
    let Shared {
        staging,
        results: built,
        queue,
        site_dir,
        ..
    } = shared;
    results.extend(built.into_inner().unwrap_or_default());
    let not_started: Vec<_> = queue.into_inner().unwrap_or_default().into_iter().collect();
    for (name, inputs, agents) in not_started {
        results.push(TargetReport {
            name,
            status: TargetStatus::NotStarted,
            inputs_sha256: inputs,
            duration_seconds: None,
            built: None,
            agents,
            log: None,
            images: Vec::new(),
            packages: None,
            error: None,
        });
    }
    // The report lists the targets in the order asked for.
    results.sort_by_key(|r| options.targets.iter().position(|t| *t == r.name));

    let interrupted = make::interrupted();
    if interrupted && results.iter().all(|r| r.status != TargetStatus::Built) {
        staging.abandon();
        return Err(BuildError::Interrupted);
    }
    let failed = results.iter().any(|r| r.status == TargetStatus::Failed);
    let manifest = options.autoupdater_branch.as_ref().map(|branch| {
        if failed || interrupted {
            return report::ManifestReport {
                branch: branch.clone(),
                status: "not-run".into(),
                path: None,
                log: None,
            };
        }
        // Nothing was built: the tree may never have been updated (the
        // images come from elsewhere, e.g. one CI job per target).
        if !updated {
            if let Err(e) = update_trees(&trees[..1], &workdir, &site_dir, ui) {
                ui.note(&format!("{e}"));
                return report::ManifestReport {
                    branch: branch.clone(),
                    status: "failed".into(),
                    path: None,
                    log: Some(make::log_path(&workdir, "update-0").display().to_string()),
                };
            }
        }
        manifest(
            &trees[0], &workdir, &site_dir, &staging, options, branch, ui,
        )
    });
    let manifest_failed = manifest.as_ref().is_some_and(|m| m.status == "failed");
    let status = if interrupted {
        RunStatus::Interrupted
    } else if failed || manifest_failed {
        RunStatus::Failed
    } else {
        RunStatus::Complete
    };
    let report = Report {
        schema: report::SCHEMA,
        gluonvpn: env!("CARGO_PKG_VERSION").to_string(),
        status,
        started: report::rfc3339(started),
        finished: report::rfc3339(SystemTime::now()),
        release: options.release.clone(),
        gluon: report::GluonInfo {
            repository: options.gluon_repo.clone(),
            reference: options.gluon_ref.clone(),
            commit: commit_text.clone(),
            describe: first_tree.describe.clone(),
            version: options.version.label().to_string(),
            dirty: first_tree.dirty,
        },
        site: report::SiteInfo {
            path: site_path.display().to_string(),
            commit: content.repo.as_ref().map(|r| r.commit.clone()),
            dirty: content.repo.as_ref().map(|r| r.dirty),
            content_sha256: content.sha256.clone(),
        },
        agents: source.as_ref().map(|s| report::AgentsInfo {
            packages: agent_names.iter().map(|s| s.to_string()).collect(),
            source: s.root.display().to_string(),
            source_sha256: s.sha256.clone(),
            feed_commit: feed_commit.clone(),
            gluon_agents: fallbacks.clone(),
        }),
        options: report::Options {
            targets: options.targets.clone(),
            broken: options.broken,
            jobs: options.jobs,
            parallel_targets: options.parallel_targets,
            autoupdater_branch: options.autoupdater_branch.clone(),
            allow_dirty: options.allow_dirty,
            verbose: options.verbose,
        },
        targets: results,
        manifest,
    };
    let mut text =
        serde_json::to_string_pretty(&report).map_err(|e| BuildError::Internal(e.to_string()))?;
    text.push('\n');
    let staged_report = staging.dir.join(report::FILE);
    let io = |path: &Path, e: std::io::Error| BuildError::Io(format!("{}: {e}", path.display()));
    std::fs::write(&staged_report, text).map_err(|e| io(&staged_report, e))?;
    let targets_dir = staging.dir.join(report::TARGETS_DIR);
    std::fs::create_dir_all(&targets_dir).map_err(|e| io(&targets_dir, e))?;
    for t in &report.targets {
        let path = targets_dir.join(format!("{}.json", t.name));
        let file = report::TargetFile {
            schema: report::SCHEMA,
            gluonvpn: report.gluonvpn.clone(),
            release: report.release.clone(),
            target: t.clone(),
        };
        let mut text =
            serde_json::to_string_pretty(&file).map_err(|e| BuildError::Internal(e.to_string()))?;
        text.push('\n');
        // Replace the earlier file instead of writing through a hard link
        // shared with the release directory.
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
    staging.finish()?;
    Ok(Outcome {
        report,
        report_path: release_dir.join(report::FILE),
        release_dir,
    })
}

/// The targets the tree's `make list-targets` prints (with `BROKEN=1`
/// for the broken ones).
fn list_targets(
    tree: &gluon::Tree,
    site_dir: &Path,
    broken: bool,
) -> Result<Vec<String>, BuildError> {
    let mut cmd = std::process::Command::new("make");
    cmd.current_dir(&tree.path)
        .args(["-s", "--no-print-directory", "list-targets"])
        .arg(format!("GLUON_SITEDIR={}", site_dir.display()))
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .stdin(std::process::Stdio::null());
    if broken {
        cmd.arg("BROKEN=1");
    }
    let out = cmd
        .output()
        .map_err(|e| BuildError::Io(format!("cannot run make: {e}")))?;
    if !out.status.success() {
        return Err(BuildError::Usage(format!(
            "`make list-targets` failed in {}: {}",
            tree.path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect())
}

/// `make update` in each tree, after pointing its OpenWrt download
/// directory at the workdir's shared `dl/`.
fn update_trees(
    trees: &[gluon::Tree],
    workdir: &Path,
    site_dir: &Path,
    ui: &Ui,
) -> Result<(), BuildError> {
    let dl = workdir.join("dl");
    std::fs::create_dir_all(&dl).map_err(|e| BuildError::Io(format!("{}: {e}", dl.display())))?;
    for (slot, tree) in trees.iter().enumerate() {
        let openwrt = tree.path.join("openwrt");
        std::fs::create_dir_all(&openwrt)
            .map_err(|e| BuildError::Io(format!("{}: {e}", openwrt.display())))?;
        let link = openwrt.join("dl");
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(&dl, &link)
                .map_err(|e| BuildError::Io(format!("{}: {e}", link.display())))?;
        }
        let name = format!("update-{slot}");
        let log = make::log_path(workdir, &name);
        ui.start(&name, &format!("make update in {}", tree.path.display()));
        let outcome = make::run(
            &make::Run {
                dir: &tree.path,
                args: vec![
                    "update".into(),
                    format!("GLUON_SITEDIR={}", site_dir.display()),
                ],
                jobs: None,
                log: &log,
            },
            |line| {
                if let Some(step) = make::progress_line(line) {
                    ui.step(&name, &step);
                }
            },
        )
        .map_err(|e| BuildError::Io(format!("cannot run make: {e}")))?;
        match outcome {
            make::Outcome::Success => ui.finish(&name, "updated"),
            make::Outcome::Interrupted => {
                ui.finish(&name, "stopped");
                return Err(BuildError::Interrupted);
            }
            make::Outcome::Failed(_) => {
                ui.finish(&name, "failed");
                return Err(BuildError::Update {
                    tree: tree.path.clone(),
                    log: log.clone(),
                    excerpt: make::failure(&log, None).excerpt,
                });
            }
        }
    }
    Ok(())
}

fn worker(shared: &Shared, tree: &gluon::Tree) {
    loop {
        if make::interrupted() {
            return;
        }
        let Some((name, inputs, agents)) = shared.queue.lock().ok().and_then(|mut q| q.pop_front())
        else {
            return;
        };
        let report = build_target(shared, tree, &name, inputs, agents);
        if let Ok(mut results) = shared.results.lock() {
            results.push(report);
        }
    }
}

/// The make variables of a target's build.
fn make_args(options: &Options, site_dir: &Path, target: &str) -> Vec<String> {
    let mut args = vec![
        format!("GLUON_TARGET={target}"),
        format!("GLUON_SITEDIR={}", site_dir.display()),
        format!("GLUON_RELEASE={}", options.release),
    ];
    if let Some(branch) = &options.autoupdater_branch {
        args.push(format!("GLUON_AUTOUPDATER_BRANCH={branch}"));
    }
    if options.broken {
        args.push("BROKEN=1".into());
    }
    // OpenWrt keeps a log per package step in openwrt/logs/ (make's own
    // output names only the failed step).
    args.push("BUILD_LOG=1".into());
    if options.verbose {
        args.push("V=s".into());
    }
    args
}

fn build_target(
    shared: &Shared,
    tree: &gluon::Tree,
    name: &str,
    inputs: String,
    agents: Option<String>,
) -> TargetReport {
    let ui = shared.ui;
    let log = make::log_path(shared.workdir, name);
    let earlier = shared.previous.get(name).filter(|e| !e.images.is_empty());
    let mut report = TargetReport {
        name: name.to_string(),
        status: TargetStatus::Failed,
        inputs_sha256: inputs,
        duration_seconds: None,
        built: None,
        agents,
        log: Some(log.display().to_string()),
        images: Vec::new(),
        packages: None,
        error: None,
    };
    // A target that does not build keeps the images of its last good build
    // (listed with when they were built).
    let keep_earlier = |report: &mut TargetReport| {
        if let Some(e) = earlier {
            report.images = e.images.clone();
            report.packages = e.packages.clone();
            report.built = e.built.clone();
        }
    };
    let output_dir = tree.path.join("output");
    let openwrt_logs = tree.path.join("openwrt/logs");
    if let Err(e) = fsutil::remove_dir(&output_dir).and_then(|()| fsutil::remove_dir(&openwrt_logs))
    {
        report.error = Some(report::ErrorInfo {
            message: format!("cannot clear {}: {e}", output_dir.display()),
            line: None,
            excerpt: Vec::new(),
            download: None,
        });
        keep_earlier(&mut report);
        return report;
    }
    ui.start(
        name,
        &format!(
            "building in {} (log: {})",
            tree.path.display(),
            log.display()
        ),
    );
    let started = Instant::now();
    let outcome = make::run(
        &make::Run {
            dir: &tree.path,
            args: make_args(shared.options, &shared.site_dir, name),
            jobs: shared.jobs.as_ref(),
            log: &log,
        },
        |line| {
            if let Some(step) = make::progress_line(line) {
                ui.step(name, &step);
            }
        },
    );
    let elapsed = started.elapsed();
    report.duration_seconds = Some((elapsed.as_secs_f64() * 10.0).round() / 10.0);
    match outcome {
        Ok(make::Outcome::Success) => {
            let collected = {
                let _guard = shared.staging_lock.lock();
                if let Some(e) = earlier {
                    if let Err(err) = shared.staging.remove_target(e) {
                        ui.note(&format!("{name}: {err}"));
                    }
                }
                shared.staging.collect(&output_dir)
            };
            match collected {
                Ok((images, packages)) => {
                    report.status = TargetStatus::Built;
                    report.built = Some(report::rfc3339(SystemTime::now()));
                    report.images = images;
                    report.packages = packages;
                    ui.finish(
                        name,
                        &format!(
                            "built in {} ({} images)",
                            progress::duration(elapsed),
                            report.images.len()
                        ),
                    );
                }
                Err(e) => {
                    report.error = Some(report::ErrorInfo {
                        message: format!("cannot collect the images: {e}"),
                        line: None,
                        excerpt: Vec::new(),
                        download: None,
                    });
                    ui.finish(name, "failed: cannot collect the images");
                }
            }
        }
        Ok(make::Outcome::Interrupted) => {
            report.status = TargetStatus::Interrupted;
            keep_earlier(&mut report);
            ui.finish(name, "stopped");
        }
        Ok(make::Outcome::Failed(code)) => {
            let failure = make::failure(&log, Some(&openwrt_logs));
            let mut message = match code {
                Some(c) => format!("make exited with status {c}"),
                None => "make was killed".to_string(),
            };
            if let Some(d) = &failure.download {
                message.push_str(&format!(
                    "; the build stopped at the download of {d} (OpenWrt fetches sources \
                     during the build: without network, put them into {})",
                    shared.workdir.join("dl").display()
                ));
            }
            ui.finish(
                name,
                &format!("failed after {}", progress::duration(elapsed)),
            );
            report.error = Some(report::ErrorInfo {
                message,
                line: failure.line,
                excerpt: failure.excerpt,
                download: failure.download,
            });
            keep_earlier(&mut report);
        }
        Err(e) => {
            report.error = Some(report::ErrorInfo {
                message: format!("cannot run make: {e}"),
                line: None,
                excerpt: Vec::new(),
                download: None,
            });
            keep_earlier(&mut report);
            ui.finish(name, "failed: cannot run make");
        }
    }
    report
}

#[allow(clippy::too_many_arguments)]
fn manifest(
    tree: &gluon::Tree,
    workdir: &Path,
    site_dir: &Path,
    staging: &output::Staging,
    options: &Options,
    branch: &str,
    ui: &Ui,
) -> report::ManifestReport {
    let log = make::log_path(workdir, "manifest");
    let images = staging.dir.join("images");
    let _ = std::fs::create_dir_all(images.join("sysupgrade"));
    ui.start("manifest", &format!("make manifest ({branch})"));
    let outcome = make::run(
        &make::Run {
            dir: &tree.path,
            args: vec![
                "manifest".into(),
                format!("GLUON_SITEDIR={}", site_dir.display()),
                format!("GLUON_RELEASE={}", options.release),
                format!("GLUON_AUTOUPDATER_BRANCH={branch}"),
                format!("GLUON_IMAGEDIR={}", images.display()),
            ],
            jobs: None,
            log: &log,
        },
        |_| {},
    );
    let rel = format!("images/sysupgrade/{branch}.manifest");
    let written = matches!(outcome, Ok(make::Outcome::Success)) && staging.dir.join(&rel).is_file();
    ui.finish("manifest", if written { "written" } else { "failed" });
    report::ManifestReport {
        branch: branch.to_string(),
        status: if written { "written" } else { "failed" }.into(),
        path: written.then_some(rel),
        log: Some(log.display().to_string()),
    }
}
