//! `gluonvpn migrate`: carries a site forward to a newer Gluon release.
//!
//! Driven by Gluon's own verdict: the site is checked against the target
//! release (`check --gluon-only`) in a scratch copy, each error a rewrite
//! knows is turned into edits by source span, and the copy is checked again,
//! a few rounds at most. What no rewrite handles ends as a decision for the
//! user. The user's files change only with `--write`, and only as the diff
//! shows.

pub mod features;
pub mod lua_edit;
pub mod packages;

use crate::check::{self, CheckOptions, Outcome};
use crate::diagnostics::{Diagnostic, Severity};
use crate::gluon_version::GluonVersion;
use crate::input::{self, caps, Within};
use crate::site::codes;
use crate::site::value::{Node, Value};
use lua_edit::{Edit, Field};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One named rewrite: what it does and where Gluon says so.
#[derive(Debug)]
pub struct Rewrite {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    /// Where the rewrite comes from in Gluon: its checks or release notes.
    pub source: &'static str,
}

pub const DROP_OBSOLETE: Rewrite = Rewrite {
    code: "GM001",
    name: "drop-obsolete-key",
    summary: "Removes a key the release's checks call obsolete when nothing takes its place: wifi24/wifi5 `supported_rates` and `basic_rate` (802.11b rates are disabled by default), wifi24/wifi5 `ibss` (IBSS support was dropped), `domain_switch.connection_check_targets` (v2025.1 uses NTP servers and gateways), and `mesh_vpn.pubkey_privacy` in a site with WireGuard and without fastd (WireGuard does not leak the key).",
    source: "`obsolete()` in gluon-core, gluon-scheduled-domain-switch and gluon-mesh-vpn-wireguard check_site.lua",
};

pub const OPKG_OPENWRT: Rewrite = Rewrite {
    code: "GM002",
    name: "opkg-lede-to-openwrt",
    summary: "Renames `opkg.lede` to `opkg.openwrt`, keeping its value (when `opkg.openwrt` is set already, `opkg.lede` is removed).",
    source: "gluon-core check_site.lua: \"opkg.lede is obsolete. Use opkg.openwrt instead.\"",
};

pub const INTERFACE_ROLES: Rewrite = Rewrite {
    code: "GM003",
    name: "interface-roles",
    summary: "Replaces `mesh_on_wan`, `mesh_on_lan` and `single_as_lan` by `interfaces.<wan|lan|single>.default_roles` with the roles they stood for: WAN `{ 'uplink', 'mesh' }` for mesh_on_wan, LAN `{ 'mesh' }` for mesh_on_lan, the single interface `{ 'client' }` (or `{ 'mesh' }` with mesh_on_lan) for single_as_lan; a `false` is removed (the defaults are the same).",
    source: "gluon-core check_site.lua (\"Use interfaces.wan.default_roles.\"), upgrade script 021-interface-roles (defaults: lan client, wan uplink, single as wan)",
};

pub const DOMAIN_SEED: Rewrite = Rewrite {
    code: "GM004",
    name: "random-domain-seed",
    summary: "Adds a random `domain_seed` (64 hex digits) where the release requires one: to site.conf, or to each domain file of a multidomain site. Nodes derive the VXLAN ID and other mesh identifiers from it, so nodes of one mesh must share it: every node upgraded to this firmware gets it, but nodes still running older firmware with another seed do not mesh over VXLAN with them.",
    source: "gluon-core check_site.lua: need_string_match(in_domain({'domain_seed'}), 64 hex digits); the v2022.1 release notes",
};

pub const NEXT_NODE_NAMES: Rewrite = Rewrite {
    code: "GM005",
    name: "next-node-name-list",
    summary: "Turns a single `next_node.name` string into a list of names.",
    source: "gluon-core check_site.lua: need_string_array(in_domain({'next_node', 'name'}))",
};

pub const VPN_MTU: Rewrite = Rewrite {
    code: "GM006",
    name: "mesh-vpn-mtu-per-protocol",
    summary: "Moves `mesh_vpn.mtu` into the protocols that need it: `mesh_vpn.fastd.mtu` and `mesh_vpn.tunneldigger.mtu`, wherever the release asks for them and the site does not set them.",
    source: "gluon-mesh-vpn-fastd and gluon-mesh-vpn-tunneldigger check_site.lua: need_number({'mesh_vpn', <protocol>, 'mtu'})",
};

