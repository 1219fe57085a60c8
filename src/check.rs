//! `gluonvpn check`: load a site, run the checks of every package in its
//! images for every domain, and collect one report.

use crate::diagnostics::{Diagnostic, Report};
use crate::gluon_version::GluonVersion;
use crate::input::{self, caps, Within};
use crate::lints;
use crate::probe::{self, ProbeOptions};
use crate::release::{self, Fit};
use crate::rules::lua_pattern::LuaPatterns;
use crate::rules::vocabulary::{CheckInput, Checker, DomainInput, IMAGE_PROBES};
use crate::rules::{self, PackageRules};
use crate::severity::{self, SeverityConfig};
use crate::site::codes;
use crate::site::load::{self, LoadError, LoadOptions, Site};
use crate::site::lua::Watch;
use crate::site::merge::merge;
use crate::site::site_mk;
use crate::site::value::{Node, Value};
use crate::site::views::SiteView;
use crate::source::{SourceMap, Span};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub load: LoadOptions,
    /// Check only this domain (its code).
    pub domain: Option<String>,
    /// Report only what Gluon itself reports.
    pub gluon_only: bool,
    /// Severity changes from the command line (they win over the site's
    /// gluonvpn.toml).
    pub severities: SeverityConfig,
    /// Probe what the site points at on the network (`--online`): NTP
    /// servers are asked for the time, VPN endpoints resolved.
    pub online: Option<ProbeOptions>,
    /// Check with the newest release the site is written for (see
    /// [`check_inferring`]) instead of `load.version`.
    pub infer_version: bool,
    /// A gateway inventory to check against the site (`--inventory`).
    pub inventory: Option<crate::site::inventory::Inventory>,
}

impl CheckOptions {
    pub fn new(version: GluonVersion) -> CheckOptions {
        CheckOptions {
            load: LoadOptions::new(version),
            domain: None,
            gluon_only: false,
            severities: SeverityConfig::default(),
            online: None,
            infer_version: false,
            inventory: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("the site has no domain '{0}'")]
    UnknownDomain(String),
    #[error("the site has no domains (GLUON_MULTIDOMAIN is not set), so --domain {0} names none")]
    NoDomains(String),
}

/// What a check found, with the loaded site for rendering.
#[derive(Debug)]
pub struct Outcome {
    /// The release checked with, and what the site shows about releases.
    pub release: ReleaseChoice,
    pub site: Site,
    pub report: Report,
    /// Packages whose checks ran.
    pub checked_packages: BTreeSet<String>,
}

/// Gluon's verdict on a site: would a build get past every site check?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passes,
    Fails,
    /// gluonvpn did not read or evaluate everything Gluon would (a file it
    /// refused, an evaluation it stopped).
    Unknown,
}

impl Verdict {
    /// `Some(passes)`, or `None` when unknown.
    pub fn passes(self) -> Option<bool> {
        match self {
            Verdict::Passes => Some(true),
            Verdict::Fails => Some(false),
            Verdict::Unknown => None,
        }
    }
}

/// Codes after which gluonvpn cannot tell what Gluon would say.
const VERDICT_UNKNOWN: &[&crate::diagnostics::CodeInfo] = &[
    codes::LUA_LIMIT,
    codes::FILE_REFUSED,
    codes::SITE_MK_STOPPED,
];

impl Outcome {
    /// Whether gluonvpn had to stop make on site.mk (GS019: a limit, an
    /// interrupt, or what the confinement denies): site.mk's variables are
    /// then incomplete, whatever Gluon's verdict on the rest.
    pub fn site_mk_stopped(&self) -> bool {
        self.report
            .diagnostics
            .iter()
            .any(|d| std::ptr::eq(d.info, codes::SITE_MK_STOPPED))
    }

    /// Gluon's verdict (see [`Verdict`]).
    pub fn gluon_verdict(&self) -> Verdict {
        let errors = || {
            self.report
                .diagnostics
                .iter()
                .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        };
        // What was not read may change everything after it, failures too.
        if errors().any(|d| VERDICT_UNKNOWN.contains(&d.info)) {
            Verdict::Unknown
        } else if errors().any(|d| d.from_gluon()) {
            Verdict::Fails
        } else {
            Verdict::Passes
        }
    }

