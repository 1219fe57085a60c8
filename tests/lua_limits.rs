//! Hostile site files (issue 12): expressions nested deeper than Lua 5.1
//! accepts, Lua 5.1's one unbounded C recursion (its pattern matcher), and
//! sites larger than mlua's reference slots. None of them may crash
//! gluonvpn, and where Lua 5.1 has a verdict, gluonvpn's is the same.
//!
//! Lua 5.1's verdicts come from `lua5.1` itself, running each file the way
//! Gluon's scripts/site_config.lua does ([`HARNESS`]), where it is installed
//! (`.ci/run` installs it; under CI it must be there). The expected verdicts
//! are also written down here ([`CONSTRUCTS`]), measured with lua5.1 5.1.5,
//! so the tests check them without it too.

#[path = "support/tools.rs"]
mod tools;
#[path = "support/trees.rs"]
mod trees;

use gluonvpn::check::{self, CheckOptions, Outcome};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::site::config;
use gluonvpn::site::load::LOAD_STACK_SIZE;
use gluonvpn::site::lua::{FailureKind, LimitKind, Limits, Sandbox};
use gluonvpn::site::value::{lua_number_to_string, lua_quote, Node, Value};
use gluonvpn::source::SourceMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Loads a file as Gluon's scripts/site_config.lua does: run as the main
/// script of `lua` (two C calls deep), `load` with a coroutine reader that
/// yields `return ` and then the text, the chunk called from the main chunk
/// in an empty environment. Prints `ok`, a tab and the value (or the value at
/// the dotted path of the third argument) as [`canonical`] text, or `error`,
/// a tab and Lua's message when loading fails. A runtime error ends the
/// script as it ends Gluon's: lua5.1 prints it on standard error.
const HARNESS: &str = r#"
local path, name, at = arg[1], arg[2], arg[3]
local text = assert(io.open(path)):read('*a')
local f, err = load(coroutine.wrap(function()
  coroutine.yield('return ')
  coroutine.yield(text)
end), name)
if not f then
  io.write('error\t', err, '\n')
  return
end
local value = setfenv(f, {})()

