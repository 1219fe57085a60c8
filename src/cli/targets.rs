//! `gluonvpn targets`: the targets of a Gluon release, and the extraction
//! of gluonvpn's data from a Gluon checkout.

use super::{parse_version, Exit};
use crate::gluon_version::GluonVersion;
use clap::ValueEnum;
use std::io::Write;
use std::path::PathBuf;

/// How `targets` lists.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
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

pub(super) fn run(args: &TargetsArgs) -> anyhow::Result<Exit> {
    if let Some(checkout) = &args.from_gluon {
        let Some(tag) = &args.tag else {
            anyhow::bail!("--from-gluon needs --tag (the tag the checkout is at, e.g. v2025.1.3)");
        };
        for note in crate::gluon_data::extract::write_files(checkout, tag, &args.repo_root)? {
            eprintln!("gluonvpn: note: {note}");
        }
        return Ok(Exit::Clean);
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
            use crate::gluon_data::arch::{rust_agents, RustAgents};
            for t in targets {
                let broken = if t.broken { " (broken)" } else { "" };
                let arch = match &t.arch {
                    Some(a) => {
                        let tier = a
                            .rust_tier
                            .map_or("tier ?".to_string(), |n| format!("tier {n}"));
                        format!("\t{}\t{} ({tier})", a.package_arch, a.rust_target)
                    }
                    None => "\t-\t-".to_string(),
                };
                let agents = match rust_agents(&t.board, t.arch.as_ref()) {
                    RustAgents::Supported => "",
                    RustAgents::Unsupported(_) => "\tLua agents",
                };
                writeln!(
                    out,
                    "{}\t{} devices{broken}{arch}{agents}",
                    t.name,
                    t.devices.len()
                )?;
            }
        }
    }
    Ok(Exit::Clean)
}