    /// Whether Gluon's verdict is known to be a pass.
    pub fn gluon_ok(&self) -> bool {
        self.gluon_verdict() == Verdict::Passes
    }
}

/// The release a check ran with, and how it was chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseChoice {
    pub version: GluonVersion,
    /// Whether gluonvpn chose it (no `--gluon-version`).
    pub inferred: bool,
    /// What the site shows about the releases it is written for.
    pub fit: Fit,
}

impl ReleaseChoice {
    /// Why this release, in a few words: what makes it the newest the site
    /// fits, or, where it fits none, what speaks against it.
    pub fn reasons(&self) -> Vec<String> {
        let against = self.fit.against(self.version);
        let hints = if against.is_empty() {
            // What rules out the newer releases.
            self.fit
                .hints
                .iter()
                .filter(|h| h.fits.iter().all(|v| *v <= self.version))
                .collect()
        } else {
            against
        };
        hints.iter().map(|h| h.reason.clone()).collect()
    }

    /// Whether the site fits the release.
    pub fn fits(&self) -> bool {
        self.fit.fits(self.version)
    }
}

/// [`check`], with the release inferred when `options.infer_version` is
/// set: the site is checked with the newest release nothing in it speaks
/// against (see [`release`]). The site is loaded again only when that is
/// not the release it was first loaded with.
pub fn check_inferring(path: &Path, options: &CheckOptions) -> Result<Outcome, CheckError> {
    let first = check(path, options)?;
    if !options.infer_version {
        return Ok(first);
    }
    let chosen = first.release.fit.choose();
    let mut outcome = if chosen == first.release.version {
        first
    } else {
        let mut again = options.clone();
        again.load.version = chosen;
        check(path, &again)?
    };
    outcome.release.inferred = true;
    Ok(outcome)
}

pub fn check(path: &Path, options: &CheckOptions) -> Result<Outcome, CheckError> {
    let versions = [options.load.version];
    let mut outcomes = check_releases(path, options, &versions)?;
    outcomes
        .pop()
        .ok_or_else(|| CheckError::Load(LoadError::Lua("no release to check the site with".into())))
}

/// The stack of the thread that checks some of the releases: that of a
/// main thread (the checks recurse no deeper than the site's tables, whose
/// depth the load bounds).
const CHECK_STACK_SIZE: usize = 8 << 20;

/// Checks the site with each of `versions` (`options.load.version` and
/// `infer_version` are not used), loading it once for all of them (see
/// [`load::load_releases`]). With `--online`, only the last release's check
/// probes the network: what the probes ask does not depend on the release.
pub fn check_releases(
    path: &Path,
    options: &CheckOptions,
    versions: &[GluonVersion],
) -> Result<Vec<Outcome>, CheckError> {
    let sites = match load_watched(path, &options.load, versions)? {
        Loaded::Sites(sites) => sites,
        Loaded::Hung(outcomes) => return Ok(outcomes),
    };
    let last = sites.len().saturating_sub(1);
    let offline = CheckOptions {
        online: None,
        ..options.clone()
    };
    // The releases' checks are independent: half of them on another thread.
    let items: Vec<(usize, Site)> = sites.into_iter().enumerate().collect();
    let outcomes = crate::parallel::on_two_threads(
        items,
        CHECK_STACK_SIZE,
        &mut (),
        || (),
        |_, (index, site)| {
            // The probe goes out once, with the newest release's view.
            let options = if index == last { options } else { &offline };
            check_loaded(site, options)
        },
    );
    outcomes.into_iter().collect()
}

/// A check against several releases: each release's outcome, and their
/// findings merged into one report — a finding several releases share once,
/// with the releases ([`Diagnostic::gluon_versions`]).
#[derive(Debug)]
pub struct ReleasesOutcome {
    /// Per release, oldest first.
    pub outcomes: Vec<Outcome>,
    /// Every finding, its places in [`ReleasesOutcome::sources`].
    pub report: Report,
    /// The files of all releases' loads (the same site files; a release
    /// may have read more, e.g. image-customization.lua).
    pub sources: SourceMap,
    /// The packages whose checks ran, in any release.
    pub checked_packages: BTreeSet<String>,
}

