//! Sandboxed Lua 5.1 for the site's untrusted files, and the lua-jsonc round
//! trip that turns Lua values into the [`Value`]s Gluon's checks see.
//!
//! Gluon evaluates `return ` + file text with an empty environment, so a site
//! file reaches no globals; only the string methods (through the string
//! metatable) are there, as in Gluon. On top of that the sandbox bounds the
//! instructions, the memory and the wall-clock time an evaluation may use, so
//! `while true do end` or `("x"):rep(2^31)` end in a clear error.
//!
//! Lua 5.1 bounds its own recursion in C: the parser stops at 200 syntax
//! levels ("chunk has too many syntax levels") and nested C calls at 200 ("C
//! stack overflow"). The sandbox loads and runs a file at the C call depth
//! Gluon's `lua scripts/site_config.lua` does (two levels), so both limits
//! strike at exactly the depth where they strike in Gluon. The one recursion
//! Lua 5.1 leaves unbounded, its pattern matcher (once per repetition item),
//! the sandbox bounds ([`MAX_PATTERN_ITEMS`]).

use super::spans;
pub use super::spans::SpanTree;
use super::value::{lua_number_to_string, Node, Value};
use crate::source::{FileId, Span};
use mlua::chunk::ChunkMode;
use mlua::{ffi, Function, HookTriggers, Lua, LuaOptions, StdLib, Table, VmState};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::os::raw::c_int;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one evaluation may use.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub instructions: u64,
    pub memory_bytes: usize,
    pub wall_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        // A large real site.conf runs in well under a million instructions and
        // a few hundred KiB; these leave two orders of magnitude of headroom.
        Limits {
            instructions: 100_000_000,
            memory_bytes: 256 << 20,
            wall_time: Duration::from_secs(2),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    Instructions,
    Memory,
    Time,
    /// A string pattern with more than [`MAX_PATTERN_ITEMS`] items.
    Pattern,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Syntax,
    Runtime,
    Limit(LimitKind),
}

/// A failed evaluation, with Lua's message as Gluon would print it.
#[derive(Clone, Debug, PartialEq)]
pub struct LuaFailure {
    pub kind: FailureKind,
    /// Lua's full message, e.g. `[string "site.conf"]:13: unexpected symbol near '%'`.
    pub message: String,
    /// The chunk named in the message and the line it points at.
    pub location: Option<(String, usize)>,
}

impl LuaFailure {
    /// The message without Lua's `[string "…"]:N: ` prefix.
    pub fn bare_message(&self) -> &str {
        match self.message.find("]:") {
            Some(i) if self.location.is_some() => {
                let rest = &self.message[i + 2..];
                rest.split_once(": ").map_or(rest, |(_, m)| m)
            }
            _ => &self.message,
        }
    }
}

impl fmt::Display for LuaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

struct Budget {
    instructions_left: Cell<i64>,
    deadline: Cell<Instant>,
    exceeded: Cell<Option<LimitKind>>,
}

/// How often the instruction hook runs; the instruction limit is enforced
/// with this granularity.
const HOOK_INTERVAL: u32 = 10_000;

pub struct Sandbox {
    lua: Lua,
    limits: Limits,
    budget: Rc<Budget>,
    watch: Option<Arc<Watch>>,
    /// This sandbox among the process's, for its watch.
    id: u64,
    /// Loads and runs a configuration file two C calls deep (see
    /// [`Sandbox::eval_config`]).
    config_runner: Function,
}

/// What a watchdog on another thread sees of a sandbox: the evaluation that
/// is running and since when. The instruction hook cannot stop a single C
/// call that runs forever (a string pattern that backtracks without end);
/// the watchdog can give up on it.
/// Several sandboxes (on several threads) may share one watch.
#[derive(Debug, Default)]
pub struct Watch {
    /// Per sandbox ([`Sandbox::id`]): what it evaluates, since when.
    running: Mutex<Vec<(u64, String, Instant)>>,
}

