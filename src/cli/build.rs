//! `gluonvpn build`: the site checked, then Gluon firmware built; and the
//! release and targets a build or a pipeline uses.

use super::{parse_version, refusal, report_rejected_site, Exit};
use crate::check::{self, CheckOptions};
use crate::gluon_version::GluonVersion;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The site directory.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub site: PathBuf,
    /// The targets to build (comma-separated or repeated), e.g. x86-64.
    #[arg(
        long,
        value_name = "T[,T…]",
        value_delimiter = ',',
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub target: Vec<String>,
    /// Every target Gluon lists.
    #[arg(long)]
    pub all: bool,
    /// Include the targets and devices Gluon marks broken (BROKEN=1).
    #[arg(long)]
    pub broken: bool,
    /// The Gluon tag, branch or commit to build with.
    #[arg(long, value_name = "REF", default_value = GluonVersion::NEWEST.tag())]
    pub gluon_ref: String,
    /// The Gluon repository (a URL or a local path).
    #[arg(long, value_name = "URL|PATH", default_value = crate::build::gluon::UPSTREAM)]
    pub gluon_repo: String,
    /// The release whose behaviour --gluon-ref has, for refs gluonvpn cannot
    /// tell (a branch such as main, a commit): v2025.1, v2023.2, ….
    #[arg(long, value_parser = parse_version)]
    pub gluon_version: Option<GluonVersion>,
    /// Where Gluon trees, logs, the generated site and feed live (default:
    /// $XDG_CACHE_HOME/gluonvpn).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// make jobs in all (shared by the targets built at the same time).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// How many targets to build at the same time (one Gluon tree each).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub parallel_targets: usize,
    /// GLUON_RELEASE (default: site.mk's).
    #[arg(long, value_name = "R")]
    pub release: Option<String>,
    /// Write the autoupdater manifest for this branch (make manifest).
    #[arg(long, value_name = "B")]
    pub autoupdater_branch: Option<String>,
    /// The agents to build and put into the images (comma-separated:
    /// wgpeerselector, wireguard-vxlan-glue), or none. Default:
    /// wgpeerselector when the site uses WireGuard.
    #[arg(long, value_name = "LIST|none")]
    pub agents: Option<String>,
    /// The gluonvpn workspace the agents are built from (default: the one
    /// this gluonvpn was built from, when it is still there).
    #[arg(long, value_name = "DIR")]
    pub agents_src: Option<PathBuf>,
    /// Build even when the Gluon tree has local changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// The output directory: images and packages go to OUT/<release>/.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub out: PathBuf,
    /// Pass V=s to make (the full commands in the logs).
    #[arg(long)]
    pub verbose: bool,
}

/// The Gluon release a build or pipeline uses: the ref's, or
/// --gluon-version's for a ref gluonvpn cannot place.
pub(super) fn ref_version(
    reference: &str,
    explicit: Option<GluonVersion>,
) -> anyhow::Result<GluonVersion> {
    match (explicit, crate::build::gluon::version_for_ref(reference)) {
        (Some(v), Some(r)) if v != r => {
            anyhow::bail!("--gluon-ref {reference} is Gluon {r}, but --gluon-version says {v}")
        }
        (Some(v), _) => Ok(v),
        (None, Some(r)) => Ok(r),
        (None, None) => anyhow::bail!(
            "gluonvpn cannot tell which Gluon release '{reference}' is (it knows tags such as {} \
             and release branches such as v2025.1.x): pass --gluon-version with the release it \
             behaves as, e.g. --gluon-version {}",
            GluonVersion::NEWEST.tag(),
            GluonVersion::NEWEST.label()
        ),
    }
}

/// The targets named on the command line (checked against the release's
/// data), or all of them.
pub(super) fn select_targets(
    version: GluonVersion,
    names: &[String],
    all: bool,
    broken: bool,
) -> anyhow::Result<Vec<String>> {
    let data = crate::gluon_data::embedded(version.label())
        .ok_or_else(|| anyhow::anyhow!("no data for {version}"))?;
    let mut list = Vec::new();
    if all {
        list.extend(
            data.targets
                .iter()
                .filter(|t| broken || !t.broken)
                .map(|t| t.name.clone()),
        );
    }
    for name in names {
        let name = name.trim();
        let Some(t) = data.target(name) else {
            anyhow::bail!(
                "unknown target '{name}' for Gluon {version}; `gluonvpn targets --gluon-version {version}` lists them"
            );
        };
        if t.broken && !broken {
            anyhow::bail!("Gluon marks the target '{name}' broken: add --broken to build it");
        }
        if !list.contains(&t.name) {
            list.push(t.name.clone());
        }
    }
    anyhow::ensure!(!list.is_empty(), "no targets to build");
    Ok(list)
}

