//! The fuzz targets: what each feeds its input to, its seeds and its
//! dictionary. Each drives the code paths a command runs on a hostile
//! file, in process.

use crate::engine::{self, hash, Exec, Seeds, Target};
use gluonvpn::check::{self, CheckOptions, Outcome};
use gluonvpn::diagnostics::{Diagnostic, Report};
use gluonvpn::fastd_conf::{self, Includes};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::keys::{self, Secret};
use gluonvpn::output::{self, Format, Run};
use gluonvpn::peers;
use gluonvpn::render::gateway::{self, GatewayOptions};
use gluonvpn::render::inventory::{Interfaces, Inventory, Peers, Settings};
use gluonvpn::render::node::{self, NodeOptions};
use gluonvpn::render::{formats, Provider, RenderError};
use gluonvpn::site::lua::Limits;
use gluonvpn::site::site_mk::MakeOptions;
use gluonvpn::site::{codes, confine, site_mk};
use gluonvpn::source::{SourceMap, Span};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const ALL: &[&Target] = &[&SITE_CONF, &DOMAIN, &SITE_MK, &INVENTORY, &FASTD_PEER];

// ---------------------------------------------------------------------------
// Seeds.

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Real community sites, read in place; absent outside the development
/// machine (then only the repository's seeds are used, as in CI;
/// `GLUONVPN_FUZZ_NO_CORPUS` does the same where it is present).
fn shared_corpus() -> Option<PathBuf> {
    let dir = repo().join("../shared/corpus");
    (std::env::var_os("GLUONVPN_FUZZ_NO_CORPUS").is_none() && dir.is_dir()).then_some(dir)
}

/// The files `name` (a path below each site directory, `*` for any file
/// name) in the site directories under `dir`, sorted.
fn site_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut sites: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    sites.sort();
    let mut files = Vec::new();
    for site in sites {
        match name.split_once("/*") {
            Some((subdir, ext)) => {
                let Ok(entries) = std::fs::read_dir(site.join(subdir)) else {
                    continue;
                };
                let mut found: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().ends_with(ext) && p.is_file())
                    .collect();
                found.sort();
                files.extend(found);
            }
            None => {
                let file = site.join(name);
                if file.is_file() {
                    files.push(file);
                }
            }
        }
    }
    files
}

/// Seeds from the example sites, the test fixtures and the shared corpus.
fn site_seeds(name: &str) -> Seeds {
    let mut seeds = Seeds::default();
    for dir in ["site-examples", "tests/fixtures"] {
        for file in site_files(&repo().join(dir), name) {
            seeds.add_repository(std::fs::read(&file).expect("seed"));
        }
    }
    if let Some(corpus) = shared_corpus() {
        for file in site_files(&corpus, name) {
            seeds.add_corpus(std::fs::read(&file).expect("corpus seed"));
        }
    }
    seeds
}

// ---------------------------------------------------------------------------
// Lua: site.conf and domain files.

const LUA_DICTIONARY: &[&str] = &[
    "{",
    "}",
    "{}",
    "(",
    ")",
    "[",
    "]",
    "[[",
    "]]",
    "[==[",
    "]==]",
    "'",
    "\"",
    "\\",
    "\\0",
    "\\n",
    "=",
    ",",
    ";",
    ".",
    "..",
    "...",
    ":",
    "not ",
    " and ",
    " or ",
    "-",
    "--",
    "--[[",
    "#",
    "+",
    "*",
    "/",
    "%",
    "^",
    "==",
    "~=",
    "<",
    ">",
    "nil",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "0.5",
    "1e308",
    "2^31",
    "2^53",
    "0x7fffffff",
    "1/0",
    "-(0/0)",
    "function() return ",
    "(function() return {} end)()",
    " end",
    "local t = {} ",
    "return ",
    "if true then ",
    "while true do end",
    "for i = 1, 10 do ",
    "('x'):rep(64)",
    "('%x'):format(1)",
    "('x'):find('(x*)*y')",
    "setmetatable",
    "[1] = ",
    "['1'] = ",
    "[0] = ",
    "[-1] = ",
    "[1.5] = ",
    "[true] = ",
    "x = ",
    "mesh_vpn = { ",
    "fastd = { ",
    "wireguard = { ",
    "tunneldigger = { ",
    "mtu = 1312, ",
    "methods = { 'salsa2012+umac', 'null@l2tp', 'null' }, ",
    "groups = { backbone = { limit = 1, peers = { ",
    "gw1 = { key = '",
    "remotes = { '\"gw1.example.org\" port 10000', 'ipv4 \"192.0.2.1\" port 10000' }, ",
    "peers = { { public_key = '",
    "endpoint = 'gw.example.org:51820', ",
    "link = 'fe80::1', ",
    "brokers = { 'broker.example.org:20004' }, ",
    "ntp_servers = { '0.pool.ntp.org' }, ",
    "domain_seed = '",
    "domain_names = { ",
    "domain_code = '",
    "site_code = '",
    "prefix4 = '10.0.0.0/16', ",
    "prefix6 = 'fd00::/64', ",
    "next_node = { ",
    "autoupdater = { branches = { ",
    "configurable = true, ",
    "enabled = true, ",
    "limit = 2, ",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
];