impl Watch {
    /// An evaluation that has been running longer than `limit`, if any.
    pub fn overdue(&self, limit: Duration) -> Option<String> {
        let running = self.running.lock().ok()?;
        running
            .iter()
            .find(|(_, _, since)| since.elapsed() > limit)
            .map(|(_, name, _)| name.clone())
    }

    fn set(&self, sandbox: u64, value: Option<(String, Instant)>) {
        if let Ok(mut running) = self.running.lock() {
            running.retain(|(id, _, _)| *id != sandbox);
            if let Some((name, since)) = value {
                running.push((sandbox, name, since));
            }
        }
    }
}

/// Tells the sandboxes of a process apart for their [`Watch`].
static SANDBOXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Sandbox {
    pub fn new(limits: Limits) -> mlua::Result<Sandbox> {
        // The string library is loaded for its metatable: Gluon's Lua has it,
        // so `("%x"):rep(64)` works in site.conf.
        let lua = Lua::new_with(StdLib::STRING, LuaOptions::default())?;
        let budget = Rc::new(Budget {
            instructions_left: Cell::new(0),
            deadline: Cell::new(Instant::now()),
            exceeded: Cell::new(None),
        });
        let hook_budget = Rc::clone(&budget);
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_INTERVAL),
            move |_, _| {
                let left = hook_budget.instructions_left.get() - i64::from(HOOK_INTERVAL);
                hook_budget.instructions_left.set(left);
                let exceeded = if left < 0 {
                    Some(LimitKind::Instructions)
                } else if Instant::now() > hook_budget.deadline.get() {
                    Some(LimitKind::Time)
                } else {
                    None
                };
                match exceeded {
                    Some(kind) => {
                        hook_budget.exceeded.set(Some(kind));
                        Err(mlua::Error::runtime(limit_message(kind)))
                    }
                    None => Ok(VmState::Continue),
                }
            },
        )?;
        guard_pattern_matching(&lua)?;
        let runner = config_runner(&lua, false)?;
        let mut sandbox = Sandbox {
            lua,
            limits,
            budget,
            watch: None,
            id: SANDBOXES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            config_runner: runner,
        };
        if parses_nested_tables(&sandbox, GLUON_DEEPEST_TABLES + 1) {
            sandbox.config_runner = config_runner(&sandbox.lua, true)?;
        }
        Ok(sandbox)
    }

    /// Lets a watchdog see which evaluation runs (see [`Watch`]).
    pub fn watched_by(mut self, watch: Arc<Watch>) -> Sandbox {
        self.watch = Some(watch);
        self
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Runs `f` with a fresh budget; errors become [`LuaFailure`]s. `what`
    /// names the file being evaluated, for the watchdog.
    pub fn run_named<R>(
        &self,
        what: &str,
        f: impl FnOnce(&Lua) -> mlua::Result<R>,
    ) -> Result<R, LuaFailure> {
        if let Some(watch) = &self.watch {
            watch.set(self.id, Some((what.to_string(), Instant::now())));
        }
        let result = self.run(f);
        if let Some(watch) = &self.watch {
            watch.set(self.id, None);
        }
        result
    }

    /// Runs `f` with a fresh budget; errors become [`LuaFailure`]s.
    pub fn run<R>(&self, f: impl FnOnce(&Lua) -> mlua::Result<R>) -> Result<R, LuaFailure> {
        self.budget
            .instructions_left
            .set(i64::try_from(self.limits.instructions).unwrap_or(i64::MAX));
        self.budget
            .deadline
            .set(Instant::now() + self.limits.wall_time);
        self.budget.exceeded.set(None);
        let used = self.lua.used_memory();
        let memory_ok = self
            .lua
            .set_memory_limit(used + self.limits.memory_bytes)
            .is_ok();
        let result = f(&self.lua);
        if memory_ok {
            self.lua.set_memory_limit(0).ok();
        }
        result.map_err(|e| self.failure(e))
    }

    fn failure(&self, error: mlua::Error) -> LuaFailure {
        if let Some(kind) = self.budget.exceeded.get() {
            return LuaFailure {
                kind: FailureKind::Limit(kind),
                message: limit_message(kind).to_string(),
                location: None,
            };
        }
        let (mut kind, message) = flatten_error(&error);
        if message.ends_with(PATTERN_MESSAGE) {
            kind = FailureKind::Limit(LimitKind::Pattern);
        }
        let location = parse_location(&message);
        LuaFailure {
            kind,
            message,
            location,
        }
    }

    /// Evaluates a configuration file as Gluon's scripts/site_config.lua does:
    /// `return ` + text, chunk name = the file's name, empty environment.
    ///
    /// Gluon runs that script with `lua`, whose main chunk runs two C calls
    /// deep (`lua_cpcall`, then `lua_pcall`); it calls `load` and the loaded
    /// chunk from Lua, which adds none. Lua 5.1's limits count from there:
    /// the parser allows 200 syntax levels minus that depth, nested C calls
    /// (`gsub` with a function) 200 minus it. So the file is parsed and run
    /// two C calls deep here as well (see [`config_runner`]).
    pub fn eval_config(&self, chunk_name: &str, text: &str) -> Result<mlua::Value, LuaFailure> {
        let source = format!("return {text}");
        self.run_named(chunk_name, |lua| {
            let env = lua.create_table()?;
            self.config_runner
                .call::<mlua::Value>((lua.create_string(&source)?, chunk_name, env))
        })
    }
}