pub(super) fn run(args: &BuildArgs) -> anyhow::Result<Exit> {
    use crate::build::report::{RunStatus, TargetStatus};
    use crate::build::{self, feed, progress::Ui};
    let version = ref_version(&args.gluon_ref, args.gluon_version)?;
    let targets = select_targets(version, &args.target, args.all, args.broken)?;
    let agents = match args.agents.as_deref() {
        None => build::AgentsChoice::Auto,
        Some("none") => build::AgentsChoice::None,
        Some(list) => {
            let mut chosen = Vec::new();
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let Some(agent) = feed::agent(name) else {
                    anyhow::bail!(
                        "unknown agent '{name}' (gluonvpn has {}; or --agents none)",
                        feed::AGENTS
                            .iter()
                            .map(|a| a.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                };
                if !chosen.contains(&agent) {
                    chosen.push(agent);
                }
            }
            build::AgentsChoice::List(chosen)
        }
    };

    // The site is checked as the chosen release checks it, for the images
    // of the targets to build, before anything is cloned or compiled.
    let mut options = CheckOptions::new(version);
    options.load.include_broken = args.broken;
    let checks: Vec<Option<String>> = if args.all {
        vec![None]
    } else {
        targets.iter().cloned().map(Some).collect()
    };
    let mut site_uses_wireguard = false;
    let mut release = args.release.clone();
    for target in checks {
        options.load.target = target.clone();
        let outcome = check::check(&args.site, &options)?;
        if let Some(why) = refusal(&outcome, version) {
            report_rejected_site(&outcome)?;
            eprintln!(
                "gluonvpn: error: not building{}: {why}",
                target.map(|t| format!(" {t}")).unwrap_or_default()
            );
            return Ok(Exit::ProblemsFound);
        }
        site_uses_wireguard |= outcome
            .site
            .images
            .iter()
            .any(|i| i.packages.contains("gluon-mesh-vpn-wireguard"));
        if release.is_none() {
            release = outcome
                .site
                .site_mk
                .as_ref()
                .and_then(|m| m.global.get("GLUON_RELEASE"))
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
        }
    }
    let Some(release) = release else {
        anyhow::bail!("the site's site.mk sets no GLUON_RELEASE: pass --release");
    };
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let build_options = build::Options {
        site: crate::site::load::site_dir(&args.site)?,
        version,
        targets,
        broken: args.broken,
        gluon_ref: args.gluon_ref.clone(),
        gluon_repo: args.gluon_repo.clone(),
        workdir: args.workdir.clone().unwrap_or_else(build::default_workdir),
        jobs,
        parallel_targets: args.parallel_targets.max(1),
        release,
        autoupdater_branch: args.autoupdater_branch.clone(),
        agents,
        site_uses_wireguard,
        agents_src: args.agents_src.clone(),
        allow_dirty: args.allow_dirty,
        out: args.out.clone(),
        verbose: args.verbose,
    };
    let ui = Ui::new();
    let outcome = match build::run(&build_options, &ui) {
        Ok(o) => o,
        Err(build::BuildError::Interrupted) => {
            eprintln!("gluonvpn: stopped before any target was built; the output is unchanged");
            return Ok(Exit::Interrupted);
        }
        Err(e) => return Err(e.into()),
    };
    let mut err = std::io::stderr().lock();
    for t in &outcome.report.targets {
        let Some(error) = &t.error else { continue };
        writeln!(err, "\ngluonvpn: {} failed: {}", t.name, error.message)?;
        if let Some(log) = &t.log {
            match error.line {
                Some(line) => writeln!(err, "  log: {log} (first error on line {line})")?,
                None => writeln!(err, "  log: {log}")?,
            }
        }
        for line in &error.excerpt {
            writeln!(err, "  | {line}")?;
        }
    }
    let count = |s: TargetStatus| {
        outcome
            .report
            .targets
            .iter()
            .filter(|t| t.status == s)
            .count()
    };
    writeln!(
        err,
        "\ngluonvpn: {} built, {} skipped (unchanged), {} failed{}; images in {}; report: {}",
        count(TargetStatus::Built),
        count(TargetStatus::Skipped),
        count(TargetStatus::Failed),
        match count(TargetStatus::Interrupted) + count(TargetStatus::NotStarted) {
            0 => String::new(),
            n => format!(", {n} stopped or not started"),
        },
        outcome.release_dir.display(),
        outcome.report_path.display()
    )?;
    if let Some(m) = &outcome.report.manifest {
        writeln!(err, "gluonvpn: manifest for {}: {}", m.branch, m.status)?;
    }
    Ok(match outcome.report.status {
        RunStatus::Complete => Exit::Clean,
        RunStatus::Failed => Exit::ProblemsFound,
        RunStatus::Interrupted => Exit::Interrupted,
    })
}