local canonical
local function number(n) return string.format('%.14g', n) end
function canonical(v)
  local t = type(v)
  if t == 'string' then return string.format('%q', v) end
  if t == 'number' then return number(v) end
  if t == 'boolean' then return tostring(v) end
  if t ~= 'table' then return nil end
  local count, largest, array = 0, 0, true
  for k in pairs(v) do
    count = count + 1
    if type(k) == 'number' and k > 0 and k % 1 == 0 then
      if k > largest then largest = k end
    else
      array = false
    end
  end
  if array and count == largest then
    local items = {}
    for i = 1, count do
      local item = canonical(v[i])
      if item == nil then break end
      items[#items + 1] = item
    end
    return '[' .. table.concat(items, ',') .. ']'
  end
  local names, values = {}, {}
  for k, x in pairs(v) do
    local name = type(k) == 'number' and number(k) or type(k) == 'string' and k or nil
    local item = canonical(x)
    if name and item then
      if not values[name] then names[#names + 1] = name end
      values[name] = item
    end
  end
  table.sort(names)
  local fields = {}
  for _, name in ipairs(names) do
    fields[#fields + 1] = string.format('%q', name) .. '=' .. values[name]
  end
  return '{' .. table.concat(fields, ',') .. '}'
end

if at then
  for key in at:gmatch('[^.]+') do value = value[key] end
end
io.write('ok\t', canonical(value) or 'nil', '\n')
"#;

/// What the harness prints for a [`Node`] (gluonvpn's reading after the
/// lua-jsonc round trip, which keeps every value these tests use).
fn canonical(node: &Node) -> String {
    match &node.value {
        Value::String(s) => lua_quote(s),
        Value::Number(n) => lua_number_to_string(*n),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(fields) => {
            let mut fields: Vec<(&String, String)> =
                fields.iter().map(|(k, v)| (k, canonical(v))).collect();
            fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(k, v)| format!("{}={v}", lua_quote(k)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

/// A verdict on one file: its value (as [`canonical`] text) or Lua's
/// message.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Ok(String),
    Error(String),
}

/// lua5.1's verdict on `text` as a file named `name`, for the value at the
/// dotted path `at`; `None` without lua5.1.
fn lua51(text: &str, name: &str, at: Option<&str>) -> Option<Verdict> {
    if !lua51_installed() {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let harness = dir.path().join("harness.lua");
    let file = dir.path().join("file.conf");
    std::fs::write(&harness, HARNESS).expect("write");
    std::fs::write(&file, text).expect("write");
    let mut command = Command::new("lua5.1");
    command.arg(&harness).arg(&file).arg(name);
    command.args(at);
    let out = command.output().expect("runs lua5.1");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(value) = stdout.strip_prefix("ok\t") {
        return Some(Verdict::Ok(value.trim_end().to_string()));
    }
    if let Some(message) = stdout.strip_prefix("error\t") {
        return Some(Verdict::Error(message.trim_end().to_string()));
    }
    let first = stderr.lines().next().unwrap_or("");
    match first.strip_prefix("lua5.1: ") {
        Some(message) => Some(Verdict::Error(message.to_string())),
        None => panic!("lua5.1 ended with {:?}: {stderr}", out.status),
    }
}

fn lua51_installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let found = Command::new("lua5.1")
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                !tools::in_ci(),
                "lua5.1 is missing: .ci/run installs it (apt-get install lua5.1)"
            );
            tools::loud(
                "\n*** SKIPPING THE COMPARISON WITH LUA 5.1 (tests/lua_limits.rs): lua5.1 is not \
                 installed; `apt-get install lua5.1` ***\n",
            );
        }
        found
    })
}

/// Runs `f` on a thread with the stack `gluonvpn::site::load` runs Lua on.
fn on_load_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(LOAD_STACK_SIZE)
            .spawn_scoped(scope, f)
            .expect("thread")
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// gluonvpn's verdict on `text` as site.conf: Lua's message when Lua fails
/// (the diagnostic carries it as Gluon's message), else the value, for the
/// value at the dotted path `at`. `Err` with the diagnostic when Lua
/// succeeds but the value is not a configuration (e.g. nested deeper than
/// the JSON round trip takes).
fn ours(text: &str, at: Option<&str>) -> Result<Verdict, String> {
    on_load_stack(|| {
        let sandbox = Sandbox::new(Limits::default()).expect("lua");
        let mut sources = SourceMap::default();
        let file = sources.add("site.conf".into(), "site.conf".into(), text.to_string());
        match config::evaluate(&sandbox, &sources, file) {
            Ok(node) => {
                let path: Vec<&str> = at.map_or(Vec::new(), |a| a.split('.').collect());
                let value = node.at(&path).map_or("nil".to_string(), canonical);
                Ok(Verdict::Ok(value))
            }
            Err(d) if ["GS001", "GS002", "GS003"].contains(&d.code()) => {
                Ok(Verdict::Error(d.gluon_message.unwrap_or(d.message)))
            }
            Err(d) => Err(format!("{}: {}", d.code(), d.message)),
        }
    })
}

/// The constructs of issue 12, each nested `n` deep inside `{ x = … }`, and
/// the deepest nesting Lua 5.1 accepts when Gluon loads the file (measured
/// with lua5.1 5.1.5; the parser allows 200 levels counted from the two C
/// calls Gluon runs at, and one table or function body costs more than one).
const CONSTRUCTS: &[(&str, usize)] = &[
    ("not", 195),
    ("concat", 195),
    ("minus", 195),
    ("power", 195),
    ("function", 97),
    ("table", 197),
    ("parentheses", 195),
    // Binary operators of one precedence chain in a loop in Lua's parser.
    ("plus", usize::MAX),
];

fn construct(kind: &str, n: usize) -> String {
    match kind {
        "not" => format!("{{ x = {}true }}\n", "not ".repeat(n)),
        "concat" => format!("{{ x = {}'a' }}\n", "'a' .. ".repeat(n)),
        "minus" => format!("{{ x = {}1 }}\n", "- ".repeat(n)),
        "power" => format!("{{ x = {}1 }}\n", "1 ^ ".repeat(n)),
        "function" => format!(
            "{{ x = {}1{} }}\n",
            "function() return ".repeat(n),
            " end".repeat(n)
        ),
        "table" => format!("{}{}\n", "{".repeat(n), "}".repeat(n)),
        "parentheses" => format!("{{ x = {}1{} }}\n", "(".repeat(n), ")".repeat(n)),
        "plus" => format!("{{ x = {}1 }}\n", "1+".repeat(n)),
        _ => unreachable!("{kind}"),
    }
}

const DEPTHS: &[usize] = &[10, 97, 98, 195, 196, 197, 198, 199, 200, 201, 1000, 100_000];

const TOO_MANY_LEVELS: &str = "[string \"site.conf\"]:1: chunk has too many syntax levels";

#[test]
fn nesting_gets_lua_5_1s_verdict_at_every_depth() {
    let mut table = Vec::new();
    for &(kind, deepest) in CONSTRUCTS {
        for &n in DEPTHS {
            let text = construct(kind, n);
            let at = (kind != "table").then_some("x");
            let ours = ours(&text, at);
            let expected_ok = n <= deepest;
            match (&ours, expected_ok) {
                (Ok(Verdict::Error(message)), false) => assert_eq!(message, TOO_MANY_LEVELS),
                (Ok(Verdict::Ok(_)), true) => {}
                // Lua reads it; the JSON round trip takes 64 levels of
                // tables at most (GS005).
                (Err(d), true) if kind == "table" && n > 64 => {
                    assert!(d.starts_with("GS005"), "{d}")
                }
                _ => panic!("{kind} × {n}: {ours:?}, but Lua 5.1 accepts {deepest} levels"),
            }
            if let Some(truth) = lua51(&text, "site.conf", at) {
                match (&ours, &truth) {
                    (Ok(ours), truth) => assert_eq!(ours, truth, "{kind} × {n}"),
                    (Err(_), Verdict::Ok(_)) => {}
                    (Err(d), truth) => panic!("{kind} × {n}: {d}, Lua 5.1: {truth:?}"),
                }
            }
            let verdict = match &ours {
                Ok(Verdict::Ok(_)) => "value",
                Ok(Verdict::Error(_)) => "GS001",
                Err(_) => "GS005",
            };
            table.push(format!("{kind} × {n}: {verdict}"));
        }
    }
    tools::loud(&table.join("\n"));
    // The value of a long chain is Lua's.
    let sum = ours(&construct("plus", 100_000), Some("x")).expect("evaluates");
    assert_eq!(sum, Verdict::Ok("100001".into()));
}

/// A copy of an example site in a temp dir.
fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("site-examples")
        .join(name);
    trees::copy_tree(&from, dir.path());
    dir
}

fn check_site(dir: &Path) -> Outcome {
    check::check(dir, &CheckOptions::new(GluonVersion::V2025_1)).expect("checks")
}

fn messages(outcome: &Outcome, code: &str) -> Vec<String> {
    outcome
        .report
        .diagnostics
        .iter()
        .filter(|d| d.code() == code)
        .map(|d| d.message.clone())
        .collect()
}

#[test]
fn deep_nesting_in_any_site_file_is_a_diagnostic() {
    for &(kind, _) in CONSTRUCTS {
        for n in [201, 100_000] {
            let expression = construct(kind, n);
            let bare = expression.trim_end();
            let nests = kind != "plus";

            // a domain file
            let site = example("multidomain");
            std::fs::write(site.path().join("domains/nord.conf"), &expression).expect("write");
            let outcome = check_site(site.path());
            if nests {
                assert_eq!(
                    messages(&outcome, "GS001"),
                    ["chunk has too many syntax levels"],
                    "{kind} × {n} in a domain file"
                );
            }

            // image-customization.lua (a statement, Lua's own parser)
            let site = example("fastd");
            let path = site.path().join("image-customization.lua");
            let original = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&path, format!("local t = {bare}\n{original}")).expect("write");
            let outcome = check_site(site.path());
            let errors = messages(&outcome, "GS013");
            let size = std::fs::metadata(&path).expect("stat").len();
            if size > gluonvpn::input::caps::SITE_FILE {
                // Too big to read at all: refused before Lua sees it.
                assert_eq!(
                    messages(&outcome, "GS007").len(),
                    1,
                    "{kind} × {n}: {size} bytes in image-customization.lua"
                );
            } else if nests {
                assert!(
                    errors
                        .iter()
                        .any(|m| m.contains("chunk has too many syntax levels")),
                    "{kind} × {n} in image-customization.lua: {errors:?}"
                );
            } else {
                assert!(errors.is_empty(), "{errors:?}");
            }
        }
    }
}

