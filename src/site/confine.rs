//! Confinement of the make that evaluates site.mk, with what Linux offers
//! an unprivileged process: Landlock (file system, TCP, signals), a seccomp
//! filter (no new processes, no pipes, no sockets), resource limits and,
//! where gluonvpn may create one (root), a network namespace of its own.
//!
//! - Untrusted ([`Mode::Untrusted`], `--untrusted`): make may read only its
//!   scratch directory (the wrapper and a copy of the site's text files) and
//!   the files it needs to start (its program, the dynamic loader, its
//!   libraries), write only the file gluonvpn reads the variables from, and
//!   execute only itself; it may not create a process, a pipe or a socket.
//!   So `$(shell …)` and `!=` fail at their `pipe()` (make says where and
//!   expands them to nothing), recipes cannot start, `$(file …)`, `include`
//!   and `load` cannot reach anything outside the copy. Landlock is
//!   required: without it gluonvpn refuses to run make at all.
//! - Trusted ([`Mode::Trusted`], the default): site.mk's commands run, as in
//!   Gluon's build, but where the kernel allows they see the file system
//!   read-only (Landlock: writes only in the scratch directory and to
//!   `/dev/null`, `/dev/zero`, `/dev/full`) and no network (a network
//!   namespace of its own when gluonvpn may create one, otherwise Landlock
//!   denies TCP connect and bind; UDP then still works).
//!
//! Both: an address-space limit (`RLIMIT_AS`) for make and everything it
//! starts, and SIGKILL when the gluonvpn thread that started make ends.
//!
//! Everything is prepared in gluonvpn ([`Prepared::new`]) and applied in the
//! forked child right before it executes make ([`Prepared::apply`]), where
//! only async-signal-safe system calls may run.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

// Landlock's user-space ABI (linux/landlock.h).
const CREATE_RULESET_VERSION: libc::c_uint = 1;
const RULE_PATH_BENEATH: libc::c_uint = 1;

const FS_EXECUTE: u64 = 1 << 0;
const FS_WRITE_FILE: u64 = 1 << 1;
const FS_READ_FILE: u64 = 1 << 2;
const FS_READ_DIR: u64 = 1 << 3;
// 1 << 4 … 1 << 12: REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG,
// MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM (all ABI 1)
const FS_MAKE_SYM: u64 = 1 << 12;
const FS_REFER: u64 = 1 << 13;
const FS_TRUNCATE: u64 = 1 << 14;
const FS_IOCTL_DEV: u64 = 1 << 15;
/// The rights a rule on a file (not a directory) may grant.
const FS_FILE_RIGHTS: u64 = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV;
const NET_BIND_TCP: u64 = 1 << 0;
const NET_CONNECT_TCP: u64 = 1 << 1;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The Landlock ABI version the kernel offers, if it offers Landlock at all
/// (built in, enabled, and not hidden by a seccomp filter of a container).
pub fn landlock_abi() -> Option<u32> {
    // SAFETY: the documented version query: no attribute, size 0.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(version).ok().filter(|v| *v >= 1)
}

/// Every file-system right an ABI version knows.
fn fs_rights(abi: u32) -> u64 {
    let mut rights = (FS_MAKE_SYM << 1) - 1;
    if abi >= 2 {
        rights |= FS_REFER;
    }
    if abi >= 3 {
        rights |= FS_TRUNCATE;
    }
    if abi >= 5 {
        rights |= FS_IOCTL_DEV;
    }
    rights
}

/// The rights that change the file system.
fn write_rights(abi: u32) -> u64 {
    fs_rights(abi) & !(FS_EXECUTE | FS_READ_FILE | FS_READ_DIR | FS_IOCTL_DEV)
}

/// A Landlock ruleset being built.
struct Ruleset {
    fd: OwnedFd,
    handled: u64,
}

impl Ruleset {
    fn new(abi: u32, handled_fs: u64, tcp: bool, scoped: bool) -> io::Result<Ruleset> {
        let attr = RulesetAttr {
            handled_access_fs: handled_fs,
            handled_access_net: if tcp && abi >= 4 {
                NET_BIND_TCP | NET_CONNECT_TCP
            } else {
                0
            },
            scoped: if scoped && abi >= 6 {
                SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
            } else {
                0
            },
        };
        // Older kernels take only the fields they know.
        let size = match abi {
            1..=3 => 8,
            4 | 5 => 16,
            _ => std::mem::size_of::<RulesetAttr>(),
        };
        // SAFETY: attr outlives the call; size does not exceed it.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &attr as *const RulesetAttr,
                size,
                0u32,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor (close-on-exec) that we now own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        Ok(Ruleset {
            fd,
            handled: handled_fs,
        })
    }