pub const FEATURES_TO_IMAGE_CUSTOMIZATION: Rewrite = Rewrite {
    code: "GM010",
    name: "features-to-image-customization",
    summary: "Moves `GLUON_FEATURES`, `GLUON_FEATURES_standard`/`_tiny`, `GLUON_SITE_PACKAGES`, `GLUON_SITE_PACKAGES_standard`/`_tiny` and per-device `GLUON_<device>_SITE_PACKAGES` out of site.mk into a new image-customization.lua: `features { … }`, `packages { … }` (removals as `'-pkg'`), `if device_class('tiny') then … end`, `if target('ath79', 'generic') then … end` for what a target adds or removes, `if device({ … }) then … end` per device. site.mk keeps everything else; `ifeq`/`ifneq` blocks left empty are removed.",
    source: "Gluon v2023.2 release notes and Makefile (\"GLUON_FEATURES has been obsolete, please use the image-customization.lua file instead\"); docs/user/site.rst, image-customization.lua",
};

pub const ROUTING_ALGO: Rewrite = Rewrite {
    code: "GM007",
    name: "batman-adv-routing-algo",
    summary: "Sets `mesh.batman_adv.routing_algo = 'BATMAN_IV'` where the release requires it and the site leaves it out: BATMAN_IV is the algorithm batman-adv ran without it, so nodes keep meshing with nodes on older firmware.",
    source: "gluon-mesh-batman-adv check_site.lua: need_one_of({'mesh', 'batman_adv', 'routing_algo'}, {'BATMAN_IV', 'BATMAN_V'})",
};

pub const VXLAN: Rewrite = Rewrite {
    code: "GM008",
    name: "mesh-vxlan-off",
    summary: "Sets `mesh.vxlan = false` in a single-domain site that leaves it out: meshing over wired links without VXLAN, as before the key existed, so that upgraded nodes keep meshing with nodes on older firmware (set it to true once all nodes run the new firmware).",
    source: "gluon-core check_site.lua: need_boolean(in_domain({'mesh', 'vxlan'})) for single-domain sites; docs/user/site.rst, mesh.vxlan",
};

pub const RENAMED_PACKAGES: Rewrite = Rewrite {
    code: "GM011",
    name: "renamed-packages",
    summary: "Renames a package or feature the release no longer knows by its old name, where Gluon's release notes give the new one and the release has it: every `gluon-luci-*` became `gluon-web-*` (`gluon-luci-portconfig` became `gluon-web-network`), `gluon-announced` became `gluon-respondd`, `gluon-cron` `micrond`, `gluon-simple-tc` `simple-tc`; removes what every image has anyway (`gluon-next-node`, merged into the core; `haveged`, replaced).",
    source: "release notes of v2016.1, v2017.1 (`All gluon-luci-* packages have been renamed to gluon-web-*`) and v2020.2 (`Remove haveged from your package selection`)",
};

pub const FASTD_SECTION: Rewrite = Rewrite {
    code: "GM009",
    name: "fastd-mesh-vpn-section",
    summary: "Restructures the `fastd_mesh_vpn` section of sites older than v2017.1 as `mesh_vpn` with the fastd options (`configurable`, `methods`, `groups`, `syslog_level`) in `mesh_vpn.fastd`; `mtu`, `enabled` and `bandwidth_limit` stay in `mesh_vpn` (GM006 then moves the MTU). The fields move as written, comments included.",
    source: "release notes of v2017.1 (\"The fastd_mesh_vpn configuration section has been restructured\")",
};

/// Every rewrite, in code order.
pub const REWRITES: &[&Rewrite] = &[
    &DROP_OBSOLETE,
    &OPKG_OPENWRT,
    &INTERFACE_ROLES,
    &DOMAIN_SEED,
    &NEXT_NODE_NAMES,
    &VPN_MTU,
    &ROUTING_ALGO,
    &VXLAN,
    &FASTD_SECTION,
    &FEATURES_TO_IMAGE_CUSTOMIZATION,
    &RENAMED_PACKAGES,
];

/// One rewrite applied to one place.
#[derive(Clone, Debug)]
pub struct Step {
    pub rewrite: &'static Rewrite,
    /// What it did, in a line.
    pub what: String,
    pub edits: Vec<Edit>,
    /// Something the user should know (a random seed was chosen).
    pub warning: Option<String>,
}

/// What only the user can decide: an error of the target release no
/// rewrite handles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub code: &'static str,
    pub message: String,
    /// `file:line`, where the error has a place.
    pub place: Option<String>,
    /// What there is to decide, where gluonvpn knows.
    pub hint: Option<String>,
}

