//! Writing a rendered [`Tree`]: to a directory (`--out`), comparing with one
//! (`--check`, `--diff`), or to standard output with `==> path <==`
//! headers.
//!
//! A file that exists with other content (or other permissions) is only
//! replaced with `--force`; without it nothing at all is written and every
//! such file is named. Files are written through a temporary file in the
//! same directory, renamed into place, so that a reader never sees half a
//! file; a file whose mode is 0600 is never readable by others, not even
//! for a moment. Files in the directory that the tree does not hold are
//! left alone.
//!
//! Everything stays inside the directory ([`crate::writing::OutDir`]):
//! every entry's path is plain and relative, a directory on the way that is
//! a symbolic link leading out of it is refused, and a symbolic link (or a
//! FIFO, a device) where a file is to be written is reported by `--check`
//! and `--diff` and never written through or replaced, not even with
//! `--force`.

use super::{Entry, Tree};
use crate::input::{self, caps};
use crate::writing::{self, Found, OutDir};
use std::io::Write;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// How an entry on disk differs from the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Missing,
    Content,
    Mode {
        disk: u32,
        tree: u32,
    },
    NotADirectory,
    /// A symbolic link where the file belongs (never followed, never
    /// replaced).
    Link {
        target: PathBuf,
    },
    /// A FIFO, device, socket or directory where the file belongs.
    NotAFile {
        kind: &'static str,
    },
}

impl Change {
    pub fn describe(&self) -> String {
        match self {
            Change::Missing => "missing".into(),
            Change::Content => "differs".into(),
            Change::Mode { disk, tree } => format!("mode {disk:o}, rendered {tree:o}"),
            Change::NotADirectory => "not a directory".into(),
            Change::Link { target } => format!("a symbolic link to {}", target.display()),
            Change::NotAFile { kind } => format!("a {kind}, not a regular file"),
        }
    }

    /// Whether writing refuses to touch it, even with `--force`.
    fn refused(&self) -> bool {
        matches!(self, Change::Link { .. } | Change::NotAFile { .. })
    }
}

/// Every entry's path as a plain relative path (see [`writing::plain_relative`]).
pub fn check_paths(tree: &Tree) -> Result<(), writing::WriteError> {
    for entry in &tree.entries {
        writing::plain_relative(entry.path())?;
    }
    Ok(())
}

/// An existing file's bytes, or `None` when it is larger than any rendered
/// file could be.
fn existing(file: std::fs::File, path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match input::read_opened(file, caps::OUT_FILE) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(input::ReadError::TooLarge { .. }) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("{} {e}", path.display())),
    }
}

fn compare_in(tree: &Tree, out: Option<&OutDir>) -> anyhow::Result<Vec<(String, Change)>> {
    check_paths(tree)?;
    let mut changes = Vec::new();
    for entry in &tree.entries {
        let p = entry.path().to_string();
        let Some(out) = out else {
            changes.push((p, Change::Missing));
            continue;
        };
        let found = out.look(&p, matches!(entry, Entry::Dir { .. }))?;
        match (entry, found) {
            (Entry::Dir { .. }, Found::Directory) => {}
            (_, Found::Missing) => changes.push((p, Change::Missing)),
            (Entry::Dir { .. }, Found::File(_)) => changes.push((p, Change::NotADirectory)),
            (_, Found::Link(target)) => changes.push((p, Change::Link { target })),
            (_, Found::Other(kind)) => changes.push((p, Change::NotAFile { kind })),
            (Entry::File { .. }, Found::Directory) => {
                changes.push((p, Change::NotAFile { kind: "directory" }))
            }
            (Entry::File { content, mode, .. }, Found::File(file)) => {
                let disk = file.metadata()?.permissions().mode() & 0o7777;
                match existing(file, &out.path().join(&p))? {
                    Some(bytes) if bytes == content.as_bytes() => {
                        if disk != *mode {
                            changes.push((p, Change::Mode { disk, tree: *mode }));
                        }
                    }
                    _ => changes.push((p, Change::Content)),
                }
            }
        }
    }
    Ok(changes)
}

/// Every entry that differs on disk, in tree order.
pub fn compare(tree: &Tree, dir: &Path) -> anyhow::Result<Vec<(String, Change)>> {
    let out = OutDir::open(dir, false)?;
    compare_in(tree, out.as_ref())
}

/// Files that exist with other content or mode (what `--force` is for).
#[derive(Debug, thiserror::Error)]
#[error("{} existing file{} differ{} from the rendered tree (use --force to replace, --diff to see how):\n{}",
    .0.len(), if .0.len() == 1 { "" } else { "s" }, if .0.len() == 1 { "s" } else { "" },
    .0.iter().map(|(p, c)| format!("  {} ({})", p.display(), c.describe())).collect::<Vec<_>>().join("\n"))]
pub struct Conflicts(pub Vec<(PathBuf, Change)>);

/// Links and special files where the tree has files: never replaced.
#[derive(Debug, thiserror::Error)]
#[error("not writing into {}: gluonvpn does not write through symbolic links or replace them (nor FIFOs, devices, directories), not even with --force; remove {}, or give --out the directory itself:\n{}",
    .dir.display(), if .entries.len() == 1 { "it" } else { "them" },
    .entries.iter().map(|(p, c)| format!("  {} ({})", p.display(), c.describe())).collect::<Vec<_>>().join("\n"))]
pub struct Refused {
    pub dir: PathBuf,
    pub entries: Vec<(PathBuf, Change)>,
}

/// What writing did.
#[derive(Debug, Default)]
pub struct Written {
    pub written: Vec<String>,
    pub unchanged: usize,
}

