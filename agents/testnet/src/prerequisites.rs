//! What test networks need: root, and tools found on a PATH that has the
//! sbin directories too (where Debian keeps `ip`, `bridge` and `chronyd`),
//! each with the Debian package that has it. Where something is missing a
//! test skips, loudly — except under CI, where .ci/run installs everything
//! and a missing tool is a failure.

use crate::loud;
use std::path::{Path, PathBuf};

/// The Debian package of every tool the tests name.
const DEBIAN_PACKAGES: &[(&str, &str)] = &[
    ("bridge", "iproute2"),
    ("chronyd", "chrony"),
    ("fastd", "fastd"),
    ("ip", "iproute2"),
    ("mount", "mount"),
    ("ping", "iputils-ping"),
    ("sh", "dash"),
    ("ss", "iproute2"),
    ("unshare", "util-linux"),
    ("wg", "wireguard-tools"),
    ("wireguard-go", "wireguard-go"),
];

/// Whether the tests run in CI (`CI` set and not empty).
fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// `PATH` for every command the tests run: the caller's, then the sbin and
/// bin directories.
pub fn path_env() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    format!("{path}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

/// Where `program` is on [`path_env`], if it is anywhere.
pub fn find_program(program: &str) -> Option<PathBuf> {
    path_env()
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

fn debian_package(tool: &str) -> &'static str {
    DEBIAN_PACKAGES
        .iter()
        .find(|(name, _)| *name == tool)
        .map(|(_, package)| *package)
        .unwrap_or_else(|| panic!("which Debian package has `{tool}`? Add it to DEBIAN_PACKAGES"))
}

/// Why a test that needs root and `tools` cannot run here, if it cannot.
fn missing_prerequisites(tools: &[&str]) -> Option<String> {
    let mut reasons = Vec::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        reasons.push("not running as root (network namespaces need it)".to_string());
    }
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| find_program(tool).is_none())
        .collect();
    if !missing.is_empty() {
        reasons.push(install_hint(&missing));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The missing tools, and the Debian packages that have them.
fn install_hint(missing: &[&str]) -> String {
    let mut packages: Vec<&str> = Vec::new();
    for package in missing.iter().map(|tool| debian_package(tool)) {
        if !packages.contains(&package) {
            packages.push(package);
        }
    }
    let tools: Vec<String> = missing.iter().map(|tool| format!("`{tool}`")).collect();
    format!(
        "{} missing (apt-get install {})",
        tools.join(", "),
        packages.join(" ")
    )
}

/// `true` when `what` — a test that needs root and `tools` — can run here;
/// otherwise a SKIPPING banner says why not, and under CI it panics.
pub fn prerequisites_met(what: &str, tools: &[&str]) -> bool {
    let Some(reason) = missing_prerequisites(tools) else {
        return true;
    };
    assert!(
        !in_ci(),
        "{what} must run in CI, but {reason}; .ci/run installs what it needs"
    );
    loud(&format!("\n*** SKIPPING {what}: {reason} ***\n"));
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_are_named_with_their_packages() {
        assert_eq!(
            install_hint(&["wg", "ip", "wireguard-go", "bridge"]),
            "`wg`, `ip`, `wireguard-go`, `bridge` missing \
             (apt-get install wireguard-tools iproute2 wireguard-go)"
        );
    }

    #[test]
    fn the_path_has_the_sbin_directories() {
        let path = path_env();
        assert!(path.split(':').any(|d| d == "/usr/sbin"), "{path}");
        assert!(find_program("sh").is_some());
        assert!(find_program("gluonvpn-testnet-no-such-tool").is_none());
    }

    #[test]
    #[should_panic(expected = "Add it to DEBIAN_PACKAGES")]
    fn a_tool_without_a_known_package_is_a_mistake_of_the_test() {
        prerequisites_met("a test", &["gluonvpn-testnet-no-such-tool"]);
    }
}
