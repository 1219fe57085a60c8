//! `gluonvpn ci github|gitlab`: a CI pipeline for the site's repository.

use super::build::{ref_version, select_targets};
use super::{parse_version, write_output, Exit, Sensitivity};
use crate::gluon_version::GluonVersion;
use crate::site::{load, site_mk};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CiArgs {
    /// The CI system.
    #[arg(value_enum)]
    pub platform: crate::ci::Platform,
    /// The site's directory, relative to the repository root (where the
    /// jobs run).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub site: PathBuf,
    /// The targets to build, one job each (comma-separated or repeated).
    #[arg(
        long,
        value_name = "T[,T…]",
        value_delimiter = ',',
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub targets: Vec<String>,
    /// Every target Gluon lists.
    #[arg(long)]
    pub all: bool,
    /// Include the targets and devices Gluon marks broken.
    #[arg(long)]
    pub broken: bool,
    /// The Gluon tag, branch or commit the jobs build with.
    #[arg(long, value_name = "REF", default_value = GluonVersion::NEWEST.tag())]
    pub gluon_ref: String,
    /// The release --gluon-ref behaves as, for refs gluonvpn cannot tell.
    #[arg(long, value_parser = parse_version)]
    pub gluon_version: Option<GluonVersion>,
    /// The gluonvpn repository the jobs build gluonvpn (and its agents) from:
    /// your copy of it (https://, ssh://, git:// or user@host:path).
    #[arg(long, value_name = "URL", required = true)]
    pub gluonvpn_git: String,
    /// The revision of that repository.
    #[arg(long, value_name = "REV", default_value = "main")]
    pub gluonvpn_rev: String,
    /// The autoupdater branch whose manifest the release job writes
    /// (default: site.mk's GLUON_AUTOUPDATER_BRANCH where site.mk assigns it
    /// a plain word, read as text; none: no manifest).
    #[arg(long, value_name = "B")]
    pub autoupdater_branch: Option<String>,
    /// GLUON_RELEASE for every job (default: each job evaluates site.mk).
    #[arg(long, value_name = "R")]
    pub release: Option<String>,
    /// Write the pipeline to this file instead of standard output (`-`:
    /// standard output). A symbolic link there is refused, never written
    /// through.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub(super) fn run(args: &CiArgs) -> anyhow::Result<Exit> {
    let version = ref_version(&args.gluon_ref, args.gluon_version)?;
    let targets = select_targets(version, &args.targets, args.all, args.broken)?;
    anyhow::ensure!(
        args.site.is_relative(),
        "give the site's path relative to the repository root (the jobs run there), not {}",
        args.site.display()
    );
    let site = args
        .site
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the site path is not UTF-8"))?;
    // site.mk's autoupdater branch, read as text: writing a pipeline runs
    // nothing of the site (make is for the pipeline's own jobs).
    let autoupdater_branch = match &args.autoupdater_branch {
        Some(branch) => Some(branch.clone()),
        None => {
            let dir = load::site_dir(&args.site)?;
            match std::fs::read_to_string(dir.join("site.mk")) {
                Ok(text) => site_mk::literal_value(&text, "GLUON_AUTOUPDATER_BRANCH"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => anyhow::bail!("cannot read {}: {e}", dir.join("site.mk").display()),
            }
        }
    };
    let mut command = vec![
        "gluonvpn".to_string(),
        "ci".to_string(),
        match args.platform {
            crate::ci::Platform::Github => "github",
            crate::ci::Platform::Gitlab => "gitlab",
        }
        .to_string(),
        "--site".to_string(),
        site.to_string(),
    ];
    if args.all {
        command.push("--all".into());
    } else {
        command.push("--targets".into());
        command.push(targets.join(","));
    }
    if args.broken {
        command.push("--broken".into());
    }
    command.extend(["--gluon-ref".into(), args.gluon_ref.clone()]);
    if let Some(v) = args.gluon_version {
        command.extend(["--gluon-version".into(), v.label().into()]);
    }
    command.extend(["--gluonvpn-git".into(), args.gluonvpn_git.clone()]);
    if args.gluonvpn_rev != "main" {
        command.extend(["--gluonvpn-rev".into(), args.gluonvpn_rev.clone()]);
    }
    if let Some(b) = &args.autoupdater_branch {
        command.extend(["--autoupdater-branch".into(), b.clone()]);
    }
    if let Some(r) = &args.release {
        command.extend(["--release".into(), r.clone()]);
    }
    if let Some(out) = &args.out {
        command.extend(["--out".into(), out.display().to_string()]);
    }
    let text = crate::ci::render(&crate::ci::Options {
        platform: args.platform,
        site: site.to_string(),
        targets,
        broken: args.broken,
        gluon_ref: args.gluon_ref.clone(),
        version,
        gluonvpn_git: args.gluonvpn_git.clone(),
        gluonvpn_rev: args.gluonvpn_rev.clone(),
        autoupdater_branch,
        release: args.release.clone(),
        command: command.join(" "),
    })?;
    write_output(args.out.as_deref(), text.as_bytes(), Sensitivity::Public)?;
    Ok(Exit::Clean)
}
