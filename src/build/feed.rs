//! The agents feed: an OpenWrt package feed, generated into the workdir as a
//! git repository, that builds gluonvpn's Rust agents from the gluonvpn
//! workspace with openwrt/packages' Rust support.
//!
//! - One package per agent, `net/<package>/Makefile`, written the way
//!   openwrt/packages' Rust packages are (include
//!   `$(TOPDIR)/feeds/packages/lang/rust/rust-package.mk`,
//!   `PKG_BUILD_DEPENDS:=rust/host`, `DEPENDS:=$(RUST_ARCH_DEPENDS)`,
//!   `RustBinPackage`), with `CARGO_PKG_PROFILE:=agent` for the workspace's
//!   size profile, `MAKE_PATH` naming the agent's crate, and
//!   `RUST_PKG_FEATURES` its cargo features for OpenWrt (wgpeerselector:
//!   `ubus`, which links libubus from the staging directory).
//! - `net/<package>/src/`: a copy of the workspace (its root manifest,
//!   Cargo.lock and members: `cargo install --path` builds a member inside
//!   its workspace, with the workspace's lock file and profiles; the Rust
//!   packaging passes `--locked`). OpenWrt's default Build/Prepare copies
//!   `./src` into the build directory; a package's hash of its directory
//!   covers the copy, so a changed source rebuilds the package.
//! - `net/<package>/files/`: the agent's `openwrt/files/` (init scripts,
//!   UCI defaults, netifd protocol handlers), when it has one.
//! - `features`: Gluon's per-feed feature file, selecting the packages for
//!   the feature `gluonvpn-agents` (which the site overlay enables).
//!
//! The feed is committed without parent and with a fixed date, so its
//! commit id is a function of its content: an unchanged source gives the
//! same `PACKAGES_GLUONVPN_COMMIT`.

use super::fsutil::{self, Entry};
use super::BuildError;
use crate::templates;
use git2::{Repository, Signature, Time};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The feed's name in `GLUON_SITE_FEEDS` (so `PACKAGES_GLUONVPN_*`).
pub const FEED: &str = "gluonvpn";
/// The feed repository's branch.
pub const BRANCH: &str = "main";

/// One of gluonvpn's agents, as packaged for OpenWrt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agent {
    /// The name `--agents` takes, the crate's directory below `agents/` and
    /// its binary.
    pub name: &'static str,
    /// The OpenWrt package.
    pub package: &'static str,
    /// Where it runs: `node` or `gateway`.
    pub role: &'static str,
    pub title: &'static str,
    pub description: &'static [&'static str],
    /// Runtime dependencies besides the architecture.
    pub depends: &'static [&'static str],
    /// Cargo features to build with (`RUST_PKG_FEATURES`); each must be in
    /// the agent's Cargo.toml.
    pub cargo_features: &'static [&'static str],
    /// Variables for the agent's build script: the package Makefile adds
    /// them to cargo's environment (`CARGO_PKG_VARS`, as openwrt/packages'
    /// Rust packages do; values in make syntax).
    pub build_env: &'static [(&'static str, &'static str)],
    /// The package it replaces: the agent's package PROVIDES it.
    ///
    /// Gluon's packages depend on the Lua agent by name (gluon-mesh-vpn-wireguard
    /// has `+wgpeerselector`). For a name that several packages provide,
    /// OpenWrt's package-metadata.pl writes `select PACKAGE_wgpeerselector if
    /// PACKAGE_<rust package> < PACKAGE_gluon-mesh-vpn-wireguard`: with the
    /// Rust package selected as Gluon selects packages (`=m`, like
    /// gluon-mesh-vpn-wireguard), the Lua one is not selected at all, and opkg
    /// satisfies the dependency with the provider. No CONFLICTS: OpenWrt turns
    /// it into `depends on m || PACKAGE_wgpeerselector != y`, which together
    /// with that `select` is a recursive Kconfig dependency (verified on a real
    /// Gluon v2025.1.3 tree, tests/gluon_offline.rs).
    pub replaces: Option<&'static str>,
    /// Put into an image only where the device has this Gluon feature.
    pub feature: Option<&'static str>,
}

