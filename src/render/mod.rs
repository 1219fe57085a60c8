//! `gluonvpn render`: the configuration a site implies, written as files.
//!
//! * [`node`]: what Gluon's upgrade scripts write on a node (UCI), and files
//!   that let a stock Linux act as such a node (fastd config, WireGuard
//!   peers, VXLAN parameters);
//! * [`gateway`]: a gateway's fastd, WireGuard + VXLAN, tunneldigger and
//!   batman-adv configuration, from the site and an [`inventory`] of what the site does
//!   not know;
//! * [`files`]: writing, checking and diffing a rendered [`Tree`];
//! * [`uci`], [`formats`]: writers and the parsers every rendered file is
//!   read back with before it is written;
//! * [`templates`]: the minijinja templates (`templates/` in the repository).
//!
//! Data flows one way: loaded site → per-domain views
//! ([`crate::site::views`]) → a [`Tree`] of files → [`files`].

pub mod files;
pub mod formats;
pub mod gateway;
/// The gateway inventory (it lives with the site model, which `check
/// --inventory` reads it with).
pub use crate::site::inventory;
pub mod node;
pub mod templates;
pub mod uci;

use crate::gluon_version::GluonVersion;
use crate::site::load::Site;
use crate::site::mesh_vpn::MeshVpn;
use crate::site::value::Node;
use crate::site::views::DomainView;
use std::collections::BTreeSet;

/// What a rendered file is, which decides how it is read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An OpenWrt UCI file ([`uci::parse`]).
    Uci,
    /// A fastd configuration ([`formats::check_fastd`]).
    Fastd,
    /// A fastd peer file: `key "…";` and remotes.
    FastdPeer,
    /// JSON ([`serde_json`]).
    Json,
    /// A `wg setconf` file ([`formats::parse_wg`]).
    WireGuard,
    /// `key=value` lines ([`formats::parse_key_values`]).
    KeyValue,
    /// A systemd unit or another INI file ([`formats::parse_ini`]).
    Ini,
    /// A shell script (run through `sh -n` in the tests).
    Shell,
    /// nftables `define`s (run through `nft --check` in the tests).
    Nft,
}

/// One entry of a rendered tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    File {
        /// Relative, `/`-separated.
        path: String,
        content: String,
        /// Unix permissions.
        mode: u32,
        format: Format,
    },
    /// A directory that must exist even when empty (a fastd peer directory).
    Dir { path: String },
}

impl Entry {
    pub fn path(&self) -> &str {
        match self {
            Entry::File { path, .. } | Entry::Dir { path } => path,
        }
    }
}

/// A rendered tree, and what the user should know about it.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub entries: Vec<Entry>,
    /// Warnings and notes, printed to standard error.
    pub notes: Vec<String>,
}

impl Tree {
    pub fn file(&mut self, path: impl Into<String>, content: String, format: Format) {
        let mode = if format == Format::Shell {
            0o755
        } else {
            0o644
        };
        self.entries.push(Entry::File {
            path: path.into(),
            content,
            mode,
            format,
        });
    }

    pub fn dir(&mut self, path: impl Into<String>) {
        self.entries.push(Entry::Dir { path: path.into() });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Moves every entry under `prefix/`.
    pub fn prefixed(mut self, prefix: &str) -> Tree {
        for entry in &mut self.entries {
            match entry {
                Entry::File { path, .. } | Entry::Dir { path } => {
                    *path = format!("{prefix}/{path}");
                }
            }
        }
        self
    }

    pub fn extend(&mut self, other: Tree) {
        self.entries.extend(other.entries);
        self.notes.extend(other.notes);
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.entries.iter().find_map(|e| match e {
            Entry::File {
                path: p, content, ..
            } if p == path => Some(content.as_str()),
            _ => None,
        })
    }

    /// Sorts the entries by path (directories before their contents).
    pub fn sort(&mut self) {
        self.entries.sort_by(|a, b| a.path().cmp(b.path()));
    }
}

/// Why rendering failed (problems of the site or the inventory, not I/O).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Invalid(String),
    #[error("internal error: a rendered file does not read back ({path}): {message}")]
    Reparse { path: String, message: String },
}

pub fn invalid(message: impl Into<String>) -> RenderError {
    RenderError::Invalid(message.into())
}

pub use crate::site::mesh_vpn::Provider;

