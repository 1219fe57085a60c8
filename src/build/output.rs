//! The output tree: `OUT/<release>/images/{factory,sysupgrade,other}`,
//! `OUT/<release>/packages/…` and the report.
//!
//! A build never writes into `OUT/<release>` itself. It starts a staging
//! directory beside it holding the previous release directory's files
//! (hard links), replaces the files of each target it builds as the target
//! finishes, writes the report, and only then swaps the staging directory
//! in (two renames). So a reader — or a build stopped with Ctrl-C — never
//! sees a half-written tree: it has the old tree or the new one.

use super::fsutil;
use super::report::{Image, Packages, TargetReport};
use super::BuildError;
use std::path::{Path, PathBuf};

/// The kinds of images Gluon writes (`output/images/<kind>/`).
pub const IMAGE_KINDS: [&str; 3] = ["factory", "sysupgrade", "other"];

fn io(path: &Path) -> impl Fn(std::io::Error) -> BuildError + '_ {
    move |e| BuildError::Io(format!("{}: {e}", path.display()))
}

/// A staging directory for `OUT/<release>`.
pub struct Staging {
    pub dir: PathBuf,
    pub release_dir: PathBuf,
}

impl Staging {
    /// Starts staging for `release_dir`, with the files of the previous
    /// build.
    pub fn begin(release_dir: &Path) -> Result<Staging, BuildError> {
        let parent = release_dir.parent().unwrap_or(Path::new("."));
        let name = release_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        recover(parent, &name)?;
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let dir = parent.join(format!(".{name}.staging-{}", std::process::id()));
        fsutil::remove_dir(&dir).map_err(io(&dir))?;
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        if release_dir.is_dir() {
            fsutil::link_tree(release_dir, &dir).map_err(io(&dir))?;
            let _ = std::fs::remove_file(dir.join(super::report::FILE));
        }
        Ok(Staging {
            dir,
            release_dir: release_dir.to_path_buf(),
        })
    }

    /// Removes what an earlier build of a target left (its images and
    /// package repository, as its report entry lists them).
    pub fn remove_target(&self, previous: &TargetReport) -> Result<(), BuildError> {
        for image in &previous.images {
            let path = self.dir.join(&image.path);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&path)(e)),
                _ => {}
            }
        }
        if let Some(p) = &previous.packages {
            let path = self.dir.join(&p.path);
            fsutil::remove_dir(&path).map_err(io(&path))?;
        }
        Ok(())
    }

    /// Moves a target's images and packages from a Gluon tree's output
    /// directory into the staging directory.
    pub fn collect(&self, output: &Path) -> Result<(Vec<Image>, Option<Packages>), BuildError> {
        let mut images = Vec::new();
        for kind in IMAGE_KINDS {
            let from = output.join("images").join(kind);
            if !from.is_dir() {
                continue;
            }
            let entries = fsutil::list(&from, &[], &[]).map_err(io(&from))?;
            let to = self.dir.join("images").join(kind);
            std::fs::create_dir_all(&to).map_err(io(&to))?;
            // Files first, so that the links Gluon makes for image aliases
            // can be described by what they point to.
            for e in entries.iter().filter(|e| !e.symlink) {
                let dest = to.join(&e.rel);
                move_file(&from.join(&e.rel), &dest)?;
                let meta = std::fs::metadata(&dest).map_err(io(&dest))?;
                images.push(Image {
                    path: format!("images/{kind}/{}", e.rel.display()),
                    kind: kind.to_string(),
                    size: meta.len(),
                    sha256: fsutil::sha256_file(&dest).map_err(io(&dest))?,
                    alias_of: None,
                });
            }
            for e in entries.iter().filter(|e| e.symlink) {
                let src = from.join(&e.rel);
                let dest = to.join(&e.rel);
                let link = std::fs::read_link(&src).map_err(io(&src))?;
                let _ = std::fs::remove_file(&dest);
                std::os::unix::fs::symlink(&link, &dest).map_err(io(&dest))?;
                let target = images
                    .iter()
                    .find(|i| Path::new(&i.path).file_name() == link.file_name())
                    .cloned();
                images.push(Image {
                    path: format!("images/{kind}/{}", e.rel.display()),
                    kind: kind.to_string(),
                    size: target.as_ref().map_or(0, |t| t.size),
                    sha256: target
                        .as_ref()
                        .map(|t| t.sha256.clone())
                        .unwrap_or_default(),
                    alias_of: Some(link.to_string_lossy().into_owned()),
                });
            }
        }
        images.sort_by(|a, b| a.path.cmp(&b.path));
        let packages_root = output.join("packages");
        let mut packages = None;
        if packages_root.is_dir() {
            let entries = fsutil::list(&packages_root, &[], &[]).map_err(io(&packages_root))?;
            if !entries.is_empty() {
                // Gluon's layout: packages/<prefix>/<board>/<subtarget>/…
                let dir = common_dir(&entries);
                for e in &entries {
                    let dest = self.dir.join("packages").join(&e.rel);
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent).map_err(io(parent))?;
                    }
                    if e.symlink {
                        let link = std::fs::read_link(packages_root.join(&e.rel))
                            .map_err(io(&packages_root))?;
                        let _ = std::fs::remove_file(&dest);
                        std::os::unix::fs::symlink(link, &dest).map_err(io(&dest))?;
                    } else {
                        move_file(&packages_root.join(&e.rel), &dest)?;
                    }
                }
                packages = Some(Packages {
                    path: format!("packages/{}", dir.display()),
                    files: entries.len(),
                });
            }
        }
        Ok((images, packages))
    }

    /// Swaps the staging directory in for the release directory.
    pub fn finish(self) -> Result<(), BuildError> {
        let parent = self.release_dir.parent().unwrap_or(Path::new("."));
        let name = self
            .release_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        if self.release_dir.exists() {
            std::fs::rename(&self.release_dir, &old).map_err(io(&self.release_dir))?;
        }
        std::fs::rename(&self.dir, &self.release_dir).map_err(io(&self.release_dir))?;
        fsutil::remove_dir(&old).map_err(io(&old))?;
        Ok(())
    }

    /// Drops the staging directory (nothing changes in the output).
    pub fn abandon(self) {
        let _ = fsutil::remove_dir(&self.dir);
    }
}