/// The sandbox's limits while fuzzing: lower than `check`'s (100 million
/// instructions, 256 MiB, 2 s), so that inputs that hit them do not eat
/// the fuzzing time; the code paths are the same.
const FUZZ_LIMITS: Limits = Limits {
    instructions: 10_000_000,
    memory_bytes: 64 << 20,
    wall_time: Duration::from_secs(1),
};

/// The target the checks load: one, to keep an input's check fast (the
/// image customisation, which is not fuzzed here, runs once per device).
const FUZZ_GLUON_TARGET: &str = "x86-64";

/// A site in a temporary directory whose one fuzzed file is rewritten for
/// every input.
struct FuzzedSite {
    dir: tempfile::TempDir,
    fuzzed: Fuzzed,
}

/// Which file of the site the input is.
enum Fuzzed {
    SiteConf,
    /// A domain file next to `domains/nord.conf`.
    Domain,
}

/// A domain file's code as the file says it (`domain_code = 'x'`), when it
/// makes a usable file name; the file is named after it, as in real sites.
fn domain_code_of(text: &str) -> Option<&str> {
    let rest = &text[text.find("domain_code")? + "domain_code".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let value = &rest[1..];
    let value = &value[..value.find(quote)?];
    (!value.is_empty()
        && value.len() <= 32
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then_some(value)
}

impl FuzzedSite {
    fn run(&mut self, input: &[u8]) -> Exec {
        let path = match self.fuzzed {
            Fuzzed::Domain => {
                let domains = self.dir.path().join("domains");
                // Only the fixed domain and this input's file.
                for entry in std::fs::read_dir(&domains).expect("domains").flatten() {
                    if entry.file_name() != "nord.conf" {
                        std::fs::remove_file(entry.path()).expect("remove old domain");
                    }
                }
                let text = String::from_utf8_lossy(input);
                let code = domain_code_of(&text)
                    .filter(|c| *c != "nord")
                    .unwrap_or("fuzz");
                domains.join(format!("{code}.conf"))
            }
            Fuzzed::SiteConf => self.dir.path().join("site.conf"),
        };
        std::fs::write(&path, input).expect("write the input");
        let h = hash(input);
        let version = GluonVersion::ALL[(h % GluonVersion::ALL.len() as u64) as usize];
        let mut options = CheckOptions::new(version);
        options.load.target = Some(FUZZ_GLUON_TARGET.into());
        options.load.limits = FUZZ_LIMITS;
        let mut signature = vec![version.label().to_string()];
        let mut left_thread = false;
        match check::check(self.dir.path(), &options) {
            Ok(outcome) => {
                left_thread = outcome
                    .report
                    .diagnostics
                    .iter()
                    .any(|d| d.message.contains("gluonvpn gave up on it"));
                exercise_outcome(&outcome, version, h, &mut signature);
            }
            Err(e) => signature.push(format!("error {}", without_digits(&e.to_string()))),
        }
        let signature = hash(signature.join("\n").as_bytes());
        if left_thread {
            Exec::LeftThread(signature)
        } else {
            Exec::Ran(signature)
        }
    }
}

/// What `check` and `render` do with a checked site: every output format,
/// the node's tree, and each gateway's the site names.
fn exercise_outcome(outcome: &Outcome, version: GluonVersion, h: u64, signature: &mut Vec<String>) {
    let codes: BTreeSet<&str> = outcome
        .report
        .diagnostics
        .iter()
        .map(|d| d.info.code)
        .collect();
    signature.extend(codes.iter().map(|c| c.to_string()));
    write_every_format(&Run::new(outcome, false));

    let site = &outcome.site;
    let mut node_options = NodeOptions::new(version);
    if h & 4 != 0 {
        node_options.device_class = "tiny".into();
    }
    signature.push(render_result("node", node::render(site, &node_options)));

    let mut names: Vec<String> = Vec::new();
    for provider in Provider::ALL {
        for name in gateway::gateway_names(site, provider).into_iter().take(3) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let mut inventory = Inventory::default();
    for name in &names {
        inventory
            .gateways
            .insert(name.clone(), gateway_settings(h >> 3));
    }
    for name in &names {
        let options = GatewayOptions {
            version,
            gateway: name.clone(),
            domain: None,
        };
        signature.push(render_result(
            "gateway",
            gateway::render(site, &inventory, &options),
        ));
    }
}

/// Gateway settings, one of a few shapes.
fn gateway_settings(choice: u64) -> Settings {
    let mut settings = Settings::default();
    if choice & 1 != 0 {
        settings.interfaces = Some(Interfaces::SystemdNetworkd);
        settings.bridge = Some("br-client".into());
    }
    if choice & 2 != 0 {
        settings.offload = Some(true);
    }
    if choice & 4 != 0 {
        settings.peers = Some(Peers::Directory);
        settings.peers_dir = Some("/etc/fastd/peers".into());
    }
    if choice & 8 != 0 {
        settings.bind = Some(vec!["0.0.0.0".into(), "[::]".into()]);
    }
    settings
}

/// A render's result for the signature. A rendered file that does not read
/// back (the command reports an internal error) or a path that leaves the
/// tree (`--out DIR` writes it outside DIR) is a finding.
fn render_result(what: &str, result: Result<gluonvpn::render::Tree, RenderError>) -> String {
    match result {
        Ok(tree) => {
            if let Some(entry) = tree.entries.iter().find(|e| !path_stays_inside(e.path())) {
                panic!(
                    "{what}: the rendered path {:?} leaves the tree",
                    entry.path()
                );
            }
            format!("{what} ok {}", tree.entries.len())
        }
        Err(RenderError::Reparse { path, message }) => {
            panic!("{what}: a rendered file does not read back ({path}): {message}")
        }
        Err(e) => format!("{what} {}", error_shape(&e.to_string())),
    }
}

/// A relative path of plain components: no `..`, `.` or empty component, no
/// control character.
fn path_stays_inside(path: &str) -> bool {
    !path.starts_with('/')
        && !path.chars().any(char::is_control)
        && path
            .trim_end_matches('/')
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

fn write_every_format(run: &Run<'_>) {
    for format in [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Gitlab,
    ] {
        let mut out = termcolor::NoColor::new(Vec::new());
        output::write(format, run, &mut out)
            .unwrap_or_else(|e| panic!("{format:?} output failed: {e}"));
    }
}

/// The shape of an error message, for signatures: its last line without
/// numbers and quoted parts (which carry the input's own text).
fn error_shape(message: &str) -> String {
    let last = message.lines().rfind(|l| !l.trim().is_empty());
    let mut shape = String::new();
    let mut quoted: Option<char> = None;
    for c in last.unwrap_or("").chars() {
        match quoted {
            Some(q) if c == q => quoted = None,
            Some(_) => {}
            None if matches!(c, '`' | '\'' | '"') => quoted = Some(c),
            None if c.is_ascii_digit() => {}
            None => shape.push(c),
        }
    }
    shape.chars().take(80).collect()
}

fn without_digits(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_ascii_digit())
        .take(120)
        .collect()
}

/// A temporary site directory with `(name, example file)` copied into it.
fn site_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = engine::scratch_dir("site");
    for (name, example) in files {
        let from = repo().join("site-examples").join(example);
        let to = dir.path().join(name);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    dir
}

/// site.conf → Lua evaluation in the sandbox, the span tree, the JSON round
/// trip, Gluon's checks for Gluon's release (one of four, by the input's
/// hash), the lints, every output format, and `render node` and `render
/// gateway` for the gateways the site names. site.mk (target-free, no
/// `$(shell)`) and image-customization.lua are the fastd example's.
pub static SITE_CONF: Target = Target {
    name: "site_conf",
    seeds: || site_seeds("site.conf"),
    dictionary: LUA_DICTIONARY,
    max_len: 256 << 10,
    setup: || {
        let mut site = FuzzedSite {
            dir: site_dir(&[
                ("site.mk", "fastd/site.mk"),
                ("image-customization.lua", "fastd/image-customization.lua"),
            ]),
            fuzzed: Fuzzed::SiteConf,
        };
        Box::new(move |input| site.run(input))
    },
};

/// A domain file in a multidomain site (the multidomain example's site.conf,
/// site.mk, image-customization.lua and domain `nord`): the domain merge on
/// top of everything [`SITE_CONF`] does. The file is named after the
/// `domain_code` it sets, as in real sites.
pub static DOMAIN: Target = Target {
    name: "domain",
    seeds: || site_seeds("domains/*.conf"),
    dictionary: LUA_DICTIONARY,
    max_len: 256 << 10,
    setup: || {
        let mut site = FuzzedSite {
            dir: site_dir(&[
                ("site.conf", "multidomain/site.conf"),
                ("site.mk", "multidomain/site.mk"),
                (
                    "image-customization.lua",
                    "multidomain/image-customization.lua",
                ),
                ("domains/nord.conf", "multidomain/domains/nord.conf"),
            ]),
            fuzzed: Fuzzed::Domain,
        };
        Box::new(move |input| site.run(input))
    },
};

// ---------------------------------------------------------------------------
// site.mk

const MAKE_DICTIONARY: &[&str] = &[
    "$(",
    "${",
    ")",
    "}",
    "$$",
    "$(shell ",
    "$(eval ",
    "$(call ",
    "$(info ",
    "$(error ",
    "$(file >",
    "$(foreach v,",
    "$(if ",
    "ifeq (",
    "ifneq (",
    "ifdef ",
    "else",
    "endif",
    "define ",
    "endef",
    "include ",
    "-include ",
    "override ",
    "export ",
    "undefine ",
    "\\",
    "\\\n",
    "\n",
    "\r\n",
    "\t",
    "#",
    " := ",
    " ?= ",
    " += ",
    " = ",
    " ::= ",
    " != ",
    ":",
    ",",
    "GLUON_RELEASE",
    "GLUON_FEATURES",
    "GLUON_FEATURES_standard",
    "GLUON_SITE_PACKAGES",
    "GLUON_MULTIDOMAIN",
    "GLUON_TARGET",
    "BOARD",
    "SUBTARGET",
    "GLUON_LANGS",
    "DEFAULT_GLUON_RELEASE",
    "ä",
    "\u{2028}",
    "\u{feff}",
];

/// site.mk text → gluonvpn's own handling of it: whether it names the
/// target (per-target evaluation), the line that assigns each variable
/// gluonvpn reads (the spans of GS diagnostics), and those spans through
/// every output format.
///
/// Not the evaluation by make: make runs `$(shell …)` and writes files with
/// `$(file >…)`, and mutations build both (`$(shell rm -rf …)`), so fuzzed
/// text must not reach make on a machine that matters. Once `check
/// --untrusted` (site.mk evaluated without any shell, branch
/// issue12-sitemk) lands, this target should evaluate the text that way.
pub static SITE_MK: Target = Target {
    name: "site_mk",
    seeds: || site_seeds("site.mk"),
    dictionary: MAKE_DICTIONARY,
    max_len: 64 << 10,
    setup: || {
        let dir = PathBuf::from("/nonexistent-fuzz-site");
        let checked = BTreeSet::new();
        // make itself runs on the input only confined (`--untrusted`), and
        // only where the kernel offers Landlock, which that needs.
        let confined_site = confine::landlock_abi()
            .is_some()
            .then(|| tempfile::tempdir().expect("a site directory"));
        Box::new(move |input| {
            let text = String::from_utf8_lossy(input).into_owned();
            let mut signature = vec![site_mk::mentions_target(&[text.as_str()]).to_string()];
            if let Some(site) = &confined_site {
                signature.push(untrusted_make(site.path(), input));
            }
            let mut sources = SourceMap::default();
            let file = sources.add("site.mk".into(), dir.join("site.mk"), text.clone());
            let mut report = Report::default();
            for name in site_mk::VARIABLES
                .iter()
                .chain(site_mk::FEATURE_VARIABLES.iter())
            {
                let Some(line) = site_mk::assignment_line(&text, name) else {
                    continue;
                };
                let source = sources.get(file);
                let span = source.line_span(file, line);
                let (start, end) = (span.start as usize, span.end as usize);
                assert!(
                    end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end),
                    "line {line} of {name}: span {start}..{end} is not in the text"
                );
                let (l, _) = source.line_col(start);
                assert_eq!(l, line, "{name}: the span starts on another line");
                signature.push(name.to_string());
                report.push(
                    Diagnostic::new(
                        codes::OBSOLETE_SITE_MK_VAR,
                        format!("{name} is assigned here"),
                        Some(span),
                    )
                    .with_path(name.to_string()),
                );
            }
            report.push(Diagnostic::new(
                codes::SITE_MK,
                "site.mk as a whole",
                Some(Span::file_start(file)),
            ));
            report.sort(&sources);
            write_every_format(&Run {
                report: &report,
                sources: &sources,
                site_dir: &dir,
                site_path: "site".into(),
                gluon_version: GluonVersion::NEWEST,
                gluon_version_inferred: false,
                gluon_version_reasons: Vec::new(),
                gluon_version_fits: true,
                gluon_ok: Some(false),
                checked_packages: &checked,
                domains: Vec::new(),
                online: false,
                hidden: 0,
                root_uri: None,
                releases: Vec::new(),
            });
            Exec::Ran(hash(signature.join("\n").as_bytes()))
        })
    },
};

/// make's limits while fuzzing: lower than `check`'s (20 s, 1 GiB), as
/// for Lua.
const FUZZ_MAKE: MakeOptions = MakeOptions {
    untrusted: true,
    wall_time: Duration::from_secs(3),
    memory: 256 << 20,
    network_namespace: false,
};

/// `check --untrusted`'s evaluation of site.mk text: make runs it with no
/// command and no file outside a copy of the site. make's own verdict and
/// the commands it did not run make the signature; make not running at all
/// is a finding.
fn untrusted_make(site: &Path, input: &[u8]) -> String {
    std::fs::write(site.join("site.mk"), input).expect("write site.mk");
    let outcome = site_mk::evaluate(site, &[], &FUZZ_MAKE)
        .unwrap_or_else(|e| panic!("untrusted make did not run: {e}"));
    format!(
        "make {:?} {} {}",
        outcome.error.map(|e| e.kind),
        outcome.skipped_shells.len(),
        outcome.evaluation.global.iter().count()
    )
}

// ---------------------------------------------------------------------------
// The gateway inventory.

const TOML_DICTIONARY: &[&str] = &[
    "[gateways.",
    "[gateways.gw1]\n",
    "[gateways.gw1.domains.nord]\n",
    "[gateways.gw_sued.domains.sued]\n",
    "[[gateways]]\n",
    ".domains.",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "\\u0000",
    "\\",
    "=",
    " = ",
    ",",
    ".",
    "#",
    "\n",
    "\r\n",
    "true",
    "false",
    "0",
    "-1",
    "65535",
    "65536",
    "1e400",
    "inf",
    "nan",
    "1979-05-27T07:32:00Z",
    "fastd_secret = ",
    "wireguard_private_key = ",
    "bind = [\"0.0.0.0\", \"[::]\", \"any\"]",
    "interfaces = \"systemd-networkd\"",
    "interfaces = \"hooks\"",
    "offload = true",
    "peers = \"directory\"",
    "peers_dir = \"/etc/fastd/peers\"",
    "config_dir = ",
    "log_level = ",
    "instance = ",
    "fastd_port = ",
    "wireguard_port = ",
    "tunneldigger_port = ",
    "fastd_interface = ",
    "peer_interface = \"%k\"",
    "batman = ",
    "bridge = ",
    "wireguard_interface = ",
    "vxlan_interface = ",
    "uplink = ",
    "domains = {}",
    "fastd_methods = [\"salsa2012+umac\", \"null\"]",
    "fastd_legacy_methods = [\"salsa2012+gmac\"]",
    "fastd_peer_limit = ",
    "fastd_on_verify = [\"/usr/local/bin/limit\", \"verify\", \"$PEER_KEY\"]",
    "fastd_hide_ip_addresses = false",
    "fastd_hide_mac_addresses = ",
    "fastd_static_peers = [{ name = \"sn02\", key = \"2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3b5d7f9e0a2c4b6d8f1e3a\", remotes = [\"192.0.2.1:10000\"] }]",
    "fastd_extra_instances = [{ name = \"legacy\", port = 10000, mtu = 1426, bind = [\"0.0.0.0\"] }]",
    "batman_gateway_mode = \"client\"",
    "batman_gateway_bandwidth = \"100mbit/20mbit\"",
    "batman_hop_penalty = ",
    "batman_ogm_interval = ",
    "wireguard_node_keys = ",
    "gw1",
    "gw2",
    "gw_nord",
    "gw_sued",
    "nord",
    "sued",
    "default",
];

const INVENTORY_SEEDS: &[&str] = &[
    "",
    "[gateways.gw1]\n",
    "[gateways.gw1]\ninterfaces = \"systemd-networkd\"\nbridge = \"br-client\"\noffload = true\npeers = \"directory\"\npeers_dir = \"/etc/fastd/peers\"\nlog_level = \"verbose\"\nconfig_dir = \"/srv/gluonvpn\"\n",
    "[gateways.gw2]\nfastd_port = 10001\nwireguard_port = 51821\ntunneldigger_port = 20005\ninstance = \"ffx\"\nfastd_interface = \"vpn-ffx\"\nwireguard_interface = \"wg-ffx\"\nvxlan_interface = \"vx-ffx\"\nuplink = \"ens3\"\nbind = [\"192.0.2.1\", \"[2001:db8::1]\"]\n",
    "[gateways.gw_sued]\n[gateways.gw_sued.domains.sued]\npeer_interface = \"s-%k\"\nbatman = \"bat-s\"\n[gateways.gw_sued.domains.nord]\noffload = false\n",
    "gateways = { gw1 = { offload = true, domains = { default = { batman = \"bat1\" } } } }\n",
];

/// The sites the inventory target renders: the three examples, checked
/// once, for one Gluon target (`render gateway` goes through every image's
/// packages, and all targets have a thousand images).
fn example_sites() -> Vec<Outcome> {
    ["fastd", "wireguard", "multidomain"]
        .iter()
        .map(|site| {
            let mut options = CheckOptions::new(GluonVersion::NEWEST);
            options.load.target = Some(FUZZ_GLUON_TARGET.into());
            check::check(&repo().join("site-examples").join(site), &options)
                .expect("an example site loads")
        })
        .collect()
}

/// Inventory TOML → `Inventory::parse`, every gateway's settings resolved
/// for each domain it names, and `render gateway` for each gateway (and
/// domain) against the three example sites. The key files an inventory
/// names are read where they exist (read only, capped).
pub static INVENTORY: Target = Target {
    name: "inventory",
    seeds: || {
        let mut seeds = Seeds::default();
        seeds.add_repository(
            std::fs::read(repo().join("site-examples/inventory.toml")).expect("inventory"),
        );
        for seed in INVENTORY_SEEDS {
            seeds.add_repository(seed.as_bytes().to_vec());
        }
        // The inventories that mirror communities' roles.
        for name in ["ffh.toml", "ffh-wg.toml", "ffhb.toml", "ffmwu.toml"] {
            let path = repo().join("tests/fixtures/gateways").join(name);
            seeds.add_repository(std::fs::read(path).expect("a gateway fixture"));
        }
        seeds
    },
    dictionary: TOML_DICTIONARY,
    max_len: 256 << 10,
    setup: || {
        let sites = example_sites();
        Box::new(move |input| {
            let text = String::from_utf8_lossy(input);
            let inventory = match Inventory::parse(&text) {
                Ok(inventory) => inventory,
                Err(e) => return Exec::Ran(hash(error_shape(&e).as_bytes())),
            };
            let mut signature = Vec::new();
            for (name, gateway) in inventory.gateways.iter().take(6) {
                let mut domains: Vec<&str> = vec!["default", "nord", "sued"];
                domains.extend(gateway.domains.keys().take(4).map(String::as_str));
                for domain in &domains {
                    let resolved = gateway.resolve(domain);
                    signature.push(format!("{:?} {:?}", resolved.interfaces, resolved.peers));
                }
                for outcome in &sites {
                    let mut only: Vec<Option<String>> = vec![None];
                    if outcome.site.multidomain {
                        only.extend(gateway.domains.keys().take(2).cloned().map(Some));
                    }
                    for domain in only {
                        let options = GatewayOptions {
                            version: GluonVersion::NEWEST,
                            gateway: name.clone(),
                            domain,
                        };
                        signature.push(render_result(
                            "gateway",
                            gateway::render(&outcome.site, &inventory, &options),
                        ));
                    }
                }
            }
            Exec::Ran(hash(signature.join("\n").as_bytes()))
        })
    },
};

// ---------------------------------------------------------------------------
// fastd peer files.

const FASTD_DICTIONARY: &[&str] = &[
    "key ",
    "key \"",
    "secret \"",
    "remote ",
    "remote \"gw1.example.org\" port 10000;",
    "remote ipv6 \"gw1.example.org\" port 10000;",
    "remote [2001:db8::1]:10000;",
    "remote 192.0.2.1:10000;",
    "float yes;",
    "include ",
    "include \"other\";",
    "include peers from \"peers\";",
    "peer \"x\" { ",
    "peer group \"g\" { ",
    "\"",
    "\\",
    "\\\n",
    ";",
    ":",
    "{",
    "}",
    "[",
    "]",
    "#",
    "//",
    "/*",
    "*/",
    "\n",
    "\r\n",
    "\t",
    " ",
    "0",
    "9",
    "a",
    "f",
    "A",
    "g",
    "ä",
    "d3ac6266452a01a771e3c06b3b285d3dc04fe5be266f70392463497ae283a70b",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0100000000000000000000000000000000000000000000000000000000000000",
];

/// Real fastd public keys (from the key tests), for seeds.
const PEER_KEYS: &[&str] = &[
    "d3ac6266452a01a771e3c06b3b285d3dc04fe5be266f70392463497ae283a70b",
    "83369beddca777585167520fb54a7fb059102bf4e0a46dd5fb1c633d83db77a2",
];

fn peer_seeds() -> Seeds {
    let key = PEER_KEYS[0];
    let mut seeds = Seeds::default();
    for seed in [
        format!("key \"{key}\";\n"),
        format!("# node a\n/* block\n comment */ remote \"x.example\" port 10000;\n// c\nkey \"{}\\\n{}\";\nfloat yes;\n", &key[..32], &key[32..]),
        format!("key \"{key}\";\nremote [2001:db8::1]:10000;\nremote 192.0.2.1:10000;\n"),
        format!("peer \"x\" {{ key \"{key}\"; }}\nkey \"{}\";\n", PEER_KEYS[1]),
        "secret \"s\";\ninclude peers from \"peers\";\n".to_string(),
        format!("secret \"{}\";\n", "a".repeat(64)),
        "key \"abc\";\n".to_string(),
        "include \"other\";\n".to_string(),
    ] {
        seeds.add_repository(seed.into_bytes());
    }
    seeds
}

/// Names a fuzzed peer file gets (one per input, by its hash): odd ones
/// included, since the name becomes a comment in the WireGuard file.
const PEER_NAMES: &[&str] = &[
    "node",
    "node-1",
    "a b",
    " lead",
    "trail ",
    "#x",
    "[Peer]",
    "PublicKey = x",
    "ü-node",
    "x\u{2028}y",
    "tab\tname",
    "z~",
    ".hidden",
];

/// fastd peer file → `keys translate --peers-dir` as it reads a peer
/// directory (next to two valid peers): the file read through the capped
/// reader, its `key` found with fastd's lexical rules, the key checked and
/// translated, the WireGuard peers rendered and read back (they must read
/// back the same); and the same text as a secret file (`keys translate
/// --private-file`), a gateway's fastd.conf and a rendered peer file.
pub static FASTD_PEER: Target = Target {
    name: "fastd_peer",
    seeds: peer_seeds,
    dictionary: FASTD_DICTIONARY,
    max_len: 80 << 10,
    setup: || {
        let dir = engine::scratch_dir("peers");
        let peers_dir = dir.path().join("peers");
        std::fs::create_dir(&peers_dir).expect("peers");
        // A valid peer next to the fuzzed one (duplicate keys, sorting).
        std::fs::write(
            peers_dir.join("gw-a"),
            format!("key \"{}\";\n", PEER_KEYS[0]),
        )
        .expect("peer");
        let mut last: Option<PathBuf> = None;
        Box::new(move |input| {
            let _keep = &dir;
            let h = hash(input);
            let name = PEER_NAMES[(h % PEER_NAMES.len() as u64) as usize];
            if let Some(last) = last.take() {
                let _ = std::fs::remove_file(last);
            }
            let path = peers_dir.join(name);
            std::fs::write(&path, input).expect("write the peer file");
            last = Some(path);
            let mut signature = Vec::new();

            let read = peers::read_peer_dir(&peers_dir).expect("the peer directory");
            let text = peers::render(&read.entries, &peers_dir.display().to_string());
            let mut expected = read.entries.clone();
            expected.sort_by(|a, b| a.name.cmp(&b.name));
            let back = peers::parse(&text)
                .unwrap_or_else(|e| panic!("the rendered peers do not parse: {e}\n{text}"));
            assert_eq!(back, expected, "the rendered peers read back differently");
            signature.push(format!("{} {}", read.entries.len(), read.skipped.len()));
            for error in &read.errors {
                signature.push(without_digits(&error.message));
            }

            let text = String::from_utf8_lossy(input);
            match peers::peer_key(&text) {
                Ok(key) => {
                    let found = fastd_conf::single_string_statement(&text, "key", Includes::Refuse)
                        .expect("the key statement peer_key found");
                    assert_eq!(key.to_hex(), found.value.to_ascii_lowercase());
                    let wg = key.to_wireguard();
                    let parsed = keys::parse_any_public_key(&wg.to_base64()).expect("wg key");
                    assert_eq!(parsed, wg);
                }
                Err(e) => signature.push(without_digits(&e.message)),
            }
            for keyword in ["secret", "key"] {
                if let Ok(found) =
                    fastd_conf::single_string_statement(&text, keyword, Includes::Skip)
                {
                    match Secret::from_fastd_hex(&found.value) {
                        Ok(secret) => {
                            let public = secret.wireguard_public_key();
                            let back =
                                Secret::from_wireguard_base64(&secret.expose_wireguard_base64())
                                    .expect("a translated secret reads back");
                            assert_eq!(back.wireguard_public_key(), public);
                        }
                        Err(e) => signature.push(without_digits(&e.to_string())),
                    }
                }
            }
            signature.push(format!("{:?}", formats::check_fastd(&text).is_ok()));
            signature.push(format!("{:?}", formats::check_fastd_peer(&text).is_ok()));
            Exec::Ran(hash(signature.join("\n").as_bytes()))
        })
    },
};
