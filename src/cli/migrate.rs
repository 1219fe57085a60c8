//! `gluonvpn migrate`: carry a site forward to a newer Gluon release.

use super::{parse_version, Exit};
use crate::gluon_version::GluonVersion;
use crate::migrate;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// A site directory, or a site.conf inside one.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The release to migrate to: v2023.2, v2025.1, …
    #[arg(long, value_parser = parse_version)]
    pub to: GluonVersion,
    /// The release the site is written for (default: inferred, as `check`
    /// does).
    #[arg(long, value_parser = parse_version)]
    pub from: Option<GluonVersion>,
    /// Print the changes as a unified diff (the default).
    #[arg(long, conflicts_with = "write")]
    pub diff: bool,
    /// Apply the changes to the site's files.
    #[arg(long)]
    pub write: bool,
    /// Evaluate site.mk without running its commands (as `check
    /// --untrusted`).
    #[arg(long)]
    pub untrusted: bool,
}

pub(super) fn run(args: &MigrateArgs) -> anyhow::Result<Exit> {
    let plan = migrate::plan(&args.path, args.to, args.from, args.untrusted)?;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let from = if plan.from_inferred {
        format!("{} (inferred)", plan.from)
    } else {
        plan.from.to_string()
    };
    writeln!(
        err,
        "migrating {} from Gluon {from} to {}",
        args.path.display(),
        plan.to
    )?;
    for step in &plan.steps {
        writeln!(
            err,
            "  {} {}: {}",
            step.rewrite.code, step.rewrite.name, step.what
        )?;
    }
    for warning in plan.steps.iter().filter_map(|s| s.warning.as_deref()) {
        writeln!(err, "warning: {warning}")?;
    }
    if plan.steps.is_empty() {
        writeln!(err, "  nothing to rewrite")?;
    }
    if args.write {
        plan.write(&args.path)?;
        writeln!(err, "wrote {} file(s)", plan.files.len())?;
    } else {
        write!(out, "{}", plan.diff())?;
        out.flush()?;
    }
    let verdict = match plan.accepted {
        Some(true) => format!("Gluon {}'s checks accept the migrated site", plan.to),
        Some(false) => format!(
            "Gluon {}'s checks still reject it; these need a decision of yours:",
            plan.to
        ),
        None => format!(
            "whether Gluon {} accepts the migrated site is unknown",
            plan.to
        ),
    };
    writeln!(err, "{verdict}")?;
    for decision in &plan.decisions {
        let at = decision
            .place
            .as_deref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        writeln!(
            err,
            "  {at}{} {}",
            decision.code,
            crate::output::shown(&decision.message)
        )?;
        if let Some(hint) = &decision.hint {
            writeln!(err, "    = {hint}")?;
        }
    }
    Ok(Exit::problems_if(plan.accepted != Some(true)))
}
