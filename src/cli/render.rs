//! `gluonvpn render node|gateway`: the configuration a site implies, printed,
//! written, checked or diffed.

use super::{parse_version, refusal, report_rejected_site, Exit};
use crate::check::{self, CheckOptions};
use crate::gluon_version::GluonVersion;
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum RenderCommand {
    /// What a fresh Gluon node of the site configures for its mesh VPN (UCI),
    /// and files that let a stock Linux act as such a node.
    Node(RenderNodeArgs),
    /// One gateway's fastd, WireGuard + VXLAN and tunneldigger configuration,
    /// from the site and an inventory.
    Gateway(RenderGatewayArgs),
}

#[derive(clap::Args, Debug)]
pub struct RenderSiteArgs {
    /// A site directory, or a site.conf inside one.
    #[arg(value_name = "SITE")]
    pub path: PathBuf,
    /// Only this domain: its code or a name of its domain_names.
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,
    /// The Gluon release whose behaviour to render.
    #[arg(long, default_value = GluonVersion::NEWEST.label(), value_parser = parse_version)]
    pub gluon_version: GluonVersion,
    /// Evaluate site.mk without running any of its commands, as
    /// `check --untrusted` does.
    #[arg(long)]
    pub untrusted: bool,
}

#[derive(clap::Args, Debug)]
pub struct TreeArgs {
    /// Write the tree into this directory (default: print it).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace files in --out that differ from the rendered ones.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Write nothing; exit 1 if the tree in --out differs (lists the files).
    #[arg(long, requires = "out", conflicts_with_all = ["force", "diff"])]
    pub check: bool,
    /// Write nothing; show how --out differs as a unified diff (exit 1 if it does).
    #[arg(long, requires = "out", conflicts_with = "force")]
    pub diff: bool,
}

#[derive(clap::Args, Debug)]
pub struct RenderNodeArgs {
    #[command(flatten)]
    pub site: RenderSiteArgs,
    /// The images whose packages count (standard or tiny).
    #[arg(long, default_value = "standard", value_parser = ["standard", "tiny"])]
    pub device_class: String,
    #[command(flatten)]
    pub tree: TreeArgs,
}

#[derive(clap::Args, Debug)]
pub struct RenderGatewayArgs {
    #[command(flatten)]
    pub site: RenderSiteArgs,
    /// The gateway: a fastd or WireGuard peer name of the site.
    #[arg(long, value_name = "NAME")]
    pub gateway: String,
    /// The inventory (TOML) with what the site does not say about gateways.
    #[arg(long, value_name = "FILE")]
    pub inventory: PathBuf,
    #[command(flatten)]
    pub tree: TreeArgs,
}

pub(super) fn run(command: &RenderCommand) -> anyhow::Result<Exit> {
    use crate::render::{self, files, RenderError};
    let (site_args, tree_args) = match command {
        RenderCommand::Node(a) => (&a.site, &a.tree),
        RenderCommand::Gateway(a) => (&a.site, &a.tree),
    };
    let inventory = match command {
        RenderCommand::Gateway(a) => Some(render::inventory::Inventory::load(&a.inventory)?),
        RenderCommand::Node(_) => None,
    };
    let mut options = CheckOptions::new(site_args.gluon_version);
    options.domain = site_args.domain.clone();
    options.load.make.untrusted = site_args.untrusted;
    let outcome = check::check(&site_args.path, &options)?;
    if let Some(why) = refusal(&outcome, site_args.gluon_version) {
        // Refuse, and say why as `check` would.
        report_rejected_site(&outcome)?;
        eprintln!("gluonvpn: error: not rendering: {why}");
        return Ok(Exit::ProblemsFound);
    }
    let rendered = match command {
        RenderCommand::Node(a) => {
            let mut o = render::node::NodeOptions::new(site_args.gluon_version);
            o.domain = site_args.domain.clone();
            o.device_class = a.device_class.clone();
            render::node::render(&outcome.site, &o)
        }
        RenderCommand::Gateway(a) => render::gateway::render(
            &outcome.site,
            inventory.as_ref().expect("loaded above"),
            &render::gateway::GatewayOptions {
                version: site_args.gluon_version,
                gateway: a.gateway.clone(),
                domain: site_args.domain.clone(),
            },
        ),
    };
    let tree = match rendered {
        Ok(tree) => tree,
        Err(RenderError::Invalid(message)) => {
            for line in message.lines() {
                eprintln!("gluonvpn: error: {line}");
            }
            return Ok(Exit::ProblemsFound);
        }
        Err(e) => return Err(e.into()),
    };
    for note in &tree.notes {
        eprintln!("gluonvpn: note: {note}");
    }
    let Some(dir) = &tree_args.out else {
        let mut out = std::io::stdout().lock();
        files::print(&tree, &mut out)?;
        out.flush()?;
        return Ok(Exit::Clean);
    };
    if tree_args.diff {
        let mut out = std::io::stdout().lock();
        let differs = files::diff(&tree, dir, &mut out)?;
        out.flush()?;
        return Ok(Exit::problems_if(differs));
    }
    if tree_args.check {
        let changes = files::compare(&tree, dir)?;
        let mut out = std::io::stdout().lock();
        for (path, change) in &changes {
            writeln!(out, "{}: {}", dir.join(path).display(), change.describe())?;
        }
        return Ok(Exit::problems_if(!changes.is_empty()));
    }
    match files::write(&tree, dir, tree_args.force)? {
        Ok(written) => {
            eprintln!(
                "gluonvpn: {} file{} written, {} unchanged, in {}",
                written.written.len(),
                if written.written.len() == 1 { "" } else { "s" },
                written.unchanged,
                dir.display()
            );
            Ok(Exit::Clean)
        }
        Err(conflicts) => {
            eprintln!("gluonvpn: error: {conflicts}");
            Ok(Exit::ProblemsFound)
        }
    }
}