/// The release binary crashed on these (issue 12): `check` and `render node`
/// must end with a report and their documented exit status instead.
#[test]
fn the_commands_survive_deep_nesting() {
    let binary = env!("CARGO_BIN_EXE_gluonvpn");
    for &(kind, _) in CONSTRUCTS {
        let site = example("fastd");
        let n = if kind == "plus" { 11_878 } else { 100_000 };
        std::fs::write(site.path().join("site.conf"), construct(kind, n)).expect("write");
        for args in [&["check"][..], &["render", "node"][..]] {
            let out = Command::new(binary)
                .args(args)
                .arg(site.path())
                .output()
                .expect("runs gluonvpn");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                matches!(out.status.code(), Some(0..=2)),
                "{args:?} on {kind} × {n}: {:?}\n{stderr}",
                out.status
            );
            if kind != "plus" {
                assert!(
                    format!("{stdout}{stderr}").contains("chunk has too many syntax levels"),
                    "{args:?} on {kind} × {n}:\n{stdout}\n{stderr}"
                );
            }
        }
    }
}

fn pattern_site(expression: &str) -> String {
    format!("{{ x = {expression} }}\n")
}

#[test]
fn string_patterns_cannot_overflow_the_c_stack() {
    // Lua 5.1's matcher recurses once per `x?`: lua5.1 itself dies of a
    // segmentation fault on 150,000 of them. gluonvpn stops at 200.
    for n in [10, 200, 201, 100_000, 1_000_000] {
        for (call, extra) in [("find", ""), ("match", ""), ("gsub", ", ''")] {
            let text = pattern_site(&format!("(('x'):rep({n}):{call}(('x?'):rep({n}){extra}))"));
            let sandbox_result = on_load_stack(|| {
                let sandbox = Sandbox::new(Limits::default()).expect("lua");
                sandbox
                    .eval_config("site.conf", &text)
                    .map(|_| ())
                    .map_err(|f| (f.kind, f.message, f.location))
            });
            if n <= 200 {
                assert!(sandbox_result.is_ok(), "{call} {n}: {sandbox_result:?}");
                if let Some(truth) = lua51(&text, "site.conf", None) {
                    assert!(matches!(truth, Verdict::Ok(_)), "{truth:?}");
                }
            } else {
                let (kind, message, location) = sandbox_result.expect_err("too complex");
                assert_eq!(kind, FailureKind::Limit(LimitKind::Pattern));
                assert!(message.starts_with("[string \"site.conf\"]:1: pattern too complex"));
                assert_eq!(location, Some(("site.conf".into(), 1)));
            }
        }
    }
    // gmatch checks when it is called; plain find ignores the pattern.
    let gmatch = pattern_site("(function() for m in ('x'):gmatch(('x?'):rep(300)) do end end)()");
    let plain = pattern_site("('x?'):rep(300):find(('x?'):rep(300), 1, true)");
    let sandbox = Sandbox::new(Limits::default()).expect("lua");
    let err = sandbox
        .eval_config("site.conf", &gmatch)
        .expect_err("gmatch");
    assert_eq!(err.kind, FailureKind::Limit(LimitKind::Pattern));
    assert!(sandbox.eval_config("site.conf", &plain).is_ok());
    // Other errors of the matcher are still Lua's own, where Lua puts them.
    for (text, message) in [
        (
            "{ x = ('x'):find('%') }",
            "[string \"site.conf\"]:1: malformed pattern (ends with '%')",
        ),
        (
            "{\n x = ('x'):gsub() }",
            "[string \"site.conf\"]:2: bad argument #1 to 'gsub' (string expected, got no value)",
        ),
    ] {
        let err = sandbox.eval_config("site.conf", text).expect_err("error");
        assert_eq!(err.message, message);
        if let Some(truth) = lua51(text, "site.conf", None) {
            assert_eq!(truth, Verdict::Error(message.to_string()));
        }
    }
}