pub use crate::site::mesh_vpn::FASTD_L2TP_PACKAGE;

/// What one domain of a site asks of its mesh VPN.
pub struct DomainPlan<'a> {
    pub view: DomainView<'a>,
    /// Providers that are both in the images and configured by the domain,
    /// in Gluon's order (the first is the active one).
    pub providers: Vec<Provider>,
}

impl DomainPlan<'_> {
    pub fn has(&self, provider: Provider) -> bool {
        self.providers.contains(&provider)
    }

    pub fn active(&self) -> Option<Provider> {
        self.providers.first().copied()
    }

    /// The domain's mesh VPN, typed.
    pub fn vpn(&self) -> &MeshVpn {
        &self.view.mesh_vpn
    }

    /// The domain's code, or `None` for a single-domain site.
    pub fn name(&self) -> Option<&str> {
        self.view.name
    }

    /// `mesh_vpn.enabled` with Gluon's default (false).
    pub fn vpn_enabled(&self) -> bool {
        self.view.mesh_vpn.enabled
    }

    /// `domain_seed` (single-domain sites have it in site.conf).
    pub fn domain_seed(&self) -> Option<&str> {
        self.view.merged.at(&["domain_seed"]).and_then(Node::as_str)
    }
}

/// The packages of the images of a device class (`standard` or `tiny`):
/// every package some image of the class has, and whether some image lacks
/// it (for notes).
pub struct ImagePackages<'a> {
    pub any: BTreeSet<&'a str>,
    pub all: BTreeSet<&'a str>,
    pub class: String,
}

impl<'a> ImagePackages<'a> {
    pub fn of(site: &'a Site, class: &str) -> ImagePackages<'a> {
        let mut images: Vec<_> = site.images.iter().filter(|i| i.class == class).collect();
        let mut class = class.to_string();
        if images.is_empty() {
            // The default selection has one image without a class; a site
            // may also build only the other class.
            images = site.images.iter().collect();
            class = "any".into();
        }
        let any: BTreeSet<&str> = images
            .iter()
            .flat_map(|i| i.packages.iter().map(String::as_str))
            .collect();
        let all = any
            .iter()
            .copied()
            .filter(|p| images.iter().all(|i| i.packages.contains(*p)))
            .collect();
        ImagePackages { any, all, class }
    }

    pub fn has(&self, package: &str) -> bool {
        self.any.contains(package)
    }
}

/// The plans of the site's domains (only `only`, a code or an alias, when
/// given).
pub fn plans<'a>(
    site: &'a Site,
    packages: &ImagePackages<'_>,
    only: Option<&str>,
) -> Result<Vec<DomainPlan<'a>>, RenderError> {
    // A domain is named by its code or an alias (`domain_names`), as on a
    // node.
    let only = match only {
        Some(name) if !site.multidomain => {
            return Err(invalid(format!(
            "the site has no domains (GLUON_MULTIDOMAIN is not set), so --domain {name} names none"
        )))
        }
        Some(name) => Some(
            site.domain_code(name)
                .ok_or_else(|| invalid(format!("the site has no domain '{name}'")))?,
        ),
        None => None,
    };
    let views = crate::site::views::domain_views(site, only)
        .ok_or_else(|| invalid("site.conf did not load"))?;
    Ok(views
        .into_iter()
        .map(|view| {
            let providers = Provider::ALL
                .into_iter()
                .filter(|p| packages.has(p.package()) && view.mesh_vpn.configures(*p))
                .collect();
            DomainPlan { view, providers }
        })
        .collect())
}

/// The header every rendered file starts with (as comment lines).
pub fn provenance(
    command: &str,
    site: &Site,
    version: GluonVersion,
    domain: Option<&str>,
) -> String {
    let site_name = site
        .site_conf
        .as_ref()
        .and_then(|c| c.at(&["site_code"]))
        .and_then(Node::as_str)
        .unwrap_or("?");
    let domain = domain.map(|d| format!(", domain {d}")).unwrap_or_default();
    // A comment line in every format: the site's values in it cannot end
    // it (see `escape::comment`).
    crate::templates::escape::comment(&format!(
        "Written by gluonvpn {} ({command}) for site {site_name}{domain}, Gluon {version}.",
        env!("CARGO_PKG_VERSION")
    ))
}
