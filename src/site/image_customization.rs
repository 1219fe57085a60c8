//! image-customization.lua (Gluon v2023.2 and later), evaluated per device
//! with Gluon's DSL.
//!
//! Gluon runs the file once for every device it builds, in an environment
//! holding only the DSL: `features`, `packages`, `broken`, `disable`,
//! `disable_factory`, the predicates `device`, `target`, `device_class`, and
//! (from v2025.1) `include`. Evaluating ~300 devices one by one would be
//! slow, so gluonvpn evaluates once per (target, device class) with every
//! `device{…}` answering false, records the names asked about, and evaluates
//! again only for devices whose name was asked about. Evaluation is
//! deterministic, so every other device of the group takes the same path:
//! the result is exact.

use super::codes;
use super::lua::{FailureKind, LuaFailure, Sandbox};
use crate::diagnostics::Diagnostic;
use crate::gluon_version::GluonVersion;
use crate::input::{self, caps, Within};
use crate::source::{FileId, SourceMap, Span};
use mlua::chunk::ChunkMode;
use mlua::{Function, Lua, Table, Value as LuaValue};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What one evaluation selected for a device.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub features: Vec<String>,
    pub packages: Vec<String>,
    /// `broken(b)`: overrides the device's own broken flag.
    pub broken: Option<bool>,
    pub disabled: bool,
    pub disable_factory: bool,
}

/// A device as the DSL sees it.
#[derive(Clone, Debug)]
pub struct DeviceView<'a> {
    pub board: &'a str,
    pub subtarget: &'a str,
    pub image: &'a str,
    pub class: &'a str,
}

#[derive(Default)]
struct State {
    board: String,
    subtarget: String,
    image: String,
    class: String,
    /// When set, `device{…}` answers false and records the names.
    probing: bool,
    asked: BTreeSet<String>,
    selection: Selection,
    /// A DSL misuse, with the chunk and line of the call.
    misuse: Option<(String, Option<usize>, String)>,
    /// The environment of the running evaluation, for `include`.
    env: Option<Table>,
}

pub struct ImageCustomization<'a> {
    sandbox: &'a Sandbox,
    site_dir: PathBuf,
    file: FileId,
    state: Rc<RefCell<State>>,
    chunk: Function,
    funcs: Vec<(&'static str, Function)>,
    /// Files loaded through `include`, by chunk name.
    included: Rc<RefCell<BTreeMap<String, (PathBuf, String)>>>,
}

/// The chunk name a site file gets, so that Lua messages read
/// `image-customization.lua:12: …`.
fn chunk_name(name: &str) -> String {
    format!("@{name}")
}

