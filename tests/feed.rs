//! The agents feed's package Makefiles follow the conventions of
//! openwrt/packages' Rust packages (admin/bottom, net/gping,
//! net/aardvark-dns, … at the commit Gluon v2025.1.3 pins): read as text
//! and evaluated by GNU make against stand-ins for OpenWrt's include files.

use gluonvpn::build::feed;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A gluonvpn-like workspace with both agents.
fn workspace(dir: &Path) {
    write(
        dir,
        "Cargo.toml",
        "[workspace]\nmembers = [\".\", \"agents/wgpeerselector\", \"agents/wireguard-vxlan-glue\"]\n\n\
         [workspace.package]\nversion = \"0.1.0\"\nlicense = \"GPL-3.0-or-later\"\n\n\
         [package]\nname = \"gluonvpn\"\nversion = \"0.1.0\"\n",
    );
    write(dir, "Cargo.lock", "version = 4\n");
    write(dir, "src/main.rs", "fn main() {}\n");
    for name in ["wgpeerselector", "wireguard-vxlan-glue"] {
        write(
            dir,
            &format!("agents/{name}/Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion.workspace = true\nlicense.workspace = true\n\n[features]\nubus = []\n"),
        );
        write(dir, &format!("agents/{name}/src/main.rs"), "fn main() {}\n");
    }
}

/// The feed for both agents, written into a temporary directory.
fn feed() -> (tempfile::TempDir, tempfile::TempDir, feed::Rendered) {
    let ws = tempfile::tempdir().unwrap();
    workspace(ws.path());
    let agents: Vec<&'static feed::Agent> = feed::AGENTS.iter().collect();
    let source = feed::read_source(ws.path(), &agents).unwrap();
    let rendered = feed::render(&source, &agents).unwrap();
    let dir = tempfile::tempdir().unwrap();
    feed::write(dir.path(), &source, &rendered).unwrap();
    (ws, dir, rendered)
}

/// A package Makefile as make sees its top level: `VAR:=value` lines,
/// additions to cargo's environment (`CARGO_PKG_VARS+=NAME=value`), includes
/// and `$(eval …)` lines in order, and `define` blocks.
struct Parsed {
    order: Vec<String>,
    vars: BTreeMap<String, String>,
    cargo_env: Vec<(String, String)>,
    defines: BTreeMap<String, Vec<String>>,
}

