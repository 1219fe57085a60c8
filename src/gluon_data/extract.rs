//! Extracts [`GluonData`] from a Gluon checkout.
//!
//! Only facts are taken from the checkout; the Lua target files are evaluated
//! in an environment implemented here (recording devices and packages), and
//! `package/features` is parsed, not run.

use super::{arch, Condition, ConditionalDepend, Device, FeatureRule, GluonData, Package, Target};
use anyhow::{anyhow, bail, ensure, Context, Result};
use full_moon::ast::{self, Expression, Field, FunctionArgs, Prefix, Stmt, Suffix};
use full_moon::node::Node;
use full_moon::tokenizer::{Symbol, TokenReference, TokenType};
use mlua::{Lua, LuaOptions, MultiValue, StdLib, Table, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Extracts all facts from the Gluon checkout at `gluon_checkout`.
/// `version_label` is the full tag, e.g. `v2025.1.3`.
pub fn extract(gluon_checkout: &Path, version_label: &str) -> Result<GluonData> {
    Ok(extract_with_notes(gluon_checkout, version_label)?.0)
}

/// [`extract`], and notes on what could not be extracted (the targets'
/// CPU facts need an OpenWrt tree: see [`add_arch`]).
pub fn extract_with_notes(
    gluon_checkout: &Path,
    version_label: &str,
) -> Result<(GluonData, Vec<String>)> {
    let root = gluon_checkout;
    ensure!(
        root.join("targets/targets.mk").is_file(),
        "{} does not look like a Gluon checkout (no targets/targets.mk)",
        root.display()
    );
    check_feature_fallback(root)?;
    let mut targets = extract_targets(root)?;
    let notes = add_arch(root, &mut targets)?;
    let packages = extract_packages(root)?;
    let features_path = root.join("package/features");
    let features = parse_features(&read(&features_path)?)
        .with_context(|| format!("parsing {}", features_path.display()))?;
    let feeds = extract_feeds(root)?;
    Ok((
        GluonData {
            version: version_label.to_string(),
            feeds,
            targets,
            packages,
            features,
        },
        notes,
    ))
}

/// Where [`add_arch`] reads OpenWrt's derived target metadata, below the
/// Gluon checkout.
pub const TARGETINFO: &str = "openwrt/tmp/.targetinfo";
/// Where [`add_arch`] reads the packages feed's Rust mapping.
pub const RUST_VALUES: &str = "packages/packages/lang/rust/rust-values.mk";

/// Fills [`Target::arch`] from the OpenWrt tree of a Gluon checkout after
/// `make update` and OpenWrt's `make prepare-tmpinfo` (Gluon's `make
/// config` runs it): `openwrt/tmp/.targetinfo` and the packages feed's
/// `lang/rust/rust-values.mk` (see [`super::arch`]). Returns notes on what
/// is missing; targets stay without `arch` then.
pub fn add_arch(root: &Path, targets: &mut [Target]) -> Result<Vec<String>> {
    let info_path = root.join(TARGETINFO);
    let rust_path = root.join(RUST_VALUES);
    let mut notes = Vec::new();
    if !info_path.is_file() {
        notes.push(format!(
            "no {}: run `make update` and `make -C openwrt prepare-tmpinfo` in the checkout \
             for the targets' package architectures and Rust triples",
            info_path.display()
        ));
    }
    if !rust_path.is_file() {
        notes.push(format!(
            "no {}: the packages feed is not there (run `make update`)",
            rust_path.display()
        ));
    }
    if !notes.is_empty() {
        return Ok(notes);
    }
    let info = arch::parse_targetinfo(&read(&info_path)?);
    for t in targets.iter_mut() {
        let key = if t.subtarget.is_empty() {
            t.board.clone()
        } else {
            format!("{}/{}", t.board, t.subtarget)
        };
        let Some(block) = info.get(&key) else {
            notes.push(format!(
                "{}: no block 'Target: {key}' for {}",
                info_path.display(),
                t.name
            ));
            continue;
        };
        let rust = arch::rust_values(&rust_path, block)
            .with_context(|| format!("the Rust triple of {}", t.name))?;
        t.arch = Some(arch::target_arch(block, &rust));
    }
    Ok(notes)
}

/// Extracts and writes `targets/gluon-<release>.json` and
/// `data/gluon/<release>.json` below `repo_root`; returns notes on what
/// could not be extracted.
pub fn write_files(
    gluon_checkout: &Path,
    version_label: &str,
    repo_root: &Path,
) -> Result<Vec<String>> {
    let (data, notes) = extract_with_notes(gluon_checkout, version_label)?;
    for (rel, contents) in rendered_files(&data)? {
        let path = repo_root.join(&rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(notes)
}

/// The two files for `data` as (path relative to the repo root, contents).
pub fn rendered_files(data: &GluonData) -> Result<Vec<(PathBuf, String)>> {
    let release = release_key(&data.version)?;
    let (targets, packages) = data.split();
    let mut t = serde_json::to_string_pretty(&targets)?;
    t.push('\n');
    let mut p = serde_json::to_string_pretty(&packages)?;
    p.push('\n');
    Ok(vec![
        (PathBuf::from(format!("targets/gluon-{release}.json")), t),
        (PathBuf::from(format!("data/gluon/{release}.json")), p),
    ])
}

/// `v2025.1.3` → `v2025.1`: the key [`super::embedded`] takes.
pub fn release_key(version_label: &str) -> Result<String> {
    let parts: Vec<&str> = version_label.split('.').collect();
    let ok = parts.len() >= 2
        && parts[0].len() > 1
        && parts[0].starts_with('v')
        && parts[0][1..].chars().all(|c| c.is_ascii_digit())
        && !parts[1].is_empty()
        && parts[1].chars().all(|c| c.is_ascii_digit());
    ensure!(
        ok,
        "version label {version_label:?} is not of the form vYYYY.N[.P]"
    );
    Ok(format!("{}.{}", parts[0], parts[1]))
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn lua_err(e: mlua::Error) -> anyhow::Error {
    // mlua::Error is not Send + Sync without mlua's `send` feature.
    anyhow!("{e}")
}

// ---------------------------------------------------------------- feeds

fn extract_feeds(root: &Path) -> Result<Vec<String>> {
    let path = root.join("modules");
    let text = read(&path)?;
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("GLUON_FEEDS="))
        .ok_or_else(|| anyhow!("{}: no GLUON_FEEDS= line", path.display()))?;
    let value = value.trim().trim_matches(|c| c == '\'' || c == '"');
    Ok(value.split_whitespace().map(str::to_string).collect())
}

// ---------------------------------------------------------------- targets

fn extract_targets(root: &Path) -> Result<Vec<Target>> {
    let mk = root.join("targets/targets.mk");
    let list =
        parse_targets_mk(&read(&mk)?).with_context(|| format!("parsing {}", mk.display()))?;
    let default_options = default_options_source(root)?;
    let mut targets = Vec::new();
    for (board, subtarget, broken) in list {
        let name = if subtarget.is_empty() {
            board.clone()
        } else {
            format!("{board}-{subtarget}")
        };
        let (packages, devices) = eval_target(root, &default_options, &board, &subtarget, &name)
            .with_context(|| format!("evaluating target {name} in {}", root.display()))?;
        targets.push(Target {
            name,
            board,
            subtarget,
            broken,
            packages,
            devices,
            arch: None,
        });
    }
    Ok(targets)
}

/// (board, subtarget, broken) for each `GluonTarget` call.
fn parse_targets_mk(text: &str) -> Result<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let lineno = i + 1;
        if line.is_empty() {
            continue;
        }
        let word = line.split_whitespace().next().unwrap_or("");
        match word {
            "ifeq" | "ifneq" | "ifdef" | "ifndef" => {
                // Only the BROKEN switch is known; anything else would need
                // real make semantics.
                ensure!(
                    line.contains("BROKEN"),
                    "line {lineno}: unsupported conditional {line:?}"
                );
                conds.push(line.to_string());
                continue;
            }
            "endif" => {
                conds
                    .pop()
                    .ok_or_else(|| anyhow!("line {lineno}: endif without if"))?;
                continue;
            }
            "else" => bail!("line {lineno}: else in targets.mk is not supported"),
            _ => {}
        }
        let args = line
            .strip_prefix("$(eval $(call GluonTarget,")
            .and_then(|r| r.strip_suffix("))"))
            .ok_or_else(|| anyhow!("line {lineno}: unsupported line {line:?}"))?;
        let mut parts = args.split(',').map(str::trim);
        let board = parts.next().unwrap_or("").to_string();
        let subtarget = parts.next().unwrap_or("").to_string();
        ensure!(
            !board.is_empty() && parts.next().is_none(),
            "line {lineno}: bad GluonTarget arguments {args:?}"
        );
        out.push((board, subtarget, !conds.is_empty()));
    }
    ensure!(conds.is_empty(), "unterminated conditional at end of file");
    Ok(out)
}

/// Source text of the `default_options` table in scripts/target_lib.lua, so
/// option defaults and the set of valid option names follow the release.
fn default_options_source(root: &Path) -> Result<String> {
    let path = root.join("scripts/target_lib.lua");
    let src = read(&path)?;
    let ast = parse_lua(&src).with_context(|| format!("parsing {}", path.display()))?;
    for stmt in ast.nodes().stmts() {
        let Stmt::LocalAssignment(la) = stmt else {
            continue;
        };
        let names: Vec<Option<&str>> = la.names().iter().map(ident).collect();
        let is_it = names == [Some("default_options")];
        if !is_it {
            continue;
        }
        let expr = la
            .expressions()
            .iter()
            .next()
            .ok_or_else(|| anyhow!("{}: default_options has no value", path.display()))?;
        ensure!(
            matches!(expr, Expression::TableConstructor(_)),
            "{}: default_options is not a table constructor",
            path.display()
        );
        let (start, end) = expr
            .range()
            .ok_or_else(|| anyhow!("{}: default_options has no position", path.display()))?;
        let text = src
            .get(start.bytes()..end.bytes())
            .ok_or_else(|| anyhow!("{}: bad default_options range", path.display()))?;
        return Ok(text.trim().to_string());
    }
    bail!(
        "{}: no `local default_options = {{...}}` found",
        path.display()
    )
}

struct TargetState {
    defaults: Table,
    packages: Vec<String>,
    devices: Vec<Device>,
}

/// Mirrors target_lib's option merge: every key of `b` must already exist.
fn merge(lua: &Lua, a: &Table, b: Option<Table>) -> mlua::Result<Table> {
    let ret = lua.create_table()?;
    for pair in a.pairs::<Value, Value>() {
        let (k, v) = pair?;
        ret.raw_set(k, v)?;
    }
    if let Some(b) = b {
        for pair in b.pairs::<Value, Value>() {
            let (k, v) = pair?;
            if ret.raw_get::<Value>(k.clone())?.is_nil() {
                let name = k.to_string().unwrap_or_else(|_| "?".into());
                return Err(mlua::Error::runtime(format!("unknown option '{name}'")));
            }
            ret.raw_set(k, v)?;
        }
    }
    Ok(ret)
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Nil | Value::Boolean(false))
}

