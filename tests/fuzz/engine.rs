//! The fuzzing engine: a mutation fuzzer that runs inside `cargo test` on
//! stable Rust, without new dependencies.
//!
//! Each fuzz test (the parent) starts its own test binary again as a child
//! process that runs only the hidden `child` test; the child loads the
//! target's seeds, mutates them and feeds the target until its time is up.
//! Before each input runs, the child writes it to a file in a work
//! directory: when the child dies (a panic, a stack overflow, an abort, a
//! signal, the per-input watchdog, the address-space limit), the parent
//! copies that file to `target/fuzz-findings/<target>-<hash>`, minimises it
//! on request and fails the test with the command that replays it.
//!
//! No coverage instrumentation exists on stable, so the feedback is
//! behavioural: a target returns a signature of what an input did (the
//! diagnostic codes a check gave, the kind of error a parser returned), and
//! an input with a signature not seen before joins the corpus.
//!
//! Environment:
//! * `GLUONVPN_FUZZ_SECONDS`: time per target (default 3 s, 60 s when `CI`
//!   is set).
//! * `GLUONVPN_FUZZ_SEED`: the PRNG seed (default: from the clock; printed).
//! * `GLUONVPN_FUZZ_REPLAY=FILE`: run one input instead of fuzzing.
//! * `GLUONVPN_FUZZ_KEEP_GOING=1`: after a finding, go on fuzzing (with a
//!   new child) until the time is up, collecting every finding.
//! * `GLUONVPN_FUZZ_MINIMIZE=1`: minimise each finding (one child per
//!   attempt; slow).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What one input did.
pub enum Exec {
    /// It ran; the signature says what it did (equal signatures, same
    /// behaviour as far as the corpus is concerned).
    Ran(u64),
    /// It ran, but left a thread behind that may still be running (check's
    /// watchdog gave up on a Lua evaluation): the child finishes, and the
    /// parent goes on in a fresh process.
    LeftThread(u64),
}

/// A fuzz target: seeds, a dictionary of the format's tokens, and how to
/// run an input.
pub struct Target {
    pub name: &'static str,
    /// The seeds: from the repository, and where present from
    /// `../shared/corpus` (read in place).
    pub seeds: fn() -> Seeds,
    /// Tokens of the input format, inserted by the mutator.
    pub dictionary: &'static [&'static str],
    /// Longest input tried (mutations past it are cut).
    pub max_len: usize,
    /// Sets up the target (temporary site directories, sites loaded once)
    /// and returns the function that runs one input.
    pub setup: fn() -> Runner,
}

/// Runs one input.
pub type Runner = Box<dyn FnMut(&[u8]) -> Exec>;

#[derive(Default)]
pub struct Seeds {
    pub inputs: Vec<Vec<u8>>,
    /// How many came from the repository and how many from the corpus.
    pub repository: usize,
    pub corpus: usize,
}

impl Seeds {
    pub fn add_repository(&mut self, input: Vec<u8>) {
        self.inputs.push(input);
        self.repository += 1;
    }

    pub fn add_corpus(&mut self, input: Vec<u8>) {
        self.inputs.push(input);
        self.corpus += 1;
    }
}

/// How long one input may take before the child's watchdog kills it. The
/// slowest real input (a site check in a debug build, on a loaded 2-core
/// machine) takes well under a second; Lua evaluations stop at their own
/// time limit (lowered for fuzzing, see the targets) long before this.
pub const PER_INPUT_LIMIT: Duration = Duration::from_secs(10);

/// The child's address-space limit (`RLIMIT_AS`): an input that makes the
/// process map more dies with an allocation failure, a finding.
pub const ADDRESS_SPACE_LIMIT: u64 = 4 << 30;

/// How much longer than its fuzzing time a child may take (its setup, the
/// last input) before the parent kills it.
const CHILD_GRACE: Duration = Duration::from_secs(120);

/// Exit statuses of the child besides 0 (time up) and a test failure.
const EXIT_TIMEOUT: i32 = 86;
const EXIT_RESTART: i32 = 87;

/// Entries the corpus grows to at most (besides the seeds).
const CORPUS_GROWTH: usize = 2000;