fn parse(text: &str) -> Parsed {
    let mut order = Vec::new();
    let mut vars = BTreeMap::new();
    let mut cargo_env = Vec::new();
    let mut defines = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        if let Some((name, body)) = current.as_mut() {
            if line == "endef" {
                defines.insert(name.clone(), std::mem::take(body));
                current = None;
            } else {
                body.push(line.to_string());
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("define ") {
            current = Some((name.trim().to_string(), Vec::new()));
            order.push(format!("define {}", name.trim()));
        } else if let Some(path) = line.strip_prefix("include ") {
            order.push(format!("include {path}"));
        } else if line.starts_with("$(eval ") {
            order.push(line.to_string());
        } else if let Some((name, value)) = line
            .strip_prefix("CARGO_PKG_VARS+=")
            .and_then(|l| l.split_once('='))
        {
            order.push("add CARGO_PKG_VARS".to_string());
            cargo_env.push((name.trim().to_string(), value.trim().to_string()));
        } else if let Some((name, value)) = line.split_once(":=") {
            order.push(format!("set {}", name.trim()));
            vars.insert(name.trim().to_string(), value.trim().to_string());
        } else {
            panic!("unexpected top-level line: {line:?}");
        }
    }
    assert!(current.is_none(), "unterminated define");
    Parsed {
        order,
        vars,
        cargo_env,
        defines,
    }
}

/// A field of `define Package/<name>` (`  DEPENDS:=…`).
fn field(body: &[String], name: &str) -> Option<String> {
    body.iter().find_map(|l| {
        l.trim()
            .strip_prefix(&format!("{name}:="))
            .map(str::to_string)
    })
}

#[test]
fn package_makefiles_follow_the_rust_packaging_conventions() {
    let (_ws, dir, rendered) = feed();
    assert_eq!(rendered.packages.len(), 2);
    for (agent, pkg_dir, _) in &rendered.packages {
        let text = std::fs::read_to_string(dir.path().join(pkg_dir).join("Makefile")).unwrap();
        let p = parse(&text);
        let name = agent.package;
        assert_eq!(p.vars["PKG_NAME"], name);
        for required in ["PKG_VERSION", "PKG_RELEASE", "PKG_LICENSE"] {
            assert!(!p.vars[required].is_empty(), "{name}: {required}");
        }
        // The Rust toolchain is a build dependency; cargo runs --locked
        // (rust-package.mk's default), from ./src: nothing is downloaded
        // by the package itself.
        assert_eq!(p.vars["PKG_BUILD_DEPENDS"], "rust/host");
        assert!(
            !p.vars.contains_key("RUST_PKG_LOCKED"),
            "{name}: --locked stays on"
        );
        assert!(!p.vars.contains_key("PKG_SOURCE"), "{name}");
        assert!(!p.vars.contains_key("PKG_SOURCE_URL"), "{name}");
        // Includes in the order of openwrt/packages' Rust packages, the Rust
        // support reached through the packages feed from another feed.
        let pos = |item: &str| {
            p.order
                .iter()
                .position(|o| o == item)
                .unwrap_or_else(|| panic!("{name}: no {item:?} in {:?}", p.order))
        };
        let rules = pos("include $(TOPDIR)/rules.mk");
        let package = pos("include $(INCLUDE_DIR)/package.mk");
        let rust = pos("include $(TOPDIR)/feeds/packages/lang/rust/rust-package.mk");
        assert!(rules < package && package < rust, "{name}: {:?}", p.order);
        assert!(pos("set PKG_NAME") < package && pos("set PKG_BUILD_DEPENDS") < package);
        // The size profile replaces rust-values.mk's choice, so it is set
        // after the include.
        assert_eq!(p.vars["CARGO_PKG_PROFILE"], "agent");
        assert!(pos("set CARGO_PKG_PROFILE") > rust);
        assert_eq!(p.vars["MAKE_PATH"], format!("agents/{}", agent.name));
        // cargo features: the variable rust-package.mk reads, comma-separated
        match agent.cargo_features {
            [] => assert!(!p.vars.contains_key("RUST_PKG_FEATURES"), "{name}"),
            features => assert_eq!(p.vars["RUST_PKG_FEATURES"], features.join(","), "{name}"),
        }
        let cargo_env: Vec<(&str, &str)> = p
            .cargo_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(cargo_env, agent.build_env, "{name}");
        // added to rust-package.mk's, so after its include
        if !cargo_env.is_empty() {
            assert!(pos("add CARGO_PKG_VARS") > rust, "{name}");
        }
        assert!(dir
            .path()
            .join(pkg_dir)
            .join("src")
            .join(&p.vars["MAKE_PATH"])
            .join("Cargo.toml")
            .is_file());
        assert!(dir.path().join(pkg_dir).join("src/Cargo.lock").is_file());
        // The package definition.
        let def = &p.defines[&format!("Package/{name}")];
        let depends = field(def, "DEPENDS").unwrap();
        assert!(
            depends.starts_with("$(RUST_ARCH_DEPENDS)"),
            "{name}: {depends}"
        );
        for f in ["SECTION", "CATEGORY", "TITLE"] {
            assert!(field(def, f).is_some(), "{name}: {f}");
        }
        assert!(p
            .defines
            .contains_key(&format!("Package/{name}/description")));
        let install = &p.defines[&format!("Package/{name}/install")];
        assert!(install.iter().all(|l| l.starts_with('\t')), "{install:?}");
        assert!(install
            .iter()
            .any(|l| l.contains(&format!("$(PKG_INSTALL_DIR)/bin/{}", agent.name))));
        // The last two statements, as in every Rust package of the feed.
        let n = p.order.len();
        assert_eq!(
            p.order[n - 2..],
            [
                format!("$(eval $(call RustBinPackage,{name}))"),
                format!("$(eval $(call BuildPackage,{name}))"),
            ]
        );
        // The replacement of Gluon's Lua agent: PROVIDES, and no CONFLICTS
        // (a recursive Kconfig dependency with Gluon's `+wgpeerselector`;
        // see feed::Agent::replaces).
        if let Some(lua) = agent.replaces {
            assert_eq!(field(def, "PROVIDES").as_deref(), Some(lua));
        }
        assert_eq!(field(def, "CONFLICTS"), None);
        // The node agent: the status on ubus, as the Lua one has it, with
        // OpenWrt's libubus and libubox (from the staging directory at build
        // time, in the image at run time).
        if agent.name == "wgpeerselector" {
            assert_eq!(p.vars["RUST_PKG_FEATURES"], "ubus");
            assert_eq!(
                depends,
                "$(RUST_ARCH_DEPENDS) +kmod-wireguard +libubus +libubox"
            );
            assert_eq!(
                p.cargo_env,
                [(
                    "GLUONVPN_UBUS_PREFIX".to_string(),
                    "$(STAGING_DIR)/usr".to_string()
                )]
            );
        }
        // No host paths: every absolute path starts with a make variable.
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let line: String = line
                .split(' ')
                .filter(|word| !word.contains("://"))
                .collect::<Vec<_>>()
                .join(" ");
            for (at, _) in line.match_indices('/') {
                let before = line[..at].chars().last();
                let absolute = matches!(before, None | Some(' ' | '\t' | '=' | ':' | '"' | '\''));
                assert!(!absolute, "{name}:{}: a host path: {line}", i + 1);
            }
            assert!(!line.contains("../"), "{name}:{}: {line}", i + 1);
        }
    }
}