pub const AGENTS: &[Agent] = &[
    Agent {
        name: "wgpeerselector",
        package: "gluonvpn-wgpeerselector",
        role: "node",
        title: "WireGuard peer selector (Rust)",
        description: &[
            "Chooses the WireGuard gateway a Gluon node connects to. gluonvpn's",
            "Rust implementation of Gluon's Lua wgpeerselector, which it replaces.",
        ],
        // libubus and libubox: the status on ubus (cargo feature `ubus`),
        // linked dynamically; Gluon's images have them already
        // (gluon-mesh-vpn-wireguard depends on both).
        depends: &["kmod-wireguard", "libubus", "libubox"],
        cargo_features: &["ubus"],
        // its build.rs: link search path PREFIX/lib
        build_env: &[("GLUONVPN_UBUS_PREFIX", "$(STAGING_DIR)/usr")],
        replaces: Some("wgpeerselector"),
        feature: Some("mesh-vpn-wireguard"),
    },
    Agent {
        name: "wireguard-vxlan-glue",
        package: "gluonvpn-wireguard-vxlan-glue",
        role: "gateway",
        title: "WireGuard to VXLAN glue for Gluon gateways (Rust)",
        description: &[
            "Keeps a gateway's VXLAN forwarding entries and routes in step with",
            "the WireGuard peers that have a recent handshake.",
        ],
        depends: &["kmod-wireguard", "kmod-vxlan"],
        cargo_features: &[],
        build_env: &[],
        replaces: None,
        feature: None,
    },
];

pub fn agent(name: &str) -> Option<&'static Agent> {
    AGENTS.iter().find(|a| a.name == name)
}

/// The workspace the agents are built from, as read for the feed.
#[derive(Clone, Debug)]
pub struct Source {
    pub root: PathBuf,
    /// The files copied into the feed.
    pub entries: Vec<Entry>,
    /// [`fsutil::tree_hash`] of those files.
    pub sha256: String,
    /// Files left out: OpenWrt's feed scan would take a file named
    /// `Makefile` in the copy for a package.
    pub skipped: Vec<PathBuf>,
}

/// Reads the workspace at `root` for the given agents: the files git tracks
/// there (read from the working tree, so uncommitted edits count), or every
/// file but `target/` and `.git/` when it is not in git.
pub fn read_source(root: &Path, agents: &[&Agent]) -> Result<Source, BuildError> {
    let bad = |what: String| BuildError::AgentsSource {
        root: root.to_path_buf(),
        what,
    };
    if !root.join("Cargo.toml").is_file() {
        return Err(bad("no Cargo.toml".into()));
    }
    if !root.join("Cargo.lock").is_file() {
        return Err(bad(
            "no Cargo.lock (the agents are built with --locked)".into()
        ));
    }
    for a in agents {
        if !root
            .join("agents")
            .join(a.name)
            .join("Cargo.toml")
            .is_file()
        {
            return Err(bad(format!("no agents/{}/Cargo.toml", a.name)));
        }
    }
    let all = match tracked_files(root) {
        Some(files) => files,
        None => fsutil::list(root, &[".git", "target"], &[])
            .map_err(|e| bad(format!("cannot list the files: {e}")))?,
    };
    let (skipped, entries): (Vec<Entry>, Vec<Entry>) = all.into_iter().partition(|e| {
        e.rel
            .file_name()
            .is_some_and(|n| matches!(n.to_str(), Some("Makefile" | "makefile" | "GNUmakefile")))
    });
    let sha256 = fsutil::tree_hash(root, &entries)
        .map_err(|e| bad(format!("cannot read the files: {e}")))?;
    Ok(Source {
        root: root.to_path_buf(),
        entries,
        sha256,
        skipped: skipped.into_iter().map(|e| e.rel).collect(),
    })
}

