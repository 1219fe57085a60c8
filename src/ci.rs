//! `gluonvpn ci github|gitlab`: a CI pipeline for a site repository (book:
//! CI pipelines).
//!
//! Three stages: a check job (`gluonvpn check --untrusted`, as annotations
//! and a SARIF log; it runs on pull and merge requests), one build job per
//! target (only on the default branch and tags) (`gluonvpn build --target …`, with caches
//! for OpenWrt's downloads and the toolchain, the target's images, packages
//! and report as an artifact), and a release job that collects the
//! artifacts and runs `gluonvpn build` over all targets once more: their
//! per-target reports (`reports/<target>.json`) show the images built from
//! the same inputs, so every target is skipped and the job only writes the
//! complete report and, with an autoupdater branch, the manifest.

use crate::gluon_version::GluonVersion;
use crate::templates;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// A GitHub Actions workflow (.github/workflows/firmware.yml).
    Github,
    /// A GitLab CI pipeline (.gitlab-ci.yml).
    Gitlab,
}

/// The default of `--gluonvpn-git`: a placeholder for the repository the
/// pipeline builds gluonvpn from (as in the book's examples).
pub const GLUONVPN_GIT: &str = "https://git.example.org/gluonvpn.git";

/// Debian packages for a Gluon build host (Gluon's documentation, "Getting
/// started"), plus what OpenWrt's prerequisite checks ask for on Debian.
pub const APT_PACKAGES: &str = "git python3 python3-setuptools build-essential ecdsautils gawk \
     unzip libncurses-dev zlib1g-dev libssl-dev libelf-dev wget rsync time qemu-utils file";

#[derive(Clone, Debug)]
pub struct Options {
    pub platform: Platform,
    /// The site's path in its repository, as the jobs see it.
    pub site: String,
    pub targets: Vec<String>,
    pub broken: bool,
    pub gluon_ref: String,
    pub version: GluonVersion,
    pub gluonvpn_git: String,
    pub gluonvpn_rev: String,
    pub autoupdater_branch: Option<String>,
    pub release: Option<String>,
    /// The command that generated the pipeline, for its header.
    pub command: String,
}

/// Characters a value may have to go into the pipeline's shell commands
/// unquoted: release and branch names, target names.
pub fn plain_word(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '~' | '-'))
        && !value.starts_with('-')
}

#[derive(Serialize)]
struct Context<'a> {
    gluonvpn_version: &'a str,
    command: &'a str,
    gluonvpn_git: &'a str,
    gluonvpn_rev: &'a str,
    gluon_ref: &'a str,
    gluon_version: &'a str,
    site: &'a str,
    targets: &'a [String],
    autoupdater_branch: Option<&'a str>,
    apt_packages: &'a str,
    build_command: String,
    /// GitHub's condition for the jobs that run site.mk's commands.
    trusted_ref: &'a str,
}

/// The default branch or a tag, and not a pull request: where the GitHub
/// workflow builds.
const GITHUB_TRUSTED_REF: &str = "github.event_name != 'pull_request' && (github.ref == format('refs/heads/{0}', github.event.repository.default_branch) || startsWith(github.ref, 'refs/tags/'))";

/// The pipeline's text.
pub fn render(options: &Options) -> anyhow::Result<String> {
    for value in options
        .targets
        .iter()
        .chain(options.autoupdater_branch.iter())
        .chain(options.release.iter())
    {
        anyhow::ensure!(
            plain_word(value),
            "{value:?}: only letters, digits and . _ + ~ - can go into the pipeline's commands"
        );
    }
    let agents_src = match options.platform {
        Platform::Github => "\"$RUNNER_TEMP/gluonvpn\"",
        Platform::Gitlab => "/opt/gluonvpn",
    };
    let mut build_command = format!(
        "gluonvpn build --site \"$SITE\" --gluon-ref \"$GLUON_REF\" --gluon-version \
         \"$GLUON_VERSION\" --workdir work --out out --agents-src {agents_src} --jobs \"$(nproc)\""
    );
    if let Some(release) = &options.release {
        build_command.push_str(&format!(" --release {release}"));
    }
    if let Some(branch) = &options.autoupdater_branch {
        build_command.push_str(&format!(" --autoupdater-branch {branch}"));
    }
    if options.broken {
        build_command.push_str(" --broken");
    }
    let context = Context {
        gluonvpn_version: env!("CARGO_PKG_VERSION"),
        command: &options.command,
        gluonvpn_git: &options.gluonvpn_git,
        gluonvpn_rev: &options.gluonvpn_rev,
        gluon_ref: &options.gluon_ref,
        gluon_version: options.version.label(),
        site: &options.site,
        targets: &options.targets,
        autoupdater_branch: options.autoupdater_branch.as_deref(),
        apt_packages: APT_PACKAGES,
        build_command,
        trusted_ref: GITHUB_TRUSTED_REF,
    };
    let name = match options.platform {
        Platform::Github => "ci/github.yml.j2",
        Platform::Gitlab => "ci/gitlab.yml.j2",
    };
    templates::render(name, &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words() {
        for ok in ["2025.1.3+md1", "stable", "x86-64", "v2025.1.x", "1.0~rc1"] {
            assert!(plain_word(ok), "{ok}");
        }
        for bad in ["", "a b", "a:b", "$(x)", "-x", "a'b", "a#b"] {
            assert!(!plain_word(bad), "{bad}");
        }
    }
}