/// Stand-ins for the OpenWrt files the Makefiles include: enough for make
/// to evaluate a package as OpenWrt's package.mk does (the `Package/<name>`
/// definition evaluated, the install recipe expanded) and print what it
/// got. The Rust stand-in sets CARGO_PKG_PROFILE as rust-values.mk does, so
/// the package's own choice must come after it.
const RULES_MK: &str = "INCLUDE_DIR := $(TOPDIR)/include\nSTAGING_DIR := /staging/target-mips_24kc_musl\nINSTALL_DIR := install -d -m0755\nINSTALL_BIN := install -m0755\nCP := cp -fpR\n";
const PACKAGE_MK: &str = r#"PKG_INSTALL_DIR = $(PKG_BUILD_DIR)/ipkg-install
PKG_BUILD_DIR = /build/$(PKG_NAME)-$(PKG_VERSION)
define BuildPackage
$(eval $(Package/$(1)))
$(info PKG_NAME=$(PKG_NAME))
$(info PKG_VERSION=$(PKG_VERSION))
$(info CARGO_PKG_PROFILE=$(CARGO_PKG_PROFILE))
$(info MAKE_PATH=$(MAKE_PATH))
$(info DEPENDS=$(DEPENDS))
$(info PROVIDES=$(PROVIDES))
$(info RUST_PKG_FEATURES=$(RUST_PKG_FEATURES))
$(info CARGO_PKG_VARS=$(strip $(CARGO_PKG_VARS)))
$(info INSTALL=$(strip $(call Package/$(1)/install,/root)))
endef
all: ;
"#;
const RUST_PACKAGE_MK: &str = "RUST_ARCH_DEPENDS:=@(aarch64||arm||mips||x86_64)\nCARGO_PKG_PROFILE:=release\nCARGO_PKG_VARS= CARGO_BUILD_TARGET=mips-unknown-linux-musl RUSTFLAGS=\"-Ctarget-feature=-crt-static\" CC=gcc\nRustBinPackage = $(info RustBinPackage=$(1))\n";

/// Each package Makefile of the feed evaluated by make against the
/// stand-ins: the variables the stand-in package.mk prints, per agent.
fn evaluate_makefiles() -> Vec<(&'static feed::Agent, BTreeMap<String, String>)> {
    let (_ws, dir, rendered) = feed();
    let top = tempfile::tempdir().unwrap();
    write(top.path(), "rules.mk", RULES_MK);
    write(top.path(), "include/package.mk", PACKAGE_MK);
    write(
        top.path(),
        "feeds/packages/lang/rust/rust-package.mk",
        RUST_PACKAGE_MK,
    );
    let mut all = Vec::new();
    for (agent, pkg_dir, _) in &rendered.packages {
        let out = Command::new("make")
            .current_dir(dir.path().join(pkg_dir))
            .args(["-s", "--no-print-directory", "-f", "Makefile"])
            .arg(format!("TOPDIR={}", top.path().display()))
            .env_remove("MAKEFLAGS")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {}{stdout}",
            agent.package,
            String::from_utf8_lossy(&out.stderr)
        );
        let got = stdout
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        all.push((*agent, got));
    }
    all
}