#[test]
fn nested_c_calls_stop_where_they_stop_in_gluon() {
    // gsub with a function that calls gsub: one C call per level, each with
    // an 8 KiB buffer on the C stack; Lua 5.1 stops at 200 C calls.
    let nested = |n: usize| {
        format!(
            "(function()
               local function f(n)
                 if n == 0 then return '' end
                 return (('x'):gsub('x', function() return f(n - 1) end))
               end
               return {{ x = f({n}) }}
             end)()\n"
        )
    };
    for (n, ok) in [(100, true), (197, true), (198, false), (1000, false)] {
        let text = nested(n);
        let verdict = ours(&text, Some("x")).expect("a verdict");
        match verdict {
            Verdict::Ok(ref v) => assert!(ok, "{n}: {v}"),
            Verdict::Error(ref m) => {
                assert!(!ok, "{n}: {m}");
                assert_eq!(m, "C stack overflow");
            }
        }
        if let Some(truth) = lua51(&text, "site.conf", Some("x")) {
            assert_eq!(verdict, truth, "{n}");
        }
    }
}

#[test]
fn image_customization_that_includes_itself_stops() {
    // Each include is a C call (and a Rust one): Lua 5.1 stops them at 200.
    let site = example("fastd");
    std::fs::write(
        site.path().join("image-customization.lua"),
        "include('image-customization.lua')\n",
    )
    .expect("write");
    let outcome = check_site(site.path());
    let errors = messages(&outcome, "GS013");
    assert!(
        errors
            .iter()
            .any(|m| m.contains("chunk has too many syntax levels")
                || m.contains("C stack overflow")),
        "{errors:?}"
    );
}

