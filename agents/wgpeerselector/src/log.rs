//! Logging as the original does it, but to standard output: one concise
//! line per event, debug lines only with `-v`.
//!
//! The original writes to syslog (and with `-v` also to standard error).
//! On OpenWrt netifd starts the selector (`proto_run_command`) with standard
//! output and error on a pipe and logs every line to syslog itself
//! (`daemon.notice netifd: <interface> (<pid>): <line>`), so standard output
//! reaches `logread` without a syslog client in the binary.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

/// Nothing at all (the simulation drives thousands of selectors).
pub const QUIET: u8 = 0;
/// Connections, losses, warnings and errors.
pub const INFO: u8 = 1;
/// Every probe, removal and timing decision (`-v`).
pub const DEBUG: u8 = 2;

static LEVEL: AtomicU8 = AtomicU8::new(INFO);

/// Sets what is printed from now on, process-wide.
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

thread_local! {
    static SILENCED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether lines of `level` are printed.
pub fn enabled(level: u8) -> bool {
    level != QUIET && LEVEL.load(Ordering::Relaxed) >= level && !SILENCED.with(|s| s.get())
}

/// Runs `f` with this thread's log silenced (the simulation).
pub fn silenced<R>(f: impl FnOnce() -> R) -> R {
    let before = SILENCED.with(|s| s.replace(true));
    let result = f();
    SILENCED.with(|s| s.set(before));
    result
}

/// Writes one line; a closed standard output is ignored (the daemon goes on
/// without its log rather than dying of it).
pub fn write(prefix: &str, args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{prefix}{args}");
}

/// An event worth a line in the log.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::INFO) {
            $crate::log::write("", format_args!($($arg)*));
        }
    };
}

/// Something went wrong, and the selector goes on.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::INFO) {
            $crate::log::write("Warning: ", format_args!($($arg)*));
        }
    };
}

/// Something went wrong that stops the selector or one of its features.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::INFO) {
            $crate::log::write("Error: ", format_args!($($arg)*));
        }
    };
}

/// Details for `-v`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::enabled($crate::log::DEBUG) {
            $crate::log::write("Debug: ", format_args!($($arg)*));
        }
    };
}

/// Seconds with `decimals` decimals (0 to 6), from microseconds, rounded
/// half away from zero, optionally with a sign: `+0.012`. Written by hand
/// because float formatting costs kilobytes in a small binary.
pub fn seconds(micros: i64, decimals: u32, signed: bool) -> String {
    let decimals = decimals.min(6);
    let scale = 10u64.pow(6 - decimals);
    let rounded = (micros.unsigned_abs() + scale / 2) / scale;
    let unit = 10u64.pow(decimals);
    let sign = match (signed, micros < 0 && rounded > 0) {
        (_, true) => "-",
        (true, false) => "+",
        (false, false) => "",
    };
    if decimals == 0 {
        format!("{sign}{rounded}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            rounded / unit,
            rounded % unit,
            width = decimals as usize
        )
    }
}

/// A duration for the log: `0.45 s`, `12 s`.
pub fn duration(d: std::time::Duration) -> String {
    let micros = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    let decimals = if d.as_secs() < 10 { 2 } else { 0 };
    format!("{} s", seconds(micros, decimals, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn seconds_without_floats() {
        assert_eq!(seconds(12_345, 3, true), "+0.012");
        assert_eq!(seconds(-12_345, 3, true), "-0.012");
        assert_eq!(seconds(-400, 3, true), "+0.000");
        assert_eq!(seconds(1_999_999, 2, false), "2.00");
        assert_eq!(seconds(3_600_500_000, 6, true), "+3600.500000");
        assert_eq!(seconds(149_600_000, 0, false), "150");
        assert_eq!(duration(Duration::from_millis(450)), "0.45 s");
        assert_eq!(duration(Duration::from_millis(5500)), "5.50 s");
        assert_eq!(duration(Duration::from_secs(150)), "150 s");
    }
}
