//! Loading a site directory the way Gluon's build does, up to the point
//! where the package checks run.

use super::codes;
use super::config;
use super::image_customization::{DeviceView, ImageCustomization, Selection};
use super::lua::{self, Limits, Sandbox};
use super::packages::{self, Image, SelectionInput, Unresolved};
use super::site_mk::{self, Evaluation, MakeOptions, TargetEnv};
use super::value::Node;
use crate::diagnostics::Diagnostic;
use crate::gluon_data::{self, GluonData, Target};
use crate::gluon_version::GluonVersion;
use crate::input::{self, caps, Within};
use crate::source::{FileId, SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub version: GluonVersion,
    /// Only this target (`--target`); all targets Gluon lists otherwise.
    pub target: Option<String>,
    /// Include targets and devices marked broken (Gluon's BROKEN=1).
    pub include_broken: bool,
    pub limits: Limits,
    /// Shared with a watchdog that gives up on an evaluation that hangs in a
    /// single C call (see [`lua::Watch`]).
    pub watch: Option<std::sync::Arc<lua::Watch>>,
    /// How make runs on site.mk (`--untrusted`, its limits).
    pub make: MakeOptions,
}

impl LoadOptions {
    pub fn new(version: GluonVersion) -> LoadOptions {
        LoadOptions {
            version,
            target: None,
            include_broken: false,
            limits: Limits::default(),
            watch: None,
            make: MakeOptions::default(),
        }
    }
}

/// Why a site could not be loaded at all (as opposed to problems in it).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}: no such site directory")]
    NoSuchDirectory(PathBuf),
    #[error("{0}: not a site directory or site.conf")]
    NotASite(PathBuf),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown target '{target}' for Gluon {version}; `gluonvpn targets --gluon-version {version}` lists them")]
    UnknownTarget {
        target: String,
        version: GluonVersion,
    },
    #[error("no Gluon data for {0}")]
    NoData(GluonVersion),
    #[error("cannot start the Lua sandbox: {0}")]
    Lua(String),
    #[error(transparent)]
    Make(#[from] site_mk::RunError),
}

/// One domain file.
#[derive(Debug)]
pub struct DomainFile {
    pub code: String,
    pub file: FileId,
    /// `None` when the file failed to evaluate (a diagnostic says why).
    pub config: Option<Node>,
}

/// A loaded site.
#[derive(Debug)]
pub struct Site {
    pub dir: PathBuf,
    pub version: GluonVersion,
    pub sources: SourceMap,
    pub site_file: Option<FileId>,
    /// site.conf as evaluated; `None` when missing or broken.
    pub site_conf: Option<Node>,
    pub site_mk_file: Option<FileId>,
    pub site_mk: Option<Evaluation>,
    pub multidomain: bool,
    /// Domain files in code order (only for multidomain sites).
    pub domains: Vec<DomainFile>,
    /// Every name a domain is installed under: codes and aliases, with the
    /// code each belongs to.
    pub domain_names: BTreeMap<String, String>,
    /// The images Gluon would build.
    pub images: Vec<Image>,
    /// Whether `images` come from the site's own selection or are the
    /// defaults (the selection could not be evaluated).
    pub default_selection: bool,
    /// The site's own feeds (GLUON_SITE_FEEDS in `modules`).
    pub site_feeds: Vec<String>,
    /// Problems found while loading.
    pub diagnostics: Vec<Diagnostic>,
}

impl Site {
    /// The code of the domain a name stands for, as `gluon.core.domain` reads
    /// a node's configured domain: a domain code, or one of the names in
    /// some domain's `domain_names`. `None` when no domain has that name.
    pub fn domain_code(&self, name: &str) -> Option<&str> {
        self.domain_names.get(name).map(String::as_str).or_else(|| {
            self.domains
                .iter()
                .find(|d| d.code == name)
                .map(|d| d.code.as_str())
        })
    }
}

/// Resolves the PATH argument: a site directory, or a site.conf in one.
pub fn site_dir(path: &Path) -> Result<PathBuf, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NoSuchDirectory(path.to_path_buf()),
        _ => LoadError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    if meta.is_dir() {
        return Ok(path.to_path_buf());
    }
    if path.file_name().is_some_and(|n| n == "site.conf") {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return Ok(parent.to_path_buf());
    }
    Err(LoadError::NotASite(path.to_path_buf()))
}

/// A file of the site, as read.
enum SiteFile {
    Read(String),
    Missing,
    /// Not a regular file inside the site, or too large: a GS007 says so.
    Refused,
}

impl SiteFile {
    fn text(self) -> Option<String> {
        match self {
            SiteFile::Read(text) => Some(text),
            _ => None,
        }
    }
}

