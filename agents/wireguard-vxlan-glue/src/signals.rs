//! SIGTERM and SIGINT without a handler: they are blocked from the start
//! and taken with `sigtimedwait`, which is also the sleep between cycles —
//! so a signal ends the wait at once, arrives at a defined point of the
//! loop, and one that comes during a cycle waits for the cycle's end.

use std::io;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

pub struct Signals {
    set: libc::sigset_t,
}

impl Signals {
    /// Blocks `signals` in this thread (and the threads it starts later).
    pub fn block(signals: &[i32]) -> io::Result<Self> {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set; sigaddset and
        // pthread_sigmask get valid pointers to it.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            let mut set = set.assume_init();
            for &s in signals {
                libc::sigaddset(&mut set, s);
            }
            let r = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
            Ok(Signals { set })
        }
    }

    /// Waits until `deadline` for one of the signals; the signal if one
    /// came.
    pub fn wait_until(&self, deadline: Instant) -> Option<i32> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ts = libc::timespec {
                tv_sec: left.as_secs().min(i32::MAX as u64) as _,
                tv_nsec: left.subsec_nanos() as _,
            };
            // SAFETY: the set is initialised; a null info pointer is allowed.
            let r = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &ts) };
            if r > 0 {
                return Some(r);
            }
            let e = io::Error::last_os_error().raw_os_error();
            if e == Some(libc::EAGAIN) || left == Duration::ZERO {
                return None;
            }
            // EINTR (another signal): wait for the rest
        }
    }
}

/// The name of a signal, for the log.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "a signal",
    }
}