/// What the user has to decide about an error no rewrite handles.
fn hint(d: &Diagnostic, to: GluonVersion) -> Option<String> {
    let path = d.config_path.as_deref().unwrap_or("");
    if std::ptr::eq(d.info, codes::UNKNOWN_PACKAGE) {
        let package = d
            .message
            .strip_prefix("unable to enable package '")
            .and_then(|m| m.strip_suffix('\''))
            .unwrap_or("");
        return Some(match package {
            "gluon-mesh-vpn-tunneldigger" => "Gluon v2025.1 dropped Tunneldigger (it lives on in community-packages as ff-mesh-vpn-tunneldigger): move the domain to fastd or WireGuard, or add that feed to `modules`".to_string(),
            "gluon-mesh-batman-adv-14" => "batman-adv compat 14 is gone: nodes on mesh-batman-adv-15 do not mesh with compat-14 nodes, so the whole mesh has to switch at once".to_string(),
            _ => format!("Gluon {to} has no such package: leave it out, or provide it from a site feed (GLUON_SITE_FEEDS in `modules`)"),
        });
    }
    if path.starts_with("autoupdater.branches.") && path.ends_with(".probability") {
        return Some("GLUON_PRIORITY in site.mk (the days over which an update is rolled out) replaces it: remove the key and choose a priority".into());
    }
    if path == "mesh_vpn.pubkey_privacy" {
        return Some("obsolete with WireGuard, but fastd reads it and the site has both: remove it once fastd nodes may publish their key".into());
    }
    if d.message.ends_with("but it is unset") {
        return Some(format!("Gluon {to} requires {path}: set it (Gluon's site.conf documentation says what it means)"));
    }
    None
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Check(#[from] check::CheckError),
    #[error("cannot migrate a site that does not load: {0}")]
    Broken(String),
    #[error("cannot prepare a working copy of the site: {0}")]
    Copy(String),
    #[error("gluonvpn's rewrite {0} broke {1}, so nothing is written (a bug in gluonvpn; please report it): {2}")]
    RewriteBroke(&'static str, String, String),
    #[error("migrating to Gluon {to}: the site is written for {from}, a newer release; gluonvpn does not migrate backwards")]
    Backwards {
        from: GluonVersion,
        to: GluonVersion,
    },
}

/// A migration, computed: what changes, why, and what is left.
#[derive(Debug)]
pub struct Plan {
    pub from: GluonVersion,
    pub to: GluonVersion,
    /// Whether `from` was inferred.
    pub from_inferred: bool,
    pub steps: Vec<Step>,
    pub decisions: Vec<Decision>,
    /// Each file the migration touches: its text before (`None`: new) and
    /// after.
    pub files: BTreeMap<String, (Option<String>, String)>,
    /// Whether Gluon's checks at `to` accept the migrated site (`None`:
    /// unknown).
    pub accepted: Option<bool>,
}

/// How many rounds of check and rewrite a migration takes at most: each
/// round handles what the previous check reported.
const MAX_ROUNDS: usize = 6;

/// At most this many files of a site are copied.
const MAX_FILES: usize = 20_000;

/// The files gluonvpn copies and may edit: the site's top level and its
/// domains (regular files only, each capped).
fn read_site(dir: &Path) -> Result<BTreeMap<String, String>, MigrateError> {
    let mut files = BTreeMap::new();
    for (sub, prefix) in [(dir.to_path_buf(), ""), (dir.join("domains"), "domains/")] {
        let entries = match std::fs::read_dir(&sub) {
            Ok(entries) => entries,
            Err(e) if !prefix.is_empty() && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(MigrateError::Copy(format!("{}: {e}", sub.display()))),
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if !is_file || files.len() >= MAX_FILES {
                continue;
            }
            let cap = if name.ends_with(".conf") {
                caps::LUA_CONFIG
            } else {
                caps::SITE_FILE
            };
            // Text files only: what make and Lua read.
            if let Ok(text) = input::read_text(&entry.path(), Within::Directory(dir), cap) {
                files.insert(relative, text);
            }
        }
    }
    Ok(files)
}

fn write_copy(root: &Path, files: &BTreeMap<String, String>) -> Result<(), MigrateError> {
    let copy_error = |e: std::io::Error| MigrateError::Copy(e.to_string());
    std::fs::create_dir_all(root).map_err(copy_error)?;
    // domains/ only where the site has it: without site.mk's verdict, the
    // loader goes by whether it is there.
    if files.keys().any(|name| name.starts_with("domains/")) {
        std::fs::create_dir_all(root.join("domains")).map_err(copy_error)?;
    }
    for (name, text) in files {
        std::fs::write(root.join(name), text).map_err(copy_error)?;
    }
    Ok(())
}

/// The options of the migration's checks: Gluon's verdict at `version`.
fn check_options(version: GluonVersion, untrusted: bool) -> CheckOptions {
    let mut options = CheckOptions::new(version);
    options.gluon_only = true;
    options.load.make.untrusted = untrusted;
    options
}

/// Codes after which the site is not loaded enough to migrate.
const UNLOADABLE: &[&crate::diagnostics::CodeInfo] = &[
    codes::LUA_SYNTAX,
    codes::LUA_RUNTIME,
    codes::LUA_LIMIT,
    codes::NOT_A_TABLE,
    codes::NOT_SERIALISABLE,
    codes::FILE_REFUSED,
];

fn place(outcome: &Outcome, d: &Diagnostic) -> Option<String> {
    let span = d.span?;
    let source = outcome.site.sources.get(span.file);
    Some(format!(
        "{}:{}",
        source.name,
        source.line_col(span.start as usize).0
    ))
}

fn unloadable(outcome: &Outcome) -> Option<String> {
    let d = outcome
        .report
        .diagnostics
        .iter()
        .find(|d| UNLOADABLE.contains(&d.info) && d.severity == Severity::Error)?;
    Some(match place(outcome, d) {
        Some(at) => format!("{at}: {} {}", d.code(), d.message),
        None => format!("{} {}", d.code(), d.message),
    })
}

/// Plans the migration of the site at `dir` to `to`. Nothing of the site is
/// written.
pub fn plan(
    dir: &Path,
    to: GluonVersion,
    from: Option<GluonVersion>,
    untrusted: bool,
) -> Result<Plan, MigrateError> {
    let dir = crate::site::load::site_dir(dir).map_err(check::CheckError::from)?;
    let original = read_site(&dir)?;
    // Where the site stands.
    let (from, from_inferred) = match from {
        Some(from) if from > to => return Err(MigrateError::Backwards { from, to }),
        Some(from) => (from, false),
        None => {
            let mut options = check_options(GluonVersion::NEWEST, untrusted);
            options.infer_version = true;
            let outcome = check::check_inferring(&dir, &options)?;
            if let Some(why) = unloadable(&outcome) {
                return Err(MigrateError::Broken(why));
            }
            let fit = &outcome.release.fit;
            match fit.choose() {
                // Written for a newer release that it also fits: nothing
                // to carry forward, only what `to` itself reports.
                newer if newer > to && fit.fits(to) => (to, true),
                newer if newer > to => return Err(MigrateError::Backwards { from: newer, to }),
                from => (from, true),
            }
        }
    };
    let scratch = tempfile::Builder::new()
        .prefix("gluonvpn-migrate-")
        .tempdir()
        .map_err(|e| MigrateError::Copy(e.to_string()))?;
    let copy: PathBuf = scratch.path().join("site");
    let mut files = original.clone();
    let mut steps: Vec<Step> = Vec::new();
    let mut outcome = None;
    for round in 0..MAX_ROUNDS {
        let _ = std::fs::remove_dir_all(&copy);
        write_copy(&copy, &files)?;
        let checked = check::check(&copy, &check_options(to, untrusted))?;
        if let Some(why) = unloadable(&checked) {
            if round == 0 {
                return Err(MigrateError::Broken(why));
            }
            let last = steps.last().map_or("?", |s| s.rewrite.code);
            return Err(MigrateError::RewriteBroke(last, "the site".into(), why));
        }
        let mut round_steps = Vec::new();
        if round == 0 && to >= GluonVersion::V2023_2 {
            round_steps.extend(features::steps(&dir, &original, untrusted)?);
        }
        round_steps.extend(config_steps(&checked, &files, &steps));
        round_steps.extend(packages::steps(&checked, &files));
        outcome = Some(checked);
        // A rewrite applies once per place: what it did not fix stays.
        round_steps.retain(|s| !steps.iter().any(|done| same_step(done, s)));
        if round_steps.is_empty() {
            break;
        }
        apply_steps(&mut files, &mut round_steps);
        steps.extend(round_steps);
        outcome = None;
    }
    let outcome = match outcome {
        Some(outcome) => outcome,
        None => {
            let _ = std::fs::remove_dir_all(&copy);
            write_copy(&copy, &files)?;
            let checked = check::check(&copy, &check_options(to, untrusted))?;
            if let Some(why) = unloadable(&checked) {
                let last = steps.last().map_or("?", |s| s.rewrite.code);
                return Err(MigrateError::RewriteBroke(last, "the site".into(), why));
            }
            checked
        }
    };
    let decisions: Vec<Decision> = outcome
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && d.from_gluon())
        .map(|d| Decision {
            code: d.code(),
            message: d.message.clone(),
            place: place(&outcome, d),
            hint: hint(d, to),
        })
        .collect();
    let mut changed = BTreeMap::new();
    for (name, text) in &files {
        let before = original.get(name);
        if before != Some(text) {
            changed.insert(name.clone(), (before.cloned(), text.clone()));
        }
    }
    Ok(Plan {
        from,
        to,
        from_inferred,
        steps,
        decisions,
        files: changed,
        accepted: outcome.gluon_verdict().passes(),
    })
}

fn same_step(a: &Step, b: &Step) -> bool {
    std::ptr::eq(a.rewrite, b.rewrite) && a.what == b.what
}

/// Applies each step's edits; a step whose edits collide with an earlier
/// one's in this round waits for the next round.
fn apply_steps(files: &mut BTreeMap<String, String>, steps: &mut Vec<Step>) {
    let mut taken: Vec<&Edit> = Vec::new();
    let mut kept = Vec::new();
    let mut all: Vec<Step> = std::mem::take(steps);
    // A step whose own edits collide (or leave the text) is not applied.
    all.retain(|step| {
        let mut by_file: BTreeMap<&str, Vec<&Edit>> = BTreeMap::new();
        for edit in &step.edits {
            by_file.entry(edit.file.as_str()).or_default().push(edit);
        }
        by_file.iter().all(|(file, edits)| {
            let text = files.get(*file).map_or("", String::as_str);
            lua_edit::apply(text, edits).is_ok()
        })
    });
    for step in all.drain(..) {
        let collides = step.edits.iter().any(|e| {
            taken.iter().any(|t| {
                t.file == e.file
                    && t.range.start < e.range.end.max(e.range.start + 1)
                    && e.range.start < t.range.end.max(t.range.start + 1)
            })
        });
        if collides {
            continue;
        }
        kept.push(step);
        taken = kept.iter().flat_map(|s| s.edits.iter()).collect();
    }
    // A file whose edits collide keeps its text, and the steps that would
    // have edited it are dropped (with all their edits), until all apply.
    loop {
        let mut by_file: BTreeMap<&str, Vec<&Edit>> = BTreeMap::new();
        for edit in kept.iter().flat_map(|s| s.edits.iter()) {
            by_file.entry(edit.file.as_str()).or_default().push(edit);
        }
        let mut results: Vec<(String, String)> = Vec::new();
        let mut failed: Option<String> = None;
        for (file, edits) in &by_file {
            let before = files.get(*file).cloned().unwrap_or_default();
            match lua_edit::apply(&before, edits) {
                Ok(after) => results.push((file.to_string(), after)),
                Err(lua_edit::Overlap) => {
                    failed = Some(file.to_string());
                    break;
                }
            }
        }
        match failed {
            Some(file) => kept.retain(|s| !s.edits.iter().any(|e| e.file == file)),
            None => {
                files.extend(results);
                break;
            }
        }
    }
    *steps = kept;
}

/// The configuration files of the checked site, each with its evaluated
/// root node: site.conf, then the domain files.
fn config_files(outcome: &Outcome) -> Vec<(String, &Node)> {
    let site = &outcome.site;
    let mut out = Vec::new();
    if let (Some(file), Some(node)) = (site.site_file, &site.site_conf) {
        out.push((site.sources.get(file).name.clone(), node));
    }
    for domain in &site.domains {
        if let Some(node) = &domain.config {
            out.push((site.sources.get(domain.file).name.clone(), node));
        }
    }
    out
}

/// The node at a dotted path below `root`.
fn at_path<'n>(root: &'n Node, path: &[&str]) -> Option<&'n Node> {
    path.iter().try_fold(root, |node, key| node.get_name(key))
}