impl<'a> ImageCustomization<'a> {
    /// Compiles the file. A syntax error is returned as a diagnostic.
    pub fn new(
        sandbox: &'a Sandbox,
        sources: &SourceMap,
        file: FileId,
        site_dir: &Path,
        version: GluonVersion,
    ) -> Result<ImageCustomization<'a>, Box<Diagnostic>> {
        let source = sources.get(file);
        let state = Rc::new(RefCell::new(State::default()));
        let included = Rc::new(RefCell::new(BTreeMap::new()));
        let compiled = sandbox.run(|lua| {
            // Text only: Lua 5.1 runs precompiled chunks unverified, and a
            // crafted one can corrupt memory.
            let chunk = lua
                .load(source.text.as_str())
                .set_name(chunk_name(&source.name))
                .set_mode(ChunkMode::Text)
                .into_function()?;
            let funcs = make_funcs(lua, &state, &included, version, site_dir)?;
            Ok((chunk, funcs))
        });
        let (chunk, funcs) =
            compiled.map_err(|f| Box::new(failure_diagnostic(sources, file, None, &f)))?;
        Ok(ImageCustomization {
            sandbox,
            site_dir: site_dir.to_path_buf(),
            file,
            state,
            chunk,
            funcs,
            included,
        })
    }

    /// Evaluates for one device. `probe` makes every `device{…}` false and
    /// returns the names asked about.
    fn run(
        &self,
        sources: &SourceMap,
        device: &DeviceView<'_>,
        probe: bool,
    ) -> Result<(Selection, BTreeSet<String>), Box<Diagnostic>> {
        {
            let mut state = self.state.borrow_mut();
            *state = State {
                board: device.board.to_string(),
                subtarget: device.subtarget.to_string(),
                image: device.image.to_string(),
                class: device.class.to_string(),
                probing: probe,
                ..State::default()
            };
        }
        let result = self.sandbox.run_named("image-customization.lua", |lua| {
            let env = self.fresh_env(lua)?;
            self.chunk.set_environment(env)?;
            self.chunk.call::<()>(())
        });
        let mut state = self.state.borrow_mut();
        if let Err(failure) = result {
            return Err(Box::new(match state.misuse.take() {
                Some((chunk, line, message)) => {
                    self.misuse_diagnostic(sources, &chunk, line, message)
                }
                None => {
                    failure_diagnostic(sources, self.file, Some(&self.included.borrow()), &failure)
                }
            }));
        }
        Ok((
            std::mem::take(&mut state.selection),
            std::mem::take(&mut state.asked),
        ))
    }

    fn fresh_env(&self, lua: &Lua) -> mlua::Result<Table> {
        // Gluon builds a new function table per device: globals a file sets
        // do not survive into the next device's evaluation.
        let env = lua.create_table()?;
        for (name, function) in &self.funcs {
            env.raw_set(*name, function.clone())?;
        }
        self.state.borrow_mut().env = Some(env.clone());
        Ok(env)
    }

    fn misuse_diagnostic(
        &self,
        sources: &SourceMap,
        chunk: &str,
        line: Option<usize>,
        message: String,
    ) -> Diagnostic {
        let file = sources
            .find_name(chunk.trim_start_matches('@'))
            .unwrap_or(self.file);
        let span = line.map_or(Span::file_start(file), |l| {
            sources.get(file).line_span(file, l)
        });
        Diagnostic::new(codes::IMAGE_CUSTOMIZATION, message.clone(), Some(span))
            .with_gluon_message(message)
    }

    /// Evaluates for every device, deduplicating as the module documentation
    /// describes. Returns one selection per input device.
    pub fn evaluate_all(
        &self,
        sources: &mut SourceMap,
        devices: &[DeviceView<'_>],
    ) -> Result<Vec<Selection>, Box<Diagnostic>> {
        let mut results: Vec<Option<Selection>> = vec![None; devices.len()];
        let mut groups: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
        for (i, d) in devices.iter().enumerate() {
            groups
                .entry((d.board, d.subtarget, d.class))
                .or_default()
                .push(i);
        }
        for indices in groups.values() {
            let first = &devices[indices[0]];
            let (common, asked) = self.run(sources, first, true)?;
            for &i in indices {
                let device = &devices[i];
                results[i] = Some(if asked.contains(device.image) {
                    self.run(sources, device, false)?.0
                } else {
                    common.clone()
                });
            }
        }
        // Register included files so diagnostics can point into them.
        for (name, (path, text)) in self.included.borrow().iter() {
            sources.add(name.clone(), path.clone(), text.clone());
        }
        Ok(results.into_iter().map(Option::unwrap_or_default).collect())
    }

    pub fn site_dir(&self) -> &Path {
        &self.site_dir
    }
}

