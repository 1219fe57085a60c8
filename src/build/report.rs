//! The build report: `OUT/<release>/build-report.json`, written with every
//! build (also a stopped one), and read back by the next build to skip the
//! targets whose inputs have not changed (book: Building firmware).

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The report's format version; a report of another version is not used
/// for skipping.
pub const SCHEMA: u32 = 1;

/// The report's file name in the release directory.
pub const FILE: &str = "build-report.json";

/// The directory of the per-target reports in the release directory:
/// `reports/<target>.json`, each target's entry of the last report that had
/// it. A release directory assembled from several builds (one CI job per
/// target) has all of them, and the next build skips what they describe.
pub const TARGETS_DIR: &str = "reports";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Report {
    pub schema: u32,
    pub gluonvpn: String,
    /// `complete` (every target built or skipped), `failed` (a target or
    /// the manifest failed) or `interrupted`.
    pub status: RunStatus,
    pub started: String,
    pub finished: String,
    pub release: String,
    pub gluon: GluonInfo,
    pub site: SiteInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<AgentsInfo>,
    pub options: Options,
    pub targets: Vec<TargetReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ManifestReport>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Complete,
    Failed,
    Interrupted,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct GluonInfo {
    pub repository: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub commit: String,
    /// `git describe` of the tree (Gluon's GLUON_VERSION).
    pub describe: String,
    /// The release line gluonvpn checked the site against.
    pub version: String,
    /// The tree had local changes (`--allow-dirty`).
    pub dirty: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SiteInfo {
    pub path: String,
    /// HEAD of the site's git repository, if it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Whether the site's files differ from that commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    /// SHA-256 over the site's files (names, modes, contents).
    pub content_sha256: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AgentsInfo {
    /// The OpenWrt packages of the feed.
    pub packages: Vec<String>,
    pub source: String,
    pub source_sha256: String,
    pub feed_commit: String,
    /// Targets that keep Gluon's own agents, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gluon_agents: Vec<Fallback>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Fallback {
    pub target: String,
    pub reason: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Options {
    pub targets: Vec<String>,
    pub broken: bool,
    pub jobs: usize,
    pub parallel_targets: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoupdater_branch: Option<String>,
    pub allow_dirty: bool,
    pub verbose: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TargetStatus {
    /// Built in this run.
    Built,
    /// Inputs unchanged and outputs present: not built again.
    Skipped,
    Failed,
    /// Stopped by Ctrl-C; its outputs are those of an earlier build, if
    /// any.
    Interrupted,
    /// Not started before the build was stopped.
    NotStarted,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TargetReport {
    pub name: String,
    pub status: TargetStatus,
    /// SHA-256 of what the target's build depends on (Gluon commit, site
    /// content, agents' source, options): an unchanged value with the images
    /// present lets the next build skip it.
    pub inputs_sha256: String,
    /// Wall-clock seconds of this run's build of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// When the images listed were built (for a skipped target: by an
    /// earlier run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built: Option<String>,
    /// `rust` when the agents feed's packages go into the images, `gluon`
    /// when the target keeps Gluon's own agents; absent without agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<Packages>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Image {
    /// Relative to the release directory, e.g.
    /// `images/sysupgrade/gluon-ffxx-1.0-x86-64.img.gz`.
    pub path: String,
    /// `factory`, `sysupgrade` or `other`.
    pub kind: String,
    pub size: u64,
    pub sha256: String,
    /// For Gluon's alias links: the image file the link points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_of: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Packages {
    /// The target's package repository, relative to the release directory.
    pub path: String,
    pub files: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    pub message: String,
    /// 1-based line of the first error in the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The log around the first error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excerpt: Vec<String>,
    /// The source download the build stopped at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ManifestReport {
    pub branch: String,
    /// `written`, `failed` or `not-run` (a target failed or the build was
    /// stopped).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

impl Report {
    /// The previous build's report in a release directory, if it is one
    /// this version can use.
    pub fn read(release_dir: &Path) -> Option<Report> {
        let text = std::fs::read_to_string(release_dir.join(FILE)).ok()?;
        let report: Report = serde_json::from_str(&text).ok()?;
        (report.schema == SCHEMA).then_some(report)
    }

    pub fn target(&self, name: &str) -> Option<&TargetReport> {
        self.targets.iter().find(|t| t.name == name)
    }
}

/// One target's entry, alone (`reports/<target>.json`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TargetFile {
    pub schema: u32,
    pub gluonvpn: String,
    pub release: String,
    pub target: TargetReport,
}

/// What earlier builds left in a release directory, by target: the
/// per-target reports, and the entries of `build-report.json` for targets
/// without one.
pub fn previous_targets(release_dir: &Path) -> std::collections::BTreeMap<String, TargetReport> {
    let mut out = std::collections::BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir(release_dir.join(TARGETS_DIR)) {
        for entry in dir.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            if let Ok(file) = serde_json::from_str::<TargetFile>(&text) {
                if file.schema == SCHEMA {
                    out.insert(file.target.name.clone(), file.target);
                }
            }
        }
    }
    if let Some(report) = Report::read(release_dir) {
        for t in report.targets {
            out.entry(t.name.clone()).or_insert(t);
        }
    }
    out
}

/// A time as RFC 3339 in UTC with seconds, e.g. `2026-01-31T12:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_225_599)),
            "2025-12-31T23:59:59Z"
        );
    }
}