fn string_list(v: Value, what: &str) -> mlua::Result<Vec<String>> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Table(t) => t.sequence_values::<String>().collect(),
        other => Err(mlua::Error::runtime(format!(
            "{what} must be a table, got {}",
            other.type_name()
        ))),
    }
}

fn device_from_options(image: String, name: String, opts: &Table) -> mlua::Result<Device> {
    let class = match opts.raw_get::<Value>("class")? {
        Value::String(s) => s.to_str()?.to_string(),
        other => {
            return Err(mlua::Error::runtime(format!(
                "device {image}: class must be a string, got {}",
                other.type_name()
            )))
        }
    };
    Ok(Device {
        class,
        broken: truthy(&opts.raw_get::<Value>("broken")?),
        deprecated: truthy(&opts.raw_get::<Value>("deprecated")?),
        packages: string_list(opts.raw_get::<Value>("packages")?, "packages option")?,
        image,
        name,
    })
}

/// Runs `targets/generic` and `targets/<name>` as Gluon's target config does,
/// returning the target package list and all declared devices.
fn eval_target(
    root: &Path,
    default_options: &str,
    board: &str,
    subtarget: &str,
    name: &str,
) -> Result<(Vec<String>, Vec<Device>)> {
    // No io/os: target files must not need them, and if one does we want an
    // error rather than running commands.
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::default(),
    )
    .map_err(lua_err)?;
    let defaults: Table = lua
        .load(format!("return {default_options}"))
        .set_name("=scripts/target_lib.lua default_options")
        .eval()
        .map_err(lua_err)?;
    let state = Rc::new(RefCell::new(TargetState {
        defaults,
        packages: Vec::new(),
        devices: Vec::new(),
    }));
    let targets_dir = root.join("targets");

    let env_vars: [(&str, String); 12] = [
        ("BOARD", board.to_string()),
        ("SUBTARGET", subtarget.to_string()),
        ("GLUON_TARGET", name.to_string()),
        ("GLUON_SITEDIR", root.join("site").display().to_string()),
        ("GLUON_TARGETSDIR", targets_dir.display().to_string()),
        ("GLUON_RELEASE", "0".into()),
        ("GLUON_DEPRECATED", "0".into()),
        ("GLUON_LANGS", "en".into()),
        ("GLUON_DEBUG", "1".into()),
        ("GLUON_MINIFY", "1".into()),
        ("GLUON_AUTOREMOVE", "0".into()),
        ("GLUON_MULTIDOMAIN", "0".into()),
    ];

    let build = || -> mlua::Result<Table> {
        let f = lua.create_table()?;
        let env = lua.create_table()?;
        for (k, v) in &env_vars {
            env.raw_set(*k, v.as_str())?;
        }
        f.raw_set("env", env)?;

        let st = state.clone();
        f.raw_set(
            "packages",
            lua.create_function(move |_, pkgs: Value| {
                let list = string_list(pkgs, "packages argument")?;
                st.borrow_mut().packages.extend(list);
                Ok(())
            })?,
        )?;

        let st = state.clone();
        f.raw_set(
            "defaults",
            lua.create_function(move |lua, opts: Option<Table>| {
                let merged = merge(lua, &st.borrow().defaults, opts)?;
                st.borrow_mut().defaults = merged;
                Ok(())
            })?,
        )?;

        let st = state.clone();
        f.raw_set(
            "device",
            lua.create_function(
                move |lua, (image, name, opts): (String, String, Option<Table>)| {
                    let merged = merge(lua, &st.borrow().defaults, opts)?;
                    let dev = device_from_options(image, name, &merged)?;
                    st.borrow_mut().devices.push(dev);
                    Ok(())
                },
            )?,
        )?;

        let noop = lua.create_function(|_, _: MultiValue| Ok(()))?;
        f.raw_set("config", noop.clone())?;
        f.raw_set("try_config", noop)?;
        let zero = lua.create_function(|_, _: MultiValue| Ok(0))?;
        f.raw_set("exec", zero.clone())?;
        f.raw_set("exec_raw", zero)?;
        let empty = lua.create_function(|_, _: MultiValue| Ok(""))?;
        f.raw_set("exec_capture", empty.clone())?;
        f.raw_set("exec_capture_raw", empty)?;
        f.raw_set(
            "escape",
            lua.create_function(|_, s: String| {
                Ok(format!(
                    "'{}'",
                    s.replace('\'', "'\\''").replace('\0', "'*'")
                ))
            })?,
        )?;
        let istrue: mlua::Function = lua
            .load("return function(v) return (tonumber(v) or 0) > 0 end")
            .eval()?;
        f.raw_set("istrue", istrue)?;

        // Environment of target files: our functions first, then Lua globals.
        let funcs = lua.create_table()?;
        let meta = lua.create_table()?;
        let globals = lua.globals();
        let fr = f.clone();
        meta.raw_set(
            "__index",
            lua.create_function(move |_, (_t, k): (Table, Value)| {
                let v: Value = fr.raw_get(k.clone())?;
                if truthy(&v) {
                    Ok(v)
                } else {
                    globals.raw_get::<Value>(k)
                }
            })?,
        )?;
        funcs.set_metatable(Some(meta))?;

        let fe = funcs.clone();
        let dir = targets_dir.clone();
        f.raw_set(
            "include",
            lua.create_function(move |lua, name: String| {
                let path = dir.join(&name);
                let src = fs::read_to_string(&path).map_err(|e| {
                    mlua::Error::runtime(format!("cannot read {}: {e}", path.display()))
                })?;
                lua.load(src)
                    .set_name(format!("@targets/{name}"))
                    .set_environment(fe.clone())
                    .call::<MultiValue>(())
            })?,
        )?;
        Ok(funcs)
    };
    let funcs = build().map_err(lua_err)?;
    let include: mlua::Function = funcs.get("include").map_err(lua_err)?;
    for file in ["generic", name] {
        ensure!(
            targets_dir.join(file).is_file(),
            "missing target file targets/{file}"
        );
        include
            .call::<MultiValue>(file)
            .map_err(lua_err)
            .with_context(|| format!("running targets/{file}"))?;
    }
    let st = state.borrow();
    Ok((st.packages.clone(), st.devices.clone()))
}