/// The runner of [`Sandbox::eval_config`]: a Rust function that loads the
/// text and calls the chunk. Called from Rust, it runs one C call deep, and
/// the chunk it calls two. Loading adds a C call where mlua protects it
/// (with a memory limit set, as in [`Sandbox::run`]); where it does not,
/// `extra_level` loads through one more Rust call, so that the parser too
/// counts its levels from two. [`Sandbox::new`] finds out which applies.
fn config_runner(lua: &Lua, extra_level: bool) -> mlua::Result<Function> {
    let loader = lua.create_function(
        |lua, (source, name, env): (mlua::LuaString, String, Table)| {
            lua.load(source.as_bytes().to_vec())
                .set_name(name)
                .set_mode(ChunkMode::Text)
                .set_environment(env)
                .into_function()
        },
    )?;
    lua.create_function(
        move |lua, (source, name, env): (mlua::LuaString, String, Table)| {
            let chunk = if extra_level {
                loader.call::<Function>((source, name, env))?
            } else {
                lua.load(source.as_bytes().to_vec())
                    .set_name(name)
                    .set_mode(ChunkMode::Text)
                    .set_environment(env)
                    .into_function()?
            };
            chunk.call::<mlua::MultiValue>(())
        },
    )
}

/// Whether the runner parses `return` and `depth` nested table
/// constructors (at Gluon's depth, 197 and not 198).
fn parses_nested_tables(sandbox: &Sandbox, depth: usize) -> bool {
    let probe = format!("return {}{}", "{".repeat(depth), "}".repeat(depth));
    sandbox
        .run(|lua| {
            let env = lua.create_table()?;
            sandbox
                .config_runner
                .call::<mlua::Value>((lua.create_string(&probe)?, "probe", env))
        })
        .is_ok()
}

/// The most table constructors Lua 5.1 nests in `return {{…}}` when the
/// parser starts two C calls deep, as in Gluon (measured with lua5.1).
const GLUON_DEEPEST_TABLES: usize = 197;

/// How many repetition items (`?`, `*`, `+`, `-`) and capture brackets a
/// string pattern may have. Lua 5.1's matcher recurses in C once for each,
/// with no limit of its own: a long enough pattern overflows the C stack and
/// the process dies (Lua 5.1 itself crashes on `("x?"):rep(150000)`). Lua 5.2
/// and later stop at 200 levels with "pattern too complex"; the sandbox stops
/// a pattern with more than 200 such items before it runs.
pub const MAX_PATTERN_ITEMS: usize = 200;

const PATTERN_MESSAGE: &str =
    "pattern too complex (more than 200 repetitions and captures: gluonvpn's limit)";