/// Fuzzing runs on this many targets at a time (CI has 2 cores).
const PARALLEL_TARGETS: usize = 2;

// ---------------------------------------------------------------------------
// Randomness: SplitMix64, seeded per run and printed.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number below `n`, small ones much more likely (lengths, counts).
    pub fn small_below(&mut self, n: usize) -> usize {
        let bits = usize::BITS - n.leading_zeros();
        let cap = 1usize << self.below(bits as usize + 1);
        self.below(cap.min(n).max(1))
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// FNV-1a, for signatures and finding names.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// ---------------------------------------------------------------------------
// Mutations.

/// Applies one to eight stacked mutations to `input`.
pub fn mutate(
    input: &mut Vec<u8>,
    corpus: &[Vec<u8>],
    dictionary: &[&str],
    rng: &mut Rng,
    max_len: usize,
) {
    let rounds = 1 + rng.small_below(8);
    for _ in 0..rounds {
        mutate_once(input, corpus, dictionary, rng);
        if input.len() > max_len {
            input.truncate(max_len);
        }
    }
}

fn random_range(len: usize, rng: &mut Rng) -> (usize, usize) {
    if len == 0 {
        return (0, 0);
    }
    let start = rng.below(len);
    let width = 1 + rng.small_below(len - start);
    (start, start + width)
}

fn mutate_once(input: &mut Vec<u8>, corpus: &[Vec<u8>], dictionary: &[&str], rng: &mut Rng) {
    let len = input.len();
    match rng.below(12) {
        // Flip a bit.
        0 if len > 0 => {
            let at = rng.below(len);
            input[at] ^= 1 << rng.below(8);
        }
        // Set a byte: printable ASCII mostly, anything sometimes.
        1 if len > 0 => {
            let at = rng.below(len);
            input[at] = if rng.chance(4) {
                rng.next() as u8
            } else {
                b' ' + rng.below(95) as u8
            };
        }
        // Insert a few random bytes.
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.small_below(8);
            let bytes: Vec<u8> = (0..n).map(|_| b' ' + rng.below(95) as u8).collect();
            input.splice(at..at, bytes);
        }
        // Delete a range.
        3 if len > 0 => {
            let (start, end) = random_range(len, rng);
            input.drain(start..end);
        }
        // Insert a token of the format (several times, sometimes).
        4 | 5 if !dictionary.is_empty() => {
            let token = dictionary[rng.below(dictionary.len())].as_bytes();
            let times = if rng.chance(8) {
                1 + rng.small_below(64)
            } else {
                1
            };
            let at = rng.below(len + 1);
            let bytes = token.repeat(times);
            input.splice(at..at, bytes);
        }
        // Replace a range with a token.
        6 if len > 0 && !dictionary.is_empty() => {
            let (start, end) = random_range(len, rng);
            let token = dictionary[rng.below(dictionary.len())].as_bytes();
            input.splice(start..end, token.iter().copied());
        }
        // Duplicate a slice: once, or many times over (deep nesting and
        // long chains, the known crash class of parsers).
        7 | 8 if len > 0 => {
            let (start, end) = random_range(len.min(4096), rng);
            let slice = input[start..end].to_vec();
            let times = if rng.chance(3) {
                1 + rng.small_below(2000)
            } else {
                1
            };
            let at = rng.below(len + 1);
            input.splice(at..at, slice.repeat(times));
        }
        // Splice in a part of another input.
        9 if !corpus.is_empty() => {
            let other = &corpus[rng.below(corpus.len())];
            if !other.is_empty() {
                let (start, end) = random_range(other.len(), rng);
                let at = rng.below(len + 1);
                let cut = if rng.chance(2) {
                    len
                } else {
                    (at + rng.small_below(len - at + 1)).min(len)
                };
                input.splice(at..cut, other[start..end].iter().copied());
            }
        }
        // Truncate.
        10 if len > 0 => input.truncate(rng.below(len)),
        // Copy a range over another place.
        _ if len > 1 => {
            let (start, end) = random_range(len, rng);
            let chunk = input[start..end].to_vec();
            let at = rng.below(len);
            let stop = (at + chunk.len()).min(len);
            input.splice(at..stop, chunk);
        }
        _ => input.push(b' ' + rng.below(95) as u8),
    }
}