/// The rewrites of site.conf and the domain files for the errors Gluon's
/// checks reported.
fn config_steps(outcome: &Outcome, files: &BTreeMap<String, String>, done: &[Step]) -> Vec<Step> {
    let mut steps = Vec::new();
    let configs = config_files(outcome);
    let errors: Vec<&Diagnostic> = outcome
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && d.from_gluon())
        .collect();
    let has_fastd = configs
        .iter()
        .any(|(_, root)| at_path(root, &["mesh_vpn", "fastd"]).is_some());
    for d in errors {
        let Some(path) = d.config_path.as_deref() else {
            continue;
        };
        let parts: Vec<&str> = path.split('.').collect();
        let obsolete = d.message.contains(" is obsolete.");
        for (file, root) in &configs {
            let Some(text) = files.get(file) else {
                continue;
            };
            let step = if obsolete {
                obsolete_step(file, text, root, &parts, has_fastd)
            } else if path == "domain_seed" && d.message.ends_with("but it is unset") {
                seed_step(file, text, root, outcome, done)
            } else if path.starts_with("mesh_vpn.") && d.message.ends_with("but it is unset") {
                let mtu = matches!(path, "mesh_vpn.fastd.mtu" | "mesh_vpn.tunneldigger.mtu");
                fastd_section_step(file, text, root)
                    .or_else(|| mtu.then(|| mtu_step(file, text, root, parts[1])).flatten())
            } else if path == "next_node.name" {
                next_node_step(file, text, root)
            } else if path == "mesh.batman_adv.routing_algo"
                && d.message.ends_with("but it is unset")
                && file == "site.conf"
            {
                add_step(&ROUTING_ALGO, file, text, root, &parts, "'BATMAN_IV'")
            } else if path == "mesh.vxlan"
                && d.message.ends_with("but it is unset")
                && file == "site.conf"
                && !outcome.site.multidomain
            {
                add_step(&VXLAN, file, text, root, &parts, "false")
            } else {
                None
            };
            steps.extend(step);
        }
    }
    steps
}

