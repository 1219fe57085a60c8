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

/// Runs the build.
pub fn run(options: &Options, ui: &Ui) -> Result<Outcome, BuildError> {
    let started = SystemTime::now();
    check_release(&options.release)?;
    // From here on Ctrl-C (or SIGTERM) stops the build cleanly: running
    // makes are stopped, finished targets reach the output, the report says
    // what happened.
    make::catch_interrupts();
    let build = Build::settle(options, ui, started)?;
    let checkout = build.checkout()?;
    let site = build.prepare_site()?;
    build.check_targets(&checkout.first_tree, &site.dir)?;
    let release_dir = build.out.join(&options.release);
    let plan = build.plan(&checkout, &site, &release_dir);

    let staging = output::Staging::begin(&release_dir)?;
    let trees = match build.prepare_trees(&checkout, &site.dir, plan.queue.len()) {
        Ok(trees) => trees,
        Err(e) => {
            staging.abandon();
            return Err(e);
        }
    };
    let results = build.build_targets(plan, &trees.list, &site.dir, &staging)?;
    // Read once: the manifest and the report's status must agree.
    let interrupted = make::interrupted();
    if interrupted && results.iter().all(|r| r.status != TargetStatus::Built) {
        staging.abandon();
        return Err(BuildError::Interrupted);
    }
    let manifest = build.manifest(&trees, &site.dir, &staging, &results, interrupted);
    let report = build.report(&checkout, &site, results, manifest, interrupted);
    write_report(&report, &staging)?;
    staging.finish()?;
    Ok(Outcome {
        report,
        report_path: release_dir.join(report::FILE),
        release_dir,
    })
}

/// A build's inputs, settled before anything is written: the release's
/// data, absolute paths, and the agents with their source.
struct Build<'a> {
    options: &'a Options,
    ui: &'a Ui,
    started: SystemTime,
    data: &'static gluon_data::GluonData,
    workdir: PathBuf,
    out: PathBuf,
    site_path: PathBuf,
    /// The agents to build; empty when the images keep Gluon's own.
    agents: Vec<&'static feed::Agent>,
    /// Their source, when there are agents to build.
    source: Option<feed::Source>,
}

/// The Gluon checkout a build runs from.
struct Checkout {
    /// The workdir's lock, held until the build ends.
    _lock: Lock,
    /// The repository's cache (`gluon.git`).
    cache: PathBuf,
    commit: git2::Oid,
    /// The tree of slot 0, which also lists the targets and writes the
    /// manifest.
    first_tree: gluon::Tree,
}

impl<'a> Build<'a> {
    /// Looks up the release's data, makes the paths absolute (refusing a
    /// workdir Gluon cannot take) and chooses the agents.
    fn settle(options: &'a Options, ui: &'a Ui, started: SystemTime) -> Result<Self, BuildError> {
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
        let (agents, source) = choose_agents(options, ui)?;
        Ok(Build {
            options,
            ui,
            started,
            data,
            workdir,
            out,
            site_path,
            agents,
            source,
        })
    }

    /// The Gluon tree of a slot (one per target built at a time).
    fn tree_path(&self, slot: usize) -> PathBuf {
        self.workdir.join("trees").join(slot.to_string())
    }

    /// Locks the workdir, brings the Gluon ref into its cache and checks it
    /// out into the first tree.
    fn checkout(&self) -> Result<Checkout, BuildError> {
        let cache = self.workdir.join("gluon.git");
        let (lock, commit) = self.resolve_gluon_ref(&cache)?;
        // The first tree tells whether Gluon has local changes.
        let first_tree =
            gluon::prepare_tree(&cache, &self.tree_path(0), commit, self.options.allow_dirty)?;
        if first_tree.dirty {
            self.ui.note(&format!(
                "building from a Gluon tree with local changes ({})",
                first_tree.path.display()
            ));
        }
        Ok(Checkout {
            _lock: lock,
            cache,
            commit,
            first_tree,
        })
    }