// ---------------------------------------------------------------------------
// The child: the fuzz loop.

/// Statistics of one child, written to `stats` in the work directory.
#[derive(Default, Clone, Debug)]
pub struct Stats {
    pub execs: u64,
    pub seconds: f64,
    pub corpus: usize,
    pub slowest_ms: u64,
    pub peak_rss_kib: u64,
}

impl Stats {
    fn to_text(&self) -> String {
        format!(
            "execs {}\nseconds {}\ncorpus {}\nslowest_ms {}\npeak_rss_kib {}\n",
            self.execs, self.seconds, self.corpus, self.slowest_ms, self.peak_rss_kib
        )
    }

    fn parse(text: &str) -> Stats {
        let mut stats = Stats::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(' ') else {
                continue;
            };
            match key {
                "execs" => stats.execs = value.parse().unwrap_or(0),
                "seconds" => stats.seconds = value.parse().unwrap_or(0.0),
                "corpus" => stats.corpus = value.parse().unwrap_or(0),
                "slowest_ms" => stats.slowest_ms = value.parse().unwrap_or(0),
                "peak_rss_kib" => stats.peak_rss_kib = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        stats
    }
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn limit_address_space() {
    let limit = libc::rlimit {
        rlim_cur: ADDRESS_SPACE_LIMIT,
        rlim_max: ADDRESS_SPACE_LIMIT,
    };
    // SAFETY: setrlimit with a valid struct; it only lowers this process's
    // own limit.
    let result = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    assert_eq!(result, 0, "setrlimit(RLIMIT_AS)");
}

/// Milliseconds since `epoch` at which the running input started; 0 when
/// none runs.
struct Heartbeat {
    epoch: Instant,
    started: AtomicU64,
}

impl Heartbeat {
    fn start(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.started.store(now.max(1), Ordering::SeqCst);
    }

    /// How long the input ran.
    fn stop(&self) -> u64 {
        let started = self.started.swap(0, Ordering::SeqCst);
        (self.epoch.elapsed().as_millis() as u64).saturating_sub(started)
    }
}

/// Kills the process (`EXIT_TIMEOUT`) when one input runs longer than
/// [`PER_INPUT_LIMIT`]; the input is in the work directory already.
fn start_watchdog(heartbeat: Arc<Heartbeat>) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(100));
        let started = heartbeat.started.load(Ordering::SeqCst);
        if started == 0 {
            continue;
        }
        let now = heartbeat.epoch.elapsed().as_millis() as u64;
        if now.saturating_sub(started) > PER_INPUT_LIMIT.as_millis() as u64 {
            let _ = writeln!(
                std::io::stderr(),
                "fuzz: one input ran longer than {} s",
                PER_INPUT_LIMIT.as_secs()
            );
            // SAFETY: ends the process at once, without running anything
            // of the thread that hangs.
            unsafe { libc::_exit(EXIT_TIMEOUT) };
        }
    });
}

/// Writes the input about to run, so that the parent finds it if the
/// process dies. One file, rewritten in place.
struct CurrentInput {
    file: std::fs::File,
}

impl CurrentInput {
    fn write(&mut self, input: &[u8]) {
        use std::os::unix::fs::FileExt;
        self.file.set_len(0).expect("truncate the current input");
        self.file
            .write_all_at(input, 0)
            .expect("write the current input");
    }
}