#[test]
fn package_makefiles_evaluate_in_make() {
    for (agent, got) in evaluate_makefiles() {
        assert_eq!(got["PKG_NAME"], agent.package);
        assert_eq!(got["PKG_VERSION"], "0.1.0");
        assert_eq!(got["RustBinPackage"], agent.package);
        assert_eq!(got["CARGO_PKG_PROFILE"], "agent");
        assert_eq!(got["MAKE_PATH"], format!("agents/{}", agent.name));
        assert!(
            got["DEPENDS"].starts_with("@(aarch64||arm||mips||x86_64) +kmod-wireguard"),
            "{}",
            got["DEPENDS"]
        );
        assert_eq!(got["PROVIDES"], agent.replaces.unwrap_or(""));
        assert_eq!(got["RUST_PKG_FEATURES"], agent.cargo_features.join(","));
        // the environment of cargo, so of the build script: rust-package.mk's
        // and the agent's additions
        let mut cargo_env =
            "CARGO_BUILD_TARGET=mips-unknown-linux-musl RUSTFLAGS=\"-Ctarget-feature=-crt-static\" CC=gcc"
                .to_string();
        if agent.name == "wgpeerselector" {
            cargo_env += " GLUONVPN_UBUS_PREFIX=/staging/target-mips_24kc_musl/usr";
        }
        assert_eq!(got["CARGO_PKG_VARS"], cargo_env, "{}", agent.package);
        assert!(
            got["INSTALL"].contains(&format!(
                "install -m0755 /build/{}-0.1.0/ipkg-install/bin/{} /root/usr/bin/",
                agent.package, agent.name
            )),
            "{}",
            got["INSTALL"]
        );
    }
}

/// The feed's `features` file is what Gluon's feature_lib reads: one
/// `feature()` for the switch, one `when()` per agent.
#[test]
fn the_features_file() {
    let (_ws, dir, _) = feed();
    let text = std::fs::read_to_string(dir.path().join("features")).unwrap();
    let statements: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("--") && !l.trim().is_empty())
        .collect();
    assert_eq!(
        statements,
        [
            "feature('gluonvpn-agents', {})",
            "when(_'gluonvpn-agents' and _'mesh-vpn-wireguard', {'gluonvpn-wgpeerselector'})",
            "when(_'gluonvpn-agents', {'gluonvpn-wireguard-vxlan-glue'})",
        ]
    );
    // gluonvpn's own reader of Gluon's feature files accepts it.
    gluonvpn::gluon_data::extract::parse_features(&text).unwrap();
}

/// The feed generated from this very workspace, written to a temporary
/// directory: its notes and the wgpeerselector package's directory there.
fn real_wgpeerselector_package() -> (tempfile::TempDir, Vec<String>, std::path::PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let agents: Vec<&'static feed::Agent> = feed::AGENTS.iter().collect();
    let source = feed::read_source(root, &agents).unwrap();
    let rendered = feed::render(&source, &agents).unwrap();
    let dir = tempfile::tempdir().unwrap();
    feed::write(dir.path(), &source, &rendered).unwrap();
    let package = rendered
        .packages
        .iter()
        .find(|(agent, _, _)| agent.name == "wgpeerselector")
        .expect("the wgpeerselector package");
    let package_dir = dir.path().join(&package.1);
    (dir, rendered.notes.clone(), package_dir)
}

/// The feed built from this very workspace: the node agent brings the netifd
/// protocol handler and the (empty) UCI file of the Lua package it replaces,
/// so Gluon's gluon-mesh-vpn-wireguard can start it by the same name.
#[test]
fn the_real_wgpeerselector_package_replaces_the_lua_one_completely() {
    let (_dir, notes, package_dir) = real_wgpeerselector_package();
    assert!(
        notes.iter().all(|n| !n.contains("wgpeerselector")),
        "{notes:?}"
    );
    let files = package_dir.join("files");
    let proto = files.join("lib/netifd/proto/wgpeerselector.sh");
    assert!(proto.is_file(), "{} missing", proto.display());
    assert!(files.join("etc/config/wgpeerselector").is_file());
    let syntax = std::process::Command::new("sh")
        .arg("-n")
        .arg(&proto)
        .status()
        .unwrap();
    assert!(syntax.success());
    let text = std::fs::read_to_string(&proto).unwrap();
    assert!(
        text.contains("add_protocol wgpeerselector") && text.contains("/usr/bin/wgpeerselector")
    );
}

/// The book's example (agents-feed.md, the first `make` block) is the
/// Makefile generated for this workspace's wgpeerselector, word for word.
#[test]
fn the_books_example_makefile_is_the_generated_one() {
    let (_dir, _, package_dir) = real_wgpeerselector_package();
    let generated = std::fs::read_to_string(package_dir.join("Makefile")).unwrap();
    // after the header comment, which names the source's hash
    let generated = &generated[generated.find("include ").unwrap()..];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let book = std::fs::read_to_string(root.join("book/src/agents-feed.md")).unwrap();
    let start = book
        .find("```make\n")
        .expect("a make block in agents-feed.md")
        + "```make\n".len();
    let end = start + book[start..].find("```").unwrap();
    assert_eq!(
        &book[start..end],
        generated,
        "book/src/agents-feed.md's example differs from the generated Makefile"
    );
}

