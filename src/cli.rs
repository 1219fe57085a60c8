//! The command line: flags are defined once here; `main` only maps the
//! outcome to an exit status.

use crate::check::{self, CheckError, CheckOptions};
use crate::diagnostics::{github, human, json, sarif};
use crate::gluon_version::GluonVersion;
use crate::lints::config::SeverityConfig;
use crate::probe::ProbeOptions;
use crate::registry;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "gluonvpn", version, about = "Check Gluon sites before the hour-long firmware build", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load a site as Gluon does and report every problem with its location.
    Check(CheckArgs),
    /// Explain a diagnostic code (e.g. `gluonvpn explain GL005`).
    Explain {
        /// A code such as GL005, or its name such as site-only-key.
        code: String,
    },
    /// List the targets of a Gluon release, or regenerate gluonvpn's target
    /// and package data from a Gluon checkout.
    Targets(TargetsArgs),
}

/// How `check` reports.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Diagnostics with the source line, then a summary.
    Human,
    /// One JSON document (book: JSON output).
    Json,
    /// A SARIF 2.1.0 log, for code-scanning uploads.
    Sarif,
    /// GitHub Actions workflow commands: one annotation per diagnostic.
    Github,
}

/// How `targets` lists.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// A site directory, or a site.conf inside one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The Gluon release to check against: v2025.1, 2025.1 or a tag such as v2025.1.3.
    #[arg(long, default_value = GluonVersion::NEWEST.label(), value_parser = parse_version)]
    pub gluon_version: GluonVersion,
    /// Check only this domain (its code, the name of its file in domains/).
    #[arg(long, value_name = "CODE")]
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
}

#[derive(clap::Args, Debug)]
pub struct TargetsArgs {
    /// The Gluon release whose targets to list.
    #[arg(long, default_value = GluonVersion::NEWEST.label(), value_parser = parse_version)]
    pub gluon_version: GluonVersion,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
    /// Include targets Gluon marks broken.
    #[arg(long)]
    pub broken: bool,
    /// Regenerate targets/ and data/gluon/ from this Gluon checkout (a tag's tree).
    #[arg(long, value_name = "DIR")]
    pub from_gluon: Option<PathBuf>,
    /// The tag the checkout is at (e.g. v2025.1.3), for --from-gluon.
    #[arg(long, requires = "from_gluon")]
    pub tag: Option<String>,
    /// Where targets/ and data/ are written, for --from-gluon.
    #[arg(long, default_value = ".", requires = "from_gluon")]
    pub repo_root: PathBuf,
}

fn parse_version(s: &str) -> Result<GluonVersion, String> {
    s.parse()
        .map_err(|e: crate::gluon_version::UnknownVersion| e.to_string())
}

/// Runs the command; the exit status follows ripgrep: 0 nothing wrong, 1
/// problems found, 2 gluonvpn could not do its job.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check(args) => run_check(&args),
        Command::Explain { code } => explain(&code),
        Command::Targets(args) => targets(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gluonvpn: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    // serde_json keeps the io::Error inside instead of as its source.
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                c.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            })
            == Some(std::io::ErrorKind::BrokenPipe)
    })
}

fn color_choice() -> termcolor::ColorChoice {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if !no_color && std::io::stdout().is_terminal() {
        termcolor::ColorChoice::Auto
    } else {
        termcolor::ColorChoice::Never
    }
}

fn run_check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let mut options = CheckOptions::new(args.gluon_version);
    options.load.target = args.target.clone();
    options.load.include_broken = args.broken;
    options.domain = args.domain.clone();
    options.gluon_only = args.gluon_only;
    options.online = args.online.then(ProbeOptions::default);
    options.severities = SeverityConfig::from_args(&args.allow, &args.warn, &args.deny)?;
    let outcome = match check::check(&args.path, &options) {
        Ok(outcome) => outcome,
        Err(e @ (CheckError::Load(_) | CheckError::UnknownDomain(_))) => return Err(e.into()),
    };
    let site = &outcome.site;
    let domains: Vec<String> = site.domains.iter().map(|d| d.code.clone()).collect();
    match args.format {
        Format::Human => {
            let mut out = termcolor::StandardStream::stdout(color_choice());
            human::render(
                &mut out,
                &site.sources,
                &site.dir,
                &outcome.report,
                &human::Summary {
                    site: &site.dir,
                    gluon_version: args.gluon_version.label(),
                    gluon_ok: outcome.gluon_ok(),
                    checked_packages: outcome.checked_packages.len(),
                    domains: domains.len(),
                },
            )?;
            out.flush()?;
        }
        Format::Json => {
            let document = json::Document {
                schema: json::SCHEMA_VERSION,
                gluonvpn: env!("CARGO_PKG_VERSION"),
                site: site.dir.display().to_string(),
                gluon_version: args.gluon_version.label(),
                gluon_ok: outcome.gluon_ok(),
                online: options.online.is_some(),
                summary: json::counts(&outcome.report),
                checked_packages: outcome.checked_packages.iter().cloned().collect(),
                domains,
                diagnostics: outcome
                    .report
                    .diagnostics
                    .iter()
                    .map(|d| json::diagnostic(d, &site.sources))
                    .collect(),
            };
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
        Format::Sarif => {
            let log = sarif::log(
                &outcome.report,
                &site.sources,
                sarif::RunInfo {
                    root_uri: std::env::current_dir()
                        .ok()
                        .and_then(|cwd| sarif::directory_uri(&cwd)),
                    site_path: github::site_path(&site.dir),
                    gluon_version: args.gluon_version.label(),
                    gluon_ok: outcome.gluon_ok(),
                    checked_packages: outcome.checked_packages.iter().cloned().collect(),
                    domains,
                },
            );
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &log)?;
            writeln!(out)?;
        }
        Format::Github => {
            let mut out = std::io::stdout().lock();
            github::render(
                &mut out,
                &site.sources,
                &github::site_path(&site.dir),
                &outcome.report,
            )?;
            out.flush()?;
        }
    }
    Ok(if outcome.report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn explain(code: &str) -> anyhow::Result<ExitCode> {
    let Some(info) = registry::lookup(code) else {
        anyhow::bail!("unknown code '{code}'; the book's reference lists every code");
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} ({}): {}", info.code, info.name, info.summary)?;
    writeln!(
        out,
        "Severity: {}. Reported by: {}.",
        info.severity.as_str(),
        info.origin.describe()
    )?;
    writeln!(out)?;
    writeln!(out, "{}", info.explanation)?;
    Ok(ExitCode::SUCCESS)
}

fn targets(args: &TargetsArgs) -> anyhow::Result<ExitCode> {
    if let Some(checkout) = &args.from_gluon {
        let Some(tag) = &args.tag else {
            anyhow::bail!("--from-gluon needs --tag (the tag the checkout is at, e.g. v2025.1.3)");
        };
        crate::gluon_data::extract::write_files(checkout, tag, &args.repo_root)?;
        return Ok(ExitCode::SUCCESS);
    }
    let data = crate::gluon_data::embedded(args.gluon_version.label())
        .ok_or_else(|| anyhow::anyhow!("no data for {}", args.gluon_version))?;
    let targets: Vec<_> = data
        .targets
        .iter()
        .filter(|t| args.broken || !t.broken)
        .collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &targets)?;
            writeln!(out)?;
        }
        ListFormat::Human => {
            for t in targets {
                let broken = if t.broken { " (broken)" } else { "" };
                writeln!(out, "{}\t{} devices{broken}", t.name, t.devices.len())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