/// The hidden `child` test: runs the target named in `GLUONVPN_FUZZ_CHILD`.
pub fn child_main(targets: &[&Target]) {
    let Ok(name) = std::env::var("GLUONVPN_FUZZ_CHILD") else {
        eprintln!("the fuzz tests start this test in a child process; it does nothing alone");
        return;
    };
    let target = targets
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    let work = PathBuf::from(env_or("GLUONVPN_FUZZ_WORK", "."));
    limit_address_space();
    // Every panic is a finding, also one that the code under test catches
    // (a panicking worker thread whose failure becomes an error message):
    // the process aborts after the message.
    let report_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report_panic(info);
        std::process::abort();
    }));
    let heartbeat = Arc::new(Heartbeat {
        epoch: Instant::now(),
        started: AtomicU64::new(0),
    });
    start_watchdog(Arc::clone(&heartbeat));
    let mut current = CurrentInput {
        file: std::fs::File::create(work.join("current")).expect("current input file"),
    };
    let mut run = (target.setup)();

    if let Ok(replay) = std::env::var("GLUONVPN_FUZZ_REPLAY") {
        let input = std::fs::read(&replay).unwrap_or_else(|e| panic!("{replay}: {e}"));
        current.write(&input);
        heartbeat.start();
        let outcome = run(&input);
        let ms = heartbeat.stop();
        let what = match outcome {
            Exec::Ran(signature) | Exec::LeftThread(signature) => {
                format!("ran (signature {signature:016x})")
            }
        };
        eprintln!("fuzz: {replay} {what} in {ms} ms");
        return;
    }

    let seed: u64 = env_or("GLUONVPN_FUZZ_SEED", "0").parse().expect("seed");
    let seconds: f64 = env_or("GLUONVPN_FUZZ_SECONDS", "3")
        .parse()
        .expect("seconds");
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let seeds = (target.seeds)();
    let mut corpus: Vec<Vec<u8>> = seeds
        .inputs
        .into_iter()
        .map(|mut s| {
            s.truncate(target.max_len);
            s
        })
        .collect();
    let seed_count = corpus.len();
    // What earlier children of this test added to the corpus.
    let grown = work.join("corpus");
    std::fs::create_dir_all(&grown).expect("corpus directory");
    let mut grown_files: Vec<PathBuf> = std::fs::read_dir(&grown)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    grown_files.sort();
    corpus.extend(grown_files.iter().filter_map(|f| std::fs::read(f).ok()));
    let mut seen = HashSet::new();
    let mut stats = Stats::default();
    let stats_path = work.join("stats");
    let mut next_stats = Instant::now();

    let mut restart = false;
    let mut execute = |input: &[u8], stats: &mut Stats, restart: &mut bool| -> u64 {
        current.write(input);
        heartbeat.start();
        let outcome = run(input);
        let ms = heartbeat.stop();
        stats.slowest_ms = stats.slowest_ms.max(ms);
        stats.execs += 1;
        match outcome {
            Exec::Ran(signature) => signature,
            Exec::LeftThread(signature) => {
                *restart = true;
                signature
            }
        }
    };

    // The seeds run first, as they are, in an order of this run's own (a
    // short run may not get through them all).
    let mut order: Vec<usize> = (0..corpus.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let seeds_done = std::env::var_os("GLUONVPN_FUZZ_SEEDS_DONE").is_some();
    for &i in order.iter().filter(|_| !seeds_done) {
        if Instant::now() >= deadline || restart {
            break;
        }
        seen.insert(execute(&corpus[i], &mut stats, &mut restart));
    }
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let mut input = Vec::new();
    while Instant::now() < deadline && !restart {
        input.clear();
        input.extend_from_slice(&corpus[rng.below(corpus.len())]);
        mutate(
            &mut input,
            &corpus,
            target.dictionary,
            &mut rng,
            target.max_len,
        );
        let signature = execute(&input, &mut stats, &mut restart);
        if seen.insert(signature) && corpus.len() < seed_count + CORPUS_GROWTH {
            let _ = std::fs::write(grown.join(format!("{:08}", corpus.len())), &input);
            corpus.push(input.clone());
        }
        if Instant::now() >= next_stats {
            // Kept current for the parent, in case the process dies.
            stats.seconds = started.elapsed().as_secs_f64();
            stats.corpus = corpus.len();
            stats.peak_rss_kib = peak_rss_kib();
            let _ = std::fs::write(&stats_path, stats.to_text());
            next_stats = Instant::now() + Duration::from_millis(500);
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats.corpus = corpus.len();
    stats.peak_rss_kib = peak_rss_kib();
    std::fs::write(&stats_path, stats.to_text()).expect("stats");
    let _ = std::fs::remove_file(work.join("current"));
    // A thread left behind may still run: the parent goes on in a fresh
    // process, with a new seed.
    if restart {
        std::process::exit(EXIT_RESTART);
    }
}

/// A temporary directory for a target's files, inside the child's work
/// directory (which the parent removes, also after the child aborted).
pub fn scratch_dir(what: &str) -> tempfile::TempDir {
    let work =
        std::env::var_os("GLUONVPN_FUZZ_WORK").map_or_else(std::env::temp_dir, PathBuf::from);
    tempfile::Builder::new()
        .prefix(&format!("{what}-"))
        .tempdir_in(work)
        .expect("a scratch directory")
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

// ---------------------------------------------------------------------------
// The parent: one test per target.

/// Seconds per target: `GLUONVPN_FUZZ_SECONDS`, else 60 under CI, else 3.
pub fn seconds() -> f64 {
    match std::env::var("GLUONVPN_FUZZ_SECONDS") {
        Ok(s) => s.parse().expect("GLUONVPN_FUZZ_SECONDS is a number"),
        Err(_) if std::env::var_os("CI").is_some() => 60.0,
        Err(_) => 3.0,
    }
}

/// Where findings are kept: `target/fuzz-findings`.
pub fn findings_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("fuzz-findings")
}

/// At most [`PARALLEL_TARGETS`] targets fuzz at once.
fn slot() -> SlotGuard {
    static SLOTS: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());
    let (lock, cvar) = &SLOTS;
    let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
    while *used >= PARALLEL_TARGETS {
        used = cvar.wait(used).unwrap_or_else(|e| e.into_inner());
    }
    *used += 1;
    SlotGuard(&SLOTS)
}

struct SlotGuard(&'static (Mutex<usize>, Condvar));

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let (lock, cvar) = self.0;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        cvar.notify_one();
    }
}