/// The edit that sets `path` to `value` (Lua source) where the file leaves
/// it out: in the innermost table of the path the file has, with the
/// missing tables around it. `None` when the path is set, or that table is
/// not written out in the file.
fn set_at(file: &str, text: &str, root: &Node, path: &[&str], value: &str) -> Option<Edit> {
    if at_path(root, path).is_some() {
        return None;
    }
    // The deepest table of the path that exists.
    let mut table = root;
    let mut depth = 0;
    while depth + 1 < path.len() {
        match table.get_name(path[depth]) {
            Some(inner) => {
                table = inner;
                depth += 1;
            }
            None => break,
        }
    }
    let mut nested = value.to_string();
    for key in path[depth + 1..].iter().rev() {
        nested = format!("{{ {key} = {nested} }}");
    }
    let range = lua_edit::table_range(text, table)?;
    let last = lua_edit::last_field(text, table);
    Some(lua_edit::add_field(
        file,
        text,
        range,
        last.as_ref(),
        path[depth],
        &nested,
    ))
}

/// A step of `rewrite` that sets `path` to `value` where the file leaves it
/// out ([`set_at`]).
fn add_step(
    rewrite: &'static Rewrite,
    file: &str,
    text: &str,
    root: &Node,
    path: &[&str],
    value: &str,
) -> Option<Step> {
    Some(Step {
        rewrite,
        what: format!("{file}: {} = {value}", path.join(".")),
        edits: vec![set_at(file, text, root, path, value)?],
        warning: None,
    })
}