/// Reads a file of the site (`name` relative to it, as messages name it)
/// through [`input::read_text`]: a refusal is a GS007 in `diagnostics`.
fn read_site_file(dir: &Path, name: &str, cap: u64, diagnostics: &mut Vec<Diagnostic>) -> SiteFile {
    match input::read_text(&dir.join(name), Within::Directory(dir), cap) {
        Ok(text) => SiteFile::Read(text),
        Err(e) if e.is_missing() => SiteFile::Missing,
        Err(e) => {
            diagnostics.push(refused(name, &e));
            SiteFile::Refused
        }
    }
}

/// GS007 for a site file gluonvpn does not read.
fn refused(name: &str, error: &input::ReadError) -> Diagnostic {
    Diagnostic::new(codes::FILE_REFUSED, format!("`{name}` {error}"), None)
}

/// Gluon's `istrue`: a number greater than zero.
fn istrue(value: Option<&str>) -> bool {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .is_some_and(|n| n > 0.0)
}

/// The targets to consider, as Gluon's `make list-targets` gives them.
pub fn targets<'d>(
    data: &'d GluonData,
    version: GluonVersion,
    options: &LoadOptions,
) -> Result<Vec<&'d Target>, LoadError> {
    match &options.target {
        Some(name) => data
            .target(name)
            .map(|t| vec![t])
            .ok_or_else(|| LoadError::UnknownTarget {
                target: name.clone(),
                version,
            }),
        None => Ok(data
            .targets
            .iter()
            .filter(|t| options.include_broken || !t.broken)
            .collect()),
    }
}