    /// Allows `access` beneath `path` (on the file, when it is one).
    /// Paths that do not exist are skipped.
    fn allow(&self, path: &Path, access: u64) -> io::Result<()> {
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: c is a valid C string; O_PATH opens no content.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            };
        }
        // SAFETY: fd is fresh and ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let is_dir = std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false);
        let mut allowed = access & self.handled;
        if !is_dir {
            allowed &= FS_FILE_RIGHTS;
        }
        if allowed == 0 {
            return Ok(());
        }
        let attr = PathBeneathAttr {
            allowed_access: allowed,
            parent_fd: fd.as_raw_fd(),
        };
        // SAFETY: attr is a valid path-beneath rule for the ruleset fd.
        let r = unsafe {
            libc::syscall(
                libc::SYS_landlock_add_rule,
                self.fd.as_raw_fd(),
                RULE_PATH_BENEATH,
                &attr as *const PathBeneathAttr,
                0u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

// seccomp (linux/seccomp.h, linux/audit.h, linux/filter.h)
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;
/// Elsewhere untrusted mode is refused before any filter is built.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const AUDIT_ARCH: u32 = 0;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const BPF_JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
/// Offsets in `struct seccomp_data`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
/// The low half of the first argument (little-endian).
const DATA_ARG0_LOW: u32 = 16;

/// The system calls the untrusted make may not make, besides creating
/// processes: `pipe` (make's `$(shell …)` and `!=` start with one and give
/// up with an empty result, saying where), sockets, and what a process never
/// needs to evaluate a makefile (namespaces, mounts, tracing other
/// processes, io_uring, which bypasses this filter).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn denied_calls() -> Vec<libc::c_long> {
    let mut calls = vec![
        libc::SYS_pipe2,
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_ptrace,
        libc::SYS_pidfd_getfd,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_fsopen,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_reboot,
        libc::SYS_mknodat,
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([
        libc::SYS_pipe,
        libc::SYS_fork,
        libc::SYS_vfork,
        libc::SYS_mknod,
    ]);
    calls
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn denied_calls() -> Vec<libc::c_long> {
    Vec::new()
}

/// Where a jump goes.
#[derive(Clone, Copy, PartialEq)]
enum To {
    Next,
    Allow,
    Deny,
    NoSys,
    Kill,
    CloneFlags,
}

enum Op {
    Load(u32),
    Jump(u16, u32, To, To),
    Return(u32),
    /// Where [`To::CloneFlags`] goes.
    CloneFlagsHere,
}

/// The untrusted make's seccomp program: the right architecture, no
/// process but threads, none of [`denied_calls`].
fn untrusted_filter() -> Vec<libc::sock_filter> {
    let mut ops = vec![
        Op::Load(DATA_ARCH),
        // A foreign architecture's calls have other numbers.
        Op::Jump(BPF_JEQ_K, AUDIT_ARCH, To::Next, To::Kill),
        Op::Load(DATA_NR),
    ];
    // x32 calls share the numbers, with a flag bit.
    #[cfg(target_arch = "x86_64")]
    ops.push(Op::Jump(BPF_JGE_K, 0x4000_0000, To::Deny, To::Next));
    // glibc falls back to clone when clone3 is missing.
    ops.push(Op::Jump(
        BPF_JEQ_K,
        libc::SYS_clone3 as u32,
        To::NoSys,
        To::Next,
    ));
    for nr in denied_calls() {
        ops.push(Op::Jump(BPF_JEQ_K, nr as u32, To::Deny, To::Next));
    }
    ops.push(Op::Jump(
        BPF_JEQ_K,
        libc::SYS_clone as u32,
        To::CloneFlags,
        To::Next,
    ));
    ops.push(Op::Return(SECCOMP_RET_ALLOW));
    ops.push(Op::CloneFlagsHere);
    ops.push(Op::Load(DATA_ARG0_LOW));
    ops.push(Op::Jump(
        BPF_JSET_K,
        libc::CLONE_THREAD as u32,
        To::Allow,
        To::Deny,
    ));
    assemble(&ops)
}

fn assemble(ops: &[Op]) -> Vec<libc::sock_filter> {
    // Instruction indexes: markers take no room.
    let mut at = Vec::with_capacity(ops.len());
    let mut n = 0;
    let mut clone_flags = 0;
    for op in ops {
        at.push(n);
        match op {
            Op::CloneFlagsHere => clone_flags = n,
            _ => n += 1,
        }
    }
    let tail = |to: To| match to {
        To::Allow => n,
        To::Deny => n + 1,
        To::NoSys => n + 2,
        To::Kill => n + 3,
        To::CloneFlags => clone_flags,
        To::Next => usize::MAX,
    };
    let mut program = Vec::with_capacity(n + 4);
    for (i, op) in ops.iter().enumerate() {
        let here = at[i];
        let offset = |to: To| match to {
            To::Next => 0,
            // The program is short: every jump fits (a test checks).
            _ => u8::try_from(tail(to) - here - 1).unwrap_or(u8::MAX),
        };
        match *op {
            Op::Load(k) => program.push(stmt(BPF_LD_W_ABS, k)),
            Op::Jump(code, k, yes, no) => program.push(libc::sock_filter {
                code,
                jt: offset(yes),
                jf: offset(no),
                k,
            }),
            Op::Return(k) => program.push(stmt(BPF_RET_K, k)),
            Op::CloneFlagsHere => {}
        }
    }
    program.push(stmt(BPF_RET_K, SECCOMP_RET_ALLOW));
    program.push(stmt(BPF_RET_K, SECCOMP_RET_ERRNO | libc::EPERM as u32));
    program.push(stmt(BPF_RET_K, SECCOMP_RET_ERRNO | libc::ENOSYS as u32));
    program.push(stmt(BPF_RET_K, SECCOMP_RET_KILL_PROCESS));
    program
}

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// How far make is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// As Gluon's build runs it: site.mk's commands run. With
    /// `network_namespace`, in one of their own where gluonvpn may create it.
    Trusted { network_namespace: bool },
    /// Nothing but make itself runs, and it sees only the site's copy.
    Untrusted,
}

/// How make is kept off the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// A network namespace of its own: only a loopback device, down.
    Namespace,
    /// Landlock denies TCP connect and bind; UDP and other sockets work.
    TcpDenied,
    /// seccomp denies creating sockets at all.
    NoSockets,
    /// Not confined.
    Open,
}

/// What confines a make run, as applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The Landlock ABI version used, if Landlock is used.
    pub landlock: Option<u32>,
    pub network: Network,
    /// The untrusted seccomp filter.
    pub seccomp: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("this kernel offers no Landlock (Linux 5.13 or later with Landlock enabled; a container's seccomp profile may hide it), which --untrusted needs to keep make away from files outside the site")]
    NoLandlock,
    #[error("--untrusted needs x86_64 or aarch64 Linux for its seccomp filter")]
    UnsupportedArch,
    #[error("cannot set up the confinement of make: {0}")]
    Setup(#[from] io::Error),
}

