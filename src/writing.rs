//! Writing files where anyone may have put symbolic links: a single output
//! file (`keys translate --out`, `ci --out`) and the trees of `render …
//! --out DIR`.
//!
//! * Nothing is ever written *through* a symbolic link, and no link is
//!   silently replaced: a link where a file is to be written is refused
//!   ([`WriteError::Link`]), as is a device, FIFO, socket or directory
//!   ([`WriteError::NotRegular`]).
//! * Every file is written into a new temporary file (created with
//!   `O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600) in its own directory and
//!   renamed over the destination, so that a reader never sees half a file,
//!   and a secret is never readable by others, not even for a moment.
//! * Inside an output directory ([`OutDir`]), every path is relative and
//!   plain (no `..`, no absolute path, no empty or `.` component), every
//!   directory on the way is opened relative to the one before it, and a
//!   directory that is a symbolic link is followed only when the directory
//!   it leads to is inside the output directory (checked on the opened
//!   descriptor, so a link swapped in meanwhile does not lead out either);
//!   one leading out is refused ([`WriteError::Outside`]).

use std::ffi::{CStr, CString};
use std::fmt;
use std::fs::File;
use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// Why a file was not written. Each names the path.
#[derive(Debug)]
pub enum WriteError {
    /// The destination is a symbolic link.
    Link { path: PathBuf, target: PathBuf },
    /// A directory on the way is a symbolic link that leads out of the
    /// output directory.
    Outside {
        path: PathBuf,
        target: PathBuf,
        directory: PathBuf,
    },
    /// The destination is not a regular file.
    NotRegular { path: PathBuf, kind: &'static str },
    /// A directory on the way is not a directory.
    NotADirectory { path: PathBuf, kind: &'static str },
    /// A path in a tree that is not a plain relative path.
    BadPath { path: String, reason: &'static str },
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Link { path, target } => write!(
                f,
                "{} is a symbolic link (to {}); gluonvpn does not write through links, give the target itself",
                path.display(),
                target.display()
            ),
            WriteError::Outside {
                path,
                target,
                directory,
            } => write!(
                f,
                "{} is a symbolic link to {}, outside {}: gluonvpn writes only inside the output directory",
                path.display(),
                target.display(),
                directory.display()
            ),
            WriteError::NotRegular { path, kind } => write!(
                f,
                "{} is a {kind}; gluonvpn writes only regular files",
                path.display()
            ),
            WriteError::NotADirectory { path, kind } => {
                write!(f, "{} is a {kind}, not a directory", path.display())
            }
            WriteError::BadPath { path, reason } => {
                write!(f, "{path:?} is not a path inside the output directory: {reason}")
            }
            WriteError::Io { path, error } => write!(f, "cannot write {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for WriteError {}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |error| WriteError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Why `path` is not a plain relative path of a tree (`a/b.conf`):
/// absolute, empty, or with an empty, `.` or `..` component, a NUL or
/// another control character, a component longer than 255 bytes.
pub fn plain_relative(path: &str) -> Result<Vec<&str>, WriteError> {
    let bad = |reason| WriteError::BadPath {
        path: path.to_string(),
        reason,
    };
    if path.is_empty() {
        return Err(bad("it is empty"));
    }
    if path.starts_with('/') {
        return Err(bad("it is absolute"));
    }
    if path.chars().any(char::is_control) {
        return Err(bad("it holds a control character"));
    }
    if path.len() > 4000 {
        return Err(bad("it is longer than 4000 bytes"));
    }
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts {
        match *part {
            "" => return Err(bad("it has an empty component")),
            "." | ".." => return Err(bad("it has a `.` or `..` component")),
            p if p.len() > 255 => return Err(bad("a component is longer than 255 bytes")),
            _ => {}
        }
    }
    Ok(parts)
}

fn cstring(name: &str, path: &Path) -> Result<CString, WriteError> {
    CString::new(name).map_err(|_| WriteError::Io {
        path: path.to_path_buf(),
        error: std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL byte in the name"),
    })
}

fn last_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// `openat(2)`.
fn openat(dir: &OwnedFd, name: &CStr, flags: i32, mode: libc::mode_t) -> std::io::Result<OwnedFd> {
    // SAFETY: a valid descriptor and NUL-terminated name; the returned
    // descriptor is owned by nobody else.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            libc::c_uint::from(mode),
        )
    };
    if fd < 0 {
        return Err(last_error());
    }
    // SAFETY: `fd` is a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fstatat(2)` without following a final symbolic link; `None` when the
/// name does not exist.
fn lstat_at(dir: &OwnedFd, name: &CStr) -> std::io::Result<Option<libc::stat>> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, name and out pointer.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r == 0 {
        return Ok(Some(st));
    }
    let e = last_error();
    if e.kind() == std::io::ErrorKind::NotFound {
        Ok(None)
    } else {
        Err(e)
    }
}

/// `readlinkat(2)`: where a symbolic link points (for messages).
fn readlink_at(dir: &OwnedFd, name: &CStr) -> PathBuf {
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid descriptor and name; `buf` has the length given.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return PathBuf::from("?");
    }
    buf.truncate(n as usize);
    PathBuf::from(std::ffi::OsStr::from_bytes(&buf))
}

fn kind_of(mode: libc::mode_t) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFREG => "regular file",
        libc::S_IFDIR => "directory",
        libc::S_IFLNK => "symbolic link",
        libc::S_IFIFO => "FIFO",
        libc::S_IFCHR => "character device",
        libc::S_IFBLK => "block device",
        libc::S_IFSOCK => "socket",
        _ => "special file",
    }
}