/// GLUON_SITE_FEEDS from the site's `modules` (a shell fragment).
fn site_feeds(modules: &str) -> Vec<String> {
    modules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("GLUON_SITE_FEEDS="))
        .next_back()
        .map(|value| {
            value
                .trim_matches(|c| c == '\'' || c == '"')
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The stack of the thread a site is loaded on. Everything that recurses
/// while loading is bounded by a constant, none by the input: Lua 5.1's
/// parser (200 syntax levels) and nested C calls (200, e.g. `gsub` with a
/// function that calls `gsub`, each holding an 8 KiB buffer; `include` in
/// image-customization.lua), the pattern matcher (gluonvpn's
/// [`lua::MAX_PATTERN_ITEMS`]) and the conversion (64 levels of tables).
/// The deepest, 197 nested `gsub` calls, needs 2.1 MiB in a debug build
/// (more than the 2 MiB of a default Rust thread), `include` at its limit
/// 1.7 MiB, the rest far less; `tests/lua_limits.rs` runs them. The
/// thread's own stack makes that independent of the caller's.
pub const LOAD_STACK_SIZE: usize = 32 << 20;

/// Loads the site at `path` (a site directory or its site.conf), on a
/// thread of its own with a stack of [`LOAD_STACK_SIZE`].
pub fn load(path: &Path, options: &LoadOptions) -> Result<Site, LoadError> {
    let mut sites = load_releases(path, options, &[options.version])?;
    sites
        .pop()
        .ok_or_else(|| LoadError::Lua("no release to load the site for".into()))
}

/// Loads the site for each of `versions` (`options.version` is not used),
/// sharing what does not depend on the release: the files are read and
/// site.conf and the domains evaluated once, and make evaluates site.mk once
/// per distinct list of targets it must see — once for all releases when
/// site.mk never looks at the target. image-customization.lua and the package
/// selection are the release's own.
pub fn load_releases(
    path: &Path,
    options: &LoadOptions,
    versions: &[GluonVersion],
) -> Result<Vec<Site>, LoadError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("gluonvpn-lua".into())
            .stack_size(LOAD_STACK_SIZE)
            .spawn_scoped(scope, || load_here(path, options, versions))
            .map_err(|e| LoadError::Lua(format!("cannot start a thread: {e}")))?
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// How make must evaluate site.mk for one release.
struct MakePlan {
    version: GluonVersion,
    /// The targets site.mk is evaluated for, besides once without one;
    /// empty when its values cannot depend on the target.
    envs: Vec<TargetEnv>,
}

impl MakePlan {
    fn new(version: GluonVersion, text: &str, targets: &[&Target]) -> MakePlan {
        // Per-target values matter for the package selection up to v2023.1;
        // later only for spotting GLUON_FEATURES/GLUON_SITE_PACKAGES set
        // under a target condition.
        let per_target = site_mk::mentions_target(&[text])
            && (version < GluonVersion::V2023_2
                || ["GLUON_FEATURES", "GLUON_SITE_PACKAGES"]
                    .iter()
                    .any(|v| text.contains(v)));
        let envs = if per_target {
            targets
                .iter()
                .map(|t| TargetEnv {
                    name: t.name.clone(),
                    board: t.board.clone(),
                    subtarget: t.subtarget.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        MakePlan { version, envs }
    }
}

/// The releases a load is for, each with its data and targets.
type ReleaseTargets<'d> = Vec<(GluonVersion, &'d GluonData, Vec<&'d Target>)>;

/// Each release with its data and targets (`Err` for a release gluonvpn has
/// no data for, or a `--target` it does not build).
fn release_targets(
    versions: &[GluonVersion],
    options: &LoadOptions,
) -> Result<ReleaseTargets<'static>, LoadError> {
    versions
        .iter()
        .map(|&version| {
            let data = gluon_data::embedded(version.label()).ok_or(LoadError::NoData(version))?;
            let targets = targets(data, version, options)?;
            Ok((version, data, targets))
        })
        .collect()
}

fn new_sandbox(options: &LoadOptions) -> Result<Sandbox, LoadError> {
    let sandbox = Sandbox::new(options.limits).map_err(|e| LoadError::Lua(e.to_string()))?;
    Ok(match &options.watch {
        Some(watch) => sandbox.watched_by(std::sync::Arc::clone(watch)),
        None => sandbox,
    })
}

fn joined<R>(handle: std::thread::ScopedJoinHandle<'_, R>) -> R {
    handle
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Work on another thread, or its result.
enum Pending<'scope, R> {
    Running(std::thread::ScopedJoinHandle<'scope, R>),
    Done(R),
}

impl<R> Pending<'_, R> {
    fn wait(self) -> R {
        match self {
            Pending::Running(handle) => joined(handle),
            Pending::Done(result) => result,
        }
    }
}

fn load_here(
    path: &Path,
    options: &LoadOptions,
    versions: &[GluonVersion],
) -> Result<Vec<Site>, LoadError> {
    let dir = site_dir(path)?;
    let first = versions.first().copied().unwrap_or(options.version);
    let sandbox = new_sandbox(options)?;

    // What every release shares: the files as read.
    let mut base = Site::unloaded(dir.clone(), first);

    // Read every file first, so that make can run on another thread while
    // Lua evaluates.
    let site_conf_path = dir.join("site.conf");
    let diagnostics = &mut base.diagnostics;
    let site_conf_text = read_site_file(&dir, "site.conf", caps::LUA_CONFIG, diagnostics);
    if let Some(text) = read_site_file(&dir, "modules", caps::SITE_FILE, diagnostics).text() {
        base.site_feeds = site_feeds(&text);
    }
    let site_mk_path = dir.join("site.mk");
    let site_mk_text = read_site_file(&dir, "site.mk", caps::SITE_FILE, diagnostics);
    let domain_texts = read_domain_files(&dir, diagnostics)?;

    let mut config_files: Vec<FileId> = Vec::new();
    match site_conf_text {
        SiteFile::Read(text) => {
            let file = base.sources.add("site.conf".into(), site_conf_path, text);
            base.site_file = Some(file);
            config_files.push(file);
        }
        SiteFile::Missing => base.diagnostics.push(Diagnostic::new(
            codes::MISSING_FILE,
            format!("{} has no site.conf", dir.display()),
            None,
        )),
        SiteFile::Refused => {}
    }
    let site_mk_refused = matches!(site_mk_text, SiteFile::Refused);
    let site_mk_text = site_mk_text.text();
    let mut domain_files = Vec::new();
    for (code, path, text) in domain_texts {
        let file = base.sources.add(format!("domains/{code}.conf"), path, text);
        domain_files.push((code, file));
        config_files.push(file);
    }
    let site_mk_file =
        site_mk_text.map(|text| base.sources.add("site.mk".into(), site_mk_path, text));

    let abs = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let site_mk = site_mk_file.map(|file| base.sources.get(file).text.as_str());
    let (releases, nodes, make_outcomes) = std::thread::scope(|scope| {
        // The releases' data is parsed while the files are evaluated. make
        // needs the targets only where site.mk can see the target; else it
        // starts at once.
        let mut data = Pending::Running(scope.spawn(|| release_targets(versions, options)));
        if site_mk.is_some_and(|text| site_mk::mentions_target(&[text])) {
            data = Pending::Done(data.wait());
        }
        let make = site_mk.and_then(|text| {
            let plans: Vec<MakePlan> = match &data {
                Pending::Done(Ok(releases)) => releases
                    .iter()
                    .map(|(version, _, targets)| MakePlan::new(*version, text, targets))
                    .collect(),
                // The load fails for that.
                Pending::Done(Err(_)) => return None,
                Pending::Running(_) => versions
                    .iter()
                    .map(|&version| MakePlan::new(version, text, &[]))
                    .collect(),
            };
            let abs = &abs;
            Some(scope.spawn(move || evaluate_site_mk(abs, text, &plans, &options.make)))
        });
        // One file at a time, evaluated and converted before the next: a
        // Lua value held on the Rust side takes one of mlua's few thousand
        // reference slots, so thousands of domains must not wait side by
        // side for their conversion.
        let nodes: Vec<Result<Node, Box<Diagnostic>>> = config_files
            .iter()
            .map(|&f| config::evaluate(&sandbox, &base.sources, f))
            .collect();
        let releases = data.wait();
        let make_outcomes = make.map(joined);
        (releases, nodes, make_outcomes)
    });
    let releases = releases?;
    let mut make_outcomes = match make_outcomes {
        Some(outcomes) => outcomes?.into_iter().map(Some).collect(),
        None => vec![None; releases.len()],
    };

    // Each release's own load, half of them on another thread.
    let items: Vec<_> = releases.into_iter().zip(make_outcomes.drain(..)).collect();
    let (base, nodes, domain_files) = (&base, &nodes, &domain_files);
    let mut here = Ok(sandbox);
    let sites = crate::parallel::on_two_threads(
        items,
        LOAD_STACK_SIZE,
        &mut here,
        || new_sandbox(options).map_err(|e| e.to_string()),
        |sandbox: &mut Result<Sandbox, String>, ((version, data, targets), make_outcome)| {
            let sandbox = sandbox.as_ref().map_err(|e| LoadError::Lua(e.clone()))?;
            let shared = Shared {
                nodes: nodes.clone(),
                domain_files: domain_files.clone(),
                site_mk_file,
                make_outcome,
                site_mk_refused,
            };
            load_release(base.fork(version), shared, data, &targets, sandbox, options)
        },
    );
    sites.into_iter().collect()
}

/// What one release's load starts from: the evaluated files.
struct Shared {
    /// site.conf's (if read) and then each domain file's evaluation.
    nodes: Vec<Result<Node, Box<Diagnostic>>>,
    domain_files: Vec<(String, FileId)>,
    site_mk_file: Option<FileId>,
    make_outcome: Option<site_mk::Outcome>,
    site_mk_refused: bool,
}

/// The rest of a load, for one release.
fn load_release(
    mut site: Site,
    shared: Shared,
    data: &GluonData,
    targets: &[&Target],
    sandbox: &Sandbox,
    options: &LoadOptions,
) -> Result<Site, LoadError> {
    let version = site.version;
    let dir = site.dir.clone();
    let Shared {
        mut nodes,
        domain_files,
        site_mk_file,
        make_outcome,
        site_mk_refused,
    } = shared;

    // site.conf
    if site.site_file.is_some() {
        match nodes.remove(0) {
            Ok(node) => site.site_conf = Some(node),
            Err(d) => site.diagnostics.push(*d),
        }
    }

    // site.mk
    match (site_mk_file, make_outcome) {
        (Some(file), Some(outcome)) => {
            site.site_mk_file = Some(file);
            if let Some(error) = &outcome.error {
                let span = error.location.as_ref().and_then(|(path, line)| {
                    let id = locate_make_file(&mut site.sources, &dir, path)?;
                    Some(site.sources.get(id).line_span(id, *line))
                });
                let diagnostic = match error.kind {
                    site_mk::ErrorKind::Make => Diagnostic::new(
                        codes::SITE_MK,
                        error.message.clone(),
                        span.or(Some(Span::file_start(file))),
                    )
                    .with_gluon_message(error.raw.clone()),
                    site_mk::ErrorKind::Stopped => Diagnostic::new(
                        codes::SITE_MK_STOPPED,
                        error.message.clone(),
                        span.or(Some(Span::file_start(file))),
                    ),
                };
                site.diagnostics.push(diagnostic);
            }
            report_skipped_shells(&mut site, &dir, file, &outcome.skipped_shells);
            // make reads all of site.mk before it fails on a missing include,
            // so the variables are there unless parsing itself stopped.
            if outcome.error.is_none() || outcome.evaluation.global != Default::default() {
                site.site_mk = Some(outcome.evaluation);
            }
        }
        _ if site_mk_refused => {}
        _ => site.diagnostics.push(
            Diagnostic::new(
                codes::MISSING_FILE,
                format!("{} has no site.mk", dir.display()),
                None,
            )
            .with_gluon_message(format!(
                "No site configuration was found. Please check out a site configuration to {}",
                dir.display()
            )),
        ),
    }
    build_variable_checks(&mut site);

    // Domains
    let global = site
        .site_mk
        .as_ref()
        .map(|e| e.global.clone())
        .unwrap_or_default();
    site.multidomain = match &site.site_mk {
        Some(_) => istrue(global.get("GLUON_MULTIDOMAIN")),
        // site.mk failed: go by the files.
        None => dir.join("domains").is_dir(),
    };
    if site.multidomain {
        for ((code, file), node) in domain_files.into_iter().zip(nodes) {
            let config = match node {
                Ok(node) => Some(node),
                Err(d) => {
                    site.diagnostics.push(*d);
                    None
                }
            };
            site.domains.push(DomainFile { code, file, config });
        }
        if site.domains.is_empty() {
            site.diagnostics.push(
                Diagnostic::new(
                    codes::NO_DOMAINS,
                    "GLUON_MULTIDOMAIN is set, but domains/ holds no *.conf files",
                    site.site_mk_file.map(Span::file_start),
                )
                .with_gluon_message("site error: no domain configurations found"),
            );
        }
        install_domain_names(&mut site);
    }

    // Package selection
    let customization = if version >= GluonVersion::V2023_2 {
        load_customization(&mut site, sandbox, targets)?
    } else {
        None
    };
    let empty = Evaluation::default();
    let evaluation = site.site_mk.as_ref().unwrap_or(&empty);
    let selection_usable =
        site.site_mk.is_some() && (version < GluonVersion::V2023_2 || customization.is_some());
    let (images, unresolved) = packages::select(&SelectionInput {
        version,
        data,
        targets,
        site_mk: evaluation,
        customization: customization.as_deref(),
        include_broken: options.include_broken,
    });
    if selection_usable {
        site.images = images;
        site.default_selection = false;
        report_unresolved(&mut site, &unresolved);
    } else {
        let packages = packages::default_packages(data, targets);
        site.images = vec![Image {
            target: String::new(),
            device: String::new(),
            class: "standard".into(),
            packages: std::sync::Arc::new(packages),
            site_selection: Default::default(),
        }];
    }
    Ok(site)
}

/// Runs make on site.mk for each release's plan, sharing rounds between
/// releases: a target's round gives the same whatever other targets make
/// evaluates in its run (site.mk's variables are cleared between rounds), so
/// the releases up to v2023.1 that need per-target values get one run over
/// all their targets, and every release takes the rounds of its own targets
/// from it. A run that fails is not shared (make stops at the first error,
/// and which rounds it reached depends on the targets): each release then
/// gets a run of its own, as when it is loaded alone. With `--untrusted`,
/// where what make reports includes the `$(shell …)` calls it skipped (per
/// run, not per round), runs are shared only between equal target lists.
///
/// From v2023.2 on the per-target values only matter when no obsolete
/// feature or package variable is set already without a target (then the
/// verdict is known).
fn evaluate_site_mk(
    dir: &Path,
    text: &str,
    plans: &[MakePlan],
    options: &MakeOptions,
) -> Result<Vec<site_mk::Outcome>, site_mk::RunError> {
    type Key = Vec<(String, String, String)>;
    fn key(envs: &[TargetEnv]) -> Key {
        envs.iter()
            .map(|e| (e.name.clone(), e.board.clone(), e.subtarget.clone()))
            .collect()
    }
    let mut runs: Vec<(Key, site_mk::Outcome)> = Vec::new();
    let mut run = |envs: &[TargetEnv]| -> Result<site_mk::Outcome, site_mk::RunError> {
        let key = key(envs);
        if let Some((_, outcome)) = runs.iter().find(|(k, _)| *k == key) {
            return Ok(outcome.clone());
        }
        let outcome = site_mk::evaluate_distinct(dir, text, envs, options)?;
        runs.push((key, outcome.clone()));
        Ok(outcome)
    };
    // The shared run: every target some release up to v2023.1 needs.
    let mut union: Vec<TargetEnv> = Vec::new();
    for plan in plans.iter().filter(|p| p.version < GluonVersion::V2023_2) {
        for env in &plan.envs {
            if !union.iter().any(|u| u.name == env.name) {
                union.push(env.clone());
            }
        }
    }
    let shared = if options.untrusted {
        None
    } else {
        Some(run(&union)?).filter(|o| o.error.is_none())
    };
    // The rounds of `envs` from the shared run, if it has them all.
    let from_shared = |envs: &[TargetEnv]| {
        let shared = shared.as_ref()?;
        let mut outcome = shared.clone();
        let wanted: BTreeSet<&str> = envs.iter().map(|e| e.name.as_str()).collect();
        let all_there = envs.iter().all(|e| {
            union
                .iter()
                .any(|u| u.name == e.name && u.board == e.board && u.subtarget == e.subtarget)
        });
        if !all_there {
            return None;
        }
        outcome
            .evaluation
            .per_target
            .retain(|name, _| wanted.contains(name.as_str()));
        Some(outcome)
    };
    let mut outcomes = Vec::with_capacity(plans.len());
    for plan in plans {
        if plan.version < GluonVersion::V2023_2 || plan.envs.is_empty() {
            let outcome = match from_shared(&plan.envs) {
                Some(outcome) => outcome,
                None => run(&plan.envs)?,
            };
            outcomes.push(outcome);
            continue;
        }
        let global = match from_shared(&[]) {
            Some(outcome) => outcome,
            None => run(&[])?,
        };
        let obsolete_set = site_mk::FEATURE_VARIABLES.iter().any(|name| {
            global
                .evaluation
                .global
                .get(name)
                .is_some_and(|v| !v.trim().is_empty())
        });
        if global.error.is_some() || obsolete_set {
            outcomes.push(global);
            continue;
        }
        let mut outcome = match from_shared(&plan.envs) {
            Some(outcome) => outcome,
            None => run(&plan.envs)?,
        };
        outcome.skipped_shells.extend(global.skipped_shells);
        outcome.skipped_shells.sort();
        outcome.skipped_shells.dedup();
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Notes each `$(shell …)` that `--untrusted` did not run, once per place:
/// where make was reading, or for a variable gluonvpn expanded after site.mk
/// was read, the line that assigns it (or the first line that mentions
/// `shell`).
fn report_skipped_shells(
    site: &mut Site,
    dir: &Path,
    site_mk: FileId,
    skipped: &[site_mk::SkippedShell],
) {
    let mut seen = BTreeSet::new();
    for shell in skipped {
        let text = &site.sources.get(site_mk).text;
        let (span, via) = match (&shell.location, &shell.variable) {
            (Some((path, line)), _) => (
                locate_make_file(&mut site.sources, dir, path)
                    .map(|id| site.sources.get(id).line_span(id, *line)),
                None,
            ),
            (None, variable) => {
                let line = variable
                    .as_deref()
                    .and_then(|v| site_mk::assignment_line(text, v))
                    .or_else(|| {
                        text.lines()
                            .position(|l| l.contains("shell") || l.contains("!="))
                            .map(|i| i + 1)
                    });
                (
                    line.map(|l| site.sources.get(site_mk).line_span(site_mk, l)),
                    variable.clone(),
                )
            }
        };
        let span = span.unwrap_or(Span::file_start(site_mk));
        if !seen.insert((span.file, span.start)) {
            continue;
        }
        let mut diagnostic = Diagnostic::new(
            codes::SITE_MK_SHELL_SKIPPED,
            "$(shell …) not run (--untrusted): it expands to nothing here",
            Some(span),
        );
        if let Some(variable) = via {
            diagnostic = diagnostic.with_note(format!(
                "make expanded it when gluonvpn read {variable}, after site.mk was read"
            ));
        }
        site.diagnostics.push(diagnostic);
    }
}

/// Maps a file make named (relative to the site) to a source file, reading
/// it if needed.
fn locate_make_file(sources: &mut SourceMap, dir: &Path, relative: &Path) -> Option<FileId> {
    if relative.is_absolute() {
        return None;
    }
    let name = relative.display().to_string();
    if let Some(id) = sources.find_name(&name) {
        return Some(id);
    }
    let full = dir.join(relative);
    let text = input::read_text(&full, Within::Directory(dir), caps::SITE_FILE).ok()?;
    Some(sources.add(name, full, text))
}

/// Checks Gluon's Makefile makes on the site.mk variables.
fn build_variable_checks(site: &mut Site) {
    let (Some(evaluation), Some(file)) = (&site.site_mk, site.site_mk_file) else {
        return;
    };
    let text = site.sources.get(file).text.clone();
    let mut diagnostics = Vec::new();
    let defined_anywhere = |name: &str| {
        std::iter::once(&evaluation.global)
            .chain(evaluation.per_target.values())
            .any(|vars| vars.get(name).is_some_and(|v| !v.trim().is_empty()))
    };
    if site.version >= GluonVersion::V2023_2 {
        for family in ["GLUON_FEATURES", "GLUON_SITE_PACKAGES"] {
            let set: Vec<&str> = site_mk::FEATURE_VARIABLES
                .iter()
                .copied()
                .filter(|name| name.starts_with(family) && defined_anywhere(name))
                .collect();
            if set.is_empty() {
                continue;
            }
            let line = set
                .iter()
                .find_map(|name| site_mk::assignment_line(&text, name));
            let span = line.map_or(Span::file_start(file), |l| {
                site.sources.get(file).line_span(file, l)
            });
            let gluon = if site.version >= GluonVersion::V2025_1 {
                format!("{family} is obsolete, please use the image-customization.lua file instead")
            } else {
                format!("*** Warning: {family} has been obsolete, please use the image-customization.lua file instead.")
            };
            diagnostics.push(
                Diagnostic::new(
                    codes::OBSOLETE_SITE_MK_VAR,
                    format!(
                        "{family} is obsolete, please use the image-customization.lua file instead"
                    ),
                    Some(span),
                )
                .with_path(set.join(", "))
                .with_gluon_message(gluon),
            );
        }
    }
    if !evaluation.global.is_defined("GLUON_RELEASE") {
        diagnostics.push(
            Diagnostic::new(
                codes::RELEASE_NOT_SET,
                "GLUON_RELEASE is not set in site.mk; the build needs it on make's command line",
                Some(Span::file_start(file)),
            )
            .with_gluon_message(
                "GLUON_RELEASE not set. GLUON_RELEASE can be set in site.mk or on the command line",
            ),
        );
    }
    site.diagnostics.extend(diagnostics);
}

/// The `domains/*.conf` files in code order, read.
fn read_domain_files(
    dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<(String, PathBuf, String)>, LoadError> {
    let domains_dir = dir.join("domains");
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&domains_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect(),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Vec::new()
        }
        Err(e) => {
            return Err(LoadError::Io {
                path: domains_dir,
                source: e,
            })
        }
    };
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let Some(code) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let name = format!("domains/{code}.conf");
        if let Some(text) = read_site_file(dir, &name, caps::LUA_CONFIG, diagnostics).text() {
            files.push((code, path, text));
        }
    }
    Ok(files)
}

/// Installs every domain as `<code>.json` and its `domain_names` keys as
/// aliases, as the gluon-site package does, reporting names taken twice.
fn install_domain_names(site: &mut Site) {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    for domain in &site.domains {
        if let Some(owner) = names.get(&domain.code) {
            diagnostics.push(
                Diagnostic::new(
                    codes::DOMAIN_NAME_CONFLICT,
                    format!(
                        "Failed to install domain '{}', name already taken by domain '{owner}'.",
                        domain.code
                    ),
                    Some(Span::file_start(domain.file)),
                )
                .with_note(format!(
                    "domains/{owner}.conf names '{}' in its domain_names; this file is not installed, so its checks do not run",
                    domain.code
                ))
                .with_gluon_message(format!(
                    "Error: Failed to install domain '{}', name already taken by domain '{owner}'.",
                    domain.code
                )),
            );
            continue;
        }
        names.insert(domain.code.clone(), domain.code.clone());
        let Some(aliases) = domain
            .config
            .as_ref()
            .and_then(|c| c.get_name("domain_names"))
        else {
            continue;
        };
        for (key, node) in aliases.entries() {
            let alias = key.to_string();
            if alias == domain.code {
                continue;
            }
            if let Some(owner) = names.get(&alias) {
                let message = format!(
                    "Failed to alias domain '{}' as '{alias}', name already taken by domain '{owner}'.",
                    domain.code
                );
                diagnostics.push(
                    Diagnostic::new(codes::DOMAIN_NAME_CONFLICT, message.clone(), node.key_span)
                        .with_path(format!("domain_names.{alias}"))
                        .with_gluon_message(format!("Error: {message}")),
                );
                continue;
            }
            names.insert(alias, domain.code.clone());
        }
    }
    site.domain_names = names;
    site.diagnostics.extend(diagnostics);
}

/// Evaluates image-customization.lua for every device of every target.
/// `Ok(None)` when it is missing or fails (a diagnostic says why).
fn load_customization(
    site: &mut Site,
    sandbox: &Sandbox,
    targets: &[&Target],
) -> Result<Option<Vec<Vec<Selection>>>, LoadError> {
    let path = site.dir.join("image-customization.lua");
    let name = "image-customization.lua";
    let text = match read_site_file(&site.dir, name, caps::SITE_FILE, &mut site.diagnostics) {
        SiteFile::Read(text) => Some(text),
        SiteFile::Refused => return Ok(None),
        SiteFile::Missing => None,
    };
    let Some(text) = text else {
        let line = if site.version >= GluonVersion::V2025_1 {
            142
        } else {
            106
        };
        site.diagnostics.push(
            Diagnostic::new(
                codes::MISSING_IMAGE_CUSTOMIZATION,
                format!("{} has no image-customization.lua, which Gluon requires from v2023.2 on", site.dir.display()),
                None,
            )
            .with_gluon_message(format!(
                "scripts/image_customization_lib.lua:{line}: cannot open image-customization.lua: No such file or directory"
            )),
        );
        return Ok(None);
    };
    let file = site
        .sources
        .add("image-customization.lua".into(), path, text);
    let customization =
        match ImageCustomization::new(sandbox, &site.sources, file, &site.dir, site.version) {
            Ok(c) => c,
            Err(d) => {
                site.diagnostics.push(*d);
                return Ok(None);
            }
        };
    let mut views = Vec::new();
    let mut bounds = Vec::new();
    for target in targets {
        let start = views.len();
        for device in &target.devices {
            views.push(DeviceView {
                board: &target.board,
                subtarget: &target.subtarget,
                image: &device.image,
                class: &device.class,
            });
        }
        bounds.push(start..views.len());
    }
    match customization.evaluate_all(&mut site.sources, &views) {
        Ok(selections) => Ok(Some(
            bounds.into_iter().map(|r| selections[r].to_vec()).collect(),
        )),
        Err(d) => {
            site.diagnostics.push(*d);
            Ok(None)
        }
    }
}

/// Reports packages nothing defines: an error when the site has no feeds
/// (Gluon's target_config_check fails), a note otherwise (a site feed may
/// define them, and its checks cannot be run here).
fn report_unresolved(site: &mut Site, unresolved: &[Unresolved]) {
    let searchable: Vec<FileId> = ["image-customization.lua", "site.mk"]
        .iter()
        .filter_map(|n| site.sources.find_name(n))
        .collect();
    for item in unresolved {
        let word = item.feature.as_deref().unwrap_or(&item.package);
        let span = searchable.iter().find_map(|&f| {
            find_word(&site.sources.get(f).text, word).map(|r| Span::new(f, r.start, r.end))
        });
        let diagnostic = if site.site_feeds.is_empty() {
            let mut d = Diagnostic::new(
                codes::UNKNOWN_PACKAGE,
                format!("unable to enable package '{}'", item.package),
                span,
            )
            .with_gluon_message(format!("unable to enable package '{}'", item.package));
            if let Some(feature) = &item.feature {
                d = d.with_note(format!(
                    "the feature '{feature}' has no mapping in this Gluon release, so it selects the package '{}', which Gluon does not define",
                    item.package
                ));
            }
            d
        } else {
            Diagnostic::new(
                codes::UNCHECKED_FEED_PACKAGE,
                format!(
                    "package '{}' is not part of Gluon {}; it must come from the site's feeds ({}), whose checks gluonvpn cannot run",
                    item.package,
                    site.version,
                    site.site_feeds.join(" ")
                ),
                span,
            )
        };
        site.diagnostics.push(diagnostic);
    }
}

/// The byte range of `word` standing on its own (not inside a longer name).
fn find_word(text: &str, word: &str) -> Option<std::ops::Range<usize>> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word)
        .map(|(i, _)| i..i + word.len())
        .find(|r| {
            let before = text[..r.start].chars().next_back();
            let after = text[r.end..].chars().next();
            !before.is_some_and(is_name) && !after.is_some_and(is_name)
        })
}

impl Site {
    /// What a load for another release starts from: the files read so far
    /// and what reading them found.
    fn fork(&self, version: GluonVersion) -> Site {
        let mut site = Site::unloaded(self.dir.clone(), version);
        site.sources = self.sources.clone();
        site.site_file = self.site_file;
        site.site_feeds = self.site_feeds.clone();
        site.diagnostics = self.diagnostics.clone();
        site
    }

    /// A site of which nothing could be loaded.
    pub fn unloaded(dir: PathBuf, version: GluonVersion) -> Site {
        Site {
            dir,
            version,
            sources: SourceMap::default(),
            site_file: None,
            site_conf: None,
            site_mk_file: None,
            site_mk: None,
            multidomain: false,
            domains: Vec::new(),
            domain_names: BTreeMap::new(),
            images: Vec::new(),
            default_selection: true,
            site_feeds: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// All distinct package sets of the images.
    pub fn package_sets(&self) -> BTreeSet<&BTreeSet<String>> {
        // Images share their sets: compare each shared set once.
        let mut seen = std::collections::HashSet::new();
        self.images
            .iter()
            .filter(|i| seen.insert(std::sync::Arc::as_ptr(&i.packages)))
            .map(|i| &*i.packages)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_come_from_the_modules_file() {
        let modules =
            "# GLUON_SITE_FEEDS='no'\nGLUON_SITE_FEEDS='ffda community'\nPACKAGES_FFDA_REPO=x\n";
        assert_eq!(site_feeds(modules), ["ffda", "community"]);
        assert!(site_feeds("##\tGLUON_SITE_FEEDS\n").is_empty());
    }

    #[test]
    fn words_are_found_whole() {
        let text = "'gluon-web-admin-x', 'web-admin'";
        assert_eq!(find_word(text, "web-admin"), Some(22..31));
    }
}