/// Replaces `string.find`, `match`, `gmatch` and `gsub` (reached through the
/// string metatable) with C functions that check the pattern and then run
/// the original on the same stack frame: for every pattern within the
/// limit, results, error messages and their positions stay Lua's own.
fn guard_pattern_matching(lua: &Lua) -> mlua::Result<()> {
    let string: Table = lua.globals().raw_get("string")?;
    for (name, is_find) in [
        ("find", true),
        ("match", false),
        ("gmatch", false),
        ("gsub", false),
    ] {
        let original: Function = string.raw_get(name)?;
        // SAFETY: the closure only pushes a C closure over the two values
        // exec_raw put on the stack (the original function and the flag).
        let guarded: Function = unsafe {
            lua.exec_raw((original, is_find), |state| {
                ffi::lua_pushcclosure(state, guarded_matcher, 2);
            })
        }?;
        string.raw_set(name, guarded)?;
    }
    Ok(())
}

/// A string matcher behind the pattern check. Upvalue 1 is the original C
/// function, upvalue 2 whether it is `find` (whose fourth argument turns
/// patterns off).
unsafe extern "C-unwind" fn guarded_matcher(state: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole function): `state` is the running Lua state, which calls
    // this function with its arguments at 1..n; the upvalues are set by
    // guard_pattern_matching. Nothing here owns memory or has a destructor,
    // so lua_error's longjmp out of this frame skips no cleanup.
    unsafe {
        let plain = ffi::lua_toboolean(state, ffi::lua_upvalueindex(2)) != 0
            && ffi::lua_toboolean(state, 4) != 0;
        if !plain && ffi::lua_type(state, 2) == ffi::LUA_TSTRING {
            let mut len = 0usize;
            let pattern = ffi::lua_tolstring(state, 2, &mut len);
            if !pattern.is_null()
                && recursing_items(std::slice::from_raw_parts(pattern.cast::<u8>(), len))
                    > MAX_PATTERN_ITEMS
            {
                ffi::luaL_where(state, 1);
                ffi::lua_pushlstring(
                    state,
                    PATTERN_MESSAGE.as_ptr().cast(),
                    PATTERN_MESSAGE.len(),
                );
                ffi::lua_concat(state, 2);
                ffi::lua_error(state);
            }
        }
        match ffi::lua_tocfunction(state, ffi::lua_upvalueindex(1)) {
            Some(original) => original(state),
            None => 0,
        }
    }
}

/// The pattern items on which Lua 5.1's `match` (lstrlib.c) calls itself:
/// an item followed by `?`, `*`, `+` or `-`, and each `(` and `)`. Any
/// chain of recursive calls consumes one of them per level, so this bounds
/// the recursion depth (other items, `%b`, `%f` and back references loop).
pub fn recursing_items(pattern: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'(' => {
                count += 1;
                i += if pattern.get(i + 1) == Some(&b')') {
                    2
                } else {
                    1
                };
            }
            b')' => {
                count += 1;
                i += 1;
            }
            b'%' if pattern.get(i + 1) == Some(&b'b') => i += 4,
            b'%' if pattern.get(i + 1) == Some(&b'f') => i = class_end(pattern, i + 2),
            b'%' if pattern.get(i + 1).is_some_and(u8::is_ascii_digit) => i += 2,
            _ => {
                let end = class_end(pattern, i);
                if matches!(pattern.get(end), Some(b'?' | b'*' | b'+' | b'-')) {
                    count += 1;
                    i = end + 1;
                } else {
                    i = end;
                }
            }
        }
    }
    count
}

/// lstrlib.c's classend: just past the single-character class at `i`.
fn class_end(pattern: &[u8], i: usize) -> usize {
    match pattern.get(i) {
        Some(b'%') => i + 2,
        Some(b'[') => {
            let mut j = i + 1;
            if pattern.get(j) == Some(&b'^') {
                j += 1;
            }
            // A `]` right after `[` or `[^` belongs to the set.
            loop {
                let Some(&c) = pattern.get(j) else {
                    return pattern.len();
                };
                j += 1;
                if c == b'%' && j < pattern.len() {
                    j += 1;
                }
                match pattern.get(j) {
                    Some(b']') => return j + 1,
                    Some(_) => {}
                    None => return pattern.len(),
                }
            }
        }
        _ => i + 1,
    }
}