/// Where an open descriptor really is (`/proc/self/fd`), if the system
/// says.
fn real_path(fd: &OwnedFd) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()
}

/// A name for a temporary file that nobody can guess in advance.
fn temporary_name(attempt: u32) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u32(attempt);
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    format!(".gluonvpn-{:016x}", h.finish())
}

/// Writes `bytes` as `name` in the directory `dir` (`path` is its full
/// path, for messages): a new temporary file (0600, `O_EXCL`,
/// `O_NOFOLLOW`), synced, given `mode`, renamed over `name`. A symbolic
/// link or anything but a regular file at `name` is refused; the rename
/// replaces the directory entry itself, so even a link put there after the
/// check is replaced, never written through.
fn replace_in(
    dir: &OwnedFd,
    name: &str,
    path: &Path,
    bytes: &[u8],
    mode: u32,
) -> Result<(), WriteError> {
    let cname = cstring(name, path)?;
    match lstat_at(dir, &cname).map_err(io_at(path))? {
        Some(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => {
            return Err(WriteError::Link {
                path: path.to_path_buf(),
                target: readlink_at(dir, &cname),
            })
        }
        Some(st) if st.st_mode & libc::S_IFMT != libc::S_IFREG => {
            return Err(WriteError::NotRegular {
                path: path.to_path_buf(),
                kind: kind_of(st.st_mode),
            })
        }
        _ => {}
    }
    let mut attempt = 0;
    let (tmp_name, fd) = loop {
        let tmp = cstring(&temporary_name(attempt), path)?;
        match openat(
            dir,
            &tmp,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
            0o600,
        ) {
            Ok(fd) => break (tmp, fd),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(io_at(path)(e)),
        }
    };
    let unlink = |dir: &OwnedFd| {
        // SAFETY: valid descriptor and name.
        unsafe { libc::unlinkat(dir.as_raw_fd(), tmp_name.as_ptr(), 0) };
    };
    let mut file = File::from(fd);
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(mode)));
    if let Err(e) = written {
        unlink(dir);
        return Err(io_at(path)(e));
    }
    drop(file);
    // SAFETY: valid descriptors and names.
    let r = unsafe {
        libc::renameat(
            dir.as_raw_fd(),
            tmp_name.as_ptr(),
            dir.as_raw_fd(),
            cname.as_ptr(),
        )
    };
    if r != 0 {
        let e = last_error();
        unlink(dir);
        return Err(io_at(path)(e));
    }
    // The rename itself on disk (best effort: not every file system lets a
    // directory be synced).
    if let Ok(dir) = dir.try_clone() {
        let _ = File::from(dir).sync_all();
    }
    Ok(())
}

/// Opens a directory the user named (following links: it is their path).
fn open_dir(path: &Path) -> std::io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(path)?;
    Ok(OwnedFd::from(file))
}