/// The files of the git index below `root` that exist in the working tree,
/// when `root` is in a git repository.
fn tracked_files(root: &Path) -> Option<Vec<Entry>> {
    let repo = Repository::discover(root).ok()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let prefix = root
        .canonicalize()
        .ok()?
        .strip_prefix(&workdir)
        .ok()?
        .to_path_buf();
    let index = repo.index().ok()?;
    let mut out = Vec::new();
    for entry in index.iter() {
        let path = PathBuf::from(String::from_utf8_lossy(&entry.path).into_owned());
        let Ok(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let full = workdir.join(&path);
        let Ok(meta) = std::fs::symlink_metadata(&full) else {
            continue; // deleted in the working tree
        };
        if meta.is_dir() {
            continue; // a submodule
        }
        out.push(Entry {
            rel: rel.to_path_buf(),
            symlink: meta.file_type().is_symlink(),
        });
    }
    out.sort();
    Some(out)
}

/// What the feed is made of, before it is written.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// Generated files by their path in the feed.
    pub files: Vec<(PathBuf, String)>,
    /// Per package: its directory in the feed and whether it has `files/`.
    pub packages: Vec<(&'static Agent, PathBuf, Option<PathBuf>)>,
    pub notes: Vec<String>,
}

#[derive(Serialize)]
struct PackageContext<'a> {
    gluonvpn_version: &'a str,
    agent: &'a str,
    role: &'a str,
    package: &'a str,
    version: String,
    license: String,
    source_sha256: &'a str,
    crate_dir: String,
    title: &'a str,
    description: &'a [&'a str],
    /// ` +pkg` for each runtime dependency.
    depends: String,
    /// Comma-separated, as rust-package.mk passes them to `--features`.
    features: String,
    build_env: &'a [(&'a str, &'a str)],
    replaces: Option<&'a str>,
    binary: &'a str,
    files: bool,
}

#[derive(Serialize)]
struct FeatureRule {
    comment: String,
    feature: Option<&'static str>,
    package: &'static str,
}

/// Renders the feed's Makefiles and `features` file for the agents.
pub fn render(source: &Source, agents: &[&'static Agent]) -> Result<Rendered, BuildError> {
    let version = env!("CARGO_PKG_VERSION");
    let mut files = Vec::new();
    let mut packages = Vec::new();
    let mut notes = Vec::new();
    let root_manifest = read_manifest(&source.root.join("Cargo.toml"))?;
    for a in agents {
        let crate_dir = format!("agents/{}", a.name);
        let manifest = read_manifest(&source.root.join(&crate_dir).join("Cargo.toml"))?;
        let field = |name: &str| crate_field(&manifest, &root_manifest, name);
        // a feature the crate lacks would fail only in OpenWrt's build
        let declared = manifest.get("features").and_then(|f| f.as_table());
        for feature in a.cargo_features {
            if !declared.is_some_and(|f| f.contains_key(*feature)) {
                return Err(BuildError::AgentsSource {
                    root: source.root.clone(),
                    what: format!(
                        "{crate_dir}/Cargo.toml has no feature `{feature}`, which the {} \
                         package is built with",
                        a.package
                    ),
                });
            }
        }
        let files_dir = PathBuf::from(&crate_dir).join("openwrt/files");
        let has_files = source.entries.iter().any(|e| e.rel.starts_with(&files_dir));
        if !has_files && a.replaces.is_some() {
            notes.push(format!(
                "{crate_dir} has no openwrt/files/: {} installs only /usr/bin/{}, while the {} \
                 package it replaces also ships its configuration and scripts",
                a.package,
                a.name,
                a.replaces.unwrap_or_default()
            ));
        }
        let context = PackageContext {
            gluonvpn_version: version,
            agent: a.name,
            role: a.role,
            package: a.package,
            version: field("version").unwrap_or_else(|| "0.0.0".into()),
            license: field("license").unwrap_or_else(|| "GPL-3.0-or-later".into()),
            source_sha256: &source.sha256,
            crate_dir: crate_dir.clone(),
            title: a.title,
            description: a.description,
            depends: a.depends.iter().map(|d| format!(" +{d}")).collect(),
            features: a.cargo_features.join(","),
            build_env: a.build_env,
            replaces: a.replaces,
            binary: a.name,
            files: has_files,
        };
        let dir = PathBuf::from("net").join(a.package);
        let makefile = templates::render("build/agent-package.Makefile.j2", &context)
            .map_err(|e| BuildError::Internal(e.to_string()))?;
        files.push((dir.join("Makefile"), makefile));
        packages.push((*a, dir, has_files.then_some(files_dir)));
    }
    let rules: Vec<FeatureRule> = agents
        .iter()
        .map(|a| FeatureRule {
            comment: match a.feature {
                Some(f) => format!("{} ({}) where the device has {f}", a.package, a.role),
                None => format!("{} ({})", a.package, a.role),
            },
            feature: a.feature,
            package: a.package,
        })
        .collect();
    let features = templates::render(
        "build/features.j2",
        minijinja::context! { gluonvpn_version => version, rules => rules },
    )
    .map_err(|e| BuildError::Internal(e.to_string()))?;
    files.push((PathBuf::from("features"), features));
    Ok(Rendered {
        files,
        packages,
        notes,
    })
}

fn read_manifest(path: &Path) -> Result<toml::Table, BuildError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BuildError::Io(format!("cannot read {}: {e}", path.display())))?;
    text.parse::<toml::Table>()
        .map_err(|e| BuildError::Io(format!("{}: {e}", path.display())))
}

