//! The sites `gluonvpn migrate --to v2025.1` carries forward, judged by real
//! Gluon v2025.1's own site checks rather than by gluonvpn's reproduction of
//! them. Opt-in: it needs a Gluon v2025.1.3 source tree, Lua 5.1 and
//! lua-cjson:
//!
//! ```sh
//! git --git-dir=PATH/TO/gluon.git archive v2025.1.3 | tar -x -C /var/tmp/gluon-v2025.1.3
//! apt-get install lua5.1 lua-cjson
//! GLUONVPN_GLUON_SOURCE=/var/tmp/gluon-v2025.1.3 cargo test --test gluon_checks -- --nocapture
//! ```
//!
//! For every corpus site that migrate brings to "accepted" at v2025.1
//! (tests/migrate_corpus.reviewed), the migrated site goes through what
//! Gluon's build does before its checks: `scripts/site_config.lua` turns
//! site.conf and each domain file into JSON (package gluon-site), each
//! domain's names become aliases (`scripts/domain_aliases.lua`), and each
//! package's `check_site.lua` runs through gluon-core's `check-site.lua` with
//! `gluon/validator.lua`, as the packages' postinst does. Two stand-ins:
//! lua-cjson behind the `jsonc` interface (OpenWrt's lua-jsonc is a C module
//! of OpenWrt), and the list of packages whose checks run, which is
//! gluonvpn's package selection (it agrees with Gluon's on the whole corpus,
//! tests/corpus.rs). make and the target configuration are not run here
//! (tests/gluon_offline.rs does that for an example site).

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/tools.rs"]
mod tools;
#[path = "support/trees.rs"]
mod trees;

use gluonvpn::check::{check, CheckOptions};
use gluonvpn::gluon_version::GluonVersion;
use gluonvpn::migrate;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `jsonc` as Gluon's scripts use it, over lua-cjson.
const JSONC_SHIM: &str = r#"local cjson = require 'cjson'
cjson.encode_sparse_array(true)
local M = {}
function M.stringify(value) return cjson.encode(value) end
function M.parse(text) return cjson.decode(text) end
function M.load(path)
	local file = io.open(path)
	if not file then return nil end
	local text = file:read('*a')
	file:close()
	return cjson.decode(text)
end
return M
"#;