fn limit_message(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::Instructions => {
            "evaluation stopped: it ran more instructions than gluonvpn allows (an endless loop?)"
        }
        LimitKind::Memory => "evaluation stopped: it used more memory than gluonvpn allows",
        LimitKind::Time => "evaluation stopped: it ran longer than gluonvpn allows",
        LimitKind::Pattern => PATTERN_MESSAGE,
    }
}

fn flatten_error(error: &mlua::Error) -> (FailureKind, String) {
    match error {
        mlua::Error::SyntaxError { message, .. } => (FailureKind::Syntax, message.clone()),
        mlua::Error::MemoryError(_) => (
            FailureKind::Limit(LimitKind::Memory),
            limit_message(LimitKind::Memory).to_string(),
        ),
        mlua::Error::RuntimeError(message) => (FailureKind::Runtime, without_traceback(message)),
        mlua::Error::CallbackError { cause, .. } => flatten_error(cause),
        mlua::Error::WithContext { cause, .. } => flatten_error(cause),
        other => (FailureKind::Runtime, other.to_string()),
    }
}

/// Lua messages from mlua carry a traceback; Gluon's users see the first line.
fn without_traceback(message: &str) -> String {
    message
        .split_once("\nstack traceback:")
        .map_or(message, |(first, _)| first)
        .to_string()
}

/// Finds `[string "NAME"]:LINE:` in a Lua message.
pub fn parse_location(message: &str) -> Option<(String, usize)> {
    let start = message.find("[string \"")? + "[string \"".len();
    let rest = &message[start..];
    let end = rest.find("\"]:")?;
    let name = rest[..end].to_string();
    let digits: String = rest[end + 3..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((name, digits.parse().ok()?))
}

/// Why a Lua value could not be turned into JSON the way lua-jsonc does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConvertError {
    /// Tables nested deeper than any site needs; Gluon's serialiser would
    /// recurse forever on a table that contains itself.
    TooDeep,
    /// Lua could not hand over a value (mlua's error).
    Lua(String),
}

const MAX_DEPTH: usize = 64;

/// Where a converted value's spans come from.
#[derive(Clone)]
pub struct SpanSource<'a> {
    pub file: FileId,
    pub tree: Option<&'a SpanTree>,
    /// The span used when the tree has nothing better (a computed value).
    pub fallback: Range<usize>,
}

impl SpanSource<'_> {
    fn span(&self) -> Span {
        let range = self.tree.map_or(self.fallback.clone(), |t| t.range.clone());
        Span::new(self.file, range.start, range.end)
    }
}

/// Converts an evaluated value into a [`Node`] as the lua-jsonc round trip
/// would leave it. `Ok(None)` means the value becomes JSON null (nil,
/// functions and other non-data values).
pub fn to_node(value: &mlua::Value, spans: SpanSource<'_>) -> Result<Option<Node>, ConvertError> {
    convert(value, spans, 0)
}

/// Spans and span tree for the whole returned expression of a file (see
/// [`spans::returned_expression`]: linear in the text, whatever it holds).
pub fn file_span_tree(text: &str) -> Option<SpanTree> {
    spans::returned_expression(text)
}

fn convert(
    value: &mlua::Value,
    spans: SpanSource<'_>,
    depth: usize,
) -> Result<Option<Node>, ConvertError> {
    let span = Some(spans.span());
    let value = match value {
        mlua::Value::Boolean(b) => Value::Bool(*b),
        mlua::Value::Integer(i) => Value::Number(jsonc_number(*i as f64)),
        mlua::Value::Number(n) => Value::Number(jsonc_number(*n)),
        mlua::Value::String(s) => Value::String(jsonc_string(&s.as_bytes())),
        mlua::Value::Table(table) => {
            if depth >= MAX_DEPTH {
                return Err(ConvertError::TooDeep);
            }
            convert_table(table, spans, depth)?
        }
        _ => return Ok(None),
    };
    Ok(Some(Node::new(value, span)))
}