/// The DSL functions, sharing `state`.
fn make_funcs(
    lua: &Lua,
    state: &Rc<RefCell<State>>,
    included: &Rc<RefCell<BTreeMap<String, (PathBuf, String)>>>,
    version: GluonVersion,
    site_dir: &Path,
) -> mlua::Result<Vec<(&'static str, Function)>> {
    let new = version >= GluonVersion::V2025_1;
    let mut funcs = Vec::new();

    for kind in ["features", "packages"] {
        let state = Rc::clone(state);
        let f = lua.create_function(move |lua, list: LuaValue| {
            let message = format!("incorrect use of {kind}(): list of {kind} expected as argument");
            let LuaValue::Table(table) = list else {
                return Err(if new {
                    misuse(lua, &state, message)
                } else {
                    misuse(
                        lua,
                        &state,
                        format!(
                            "bad argument #1 to 'ipairs' (table expected, got {})",
                            list.type_name()
                        ),
                    )
                });
            };
            let mut items = Vec::new();
            for item in table.sequence_values::<LuaValue>() {
                match item? {
                    LuaValue::String(s) => items.push(s.to_string_lossy()),
                    _ if new => return Err(misuse(lua, &state, message)),
                    // v2023.2 inserts anything; a non-string cannot name a
                    // feature or package, so it is dropped.
                    _ => {}
                }
            }
            let mut state = state.borrow_mut();
            let target = if kind == "features" {
                &mut state.selection.features
            } else {
                &mut state.selection.packages
            };
            target.extend(items);
            Ok(())
        })?;
        funcs.push((kind, f));
    }

    {
        let state = Rc::clone(state);
        let f = lua.create_function(move |lua, value: LuaValue| {
            let LuaValue::Boolean(broken) = value else {
                let message = if new {
                    "incorrect use of broken(): boolean argument expected"
                } else {
                    "Incorrect use of broken(): has to be a boolean value"
                };
                return Err(misuse(lua, &state, message.to_string()));
            };
            state.borrow_mut().selection.broken = Some(broken);
            Ok(())
        })?;
        funcs.push(("broken", f));
    }
    {
        let state = Rc::clone(state);
        let f = lua.create_function(move |_, ()| {
            state.borrow_mut().selection.disabled = true;
            Ok(())
        })?;
        funcs.push(("disable", f));
    }
    {
        let state = Rc::clone(state);
        let f = lua.create_function(move |_, ()| {
            state.borrow_mut().selection.disable_factory = true;
            Ok(())
        })?;
        funcs.push(("disable_factory", f));
    }
    {
        let state = Rc::clone(state);
        let f = lua.create_function(move |lua, names: LuaValue| {
            let message = if new {
                "incorrect use of device(): list of device names expected as argument"
            } else {
                "Incorrect use of device(): pass a list of device names as argument"
            };
            let LuaValue::Table(table) = names else {
                return Err(misuse(lua, &state, message.to_string()));
            };
            let mut state_ref = state.borrow_mut();
            for name in table.sequence_values::<LuaValue>() {
                match name? {
                    LuaValue::String(s) => {
                        let name = s.to_string_lossy();
                        if state_ref.probing {
                            state_ref.asked.insert(name);
                        } else if name == state_ref.image {
                            return Ok(true);
                        }
                    }
                    _ if new => {
                        drop(state_ref);
                        return Err(misuse(lua, &state, message.to_string()));
                    }
                    _ => {}
                }
            }
            Ok(false)
        })?;
        funcs.push(("device", f));
    }
    {
        let state = Rc::clone(state);
        let f = lua.create_function(move |lua, (target, subtarget): (LuaValue, LuaValue)| {
            let LuaValue::String(target) = target else {
                let message = if new {
                    "incorrect use of target(): target name expected as first argument"
                } else {
                    "Incorrect use of target(): pass a target name as first argument"
                };
                return Err(misuse(lua, &state, message.to_string()));
            };
            let s = state.borrow();
            if target.to_string_lossy() != s.board {
                return Ok(false);
            }
            match subtarget {
                LuaValue::Nil | LuaValue::Boolean(false) => Ok(true),
                LuaValue::String(sub) => Ok(sub.to_string_lossy() == s.subtarget),
                _ if new => {
                    drop(s);
                    Err(misuse(
                        lua,
                        &state,
                        "incorrect use of target(): subtarget name expected as first argument"
                            .into(),
                    ))
                }
                // v2023.2 compares whatever it got with the subtarget string.
                _ => Ok(false),
            }
        })?;
        funcs.push(("target", f));
    }
    {
        let state = Rc::clone(state);
        let f = lua.create_function(move |lua, class: LuaValue| match class {
            LuaValue::String(c) => Ok(c.to_string_lossy() == state.borrow().class),
            _ if new => Err(misuse(
                lua,
                &state,
                "incorrect use of device_class(): class name expected as first argument".into(),
            )),
            _ => Ok(false),
        })?;
        funcs.push(("device_class", f));
    }
    if new {
        let state = Rc::clone(state);
        let included = Rc::clone(included);
        let site_dir = site_dir.to_path_buf();
        let f = lua.create_function(move |lua, path: LuaValue| {
            let LuaValue::String(path) = path else {
                return Err(misuse(lua, &state, "incorrect use of include(): path expected as first argument".into()));
            };
            let path = path.to_string_lossy();
            if path.contains('/') {
                // Gluon also accepts absolute paths; gluonvpn keeps untrusted
                // site code inside the site directory.
                let message = if path.starts_with('/') {
                    "gluonvpn does not include files outside the site directory (absolute include paths)"
                } else {
                    "incorrect use of include(): including files from subdirectories is unsupported"
                };
                return Err(misuse(lua, &state, message.to_string()));
            }
            let full = site_dir.join(&path);
            let read = input::read_text(&full, Within::Directory(&site_dir), caps::SITE_FILE);
            let text = read.map_err(|e| {
                let message = match e {
                    input::ReadError::Missing => format!("cannot open {path}: No such file or directory"),
                    input::ReadError::Io(e) => format!("cannot open {path}: {}", io_reason(&e)),
                    refused => format!("gluonvpn does not include `{path}`: it {refused}"),
                };
                misuse(lua, &state, message)
            })?;
            included.borrow_mut().insert(path.clone(), (full, text.clone()));
            let chunk = lua
                .load(text)
                .set_name(chunk_name(&path))
                .set_mode(ChunkMode::Text)
                .into_function()?;
            // The included file runs in the including evaluation's environment.
            let env = state.borrow().env.clone();
            if let Some(env) = env {
                chunk.set_environment(env)?;
            }
            chunk.call::<mlua::MultiValue>(())
        })?;
        funcs.push(("include", f));
    }
    Ok(funcs)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        _ => e.to_string(),
    }
}

