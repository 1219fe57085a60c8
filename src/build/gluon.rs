//! The Gluon checkout: which release a ref is, the repository's cache in
//! the workdir, and the trees the builds run in.
//!
//! Network access is `git`'s (`git ls-remote`, `git fetch`): a Gluon build
//! needs `git` anyway (Gluon's `make update` clones OpenWrt and the feeds
//! with it), and so gluonvpn fetches with the user's own configuration —
//! credentials, proxies, `insteadOf` rewrites, SSH — and links no TLS or
//! SSH library. Everything local (resolving refs, checking out, the dirty
//! check, tags for `git describe`) goes through libgit2 (`git2`).
//!
//! Layout below the workdir:
//!
//! - `gluon.git`: a bare cache with the repository's branches and tags;
//! - `trees/<slot>`: one Gluon tree per target built at the same time
//!   (OpenWrt can build one target per tree), borrowing the cache's
//!   objects through `objects/info/alternates`.

use super::BuildError;
use crate::gluon_version::GluonVersion;
use git2::{build::CheckoutBuilder, Oid, Repository, StatusOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The upstream repository, the default of `--gluon-repo`.
pub const UPSTREAM: &str = "https://github.com/freifunk-gluon/gluon.git";

/// The Gluon release a ref names, when gluonvpn models it: a tag such as
/// `v2025.1.3` or `v2025.1`, or a release branch such as `v2025.1.x`.
/// `main`, other branches and commit ids say nothing about the release.
pub fn version_for_ref(reference: &str) -> Option<GluonVersion> {
    let name = reference
        .strip_prefix("refs/tags/")
        .or_else(|| reference.strip_prefix("refs/heads/"))
        .unwrap_or(reference);
    let name = name.strip_suffix(".x").unwrap_or(name);
    if !name.starts_with('v') {
        return None;
    }
    name.parse().ok()
}

/// How a ref was found in the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefKind {
    Tag,
    Branch,
    /// A commit id (or a prefix of one); only a fetch can tell whether the
    /// repository has it.
    Commit,
}