/// How a child ended.
struct Ended {
    status: ExitStatus,
    /// Killed by the parent after this long.
    hung: Option<Duration>,
    /// The child's standard error (panic messages, "overflowed its stack").
    stderr: String,
}

impl Ended {
    fn is_finding(&self) -> bool {
        self.hung.is_some() || (!self.status.success() && self.status.code() != Some(EXIT_RESTART))
    }

    /// What killed the child, as one line: the same for the same bug.
    fn kind(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        if let Some(limit) = self.hung {
            return format!(
                "the child was still running after {} s (a hang outside an input?)",
                limit.as_secs()
            );
        }
        if self.status.code() == Some(EXIT_TIMEOUT) {
            return format!("an input ran longer than {} s", PER_INPUT_LIMIT.as_secs());
        }
        if self.stderr.contains("has overflowed its stack") {
            return "stack overflow".into();
        }
        if let Some(line) = self
            .stderr
            .lines()
            .find(|l| l.contains("memory allocation of"))
        {
            return line.trim().to_string();
        }
        if let Some(at) = self.stderr.find("panicked at ") {
            let rest = &self.stderr[at + "panicked at ".len()..];
            let location = rest.split(':').take(2).collect::<Vec<_>>().join(":");
            // The message's first line, without numbers (positions), tells
            // apart findings of one assertion.
            let message: String = rest
                .lines()
                .nth(1)
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .take(100)
                .collect();
            return format!("panic at {location}: {message}");
        }
        match (self.status.code(), self.status.signal()) {
            (_, Some(signal)) => format!("killed by signal {signal}"),
            (Some(code), _) => format!("exit status {code}"),
            _ => "ended oddly".into(),
        }
    }

    /// The child's last words, for the report: from the panic or overflow
    /// message on, without the standard library's frames.
    fn tail(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.starts_with("note: ") && !l.contains("/rustc/"))
            .collect();
        let start = lines
            .iter()
            .position(|l| l.contains("panicked at") || l.contains("overflowed its stack"))
            .unwrap_or(lines.len().saturating_sub(40));
        lines[start..]
            .iter()
            .take(60)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

struct Child<'a> {
    target: &'a Target,
    work: &'a Path,
}

