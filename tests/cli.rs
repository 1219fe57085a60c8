//! The gluonvpn binary as a user runs it: exit status, output formats,
//! colour, and what happens with broken or hostile sites.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gluonvpn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("runs gluonvpn")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("site-examples")
        .join(name)
}

const SEED: &str = "1f3a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a";

/// A site directory written by the test.
struct TestSite {
    dir: tempfile::TempDir,
}

impl TestSite {
    fn new(site_conf: &str) -> TestSite {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("site.conf"), site_conf).expect("write");
        std::fs::write(dir.path().join("site.mk"), "GLUON_RELEASE := 1.0\n").expect("write");
        std::fs::write(
            dir.path().join("image-customization.lua"),
            "features { 'mesh-batman-adv-15' }\n",
        )
        .expect("write");
        TestSite { dir }
    }

    fn file(self, name: &str, text: &str) -> TestSite {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
        self
    }

    fn path(&self) -> &str {
        self.dir.path().to_str().expect("utf-8 temp path")
    }
}

/// The first diagnostic with `code` in a JSON document.
fn find_code<'d>(doc: &'d serde_json::Value, code: &str) -> &'d serde_json::Value {
    doc["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {doc:#}"))
}

fn valid_site_conf(extra: &str) -> String {
    format!(
        "{{\n  site_code = 'fft', site_name = 'Test', timezone = 'UTC',\n  domain_seed = '{SEED}',\n  prefix6 = 'fd00::/64',\n  mesh = {{ vxlan = true, batman_adv = {{ routing_algo = 'BATMAN_IV' }} }},\n{extra}}}\n"
    )
}

