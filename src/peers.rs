//! A gateway's fastd peer directory → the WireGuard peers the same gateway
//! needs once its nodes run WireGuard.
//!
//! A fastd gateway knows its nodes from a peer directory: one file per node,
//! named after the node, holding `key "<64 hex digits>";`. The directory is
//! read as fastd reads it (`read_peer_dir` in fastd's `src/config.c`): files
//! whose names start with `.` or end with `~` are skipped, and so is
//! anything that is not a regular file (after following symlinks).
//!
//! After the switch, such a node has the same secret (Gluon translates it,
//! see `book/src/keys.md`), hence the translated public key, and it
//! configures the link-local address [`crate::derive::wireguard_link_local`]
//! of that key on its WireGuard interface. The gateway needs one peer per
//! node with that key and that address as allowed IP. [`render`] writes
//! them in `wg`'s configuration format, for `wg addconf IFACE FILE` or to
//! paste under a wg-quick `[Interface]`:
//!
//! ```text
//! [Peer]
//! # <peer file name>
//! PublicKey = <translated key, base64>
//! AllowedIPs = <node link-local address>/128
//! ```
//!
//! Blocks are sorted by peer name and separated by one empty line, after a
//! header of `#` comments. [`parse`] reads such a file back; the command
//! re-parses what it renders before writing it.

use crate::derive::wireguard_link_local;
use crate::fastd_conf::{self, ConfError};
use crate::input::{self, caps, Within};
use crate::keys::{FastdPublicKey, WgPublicKey};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

/// One node, as the gateway's WireGuard needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerEntry {
    /// The fastd peer file's name.
    pub name: String,
    pub public_key: WgPublicKey,
    pub link_local: Ipv6Addr,
}

impl PeerEntry {
    pub fn from_fastd(name: &str, key: &FastdPublicKey) -> PeerEntry {
        let public_key = key.to_wireguard();
        PeerEntry {
            name: name.to_string(),
            link_local: wireguard_link_local(&public_key),
            public_key,
        }
    }
}

/// A peer file that could not be translated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerFileError {
    pub path: PathBuf,
    /// 1-based line and column, where there is a place to point at.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for PeerFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// What a peer directory yielded: the nodes (sorted by name) and the files
/// that failed. A failed file never stops the others.
#[derive(Debug, Default)]
pub struct PeerDir {
    pub entries: Vec<PeerEntry>,
    pub errors: Vec<PeerFileError>,
    /// Names skipped as fastd skips them (dot files, backups, non-files).
    pub skipped: Vec<String>,
}

/// Reads the `key` of one fastd peer file's text.
pub fn peer_key(text: &str) -> Result<FastdPublicKey, ConfError> {
    let found = fastd_conf::single_string_statement(text, "key", fastd_conf::Includes::Refuse)?;
    FastdPublicKey::from_hex(&found.value).map_err(|e| ConfError {
        line: found.line,
        column: found.column,
        message: e.to_string(),
    })
}