impl Child<'_> {
    /// Runs the child; kills it when it is still there after `limit` (a
    /// hang the watchdog cannot see: in the target's setup, say).
    fn run(&self, env: &[(&str, String)], limit: Duration) -> Ended {
        let stderr_path = self.work.join("stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("child stderr file");
        let mut child = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--ignored",
                "--exact",
                "child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("GLUONVPN_FUZZ_CHILD", self.target.name)
            .env("RUST_BACKTRACE", "1")
            // Temporary files (make's scratch directories too) in the work
            // directory, which goes when the test ends.
            .env("TMPDIR", self.work)
            .env("GLUONVPN_FUZZ_WORK", self.work)
            .env_remove("GLUONVPN_FUZZ_REPLAY")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the fuzz child starts");
        let started = Instant::now();
        let mut hung = false;
        let status = loop {
            match child.try_wait().expect("wait for the fuzz child") {
                Some(status) => break status,
                None if started.elapsed() > limit => {
                    hung = true;
                    let _ = child.kill();
                    break child.wait().expect("wait for the fuzz child");
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        let stderr = std::fs::read(&stderr_path).unwrap_or_default();
        Ended {
            status,
            hung: hung.then_some(limit),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    fn replay(&self, input: &[u8]) -> Ended {
        let file = self.work.join("replay");
        std::fs::write(&file, input).expect("replay input");
        self.run(
            &[("GLUONVPN_FUZZ_REPLAY", file.display().to_string())],
            CHILD_GRACE,
        )
    }
}

/// Writes a line to the test's standard error past the test harness's
/// capture, so that CI logs show it.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The parent test of one target.
pub fn run(target: &Target) {
    let work = tempfile::Builder::new()
        .prefix(&format!("gluonvpn-fuzz-{}-", target.name))
        .tempdir()
        .expect("work directory");
    let child = Child {
        target,
        work: work.path(),
    };

    if let Ok(replay) = std::env::var("GLUONVPN_FUZZ_REPLAY") {
        return replay_file(&child, Path::new(&replay));
    }

    let _slot = slot();
    let total = seconds();
    let first_seed: u64 = match std::env::var("GLUONVPN_FUZZ_SEED") {
        Ok(s) => s.parse().expect("GLUONVPN_FUZZ_SEED is a number"),
        Err(_) => {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                ^ hash(target.name.as_bytes())
        }
    };
    let keep_going = std::env::var_os("GLUONVPN_FUZZ_KEEP_GOING").is_some();
    let seeds = (target.seeds)();
    let started = Instant::now();
    let mut totals = Stats::default();
    let mut findings: Vec<String> = Vec::new();
    let mut kinds_seen = HashSet::new();
    let mut seed = first_seed;
    let mut children = 0;
    loop {
        let left = total - started.elapsed().as_secs_f64();
        // The seeds run in every child, so even a run of 0 s checks them.
        if children > 0 && left <= 0.5 {
            break;
        }
        children += 1;
        let _ = std::fs::remove_file(work.path().join("stats"));
        let mut env = vec![
            ("GLUONVPN_FUZZ_SEED", seed.to_string()),
            ("GLUONVPN_FUZZ_SECONDS", left.max(0.0).to_string()),
        ];
        if children > 1 {
            // The first child ran them; a later one goes on with the corpus.
            env.push(("GLUONVPN_FUZZ_SEEDS_DONE", "1".to_string()));
        }
        let ended = child.run(&env, Duration::from_secs_f64(left.max(0.0)) + CHILD_GRACE);
        let stats =
            Stats::parse(&std::fs::read_to_string(work.path().join("stats")).unwrap_or_default());
        totals.execs += stats.execs;
        totals.seconds += stats.seconds;
        totals.corpus = totals.corpus.max(stats.corpus);
        totals.slowest_ms = totals.slowest_ms.max(stats.slowest_ms);
        totals.peak_rss_kib = totals.peak_rss_kib.max(stats.peak_rss_kib);
        if ended.is_finding() {
            let report = record_finding(&child, &ended, seed);
            if kinds_seen.insert(ended.kind()) {
                findings.push(report);
            }
            if !keep_going {
                break;
            }
        } else if ended.status.success() {
            break;
        }
        seed = Rng::new(seed).next();
    }
    say(&format!(
        "fuzz {}: seed {first_seed}, {} seeds ({} from the repository, {} from ../shared/corpus), {} inputs in {:.1} s ({:.0}/s) in {children} process(es), corpus grew to {}, slowest input {} ms, peak RSS {} MiB, {} finding(s)",
        target.name,
        seeds.inputs.len(),
        seeds.repository,
        seeds.corpus,
        totals.execs,
        totals.seconds,
        totals.execs as f64 / totals.seconds.max(0.001),
        totals.corpus,
        totals.slowest_ms,
        totals.peak_rss_kib / 1024,
        findings.len(),
    ));
    assert!(
        findings.is_empty(),
        "fuzz target {} found {} problem(s):\n\n{}",
        target.name,
        findings.len(),
        findings.join("\n\n")
    );
}

/// Keeps the input that killed a child and says how to replay it.
fn record_finding(child: &Child<'_>, ended: &Ended, seed: u64) -> String {
    let mut input = std::fs::read(child.work.join("current")).unwrap_or_default();
    let kind = ended.kind();
    let original_len = input.len();
    if std::env::var_os("GLUONVPN_FUZZ_MINIMIZE").is_some() {
        input = minimize(child, input, &kind);
    }
    let dir = findings_dir();
    std::fs::create_dir_all(&dir).expect("findings directory");
    let file = dir.join(format!("{}-{:016x}", child.target.name, hash(&input)));
    std::fs::write(&file, &input).expect("write the finding");
    let replay = format!(
        "GLUONVPN_FUZZ_REPLAY={} cargo test -p gluonvpn --test fuzz -- --exact {}",
        file.display(),
        child.target.name
    );
    let report = format!(
        "{kind} (seed {seed}), input of {} bytes{} kept in {}\nreplay: {replay}\nthe child's last words:\n{}",
        input.len(),
        if input.len() == original_len {
            String::new()
        } else {
            format!(" (minimised from {original_len})")
        },
        file.display(),
        ended.tail()
    );
    let _ = std::fs::write(file.with_extension("txt"), format!("{report}\n"));
    say(&format!("fuzz {}: finding: {report}", child.target.name));
    report
}

/// Runs a finding again in a child and reports what happened.
fn replay_file(child: &Child<'_>, file: &Path) {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let for_other_target = name.as_deref().is_some_and(|n| {
        !n.starts_with(&format!("{}-", child.target.name))
            && crate::targets::ALL
                .iter()
                .any(|t| n.starts_with(&format!("{}-", t.name)))
    });
    if for_other_target {
        return;
    }
    let input = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let ended = child.replay(&input);
    say(&ended.tail());
    assert!(
        !ended.is_finding(),
        "{}: {} on target {}",
        file.display(),
        ended.kind(),
        child.target.name
    );
}

/// Shrinks an input while it still ends the child the same way: removes
/// ranges of halving sizes, one child per attempt, for at most
/// `GLUONVPN_FUZZ_MINIMIZE_SECONDS` (default 300).
fn minimize(child: &Child<'_>, mut input: Vec<u8>, kind: &str) -> Vec<u8> {
    let limit: f64 = env_or("GLUONVPN_FUZZ_MINIMIZE_SECONDS", "300")
        .parse()
        .unwrap_or(300.0);
    let started = Instant::now();
    let still_fails = |candidate: &[u8]| {
        let ended = child.replay(candidate);
        ended.is_finding() && ended.kind() == kind
    };
    let mut chunk = input.len() / 2;
    while chunk >= 1 && started.elapsed().as_secs_f64() < limit {
        let mut at = 0;
        let mut shrunk = false;
        while at < input.len() && started.elapsed().as_secs_f64() < limit {
            let end = (at + chunk).min(input.len());
            let mut candidate = input[..at].to_vec();
            candidate.extend_from_slice(&input[end..]);
            if still_fails(&candidate) {
                input = candidate;
                shrunk = true;
            } else {
                at += chunk;
            }
        }
        if !shrunk {
            chunk /= 2;
        }
    }
    input
}