#[test]
fn the_examples_are_clean_and_exit_zero() {
    for name in ["fastd", "wireguard", "multidomain"] {
        let out = gluonvpn(&["check", example(name).to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stdout(&out));
        assert!(
            stdout(&out).contains("0 errors"),
            "{name}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn a_site_conf_path_works_like_its_directory() {
    let conf = example("fastd").join("site.conf");
    let out = gluonvpn(&["check", conf.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn problems_exit_one_and_name_file_line_and_column() {
    let site = TestSite::new(&valid_site_conf(
        "  mesh_vpn = { fastd = { mtu = 'big' } },\n",
    ))
    .file(
        "image-customization.lua",
        "features { 'mesh-batman-adv-15', 'mesh-vpn-fastd' }\n",
    );
    let out = gluonvpn(&["check", site.path()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    // every problem, not just the first
    assert!(
        text.contains("expected mesh_vpn.fastd.methods to be an array, but it is unset"),
        "{text}"
    );
    assert!(
        text.contains(
            "expected mesh_vpn.fastd.mtu to be a number, but it is \"big\" (a string value)"
        ),
        "{text}"
    );
    assert!(text.contains("site.conf:6:32"), "{text}");
    assert!(text.contains("a Gluon build would fail"), "{text}");
}

#[test]
fn lua_syntax_errors_name_the_line() {
    let site = TestSite::new("{\n  site_code = 'x',\n  site_name = %SITE_NAME%,\n}\n");
    let out = gluonvpn(&["check", site.path()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("GS001"), "{text}");
    assert!(text.contains("site.conf:3:1"), "{text}");
    assert!(text.contains("unexpected symbol near '%'"), "{text}");
}

#[test]
fn hostile_lua_ends_in_an_error_not_a_hang() {
    let cases = [
        ("(function() while true do end end)()", "GS003"),
        ("('x'):rep(2^30)", "GS003"),
        ("{ x = os.execute('touch /tmp/gluonvpn-pwned') }", "GS002"),
        ("{ x = io.open('/etc/passwd') }", "GS002"),
        ("{ x = require('os') }", "GS002"),
        // one C call that backtracks for ages: only the watchdog can stop it
        ("{ x = ('a'):rep(40):find(('a*'):rep(40) .. 'b') }", "GS003"),
    ];
    for (conf, code) in cases {
        let site = TestSite::new(conf);
        let started = std::time::Instant::now();
        let out = gluonvpn(&["check", site.path(), "--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "{conf}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let codes: Vec<&str> = doc["diagnostics"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        assert!(codes.contains(&code), "{conf}: {codes:?}");
        if code == "GS003" {
            // Stopped, so not evaluated: whether Gluon would pass is unknown.
            assert!(doc["gluon_ok"].is_null(), "{conf}: {}", doc["gluon_ok"]);
        }
        // generous bound: the limits are seconds, a hang would be forever
        assert!(started.elapsed().as_secs() < 60, "{conf}");
    }
    assert!(!Path::new("/tmp/gluonvpn-pwned").exists());
}

#[test]
fn broken_site_mk_is_reported_at_its_line() {
    let site = TestSite::new(&valid_site_conf("")).file(
        "site.mk",
        "GLUON_RELEASE := 1\nifeq ($(GLUON_TARGET),x86-64)\n",
    );
    let out = gluonvpn(&["check", site.path(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = find_code(&doc, "GS010");
    assert_eq!(d["file"], "site.mk");
    assert_eq!(d["message"], "missing 'endif'");
}

#[test]
fn broken_image_customization_is_reported_at_its_line() {
    let site = TestSite::new(&valid_site_conf("")).file(
        "image-customization.lua",
        "features { 'mesh-batman-adv-15' }\n\nif device_class('tiny') then\n  packages('iwinfo')\nend\n",
    );
    let out = gluonvpn(&["check", site.path(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = find_code(&doc, "GS013");
    assert_eq!(d["file"], "image-customization.lua");
    assert_eq!(d["line"], 4);
    assert_eq!(
        d["message"],
        "incorrect use of packages(): list of packages expected as argument"
    );
}

#[test]
fn gluon_features_in_site_mk_depend_on_the_release() {
    let site = TestSite::new(&valid_site_conf("")).file(
        "site.mk",
        "GLUON_RELEASE := 1\nGLUON_FEATURES := mesh-batman-adv-15\n",
    );
    let new = gluonvpn(&["check", site.path(), "--gluon-version", "v2023.2"]);
    assert_eq!(new.status.code(), Some(1));
    assert!(stdout(&new).contains("site.mk:2:1"), "{}", stdout(&new));
    assert!(
        stdout(&new).contains("GLUON_FEATURES is obsolete"),
        "{}",
        stdout(&new)
    );
    let old = gluonvpn(&["check", site.path(), "--gluon-version", "2023.1"]);
    assert_eq!(old.status.code(), Some(0), "{}", stdout(&old));
}

/// `--gluon-version all`: each release's verdict and what it needs, in
/// every format; a finding several releases share once, with them.
#[test]
fn every_release_at_once_gives_each_its_verdict() {
    // Written for v2023.1: GLUON_FEATURES in site.mk, image-customization.lua
    // missing; and one mistake every release reports.
    let site = TestSite::new(&valid_site_conf(
        "  wifi24 = { channel = 15 },\n  regdom = 'DE',\n",
    ))
    .file(
        "site.mk",
        "GLUON_RELEASE := 1\nGLUON_FEATURES := mesh-batman-adv-15\n",
    );
    std::fs::remove_file(site.dir.path().join("image-customization.lua")).expect("rm");

    let human = gluonvpn(&[
        "check",
        site.path(),
        "--gluon-version",
        "all",
        "--gluon-only",
    ]);
    assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
    let text = stdout(&human);
    assert!(text.contains("4 Gluon releases: 4 would fail"), "{text}");
    assert!(
        text.contains("  v2023.2  fails   3 errors, 0 warnings; not written for it: site.mk sets GLUON_FEATURES"),
        "{text}"
    );
    assert!(
        text.contains("           needs: GS011 GLUON_FEATURES is obsolete, please use the image-customization.lua file instead"),
        "{text}"
    );
    assert!(text.contains("only with Gluon v2023.2, v2025.1"), "{text}");
    // The channel is wrong everywhere: one finding, no release note.
    assert_eq!(text.matches("error[GL003").count(), 1, "{text}");
    assert_eq!(
        text.matches("needs: GL003 expected wifi24.channel").count(),
        4,
        "{text}"
    );

    let json = gluonvpn(&[
        "check",
        site.path(),
        "--gluon-version",
        "all",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let releases = doc["releases"].as_array().expect("releases");
    let labels: Vec<&str> = releases
        .iter()
        .map(|r| r["gluon_version"].as_str().expect("label"))
        .collect();
    assert_eq!(labels, ["v2022.1", "v2023.1", "v2023.2", "v2025.1"]);
    assert_eq!(doc["gluon_version"], "v2025.1");
    assert_eq!(doc["gluon_ok"], false);
    assert_eq!(releases[0]["fits"], true);
    assert_eq!(releases[2]["fits"], false);
    assert_eq!(
        releases[0]["needs"].as_array().map(Vec::len),
        Some(1),
        "{doc:#}"
    );
    assert_eq!(
        find_code(&doc, "GL003")["gluon_versions"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    assert_eq!(
        find_code(&doc, "GS011")["gluon_versions"],
        serde_json::json!(["v2023.2", "v2025.1"])
    );

    let github = gluonvpn(&[
        "check",
        site.path(),
        "--gluon-version",
        "v2025.1,2023.1",
        "--format",
        "github",
    ]);
    let text = stdout(&github);
    assert!(
        text.contains("title=GS011 obsolete-site-mk-variable (Gluon v2025.1)::"),
        "{text}"
    );
    assert!(
        text.contains("title=GL003 value-not-allowed (Gluon v2023.1%2C v2025.1)::"),
        "{text}"
    );

    // A site all releases accept passes under all of them.
    let clean = gluonvpn(&[
        "check",
        example("fastd").to_str().expect("path"),
        "--gluon-version",
        "all",
        "--gluon-only",
    ]);
    assert!(
        stdout(&clean).contains("4 Gluon releases: 4 would pass"),
        "{}",
        stdout(&clean)
    );
    assert_eq!(clean.status.code(), Some(0));

    let unknown = gluonvpn(&["check", site.path(), "--gluon-version", "v2023.2,v2024.1"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("unknown Gluon version 'v2024.1'"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn json_output_follows_the_documented_schema() {
    let site = TestSite::new(&valid_site_conf(
        "  wifi24 = { channel = 15 },\n  regdom = 'DE',\n",
    ));
    let out = gluonvpn(&["check", site.path(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["gluon_version"], "v2025.1");
    assert_eq!(doc["gluon_ok"], false);
    assert_eq!(doc["summary"]["errors"], 1);
    let d = &doc["diagnostics"][0];
    for field in [
        "code",
        "name",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "path",
        "domain",
        "domains",
        "package",
        "gluon_message",
        "notes",
    ] {
        assert!(d.get(field).is_some(), "missing {field} in {d:#}");
    }
    assert_eq!(d["code"], "GL003");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "wifi24.channel");
    assert_eq!(d["package"], "gluon-core");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(6), Some(24))
    );
    assert_eq!(
        d["gluon_message"],
        "site.conf error: expected wifi24.channel to be one of the given array [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], but it is 15 (a number value)"
    );
}

#[test]
fn no_colour_unless_a_terminal_and_never_with_no_color() {
    let site = TestSite::new("{ }");
    let out = gluonvpn(&["check", site.path()]);
    assert!(
        !stdout(&out).contains('\u{1b}'),
        "escape codes in piped output"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(["check", site.path()])
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert!(!stdout(&out).contains('\u{1b}'));
}

#[test]
fn gluonvpn_itself_failing_exits_two() {
    let out = gluonvpn(&["check", "/nonexistent/site"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no such site directory"),
        "{}",
        stderr(&out)
    );

    let fastd = example("fastd");
    let out = gluonvpn(&[
        "check",
        fastd.to_str().expect("path"),
        "--gluon-version",
        "v2024.1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown Gluon version"),
        "{}",
        stderr(&out)
    );

    let out = gluonvpn(&[
        "check",
        fastd.to_str().expect("path"),
        "--target",
        "nonexistent-target",
    ]);
    assert_eq!(out.status.code(), Some(2));

    let multi = example("multidomain");
    let out = gluonvpn(&["check", multi.to_str().expect("path"), "--domain", "west"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no domain 'west'"),
        "{}",
        stderr(&out)
    );
    // A single-domain site has no domain to pick.
    let out = gluonvpn(&["check", fastd.to_str().expect("path"), "--domain", "west"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("has no domains"), "{}", stderr(&out));
}

#[test]
fn versions_are_accepted_in_every_spelling() {
    let fastd = example("fastd");
    for v in ["v2025.1", "2025.1", "v2025.1.3", "v2022.1.4"] {
        let out = gluonvpn(&[
            "check",
            fastd.to_str().expect("path"),
            "--gluon-version",
            v,
            "--format",
            "json",
        ]);
        assert_ne!(out.status.code(), Some(2), "{v}: {}", stderr(&out));
    }
}

#[test]
fn one_domain_can_be_checked_alone() {
    let site = TestSite::new(
        "{ site_code = 'fft', site_name = 'T', timezone = 'UTC', default_domain = 'a', mesh = { batman_adv = { routing_algo = 'BATMAN_IV' } } }",
    )
    .file("site.mk", "GLUON_RELEASE := 1\nGLUON_MULTIDOMAIN := 1\n")
    .file("domains/a.conf", &format!("{{ domain_names = {{ a = 'A', alpha = 'Alpha' }}, domain_seed = '{SEED}', prefix6 = 'fd00::/64' }}"))
    .file("domains/b.conf", &format!("{{ domain_names = {{ b = 'B' }}, domain_seed = '{SEED}', prefix6 = 'fd00:1::/48' }}"));
    let all = gluonvpn(&["check", site.path()]);
    assert_eq!(all.status.code(), Some(1));
    assert!(stdout(&all).contains("domains/b.conf"), "{}", stdout(&all));
    let only_a = gluonvpn(&["check", site.path(), "--domain", "a"]);
    assert_eq!(only_a.status.code(), Some(0), "{}", stdout(&only_a));
    // An alias from domain_names names its domain, as on a node.
    let alpha = gluonvpn(&["check", site.path(), "--domain", "alpha"]);
    assert_eq!(alpha.status.code(), Some(0), "{}", stderr(&alpha));
    assert_eq!(stdout(&alpha), stdout(&only_a));
}

#[test]
fn gluon_only_drops_gluonvpns_own_findings() {
    let site = TestSite::new(&valid_site_conf(""))
        .file("modules", "GLUON_SITE_FEEDS='community'\n")
        .file(
            "image-customization.lua",
            "features { 'mesh-batman-adv-15' }\npackages { 'gluon-community-thing' }\n",
        );
    let all = gluonvpn(&["check", site.path(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&all.stdout).expect("json");
    assert_eq!(doc["diagnostics"][0]["code"], "GS020", "{doc:#}");
    let gluon = gluonvpn(&["check", site.path(), "--format", "json", "--gluon-only"]);
    let doc: serde_json::Value = serde_json::from_slice(&gluon.stdout).expect("json");
    assert_eq!(
        doc["diagnostics"].as_array().map(Vec::len),
        Some(0),
        "{doc:#}"
    );
}

#[test]
fn explain_prints_a_codes_documentation() {
    let out = gluonvpn(&["explain", "GL005"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("site-only-key"));
    let out = gluonvpn(&["explain", "XX999"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs gluonvpn in `dir`.
fn gluonvpn_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs gluonvpn")
}

#[test]
fn github_annotations_name_files_as_the_workflow_sees_them() {
    // A repository with the site in site/ and no image-customization.lua:
    // one problem in site.conf, one that belongs to no file.
    let repo = tempfile::tempdir().expect("tempdir");
    let site = repo.path().join("site");
    std::fs::create_dir(&site).expect("mkdir");
    std::fs::write(
        site.join("site.conf"),
        valid_site_conf("  wifi24 = { channel = 15 },\n  regdom = 'DE',\n"),
    )
    .expect("write");
    std::fs::write(site.join("site.mk"), "GLUON_RELEASE := 1.0\n").expect("write");
    let expected = |dir: &str, given: &str| {
        format!(
            "::error file={dir}site.conf,line=6,col=24,endLine=6,endColumn=26,title=GL003 value-not-allowed::expected wifi24.channel to be one of the given array [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], but it is 15 (a number value)\n\
             ::error title=GS012 missing-image-customization::{given} has no image-customization.lua, which Gluon requires from v2023.2 on\n"
        )
    };
    let absolute = site.to_str().expect("utf-8 path");
    for (given, shown) in [
        ("site", "site"),
        ("./site", "./site"),
        ("site/site.conf", "site"),
        (absolute, absolute),
    ] {
        let out = gluonvpn_in(
            repo.path(),
            &[
                "check",
                given,
                "--format",
                "github",
                "--gluon-version",
                "v2025.1",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{given}");
        assert_eq!(stdout(&out), expected("site/", shown), "{given}");
        assert_eq!(stderr(&out), "", "{given}");
    }
    // from inside the site directory itself
    let out = gluonvpn_in(&site, &["check", "--format", "github"]);
    assert_eq!(stdout(&out), expected("", "."));
}

#[test]
fn ci_formats_exit_like_the_others() {
    let mixed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mixed-errors");
    for format in ["sarif", "github", "gitlab"] {
        let clean = gluonvpn(&[
            "check",
            example("fastd").to_str().expect("path"),
            "--format",
            format,
        ]);
        assert_eq!(clean.status.code(), Some(0), "{format}: {}", stderr(&clean));
        if format == "github" {
            assert_eq!(stdout(&clean), "", "no summary line");
        }
        if format == "gitlab" {
            assert_eq!(stdout(&clean), "[]\n", "a clean site: no issues");
        }
        let problems = gluonvpn(&["check", mixed.to_str().expect("path"), "--format", format]);
        assert_eq!(problems.status.code(), Some(1), "{format}");
        let failed = gluonvpn(&["check", "/nonexistent/site", "--format", format]);
        assert_eq!(failed.status.code(), Some(2), "{format}");
        assert_eq!(stdout(&failed), "", "{format}");
        assert!(
            stderr(&failed).contains("no such site directory"),
            "{format}"
        );
    }
    // `targets` lists only as text or JSON
    let out = gluonvpn(&["targets", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    // The reading end is closed long before gluonvpn has loaded the site,
    // so its first write meets a closed pipe.
    let mixed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mixed-errors");
    for format in ["sarif", "json"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
            .args(["check", mixed.to_str().expect("path"), "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawns");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("waits");
        assert_ne!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        assert!(!stderr(&out).contains("Broken pipe"), "{format}");
    }
}

/// `check --inventory`: a methods policy that leaves nodes out is GV106 (a
/// warning, exit 0); an inventory that does not validate exits 2.
#[test]
fn check_reads_an_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        "[gateways.gw1]\nfastd_methods = [\"null@l2tp\"]\n",
    )
    .expect("write");
    let site = example("fastd");
    let args = |format: &str| {
        vec![
            "check".to_string(),
            site.display().to_string(),
            "--inventory".into(),
            inventory.display().to_string(),
            "--format".into(),
            format.into(),
        ]
    };
    let run = |format: &str| {
        let args = args(format);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        gluonvpn(&refs)
    };
    let out = run("json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let finding = find_code(&doc, "GV106");
    assert!(
        finding
            .to_string()
            .contains("gateway \\\"gw1\\\" offers null@l2tp"),
        "{finding}"
    );
    std::fs::write(
        &inventory,
        "[gateways.gw1]\nfastd_methods = [\"xsalsa20-poly1305\"]\n",
    )
    .expect("write");
    let out = run("human");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fastd removed it in v19"),
        "{}",
        stderr(&out)
    );
}
