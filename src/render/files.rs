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

use super::{Entry, Tree};
use std::io::Write;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// How an entry on disk differs from the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Missing,
    Content,
    Mode { disk: u32, tree: u32 },
    NotADirectory,
}

impl Change {
    fn describe(&self) -> String {
        match self {
            Change::Missing => "missing".into(),
            Change::Content => "differs".into(),
            Change::Mode { disk, tree } => format!("mode {disk:o}, rendered {tree:o}"),
            Change::NotADirectory => "not a directory".into(),
        }
    }
}

/// Every entry that differs on disk, in tree order.
pub fn compare(tree: &Tree, dir: &Path) -> std::io::Result<Vec<(String, Change)>> {
    let mut changes = Vec::new();
    for entry in &tree.entries {
        let path = dir.join(entry.path());
        match entry {
            Entry::Dir { path: p } => match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => changes.push((p.clone(), Change::NotADirectory)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    changes.push((p.clone(), Change::Missing))
                }
                Err(e) => return Err(e),
            },
            Entry::File {
                path: p,
                content,
                mode,
                ..
            } => match std::fs::read(&path) {
                Ok(bytes) => {
                    if bytes != content.as_bytes() {
                        changes.push((p.clone(), Change::Content));
                    } else {
                        let disk = std::fs::metadata(&path)?.permissions().mode() & 0o7777;
                        if disk != *mode {
                            changes.push((p.clone(), Change::Mode { disk, tree: *mode }));
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    changes.push((p.clone(), Change::Missing))
                }
                Err(e) => return Err(e),
            },
        }
    }
    Ok(changes)
}

/// Files that exist with other content or mode (what `--force` is for).
#[derive(Debug, thiserror::Error)]
#[error("{} existing file{} differ{} from the rendered tree (use --force to replace, --diff to see how):\n{}",
    .0.len(), if .0.len() == 1 { "" } else { "s" }, if .0.len() == 1 { "s" } else { "" },
    .0.iter().map(|(p, c)| format!("  {} ({})", p.display(), c.describe())).collect::<Vec<_>>().join("\n"))]
pub struct Conflicts(pub Vec<(PathBuf, Change)>);

/// What writing did.
#[derive(Debug, Default)]
pub struct Written {
    pub written: Vec<String>,
    pub unchanged: usize,
}

/// Writes the tree under `dir`. Without `force`, an existing file that
/// differs stops everything before anything is written.
pub fn write(tree: &Tree, dir: &Path, force: bool) -> anyhow::Result<Result<Written, Conflicts>> {
    let changes = compare(tree, dir)?;
    let conflicts: Vec<(PathBuf, Change)> = changes
        .iter()
        .filter(|(_, c)| *c != Change::Missing)
        .map(|(p, c)| (dir.join(p), c.clone()))
        .collect();
    if !force && !conflicts.is_empty() {
        return Ok(Err(Conflicts(conflicts)));
    }
    let mut written = Written::default();
    let changed: std::collections::BTreeSet<&str> =
        changes.iter().map(|(p, _)| p.as_str()).collect();
    for entry in &tree.entries {
        let path = dir.join(entry.path());
        if !changed.contains(entry.path()) {
            if matches!(entry, Entry::File { .. }) {
                written.unchanged += 1;
            }
            continue;
        }
        match entry {
            Entry::Dir { .. } => {
                if path.exists() && !path.is_dir() {
                    std::fs::remove_file(&path)?;
                }
                std::fs::create_dir_all(&path)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            }
            Entry::File { content, mode, .. } => {
                let parent = path.parent().unwrap_or(dir);
                std::fs::create_dir_all(parent)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
                let mut tmp = tempfile::Builder::new()
                    .prefix(".gluonvpn-")
                    .permissions(std::fs::Permissions::from_mode(0o600))
                    .tempfile_in(parent)
                    .map_err(|e| {
                        anyhow::anyhow!("cannot create a file in {}: {e}", parent.display())
                    })?;
                tmp.write_all(content.as_bytes())?;
                tmp.as_file().sync_all()?;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(*mode))?;
                tmp.persist(&path)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                written.written.push(entry.path().to_string());
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
    let changes = compare(tree, dir)?;
    for (path, change) in &changes {
        let Some(Entry::File { content, .. }) = tree.entries.iter().find(|e| e.path() == path)
        else {
            writeln!(out, "directory {path}: {}", change.describe())?;
            continue;
        };
        let old = match change {
            Change::Missing => String::new(),
            _ => String::from_utf8_lossy(&std::fs::read(dir.join(path))?).into_owned(),
        };
        if let Change::Mode { disk, tree } = change {
            writeln!(out, "mode {path}: {disk:o} -> {tree:o}")?;
            continue;
        }
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
