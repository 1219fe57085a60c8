//! The site as the build sees it: a copy of the user's site in the workdir
//! (never the user's files) with what the agents need laid over it.
//!
//! - `modules`: the site's own `modules` (if any), then a block that adds
//!   the agents feed as one more site feed (`GLUON_SITE_FEEDS`,
//!   `PACKAGES_GLUONVPN_REPO/_BRANCH/_COMMIT`). Gluon's scripts source its
//!   own `modules` and then the site's, so the site's overrides stay in
//!   force.
//! - Gluon v2023.2 and later: `image-customization.lua` becomes a wrapper
//!   that includes the site's file (renamed to
//!   `gluonvpn-site-image-customization.lua`, otherwise unchanged) and then
//!   `gluonvpn-agents.lua`, which enables the feed's feature
//!   `gluonvpn-agents` except on targets that keep Gluon's own agents.
//!   Gluon's `include()` evaluates a file in the same environment as the
//!   including one, once per device, so the site's selections are exactly
//!   what they were.
//! - Gluon v2022.1 and v2023.1 read features from site.mk: a block appended
//!   to the copy of site.mk adds `gluonvpn-agents` to `GLUON_FEATURES`.
//! - `.scmversion`: the site repository's `git describe`, which Gluon's
//!   getversion.sh would have read from the site's `.git` (the copy has
//!   none) for GLUON_SITE_VERSION.

use super::fsutil::{self, Entry};
use super::gluon::SiteRepo;
use super::{feed, BuildError};
use crate::gluon_version::GluonVersion;
use crate::templates;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The site's own image-customization.lua, in the copy.
pub const SITE_IMAGE_CUSTOMIZATION: &str = "gluonvpn-site-image-customization.lua";
/// The generated file enabling the agents.
pub const AGENTS_IMAGE_CUSTOMIZATION: &str = "gluonvpn-agents.lua";

/// The user's site: its files and what identifies them.
#[derive(Clone, Debug)]
pub struct Content {
    pub dir: PathBuf,
    pub entries: Vec<Entry>,
    /// [`fsutil::tree_hash`] of the site's files.
    pub sha256: String,
    pub repo: Option<SiteRepo>,
}

/// Reads the site directory (without `.git`, and without the paths in
/// `skip`: a workdir or output directory inside the site).
pub fn read(dir: &Path, skip: &[PathBuf]) -> Result<Content, BuildError> {
    let io =
        |e: std::io::Error| BuildError::Io(format!("cannot read the site {}: {e}", dir.display()));
    let entries = fsutil::list(dir, &[".git"], skip).map_err(io)?;
    let sha256 = fsutil::tree_hash(dir, &entries).map_err(io)?;
    Ok(Content {
        dir: dir.to_path_buf(),
        entries,
        sha256,
        repo: super::gluon::site_repo(dir),
    })
}

/// What the agents add to the site.
#[derive(Clone, Debug)]
pub struct Overlay {
    pub version: GluonVersion,
    /// The feed repository (an absolute path).
    pub feed_repo: PathBuf,
    pub feed_commit: String,
    /// Targets that keep Gluon's own agents: (name, board, subtarget).
    pub excluded: Vec<(String, String, String)>,
}

#[derive(Serialize)]
struct Excluded<'a> {
    board: &'a str,
    subtarget: &'a str,
}