fn parent_and_field<'n>(text: &str, root: &'n Node, parts: &[&str]) -> Option<(&'n Node, Field)> {
    let (last, parents) = parts.split_last()?;
    let parent = at_path(root, parents)?;
    let field = lua_edit::field(text, parent, last)?;
    Some((parent, field))
}

fn obsolete_step(
    file: &str,
    text: &str,
    root: &Node,
    parts: &[&str],
    has_fastd: bool,
) -> Option<Step> {
    let path = parts.join(".");
    let (_, field) = parent_and_field(text, root, parts)?;
    let drop = |what: String| Step {
        rewrite: &DROP_OBSOLETE,
        what,
        edits: vec![lua_edit::remove_field(file, text, &field)],
        warning: None,
    };
    match parts {
        ["wifi24" | "wifi5", "supported_rates" | "basic_rate" | "ibss"]
        | ["domain_switch", "connection_check_targets"] => {
            Some(drop(format!("{file}: removed {path}")))
        }
        ["mesh_vpn", "pubkey_privacy"] if !has_fastd => {
            Some(drop(format!("{file}: removed {path}")))
        }
        ["opkg", "lede"] => {
            let opkg = at_path(root, &["opkg"])?;
            let mut edits = vec![lua_edit::remove_field(file, text, &field)];
            let what = if lua_edit::field(text, opkg, "openwrt").is_some() {
                format!("{file}: removed opkg.lede (opkg.openwrt is set)")
            } else {
                // The key renamed in place, the value as written.
                edits = vec![Edit {
                    file: file.to_string(),
                    range: field.key.clone(),
                    text: "openwrt".into(),
                }];
                if text[field.key.clone()].starts_with(['\'', '"']) {
                    edits[0].text = "'openwrt'".into();
                }
                format!("{file}: renamed opkg.lede to opkg.openwrt")
            };
            Some(Step {
                rewrite: &OPKG_OPENWRT,
                what,
                edits,
                warning: None,
            })
        }
        [old @ ("mesh_on_wan" | "mesh_on_lan" | "single_as_lan")] => {
            interface_step(file, text, root, old, &field)
        }
        _ => None,
    }
}