#[test]
fn precompiled_chunks_are_not_loaded() {
    let site = example("fastd");
    std::fs::write(
        site.path().join("image-customization.lua"),
        b"\x1bLua\x51\x00\x01\x04\x08\x04\x08\x00garbage",
    )
    .expect("write");
    let outcome = check_site(site.path());
    let errors = messages(&outcome, "GS013");
    assert!(errors.iter().any(|m| m.contains("binary")), "{errors:?}");
}

fn hex(i: usize, salt: u64) -> String {
    // 64 hex digits, different for every i
    (0..4)
        .map(|k| {
            format!(
                "{:016x}",
                (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15 ^ (salt + k))
            )
        })
        .collect()
}

/// A site.conf with `peers` fastd peers, from the fastd example.
fn site_with_peers(peers: usize) -> String {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/fastd/site.conf"),
    )
    .expect("example");
    let start = example.find("          peers = {").expect("peers");
    let end = example[start..].find("\n          },\n").expect("end") + start;
    let mut generated = String::from("          peers = {\n");
    for i in 0..peers {
        generated.push_str(&format!(
            "            gw{i:05} = {{ key = '{}', remotes = {{ '\"gw{i}.example.org\" port {}' }} }},\n",
            hex(i, 1),
            10_000 + i % 50_000
        ));
    }
    format!("{}{}{}", &example[..start], generated, &example[end..])
}

const PEERS_PATH: &str = "mesh_vpn.fastd.groups.backbone.peers";

fn unset(outcome: &Outcome) -> Vec<String> {
    outcome
        .report
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("unset") || d.message.contains("Lua stack"))
        .map(|d| format!("{}: {}", d.code(), d.message))
        .collect()
}