/// Writes the tree under `dir`. Without `force`, an existing file that
/// differs stops everything before anything is written; a link or special
/// file where a file belongs stops everything, also with `force`.
pub fn write(tree: &Tree, dir: &Path, force: bool) -> anyhow::Result<Result<Written, Conflicts>> {
    check_paths(tree)?;
    let out = OutDir::open(dir, true)?
        .ok_or_else(|| anyhow::anyhow!("cannot create {}", dir.display()))?;
    let changes = compare_in(tree, Some(&out))?;
    let refused: Vec<(PathBuf, Change)> = changes
        .iter()
        .filter(|(_, c)| c.refused())
        .map(|(p, c)| (dir.join(p), c.clone()))
        .collect();
    if !refused.is_empty() {
        return Err(Refused {
            dir: dir.to_path_buf(),
            entries: refused,
        }
        .into());
    }
    let conflicts: Vec<(PathBuf, Change)> = changes
        .iter()
        .filter(|(_, c)| *c != Change::Missing)
        .map(|(p, c)| (dir.join(p), c.clone()))
        .collect();
    if !force && !conflicts.is_empty() {
        return Ok(Err(Conflicts(conflicts)));
    }
    let mut written = Written::default();
    let changed: std::collections::BTreeMap<&str, &Change> =
        changes.iter().map(|(p, c)| (p.as_str(), c)).collect();
    for entry in &tree.entries {
        let Some(change) = changed.get(entry.path()) else {
            if matches!(entry, Entry::File { .. }) {
                written.unchanged += 1;
            }
            continue;
        };
        match entry {
            Entry::Dir { path } => {
                if **change == Change::NotADirectory {
                    out.remove_file(path)?;
                }
                out.create_dir(path)?;
            }
            Entry::File {
                path,
                content,
                mode,
                ..
            } => {
                out.write(path, content.as_bytes(), *mode)?;
                written.written.push(path.clone());
            }
        }
    }
    Ok(Ok(written))
}

/// Prints the tree with `==> path <==` headers (directories end in `/`).
pub fn print(tree: &Tree, out: &mut dyn Write) -> std::io::Result<()> {
    let mut first = true;
    for entry in &tree.entries {
        if !first {
            writeln!(out)?;
        }
        first = false;
        match entry {
            Entry::Dir { path } => writeln!(out, "==> {path}/ <==")?,
            Entry::File { path, content, .. } => {
                writeln!(out, "==> {path} <==")?;
                out.write_all(content.as_bytes())?;
                if !content.ends_with('\n') {
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(())
}

/// Unified diffs from the files on disk to the rendered ones; returns
/// whether anything differs.
pub fn diff(tree: &Tree, dir: &Path, out: &mut dyn Write) -> anyhow::Result<bool> {
    let outdir = OutDir::open(dir, false)?;
    let changes = compare_in(tree, outdir.as_ref())?;
    for (path, change) in &changes {
        let Some(Entry::File { content, .. }) = tree.entries.iter().find(|e| e.path() == path)
        else {
            writeln!(out, "directory {path}: {}", change.describe())?;
            continue;
        };
        let old = match (change, &outdir) {
            (Change::Content, Some(outdir)) => match outdir.look(path, false)? {
                Found::File(file) => match existing(file, &dir.join(path))? {
                    Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    None => {
                        writeln!(
                            out,
                            "{path}: differs (larger than {}, not shown)",
                            input::size_text(caps::OUT_FILE)
                        )?;
                        continue;
                    }
                },
                _ => String::new(),
            },
            (Change::Missing, _) => String::new(),
            (Change::Mode { disk, tree }, _) => {
                writeln!(out, "mode {path}: {disk:o} -> {tree:o}")?;
                continue;
            }
            _ => {
                writeln!(out, "{path}: {}", change.describe())?;
                continue;
            }
        };
        let old_name = if *change == Change::Missing {
            "/dev/null".to_string()
        } else {
            format!("a/{path}")
        };
        let text = similar::TextDiff::from_lines(&old, content);
        write!(
            out,
            "{}",
            text.unified_diff()
                .context_radius(3)
                .header(&old_name, &format!("b/{path}"))
        )?;
    }
    Ok(!changes.is_empty())
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::*;

    fn tree() -> Tree {
        let mut t = Tree::default();
        t.file("a/b.conf", "x\n".into(), Format::KeyValue);
        t.file("run.sh", "#!/bin/sh\n".into(), Format::Shell);
        t.dir("peers/empty");
        t
    }

    #[test]
    fn writes_checks_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree();
        assert_eq!(compare(&t, dir.path()).unwrap().len(), 3);
        let w = write(&t, dir.path(), false).unwrap().unwrap();
        assert_eq!(w.written.len(), 2);
        assert!(dir.path().join("peers/empty").is_dir());
        let mode = std::fs::metadata(dir.path().join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert!(compare(&t, dir.path()).unwrap().is_empty());
        std::fs::write(dir.path().join("a/b.conf"), "y\n").unwrap();
        let conflicts = write(&t, dir.path(), false).unwrap().unwrap_err();
        assert_eq!(conflicts.0.len(), 1);
        assert!(conflicts.to_string().contains("a/b.conf"));
        let mut out = Vec::new();
        assert!(diff(&t, dir.path(), &mut out).unwrap());
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("-y\n+x\n"), "{out}");
        write(&t, dir.path(), true).unwrap().unwrap();
        assert!(compare(&t, dir.path()).unwrap().is_empty());
    }

    #[test]
    fn prints_with_headers() {
        let mut out = Vec::new();
        print(&tree(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "==> a/b.conf <==\nx\n\n==> run.sh <==\n#!/bin/sh\n\n==> peers/empty/ <==\n"
        );
    }
}
