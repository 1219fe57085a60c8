//! `gluonvpn check`: a site's problems, in one of the output formats.

use super::{color_choice, parse_versions, Exit, Releases};
use crate::check::{self, CheckOptions};
use crate::diagnostics::Severity;
use crate::gluon_version::GluonVersion;
use crate::output::{self, Format};
use crate::probe::ProbeOptions;
use crate::severity::SeverityConfig;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// A site directory, or a site.conf inside one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The Gluon release to check against: v2025.1, 2025.1 or a tag such as
    /// v2025.1.3 (default: the newest release the site is written for);
    /// `all` or a comma-separated list checks against several at once, with
    /// each release's verdict and what the site must change for it.
    #[arg(long, value_name = "RELEASE|all|LIST", value_parser = parse_versions)]
    pub gluon_version: Option<Releases>,
    /// Check only this domain: its code (the name of its file in domains/) or a name of its domain_names.
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,
    /// Consider only the images of this target (default: every target Gluon builds).
    #[arg(long)]
    pub target: Option<String>,
    /// Include targets and devices Gluon marks broken (BROKEN=1).
    #[arg(long)]
    pub broken: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Report only what Gluon's own checks report.
    #[arg(long)]
    pub gluon_only: bool,
    /// Report this code as an error; `warnings` makes every warning an error.
    #[arg(long, value_name = "CODE|warnings")]
    pub deny: Vec<String>,
    /// Report this gluonvpn code as a warning.
    #[arg(long, value_name = "CODE")]
    pub warn: Vec<String>,
    /// Do not report this gluonvpn code.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// Also probe the network: ask every NTP server for the time and resolve
    /// every fastd remote, WireGuard endpoint and tunneldigger broker.
    #[arg(long)]
    pub online: bool,
    /// Evaluate site.mk without running any of its commands (each
    /// `$(shell …)` expands to nothing, GS018), with make kept away from
    /// everything but a copy of the site: for sites from pull requests.
    #[arg(long)]
    pub untrusted: bool,
    /// Also check a gateway inventory (the TOML of `render gateway`)
    /// against the site: its methods policies (GV106).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Show only findings at least this severe (the exit status still
    /// counts every error).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = MinSeverity::Note)]
    pub min_severity: MinSeverity,
}

/// The least severe findings `check` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MinSeverity {
    /// Everything.
    #[value(alias = "info")]
    Note,
    Warning,
    Error,
}

impl MinSeverity {
    fn severity(self) -> Severity {
        match self {
            MinSeverity::Note => Severity::Info,
            MinSeverity::Warning => Severity::Warning,
            MinSeverity::Error => Severity::Error,
        }
    }
}

pub(super) fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    let versions = args.gluon_version.clone().map(|r| r.0).unwrap_or_default();
    let mut options = CheckOptions::new(versions.first().copied().unwrap_or(GluonVersion::NEWEST));
    options.infer_version = versions.is_empty();
    options.load.target = args.target.clone();
    options.load.include_broken = args.broken;
    options.load.make.untrusted = args.untrusted;
    options.domain = args.domain.clone();
    options.gluon_only = args.gluon_only;
    options.online = args.online.then(ProbeOptions::default);
    options.severities = SeverityConfig::from_args(&args.allow, &args.warn, &args.deny)?;
    options.inventory = args
        .inventory
        .as_deref()
        .map(crate::site::inventory::Inventory::load)
        .transpose()?;
    if versions.len() > 1 {
        let outcomes = check::check_releases(&args.path, &options, &versions)?;
        let mut outcome = check::ReleasesOutcome::merge(outcomes);
        let exit = Exit::problems_if(outcome.report.has_errors());
        let hidden = outcome.report.retain_at_least(args.min_severity.severity());
        let Some(mut run) = output::Run::of_releases(&outcome, args.online) else {
            anyhow::bail!("no release to check the site with");
        };
        run.hidden = hidden;
        return write_run(args.format, &run, exit);
    }
    let mut outcome = check::check_inferring(&args.path, &options)?;
    let exit = Exit::problems_if(outcome.report.has_errors());
    let hidden = outcome.report.retain_at_least(args.min_severity.severity());
    let mut run = output::Run::new(&outcome, args.online);
    run.hidden = hidden;
    write_run(args.format, &run, exit)
}

/// Writes the run to standard output; the exit status stands unless the
/// output failed.
fn write_run(format: Format, run: &output::Run<'_>, exit: Exit) -> anyhow::Result<Exit> {
    let mut out = termcolor::StandardStream::stdout(color_choice());
    let written = output::write(format, run, &mut out).and_then(|()| out.flush());
    // A reader that stops early (`| head`) does not hide what was found.
    Exit::after_output(exit, written)
}
