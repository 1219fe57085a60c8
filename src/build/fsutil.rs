//! File tree helpers of the build: listing, hashing, copying.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// A regular file or symlink below a root, by its path relative to it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub rel: PathBuf,
    pub symlink: bool,
}

/// Every file and symlink below `root`, sorted, skipping directories named in
/// `skip_names` (anywhere) and the absolute paths in `skip_paths`.
pub fn list(
    root: &Path,
    skip_names: &[&str],
    skip_paths: &[PathBuf],
) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            if e.file_type().is_dir() && skip_names.iter().any(|s| *s == name) {
                return false;
            }
            !skip_paths.iter().any(|p| same_path(e.path(), p))
        });
    for entry in walker {
        let entry = entry.map_err(std::io::Error::other)?;
        let ft = entry.file_type();
        if ft.is_file() || ft.is_symlink() {
            out.push(Entry {
                rel: entry
                    .path()
                    .strip_prefix(root)
                    .expect("below root")
                    .to_path_buf(),
                symlink: ft.is_symlink(),
            });
        }
    }
    out.sort();
    Ok(out)
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// SHA-256 of a file's content, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One hash over the entries of a tree: for each, its path, whether it is
/// executable or a symlink, and its content (a symlink's target). Renaming,
/// editing or `chmod +x` changes it; timestamps do not.
pub fn tree_hash(root: &Path, entries: &[Entry]) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    for e in entries {
        let path = root.join(&e.rel);
        hasher.update(e.rel.to_string_lossy().as_bytes());
        hasher.update([0]);
        if e.symlink {
            hasher.update(b"l\0");
            hasher.update(std::fs::read_link(&path)?.to_string_lossy().as_bytes());
        } else {
            let exec = std::fs::metadata(&path)?.permissions().mode() & 0o111 != 0;
            hasher.update(if exec { b"x\0" } else { b"f\0" });
            hasher.update(sha256_file(&path)?.as_bytes());
        }
        hasher.update([0]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Copies the entries from `from` to `to` (files with their permissions,
/// symlinks as symlinks).
pub fn copy_entries(from: &Path, to: &Path, entries: &[Entry]) -> std::io::Result<()> {
    place_entries(from, to, entries, false)
}

/// Mirrors the tree at `from` into `to` with hard links (symlinks copied),
/// falling back to copies where linking fails.
pub fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    place_entries(from, to, &list(from, &[], &[])?, true)
}

/// Puts each entry of `from` at the same place below `to`: symlinks as
/// symlinks, files hard-linked (when `link` and the file system lets) or
/// copied.
fn place_entries(from: &Path, to: &Path, entries: &[Entry], link: bool) -> std::io::Result<()> {
    for e in entries {
        let src = from.join(&e.rel);
        let dst = to.join(&e.rel);
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if e.symlink {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if !link || std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Removes a directory tree if it exists.
pub fn remove_dir(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Single-quotes a value for a POSIX shell.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_hash_sees_content_names_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a"), "1").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/b"), "2").unwrap();
        let hash = || tree_hash(root, &list(root, &[], &[]).unwrap()).unwrap();
        let h1 = hash();
        assert_eq!(h1, hash());
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let h2 = hash();
        assert_ne!(h1, h2);
        std::fs::rename(root.join("sub/b"), root.join("sub/c")).unwrap();
        assert_ne!(h2, hash());
    }

    #[test]
    fn listing_skips_names_and_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for p in [".git/x", "target/y", "keep/z", "out/w"] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let found = list(root, &[".git", "target"], &[root.join("out")]).unwrap();
        assert_eq!(
            found.iter().map(|e| e.rel.clone()).collect::<Vec<_>>(),
            [PathBuf::from("keep/z")]
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