// ---------------------------------------------------------------- packages

fn extract_packages(root: &Path) -> Result<Vec<Package>> {
    let pkg_root = root.join("package");
    let mut dirs = Vec::new();
    for entry in
        fs::read_dir(&pkg_root).with_context(|| format!("listing {}", pkg_root.display()))?
    {
        let entry = entry.with_context(|| format!("listing {}", pkg_root.display()))?;
        if entry.path().join("Makefile").is_file() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    let mut by_name: BTreeMap<String, Package> = BTreeMap::new();
    for dir in dirs {
        let dir_name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| anyhow!("non-UTF-8 directory name {}", dir.display()))?
            .to_string();
        let makefile = dir.join("Makefile");
        let check_site = dir.join("check_site.lua").is_file();
        let pkgs = parse_package_makefile(&dir_name, &read(&makefile)?, check_site)
            .with_context(|| format!("parsing {}", makefile.display()))?;
        for p in pkgs {
            if let Some(prev) = by_name.get(&p.name) {
                bail!(
                    "package {} defined in both package/{} and package/{}",
                    p.name,
                    prev.dir,
                    p.dir
                );
            }
            by_name.insert(p.name.clone(), p);
        }
    }
    Ok(by_name.into_values().collect())
}

/// Splits `NAME op value` for the make assignment operators.
fn split_assignment(line: &str) -> Option<(&str, &str, &str)> {
    let idx = line.find('=')?;
    let (lhs, value) = (&line[..idx], &line[idx + 1..]);
    let (name, op) = match lhs.chars().last() {
        Some(c @ (':' | '+' | '?')) => (
            &lhs[..lhs.len() - 1],
            if c == ':' {
                ":="
            } else if c == '+' {
                "+="
            } else {
                "?="
            },
        ),
        _ => (lhs, "="),
    };
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((name, op, value.trim()))
}