    /// The commit of the Gluon ref, in the cache, with the workdir locked.
    /// A workdir this created is removed again when the ref cannot be
    /// fetched.
    fn resolve_gluon_ref(&self, cache: &Path) -> Result<(Lock, git2::Oid), BuildError> {
        let (options, ui, workdir) = (self.options, self.ui, &self.workdir);
        // The Gluon ref: from the cache when it has the tag or commit, else
        // asked of the repository before anything is written.
        let from_cache = gluon::cached(cache, &options.gluon_ref);
        let probe = match &from_cache {
            Some((probe, _)) => probe.clone(),
            None => gluon::probe(&options.gluon_repo, &options.gluon_ref)?,
        };

        let created_workdir = !workdir.exists();
        std::fs::create_dir_all(workdir)
            .map_err(|e| BuildError::Io(format!("cannot create {}: {e}", workdir.display())))?;
        let lock = Lock::acquire(workdir)?;
        let resolved = match from_cache {
            Some((_, oid)) => Ok(oid),
            None => {
                ui.note(&format!("fetching {}", options.gluon_repo));
                gluon::fetch(cache, &options.gluon_repo)
                    .and_then(|()| gluon::resolve(cache, &probe))
            }
        };
        let commit = match resolved {
            Ok(c) => c,
            Err(e) => {
                if created_workdir {
                    drop(lock);
                    let _ = fsutil::remove_dir(workdir);
                }
                return Err(if make::interrupted() {
                    BuildError::Interrupted
                } else {
                    e
                });
            }
        };
        if make::interrupted() {
            return Err(BuildError::Interrupted);
        }
        Ok((lock, commit))
    }
}

/// The agents to build and their source, as `--agents` and the site ask.
/// Without `--agents` (`Auto`), agents that cannot be built (no Rust in the
/// packages feed, no usable workspace) give way to Gluon's own with a note.
/// Agents named are built even without Rust in the packages feed (a site
/// may pin a newer one), and without a usable workspace the build stops.
fn choose_agents(
    options: &Options,
    ui: &Ui,
) -> Result<(Vec<&'static feed::Agent>, Option<feed::Source>), BuildError> {
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
    Ok((agents, source))
}

/// The site as the build uses it.
struct Site {
    content: site::Content,
    /// The copy with the overlay, in the workdir (Gluon's GLUON_SITEDIR).
    dir: PathBuf,
    /// The agents feed's commit; empty without agents.
    feed_commit: String,
    /// The targets asked for that keep Gluon's own agents, and why.
    fallbacks: Vec<report::Fallback>,
}

/// What becomes of the targets asked for.
struct Plan {
    /// The report entries of the release directory's last build, by target.
    previous: BTreeMap<String, TargetReport>,
    /// The unchanged targets, skipped.
    skipped: Vec<TargetReport>,
    /// The targets to build: name, inputs hash and the report's `agents`.
    queue: VecDeque<(String, String, Option<String>)>,
}