fn child_spans<'a>(
    parent: SpanSource<'a>,
    child: Option<(&'a SpanTree, Range<usize>)>,
) -> (SpanSource<'a>, Option<Span>) {
    match (parent.tree, child) {
        (Some(tree), Some((child_tree, key_range))) if tree.fields.is_some() => (
            SpanSource {
                file: parent.file,
                tree: Some(child_tree),
                fallback: child_tree.range.clone(),
            },
            Some(Span::new(parent.file, key_range.start, key_range.end)),
        ),
        _ => {
            // Computed: everything inside points at the expression that built it.
            let range = parent
                .tree
                .map_or(parent.fallback.clone(), |t| t.range.clone());
            (
                SpanSource {
                    file: parent.file,
                    tree: None,
                    fallback: range.clone(),
                },
                Some(Span::new(parent.file, range.start, range.end)),
            )
        }
    }
}

/// A table key as lua-jsonc sees it.
enum PairKey {
    Number(f64),
    Name(String),
    /// Neither a number nor a string: lua-jsonc skips it.
    Other,
}

fn convert_table(
    table: &Table,
    spans: SpanSource<'_>,
    depth: usize,
) -> Result<Value, ConvertError> {
    // Every pair is converted as soon as Lua hands it over. Each Lua value
    // held on the Rust side takes a slot of mlua's reference stack, of which
    // Lua 5.1 has about 8,000: collecting the pairs of a large table first
    // ran out of them, and the pairs that failed went missing.
    let mut entries: Vec<(PairKey, Option<Node>)> = Vec::new();
    let mut array = true;
    let mut largest = 0usize;
    for pair in table.clone().pairs::<mlua::Value, mlua::Value>() {
        let (key, value) = pair.map_err(|e| ConvertError::Lua(e.to_string()))?;
        let (key, child) = match key {
            mlua::Value::Integer(i) => (
                PairKey::Number(i as f64),
                spans.tree.and_then(|t| t.child_for_number(i as f64)),
            ),
            mlua::Value::Number(n) => (
                PairKey::Number(n),
                spans.tree.and_then(|t| t.child_for_number(n)),
            ),
            mlua::Value::String(s) => {
                let name = jsonc_string(&s.as_bytes());
                let child = spans.tree.and_then(|t| t.child_for_name(&name));
                (PairKey::Name(name), child)
            }
            // lua_tostring gives NULL for other keys; lua-jsonc skips them.
            _ => (PairKey::Other, None),
        };
        match &key {
            PairKey::Number(n) if jsonc_array_index(*n) => largest = largest.max(*n as usize),
            _ => array = false,
        }
        if matches!(key, PairKey::Other) {
            entries.push((key, None));
            continue;
        }
        let (child_spans, key_span) = child_spans(spans.clone(), child);
        let node = convert(&value, child_spans, depth + 1)?.map(|mut node| {
            node.key_span = key_span;
            node
        });
        entries.push((key, node));
    }

    // lua-jsonc's array test: every key a positive integer below INT_MAX and
    // no holes below the largest (keys are distinct, so no holes means
    // exactly `largest` keys). An empty table is an (empty) array.
    if array && entries.len() == largest {
        let mut items: Vec<Option<Node>> = (0..largest).map(|_| None).collect();
        for (key, node) in entries {
            if let PairKey::Number(n) = key {
                if let Some(slot) = (n as usize).checked_sub(1).and_then(|i| items.get_mut(i)) {
                    *slot = node;
                }
            }
        }
        // A function inside an array becomes JSON null, which loads back
        // as a hole: the array ends there for `#` and ipairs.
        return Ok(Value::Array(items.into_iter().map_while(|n| n).collect()));
    }

    let mut fields: Vec<(String, Node)> = Vec::with_capacity(entries.len());
    let mut positions: HashMap<String, usize> = HashMap::new();
    for (key, node) in entries {
        let name = match key {
            PairKey::Number(n) => lua_number_to_string(n),
            PairKey::Name(name) => name,
            PairKey::Other => continue,
        };
        let Some(node) = node else {
            continue;
        };
        // json-c replaces the value of a key added twice (e.g. `[1]` and
        // `['1']`), keeping its place.
        match positions.get(&name) {
            Some(&at) => fields[at].1 = node,
            None => {
                positions.insert(name.clone(), fields.len());
                fields.push((name, node));
            }
        }
    }
    Ok(Value::Object(fields))
}

