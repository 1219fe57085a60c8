//! `gluonvpn keys`: fastd keys translated to WireGuard, and a node's
//! link-local address.

use super::{write_output, Exit, Sensitivity};
use crate::input::{self, caps};
use crate::keys::{FastdPublicKey, Secret};
use crate::{derive, fastd_conf, keys, peers};
use anyhow::Context as _;
use clap::Subcommand;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

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
    /// anew; mode 0600 for a private key, 0644 otherwise; `-`: standard
    /// output). A symbolic link there is refused, never written through.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub(super) fn translate(args: &TranslateArgs) -> anyhow::Result<Exit> {
    if args.private || args.private_file.is_some() {
        if args.key.is_some() {
            // Never echo the argument: it may well be the secret.
            anyhow::bail!(
                "--private does not take the secret as an argument: on the command line other \
                 users see it in the process list and it stays in the shell history. Pipe it to \
                 standard input (`gluonvpn keys translate --private < FILE`) or use --private-file FILE"
            );
        }
        return translate_private(args);
    }
    if let Some(dir) = &args.peers_dir {
        return translate_peers(dir, args.out.as_deref());
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
    Ok(Exit::Clean)
}

fn translate_private(args: &TranslateArgs) -> anyhow::Result<Exit> {
    // Read into memory that is zeroed when dropped, in one allocation, and
    // never more than a secret can be.
    let (text, source) = match &args.private_file {
        Some(path) => (
            input::read_secret(path, caps::SECRET)
                .with_context(|| format!("{} is no usable secret file", path.display()))?,
            path.display().to_string(),
        ),
        None => {
            let stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                eprintln!(
                    "gluonvpn: reading the fastd secret from standard input (end with Ctrl-D)"
                );
            }
            let text = input::read_secret_stream(stdin, caps::SECRET)
                .context("the secret on standard input is unusable")?;
            (text, "<stdin>".to_string())
        }
    };
    let secret =
        parse_secret_text(&text).with_context(|| format!("no usable fastd secret in {source}"))?;
    let mut line = secret.expose_wireguard_base64();
    line.push('\n');
    write_output(args.out.as_deref(), line.as_bytes(), Sensitivity::Secret)?;
    Ok(Exit::Clean)
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

fn translate_peers(dir: &Path, out: Option<&Path>) -> anyhow::Result<Exit> {
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
    Ok(Exit::problems_if(!read.errors.is_empty()))
}

pub(super) fn lladdr(text: &str) -> anyhow::Result<Exit> {
    let key = keys::parse_any_public_key(text.trim())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", derive::wireguard_link_local(&key))?;
    Ok(Exit::Clean)
}