fn interface_step(file: &str, text: &str, root: &Node, old: &str, field: &Field) -> Option<Step> {
    let on = root.get_name(old)?.truthy();
    let mesh_on_lan = root.get_name("mesh_on_lan").is_some_and(Node::truthy);
    let (interface, roles) = match old {
        "mesh_on_wan" => ("wan", "{ 'uplink', 'mesh' }"),
        "mesh_on_lan" => ("lan", "{ 'mesh' }"),
        _ if mesh_on_lan => ("single", "{ 'mesh' }"),
        _ => ("single", "{ 'client' }"),
    };
    let mut edits = vec![lua_edit::remove_field(file, text, field)];
    // Where the user configured the interface already, theirs stands.
    if on && at_path(root, &["interfaces", interface]).is_none() {
        edits.push(set_at(
            file,
            text,
            root,
            &["interfaces", interface, "default_roles"],
            roles,
        )?);
    }
    Some(Step {
        rewrite: &INTERFACE_ROLES,
        what: if on {
            format!("{file}: {old} = true became interfaces.{interface}.default_roles = {roles}")
        } else {
            format!("{file}: removed {old} = false (the default roles are the same)")
        },
        edits,
        warning: None,
    })
}

/// A fresh random seed: 32 bytes from the kernel, as 64 hex digits.
fn random_seed() -> Option<String> {
    use std::io::Read as _;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn seed_step(
    file: &str,
    text: &str,
    root: &Node,
    outcome: &Outcome,
    done: &[Step],
) -> Option<Step> {
    // In a multidomain site each domain has its own; site.conf none.
    let multidomain = outcome.site.multidomain;
    if multidomain == (file == "site.conf") || root.get_name("domain_seed").is_some() {
        return None;
    }
    // Once per file, whatever the round.
    if done
        .iter()
        .any(|s| std::ptr::eq(s.rewrite, &DOMAIN_SEED) && s.edits.iter().any(|e| e.file == file))
    {
        return None;
    }
    let seed = lua_edit::lua_string(&random_seed()?);
    Some(Step {
        rewrite: &DOMAIN_SEED,
        what: format!("{file}: added a random domain_seed"),
        edits: vec![set_at(file, text, root, &["domain_seed"], &seed)?],
        warning: Some(format!(
            "{file}: domain_seed is new and random: nodes derive their VXLAN ID from it, so nodes with this firmware and nodes with older firmware do not mesh over VXLAN with each other"
        )),
    })
}

/// The fastd options of the old section, in the order of [`FASTD_SECTION`].
const FASTD_OPTIONS: [&str; 4] = ["configurable", "methods", "groups", "syslog_level"];

fn fastd_section_step(file: &str, text: &str, root: &Node) -> Option<Step> {
    if root.get_name("mesh_vpn").is_some() {
        return None;
    }
    let section = root.get_name("fastd_mesh_vpn")?;
    let key = lua_edit::field(text, root, "fastd_mesh_vpn")?;
    let table = lua_edit::table_range(text, section)?;
    let close = table.end - 1;
    let close_line = text[..close].rfind('\n').map_or(0, |i| i + 1);
    // The closing brace on a line of its own: the new table goes before it.
    if !text[close_line..close].trim().is_empty() {
        return None;
    }
    let key_indent: String = text[text[..key.key.start].rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let mut moved = String::new();
    let mut edits = vec![Edit {
        file: file.to_string(),
        range: key.key.clone(),
        text: "mesh_vpn".into(),
    }];
    let mut field_indent = None;
    for option in FASTD_OPTIONS {
        let Some(field) = lua_edit::field(text, section, option) else {
            continue;
        };
        let removal = lua_edit::remove_field(file, text, &field);
        // Only whole lines move.
        if !removal
            .range
            .start
            .eq(&text[..removal.range.start].rfind('\n').map_or(0, |i| i + 1))
            || !text[..removal.range.end].ends_with('\n')
        {
            return None;
        }
        let lines = &text[removal.range.clone()];
        field_indent.get_or_insert_with(|| {
            lines
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect::<String>()
        });
        moved.push_str(lines);
        edits.push(removal);
    }
    let indent = field_indent?;
    let unit = indent
        .strip_prefix(key_indent.as_str())
        .filter(|u| !u.is_empty())
        .unwrap_or("  ")
        .to_string();
    let mut block = format!("{indent}fastd = {{\n");
    for line in moved.split_inclusive('\n') {
        if line.trim().is_empty() {
            block.push_str(line);
        } else {
            block.push_str(&format!("{unit}{line}"));
        }
    }
    block.push_str(&format!("{indent}}},\n"));
    edits.push(Edit {
        file: file.to_string(),
        range: close_line..close_line,
        text: block,
    });
    Some(Step {
        rewrite: &FASTD_SECTION,
        what: format!("{file}: fastd_mesh_vpn became mesh_vpn, its fastd options mesh_vpn.fastd"),
        edits,
        warning: None,
    })
}

fn next_node_step(file: &str, text: &str, root: &Node) -> Option<Step> {
    let next_node = at_path(root, &["next_node"])?;
    let name = next_node.get_name("name")?;
    if !matches!(name.value, Value::String(_)) {
        return None;
    }
    let field = lua_edit::field(text, next_node, "name")?;
    Some(Step {
        rewrite: &NEXT_NODE_NAMES,
        what: format!("{file}: next_node.name became a list"),
        edits: vec![Edit {
            file: file.to_string(),
            range: field.value.clone(),
            text: format!("{{ {} }}", &text[field.value.clone()]),
        }],
        warning: None,
    })
}

fn mtu_step(file: &str, text: &str, root: &Node, protocol: &str) -> Option<Step> {
    let mesh_vpn = at_path(root, &["mesh_vpn"])?;
    let mtu = lua_edit::field(text, mesh_vpn, "mtu")?;
    let value = text[mtu.value.clone()].to_string();
    let edit = set_at(file, text, root, &["mesh_vpn", protocol, "mtu"], &value)?;
    // mesh_vpn.mtu goes with the last protocol that takes it.
    let other = if protocol == "fastd" {
        "tunneldigger"
    } else {
        "fastd"
    };
    let other_needs = mesh_vpn
        .get_name(other)
        .is_some_and(|t| t.get_name("mtu").is_none());
    let mut edits = vec![edit];
    if !other_needs {
        edits.push(lua_edit::remove_field(file, text, &mtu));
    }
    Some(Step {
        rewrite: &VPN_MTU,
        what: format!("{file}: mesh_vpn.{protocol}.mtu = {value}, from mesh_vpn.mtu"),
        edits,
        warning: None,
    })
}

impl Plan {
    /// The unified diff of every file the migration changes.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for (name, (before, after)) in &self.files {
            let old_name = match before {
                Some(_) => format!("a/{name}"),
                None => "/dev/null".to_string(),
            };
            let text =
                similar::TextDiff::from_lines(before.as_deref().unwrap_or(""), after.as_str());
            out.push_str(
                &text
                    .unified_diff()
                    .context_radius(3)
                    .header(&old_name, &format!("b/{name}"))
                    .to_string(),
            );
        }
        out
    }

    /// Writes the migrated files into the site: each through a temporary
    /// file renamed into place, never through a link.
    pub fn write(&self, dir: &Path) -> Result<(), crate::writing::WriteError> {
        let dir = crate::site::load::site_dir(dir).unwrap_or_else(|_| dir.to_path_buf());
        let Some(out) = crate::writing::OutDir::open(&dir, false)? else {
            return Ok(());
        };
        for (name, (_, after)) in &self.files {
            // An edited file keeps its permissions; a new one is 0644.
            let mode = std::fs::symlink_metadata(dir.join(name))
                .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
                .unwrap_or(0o644);
            out.write(name, after.as_bytes(), mode)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(edits: &[(&str, std::ops::Range<usize>, &str)]) -> Step {
        Step {
            rewrite: &DROP_OBSOLETE,
            what: format!("{edits:?}"),
            edits: edits
                .iter()
                .map(|(file, range, text)| Edit {
                    file: file.to_string(),
                    range: range.clone(),
                    text: text.to_string(),
                })
                .collect(),
            warning: None,
        }
    }

    #[test]
    fn colliding_steps_wait_and_broken_ones_are_not_reported() {
        let mut files: BTreeMap<String, String> = [
            ("a".to_string(), "0123456789".to_string()),
            ("b".to_string(), "xy".to_string()),
        ]
        .into();
        let mut steps = vec![
            step(&[("a", 0..2, "AB")]),
            // collides with the first: waits for the next round
            step(&[("a", 1..3, "Q")]),
            // its own edits overlap: dropped with its edit of b
            step(&[("a", 5..8, ""), ("a", 6..7, "Z"), ("b", 0..1, "X")]),
            step(&[("b", 1..2, "Y")]),
        ];
        apply_steps(&mut files, &mut steps);
        assert_eq!(files["a"], "AB23456789");
        assert_eq!(files["b"], "xY");
        assert_eq!(steps.len(), 2);
    }
}