/// Whether lua-jsonc counts a number key as an array index: a positive
/// integer below INT_MAX.
fn jsonc_array_index(n: f64) -> bool {
    n.fract() == 0.0 && n > 0.0 && n < f64::from(i32::MAX)
}

/// lua-jsonc stores an integral number with json-c's 32-bit
/// `json_object_new_int`; on the x86 build hosts a value outside that range
/// converts to INT_MIN. Other numbers stay doubles.
fn jsonc_number(n: f64) -> f64 {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.223_372_036_854_776e18 {
        if n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) {
            n + 0.0 // folds -0 into 0, as the integer round trip does
        } else {
            f64::from(i32::MIN)
        }
    } else {
        n
    }
}

/// json-c takes strings as C strings: they end at the first NUL byte.
pub(super) fn jsonc_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str) -> Result<Option<Node>, LuaFailure> {
        let sandbox = Sandbox::new(Limits {
            instructions: 5_000_000,
            memory_bytes: 16 << 20,
            wall_time: Duration::from_secs(5),
        })
        .expect("lua");
        let value = sandbox.eval_config("site.conf", text)?;
        let tree = file_span_tree(text);
        Ok(to_node(
            &value,
            SpanSource {
                file: FileId(0),
                tree: tree.as_ref(),
                fallback: 0..text.len(),
            },
        )
        .expect("converts"))
    }

    #[test]
    fn arrays_objects_and_empty_tables_follow_lua_jsonc() {
        let node = eval("{ a = {}, b = {'x', 'y'}, c = {'x', nil, 'z'}, d = {'x', k = 1}, e = {[2] = 'y', [1] = 'x'} }")
            .expect("evaluates")
            .expect("a value");
        assert_eq!(
            node.get_name("a").map(|n| n.value.clone()),
            Some(Value::Array(vec![]))
        );
        assert_eq!(node.get_name("b").map(Node::len), Some(2));
        // a hole makes an object with string keys
        let c = node.get_name("c").expect("c");
        assert!(matches!(c.value, Value::Object(_)));
        assert!(c.get_name("1").is_some() && c.get_name("3").is_some());
        assert_eq!(
            node.get_name("d")
                .and_then(|d| d.get_name("1"))
                .and_then(Node::as_str),
            Some("x")
        );
        assert_eq!(node.get_name("e").map(Node::len), Some(2));
    }

    #[test]
    fn numbers_take_the_json_c_round_trip() {
        let node = eval("{ a = 1312.0, b = 1.5, c = 2^40, d = -0 }")
            .expect("ok")
            .expect("value");
        assert_eq!(node.get_name("a").and_then(Node::as_f64), Some(1312.0));
        assert_eq!(node.get_name("b").and_then(Node::as_f64), Some(1.5));
        assert_eq!(
            node.get_name("c").and_then(Node::as_f64),
            Some(-2147483648.0)
        );
        assert_eq!(
            node.get_name("d")
                .map(|n| lua_number_to_string(n.as_f64().unwrap_or(1.0))),
            Some("0".into())
        );
    }

    #[test]
    fn functions_vanish_and_bare_identifiers_are_nil() {
        let node = eval("{ f = function() end, enabled = True, s = 'a\\0b' }")
            .expect("ok")
            .expect("value");
        assert!(node.get_name("f").is_none());
        assert!(node.get_name("enabled").is_none());
        assert_eq!(node.get_name("s").and_then(Node::as_str), Some("a"));
    }

    #[test]
    fn computed_values_and_string_methods_work_as_in_gluon() {
        let node = eval("(function() local p = 'fd00::' return { prefix6 = p .. '/64', seed = ('%x'):rep(2) } end)()")
            .expect("ok")
            .expect("value");
        assert_eq!(
            node.get_name("prefix6").and_then(Node::as_str),
            Some("fd00::/64")
        );
        assert_eq!(node.get_name("seed").and_then(Node::as_str), Some("%x%x"));
    }

    #[test]
    fn syntax_errors_name_the_chunk_and_line() {
        let err = eval("{\n  a = 1,\n  b = %A,\n}").expect_err("syntax error");
        assert_eq!(err.kind, FailureKind::Syntax);
        assert_eq!(err.location, Some(("site.conf".to_string(), 3)));
        assert_eq!(
            err.message,
            "[string \"site.conf\"]:3: unexpected symbol near '%'"
        );
        assert_eq!(err.bare_message(), "unexpected symbol near '%'");
    }

    #[test]
    fn no_globals_are_reachable() {
        for text in [
            "os.execute('true')",
            "io.open('/etc/passwd')",
            "require('os')",
            "_G",
            "getmetatable('').__index.dump",
        ] {
            let result = eval(text);
            match result {
                Err(e) => assert_eq!(e.kind, FailureKind::Runtime, "{text}: {e}"),
                Ok(v) => assert!(v.is_none(), "{text} reached something"),
            }
        }
    }

    #[test]
    fn endless_loops_and_huge_strings_hit_the_limits() {
        let err = eval("(function() while true do end end)()").expect_err("loop");
        assert_eq!(err.kind, FailureKind::Limit(LimitKind::Instructions));
        let err = eval("('x'):rep(2^30)").expect_err("memory");
        assert_eq!(err.kind, FailureKind::Limit(LimitKind::Memory));
        let err = eval("(function() local t = {} for i = 1, 1e9 do t[i] = i end end)()")
            .expect_err("table");
        assert!(matches!(err.kind, FailureKind::Limit(_)), "{err:?}");
    }

    /// Every Lua value held on the Rust side takes one of the ~8,000 slots
    /// of mlua's reference stack: a conversion that held the pairs of a
    /// large table lost the pairs beyond them (issue 12).
    #[test]
    fn large_tables_convert_completely() {
        let node = eval(
            "(function()
               local t = { list = {} }
               for i = 1, 20000 do
                 t['k' .. i] = { v = i, s = 'x' .. i }
                 t.list[i] = { i }
               end
               return t
             end)()",
        )
        .expect("evaluates")
        .expect("a value");
        let Value::Object(fields) = &node.value else {
            panic!("an object")
        };
        assert_eq!(fields.len(), 20_001);
        for i in [1, 8_000, 20_000] {
            let item = node.get_name(&format!("k{i}")).expect("item");
            assert_eq!(item.get_name("v").and_then(Node::as_f64), Some(i as f64));
            assert_eq!(
                item.get_name("s").and_then(Node::as_str),
                Some(&*format!("x{i}"))
            );
        }
        assert_eq!(node.get_name("list").map(Node::len), Some(20_000));
    }

    #[test]
    fn pattern_items_that_recurse_are_counted() {
        for (pattern, items) in [
            ("abc", 0),
            ("a?b*c+d-", 4),
            ("%a*%%?[%]x]-[^]]+", 4),
            ("()(a)%1%b()%f[%w]x", 3),
            ("[a-", 0),
            ("%", 0),
            ("x?", 1),
        ] {
            assert_eq!(recursing_items(pattern.as_bytes()), items, "{pattern}");
        }
        assert_eq!(recursing_items("x?".repeat(150_000).as_bytes()), 150_000);
    }

    #[test]
    fn self_referencing_tables_are_an_error_not_a_crash() {
        let sandbox = Sandbox::new(Limits::default()).expect("lua");
        let value = sandbox
            .eval_config(
                "site.conf",
                "(function() local t = {} t.t = t return t end)()",
            )
            .expect("evaluates");
        let result = to_node(
            &value,
            SpanSource {
                file: FileId(0),
                tree: None,
                fallback: 0..0,
            },
        );
        assert_eq!(result, Err(ConvertError::TooDeep));
    }
}