impl ReleasesOutcome {
    /// Merges the outcomes of [`check_releases`] (in release order).
    pub fn merge(outcomes: Vec<Outcome>) -> ReleasesOutcome {
        let mut sources = SourceMap::default();
        let mut report = Report::default();
        let mut by_message: std::collections::HashMap<(&'static str, String), Vec<usize>> =
            Default::default();
        let mut checked_packages = BTreeSet::new();
        for outcome in &outcomes {
            checked_packages.extend(outcome.checked_packages.iter().cloned());
            let version = outcome.release.version;
            let from = &outcome.site.sources;
            let mut moved = std::collections::HashMap::new();
            let mut remap = |span: Span| {
                let file = *moved.entry(span.file).or_insert_with(|| {
                    let f = from.get(span.file);
                    sources.add(f.name.clone(), f.path.clone(), f.text.clone())
                });
                Span { file, ..span }
            };
            for diagnostic in &outcome.report.diagnostics {
                let mut d = diagnostic.clone();
                d.span = d.span.map(&mut remap);
                d.also_at = d.also_at.iter().map(|s| remap(*s)).collect();
                let key = (d.info.code, d.message.clone());
                let candidates = by_message.entry(key).or_default();
                let same = candidates
                    .iter()
                    .copied()
                    .find(|&i| same_in_releases(&report.diagnostics[i], &d));
                match same {
                    Some(i) => {
                        let merged = &mut report.diagnostics[i];
                        merged.gluon_versions.push(version);
                        // Gluon's wording may change between releases: the
                        // newest leads, an older one stays as a note.
                        if merged.gluon_message != d.gluon_message {
                            let before = merged.gluon_versions.len().checked_sub(2);
                            if let (Some(older), Some(previous)) = (
                                merged.gluon_message.take(),
                                before.map(|i| merged.gluon_versions[i]),
                            ) {
                                merged
                                    .notes
                                    .push(format!("Gluon up to {previous} says: {older}"));
                            }
                            merged.gluon_message = d.gluon_message;
                        }
                    }
                    None => {
                        d.gluon_versions = vec![version];
                        candidates.push(report.diagnostics.len());
                        // Not `push`: that would merge places, and the
                        // releases must keep theirs apart.
                        report.diagnostics.push(d);
                    }
                }
            }
        }
        let checked = outcomes.len();
        for d in &mut report.diagnostics {
            d.some_releases = d.gluon_versions.len() < checked;
        }
        report.sort(&sources);
        ReleasesOutcome {
            outcomes,
            report,
            sources,
            checked_packages,
        }
    }

    /// Whether a Gluon build of every release checked would pass its site
    /// checks: `None` when unknown for a release and none is known to fail.
    pub fn gluon_ok(&self) -> Option<bool> {
        let verdicts: Vec<Verdict> = self.outcomes.iter().map(Outcome::gluon_verdict).collect();
        if verdicts.contains(&Verdict::Fails) {
            Some(false)
        } else if verdicts.contains(&Verdict::Unknown) {
            None
        } else {
            Some(true)
        }
    }
}

/// Whether two releases found the same: the same code, severity, message,
/// places, key, domains, packages and notes (Gluon's own wording aside).
fn same_in_releases(merged: &Diagnostic, d: &Diagnostic) -> bool {
    merged.info.code == d.info.code
        && merged.severity == d.severity
        && merged.message == d.message
        && merged.span == d.span
        && merged.also_at == d.also_at
        && merged.config_path == d.config_path
        && merged.domains == d.domains
        && merged.packages == d.packages
        && merged.probe == d.probe
        && merged.notes.len() >= d.notes.len()
        && merged.notes[..d.notes.len()] == d.notes[..]
}

/// The checks of one release on a site loaded for it.
fn check_loaded(mut site: Site, options: &CheckOptions) -> Result<Outcome, CheckError> {
    // A domain is named by its code or an alias (`domain_names`), as on a
    // node; from here on by its code.
    if let Some(name) = options.domain.as_deref().filter(|_| !site.multidomain) {
        return Err(CheckError::NoDomains(name.to_string()));
    }
    let by_code;
    let options = match options.domain.as_deref() {
        Some(name) => {
            let code = site
                .domain_code(name)
                .ok_or_else(|| CheckError::UnknownDomain(name.to_string()))?;
            by_code = CheckOptions {
                domain: Some(code.to_string()),
                ..options.clone()
            };
            &by_code
        }
        None => options,
    };
    let mut report = Report::default();
    report.extend(site.diagnostics.iter().cloned());
    let fit = release::fit(&site);
    if !fit.fits(site.version) {
        report.push(release_misfit(&site, &fit, options.infer_version));
    }
    let other_images = fit.other_images(site.version);
    let mut checked_packages = BTreeSet::new();
    if let Some(site_conf) = &site.site_conf {
        run_package_checks(
            &site,
            site_conf,
            options,
            &mut report,
            &mut checked_packages,
        );
    }
    if options.gluon_only {
        // And GS019: without it, a site.mk gluonvpn could not evaluate
        // would look clean.
        report
            .diagnostics
            .retain(|d| d.from_gluon() || std::ptr::eq(d.info, codes::SITE_MK_STOPPED));
    } else {
        if let Some(mut context) = SiteView::new(&site, options.domain.as_deref()) {
            // Not on an image set the site never meant (GS008 says so).
            if other_images {
                context.selection_known = false;
                context.packages.clear();
            }
            context.inventory = options.inventory.as_ref();
            report.extend(lints::run(&context));
            if let Some(probe_options) = &options.online {
                report.extend(probe::run(&context, probe_options));
            }
        }
        let site_config = site_severities(&mut site, &mut report);
        site_config
            .overridden_by(&options.severities)
            .apply(&mut report);
    }
    report.sort(&site.sources);
    Ok(Outcome {
        release: ReleaseChoice {
            version: site.version,
            inferred: false,
            fit,
        },
        site,
        report,
        checked_packages,
    })
}

/// GS008: the release does not fit the site, and why; where nothing fits, the
/// site is older than every supported release.
fn release_misfit(site: &Site, fit: &Fit, inferring: bool) -> Diagnostic {
    let against = fit.against(site.version);
    let older = fit.older_than_supported();
    let message = if !older.is_empty() {
        let keys: Vec<&str> = older.iter().map(|h| h.reason.as_str()).collect();
        format!(
            "the site is written for a Gluon release older than {}: {}",
            GluonVersion::ALL[0],
            keys.join("; ")
        )
    } else {
        let fitting: Vec<&str> = GluonVersion::ALL
            .into_iter()
            .filter(|v| fit.fits(*v))
            .map(GluonVersion::label)
            .collect();
        let reasons: Vec<&str> = against.iter().map(|h| h.reason.as_str()).collect();
        format!(
            "the site is not written for Gluon {}: {}{}",
            site.version,
            reasons.join("; "),
            if fitting.is_empty() || inferring {
                String::new()
            } else {
                format!(" (it fits {})", fitting.join(", "))
            }
        )
    };
    let span = against.iter().find_map(|h| h.span);
    let mut d = Diagnostic::new(codes::RELEASE_MISFIT, message, span);
    if fit.other_images(site.version) {
        d = d.with_note(
            "the images this release builds are not the ones the site selects: gluonvpn's lints that depend on the images' packages are not run",
        );
    }
    d
}

enum Loaded {
    Sites(Vec<Site>),
    /// Per release, the same outcome: the site could not be loaded.
    Hung(Vec<Outcome>),
}

/// How much longer than the sandbox's own time limit an evaluation may run
/// before the watchdog gives up on it.
const WATCHDOG_GRACE: Duration = Duration::from_secs(2);

/// Loads the site on a worker thread while watching its Lua evaluations: the
/// sandbox's hooks stop runaway Lua code, but not a single C call that never
/// returns (a string pattern that backtracks without end). Then the worker is
/// left behind — it cannot be stopped safely — and the site is reported as
/// unloadable; the process exits soon after.
fn load_watched(
    path: &Path,
    options: &LoadOptions,
    versions: &[GluonVersion],
) -> Result<Loaded, CheckError> {
    let watch = Arc::new(Watch::default());
    let mut options = options.clone();
    options.watch = Some(Arc::clone(&watch));
    let limit = options.limits.wall_time + WATCHDOG_GRACE;
    let owned = path.to_path_buf();
    let releases = versions.to_vec();
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name("gluonvpn-load".into())
        .spawn(move || {
            // The receiver is gone only when the watchdog gave up.
            let _ = sender.send(load::load_releases(&owned, &options, &releases));
        })
        .map_err(|e| CheckError::Load(LoadError::Lua(format!("cannot start a thread: {e}"))))?;
    loop {
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(result) => return Ok(Loaded::Sites(result?)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(CheckError::Load(LoadError::Lua(
                    "the loading thread failed".into(),
                )))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(file) = watch.overdue(limit) {
                    let dir = load::site_dir(path)?;
                    let text = input::read_text(
                        &dir.join(&file),
                        Within::Directory(&dir),
                        caps::LUA_CONFIG,
                    )
                    .ok();
                    let hung = |version: GluonVersion| {
                        let mut site = Site::unloaded(dir.clone(), version);
                        let span = text.clone().map(|text| {
                            let id = site.sources.add(file.clone(), dir.join(&file), text);
                            Span::file_start(id)
                        });
                        let mut report = Report::default();
                        report.push(Diagnostic::new(
                            codes::LUA_LIMIT,
                            format!(
                                "evaluating {file} did not finish within {} s; gluonvpn gave up on it (a string pattern that backtracks without end?)",
                                limit.as_secs()
                            ),
                            span,
                        ));
                        Outcome {
                            release: ReleaseChoice {
                                version,
                                inferred: false,
                                fit: Fit::default(),
                            },
                            site,
                            report,
                            checked_packages: BTreeSet::new(),
                        }
                    };
                    return Ok(Loaded::Hung(versions.iter().map(|&v| hung(v)).collect()));
                }
            }
        }
    }
}