/// Writes one file (`--out FILE`): never through a symbolic link at `path`
/// (refused), never over anything but a regular file, through a temporary
/// file in the same directory renamed into place (see the module
/// documentation). The directories on the way are the user's own path and
/// are followed as given.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    let name = match path.file_name() {
        Some(name) if !path.as_os_str().as_bytes().ends_with(b"/") => name,
        _ => {
            return Err(WriteError::NotRegular {
                path: path.to_path_buf(),
                kind: "directory",
            })
        }
    };
    let name = name.to_str().ok_or_else(|| WriteError::Io {
        path: path.to_path_buf(),
        error: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the name is not UTF-8"),
    })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = open_dir(parent).map_err(io_at(parent))?;
    replace_in(&dir, name, path, bytes, mode)
}

/// What is at a path inside an [`OutDir`].
#[derive(Debug)]
pub enum Found {
    Missing,
    Directory,
    /// A regular file, opened for reading (`O_NOFOLLOW`, non-blocking).
    File(File),
    /// A symbolic link (never followed for a file).
    Link(PathBuf),
    /// A FIFO, device or socket; or a file where a directory is needed.
    Other(&'static str),
}

/// An output directory that everything written stays inside.
#[derive(Debug)]
pub struct OutDir {
    fd: OwnedFd,
    /// As the user gave it (for messages).
    path: PathBuf,
    /// Where it really is, every link resolved.
    real: PathBuf,
}

impl OutDir {
    /// Opens `path` (the user's own: a link there is followed), creating
    /// it and its parents when `create`; `None` when it does not exist and
    /// is not to be created.
    pub fn open(path: &Path, create: bool) -> Result<Option<OutDir>, WriteError> {
        if create {
            std::fs::create_dir_all(path).map_err(io_at(path))?;
        }
        let fd = match open_dir(path) {
            Ok(fd) => fd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => return Ok(None),
            Err(e) => return Err(io_at(path)(e)),
        };
        let real = match real_path(&fd) {
            Some(real) => real,
            None => std::fs::canonicalize(path).map_err(io_at(path))?,
        };
        Ok(Some(OutDir {
            fd,
            path: path.to_path_buf(),
            real,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the directory `name` in `parent` (`shown` is its path, for
    /// messages): a symbolic link is followed only when the directory it
    /// leads to is inside this one. `None` when it does not exist (and is
    /// not created).
    fn subdir(
        &self,
        parent: &OwnedFd,
        name: &str,
        shown: &Path,
        create: bool,
    ) -> Result<Option<OwnedFd>, WriteError> {
        let cname = cstring(name, shown)?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY;
        for _ in 0..2 {
            match openat(parent, &cname, flags | libc::O_NOFOLLOW, 0) {
                Ok(fd) => return Ok(Some(fd)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if !create {
                        return Ok(None);
                    }
                    // SAFETY: valid descriptor and name.
                    let r = unsafe { libc::mkdirat(parent.as_raw_fd(), cname.as_ptr(), 0o755) };
                    if r != 0 {
                        let e = last_error();
                        if e.kind() != std::io::ErrorKind::AlreadyExists {
                            return Err(io_at(shown)(e));
                        }
                    }
                    continue;
                }
                Err(e) => {
                    let st = lstat_at(parent, &cname).map_err(io_at(shown))?;
                    let Some(st) = st else {
                        return Err(io_at(shown)(e));
                    };
                    if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
                        return Err(WriteError::NotADirectory {
                            path: shown.to_path_buf(),
                            kind: kind_of(st.st_mode),
                        });
                    }
                    return self.follow_dir_link(parent, &cname, shown).map(Some);
                }
            }
        }
        Err(io_at(shown)(std::io::Error::other(
            "the directory keeps disappearing",
        )))
    }

    /// Follows a symbolic link to a directory, if that directory is inside
    /// this one (as the opened descriptor shows).
    fn follow_dir_link(
        &self,
        parent: &OwnedFd,
        name: &CStr,
        shown: &Path,
    ) -> Result<OwnedFd, WriteError> {
        let target = readlink_at(parent, name);
        let fd = match openat(parent, name, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
            Ok(fd) => fd,
            // A dangling link, or one to a file: not followed either way.
            Err(_) => {
                return Err(WriteError::Link {
                    path: shown.to_path_buf(),
                    target,
                })
            }
        };
        match real_path(&fd) {
            Some(real) if real.starts_with(&self.real) => Ok(fd),
            _ => Err(WriteError::Outside {
                path: shown.to_path_buf(),
                target,
                directory: self.path.clone(),
            }),
        }
    }

    /// The directory holding `parts`' last component, walking (and with
    /// `create`, making) the ones before it.
    fn parent_of(&self, parts: &[&str], create: bool) -> Result<Option<OwnedFd>, WriteError> {
        let mut dir = self.fd.try_clone().map_err(io_at(&self.path))?;
        let mut shown = self.path.clone();
        for part in &parts[..parts.len().saturating_sub(1)] {
            shown.push(part);
            match self.subdir(&dir, part, &shown, create)? {
                Some(next) => dir = next,
                None => return Ok(None),
            }
        }
        Ok(Some(dir))
    }

    /// What is at `rel` (a plain relative path). With `as_dir`, a link
    /// at `rel` itself is followed as a directory on the way would be.
    pub fn look(&self, rel: &str, as_dir: bool) -> Result<Found, WriteError> {
        let parts = plain_relative(rel)?;
        let Some(dir) = self.parent_of(&parts, false)? else {
            return Ok(Found::Missing);
        };
        let last = parts[parts.len() - 1];
        let shown = self.path.join(rel);
        let cname = cstring(last, &shown)?;
        let Some(st) = lstat_at(&dir, &cname).map_err(io_at(&shown))? else {
            return Ok(Found::Missing);
        };
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => Ok(Found::Directory),
            libc::S_IFLNK if as_dir => {
                self.follow_dir_link(&dir, &cname, &shown)?;
                Ok(Found::Directory)
            }
            libc::S_IFLNK => Ok(Found::Link(readlink_at(&dir, &cname))),
            libc::S_IFREG => {
                let fd = openat(
                    &dir,
                    &cname,
                    libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
                    0,
                )
                .map_err(io_at(&shown))?;
                Ok(Found::File(File::from(fd)))
            }
            other => Ok(Found::Other(kind_of(other))),
        }
    }

    /// Makes the directory `rel` and the ones before it.
    pub fn create_dir(&self, rel: &str) -> Result<(), WriteError> {
        let parts = plain_relative(rel)?;
        let dir = self
            .parent_of(&parts, true)?
            .ok_or_else(|| io_at(&self.path)(std::io::ErrorKind::NotFound.into()))?;
        let last = parts[parts.len() - 1];
        self.subdir(&dir, last, &self.path.join(rel), true)?;
        Ok(())
    }

    /// Removes the regular file at `rel` (to make room for a directory).
    pub fn remove_file(&self, rel: &str) -> Result<(), WriteError> {
        let parts = plain_relative(rel)?;
        let shown = self.path.join(rel);
        let Some(dir) = self.parent_of(&parts, false)? else {
            return Ok(());
        };
        let cname = cstring(parts[parts.len() - 1], &shown)?;
        match lstat_at(&dir, &cname).map_err(io_at(&shown))? {
            Some(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {
                // SAFETY: valid descriptor and name.
                if unsafe { libc::unlinkat(dir.as_raw_fd(), cname.as_ptr(), 0) } != 0 {
                    return Err(io_at(&shown)(last_error()));
                }
                Ok(())
            }
            Some(st) => Err(WriteError::NotRegular {
                path: shown,
                kind: kind_of(st.st_mode),
            }),
            None => Ok(()),
        }
    }

    /// Writes the file `rel` (see the module documentation), making the
    /// directories before it.
    pub fn write(&self, rel: &str, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
        let parts = plain_relative(rel)?;
        let dir = self
            .parent_of(&parts, true)?
            .ok_or_else(|| io_at(&self.path)(std::io::ErrorKind::NotFound.into()))?;
        replace_in(
            &dir,
            parts[parts.len() - 1],
            &self.path.join(rel),
            bytes,
            mode,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn single_files_are_replaced_never_written_through() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("key");
        write_file(&file, b"secret\n", 0o600).expect("new file");
        assert_eq!(mode_of(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_file(&file, b"again\n", 0o600).expect("replaced");
        assert_eq!(std::fs::read(&file).expect("read"), b"again\n");
        assert_eq!(mode_of(&file), 0o600);

        let target = dir.path().join("target");
        std::fs::write(&target, "keep\n").expect("write");
        let link = dir.path().join("link");
        symlink(&target, &link).expect("symlink");
        let e = write_file(&link, b"secret\n", 0o600).expect_err("a link");
        assert!(
            e.to_string().contains("is a symbolic link")
                && e.to_string().contains("give the target itself"),
            "{e}"
        );
        assert_eq!(std::fs::read(&target).expect("read"), b"keep\n");
        assert!(std::fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink());
        // a dangling link too
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nowhere"), &dangling).expect("symlink");
        assert!(matches!(
            write_file(&dangling, b"x", 0o644),
            Err(WriteError::Link { .. })
        ));
        assert!(!dir.path().join("nowhere").exists());
        // not a regular file
        let e = write_file(Path::new("/dev/null"), b"x", 0o644).expect_err("a device");
        assert!(e.to_string().contains("character device"), "{e}");
        assert!(matches!(
            write_file(dir.path(), b"x", 0o644),
            Err(WriteError::NotRegular { .. })
        ));
        // no temporary file left behind
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["dangling", "key", "link", "target"]);
    }

    #[test]
    fn tree_paths_are_plain_and_relative() {
        assert_eq!(plain_relative("a/b.conf").expect("plain"), ["a", "b.conf"]);
        for bad in [
            "",
            "/etc/x",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/.",
            "a\nb",
            "a\0b",
        ] {
            assert!(plain_relative(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_out_dir_keeps_writes_inside() {
        let root = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        let out_path = root.path().join("out");
        let out = OutDir::open(&out_path, true)
            .expect("open")
            .expect("created");
        out.write("a/b/c.conf", b"x\n", 0o644).expect("write");
        assert_eq!(
            std::fs::read(out_path.join("a/b/c.conf")).expect("read"),
            b"x\n"
        );
        assert_eq!(mode_of(&out_path.join("a/b/c.conf")), 0o644);
        assert!(matches!(out.look("a/b/c.conf", false), Ok(Found::File(_))));
        assert!(matches!(out.look("a/b", true), Ok(Found::Directory)));
        assert!(matches!(out.look("a/nothing/x", false), Ok(Found::Missing)));

        // a directory that leads out
        symlink(outside.path(), out_path.join("evil")).expect("symlink");
        let e = out.write("evil/x.conf", b"x", 0o644).expect_err("outside");
        assert!(matches!(e, WriteError::Outside { .. }), "{e}");
        assert!(e.to_string().contains("outside"), "{e}");
        assert!(!outside.path().join("x.conf").exists());
        assert!(out.look("evil/x.conf", false).is_err());
        assert!(out.create_dir("evil/sub").is_err());
        assert!(!outside.path().join("sub").exists());
        // a link to a directory inside is followed
        symlink("a", out_path.join("inside")).expect("symlink");
        out.write("inside/d.conf", b"d", 0o644).expect("inside");
        assert_eq!(
            std::fs::read(out_path.join("a/d.conf")).expect("read"),
            b"d"
        );
        // a file that is a link is never written through
        std::fs::write(outside.path().join("target"), "keep").expect("write");
        symlink(outside.path().join("target"), out_path.join("a/t.conf")).expect("symlink");
        assert!(matches!(out.look("a/t.conf", false), Ok(Found::Link(_))));
        assert!(matches!(
            out.write("a/t.conf", b"evil", 0o644),
            Err(WriteError::Link { .. })
        ));
        assert_eq!(
            std::fs::read(outside.path().join("target")).expect("read"),
            b"keep"
        );
        // paths that leave the tree are refused before anything happens
        assert!(matches!(
            out.write("../escape", b"x", 0o644),
            Err(WriteError::BadPath { .. })
        ));
        assert!(!root.path().join("escape").exists());
        // a FIFO is not opened
        let fifo = out_path.join("a/fifo");
        let c = CString::new(fifo.as_os_str().as_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            out.look("a/fifo", false),
            Ok(Found::Other("FIFO"))
        ));
        assert!(matches!(
            out.write("a/fifo", b"x", 0o644),
            Err(WriteError::NotRegular { .. })
        ));
        // a file where a directory belongs
        let e = out
            .write("a/b/c.conf/x", b"x", 0o644)
            .expect_err("not a dir");
        assert!(
            e.to_string()
                .ends_with("is a regular file, not a directory"),
            "{e}"
        );
        // a dangling link where a directory belongs
        symlink("nowhere", out_path.join("dangling")).expect("symlink");
        assert!(matches!(
            out.create_dir("dangling"),
            Err(WriteError::Link { .. })
        ));
        assert!(!out_path.join("nowhere").exists());
        // a missing directory reads as missing
        assert!(OutDir::open(&root.path().join("none"), false)
            .expect("open")
            .is_none());
    }
}
