//! The make process that evaluates site.mk: in a process group of its own,
//! with a wall-clock limit, and SIGKILL to the whole group — make and
//! everything it started — on timeout and when gluonvpn gets SIGINT or
//! SIGTERM.
//!
//! A process that leaves the group (`setsid`, `setpgid`) escapes the kill;
//! with `--untrusted` no process can be started at all ([`super::confine`]).

use super::confine::Prepared;
use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Exited(ExitStatus),
    /// It ran longer than its limit; the group was killed.
    TimedOut,
    /// gluonvpn got SIGINT or SIGTERM; the group was killed.
    Interrupted,
}

/// A finished run: how it ended, and what it printed (standard output and
/// error, in order), up to [`OUTPUT_LIMIT`].
#[derive(Debug)]
pub struct Finished {
    pub ended: Ended,
    pub output: Vec<u8>,
}

/// How much of make's output is kept; the rest is read and dropped.
pub const OUTPUT_LIMIT: usize = 1 << 20;

/// How long the output pipe may stay open after the group was killed (by a
/// process that left the group) before gluonvpn stops waiting for it.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How often a running make is checked against its wall-clock limit and
/// gluonvpn's signals; its exit is seen at once.
const WATCH_TICK: Duration = Duration::from_millis(50);

/// A pipe whose write end serves as both stdout and stderr of a child, so
/// that their order is kept.
pub fn merged_pipe() -> io::Result<(File, Stdio, Stdio)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints; O_CLOEXEC keeps the ends
    // out of other children (Command dups them onto 1 and 2).
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that we now own.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let write2 = write.try_clone()?;
    Ok((File::from(read), Stdio::from(write), Stdio::from(write2)))
}

/// Sends SIGKILL to a process group.
pub fn kill_group(pgid: libc::pid_t) {
    if pgid > 0 {
        // SAFETY: kill is a plain system call; a negative pid names a group.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
}

/// Runs `command` with standard input from /dev/null and standard output
/// and error into one pipe, in a process group of its own, confined as
/// `prepared` says. Returns when it exits; kills its group when it runs
/// longer than `wall_time` or gluonvpn is interrupted (and, when nothing
/// else handles the signal, ends gluonvpn as the signal would have).
pub fn run(mut command: Command, prepared: Prepared, wall_time: Duration) -> io::Result<Finished> {
    let (reader, out, err) = merged_pipe()?;
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    // SAFETY: apply() makes only async-signal-safe system calls on values
    // prepared before the fork.
    unsafe { command.pre_exec(move || prepared.apply()) };
    let signals = SignalGuard::install();
    let mut child = command.spawn()?;
    // Our copies of the write end go with `command`: the reader sees EOF
    // when make and everything it started are gone.
    drop(command);
    let pgid = child.id() as libc::pid_t;
    let slot = signals.register(pgid);

    let collected = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&collected);
    let (drained_tx, drained) = mpsc::channel();
    std::thread::spawn(move || {
        drain(reader, &sink);
        let _ = drained_tx.send(());
    });
    // The exit is awaited on a thread of its own, so that it is seen at once
    // (no polling); this thread meanwhile watches the clock and signals.
    let (exited_tx, exited) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = exited_tx.send(());
        status
    });

    let started = Instant::now();
    let mut stopped = None;
    loop {
        match exited.recv_timeout(WATCH_TICK) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if stopped.is_some() {
            continue;
        }
        // The signal handler kills the registered groups itself; this covers
        // a group that found no slot.
        if interrupted() {
            kill_group(pgid);
            stopped = Some(Ended::Interrupted);
        } else if started.elapsed() > wall_time {
            kill_group(pgid);
            stopped = Some(Ended::TimedOut);
        }
    }
    let status = waiter
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
    // Whatever make left running in its group goes too (a command started
    // in the background, holding the pipe open).
    kill_group(pgid);
    signals.unregister(slot);
    drop(signals);
    let ended = match (stopped, status) {
        (Some(ended), _) => ended,
        (None, _) if interrupted() => Ended::Interrupted,
        (None, Ok(status)) => Ended::Exited(status),
        (None, Err(e)) => return Err(e),
    };

    let _ = drained.recv_timeout(DRAIN_GRACE);
    let output = collected.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(Finished { ended, output })
}