impl Build<'_> {
    /// Reads the site and writes its copy into the workdir, with the
    /// overlay that adds the agents feed (written first) when there are
    /// agents.
    fn prepare_site(&self) -> Result<Site, BuildError> {
        let content = site::read(&self.site_path, &[self.workdir.clone(), self.out.clone()])?;
        let (overlay, fallbacks) = match &self.source {
            Some(source) => {
                let (overlay, fallbacks) = self.write_feed(source)?;
                (Some(overlay), fallbacks)
            }
            None => (None, Vec::new()),
        };
        let dir = self.workdir.join("site");
        site::write(&dir, &content, overlay.as_ref())?;
        Ok(Site {
            content,
            dir,
            feed_commit: overlay.map(|o| o.feed_commit).unwrap_or_default(),
            fallbacks,
        })
    }

    /// Writes the agents feed into the workdir. The overlay that uses it
    /// leaves the agents out on the targets the packages feed's Rust does
    /// not build for; those asked for are noted, as fallbacks.
    fn write_feed(
        &self,
        source: &feed::Source,
    ) -> Result<(site::Overlay, Vec<report::Fallback>), BuildError> {
        let rendered = feed::render(source, &self.agents)?;
        for note in &rendered.notes {
            self.ui.note(note);
        }
        let feed_commit = feed::write(&self.workdir.join("feed"), source, &rendered)?;
        let mut fallbacks = Vec::new();
        let mut excluded = Vec::new();
        for t in &self.data.targets {
            if let RustAgents::Unsupported(reason) =
                gluon_data::arch::rust_agents(&t.board, t.arch.as_ref())
            {
                if self.options.targets.contains(&t.name) {
                    self.ui.note(&format!(
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
        let overlay = site::Overlay {
            version: self.options.version,
            feed_repo: self.workdir.join("feed"),
            feed_commit,
            excluded,
        };
        Ok((overlay, fallbacks))
    }

    /// Refuses targets the tree's `make list-targets` does not have.
    fn check_targets(&self, first_tree: &gluon::Tree, site_dir: &Path) -> Result<(), BuildError> {
        let options = self.options;
        let listed = list_targets(first_tree, site_dir, options.broken)?;
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
        Ok(())
    }

    /// Skips the targets whose inputs are those of their images in the
    /// release directory (unless the Gluon tree is dirty) and queues the
    /// others.
    fn plan(&self, checkout: &Checkout, site: &Site, release_dir: &Path) -> Plan {
        let commit = checkout.commit.to_string();
        let previous = report::previous_targets(release_dir);
        let mut skipped = Vec::new();
        let mut queue = VecDeque::new();
        for name in &self.options.targets {
            let inputs = self.fingerprint(name, &commit, &site.content);
            let earlier = previous.get(name);
            let unchanged = earlier.is_some_and(|e| {
                matches!(e.status, TargetStatus::Built | TargetStatus::Skipped)
                    && e.inputs_sha256 == inputs
                    && output::present(release_dir, e)
            });
            if unchanged && !checkout.first_tree.dirty {
                let e = earlier.expect("checked");
                self.ui.note(&format!("{name}: unchanged, skipped"));
                skipped.push(TargetReport {
                    status: TargetStatus::Skipped,
                    duration_seconds: None,
                    error: None,
                    ..e.clone()
                });
            } else {
                queue.push_back((name.clone(), inputs, self.agents_mode(name, site)));
            }
        }
        Plan {
            previous,
            skipped,
            queue,
        }
    }

    /// The hash of a target's [`Inputs`].
    fn fingerprint(&self, target: &str, commit: &str, content: &site::Content) -> String {
        let options = self.options;
        let inputs = Inputs {
            gluonvpn: env!("CARGO_PKG_VERSION"),
            target,
            gluon_version: options.version.label(),
            gluon_commit: commit,
            site_sha256: &content.sha256,
            site_version: content.repo.as_ref().and_then(|r| r.version.as_deref()),
            agents_sha256: self.source.as_ref().map(|s| s.sha256.as_str()),
            agents: self.agent_names(),
            release: &options.release,
            autoupdater_branch: options.autoupdater_branch.as_deref(),
            broken: options.broken,
        };
        fsutil::sha256_bytes(&serde_json::to_vec(&inputs).unwrap_or_default())
    }

    /// The agents a target's images get: `rust` (gluonvpn's) or `gluon`
    /// (a fallback); none without the agents feed.
    fn agents_mode(&self, target: &str, site: &Site) -> Option<String> {
        self.source.as_ref().map(|_| {
            if site.fallbacks.iter().any(|f| f.target == target) {
                "gluon".to_string()
            } else {
                "rust".to_string()
            }
        })
    }

    /// The agents' OpenWrt packages.
    fn agent_names(&self) -> Vec<&'static str> {
        self.agents.iter().map(|a| a.package).collect()
    }
}

/// The trees the targets build in.
struct Trees {
    /// One per target built at a time, the checkout's first tree first.
    list: Vec<gluon::Tree>,
    /// Whether `make update` ran in them (only when there are targets to
    /// build).
    updated: bool,
}

impl Build<'_> {
    /// When there are targets to build: a tree for each one built at a
    /// time, `make update` in all of them, and the check that the packages
    /// feed has the Rust support the agents feed needs.
    fn prepare_trees(
        &self,
        checkout: &Checkout,
        site_dir: &Path,
        queued: usize,
    ) -> Result<Trees, BuildError> {
        let options = self.options;
        let slots = options.parallel_targets.clamp(1, queued.max(1));
        let mut trees = vec![checkout.first_tree.clone()];
        let updated = queued > 0;
        if updated {
            for slot in 1..slots {
                trees.push(gluon::prepare_tree(
                    &checkout.cache,
                    &self.tree_path(slot),
                    checkout.commit,
                    options.allow_dirty,
                )?);
            }
            if make::interrupted() {
                return Err(BuildError::Interrupted);
            }
            update_trees(&trees, &self.workdir, site_dir, self.ui)?;
            let rust = trees[0].path.join(RUST_PACKAGE_MK);
            if self.source.is_some() && !rust.is_file() {
                return Err(BuildError::Usage(format!(
                    "the agents feed needs the packages feed's Rust support, and {} is missing \
                     after `make update`: build with --agents none, or with a Gluon whose \
                     packages feed has lang/rust (v2023.2 or later)",
                    rust.display()
                )));
            }
        }
        Ok(Trees {
            list: trees,
            updated,
        })
    }

    /// Builds the queued targets, one worker per tree taking them in turn
    /// until the queue is empty or the build is stopped. Returns the report
    /// entries of all targets, in the order asked for.
    fn build_targets(
        &self,
        plan: Plan,
        trees: &[gluon::Tree],
        site_dir: &Path,
        staging: &output::Staging,
    ) -> Result<Vec<TargetReport>, BuildError> {
        let options = self.options;
        // A tree per target built at a time.
        let jobs = split_jobs(options.jobs, trees.len())?;
        let shared = Shared {
            options,
            ui: self.ui,
            workdir: &self.workdir,
            site_dir,
            previous: &plan.previous,
            staging,
            jobs: Some(jobs),
            staging_lock: Mutex::new(()),
            results: Mutex::new(Vec::new()),
            queue: Mutex::new(plan.queue),
        };
        std::thread::scope(|scope| {
            for tree in trees {
                let shared = &shared;
                scope.spawn(move || worker(shared, tree));
            }
        });
        let Shared {
            results: built,
            queue,
            ..
        } = shared;
        let mut results = plan.skipped;
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
        Ok(results)
    }

    /// The autoupdater manifest, when there is an autoupdater branch: not
    /// run after a failed target or a stop.
    fn manifest(
        &self,
        trees: &Trees,
        site_dir: &Path,
        staging: &output::Staging,
        results: &[TargetReport],
        interrupted: bool,
    ) -> Option<report::ManifestReport> {
        let (workdir, ui) = (&self.workdir, self.ui);
        let failed = results.iter().any(|r| r.status == TargetStatus::Failed);
        self.options.autoupdater_branch.as_ref().map(|branch| {
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
            if !trees.updated {
                if let Err(e) = update_trees(&trees.list[..1], workdir, site_dir, ui) {
                    ui.note(&format!("{e}"));
                    return report::ManifestReport {
                        branch: branch.clone(),
                        status: "failed".into(),
                        path: None,
                        log: Some(make::log_path(workdir, "update-0").display().to_string()),
                    };
                }
            }
            self.make_manifest(&trees.list[0], site_dir, staging, branch)
        })
    }

    /// `make manifest` in the tree, over the staged images.
    fn make_manifest(
        &self,
        tree: &gluon::Tree,
        site_dir: &Path,
        staging: &output::Staging,
        branch: &str,
    ) -> report::ManifestReport {
        let (options, ui) = (self.options, self.ui);
        let log = make::log_path(&self.workdir, "manifest");
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
        let written =
            matches!(outcome, Ok(make::Outcome::Success)) && staging.dir.join(&rel).is_file();
        ui.finish("manifest", if written { "written" } else { "failed" });
        report::ManifestReport {
            branch: branch.to_string(),
            status: if written { "written" } else { "failed" }.into(),
            path: written.then_some(rel),
            log: Some(log.display().to_string()),
        }
    }

    /// The build's report.
    fn report(
        &self,
        checkout: &Checkout,
        site: &Site,
        results: Vec<TargetReport>,
        manifest: Option<report::ManifestReport>,
        interrupted: bool,
    ) -> Report {
        let options = self.options;
        let failed = results.iter().any(|r| r.status == TargetStatus::Failed);
        let manifest_failed = manifest.as_ref().is_some_and(|m| m.status == "failed");
        let status = if interrupted {
            RunStatus::Interrupted
        } else if failed || manifest_failed {
            RunStatus::Failed
        } else {
            RunStatus::Complete
        };
        let content = &site.content;
        Report {
            schema: report::SCHEMA,
            gluonvpn: env!("CARGO_PKG_VERSION").to_string(),
            status,
            started: report::rfc3339(self.started),
            finished: report::rfc3339(SystemTime::now()),
            release: options.release.clone(),
            gluon: report::GluonInfo {
                repository: options.gluon_repo.clone(),
                reference: options.gluon_ref.clone(),
                commit: checkout.commit.to_string(),
                describe: checkout.first_tree.describe.clone(),
                version: options.version.label().to_string(),
                dirty: checkout.first_tree.dirty,
            },
            site: report::SiteInfo {
                path: self.site_path.display().to_string(),
                commit: content.repo.as_ref().map(|r| r.commit.clone()),
                dirty: content.repo.as_ref().map(|r| r.dirty),
                content_sha256: content.sha256.clone(),
            },
            agents: self.source.as_ref().map(|s| report::AgentsInfo {
                packages: self.agent_names().iter().map(|s| s.to_string()).collect(),
                source: s.root.display().to_string(),
                source_sha256: s.sha256.clone(),
                feed_commit: site.feed_commit.clone(),
                gluon_agents: site.fallbacks.clone(),
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
        }
    }
}

/// How `--jobs` is shared by the makes that run at once: a jobserver has
/// the jobs beyond the one each make has of its own (or each gets `-j1`
/// when there are no more); a single make gets them all.
fn split_jobs(jobs: usize, slots: usize) -> Result<make::Jobs, BuildError> {
    Ok(if slots > 1 && jobs > slots {
        make::Jobs::Shared(
            jobserver::Client::new(jobs - slots)
                .map_err(|e| BuildError::Io(format!("cannot create a jobserver: {e}")))?,
        )
    } else if slots > 1 {
        make::Jobs::Flag(1)
    } else {
        make::Jobs::Flag(jobs.max(1))
    })
}

/// Writes the report, and a file per target, into the staging directory.
fn write_report(report: &Report, staging: &output::Staging) -> Result<(), BuildError> {
    let mut text =
        serde_json::to_string_pretty(report).map_err(|e| BuildError::Internal(e.to_string()))?;
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
    Ok(())
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

/// What the workers of a build share.
struct Shared<'a> {
    options: &'a Options,
    ui: &'a Ui,
    workdir: &'a Path,
    site_dir: &'a Path,
    previous: &'a BTreeMap<String, TargetReport>,
    staging: &'a output::Staging,
    jobs: Option<make::Jobs>,
    /// Held while a target's files go into the staging directory.
    staging_lock: Mutex<()>,
    results: Mutex<Vec<TargetReport>>,
    queue: Mutex<VecDeque<(String, String, Option<String>)>>,
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
            args: make_args(shared.options, shared.site_dir, name),
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