/// Reads every peer file of `dir`. Only an unreadable directory is an
/// `Err`; problems with single files are collected in [`PeerDir::errors`].
pub fn read_peer_dir(dir: &Path) -> std::io::Result<PeerDir> {
    let mut files = BTreeMap::new();
    let mut out = PeerDir::default();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let path = entry.path();
        let Some(name) = name.to_str().map(str::to_string) else {
            out.errors.push(PeerFileError {
                path,
                position: None,
                message: "the file name is not UTF-8, so it cannot name a peer".into(),
            });
            continue;
        };
        if name.starts_with('.') || name.ends_with('~') {
            out.skipped.push(name);
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                files.insert(name, path);
            }
            Ok(_) => out.skipped.push(name),
            Err(e) => out.errors.push(PeerFileError {
                path,
                position: None,
                message: e.to_string(),
            }),
        }
    }
    let mut seen: BTreeMap<WgPublicKey, String> = BTreeMap::new();
    for (name, path) in files {
        let fail = |position, message: String| PeerFileError {
            path: path.clone(),
            position,
            message,
        };
        if name.chars().any(char::is_control) {
            out.errors.push(fail(
                None,
                "the file name has control characters, so it cannot be a comment in a WireGuard config".into(),
            ));
            continue;
        }
        let text = match input::read(&path, Within::Directory(dir), caps::PEER_FILE) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    out.errors.push(fail(None, "not UTF-8 text".into()));
                    continue;
                }
            },
            Err(e) => {
                out.errors.push(fail(None, e.to_string()));
                continue;
            }
        };
        match peer_key(&text) {
            Ok(key) => {
                let entry = PeerEntry::from_fastd(&name, &key);
                if let Some(first) = seen.get(&entry.public_key) {
                    out.errors.push(fail(
                        None,
                        format!(
                            "the same key as peer '{first}'; WireGuard can have each key only once"
                        ),
                    ));
                    continue;
                }
                seen.insert(entry.public_key, name);
                out.entries.push(entry);
            }
            Err(e) => out.errors.push(fail(Some((e.line, e.column)), e.message)),
        }
    }
    Ok(out)
}

/// The WireGuard peers file (format in the module documentation).
pub fn render(entries: &[PeerEntry], source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# WireGuard peers of the Gluon nodes in the fastd peer directory {source},"
    );
    let _ = writeln!(
        out,
        "# written by gluonvpn {} (gluonvpn keys translate --peers-dir).",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "# Each node keeps its secret when it switches to WireGuard: PublicKey is its\n\
         # fastd key translated, AllowedIPs the link-local address Gluon derives from\n\
         # that key (the node's VXLAN endpoint). Load with `wg addconf IFACE FILE`.\n",
    );
    let mut sorted: Vec<&PeerEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for e in sorted {
        let _ = write!(
            out,
            "\n[Peer]\n# {}\nPublicKey = {}\nAllowedIPs = {}/128\n",
            e.name, e.public_key, e.link_local
        );
    }
    out
}

/// Reads a file written by [`render`] back: every `[Peer]` block with its
/// name comment, key and allowed IP. Anything else is an error.
pub fn parse(text: &str) -> Result<Vec<PeerEntry>, String> {
    let mut entries = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        if line.is_empty() || (line.starts_with('#') && entries.is_empty()) {
            continue;
        }
        if line != "[Peer]" {
            return Err(format!("line {}: expected [Peer]", n + 1));
        }
        let mut next = |what: &str| {
            lines
                .next()
                .map(|(_, l)| l)
                .ok_or_else(|| format!("line {}: [Peer] without {what}", n + 1))
        };
        let name = next("a name")?
            .strip_prefix("# ")
            .ok_or_else(|| format!("line {}: expected '# NAME'", n + 2))?
            .to_string();
        let key = next("PublicKey")?
            .strip_prefix("PublicKey = ")
            .ok_or_else(|| format!("line {}: expected 'PublicKey = '", n + 3))?;
        let public_key =
            WgPublicKey::from_base64(key).map_err(|e| format!("line {}: {e}", n + 3))?;
        let ip = next("AllowedIPs")?
            .strip_prefix("AllowedIPs = ")
            .and_then(|v| v.strip_suffix("/128"))
            .ok_or_else(|| format!("line {}: expected 'AllowedIPs = ADDRESS/128'", n + 4))?;
        let link_local = ip.parse().map_err(|e| format!("line {}: {e}", n + 4))?;
        entries.push(PeerEntry {
            name,
            public_key,
            link_local,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "d3ac6266452a01a771e3c06b3b285d3dc04fe5be266f70392463497ae283a70b";

    #[test]
    fn rendered_peers_parse_back() {
        let key = FastdPublicKey::from_hex(PUBLIC).unwrap();
        let entries = vec![
            PeerEntry::from_fastd("b-node", &key),
            PeerEntry::from_fastd("a-node", &key),
        ];
        let text = render(&entries, "/etc/fastd/peers");
        let back = parse(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].name, "a-node");
        assert_eq!(back[1], entries[0]);
    }
}