/// Runs lua5.1 in the Gluon tree with modules from `lua_dirs`: whether it
/// succeeded, its standard output and error.
fn lua(
    gluon: &Path,
    lua_dirs: &[&Path],
    env: &[(&str, &Path)],
    args: &[&str],
    stdin: Option<&Path>,
) -> (bool, String, String) {
    let lua_path: String = lua_dirs
        .iter()
        .map(|dir| format!("{}/?.lua;", dir.display()))
        .collect();
    let mut command = Command::new("lua5.1");
    command
        .args(args)
        .current_dir(gluon)
        .env("LUA_PATH", format!("{lua_path};"))
        .stdin(match stdin {
            Some(path) => Stdio::from(std::fs::File::open(path).expect("stdin file")),
            None => Stdio::null(),
        });
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("lua5.1 runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A config file as package gluon-site makes it: JSON from Gluon's
/// site_config.lua.
fn site_json(
    gluon: &Path,
    shim: &Path,
    site: &Path,
    config: &str,
    out: &Path,
) -> Result<(), String> {
    let (ok, stdout, stderr) = lua(
        gluon,
        &[shim],
        &[("GLUON_SITEDIR", site)],
        &[
            "-e",
            &format!(
                "print(require('jsonc').stringify(assert(dofile('scripts/site_config.lua')('{config}'))))"
            ),
        ],
        None,
    );
    if !ok {
        return Err(format!("site_config.lua on {config}: {stderr}"));
    }
    std::fs::write(out, stdout).map_err(|e| e.to_string())
}

/// What Gluon's checks say about a site: `Err` with the failing packages'
/// messages.
fn gluon_checks(
    gluon: &Path,
    shim: &Path,
    site: &Path,
    packages: &[String],
    multidomain: bool,
) -> Result<usize, String> {
    let root = tempfile::tempdir().expect("tempdir");
    let lib = root.path().join("lib/gluon");
    let lua_lib = root.path().join("usr/lib/lua/gluon");
    std::fs::create_dir_all(&lib).expect("lib");
    std::fs::create_dir_all(&lua_lib).expect("lua lib");
    let core = gluon.join("package/gluon-core/luasrc");
    std::fs::copy(
        core.join("lib/gluon/check-site.lua"),
        lib.join("check-site.lua"),
    )
    .expect("check-site.lua");
    std::fs::copy(
        core.join("usr/lib/lua/gluon/validator.lua"),
        lua_lib.join("validator.lua"),
    )
    .expect("validator.lua");
    site_json(gluon, shim, site, "site.conf", &lib.join("site.json"))?;
    if multidomain {
        let domains = lib.join("domains");
        std::fs::create_dir(&domains).expect("domains");
        let mut files: Vec<PathBuf> = std::fs::read_dir(site.join("domains"))
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        files.sort();
        for file in files {
            let code = file
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            let json = domains.join(format!("{code}.json"));
            site_json(gluon, shim, site, &format!("domains/{code}.conf"), &json)?;
            let (ok, aliases, stderr) = lua(
                gluon,
                &[shim],
                &[],
                &["scripts/domain_aliases.lua", &json.display().to_string()],
                None,
            );
            if !ok {
                return Err(format!("domain_aliases.lua on {code}: {stderr}"));
            }
            for alias in aliases.lines().filter(|a| *a != code) {
                std::os::unix::fs::symlink(
                    format!("{code}.json"),
                    domains.join(format!("{alias}.json")),
                )
                .map_err(|e| format!("alias {alias} of {code}: {e}"))?;
            }
        }
    }
    let mut ran = 0;
    let mut failures = Vec::new();
    for package in packages {
        let check_site = gluon.join("package").join(package).join("check_site.lua");
        if !check_site.is_file() {
            continue;
        }
        let (ok, _, stderr) = lua(
            gluon,
            &[&root.path().join("usr/lib/lua"), shim],
            &[("IPKG_INSTROOT", root.path())],
            &[&lib.join("check-site.lua").display().to_string()],
            Some(&check_site),
        );
        ran += 1;
        if !ok {
            failures.push(format!("{package}: {}", stderr.trim()));
        }
    }
    if failures.is_empty() {
        Ok(ran)
    } else {
        Err(failures.join("\n"))
    }
}

/// What both tests need: the Gluon tree, the corpus and the `jsonc` shim;
/// `None` (after saying why) when the opt-in is not given or the corpus is
/// not there.
struct Harness {
    gluon: PathBuf,
    corpus: PathBuf,
    shim: tempfile::TempDir,
}

impl Harness {
    fn new(test: &str, what: &str) -> Option<Harness> {
        let Some(gluon) = std::env::var_os("GLUONVPN_GLUON_SOURCE").map(PathBuf::from) else {
            eprintln!("{test}: SKIPPED: opt-in, set GLUONVPN_GLUON_SOURCE to a Gluon v2025.1.3 tree (see the file's header)");
            return None;
        };
        assert!(
            gluon
                .join("package/gluon-core/luasrc/lib/gluon/check-site.lua")
                .is_file(),
            "{} is no Gluon tree",
            gluon.display()
        );
        let cjson = Command::new("lua5.1")
            .args(["-e", "require 'cjson'"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(cjson, "{test} needs lua5.1 and lua-cjson");
        let corpus = corpus::corpus(what)?;
        let shim = tempfile::tempdir().expect("tempdir");
        std::fs::write(shim.path().join("jsonc.lua"), JSONC_SHIM).expect("shim");
        Some(Harness {
            gluon,
            corpus,
            shim,
        })
    }
}

#[test]
fn migrated_corpus_sites_pass_gluons_own_checks() {
    let Some(harness) = Harness::new(
        "migrated_corpus_sites_pass_gluons_own_checks",
        "GLUON'S OWN CHECKS ON MIGRATED SITES",
    ) else {
        return;
    };
    let (gluon, corpus, shim) = (&harness.gluon, &harness.corpus, &harness.shim);
    let reviewed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrate_corpus.reviewed"),
    )
    .expect("tests/migrate_corpus.reviewed");
    let accepted: Vec<&str> = reviewed
        .lines()
        .filter_map(|l| l.strip_suffix(" v2025.1: accepted"))
        .collect();
    assert!(accepted.len() >= 10, "{accepted:?}");

    let to = GluonVersion::V2025_1;
    let mut problems = Vec::new();
    let mut checks = 0;
    for name in &accepted {
        let original = corpus.join(name);
        let dir = tempfile::tempdir().expect("tempdir");
        let site = dir.path().join("site");
        trees::copy_tree(&original, &site);
        let plan =
            migrate::plan(&original, to, None, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        plan.write(&site).expect("writes");
        let outcome = check(&site, &CheckOptions::new(to)).expect("checks");
        assert!(outcome.gluon_ok(), "{name}: gluonvpn's own verdict changed");
        let packages: Vec<String> = outcome.checked_packages.iter().cloned().collect();
        match gluon_checks(
            gluon,
            shim.path(),
            &site,
            &packages,
            outcome.site.multidomain,
        ) {
            Ok(ran) => {
                eprintln!("{name}: Gluon v2025.1's checks of {ran} packages pass");
                checks += ran;
            }
            Err(e) => problems.push(format!("{name}:\n{e}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(checks > accepted.len() * 5, "{checks} package checks ran");
}

/// The harness tells a site Gluon rejects: on every corpus site whose
/// recorded v2025.1.3 checks fail (MANIFEST.json, obtained with Gluon's own
/// scripts), exactly the packages recorded as failing fail here.
#[test]
fn the_originals_gluon_rejects_fail_here_in_the_same_packages() {
    let Some(harness) = Harness::new(
        "the_originals_gluon_rejects_fail_here_in_the_same_packages",
        "GLUON'S OWN CHECKS ON THE ORIGINAL SITES",
    ) else {
        return;
    };
    let (gluon, corpus, shim) = (&harness.gluon, &harness.corpus, &harness.shim);
    let manifest = corpus::manifest(corpus);
    let mut compared = 0;
    let mut problems = Vec::new();
    for entry in manifest.as_array().expect("list") {
        let results = entry["gluon_verdicts"]["v2025.1.3"]["results"]
            .as_array()
            .expect("results");
        let recorded = |ok: bool| -> std::collections::BTreeSet<String> {
            results
                .iter()
                .filter(|r| r["ok"] == ok)
                .filter_map(|r| r["package"].as_str().map(str::to_string))
                .collect()
        };
        let failing = recorded(false);
        if failing.is_empty() {
            continue;
        }
        let name = entry["name"].as_str().expect("name");
        let site = corpus.join(name);
        // Where make stopped the build, the recording could not know
        // GLUON_MULTIDOMAIN and checked site.conf alone.
        let verdict = &entry["gluon_verdicts"]["v2025.1.3"];
        let multidomain = entry["multidomain"] == true && verdict["stopped_at"].is_null();
        let packages: Vec<String> = failing.iter().chain(&recorded(true)).cloned().collect();
        let said = gluon_checks(gluon, shim.path(), &site, &packages, multidomain)
            .err()
            .unwrap_or_default();
        let failed_here: std::collections::BTreeSet<String> = said
            .lines()
            .filter_map(|l| l.split_once(": *** ").map(|(p, _)| p.to_string()))
            .collect();
        if failed_here != failing {
            problems.push(format!(
                "{name}: Gluon's checks failed in {failing:?}, here in {failed_here:?}"
            ));
        }
        // And with the same first error, up to the domain Lua's table order
        // puts first (corpus README).
        for r in results.iter().filter(|r| r["ok"] == false) {
            let (Some(package), Some(error)) = (r["package"].as_str(), r["error"].as_str()) else {
                continue;
            };
            let stem = error.split("domains/").next().unwrap_or(error);
            if !said.contains(&format!("{package}: *** {stem}")) {
                problems.push(format!("{name}: {package} said {error:?}; here:\n{said}"));
            }
        }
        compared += 1;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(compared >= 10, "{compared} rejected originals compared");
}