/// The site's own severity settings (gluonvpn.toml), if it has any.
fn site_severities(site: &mut Site, report: &mut Report) -> SeverityConfig {
    let path = site.dir.join(severity::FILE_NAME);
    let text = match input::read_text(&path, Within::Directory(&site.dir), caps::SITE_FILE) {
        Ok(text) => text,
        Err(e) if e.is_missing() => return SeverityConfig::default(),
        Err(e) => {
            let message = format!("`{}` {e}; its settings are ignored", severity::FILE_NAME);
            report.push(Diagnostic::new(codes::FILE_REFUSED, message, None));
            return SeverityConfig::default();
        }
    };
    let file = site.sources.add(severity::FILE_NAME.into(), path, text);
    match severity::from_site_file(file, site.sources.get(file)) {
        Ok(config) => config,
        Err(diagnostic) => {
            report.push(*diagnostic);
            SeverityConfig::default()
        }
    }
}

/// The build variables checks read, as value subjects with their place in
/// site.mk.
fn build_vars(site: &Site) -> Vec<(String, Node)> {
    let mut vars = Vec::new();
    let (Some(evaluation), Some(file)) = (&site.site_mk, site.site_mk_file) else {
        return vars;
    };
    let text = &site.sources.get(file).text;
    // Gluon's Makefile: GLUON_BRANCH, when set, supplies the autoupdater branch.
    let global = &evaluation.global;
    let branch = global
        .get("GLUON_AUTOUPDATER_BRANCH")
        .filter(|v| !v.is_empty())
        .map(|v| ("GLUON_AUTOUPDATER_BRANCH", v))
        .or_else(|| {
            global
                .get("GLUON_BRANCH")
                .filter(|v| !v.is_empty())
                .map(|v| ("GLUON_BRANCH", v))
        });
    if let Some((origin, value)) = branch {
        let span = site_mk::assignment_line(text, origin)
            .map(|l| site.sources.get(file).line_span(file, l));
        vars.push((
            "GLUON_AUTOUPDATER_BRANCH".to_string(),
            Node::new(
                Value::String(value.to_string()),
                span.or(Some(Span::file_start(file))),
            ),
        ));
    }
    vars
}

