//! The command line: flags are defined once here; `main` only maps the
//! outcome to an exit status.

use crate::check::{self, CheckError, CheckOptions};
use crate::gluon_version::GluonVersion;
use crate::keys::{FastdPublicKey, Secret};
use crate::output::{self, Format};
use crate::probe::ProbeOptions;
use crate::severity::SeverityConfig;
use crate::{catalog, derive, fastd_conf, keys, peers};
use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

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
}

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
    /// Only this domain (its code).
    #[arg(long, value_name = "CODE")]
    pub domain: Option<String>,
    /// The Gluon release whose behaviour to render.
    #[arg(long, default_value = GluonVersion::NEWEST.label(), value_parser = parse_version)]
    pub gluon_version: GluonVersion,
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

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Translate a fastd public key (HEX), a fastd secret (--private, read
    /// from standard input) or a gateway's fastd peer directory
    /// (--peers-dir) to WireGuard.
    Translate(TranslateArgs),
    /// Print the link-local address a Gluon node puts on its WireGuard
    /// interface, derived from its public key (WireGuard base64, or a fastd
    /// key in hex, which is translated first).
    Lladdr {
        /// The node's public key.
        #[arg(value_name = "PUBKEY")]
        key: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct TranslateArgs {
    /// A fastd public key (64 hex digits); prints the WireGuard public key.
    #[arg(value_name = "HEX")]
    pub key: Option<String>,
    /// Translate a fastd secret into a WireGuard private key. The secret is
    /// read from standard input (64 hex digits, or a fastd config with a
    /// `secret "…";` line), never from the command line.
    #[arg(long, conflicts_with = "peers_dir")]
    pub private: bool,
    /// Read the fastd secret from this file instead of standard input
    /// (implies --private).
    #[arg(long, value_name = "FILE", conflicts_with = "peers_dir")]
    pub private_file: Option<PathBuf>,
    /// A gateway's fastd peer directory (one file per node with
    /// `key "…";`); prints one WireGuard [Peer] per node, with the node's
    /// translated key and its link-local address as AllowedIPs.
    #[arg(long, value_name = "DIR", conflicts_with = "key")]
    pub peers_dir: Option<PathBuf>,
    /// Write the result to this file instead of standard output (created
    /// anew; mode 0600 for a private key, 0644 otherwise).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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
    /// The gluonvpn repository the jobs build gluonvpn (and its agents) from.
    #[arg(long, value_name = "URL", default_value = crate::ci::GLUONVPN_GIT)]
    pub gluonvpn_git: String,
    /// The revision of that repository.
    #[arg(long, value_name = "REV", default_value = "main")]
    pub gluonvpn_rev: String,
    /// The autoupdater branch whose manifest the release job writes
    /// (default: site.mk's GLUON_AUTOUPDATER_BRANCH; none: no manifest).
    #[arg(long, value_name = "B")]
    pub autoupdater_branch: Option<String>,
    /// GLUON_RELEASE for every job (default: each job evaluates site.mk).
    #[arg(long, value_name = "R")]
    pub release: Option<String>,
    /// Write the pipeline to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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
        Command::Keys { command } => match command {
            KeysCommand::Translate(args) => keys_translate(&args),
            KeysCommand::Lladdr { key } => keys_lladdr(&key),
        },
        Command::Render { command } => render_command(&command),
        Command::Build(args) => run_build(&args),
        Command::Ci(args) => run_ci(&args),
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
    let run = output::Run::new(&outcome, args.gluon_version, args.online);
    let mut out = termcolor::StandardStream::stdout(color_choice());
    output::write(args.format, &run, &mut out)?;
    out.flush()?;
    Ok(if outcome.report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn explain(code: &str) -> anyhow::Result<ExitCode> {
    let Some(info) = catalog::lookup(code) else {
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
        for note in crate::gluon_data::extract::write_files(checkout, tag, &args.repo_root)? {
            eprintln!("gluonvpn: note: {note}");
        }
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
    Ok(ExitCode::SUCCESS)
}

fn keys_translate(args: &TranslateArgs) -> anyhow::Result<ExitCode> {
    if args.private || args.private_file.is_some() {
        if args.key.is_some() {
            // Never echo the argument: it may well be the secret.
            anyhow::bail!(
                "--private does not take the secret as an argument: on the command line other \
                 users see it in the process list and it stays in the shell history. Pipe it to \
                 standard input (`gluonvpn keys translate --private < FILE`) or use --private-file FILE"
            );
        }
        return keys_translate_private(args);
    }
    if let Some(dir) = &args.peers_dir {
        return keys_translate_peers(dir, args.out.as_deref());
    }
    let Some(text) = &args.key else {
        anyhow::bail!(
            "nothing to translate: give a fastd public key (64 hex digits), --private to translate \
             a secret from standard input, or --peers-dir DIR"
        );
    };
    let key = FastdPublicKey::from_hex(text.trim())?;
    write_output(
        args.out.as_deref(),
        format!("{}\n", key.to_wireguard()).as_bytes(),
        Sensitivity::Public,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn keys_translate_private(args: &TranslateArgs) -> anyhow::Result<ExitCode> {
    // Room enough that reading a secret file does not reallocate (and leave
    // copies of the secret behind in freed memory).
    let mut text = Zeroizing::new(String::with_capacity(8192));
    let source = match &args.private_file {
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .with_context(|| format!("cannot read {}", path.display()))?;
            path.display().to_string()
        }
        None => {
            let mut stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                eprintln!(
                    "gluonvpn: reading the fastd secret from standard input (end with Ctrl-D)"
                );
            }
            stdin
                .read_to_string(&mut text)
                .context("cannot read the secret from standard input")?;
            "<stdin>".to_string()
        }
    };
    let secret =
        parse_secret_text(&text).with_context(|| format!("no usable fastd secret in {source}"))?;
    let mut line = secret.expose_wireguard_base64();
    line.push('\n');
    write_output(args.out.as_deref(), line.as_bytes(), Sensitivity::Secret)?;
    Ok(ExitCode::SUCCESS)
}

/// A fastd secret: the bare 64 hex digits (as `uci get fastd.mesh_vpn.secret`
/// or `fastd --generate-key --machine-readable` print it), or a fastd
/// config holding `secret "…";`.
fn parse_secret_text(text: &str) -> anyhow::Result<Secret> {
    let trimmed = text.trim();
    let looks_like_config = trimmed
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == ';' || c == '#');
    if !looks_like_config {
        return Ok(Secret::from_fastd_hex(trimmed)?);
    }
    let found = fastd_conf::single_string_statement(text, "secret", fastd_conf::Includes::Skip)?;
    let value = Zeroizing::new(found.value);
    Secret::from_fastd_hex(&value).map_err(|e| {
        anyhow::anyhow!(fastd_conf::ConfError {
            line: found.line,
            column: found.column,
            message: e.to_string(),
        })
    })
}

fn keys_translate_peers(dir: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let read = peers::read_peer_dir(dir)
        .with_context(|| format!("cannot read the peer directory {}", dir.display()))?;
    let text = peers::render(&read.entries, &dir.display().to_string());
    // Re-read what is about to be written: it must say exactly this.
    let mut expected = read.entries.clone();
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    match peers::parse(&text) {
        Ok(back) if back == expected => {}
        Ok(_) => anyhow::bail!("internal error: the rendered peers do not read back the same"),
        Err(e) => anyhow::bail!("internal error: the rendered peers do not parse: {e}"),
    }
    write_output(out, text.as_bytes(), Sensitivity::Public)?;
    let mut err = std::io::stderr().lock();
    for e in &read.errors {
        writeln!(err, "{e}")?;
    }
    writeln!(
        err,
        "gluonvpn: {} peer{} translated, {} file{} failed{}",
        read.entries.len(),
        if read.entries.len() == 1 { "" } else { "s" },
        read.errors.len(),
        if read.errors.len() == 1 { "" } else { "s" },
        if read.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped as fastd skips them", read.skipped.len())
        }
    )?;
    Ok(if read.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn render_command(command: &RenderCommand) -> anyhow::Result<ExitCode> {
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
    let outcome = check::check(&site_args.path, &options)?;
    if !outcome.gluon_ok() {
        // Refuse, and say why as `check` would.
        report_rejected_site(&outcome, site_args.gluon_version)?;
        eprintln!(
            "gluonvpn: error: not rendering: Gluon {} would reject this site",
            site_args.gluon_version
        );
        return Ok(ExitCode::from(1));
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
            return Ok(ExitCode::from(1));
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
        return Ok(ExitCode::SUCCESS);
    };
    if tree_args.diff {
        let mut out = std::io::stdout().lock();
        let differs = files::diff(&tree, dir, &mut out)?;
        out.flush()?;
        return Ok(if differs {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    if tree_args.check {
        let changes = files::compare(&tree, dir)?;
        let mut out = std::io::stdout().lock();
        for (path, change) in &changes {
            let what = match change {
                files::Change::Missing => "missing".to_string(),
                files::Change::Content => "differs".to_string(),
                files::Change::Mode { disk, tree } => format!("mode {disk:o}, rendered {tree:o}"),
                files::Change::NotADirectory => "not a directory".to_string(),
            };
            writeln!(out, "{}: {what}", dir.join(path).display())?;
        }
        return Ok(if changes.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
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
            Ok(ExitCode::SUCCESS)
        }
        Err(conflicts) => {
            eprintln!("gluonvpn: error: {conflicts}");
            Ok(ExitCode::from(1))
        }
    }
}

fn keys_lladdr(text: &str) -> anyhow::Result<ExitCode> {
    let key = keys::parse_any_public_key(text.trim())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", derive::wireguard_link_local(&key))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sensitivity {
    Public,
    Secret,
}

/// Writes to standard output, or to `path` through a temporary file in the
/// same directory that is renamed over it: a reader never sees half a
/// file, and a secret is never in a file another user could read, not even
/// for a moment (the temporary file is created 0600).
fn write_output(path: Option<&Path>, bytes: &[u8], sensitivity: Sensitivity) -> anyhow::Result<()> {
    let Some(path) = path else {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    };
    use std::os::unix::fs::PermissionsExt as _;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".gluonvpn-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    let mode = match sensitivity {
        Sensitivity::Secret => 0o600,
        Sensitivity::Public => 0o644,
    };
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Prints a failed check's diagnostics to standard error, as `check` would.
fn report_rejected_site(outcome: &check::Outcome, version: GluonVersion) -> anyhow::Result<()> {
    let mut out = termcolor::StandardStream::stderr(color_choice());
    output::write(
        Format::Human,
        &output::Run::new(outcome, version, false),
        &mut out,
    )?;
    Ok(())
}

/// The Gluon release a build or pipeline uses: the ref's, or
/// --gluon-version's for a ref gluonvpn cannot place.
fn ref_version(reference: &str, explicit: Option<GluonVersion>) -> anyhow::Result<GluonVersion> {
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
fn select_targets(
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

fn run_build(args: &BuildArgs) -> anyhow::Result<ExitCode> {
    use crate::build::{self, feed, progress::Ui, report::TargetStatus};
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
        if !outcome.gluon_ok() {
            report_rejected_site(&outcome, version)?;
            eprintln!(
                "gluonvpn: error: not building{}: Gluon {version} would reject this site",
                target.map(|t| format!(" {t}")).unwrap_or_default()
            );
            return Ok(ExitCode::from(1));
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
            return Ok(ExitCode::from(130));
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
    Ok(ExitCode::from(outcome.exit_code()))
}

fn run_ci(args: &CiArgs) -> anyhow::Result<ExitCode> {
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
    // The site as the chosen release loads it, for site.mk's autoupdater
    // branch (the pipeline's check job reports its problems).
    let outcome = check::check(&args.site, &CheckOptions::new(version))?;
    let autoupdater_branch = args.autoupdater_branch.clone().or_else(|| {
        outcome
            .site
            .site_mk
            .as_ref()
            .and_then(|m| m.global.get("GLUON_AUTOUPDATER_BRANCH"))
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty())
    });
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
    if args.gluonvpn_git != crate::ci::GLUONVPN_GIT {
        command.extend(["--gluonvpn-git".into(), args.gluonvpn_git.clone()]);
    }
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
    Ok(ExitCode::SUCCESS)
}