/// Records a DSL misuse with the caller's position and returns the error
/// that stops the evaluation.
fn misuse(lua: &Lua, state: &Rc<RefCell<State>>, message: String) -> mlua::Error {
    let location = lua.inspect_stack(1, |debug| {
        let source = debug
            .source()
            .source
            .map(|s| s.into_owned())
            .unwrap_or_default();
        (source, debug.current_line())
    });
    let (chunk, line) = location.unwrap_or_default();
    state.borrow_mut().misuse = Some((chunk, line, message.clone()));
    mlua::Error::runtime(message)
}

/// A diagnostic for a Lua failure in image-customization.lua or a file it
/// includes (messages read `name:line: …`).
fn failure_diagnostic(
    sources: &SourceMap,
    file: FileId,
    included: Option<&BTreeMap<String, (PathBuf, String)>>,
    failure: &LuaFailure,
) -> Diagnostic {
    let code = match failure.kind {
        FailureKind::Limit(_) => codes::LUA_LIMIT,
        _ => codes::IMAGE_CUSTOMIZATION,
    };
    let (location, message) = split_file_location(&failure.message);
    let span = location.and_then(|(name, line)| {
        if let Some(id) = sources.find_name(&name) {
            return Some(sources.get(id).line_span(id, line));
        }
        // An included file not yet registered: point at the including file.
        included
            .and_then(|inc| inc.get(&name))
            .map(|_| Span::file_start(file))
    });
    Diagnostic::new(
        code,
        message.to_string(),
        span.or(Some(Span::file_start(file))),
    )
    .with_gluon_message(failure.message.clone())
}

