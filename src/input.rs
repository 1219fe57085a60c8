//! Reading files that anyone may have written: a site's files (a pull
//! request can put anything into a repository, symbolic links included),
//! inventories, key files, standard input and the files already in an
//! output directory.
//!
//! Every read goes through [`read`]: only regular files (a FIFO, device,
//! socket or directory is refused before a byte is read: the file is opened
//! non-blocking and checked with `fstat`, so nothing waits on a writer);
//! for a site's files, only files inside the site directory after every
//! symbolic link is resolved; and never more than a cap per kind of file
//! ([`caps`]), so `/dev/zero` or a 24 GB file cannot fill the memory.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// How much gluonvpn reads of each kind of file, at most. Far above what
/// any real file needs (the largest site.conf of the 38 corpus sites is
/// 27 KB; a site with 20,000 fastd peers is 3 MB).
pub mod caps {
    /// site.conf and each domain file.
    pub const LUA_CONFIG: u64 = 16 << 20;
    /// site.mk, modules, image-customization.lua and what it includes,
    /// gluonvpn.toml, a file make names in an error.
    pub const SITE_FILE: u64 = 1 << 20;
    /// A gateway inventory.
    pub const INVENTORY: u64 = 4 << 20;
    /// A key or secret file, and a secret on standard input.
    pub const SECRET: u64 = 64 << 10;
    /// A fastd peer file.
    pub const PEER_FILE: u64 = 64 << 10;
    /// A file in a render's `--out` directory, compared with the rendered
    /// one (rendered files are a few KiB).
    pub const OUT_FILE: u64 = 16 << 20;
}

/// Where a file may be.
#[derive(Clone, Copy, Debug)]
pub enum Within<'a> {
    /// Inside this directory, after resolving symbolic links (a site's
    /// files).
    Directory(&'a Path),
    /// Anywhere: a path the user named on the command line.
    Anywhere,
}

/// Why a file was not read. Each says what is wrong after the path:
/// "`site.conf` is a FIFO, not a regular file".
#[derive(Debug)]
pub enum ReadError {
    Missing,
    /// A symbolic link whose target does not exist.
    Dangling,
    /// Symbolic links that lead back to themselves.
    Loop,
    NotRegular(&'static str),
    /// The resolved path is outside the directory it must be in.
    Outside {
        target: PathBuf,
        directory: PathBuf,
    },
    TooLarge {
        cap: u64,
    },
    Io(std::io::Error),
}

impl ReadError {
    /// Whether the file is simply not there (many site files are optional).
    pub fn is_missing(&self) -> bool {
        matches!(self, ReadError::Missing)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Missing => f.write_str("does not exist"),
            ReadError::Dangling => f.write_str("is a symbolic link to a file that does not exist"),
            ReadError::Loop => f.write_str("is a loop of symbolic links"),
            ReadError::NotRegular(kind) => write!(f, "is a {kind}, not a regular file"),
            ReadError::Outside { target, directory } => write!(
                f,
                "leads to {}, outside {}: gluonvpn reads only files inside it",
                target.display(),
                directory.display()
            ),
            ReadError::TooLarge { cap } => write!(
                f,
                "is larger than the {} gluonvpn reads of such a file",
                size_text(*cap)
            ),
            ReadError::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// `16 MiB`, `64 KiB`, `10 bytes`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

const ELOOP: i32 = libc::ELOOP;

fn io_error(e: std::io::Error, was_link: bool) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::NotFound if was_link => ReadError::Dangling,
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ if e.raw_os_error() == Some(ELOOP) => ReadError::Loop,
        _ => ReadError::Io(e),
    }
}

fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "directory"
    } else if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// Opens a regular file for reading (see the module documentation).
fn open(path: &Path, within: Within<'_>) -> Result<File, ReadError> {
    let was_link = std::fs::symlink_metadata(path)
        .map_err(|e| io_error(e, false))?
        .file_type()
        .is_symlink();
    let resolved = std::fs::canonicalize(path).map_err(|e| io_error(e, was_link))?;
    let directory = match within {
        Within::Directory(dir) => {
            let dir = std::fs::canonicalize(dir).map_err(ReadError::Io)?;
            if !resolved.starts_with(&dir) {
                return Err(ReadError::Outside {
                    target: resolved,
                    directory: dir,
                });
            }
            Some(dir)
        }
        Within::Anywhere => None,
    };
    // Non-blocking, so that opening a FIFO does not wait for a writer; no
    // following of a link that appeared since resolving.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_NOFOLLOW)
        .open(&resolved)
        .map_err(|e| io_error(e, was_link))?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    // The file opened is the one checked, even if a directory on the way
    // was swapped for a link meanwhile.
    if let Some(dir) = directory {
        let opened = std::fs::read_link(format!("/proc/self/fd/{}", fd_of(&file)));
        if let Ok(opened) = opened {
            if !opened.starts_with(&dir) {
                return Err(ReadError::Outside {
                    target: opened,
                    directory: dir,
                });
            }
        }
    }
    Ok(file)
}

