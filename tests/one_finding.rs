//! One finding per problem (issue 13): a mistake repeated in every domain
//! file is one diagnostic with every place, in every output format; notes
//! can be hidden with `--min-severity`.

use std::path::Path;
use std::process::Command;

const DOMAINS: usize = 30;

/// The multidomain example with 30 domains, each writing the same fastd
/// methods with a weaker method first (GV103, and the note GV122) and the
/// same mtu (GV181) in its own file.
fn thirty_domains() -> tempfile::TempDir {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/multidomain");
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["site.conf", "site.mk", "image-customization.lua"] {
        std::fs::copy(example.join(file), dir.path().join(file)).expect("copy");
    }
    // site.conf names its default domain `nord`.
    let conf = std::fs::read_to_string(example.join("site.conf"))
        .expect("site.conf")
        .replace("'nord'", "'d00'");
    std::fs::write(dir.path().join("site.conf"), conf).expect("site.conf");
    std::fs::create_dir(dir.path().join("domains")).expect("mkdir");
    let template = std::fs::read_to_string(example.join("domains/nord.conf")).expect("nord");
    for n in 0..DOMAINS {
        let code = format!("d{n:02}");
        let text = template
            .replace(
                "nord = 'Flussland Nord',",
                &format!("{code} = 'Domain {n}',"),
            )
            .replace("    north = 'Flussland North',\n", "")
            .replace("0a1b2c3d", &format!("{:08x}", n + 1))
            .replace("10.80.0.", &format!("10.{}.0.", 100 + n))
            .replace(
                "fd8a:2b1c:3d4e:1::",
                &format!("fd8a:2b1c:3d4e:{:x}::", n + 1),
            )
            .replace("fffl-nord-mesh", &format!("fffl-{code}-mesh"))
            .replace(
                "    fastd = {\n",
                "    fastd = {\n      mtu = 1440,\n      methods = { 'null@l2tp', 'salsa2012+umac' },\n",
            );
        std::fs::write(dir.path().join(format!("domains/{code}.conf")), text).expect("domain");
    }
    dir
}

fn check(site: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gluonvpn"))
        .arg("check")
        .arg(site)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("gluonvpn runs");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn a_problem_repeated_in_every_domain_is_one_finding() {
    let site = thirty_domains();
    let human = check(site.path(), &[]);
    assert!(
        human.lines().count() < 60,
        "{} lines:\n{human}",
        human.lines().count()
    );
    assert_eq!(human.matches("GV103").count(), 1, "{human}");
    assert_eq!(human.matches("GV181").count(), 1, "{human}");
    assert!(
        human.contains("the same in 29 more places: domains/d01.conf:20"),
        "{human}"
    );
    assert!(human.contains("in 30 domains"), "{human}");

    let json: serde_json::Value =
        serde_json::from_str(&check(site.path(), &["--format", "json"])).expect("json");
    let gv103: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "GV103")
        .collect();
    assert_eq!(gv103.len(), 1);
    assert_eq!(gv103[0]["file"], "domains/d00.conf");
    let also: Vec<&str> = gv103[0]["also_at"]
        .as_array()
        .expect("also_at")
        .iter()
        .map(|p| p["file"].as_str().expect("file"))
        .collect();
    assert_eq!(also.len(), DOMAINS - 1);
    assert_eq!(also[0], "domains/d01.conf");
    assert_eq!(gv103[0]["domains"].as_array().map(Vec::len), Some(DOMAINS));

    let sarif: serde_json::Value =
        serde_json::from_str(&check(site.path(), &["--format", "sarif"])).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let gv103: Vec<&serde_json::Value> =
        results.iter().filter(|r| r["ruleId"] == "GV103").collect();
    assert_eq!(gv103.len(), 1);
    assert_eq!(
        gv103[0]["locations"].as_array().map(Vec::len),
        Some(DOMAINS)
    );

    let github = check(site.path(), &["--format", "github"]);
    let gv103: Vec<&str> = github.lines().filter(|l| l.contains("GV103")).collect();
    assert_eq!(gv103.len(), 1, "{github}");
    assert!(gv103[0].contains("domains/d01.conf:21, "), "{}", gv103[0]);
}

#[test]
fn min_severity_hides_what_is_below_it() {
    let site = thirty_domains();
    let all = check(site.path(), &["--format", "json"]);
    let severities = |text: &str| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(text).expect("json");
        doc["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| d["severity"].as_str().expect("severity").to_string())
            .collect()
    };
    let every = severities(&all);
    assert!(every.iter().any(|s| s == "info"), "{every:?}");
    let warnings = severities(&check(
        site.path(),
        &["--format", "json", "--min-severity", "warning"],
    ));
    assert!(warnings.iter().all(|s| s != "info"), "{warnings:?}");
    assert_eq!(
        warnings.len(),
        every.iter().filter(|s| *s != "info").count()
    );
    let errors = severities(&check(
        site.path(),
        &["--format", "json", "--min-severity", "error"],
    ));
    assert!(errors.iter().all(|s| s == "error"), "{errors:?}");
    // The human summary says what was hidden.
    let human = check(site.path(), &["--min-severity", "error"]);
    assert!(human.contains("hidden by --min-severity"), "{human}");
}