/// Everything the child applies before it executes make.
pub struct Prepared {
    ruleset: Option<OwnedFd>,
    filter: Option<Vec<libc::sock_filter>>,
    netns: bool,
    memory: u64,
    /// RLIMIT_FSIZE, for the untrusted make: the one file it writes.
    file_size: Option<u64>,
    pub applied: Applied,
}

/// The largest file the untrusted make may write (the variables' file).
const UNTRUSTED_FILE_SIZE: u64 = 64 << 20;

/// The files make needs to start: its program, the dynamic loader and the
/// libraries it loads (as the loader lists them for `LD_TRACE_LOADED_OBJECTS`).
fn make_files(make: &Path) -> Vec<PathBuf> {
    type Cache = std::sync::Mutex<Vec<(PathBuf, Vec<PathBuf>)>>;
    static CACHE: Cache = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, files)) = cache.iter().find(|(m, _)| m == make) {
        return files.clone();
    }
    let mut files = vec![make.to_path_buf()];
    // The loader lists the libraries and exits; a static make prints its
    // version instead.
    let output = std::process::Command::new(make)
        .arg("--version")
        .env_clear()
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    if let Ok(output) = output {
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let path = match line.split_once("=>") {
                Some((_, rest)) => rest.trim(),
                None => line.trim(),
            };
            let path = path.split(" (").next().unwrap_or("").trim();
            if path.starts_with('/') {
                files.push(PathBuf::from(path));
            }
        }
    }
    cache.push((make.to_path_buf(), files.clone()));
    files
}

/// Whether giving make a network namespace of its own failed once in this
/// process (not root, or a container that forbids it): then later runs do
/// not try again. Learnt from the run itself rather than from a probe
/// process, which would cost every check a process of its own.
static NETWORK_NAMESPACE_FAILED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Records that a run prepared with a network namespace could not start:
/// the next [`Prepared::new`] keeps make off the network with Landlock.
pub fn network_namespace_failed() {
    NETWORK_NAMESPACE_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
}