/// What `git ls-remote` said about the ref.
#[derive(Clone, Debug)]
pub struct Probe {
    pub kind: RefKind,
    /// The full ref name (`refs/tags/v2025.1.3`), or the commit id as given.
    pub refname: String,
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    // Never wait for a password: an unreachable or private repository is an
    // error, not a prompt.
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

fn is_commit_id(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Asks the repository (`git ls-remote`) whether it is reachable and has the
/// ref, before anything is written.
pub fn probe(repo: &str, reference: &str) -> Result<Probe, BuildError> {
    let out = git()
        .args(["ls-remote", "--tags", "--heads", "--", repo])
        .output()
        .map_err(|e| BuildError::Git(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(BuildError::Unreachable {
            repo: repo.to_string(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let listing = String::from_utf8_lossy(&out.stdout);
    let refs: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    let bare = reference
        .strip_prefix("refs/tags/")
        .or_else(|| reference.strip_prefix("refs/heads/"))
        .unwrap_or(reference);
    for (kind, refname) in [
        (RefKind::Tag, format!("refs/tags/{bare}")),
        (RefKind::Branch, format!("refs/heads/{bare}")),
    ] {
        if refs.iter().any(|r| *r == refname) {
            return Ok(Probe { kind, refname });
        }
    }
    if is_commit_id(reference) {
        return Ok(Probe {
            kind: RefKind::Commit,
            refname: reference.to_lowercase(),
        });
    }
    // Suggest the tags of the same release line, newest last.
    let line = bare.rsplit_once('.').map_or(bare, |(l, _)| l);
    let mut similar: Vec<&str> = refs
        .iter()
        .filter_map(|r| r.strip_prefix("refs/tags/"))
        .filter(|t| !t.ends_with("^{}") && t.starts_with(line))
        .collect();
    similar.sort();
    similar.dedup();
    Err(BuildError::UnknownRef {
        reference: reference.to_string(),
        repo: repo.to_string(),
        similar: similar
            .iter()
            .rev()
            .take(5)
            .map(|s| s.to_string())
            .collect(),
    })
}

/// Brings the repository's branches and tags into the bare cache at
/// `cache`. A cache that does not exist yet is fetched next to it and only
/// then moved into place, so that a failed first fetch leaves nothing.
pub fn fetch(cache: &Path, repo: &str) -> Result<(), BuildError> {
    let fresh = !cache.join("HEAD").is_file();
    let target = if fresh {
        // The workdir is locked: no other build fetches at the same time.
        let tmp = cache.with_extension("git.tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        Repository::init_bare(&tmp).map_err(|e| BuildError::Git(e.to_string()))?;
        tmp
    } else {
        cache.to_path_buf()
    };
    let out = git()
        .arg("--git-dir")
        .arg(&target)
        .args([
            "fetch",
            "--quiet",
            "--prune",
            "--force",
            "--no-write-fetch-head",
            "--",
            repo,
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
        ])
        .output()
        .map_err(|e| BuildError::Git(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        if fresh {
            let _ = std::fs::remove_dir_all(&target);
        }
        return Err(BuildError::Unreachable {
            repo: repo.to_string(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    if fresh {
        std::fs::rename(&target, cache).map_err(|e| {
            BuildError::Io(format!(
                "cannot move the Gluon cache into {}: {e}",
                cache.display()
            ))
        })?;
    }
    Ok(())
}

/// The ref from the cache alone, when it is a tag or a commit the cache
/// already has: tags are not moved, so neither the repository nor the
/// network is needed (a rebuild works offline, a CI cache saves the fetch).
/// Branches are always asked for.
pub fn cached(cache: &Path, reference: &str) -> Option<(Probe, Oid)> {
    if !cache.join("HEAD").is_file() {
        return None;
    }
    let bare = reference.strip_prefix("refs/tags/").unwrap_or(reference);
    let mut candidates = vec![Probe {
        kind: RefKind::Tag,
        refname: format!("refs/tags/{bare}"),
    }];
    if is_commit_id(reference) {
        candidates.push(Probe {
            kind: RefKind::Commit,
            refname: reference.to_lowercase(),
        });
    }
    candidates
        .into_iter()
        .find_map(|p| resolve(cache, &p).ok().map(|oid| (p, oid)))
}

/// The commit a probed ref names in the cache.
pub fn resolve(cache: &Path, probe: &Probe) -> Result<Oid, BuildError> {
    let repo = Repository::open_bare(cache).map_err(|e| BuildError::Git(e.to_string()))?;
    let spec = format!("{}^{{commit}}", probe.refname);
    let object = repo
        .revparse_single(&spec)
        .map_err(|_| BuildError::UnknownRef {
            reference: probe.refname.clone(),
            repo: cache.display().to_string(),
            similar: Vec::new(),
        })?;
    Ok(object.id())
}

/// A Gluon tree at a commit.
#[derive(Clone, Debug)]
pub struct Tree {
    pub path: PathBuf,
    /// The tree had local changes (only with `--allow-dirty`).
    pub dirty: bool,
    /// `git describe` of the tree, as Gluon's scripts/getversion.sh prints
    /// it (its GLUON_VERSION).
    pub describe: String,
}

/// Files with local changes in a tree (modified, staged or untracked, not
/// ignored: Gluon's own output directories are ignored).
fn changes(repo: &Repository) -> Result<Vec<String>, git2::Error> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut options))?;
    Ok(statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect())
}

/// Makes `path` a Gluon tree at `commit`: created from the cache when
/// missing, checked out otherwise. A tree with local changes is refused
/// unless `allow_dirty`; then the commit is checked out around them (and a
/// conflict is an error).
pub fn prepare_tree(
    cache: &Path,
    path: &Path,
    commit: Oid,
    allow_dirty: bool,
) -> Result<Tree, BuildError> {
    let g = |e: git2::Error| BuildError::Git(format!("{}: {}", path.display(), e.message()));
    if !path.join(".git").exists() {
        std::fs::create_dir_all(path)
            .map_err(|e| BuildError::Io(format!("cannot create {}: {e}", path.display())))?;
        Repository::init(path).map_err(g)?;
        let objects = cache
            .canonicalize()
            .map_err(|e| BuildError::Io(format!("{}: {e}", cache.display())))?
            .join("objects");
        std::fs::write(
            path.join(".git/objects/info/alternates"),
            format!("{}\n", objects.display()),
        )
        .map_err(|e| BuildError::Io(format!("{}: {e}", path.display())))?;
    }
    let repo = Repository::open(path).map_err(g)?;
    let changed = changes(&repo).map_err(g)?;
    let dirty = !changed.is_empty();
    if dirty && !allow_dirty {
        return Err(BuildError::DirtyTree {
            path: path.to_path_buf(),
            files: changed,
        });
    }
    // Tags from the cache, so that `git describe` (Gluon's GLUON_VERSION)
    // names the release as in a clone.
    let cache_repo = Repository::open_bare(cache).map_err(g)?;
    for reference in cache_repo.references_glob("refs/tags/*").map_err(g)? {
        let reference = reference.map_err(g)?;
        if let (Ok(name), Some(target)) = (reference.name(), reference.target()) {
            repo.reference(name, target, true, "gluonvpn: tag from the cache")
                .map_err(g)?;
        }
    }
    let head = repo.head().ok().and_then(|h| h.target());
    if head != Some(commit) {
        let object = repo.find_object(commit, None).map_err(g)?;
        let mut checkout = CheckoutBuilder::new();
        if dirty {
            checkout.safe();
        } else {
            checkout.force();
        }
        repo.checkout_tree(&object, Some(&mut checkout))
            .map_err(g)?;
        repo.set_head_detached(commit).map_err(g)?;
    }
    Ok(Tree {
        path: path.to_path_buf(),
        dirty,
        describe: describe(&repo, true).unwrap_or_else(|| commit.to_string()[..7].to_string()),
    })
}

/// `git describe --always --abbrev=7 [--dirty=+]`.
pub fn describe(repo: &Repository, dirty_suffix: bool) -> Option<String> {
    let mut options = git2::DescribeOptions::new();
    options.show_commit_oid_as_fallback(true);
    let described = repo.describe(&options).ok()?;
    let mut format = git2::DescribeFormatOptions::new();
    format.abbreviated_size(7);
    if dirty_suffix {
        format.dirty_suffix("+");
    }
    described.format(Some(&format)).ok()
}

/// The site's place in git: its repository's HEAD and whether the site's
/// files have local changes; `None` when the site is in no repository.
#[derive(Clone, Debug, serde::Serialize, PartialEq, Eq)]
pub struct SiteRepo {
    pub commit: String,
    pub dirty: bool,
    /// What Gluon's scripts/getversion.sh would print for the site
    /// (GLUON_SITE_VERSION); only when the site is its repository's root.
    #[serde(skip)]
    pub version: Option<String>,
}

pub fn site_repo(site: &Path) -> Option<SiteRepo> {
    let repo = Repository::discover(site).ok()?;
    let head = repo.head().ok()?.target()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let site = site.canonicalize().ok()?;
    let prefix = site.strip_prefix(&workdir).ok()?.to_path_buf();
    let dirty = changes(&repo)
        .ok()?
        .iter()
        .any(|p| Path::new(p).starts_with(&prefix) || prefix.as_os_str().is_empty());
    let version = if prefix.as_os_str().is_empty() {
        describe(&repo, true)
    } else {
        None
    };
    Some(SiteRepo {
        commit: head.to_string(),
        dirty,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_to_versions() {
        for (r, v) in [
            ("v2025.1.3", Some(GluonVersion::V2025_1)),
            ("v2025.1", Some(GluonVersion::V2025_1)),
            ("v2025.1.x", Some(GluonVersion::V2025_1)),
            ("refs/tags/v2023.2.6", Some(GluonVersion::V2023_2)),
            ("v2022.1.x", Some(GluonVersion::V2022_1)),
            ("main", None),
            ("master", None),
            ("v2024.1", None),
            ("2025.1.3", None),
            ("0123456789abcdef0123456789abcdef01234567", None),
        ] {
            assert_eq!(version_for_ref(r), v, "{r}");
        }
    }

    #[test]
    fn commit_ids() {
        assert!(is_commit_id("5204715d"));
        assert!(is_commit_id("5204715d14207efa956553d9d7079f6fa1aaea40"));
        assert!(!is_commit_id("v2025.1"));
        assert!(!is_commit_id("abc"));
    }
}