/// `.ci/cross` (book: Performance, "On the routers' CPUs") builds the agents
/// as the feed's Makefiles have OpenWrt build them: the same profile, the
/// same cargo features per agent, the link mode of rust-values.mk's
/// RUSTFLAGS (`-crt-static`: dynamic against musl) and the crate each
/// Makefile's MAKE_PATH names.
#[test]
fn the_cross_build_builds_like_the_package_makefiles() {
    let script = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/cross"))
        .expect(".ci/cross");
    let assignment = |name: &str| -> String {
        let prefix = format!("{name}=");
        let line = script
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!(".ci/cross sets no {name}"));
        line[prefix.len()..].trim_matches('"').to_string()
    };
    // `declare -A NAME=([key]=value …)`
    let table = |name: &str| -> BTreeMap<String, String> {
        let prefix = format!("declare -A {name}=(");
        let line = script
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!(".ci/cross declares no {name}"));
        line[prefix.len()..]
            .trim_end_matches(')')
            .split_whitespace()
            .map(|entry| {
                let (key, value) = entry.split_once("]=").expect("[key]=value");
                (key.trim_start_matches('[').to_string(), value.to_string())
            })
            .collect()
    };
    let profile = assignment("profile");
    let rustflags = assignment("openwrt_rustflags");
    let features = table("feed_features");
    let packages = table("package");
    let makefiles = evaluate_makefiles();
    assert_eq!(features.len(), makefiles.len(), "{features:?}");
    for (agent, got) in makefiles {
        assert_eq!(got["CARGO_PKG_PROFILE"], profile, "{}", agent.name);
        assert_eq!(
            features[agent.name].replace(' ', ","),
            got["RUST_PKG_FEATURES"],
            "{}",
            agent.name
        );
        assert!(
            got["CARGO_PKG_VARS"].contains(&format!("RUSTFLAGS=\"{rustflags}\"")),
            "{}: {}",
            agent.name,
            got["CARGO_PKG_VARS"]
        );
        // the cargo package the script builds is the crate MAKE_PATH names
        let manifest = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(&got["MAKE_PATH"])
                .join("Cargo.toml"),
        )
        .unwrap();
        assert!(
            manifest.contains(&format!("name = \"{}\"\n", packages[agent.name])),
            "{}: {}",
            agent.name,
            packages[agent.name]
        );
    }
}

/// The release-profile overrides of openwrt/packages' rust-values.mk
/// (CARGO_PKG_CONFIG_VARS, at the commit Gluon v2025.1 pins): a profile
/// that inherits from release gets them wherever it does not spell the
/// setting out.
const OPENWRT_RELEASE_OVERRIDES: &[&str] = &[
    "CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1",
    "CARGO_PROFILE_RELEASE_DEBUG=false",
    "CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=false",
    "CARGO_PROFILE_RELEASE_LTO=true",
    "CARGO_PROFILE_RELEASE_OPT_LEVEL=z",
    "CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true",
    "CARGO_PROFILE_RELEASE_PANIC=unwind",
    "CARGO_PROFILE_RELEASE_RPATH=false",
];

/// The agent profile spells out every setting OpenWrt overrides on the
/// release profile, and `.ci/cross` builds with those overrides in the
/// environment, as OpenWrt does.
#[test]
fn openwrts_release_overrides_do_not_reach_the_agent_profile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    let agent = manifest["profile"]["agent"]
        .as_table()
        .expect("[profile.agent]");
    for var in OPENWRT_RELEASE_OVERRIDES {
        let (name, _) = var.split_once('=').unwrap();
        let key = name
            .trim_start_matches("CARGO_PROFILE_RELEASE_")
            .to_lowercase()
            .replace('_', "-");
        assert!(
            agent.contains_key(&key),
            "[profile.agent] does not set {key} ({var})"
        );
    }
    let script = std::fs::read_to_string(root.join(".ci/cross")).unwrap();
    let line = script
        .lines()
        .find_map(|l| l.strip_prefix("openwrt_release_overrides=("))
        .expect(".ci/cross: openwrt_release_overrides");
    let exported: Vec<&str> = line.trim_end_matches(')').split_whitespace().collect();
    assert_eq!(exported, OPENWRT_RELEASE_OVERRIDES);
}