/// Writes the build's copy of the site into `dest` (replacing what was
/// there) and lays the overlay over it.
pub fn write(dest: &Path, content: &Content, overlay: Option<&Overlay>) -> Result<(), BuildError> {
    let io = |e: std::io::Error| BuildError::Io(format!("{}: {e}", dest.display()));
    fsutil::remove_dir(dest).map_err(io)?;
    std::fs::create_dir_all(dest).map_err(io)?;
    fsutil::copy_entries(&content.dir, dest, &content.entries).map_err(io)?;
    if let Some(version) = content.repo.as_ref().and_then(|r| r.version.as_ref()) {
        let path = dest.join(".scmversion");
        if !path.exists() {
            std::fs::write(&path, format!("{version}\n")).map_err(io)?;
        }
    }
    let Some(overlay) = overlay else {
        return Ok(());
    };
    let version = env!("CARGO_PKG_VERSION");
    let render = |name: &str, ctx: minijinja::Value| {
        templates::render(name, ctx).map_err(|e| BuildError::Internal(e.to_string()))
    };

    let modules_path = dest.join("modules");
    let mut modules = std::fs::read_to_string(&modules_path).unwrap_or_default();
    let block = render(
        "build/modules.j2",
        minijinja::context! {
            gluonvpn_version => version,
            site_modules => !modules.is_empty(),
            feed => feed::FEED,
            repo => fsutil::shell_quote(&overlay.feed_repo.display().to_string()),
            branch => feed::BRANCH,
            commit => overlay.feed_commit,
        },
    )?;
    if !modules.is_empty() && !modules.ends_with('\n') {
        modules.push('\n');
    }
    modules.push_str(&block);
    std::fs::write(&modules_path, modules).map_err(io)?;

    let excluded: Vec<Excluded> = overlay
        .excluded
        .iter()
        .map(|(_, board, subtarget)| Excluded { board, subtarget })
        .collect();
    if overlay.version >= GluonVersion::V2023_2 {
        let site_file = dest.join("image-customization.lua");
        if site_file.exists() {
            std::fs::rename(&site_file, dest.join(SITE_IMAGE_CUSTOMIZATION)).map_err(io)?;
        } else {
            std::fs::write(dest.join(SITE_IMAGE_CUSTOMIZATION), "").map_err(io)?;
        }
        let wrapper = render(
            "build/image-customization.lua.j2",
            minijinja::context! {
                gluonvpn_version => version,
                site_file => SITE_IMAGE_CUSTOMIZATION,
                agents_file => AGENTS_IMAGE_CUSTOMIZATION,
            },
        )?;
        std::fs::write(&site_file, wrapper).map_err(io)?;
        let agents = render(
            "build/agents.lua.j2",
            minijinja::context! { gluonvpn_version => version, excluded => excluded },
        )?;
        std::fs::write(dest.join(AGENTS_IMAGE_CUSTOMIZATION), agents).map_err(io)?;
    } else {
        let names: Vec<&str> = overlay
            .excluded
            .iter()
            .map(|(n, _, _)| n.as_str())
            .collect();
        let block = render(
            "build/site-mk.j2",
            minijinja::context! {
                gluonvpn_version => version,
                gluon_version => overlay.version.label(),
                excluded => names,
            },
        )?;
        let path = dest.join("site.mk");
        let mut text = std::fs::read_to_string(&path).map_err(io)?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&block);
        std::fs::write(&path, text).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.conf"), "{}\n").unwrap();
        std::fs::write(dir.path().join("site.mk"), "GLUON_RELEASE ?= 1\n").unwrap();
        std::fs::write(
            dir.path().join("image-customization.lua"),
            "features {'mesh-vpn-wireguard'}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("modules"),
            "GLUON_SITE_FEEDS='community'\nPACKAGES_COMMUNITY_REPO=https://example.org/x.git",
        )
        .unwrap();
        dir
    }

    fn overlay(version: GluonVersion) -> Overlay {
        Overlay {
            version,
            feed_repo: PathBuf::from("/work dir/feed"),
            feed_commit: "0123456789abcdef0123456789abcdef01234567".into(),
            excluded: vec![
                ("mpc85xx-p1010".into(), "mpc85xx".into(), "p1010".into()),
                ("mpc85xx-p1020".into(), "mpc85xx".into(), "p1020".into()),
            ],
        }
    }

    #[test]
    fn the_overlay_leaves_the_site_alone() {
        let src = site();
        let before = read(src.path(), &[]).unwrap();
        let dest = tempfile::tempdir().unwrap();
        let merged = dest.path().join("site");
        write(&merged, &before, Some(&overlay(GluonVersion::V2025_1))).unwrap();
        assert_eq!(read(src.path(), &[]).unwrap().sha256, before.sha256);

        let modules = std::fs::read_to_string(merged.join("modules")).unwrap();
        assert!(
            modules.starts_with(
                "GLUON_SITE_FEEDS='community'\nPACKAGES_COMMUNITY_REPO=https://example.org/x.git\n"
            ),
            "{modules}"
        );
        assert!(
            modules.contains(
                "GLUON_SITE_FEEDS=\"${GLUON_SITE_FEEDS:+$GLUON_SITE_FEEDS }gluonvpn\"\n\
             PACKAGES_GLUONVPN_REPO='/work dir/feed'\n\
             PACKAGES_GLUONVPN_BRANCH=main\n\
             PACKAGES_GLUONVPN_COMMIT=0123456789abcdef0123456789abcdef01234567\n"
            ),
            "{modules}"
        );
        // The shell reads it as Gluon's scripts/modules.sh does.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                ". '{}'; echo \"$GLUON_SITE_FEEDS|$PACKAGES_GLUONVPN_REPO\"",
                merged.join("modules").display()
            ))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "community gluonvpn|/work dir/feed\n"
        );

        let wrapper = std::fs::read_to_string(merged.join("image-customization.lua")).unwrap();
        assert!(wrapper.contains("include('gluonvpn-site-image-customization.lua')\ninclude('gluonvpn-agents.lua')\n"), "{wrapper}");
        assert_eq!(
            std::fs::read_to_string(merged.join(SITE_IMAGE_CUSTOMIZATION)).unwrap(),
            "features {'mesh-vpn-wireguard'}\n"
        );
        let agents = std::fs::read_to_string(merged.join(AGENTS_IMAGE_CUSTOMIZATION)).unwrap();
        assert!(agents.contains("if not (target('mpc85xx', 'p1010') or target('mpc85xx', 'p1020')) then\n\tfeatures({'gluonvpn-agents'})\nend\n"), "{agents}");
        assert_eq!(
            std::fs::read_to_string(merged.join("site.mk")).unwrap(),
            "GLUON_RELEASE ?= 1\n"
        );
    }

    #[test]
    fn older_releases_get_the_feature_through_site_mk() {
        let src = site();
        let content = read(src.path(), &[]).unwrap();
        let dest = tempfile::tempdir().unwrap();
        write(dest.path(), &content, Some(&overlay(GluonVersion::V2023_1))).unwrap();
        let site_mk = std::fs::read_to_string(dest.path().join("site.mk")).unwrap();
        assert!(site_mk.starts_with("GLUON_RELEASE ?= 1\n"));
        assert!(site_mk.contains("ifeq ($(filter mpc85xx-p1010 mpc85xx-p1020,$(GLUON_TARGET)),)\nGLUON_FEATURES += gluonvpn-agents\nendif\n"), "{site_mk}");
        // make agrees.
        for (target, want) in [("x86-64", "a gluonvpn-agents"), ("mpc85xx-p1010", "a")] {
            let out = std::process::Command::new("make")
                .args(["-s", "-f", "-", &format!("GLUON_TARGET={target}")])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    use std::io::Write as _;
                    c.stdin.take().unwrap().write_all(
                        format!(
                            "GLUON_FEATURES := a\ninclude {}\nall:\n\t@echo $(GLUON_FEATURES)\n",
                            dest.path().join("site.mk").display()
                        )
                        .as_bytes(),
                    )?;
                    c.wait_with_output()
                })
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                want,
                "{target}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(dest.path().join("image-customization.lua")).unwrap(),
            "features {'mesh-vpn-wireguard'}\n"
        );
    }
}