impl Prepared {
    /// Prepares the confinement of make (the program at `make`, an absolute
    /// path) that runs in `scratch` and, untrusted, writes nothing but `out`
    /// (an existing file); `memory` is its address-space limit in bytes.
    pub fn new(
        mode: Mode,
        make: &Path,
        scratch: &Path,
        out: &Path,
        memory: u64,
    ) -> Result<Prepared, ConfineError> {
        let abi = landlock_abi();
        match mode {
            Mode::Untrusted => {
                if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                    return Err(ConfineError::UnsupportedArch);
                }
                let abi = abi.ok_or(ConfineError::NoLandlock)?;
                let ruleset = Ruleset::new(abi, fs_rights(abi), true, true)?;
                ruleset.allow(scratch, FS_READ_FILE | FS_READ_DIR)?;
                ruleset.allow(out, FS_WRITE_FILE)?;
                for file in make_files(make) {
                    ruleset.allow(&file, FS_READ_FILE | FS_EXECUTE)?;
                }
                for file in ["/etc/ld.so.cache", "/etc/ld.so.preload"] {
                    ruleset.allow(Path::new(file), FS_READ_FILE)?;
                }
                Ok(Prepared {
                    ruleset: Some(ruleset.fd),
                    filter: Some(untrusted_filter()),
                    netns: false,
                    memory,
                    file_size: Some(UNTRUSTED_FILE_SIZE),
                    applied: Applied {
                        landlock: Some(abi),
                        network: Network::NoSockets,
                        seccomp: true,
                    },
                })
            }
            Mode::Trusted { network_namespace } => {
                let netns = network_namespace
                    && !NETWORK_NAMESPACE_FAILED.load(std::sync::atomic::Ordering::Relaxed);
                let mut ruleset = None;
                if let Some(abi) = abi {
                    let rights = write_rights(abi);
                    let r = Ruleset::new(abi, rights, !netns, false)?;
                    r.allow(scratch, rights)?;
                    for device in ["/dev/null", "/dev/zero", "/dev/full"] {
                        r.allow(Path::new(device), FS_WRITE_FILE | FS_TRUNCATE)?;
                    }
                    ruleset = Some(r.fd);
                }
                let network = if netns {
                    Network::Namespace
                } else if abi.is_some_and(|v| v >= 4) {
                    Network::TcpDenied
                } else {
                    Network::Open
                };
                Ok(Prepared {
                    ruleset,
                    filter: None,
                    netns,
                    memory,
                    file_size: None,
                    applied: Applied {
                        landlock: abi,
                        network,
                        seccomp: false,
                    },
                })
            }
        }
    }

    /// Whether the child gets a network namespace of its own.
    pub fn network_namespace(&self) -> bool {
        self.netns
    }

    /// Applies it: in the forked child, right before exec. Only
    /// async-signal-safe system calls, no allocation.
    pub fn apply(&self) -> io::Result<()> {
        fn check(r: libc::c_long) -> io::Result<()> {
            if r < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        }
        // SAFETY (all): plain system calls on values prepared before the
        // fork; the filter program outlives the seccomp call.
        unsafe {
            let limit = libc::rlimit {
                rlim_cur: self.memory,
                rlim_max: self.memory,
            };
            check(libc::setrlimit(libc::RLIMIT_AS, &limit) as libc::c_long)?;
            if let Some(size) = self.file_size {
                let limit = libc::rlimit {
                    rlim_cur: size,
                    rlim_max: size,
                };
                check(libc::setrlimit(libc::RLIMIT_FSIZE, &limit) as libc::c_long)?;
            }
            // make goes when the gluonvpn thread that started it does.
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) as libc::c_long)?;
            if self.netns {
                check(libc::unshare(libc::CLONE_NEWNET) as libc::c_long)?;
            }
            if self.ruleset.is_some() || self.filter.is_some() {
                check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long)?;
            }
            if let Some(fd) = &self.ruleset {
                check(libc::syscall(
                    libc::SYS_landlock_restrict_self,
                    fd.as_raw_fd(),
                    0u32,
                ))?;
            }
            if let Some(filter) = &self.filter {
                let program = libc::sock_fprog {
                    len: filter.len() as libc::c_ushort,
                    filter: filter.as_ptr() as *mut libc::sock_filter,
                };
                check(libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0u32,
                    &program as *const libc::sock_fprog,
                ))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_jumps_stay_inside_it() {
        let program = untrusted_filter();
        for (i, ins) in program.iter().enumerate() {
            if ins.code & 0x07 == libc::BPF_JMP as u16 {
                assert!(ins.jt < u8::MAX && ins.jf < u8::MAX, "{i}");
                assert!(
                    i + 1 + usize::from(ins.jt.max(ins.jf)) < program.len(),
                    "{i}"
                );
            }
        }
        // The last four are the verdicts.
        let verdicts: Vec<u32> = program[program.len() - 4..].iter().map(|i| i.k).collect();
        assert_eq!(
            verdicts,
            [
                SECCOMP_RET_ALLOW,
                SECCOMP_RET_ERRNO | libc::EPERM as u32,
                SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
                SECCOMP_RET_KILL_PROCESS
            ]
        );
    }
}