/// Reads the pipe to its end, keeping the first [`OUTPUT_LIMIT`] bytes.
fn drain(mut reader: File, sink: &Mutex<Vec<u8>>) {
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut guard = sink.lock().unwrap_or_else(|e| e.into_inner());
                let room = OUTPUT_LIMIT.saturating_sub(guard.len());
                guard.extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

// SIGINT and SIGTERM while make runs: the handler kills every registered
// group, then does what gluonvpn did before (calls its handler, e.g. the
// build's, or ends the process with the signal's default action).

const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];
const SLOTS: usize = 16;
static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The handler each signal had before ours (SIG_DFL, or a function).
static PREVIOUS: [AtomicUsize; 2] = [const { AtomicUsize::new(libc::SIG_DFL) }; 2];
/// How many runs need the handlers, and the dispositions to restore.
static INSTALLED: Mutex<(usize, Vec<(libc::c_int, libc::sigaction)>)> = Mutex::new((0, Vec::new()));

/// Whether gluonvpn got SIGINT or SIGTERM while a make ran.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

extern "C" fn on_signal(signal: libc::c_int) {
    for group in &GROUPS {
        kill_group(group.load(Ordering::SeqCst));
    }
    INTERRUPTED.store(true, Ordering::SeqCst);
    let index = usize::from(signal == libc::SIGTERM);
    let previous = PREVIOUS[index].load(Ordering::SeqCst);
    if previous == libc::SIG_DFL {
        // SAFETY: signal() and raise() are async-signal-safe; the signal is
        // blocked until this handler returns, then ends the process.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    } else {
        // SAFETY: the previous disposition was a plain handler (see
        // install); calling it is what the signal would have done.
        let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(previous) };
        handler(signal);
    }
}

/// Our handlers, for as long as a run needs them.
struct SignalGuard;

impl SignalGuard {
    fn install() -> SignalGuard {
        let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
        if installed.0 == 0 {
            for (index, signal) in SIGNALS.into_iter().enumerate() {
                // SAFETY: sigaction with a zeroed struct is a valid query;
                // the new disposition is a handler that only makes
                // async-signal-safe calls.
                unsafe {
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, std::ptr::null(), &mut old) != 0 {
                        continue;
                    }
                    let plain = old.sa_flags & libc::SA_SIGINFO == 0;
                    // Ignored stays ignored; an SA_SIGINFO handler is not
                    // ours to call.
                    if old.sa_sigaction == libc::SIG_IGN || !plain {
                        continue;
                    }
                    PREVIOUS[index].store(old.sa_sigaction, Ordering::SeqCst);
                    let mut new: libc::sigaction = std::mem::zeroed();
                    new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                    new.sa_flags = libc::SA_RESTART;
                    libc::sigemptyset(&mut new.sa_mask);
                    if libc::sigaction(signal, &new, std::ptr::null_mut()) == 0 {
                        installed.1.push((signal, old));
                    }
                }
            }
        }
        installed.0 += 1;
        SignalGuard
    }

    /// Puts a group where the handler finds it; `None` when all slots are
    /// taken (then only the timeout stops it).
    fn register(&self, pgid: libc::pid_t) -> Option<usize> {
        GROUPS.iter().position(|slot| {
            slot.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        })
    }

    fn unregister(&self, slot: Option<usize>) {
        if let Some(slot) = slot {
            GROUPS[slot].store(0, Ordering::SeqCst);
        }
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
        installed.0 = installed.0.saturating_sub(1);
        if installed.0 == 0 {
            for (signal, old) in installed.1.drain(..) {
                // SAFETY: restores the disposition saved by install().
                unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
            }
        }
    }
}
