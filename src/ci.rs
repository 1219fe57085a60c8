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
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One pinned action (data/ci/actions.json).
#[derive(Clone, Debug, Deserialize)]
pub struct PinnedAction {
    /// The release tag it is pinned to (`v7.0.1`).
    pub version: String,
    /// The commit of that tag: 40 hex digits.
    pub sha: String,
}

#[derive(Deserialize)]
struct ActionsFile {
    actions: BTreeMap<String, PinnedAction>,
}

/// The actions the GitHub workflow uses, pinned to commits
/// (data/ci/actions.json, compiled in).
pub fn pinned_actions() -> anyhow::Result<BTreeMap<String, PinnedAction>> {
    let file: ActionsFile = serde_json::from_str(include_str!("../data/ci/actions.json"))
        .map_err(|e| anyhow::anyhow!("internal error: data/ci/actions.json does not read: {e}"))?;
    Ok(file.actions)
}

/// `uses:` values: `owner/repo[/path]@<sha> # <version>`.
fn uses_lines() -> anyhow::Result<BTreeMap<String, String>> {
    Ok(pinned_actions()?
        .into_iter()
        .map(|(name, pin)| {
            let line = format!("{name}@{} # {}", pin.sha, pin.version);
            (name, line)
        })
        .collect())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// A GitHub Actions workflow (.github/workflows/firmware.yml).
    Github,
    /// A GitLab CI pipeline (.gitlab-ci.yml).
    Gitlab,
}

/// Whether `url` can be the repository the jobs clone gluonvpn from: an
/// `https://`, `ssh://` or `git://` URL or scp-like `user@host:path`, with a
/// host that is not one of the documentation domains (example.org,
/// example.com, example.net, `.example`, `.invalid`, `.test`), of
/// characters that need no quoting in YAML or a shell word; or a
/// `file:///` URL of a mirror on the runner.
pub fn gluonvpn_git(url: &str) -> anyhow::Result<()> {
    let safe = !url.is_empty()
        && url.len() <= 2000
        && url
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+@:~%=".contains(&b));
    // A local mirror on a self-hosted runner: file:///srv/git/gluonvpn.git
    if let Some(path) = url.strip_prefix("file:///") {
        anyhow::ensure!(
            safe && !path.is_empty() && !path.split('/').any(|c| c == ".."),
            "--gluonvpn-git {url:?}: expected file:///ABSOLUTE/PATH of a repository"
        );
        return Ok(());
    }
    let host = if let Some(rest) = ["https://", "ssh://", "git://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
    {
        let authority = rest.split('/').next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or(authority);
        Some(host.split(':').next().unwrap_or(host))
    } else if let Some((user_host, path)) = url.split_once(':') {
        // scp-like: git@codeberg.org:freifunk/gluonvpn.git
        (!path.is_empty() && !user_host.contains('/'))
            .then(|| user_host.rsplit('@').next().unwrap_or(user_host))
    } else {
        None
    };
    let host = match host {
        Some(host) if safe && !host.is_empty() && host.contains('.') => host.to_ascii_lowercase(),
        _ => anyhow::bail!(
            "--gluonvpn-git {url:?}: expected the URL of a git repository the jobs can clone (https://…, ssh://…, git://… or user@host:path)"
        ),
    };
    let placeholder = ["example.org", "example.com", "example.net"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || [".example", ".invalid", ".test", ".localhost"]
            .iter()
            .any(|tld| host.ends_with(tld));
    anyhow::ensure!(
        !placeholder,
        "--gluonvpn-git {url:?}: {host} is a documentation domain; no job could clone gluonvpn from it: name your copy of gluonvpn's repository"
    );
    Ok(())
}

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
    /// The pinned `uses:` value of each action, by name.
    uses: BTreeMap<String, String>,
}

/// The default branch or a tag, and not a pull request: where the GitHub
/// workflow builds.
const GITHUB_TRUSTED_REF: &str = "github.event_name != 'pull_request' && (github.ref == format('refs/heads/{0}', github.event.repository.default_branch) || startsWith(github.ref, 'refs/tags/'))";

/// The pipeline's text.
pub fn render(options: &Options) -> anyhow::Result<String> {
    gluonvpn_git(&options.gluonvpn_git)?;
    anyhow::ensure!(
        plain_word(&options.gluonvpn_rev)
            || options.gluonvpn_rev.contains('/')
                && options.gluonvpn_rev.split('/').all(plain_word),
        "--gluonvpn-rev {:?}: expected a branch, tag or commit of letters, digits and . _ + ~ - /",
        options.gluonvpn_rev
    );
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
        Platform::Gitlab => "\"$PWD/.gluonvpn-src\"",
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
        uses: uses_lines()?,
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

    /// Every pin is a full commit SHA and names a release tag.
    #[test]
    fn actions_are_pinned_to_commits() {
        let actions = pinned_actions().expect("reads");
        assert!(actions.len() >= 6);
        for (name, pin) in &actions {
            assert!(
                pin.sha.len() == 40
                    && pin
                        .sha
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{name}: {}",
                pin.sha
            );
            let parts: Vec<&str> = pin.version.trim_start_matches('v').split('.').collect();
            assert!(
                pin.version.starts_with('v')
                    && parts.len() == 3
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
                "{name}: {} is not a release tag vX.Y.Z",
                pin.version
            );
            assert!(name.split('/').count() >= 2, "{name}");
        }
    }

    #[test]
    fn repositories_the_jobs_can_clone() {
        for ok in [
            "https://codeberg.org/freifunk/gluonvpn.git",
            "ssh://git@git.ffh.zone:2222/infra/gluonvpn.git",
            "git@github.com:freifunk/gluonvpn.git",
            "git://git.freifunk.net/gluonvpn",
            "file:///srv/git/gluonvpn.git",
        ] {
            gluonvpn_git(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "https://git.example.org/gluonvpn.git",
            "https://example.com/x.git",
            "https://gitlab.test/x.git",
            "gluonvpn",
            "",
            "https://codeberg.org/x.git; id",
            "https://codeberg.org/$(id).git",
            "/srv/gluonvpn",
            "https:///x.git",
            "file:///srv/../etc",
            "file://relative",
        ] {
            assert!(gluonvpn_git(bad).is_err(), "{bad}");
        }
    }

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