fn fd_of(file: &File) -> i32 {
    use std::os::fd::AsRawFd;
    file.as_raw_fd()
}

/// Reads at most `cap` bytes of a stream; more is [`ReadError::TooLarge`].
pub fn read_capped(reader: impl Read, cap: u64, size_hint: u64) -> Result<Vec<u8>, ReadError> {
    // One allocation of the right size: no copies of a secret are left in
    // memory freed on the way.
    let capacity = usize::try_from(size_hint.min(cap).saturating_add(1)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(bytes)
}

/// Reads a regular file of at most `cap` bytes, inside `within`.
pub fn read(path: &Path, within: Within<'_>, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = open(path, within)?;
    let size = file.metadata().map_err(ReadError::Io)?.len();
    if size > cap {
        return Err(ReadError::TooLarge { cap });
    }
    read_capped(file, cap, size)
}

/// Reads a file already opened by someone who found it (the files of an
/// output directory, opened without following links): only a regular file,
/// at most `cap` bytes.
pub fn read_opened(file: File, cap: u64) -> Result<Vec<u8>, ReadError> {
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > cap {
        return Err(ReadError::TooLarge { cap });
    }
    read_capped(file, cap, meta.len())
}

/// [`read`] as text; bytes that are not UTF-8 become U+FFFD, as in every
/// other place gluonvpn shows a site's text.
pub fn read_text(path: &Path, within: Within<'_>, cap: u64) -> Result<String, ReadError> {
    read(path, within, cap).map(|bytes| match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// A secret: [`read`] into memory that is zeroed when dropped, as text.
pub fn read_secret(path: &Path, cap: u64) -> Result<zeroize::Zeroizing<String>, ReadError> {
    secret_text(zeroize::Zeroizing::new(read(path, Within::Anywhere, cap)?))
}

/// A secret from a stream (standard input), as [`read_secret`].
pub fn read_secret_stream(
    reader: impl Read,
    cap: u64,
) -> Result<zeroize::Zeroizing<String>, ReadError> {
    secret_text(zeroize::Zeroizing::new(read_capped(reader, cap, 8192)?))
}

fn secret_text(
    mut bytes: zeroize::Zeroizing<Vec<u8>>,
) -> Result<zeroize::Zeroizing<String>, ReadError> {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(zeroize::Zeroizing::new(text)),
        Err(e) => {
            // Back into the zeroing wrapper before the error leaves.
            *bytes = e.into_bytes();
            Err(ReadError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not UTF-8 text",
            )))
        }
    }
}

/// Whether a path can be read as a regular file of `within` (without
/// reading it): for files another program (make) reads.
pub fn check(path: &Path, within: Within<'_>, cap: u64) -> Result<(), ReadError> {
    let file = open(path, within)?;
    let size = file.metadata().map_err(ReadError::Io)?.len();
    if size > cap {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn err(path: &Path, within: Within<'_>, cap: u64) -> String {
        read(path, within, cap).expect_err("refused").to_string()
    }

    #[test]
    fn regular_files_inside_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("site.conf");
        std::fs::write(&file, "{}").expect("write");
        let within = Within::Directory(dir.path());
        assert_eq!(read(&file, within, 2).expect("read"), b"{}");
        assert!(err(&file, within, 1).contains("larger than the 1 bytes"));
        // A link to a file inside is fine.
        symlink("site.conf", dir.path().join("link.conf")).expect("symlink");
        assert_eq!(
            read_text(&dir.path().join("link.conf"), within, 2).expect("read"),
            "{}"
        );
    }

    #[test]
    fn everything_else_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        let within = Within::Directory(dir.path());
        let at = |name: &str| dir.path().join(name);
        assert!(read(&at("nothing"), within, 10)
            .expect_err("missing")
            .is_missing());
        symlink("nowhere", at("dangling")).expect("symlink");
        assert!(err(&at("dangling"), within, 10).contains("does not exist"));
        symlink("loop", at("loop")).expect("symlink");
        assert!(err(&at("loop"), within, 10).contains("loop of symbolic links"));
        std::fs::create_dir(at("dir.conf")).expect("mkdir");
        assert!(err(&at("dir.conf"), within, 10).contains("is a directory"));
        let fifo = at("fifo");
        let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        assert!(err(&fifo, within, 10).contains("is a FIFO"));
        symlink("/dev/zero", at("zero")).expect("symlink");
        assert!(err(&at("zero"), within, 10).contains("outside"));
        assert!(err(&at("zero"), Within::Anywhere, 10).contains("character device"));
        std::fs::write(outside.path().join("secret"), "x").expect("write");
        symlink(outside.path().join("secret"), at("secret")).expect("symlink");
        assert!(err(&at("secret"), within, 10).contains("outside"));
        assert!(read(&at("secret"), Within::Anywhere, 10).is_ok());
        // A stream longer than its cap.
        assert!(matches!(
            read_capped(std::io::repeat(0), 5, 0),
            Err(ReadError::TooLarge { cap: 5 })
        ));
        assert_eq!(size_text(16 << 20), "16 MiB");
        assert_eq!(size_text(64 << 10), "64 KiB");
    }
}
