//! The command line: the commands and their flags (one file per command),
//! and what they share; `main` only parses. Every command returns an
//! `Exit`, which `exit.rs` turns into the exit status: 0 nothing wrong
//! found, 1 the site has problems or a check failed, 2 gluonvpn could not
//! do its job.

mod build;
mod check;
mod ci;
mod exit;
mod explain;
mod keys;
mod migrate;
mod render;
mod targets;

pub use build::BuildArgs;
pub use check::CheckArgs;
pub use ci::CiArgs;
pub use keys::{KeysCommand, TranslateArgs};
pub use migrate::MigrateArgs;
pub use render::{RenderCommand, RenderGatewayArgs, RenderNodeArgs, RenderSiteArgs, TreeArgs};
pub use targets::{ListFormat, TargetsArgs};

use crate::gluon_version::GluonVersion;
use crate::output::{self, Format};
use clap::{Parser, Subcommand};
use exit::Exit;
use std::io::{IsTerminal, Write};
use std::path::Path;
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
    /// Translate fastd keys to WireGuard keys, and derive a node's
    /// link-local address from its key (for moving a community from fastd
    /// to WireGuard).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Render the configuration a site implies: what a node writes, or a
    /// gateway's (book: Rendering configurations).
    Render {
        #[command(subcommand)]
        command: RenderCommand,
    },
    /// Build Gluon firmware for the site, with gluonvpn's Rust agents (book:
    /// Building firmware).
    Build(Box<BuildArgs>),
    /// Write a CI pipeline for the site's repository: check, one build job
    /// per target, and the release (book: CI pipelines).
    Ci(Box<CiArgs>),
    /// Carry a site forward to a newer Gluon release: named rewrites as a
    /// diff, or applied with --write (book: Upgrading Gluon).
    Migrate(MigrateArgs),
}

fn parse_version(s: &str) -> Result<GluonVersion, String> {
    s.parse()
        .map_err(|e: crate::gluon_version::UnknownVersion| e.to_string())
}

/// Releases as `--gluon-version` names them: one, `all`, or a
/// comma-separated list (a type of its own: clap reads a `Vec` as a
/// repeated option).
#[derive(Clone, Debug)]
pub struct Releases(pub Vec<GluonVersion>);

fn parse_versions(s: &str) -> Result<Releases, String> {
    crate::gluon_version::parse_list(s)
        .map(Releases)
        .map_err(|e| e.to_string())
}

/// Runs the command, and says how it ended (`exit.rs`).
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain { code } => explain::run(&code),
        Command::Targets(args) => targets::run(&args),
        Command::Keys { command } => match command {
            KeysCommand::Translate(args) => keys::translate(&args),
            KeysCommand::Lladdr { key } => keys::lladdr(&key),
        },
        Command::Render { command } => render::run(&command),
        Command::Build(args) => build::run(&args),
        Command::Ci(args) => ci::run(&args),
        Command::Migrate(args) => migrate::run(&args),
    };
    Exit::of(result).into()
}

fn color_choice() -> termcolor::ColorChoice {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if !no_color && std::io::stdout().is_terminal() {
        termcolor::ColorChoice::Auto
    } else {
        termcolor::ColorChoice::Never
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sensitivity {
    Public,
    Secret,
}

/// Writes to standard output (no path, or `-`), or to `path` through a
/// temporary file in the same directory that is renamed over it: a reader
/// never sees half a file, and a secret is never in a file another user
/// could read, not even for a moment (the temporary file is created 0600).
/// A symbolic link at `path` is refused, never written through or replaced
/// (`--out /dev/stdout` as root would otherwise turn /dev/stdout into a
/// file holding the key), and so is anything but a regular file.
fn write_output(path: Option<&Path>, bytes: &[u8], sensitivity: Sensitivity) -> anyhow::Result<()> {
    let path = path.filter(|p| p.as_os_str() != "-");
    let Some(path) = path else {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    };
    let mode = match sensitivity {
        Sensitivity::Secret => 0o600,
        Sensitivity::Public => 0o644,
    };
    crate::writing::write_file(path, bytes, mode)?;
    Ok(())
}

/// Prints a failed check's diagnostics to standard error, as `check` would.
/// Why render and build refuse a checked site, if they do: Gluon would
/// reject it, or gluonvpn cannot tell (a refused file, a stopped
/// evaluation).
fn refusal(outcome: &crate::check::Outcome, version: GluonVersion) -> Option<String> {
    use crate::check::Verdict;
    match outcome.gluon_verdict() {
        Verdict::Passes => None,
        _ if outcome.site_mk_stopped() => Some("make on site.mk was stopped (GS019)".into()),
        Verdict::Unknown => Some("gluonvpn did not read or evaluate everything Gluon would".into()),
        Verdict::Fails => Some(format!("Gluon {version} would reject this site")),
    }
}

fn report_rejected_site(outcome: &crate::check::Outcome) -> anyhow::Result<()> {
    let mut out = termcolor::StandardStream::stderr(color_choice());
    output::write(Format::Human, &output::Run::new(outcome, false), &mut out)?;
    Ok(())
}