/// Puts back a release directory that an earlier build moved aside and did
/// not get to replace, and removes stale staging directories.
fn recover(parent: &Path, name: &str) -> Result<(), BuildError> {
    let Ok(dir) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    let release = parent.join(name);
    for entry in dir.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if file.starts_with(&format!(".{name}.old-")) {
            if release.exists() {
                fsutil::remove_dir(&path).map_err(io(&path))?;
            } else {
                std::fs::rename(&path, &release).map_err(io(&path))?;
            }
        } else if file.starts_with(&format!(".{name}.staging-")) {
            let pid: Option<i32> = file.rsplit('-').next().and_then(|p| p.parse().ok());
            // SAFETY: kill with signal 0 only checks whether the process
            // exists.
            let alive = pid.is_some_and(|p| unsafe { libc::kill(p, 0) } == 0);
            if !alive {
                fsutil::remove_dir(&path).map_err(io(&path))?;
            }
        }
    }
    Ok(())
}

fn move_file(from: &Path, to: &Path) -> Result<(), BuildError> {
    let _ = std::fs::remove_file(to);
    if std::fs::rename(from, to).is_err() {
        std::fs::copy(from, to).map_err(io(to))?;
        let _ = std::fs::remove_file(from);
    }
    Ok(())
}

/// The deepest directory holding all entries.
fn common_dir(entries: &[fsutil::Entry]) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for e in entries {
        let parent = e.rel.parent().unwrap_or(Path::new("")).to_path_buf();
        common = Some(match common {
            None => parent,
            Some(c) => c
                .components()
                .zip(parent.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common.unwrap_or_default()
}

/// Whether the images a report entry lists are all in the release
/// directory with their recorded sizes (what lets an unchanged target be
/// skipped).
pub fn present(release_dir: &Path, entry: &TargetReport) -> bool {
    !entry.images.is_empty()
        && entry
            .images
            .iter()
            .all(|i| std::fs::metadata(release_dir.join(&i.path)).is_ok_and(|m| m.len() == i.size))
        && entry
            .packages
            .as_ref()
            .is_none_or(|p| release_dir.join(&p.path).is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_swaps_in_and_keeps_other_targets() {
        let out = tempfile::tempdir().unwrap();
        let release = out.path().join("1.0");
        std::fs::create_dir_all(release.join("images/factory")).unwrap();
        std::fs::write(release.join("images/factory/old-a.bin"), "a").unwrap();
        std::fs::write(release.join("images/factory/old-b.bin"), "b").unwrap();

        let tree = tempfile::tempdir().unwrap();
        let output = tree.path().join("output");
        std::fs::create_dir_all(output.join("images/sysupgrade")).unwrap();
        std::fs::write(output.join("images/sysupgrade/new-a.bin"), "A").unwrap();
        std::os::unix::fs::symlink("new-a.bin", output.join("images/sysupgrade/alias-a.bin"))
            .unwrap();
        std::fs::create_dir_all(output.join("packages/gluon-x-1.0/ath79/generic")).unwrap();
        std::fs::write(output.join("packages/gluon-x-1.0/ath79/generic/p.ipk"), "p").unwrap();

        let staging = Staging::begin(&release).unwrap();
        staging
            .remove_target(&TargetReport {
                name: "a".into(),
                status: super::super::report::TargetStatus::Built,
                inputs_sha256: String::new(),
                duration_seconds: None,
                built: None,
                agents: None,
                log: None,
                images: vec![Image {
                    path: "images/factory/old-a.bin".into(),
                    kind: "factory".into(),
                    size: 1,
                    sha256: String::new(),
                    alias_of: None,
                }],
                packages: None,
                error: None,
            })
            .unwrap();
        let (images, packages) = staging.collect(&output).unwrap();
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].path, "images/sysupgrade/alias-a.bin");
        assert_eq!(images[0].alias_of.as_deref(), Some("new-a.bin"));
        assert_eq!(images[0].sha256, images[1].sha256);
        assert_eq!(
            packages,
            Some(Packages {
                path: "packages/gluon-x-1.0/ath79/generic".into(),
                files: 1
            })
        );
        // Nothing has changed in the release directory yet.
        assert!(release.join("images/factory/old-a.bin").exists());
        assert!(!release.join("images/sysupgrade").exists());
        staging.finish().unwrap();
        assert!(!release.join("images/factory/old-a.bin").exists());
        assert!(release.join("images/factory/old-b.bin").exists());
        assert_eq!(
            std::fs::read_to_string(release.join("images/sysupgrade/alias-a.bin")).unwrap(),
            "A"
        );
        let leftovers: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["1.0"]);
    }
}