/// Replaces `$(VAR)` with known values; unknown references are an error when
/// `strict`, otherwise dropped.
fn expand(s: &str, vars: &HashMap<String, String>, strict: bool) -> Result<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let mut depth = 1;
        let mut end = None;
        for (j, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| anyhow!("unbalanced $( in {s:?}"))?;
        let inner = &after[..end];
        match vars.get(inner) {
            Some(v) => out.push_str(v),
            None if strict => bail!("cannot resolve $({inner}) in {s:?}"),
            None => {}
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_pkg_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

fn is_symbol(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn add_depends(pkg: &mut Package, value: &str) -> Result<()> {
    for tok in value.split_whitespace() {
        if let Some(sel) = tok.strip_prefix('+') {
            if let Some((cond, dep)) = sel.split_once(':') {
                ensure!(is_pkg_name(dep), "unsupported DEPENDS entry {tok:?}");
                let (if_package, if_config) = match cond.strip_prefix("PACKAGE_") {
                    Some(p) if is_pkg_name(p) => (Some(p.to_string()), None),
                    _ if is_symbol(cond.strip_prefix('!').unwrap_or(cond)) => {
                        (None, Some(cond.to_string()))
                    }
                    _ => bail!("unsupported DEPENDS condition in {tok:?}"),
                };
                pkg.conditional_depends.push(ConditionalDepend {
                    if_package,
                    if_config,
                    pkg: dep.to_string(),
                });
            } else {
                ensure!(is_pkg_name(sel), "unsupported DEPENDS entry {tok:?}");
                pkg.depends.push(sel.to_string());
            }
        } else if let Some(sym) = tok.strip_prefix('@') {
            ensure!(is_symbol(sym), "unsupported DEPENDS entry {tok:?}");
            pkg.requires_config.push(sym.to_string());
        } else {
            ensure!(is_pkg_name(tok), "unsupported DEPENDS entry {tok:?}");
            pkg.requires.push(tok.to_string());
        }
    }
    Ok(())
}

fn parse_package_makefile(dir: &str, text: &str, check_site: bool) -> Result<Vec<Package>> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut defines: HashMap<String, Vec<String>> = HashMap::new();
    let mut builds: Vec<(String, bool)> = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;

    for line in joined.lines() {
        let trimmed = line.trim();
        if let Some((name, body)) = current.as_mut() {
            if trimmed == "endef" {
                defines.insert(std::mem::take(name), std::mem::take(body));
                current = None;
            } else {
                ensure!(
                    !trimmed.starts_with("define "),
                    "nested define inside {name}"
                );
                body.push(trimmed.to_string());
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix("define ") {
            let name = expand(name.trim(), &vars, true)?;
            current = Some((name, Vec::new()));
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("$(eval $(call ") {
            let inner = rest
                .strip_suffix("))")
                .ok_or_else(|| anyhow!("unsupported eval line {trimmed:?}"))?;
            let (func, arg) = inner.split_once(',').unwrap_or((inner, ""));
            let gluon = match func.trim() {
                "BuildPackageGluon" => true,
                "BuildPackage" => false,
                // Host packages etc. do not end up in images.
                _ => continue,
            };
            builds.push((expand(arg.trim(), &vars, true)?, gluon));
            continue;
        }
        // Top-level assignments, needed for names like Package/$(PKG_NAME).
        if !line.starts_with(['\t', ' ']) {
            if let Some((name, op, value)) = split_assignment(trimmed) {
                let value = expand(value, &vars, false)?;
                match op {
                    "+=" => {
                        let e = vars.entry(name.to_string()).or_default();
                        if !e.is_empty() {
                            e.push(' ');
                        }
                        e.push_str(&value);
                    }
                    "?=" => {
                        vars.entry(name.to_string()).or_insert(value);
                    }
                    _ => {
                        vars.insert(name.to_string(), value);
                    }
                }
            }
        }
    }
    ensure!(current.is_none(), "unterminated define");

    let mut out = Vec::new();
    for (name, gluon) in builds {
        let body = defines
            .get(&format!("Package/{name}"))
            .ok_or_else(|| anyhow!("BuildPackage for {name} without define Package/{name}"))?;
        let mut pkg = Package {
            name: name.clone(),
            dir: dir.to_string(),
            depends: Vec::new(),
            conditional_depends: Vec::new(),
            requires: Vec::new(),
            requires_config: Vec::new(),
            provides: Vec::new(),
            conflicts: Vec::new(),
            gluon_package: gluon,
            check_site: gluon && check_site,
        };
        for line in body {
            let Some((key, op, value)) = split_assignment(line) else {
                continue;
            };
            let value =
                expand(value, &vars, false).with_context(|| format!("in define Package/{name}"))?;
            let replace = op != "+=";
            match key {
                "DEPENDS" => {
                    if replace {
                        pkg.depends.clear();
                        pkg.conditional_depends.clear();
                        pkg.requires.clear();
                        pkg.requires_config.clear();
                    }
                    add_depends(&mut pkg, &value)
                        .with_context(|| format!("in define Package/{name}"))?;
                }
                "PROVIDES" | "CONFLICTS" => {
                    let list = if key == "PROVIDES" {
                        &mut pkg.provides
                    } else {
                        &mut pkg.conflicts
                    };
                    if replace {
                        list.clear();
                    }
                    for tok in value.split_whitespace() {
                        // gluon-hoodselector writes CONFLICTS:=+pkg.
                        let tok = tok.trim_start_matches('+');
                        ensure!(
                            is_pkg_name(tok),
                            "unsupported {key} entry {tok:?} in {name}"
                        );
                        list.push(tok.to_string());
                    }
                }
                _ => {}
            }
        }
        out.push(pkg);
    }
    Ok(out)
}

// ---------------------------------------------------------------- features

fn parse_lua(src: &str) -> Result<ast::Ast> {
    full_moon::parse(src).map_err(|errs| {
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| format!("line {}: {}", e.range().0.line(), e.error_message()))
            .collect();
        anyhow!("Lua syntax error: {}", msgs.join("; "))
    })
}

/// The name of an identifier token, without surrounding trivia.
fn ident(tok: &TokenReference) -> Option<&str> {
    match tok.token_type() {
        TokenType::Identifier { identifier } => Some(identifier.as_str()),
        _ => None,
    }
}

fn line_of(node: &impl Node) -> usize {
    node.start_position().map(|p| p.line()).unwrap_or(0)
}

/// feature_lib's fallback (`gluon-<feature>` for unhandled features) is
/// hard-coded in [`GluonData::feature_packages`]; refuse releases whose
/// feature_lib no longer builds such names.
fn check_feature_fallback(root: &Path) -> Result<()> {
    let path = root.join("scripts/feature_lib.lua");
    let ast = parse_lua(&read(&path)?).with_context(|| format!("parsing {}", path.display()))?;
    let toks: Vec<&TokenReference> = ast.nodes().tokens().collect();
    let found = toks.windows(2).any(|w| {
        matches!(w[0].token_type(), TokenType::StringLiteral { literal, .. } if literal.as_str() == "gluon-")
            && matches!(w[1].token_type(), TokenType::Symbol { symbol: Symbol::TwoDots })
    });
    ensure!(
        found,
        "{}: no 'gluon-' .. <feature> fallback found; feature semantics changed",
        path.display()
    );
    Ok(())
}

fn string_value(expr: &Expression) -> Option<String> {
    let Expression::String(tok) = expr else {
        return None;
    };
    match tok.token_type() {
        TokenType::StringLiteral { literal, .. } if !literal.contains('\\') => {
            Some(literal.to_string())
        }
        _ => None,
    }
}

fn string_table(expr: &Expression) -> Result<Vec<String>> {
    let Expression::TableConstructor(t) = expr else {
        bail!("line {}: expected a table of package names", line_of(expr));
    };
    t.fields()
        .iter()
        .map(|f| match f {
            Field::NoKey(e) => string_value(e)
                .ok_or_else(|| anyhow!("line {}: expected a plain string", line_of(e))),
            other => bail!("line {}: unexpected table field {}", line_of(other), other),
        })
        .collect()
}

/// Arguments of a direct call `name(args...)`, `name 'x'` or `name {...}`.
fn call_args(call: &ast::FunctionCall) -> Option<(String, Vec<&Expression>)> {
    let Prefix::Name(name) = call.prefix() else {
        return None;
    };
    let suffixes: Vec<&Suffix> = call.suffixes().collect();
    let [Suffix::Call(ast::Call::AnonymousCall(args))] = suffixes.as_slice() else {
        return None;
    };
    let name = ident(name)?.to_string();
    match args.as_ref() {
        FunctionArgs::Parentheses { arguments, .. } => Some((name, arguments.iter().collect())),
        _ => None,
    }
}

fn condition(expr: &Expression) -> Result<Condition> {
    match expr {
        Expression::Parentheses { expression, .. } => condition(expression),
        Expression::UnaryOperator {
            unop: ast::UnOp::Not(_),
            expression,
        } => Ok(Condition::Not(Box::new(condition(expression)?))),
        Expression::BinaryOperator { lhs, binop, rhs } => {
            let (l, r) = (condition(lhs)?, condition(rhs)?);
            // Flatten `a and b and c` into one list; no side effects to keep.
            match binop {
                ast::BinOp::And(_) => Ok(Condition::And(flatten(l, r, true))),
                ast::BinOp::Or(_) => Ok(Condition::Or(flatten(l, r, false))),
                other => bail!("line {}: unsupported operator {}", line_of(expr), other),
            }
        }
        Expression::FunctionCall(call) => {
            let Prefix::Name(name) = call.prefix() else {
                bail!("line {}: unsupported call {}", line_of(expr), expr);
            };
            let suffixes: Vec<&Suffix> = call.suffixes().collect();
            let arg = match suffixes.as_slice() {
                [Suffix::Call(ast::Call::AnonymousCall(args))] => match args.as_ref() {
                    FunctionArgs::String(tok) => string_value(&Expression::String(tok.clone())),
                    FunctionArgs::Parentheses { arguments, .. } if arguments.len() == 1 => {
                        arguments.iter().next().and_then(string_value)
                    }
                    _ => None,
                },
                _ => None,
            };
            match (ident(name), arg) {
                (Some("_"), Some(f)) => Ok(Condition::Has(f)),
                _ => bail!("line {}: unsupported expression {}", line_of(expr), expr),
            }
        }
        other => bail!("line {}: unsupported expression {}", line_of(other), other),
    }
}

fn flatten(l: Condition, r: Condition, and: bool) -> Vec<Condition> {
    let mut out = Vec::new();
    for c in [l, r] {
        match c {
            Condition::And(cs) if and => out.extend(cs),
            Condition::Or(cs) if !and => out.extend(cs),
            c => out.push(c),
        }
    }
    out
}

/// Parses a `package/features` file into rules.
pub fn parse_features(src: &str) -> Result<Vec<FeatureRule>> {
    let ast = parse_lua(src)?;
    let block = ast.nodes();
    if let Some(last) = block.last_stmt() {
        bail!("line {}: unexpected statement {}", line_of(last), last);
    }
    let mut rules = Vec::new();
    for stmt in block.stmts() {
        let Stmt::FunctionCall(call) = stmt else {
            bail!("line {}: unsupported statement {}", line_of(stmt), stmt);
        };
        let (name, args) = call_args(call)
            .ok_or_else(|| anyhow!("line {}: unsupported call {}", line_of(stmt), stmt))?;
        let [first, pkgs] = args.as_slice() else {
            bail!("line {}: {name}() takes two arguments", line_of(stmt));
        };
        let packages = string_table(pkgs)?;
        match name.as_str() {
            "feature" => {
                let feature = string_value(first).ok_or_else(|| {
                    anyhow!(
                        "line {}: feature() needs a plain string name",
                        line_of(stmt)
                    )
                })?;
                rules.push(FeatureRule::Feature { feature, packages });
            }
            "when" => rules.push(FeatureRule::When {
                when: condition(first)?,
                packages,
            }),
            _ => bail!("line {}: unknown function {name}()", line_of(stmt)),
        }
    }
    Ok(rules)
}