/// Splits `name:12: message` (Lua's format for `@name` chunks).
fn split_file_location(message: &str) -> (Option<(String, usize)>, &str) {
    let mut parts = message.splitn(3, ':');
    if let (Some(name), Some(line), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
        if let Ok(line) = line.parse::<usize>() {
            if !name.contains(' ') {
                return (Some((name.to_string(), line)), rest.trim_start());
            }
        }
    }
    (None, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::lua::Limits;

    struct Fixture {
        dir: tempfile::TempDir,
        sources: SourceMap,
        file: FileId,
    }

    fn fixture(text: &str, extra: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("image-customization.lua");
        std::fs::write(&path, text).expect("write");
        for (name, content) in extra {
            std::fs::write(dir.path().join(name), content).expect("write");
        }
        let mut sources = SourceMap::default();
        let file = sources.add("image-customization.lua".into(), path, text.into());
        Fixture { dir, sources, file }
    }

    fn devices() -> Vec<DeviceView<'static>> {
        vec![
            DeviceView {
                board: "ath79",
                subtarget: "generic",
                image: "tp-link-archer-c7-v2",
                class: "standard",
            },
            DeviceView {
                board: "ath79",
                subtarget: "generic",
                image: "tp-link-tl-wr841n-v9",
                class: "tiny",
            },
            DeviceView {
                board: "x86",
                subtarget: "64",
                image: "x86-64",
                class: "standard",
            },
            DeviceView {
                board: "ath79",
                subtarget: "generic",
                image: "ubiquiti-unifi",
                class: "standard",
            },
        ]
    }

    fn evaluate(text: &str, version: GluonVersion) -> Result<Vec<Selection>, Box<Diagnostic>> {
        let mut fx = fixture(text, &[]);
        let sandbox = Sandbox::new(Limits::default()).expect("lua");
        let ic = ImageCustomization::new(&sandbox, &fx.sources, fx.file, fx.dir.path(), version)?;
        ic.evaluate_all(&mut fx.sources, &devices())
    }

    #[test]
    fn predicates_select_per_device() {
        let text = r#"
features { 'autoupdater', 'mesh-vpn-fastd' }
if not device_class('tiny') then features { 'web-advanced' } end
if target('x86') then packages { 'qemu-ga' } end
if target('ath79', 'generic') and device { 'ubiquiti-unifi' } then
  packages { '-hostapd-mini' }
  broken(true)
end
if device { 'tp-link-tl-wr841n-v9' } then disable() end
"#;
        let s = evaluate(text, GluonVersion::V2025_1).expect("evaluates");
        assert_eq!(
            s[0].features,
            ["autoupdater", "mesh-vpn-fastd", "web-advanced"]
        );
        assert!(s[0].packages.is_empty() && !s[0].disabled);
        assert_eq!(s[1].features, ["autoupdater", "mesh-vpn-fastd"]);
        assert!(s[1].disabled);
        assert_eq!(s[2].packages, ["qemu-ga"]);
        assert_eq!(s[3].packages, ["-hostapd-mini"]);
        assert_eq!(s[3].broken, Some(true));
    }

    #[test]
    fn misuse_is_reported_at_the_call() {
        let err = evaluate(
            "features { 'a' }\n\nfeatures('web-wizard')\n",
            GluonVersion::V2025_1,
        )
        .expect_err("misuse");
        assert_eq!(err.info, codes::IMAGE_CUSTOMIZATION);
        assert_eq!(
            err.message,
            "incorrect use of features(): list of features expected as argument"
        );
        assert_eq!(
            err.span.map(|s| s.start),
            Some("features { 'a' }\n\n".len() as u32)
        );

        let err = evaluate("features('web-wizard')\n", GluonVersion::V2023_2).expect_err("misuse");
        assert_eq!(
            err.message,
            "bad argument #1 to 'ipairs' (table expected, got string)"
        );
    }

    #[test]
    fn globals_and_lua_errors_are_reported_with_lines() {
        let err =
            evaluate("features { 'a' }\nos.exit(1)\n", GluonVersion::V2025_1).expect_err("no os");
        assert!(
            err.message.contains("attempt to index global 'os'"),
            "{}",
            err.message
        );
        assert_eq!(
            err.span.map(|s| s.start),
            Some("features { 'a' }\n".len() as u32)
        );
        let err = evaluate("features {\n", GluonVersion::V2025_1).expect_err("syntax");
        assert!(err.message.contains("expected"), "{}", err.message);
    }

    #[test]
    fn include_runs_files_from_the_site_directory_only() {
        let mut fx = fixture(
            "include('common.lua')\nif wanted then features { 'extra' } end\n",
            &[("common.lua", "features { 'autoupdater' }\nwanted = true\n")],
        );
        let sandbox = Sandbox::new(Limits::default()).expect("lua");
        let ic = ImageCustomization::new(
            &sandbox,
            &fx.sources,
            fx.file,
            fx.dir.path(),
            GluonVersion::V2025_1,
        )
        .expect("compiles");
        let s = ic
            .evaluate_all(&mut fx.sources, &devices()[..1])
            .expect("evaluates");
        assert_eq!(s[0].features, ["autoupdater", "extra"]);

        let err =
            evaluate("include('/etc/passwd')\n", GluonVersion::V2025_1).expect_err("absolute");
        assert!(err.message.contains("outside the site directory"));
        let err = evaluate("include('sub/x.lua')\n", GluonVersion::V2025_1).expect_err("subdir");
        assert!(err.message.contains("subdirectories"));
        let err = evaluate("include('x.lua')\n", GluonVersion::V2023_2)
            .expect_err("no include before 2025.1");
        assert!(
            err.message.contains("attempt to call global 'include'"),
            "{}",
            err.message
        );
    }

    #[test]
    fn endless_loops_stop() {
        let err = evaluate("while true do end\n", GluonVersion::V2025_1).expect_err("limit");
        assert_eq!(err.info, codes::LUA_LIMIT);
    }
}