/// Which package checks to run, and in which kinds of image: a check can only
/// tell images apart by the packages in [`IMAGE_PROBES`] — today gluon-tls
/// alone (checks test /lib/gluon/features/tls) — so each package runs once
/// per value of that among the images that contain it.
fn check_runs(site: &Site, version: GluonVersion) -> Vec<(&'static PackageRules, bool)> {
    let mut runs: BTreeSet<(&'static str, bool)> = BTreeSet::new();
    for packages in site.package_sets() {
        let tls = IMAGE_PROBES.iter().any(|p| packages.contains(*p));
        for package in packages {
            if let Some(rules) = rules::for_package(package, version) {
                runs.insert((rules.package, tls));
            }
        }
    }
    runs.into_iter()
        .filter_map(|(package, tls)| rules::for_package(package, version).map(|r| (r, tls)))
        .collect()
}

fn run_package_checks(
    site: &Site,
    site_conf: &Node,
    options: &CheckOptions,
    report: &mut Report,
    checked_packages: &mut BTreeSet<String>,
) {
    let version = site.version;
    let Some(site_file) = site.site_file else {
        return;
    };
    let Ok(patterns) = LuaPatterns::new() else {
        report.push(Diagnostic::new(
            codes::LUA_RUNTIME,
            "cannot start Lua for pattern matching",
            None,
        ));
        return;
    };
    let vars = build_vars(site);
    let names: BTreeSet<String> = site.domain_names.keys().cloned().collect();
    let runs = check_runs(site, version);
    checked_packages.extend(runs.iter().map(|(r, _)| r.package.to_string()));
    let with_tls: BTreeSet<String> = IMAGE_PROBES.iter().map(|p| p.to_string()).collect();
    let without_tls: BTreeSet<String> = BTreeSet::new();

    let run = |domain: Option<DomainInput<'_>>,
               conf: &Node,
               only: Option<&BTreeSet<(&str, bool)>>,
               report: &mut Report| {
        let mut asked = BTreeSet::new();
        for tls in [false, true] {
            let input = CheckInput {
                version,
                site: site_conf,
                site_file,
                domain,
                conf,
                domain_names: &names,
                image_packages: if tls { &with_tls } else { &without_tls },
                build_vars: &vars,
                patterns: &patterns,
            };
            for (rules, _) in runs.iter().filter(|(_, t)| *t == tls) {
                if only.is_some_and(|o| !o.contains(&(rules.package, tls))) {
                    continue;
                }
                let mut checker = Checker::new(&input, rules.package);
                (rules.check)(&mut checker);
                if checker.asked_for_domain() {
                    asked.insert((rules.package, tls));
                }
                report.extend(checker.into_diagnostics());
            }
        }
        asked
    };

    if !site.multidomain {
        run(None, site_conf, None, report);
        return;
    }
    // Gluon checks every name a domain is installed under. A check that never
    // asks for the name gives the same result for the domain and its aliases,
    // so aliases rerun only the checks that asked.
    let mut aliases: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (name, code) in &site.domain_names {
        if name != code {
            aliases
                .entry(code.as_str())
                .or_default()
                .push(name.as_str());
        }
    }
    for domain in &site.domains {
        if options.domain.as_ref().is_some_and(|d| d != &domain.code) {
            continue;
        }
        let Some(config) = &domain.config else {
            continue;
        };
        let conf = merge(site_conf, config);
        fn input<'n>(
            name: &'n str,
            file: &'n load::DomainFile,
            config: &'n Node,
        ) -> DomainInput<'n> {
            DomainInput {
                name,
                file: file.file,
                config,
            }
        }
        let asked = run(
            Some(input(&domain.code, domain, config)),
            &conf,
            None,
            report,
        );
        for name in aliases.get(domain.code.as_str()).into_iter().flatten() {
            run(
                Some(input(name, domain, config)),
                &conf,
                Some(&asked),
                report,
            );
        }
    }
}
