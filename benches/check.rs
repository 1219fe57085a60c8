//! `cargo bench --bench check`: how long `gluonvpn check` takes on every site
//! of the shared corpus and on a generated 200-domain site. The figures go
//! into book/src/performance.md.

#[path = "../tests/support/corpus.rs"]
mod corpus;
#[path = "../tests/support/tools.rs"]
mod tools;

use gluonvpn::check::{check, CheckOptions};
use gluonvpn::gluon_version::GluonVersion;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time_check(dir: &Path, version: GluonVersion, runs: usize) -> Duration {
    let options = CheckOptions::new(version);
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let outcome = check(dir, &options).expect("check runs");
            std::hint::black_box(outcome.report.diagnostics.len());
            start.elapsed()
        })
        .collect();
    median(samples)
}

/// A multidomain site with `n` domains, from the multidomain example.
fn generated_site(n: usize) -> tempfile::TempDir {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/multidomain");
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["site.conf", "site.mk", "image-customization.lua"] {
        std::fs::copy(example.join(name), dir.path().join(name)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("domains")).expect("mkdir");
    let template = std::fs::read_to_string(example.join("domains/sued.conf")).expect("template");
    for i in 0..n {
        let code = if i == 0 {
            "nord".to_string()
        } else {
            format!("d{i:03}")
        };
        let text = template
            .replace("sued = 'Flussland Süd'", &format!("{code} = 'Domain {i}'"))
            .replace("fffl-sued-mesh", &format!("fffl-{code}"));
        std::fs::write(
            dir.path().join("domains").join(format!("{code}.conf")),
            text,
        )
        .expect("write");
    }
    dir
}

fn main() {
    let sites: Vec<PathBuf> = corpus::corpus("THE CORPUS TIMINGS")
        .map(|corpus| {
            let names = corpus::site_names(&corpus);
            names.into_iter().map(|name| corpus.join(name)).collect()
        })
        .unwrap_or_default();

    println!("site\tmedian of 5 (v2025.1)");
    let mut total = Duration::ZERO;
    let mut slowest = (Duration::ZERO, String::new());
    for site in &sites {
        let t = time_check(site, GluonVersion::V2025_1, 5);
        let name = site
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("{name}\t{:.1} ms", t.as_secs_f64() * 1e3);
        total += t;
        if t > slowest.0 {
            slowest = (t, name);
        }
    }
    if !sites.is_empty() {
        println!(
            "corpus: {} sites in {:.0} ms (v2025.1), mean {:.1} ms, slowest {} {:.1} ms",
            sites.len(),
            total.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3 / sites.len() as f64,
            slowest.1,
            slowest.0.as_secs_f64() * 1e3
        );
        for version in GluonVersion::ALL {
            let start = Instant::now();
            for site in &sites {
                std::hint::black_box(
                    check(site, &CheckOptions::new(version))
                        .map(|o| o.report.diagnostics.len())
                        .ok(),
                );
            }
            println!(
                "corpus at {version}: {:.0} ms",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
        // As a user runs it: one process per site, every release at once,
        // against one process per site and release.
        let binary = env!("CARGO_BIN_EXE_gluonvpn");
        let corpus_time = |releases: &[&str]| {
            let samples = (0..3)
                .map(|_| {
                    let start = Instant::now();
                    for site in &sites {
                        for release in releases {
                            let status = std::process::Command::new(binary)
                                .args(["check", "--gluon-only", "--gluon-version", release])
                                .arg(site)
                                .stdout(std::process::Stdio::null())
                                .status()
                                .expect("gluonvpn runs");
                            assert!(matches!(status.code(), Some(0 | 1)), "{}", site.display());
                        }
                    }
                    start.elapsed()
                })
                .collect();
            median(samples)
        };
        let together = corpus_time(&["all"]);
        let each: Vec<&str> = GluonVersion::ALL.iter().map(|v| v.label()).collect();
        let apart = corpus_time(&each);
        println!(
            "corpus, `check --gluon-only --gluon-version all`, one process per site: {:.0} ms (median of 3)",
            together.as_secs_f64() * 1e3
        );
        println!(
            "corpus, one `check --gluon-only --gluon-version R` process per site and release: {:.0} ms (median of 3)",
            apart.as_secs_f64() * 1e3
        );
    }

    let big = generated_site(200);
    let outcome = check(big.path(), &CheckOptions::new(GluonVersion::V2025_1)).expect("check runs");
    assert_eq!(outcome.site.domains.len(), 200);
    assert!(
        outcome.report.diagnostics.is_empty(),
        "{:#?}",
        outcome.report.diagnostics
    );
    let t = time_check(big.path(), GluonVersion::V2025_1, 5);
    println!(
        "generated 200-domain site: {:.1} ms (median of 5)",
        t.as_secs_f64() * 1e3
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("site-examples/fastd");
    let t = time_check(&example, GluonVersion::V2025_1, 20);
    println!(
        "site-examples/fastd: {:.1} ms (median of 20)",
        t.as_secs_f64() * 1e3
    );
}