/// Issue 12: from about 4,000 peers on, every peer's key read as unset
/// (mlua's reference stack ran out while the pairs of a table were held).
#[test]
fn twenty_thousand_peers_read_as_lua_reads_them() {
    let site = example("fastd");
    let text = site_with_peers(20_000);
    std::fs::write(site.path().join("site.conf"), &text).expect("write");
    let started = Instant::now();
    let outcome = check_site(site.path());
    let took = started.elapsed();
    assert_eq!(unset(&outcome), Vec::<String>::new());
    let site_conf = outcome.site.site_conf.as_ref().expect("site.conf");
    let path: Vec<&str> = PEERS_PATH.split('.').collect();
    let peers = site_conf.at(&path).expect("peers");
    let Value::Object(fields) = &peers.value else {
        panic!("peers are {}", peers.lua_type())
    };
    assert_eq!(fields.len(), 20_000);
    assert_eq!(
        peers.at(&["gw12345", "key"]).and_then(Node::as_str),
        Some(hex(12_345, 1).as_str())
    );
    // spans still point into the file
    let span = peers
        .at(&["gw19999", "key"])
        .and_then(|n| n.span)
        .expect("span");
    assert_eq!(
        &text[span.start as usize..span.end as usize],
        format!("'{}'", hex(19_999, 1))
    );
    if let Some(truth) = lua51(&text, "site.conf", Some(PEERS_PATH)) {
        assert_eq!(truth, Verdict::Ok(canonical(peers)));
    }
    tools::loud(&format!("20,000 peers: check took {took:.1?}"));
}

/// A multidomain site with `count` domain files, from the multidomain
/// example.
fn site_with_domains(count: usize) -> tempfile::TempDir {
    let site = example("multidomain");
    let domains = site.path().join("domains");
    std::fs::remove_dir_all(&domains).expect("rm");
    std::fs::create_dir(&domains).expect("mkdir");
    for i in 0..count {
        let text = format!(
            "{{
  domain_names = {{ d{i:05} = 'Domain {i}' }},
  domain_seed = '{}',
  prefix4 = '10.{}.{}.0/24',
  prefix6 = 'fd8a:2b1c:{:x}::/64',
  next_node = {{ ip4 = '10.{}.{}.1', ip6 = 'fd8a:2b1c:{:x}::1' }},
  wifi24 = {{ mesh = {{ id = 'mesh-{i}' }} }},
  wifi5 = {{ mesh = {{ id = 'mesh-{i}' }} }},
  mesh_vpn = {{ fastd = {{ groups = {{ backbone = {{ peers = {{
    gw = {{ key = '{}', remotes = {{ '\"gw{i}.example.org\" port 10000' }} }},
  }} }} }} }} }},
}}
",
            hex(i, 2),
            i / 256,
            i % 256,
            i + 1,
            i / 256,
            i % 256,
            i + 1,
            hex(i, 3),
        );
        std::fs::write(domains.join(format!("d{i:05}.conf")), text).expect("write");
    }
    let site_conf = site.path().join("site.conf");
    let text = std::fs::read_to_string(&site_conf)
        .expect("read")
        .replace("default_domain = 'nord'", "default_domain = 'd00000'");
    std::fs::write(site_conf, text).expect("write");
    site
}

/// Issue 12: from about 7,957 domains on, site-level keys read as unset, and
/// from 8,000 on evaluation failed with "out of Lua stack" (every domain's
/// Lua value was held until all were evaluated).
#[test]
fn ten_thousand_domains_read_as_lua_reads_them() {
    let count = 10_000;
    let site = site_with_domains(count);
    let started = Instant::now();
    let outcome = check::check(
        site.path(),
        &CheckOptions {
            gluon_only: true,
            ..CheckOptions::new(GluonVersion::V2025_1)
        },
    )
    .expect("checks");
    let took = started.elapsed();
    assert_eq!(unset(&outcome), Vec::<String>::new());
    let errors: Vec<String> = outcome
        .report
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code(), d.message))
        .take(5)
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(outcome.site.domains.len(), count);
    assert!(outcome.site.domains.iter().all(|d| d.config.is_some()));
    let last = &outcome.site.domains[count - 1];
    let text = std::fs::read_to_string(site.path().join("domains/d09999.conf")).expect("read");
    let config = last.config.as_ref().expect("config");
    if let Some(truth) = lua51(&text, "domains/d09999.conf", None) {
        assert_eq!(truth, Verdict::Ok(canonical(config)));
    }
    assert_eq!(
        config.at(&["domain_seed"]).and_then(Node::as_str),
        Some(hex(count - 1, 2).as_str())
    );
    tools::loud(&format!("{count} domains: check took {took:.1?}"));
}