/// `[package] name = "…"`, or the workspace's value for `name.workspace =
/// true`.
fn crate_field(manifest: &toml::Table, root: &toml::Table, name: &str) -> Option<String> {
    let value = manifest.get("package")?.get(name)?;
    if let Some(s) = value.as_str() {
        return Some(s.to_string());
    }
    if value.get("workspace").and_then(|v| v.as_bool()) == Some(true) {
        return root
            .get("workspace")?
            .get("package")?
            .get(name)?
            .as_str()
            .map(str::to_string);
    }
    None
}

/// Writes the feed into the git repository at `dir` (created when missing)
/// and commits it; returns the commit id.
pub fn write(dir: &Path, source: &Source, rendered: &Rendered) -> Result<String, BuildError> {
    let io = |e: std::io::Error| BuildError::Io(format!("{}: {e}", dir.display()));
    let g = |e: git2::Error| BuildError::Git(format!("{}: {}", dir.display(), e.message()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let repo = match Repository::open(dir) {
        Ok(r) => r,
        Err(_) => Repository::init(dir).map_err(g)?,
    };
    // Start from nothing but the repository itself.
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.file_name() == ".git" {
            continue;
        }
        let path = entry.path();
        if entry.file_type().map_err(io)?.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io)?;
        } else {
            std::fs::remove_file(&path).map_err(io)?;
        }
    }
    for (rel, content) in &rendered.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, content).map_err(io)?;
    }
    for (_, pkg_dir, files_dir) in &rendered.packages {
        let dest = dir.join(pkg_dir);
        fsutil::copy_entries(&source.root, &dest.join("src"), &source.entries).map_err(io)?;
        if let Some(files_dir) = files_dir {
            let entries: Vec<Entry> = source
                .entries
                .iter()
                .filter_map(|e| {
                    e.rel.strip_prefix(files_dir).ok().map(|rel| Entry {
                        rel: rel.to_path_buf(),
                        symlink: e.symlink,
                    })
                })
                .collect();
            fsutil::copy_entries(&source.root.join(files_dir), &dest.join("files"), &entries)
                .map_err(io)?;
        }
    }
    let mut index = repo.index().map_err(g)?;
    index.clear().map_err(g)?;
    index
        .add_all(["*"], git2::IndexAddOption::FORCE, None)
        .map_err(g)?;
    index.write().map_err(g)?;
    let tree_id = index.write_tree().map_err(g)?;
    let tree = repo.find_tree(tree_id).map_err(g)?;
    // A fixed identity and date and no parent: the commit id depends on the
    // content only.
    let signature =
        Signature::new("gluonvpn", "gluonvpn@invalid", &Time::new(1_577_836_800, 0)).map_err(g)?;
    let message = format!(
        "gluonvpn agents feed\n\nGenerated by gluonvpn {} from a workspace whose files hash to sha256 {}.\n",
        env!("CARGO_PKG_VERSION"),
        source.sha256
    );
    let commit = repo
        .commit(None, &signature, &signature, &message, &tree, &[])
        .map_err(g)?;
    let refname = format!("refs/heads/{BRANCH}");
    repo.reference(&refname, commit, true, "gluonvpn build")
        .map_err(g)?;
    repo.set_head(&refname).map_err(g)?;
    Ok(commit.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |p: &str, s: &str| {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, s).unwrap();
        };
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"agents/wgpeerselector\"]\n\n[workspace.package]\nlicense = \"GPL-3.0-or-later\"\nversion = \"0.3.0\"\n",
        );
        write("Cargo.lock", "version = 4\n");
        write(
            "agents/wgpeerselector/Cargo.toml",
            "[package]\nname = \"wgpeerselector\"\nversion.workspace = true\nlicense.workspace = true\n\n[features]\nubus = []\n",
        );
        write("agents/wgpeerselector/src/main.rs", "fn main() {}\n");
        write("docs/Makefile", "all:\n");
        write("target/debug/junk", "x");
        dir
    }

    #[test]
    fn source_and_rendering() {
        let ws = workspace();
        let agents = [agent("wgpeerselector").unwrap()];
        let source = read_source(ws.path(), &agents).unwrap();
        let names: Vec<_> = source.entries.iter().map(|e| e.rel.clone()).collect();
        assert!(names.contains(&PathBuf::from("Cargo.lock")));
        assert!(!names.iter().any(|n| n.starts_with("target")));
        assert_eq!(source.skipped, [PathBuf::from("docs/Makefile")]);
        let rendered = render(&source, &agents).unwrap();
        let makefile = &rendered.files[0].1;
        assert!(makefile.contains("PKG_VERSION:=0.3.0\n"), "{makefile}");
        assert!(makefile.contains("PKG_LICENSE:=GPL-3.0-or-later\n"));
        assert!(makefile.contains("MAKE_PATH:=agents/wgpeerselector\n"));
        assert!(makefile.contains("  PROVIDES:=wgpeerselector\n"));
        assert!(makefile
            .contains("  DEPENDS:=$(RUST_ARCH_DEPENDS) +kmod-wireguard +libubus +libubox\n"));
        assert!(
            makefile.contains("\nRUST_PKG_FEATURES:=ubus\n"),
            "{makefile}"
        );
        assert!(makefile.contains("\nCARGO_PKG_VARS+=GLUONVPN_UBUS_PREFIX=$(STAGING_DIR)/usr\n"));
        assert!(!makefile.contains("./files"));
        assert_eq!(rendered.notes.len(), 1, "{:?}", rendered.notes);
        let features = &rendered.files[1].1;
        assert!(features.contains(
            "when(_'gluonvpn-agents' and _'mesh-vpn-wireguard', {'gluonvpn-wgpeerselector'})"
        ));
    }

    #[test]
    fn a_feature_the_crate_lacks_is_an_error_before_the_build() {
        let ws = workspace();
        std::fs::write(
            ws.path().join("agents/wgpeerselector/Cargo.toml"),
            "[package]\nname = \"wgpeerselector\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        let agents = [agent("wgpeerselector").unwrap()];
        let source = read_source(ws.path(), &agents).unwrap();
        let err = render(&source, &agents).unwrap_err().to_string();
        assert!(
            err.contains("agents/wgpeerselector/Cargo.toml has no feature `ubus`"),
            "{err}"
        );
    }

    #[test]
    fn the_commit_depends_on_the_content_only() {
        let ws = workspace();
        let agents = [agent("wgpeerselector").unwrap()];
        let source = read_source(ws.path(), &agents).unwrap();
        let rendered = render(&source, &agents).unwrap();
        let feed = tempfile::tempdir().unwrap();
        let first = write(feed.path(), &source, &rendered).unwrap();
        assert_eq!(first, write(feed.path(), &source, &rendered).unwrap());
        let other = tempfile::tempdir().unwrap();
        assert_eq!(first, write(other.path(), &source, &rendered).unwrap());
        assert!(feed
            .path()
            .join("net/gluonvpn-wgpeerselector/src/agents/wgpeerselector/src/main.rs")
            .is_file());
        std::fs::write(
            ws.path().join("agents/wgpeerselector/src/main.rs"),
            "fn main() { }\n",
        )
        .unwrap();
        let changed = read_source(ws.path(), &agents).unwrap();
        assert_ne!(changed.sha256, source.sha256);
        let rendered = render(&changed, &agents).unwrap();
        assert_ne!(first, write(feed.path(), &changed, &rendered).unwrap());
    }
}
